"""Factories for tests. Every factory writes outside the request scope (scopes_disabled)."""

from datetime import timedelta

import factory
from django.utils import timezone
from django_scopes import scopes_disabled

from kim.casework.models import Appointment, Case, CaseKind, Consent, Goal, Participant
from kim.core.models import (
    GoalCategory,
    Municipality,
    Provider,
    ReferralSource,
    Role,
    TargetGroup,
    Topic,
    User,
)
from kim.core.services import create_district

PASSWORD = "correct-horse-battery-staple"


class ScopeFreeFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with scopes_disabled():
            return super()._create(model_class, *args, **kwargs)


def make_district(name):
    with scopes_disabled():
        return create_district(None, name)


class MunicipalityFactory(ScopeFreeFactory):
    class Meta:
        model = Municipality

    name = factory.Sequence(lambda n: f"Stadt {n}")


class ProviderFactory(ScopeFreeFactory):
    class Meta:
        model = Provider

    name = factory.Sequence(lambda n: f"Träger {n}")
    slug = factory.Sequence(lambda n: f"traeger-{n}")


class UserFactory(ScopeFreeFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person {n}")
    role = Role.CASE_MANAGER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(self, create, extracted, **kwargs):
        if create:
            self.save(update_fields=["password"])


def first(model, district, **filters):
    with scopes_disabled():
        return model.objects.filter(district=district, **filters).order_by("sort_order").first()


class ParticipantFactory(ScopeFreeFactory):
    class Meta:
        model = Participant

    district = factory.SelfAttribute("responsible.district")
    provider = factory.SelfAttribute("responsible.provider")
    first_name = "Amal"
    last_name = factory.Sequence(lambda n: f"Haddad{n}")
    birth_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30 * 365))
    municipality = factory.LazyAttribute(lambda o: MunicipalityFactory(district=o.district))


class ConsentFactory(ScopeFreeFactory):
    class Meta:
        model = Consent

    given_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=100))
    covers_processing = True


class CaseFactory(ScopeFreeFactory):
    class Meta:
        model = Case

    district = factory.SelfAttribute("participant.district")
    provider = factory.SelfAttribute("participant.provider")
    case_manager = factory.SelfAttribute("participant.responsible")
    municipality = factory.SelfAttribute("participant.municipality")
    kind = CaseKind.CASE_MANAGEMENT
    opened_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=90))
    target_group = factory.LazyAttribute(lambda o: first(TargetGroup, o.district))
    referral_source = factory.LazyAttribute(lambda o: first(ReferralSource, o.district))


class GoalFactory(ScopeFreeFactory):
    class Meta:
        model = Goal

    category = factory.LazyAttribute(lambda o: first(GoalCategory, o.case.district))
    text = "Sprachkurs finden"
    agreed_on = factory.LazyAttribute(lambda o: o.case.opened_on)
    status_changed_on = factory.LazyAttribute(lambda o: o.agreed_on)


class AppointmentFactory(ScopeFreeFactory):
    class Meta:
        model = Appointment
        skip_postgeneration_save = True

    district = factory.SelfAttribute("case.district")
    provider = factory.SelfAttribute("case.provider")
    case_manager = factory.SelfAttribute("case.case_manager")
    kind = Appointment.Kind.COUNSELLING
    complexity = Appointment.Complexity.COMPLEX
    date = factory.LazyAttribute(lambda o: o.case.opened_on + timedelta(days=7))
    duration_minutes = 60

    @factory.post_generation
    def topics(self, create, extracted, **kwargs):
        if create:
            with scopes_disabled():
                self.topics.set(extracted or [first(Topic, self.district)])
