"""Random case-work records for report tests, kept as plain Python records as well, so
that a test can count them independently of the report code."""

import itertools
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from django_scopes import scopes_disabled

from kim.casework.models import Appointment, Case, CaseKind, Goal, GoalStatus, Participant
from kim.core.models import (
    GoalCategory,
    ReferralSource,
    ReferralTarget,
    Role,
    TargetGroup,
    ThematicOffer,
    Topic,
)

from .factories import MunicipalityFactory, ProviderFactory, UserFactory
from .staffing_data import give_post

_codes = itertools.count(1)


@dataclass
class Org:
    district: object
    municipalities: list
    providers: list
    managers: dict  # provider pk -> [case managers]
    leads: dict  # provider pk -> lead
    coordination: object


@dataclass
class Records:
    cases: list = field(default_factory=list)
    appointments: list = field(default_factory=list)  # (Appointment, [topic ids])
    goals: list = field(default_factory=list)


def make_org(district, municipalities=3, providers=2, managers_per_provider=2) -> Org:
    towns = [MunicipalityFactory(district=district) for _ in range(municipalities)]
    provs = [ProviderFactory(district=district) for _ in range(providers)]
    managers = {p.pk: [UserFactory(district=district, provider=p, role=Role.CASE_MANAGER)
                       for _ in range(managers_per_provider)] for p in provs}
    leads = {p.pk: UserFactory(district=district, provider=p, role=Role.PROVIDER_LEAD) for p in provs}
    coordination = UserFactory(district=district, role=Role.COORDINATION)
    for manager in (m for group in managers.values() for m in group):
        give_post(manager)  # a full case-management position each (R10's FTE)
    return Org(district, towns, provs, managers, leads, coordination)


def random_records(org: Org, rng: random.Random, year: int, n_cases: int, max_appointments=6) -> Records:
    """Cases of every kind over two years around `year`, with appointments and goals."""
    with scopes_disabled():
        district = org.district
        target_groups = list(TargetGroup.objects.filter(district=district)) + [None]
        sources = list(ReferralSource.objects.filter(district=district)) + [None]
        targets = list(ReferralTarget.objects.filter(district=district)) + [None]
        categories = list(GoalCategory.objects.filter(district=district))
        topics = list(Topic.objects.filter(district=district))
        offers = list(ThematicOffer.objects.filter(district=district))
        start = date(year - 1, 1, 1)
        # Dates on the edges of the year and on the reference date (30 June) come often, so
        # that an off-by-one day in a report shows.
        edges = [date(year, 1, 1), date(year, 12, 31), date(year - 1, 12, 31), date(year + 1, 1, 1),
                 date(year, 6, 30), date(year, 7, 1)]

        def some_day(after, spread):
            if rng.random() < 0.25:
                candidates = [d for d in edges if d >= after]
                if candidates:
                    return rng.choice(candidates)
            return after + timedelta(days=rng.randint(0, spread))

        records = Records()
        participants = []
        for index in range(max(1, n_cases // 2)):
            provider = rng.choice(org.providers)
            manager = rng.choice(org.managers[provider.pk])
            participants.append(Participant(
                district=district, provider=provider, responsible=manager, code=f"TN-T{next(_codes):07d}",
                first_name="Test", last_name=f"Person{index}", birth_date=date(1990, 1, 1),
                municipality=rng.choice(org.municipalities),
            ))
        Participant.objects.bulk_create(participants)
        for _ in range(n_cases):
            person = rng.choice(participants)
            kind = rng.choice(list(CaseKind.values))
            opened = some_day(start, 700)
            closed = some_day(opened, 400) if rng.random() < 0.5 else None
            records.cases.append(Case(
                district=district, provider=person.provider, participant=person, kind=kind,
                case_manager=person.responsible, municipality=rng.choice(org.municipalities),
                target_group=rng.choice(target_groups), referral_source=rng.choice(sources),
                screening_outcome=rng.choice(targets) if kind == CaseKind.SCREENING else None,
                opened_on=opened, closed_on=closed,
            ))
        Case.objects.bulk_create(records.cases)
        for case in records.cases:
            for _ in range(rng.randint(0, max_appointments)):
                counselling = rng.random() < 0.7
                appointment = Appointment(
                    district=district, provider=case.provider, case_manager=case.case_manager, case=case,
                    kind=Appointment.Kind.COUNSELLING if counselling else Appointment.Kind.OTHER,
                    complexity=rng.choice(["one_off", "complex"]) if counselling else "",
                    date=some_day(case.opened_on, 300), duration_minutes=60,
                )
                if not counselling and offers and rng.random() < 0.5:
                    appointment.thematic_offer = offers[0]
                    appointment.session_format = rng.choice(["individual", "group", "training", ""])
                    appointment.audience = rng.choice(["parents", "professionals", ""])
                chosen = rng.sample(topics, k=rng.randint(0, 3)) if counselling else []
                records.appointments.append((appointment, [t.pk for t in chosen]))
            if case.kind == CaseKind.CASE_MANAGEMENT:
                for _ in range(rng.randint(0, 3)):
                    agreed = case.opened_on + timedelta(days=rng.randint(0, 60))
                    records.goals.append(Goal(
                        case=case, category=rng.choice(categories), text="Ziel", agreed_on=agreed,
                        status=rng.choice(list(GoalStatus.values)),
                        status_changed_on=some_day(agreed, 300),
                    ))
        Appointment.objects.bulk_create([a for a, _ in records.appointments])
        through = Appointment.topics.through
        through.objects.bulk_create(
            [through(appointment=a, topic_id=t) for a, ts in records.appointments for t in ts]
        )
        Goal.objects.bulk_create(records.goals)
    return records
