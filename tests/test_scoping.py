"""The access scope: personal data is visible only inside its provider."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import ScopeError, scope

from kim.casework.models import Appointment, Case, Goal, Participant
from kim.casework.services import grant_deputyship


def test_a_query_without_district_scope_fails_loudly(world):
    with pytest.raises(ScopeError):
        list(Participant.objects.all())
    with pytest.raises(ScopeError):
        Case.objects.visible_to(world.insider)


def test_the_district_scope_hides_other_districts_rows(world):
    with scope(district=world.other_district.pk):
        assert not Participant.objects.filter(pk=world.participant.pk).exists()


@pytest.mark.parametrize("persona, sees", [
    ("insider", True), ("lead", True), ("colleague", False), ("other_provider", False),
    ("coordination", False), ("steering", False), ("district_admin", False), ("state", False),
])
def test_visibility_of_a_case_by_persona(world, in_scope, persona, sees):
    user = world.personas()[persona]
    for model, obj in [(Case, world.case), (Participant, world.participant), (Goal, world.goal),
                       (Appointment, world.appointment)]:
        assert model.objects.visible_to(user).filter(pk=obj.pk).exists() is sees, model


def test_other_district_sees_nothing_even_in_its_own_scope(world):
    with scope(district=world.other_district.pk):
        assert not Case.objects.visible_to(world.other_district_cm).exists()


def test_a_deputy_sees_the_colleagues_cases_until_the_end_date(world, in_scope):
    assert not Case.objects.visible_to(world.colleague).filter(pk=world.case.pk).exists()
    grant = grant_deputyship(world.insider, world.insider, world.colleague, timezone.localdate() + timedelta(days=7))
    assert Case.objects.visible_to(world.colleague).filter(pk=world.case.pk).exists()
    assert Participant.objects.visible_to(world.colleague).filter(pk=world.participant.pk).exists()
    grant.valid_until = timezone.localdate() - timedelta(days=1)
    grant.valid_from = grant.valid_until
    grant.save()
    assert not Case.objects.visible_to(world.colleague).filter(pk=world.case.pk).exists()
