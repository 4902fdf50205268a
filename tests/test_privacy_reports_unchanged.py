"""Anonymisation keeps every figure: over generated data, every report for every past period,
for every reader, is the same JSON before and after the retention job; and afterwards no row
leads back to an anonymised person's name, code or birth date."""

import json
import random
import string
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.db import models
from django_scopes import scope, scopes_disabled

from kim.casework.models import Assessment, Case, Consent, Participant, Referral
from kim.core.models import ReferralTarget, Role
from kim.privacy import erasure, retention
from kim.reports.framework import ParamError, ReportParams, build_table, registered_reports
from kim.reports.periods import Period
from kim.reports.renderers import table_as_dict

from .factories import UserFactory, make_district
from .report_data import make_org, random_records

pytestmark = pytest.mark.django_db

PERIODS = [Period.of("year", year) for year in (2020, 2021, 2022, 2023, 2024)] + [
    Period.of("half", 2022, 1), Period.of("quarter", 2023, 4)]
AS_OF = date(2031, 1, 1)


def random_name(rng):
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(9)).capitalize()


def personalise(org, rng):
    """Distinct names, birth dates off the quarter's first day, and free texts that name the person."""
    with scopes_disabled():
        targets = list(ReferralTarget.objects.filter(district=org.district, means_no_need=False))
        people = {}
        for participant in Participant.objects.filter(district=org.district):
            participant.first_name, participant.last_name = random_name(rng), random_name(rng)
            participant.birth_date = date(1960 + rng.randint(0, 40), rng.choice([2, 5, 8, 11]), rng.randint(2, 28))
            participant.phone, participant.address = f"0171 {rng.randint(10**6, 10**7)}", f"{random_name(rng)}str. 3"
            participant.save()
            people[participant.pk] = (participant.first_name, participant.last_name, participant.code,
                                      participant.birth_date)
            consent = Consent.objects.create(participant=participant, given_on=date(2019, 1, 1),
                                             note=f"unterschrieben von {participant.last_name}")
            if rng.random() < 0.2:
                consent.withdrawn_on = date(2024, 2, 1)
                consent.save()
        for case in Case.objects.filter(district=org.district).select_related("participant", "case_manager"):
            name = case.participant.last_name
            Assessment.objects.create(case=case, assessed_on=case.opened_on, summary=f"{name} sucht Arbeit",
                                      author=case.case_manager)
            if targets and rng.random() < 0.5:
                Referral.objects.create(case=case, target=rng.choice(targets), referred_on=case.opened_on,
                                        note=f"für {name}")
            case.goals.update(text=f"{name} lernt Deutsch")
            case.appointments.update(note=f"{name} kam pünktlich")
    return people


def every_report(readers, periods=PERIODS) -> dict:
    """{(reader, report, period, cut): the table as JSON, or the refusal}."""
    tables = {}
    for reader in readers:
        for report in registered_reports(reader):
            for period in periods:
                for cut in [{}] + [{"municipality_id": m} for m in reader_towns(reader)][:1]:
                    params = ReportParams(period, period.end, compare=report.comparable, **cut)
                    key = f"{reader.username}/{report.id}/{period.label}/{cut}"
                    with scope(district=reader.district_id):
                        try:
                            table = table_as_dict(build_table(reader, report.id, params))
                        except ParamError as refused:
                            tables[key] = f"refused: {refused}"
                            continue
                    table.pop("generated_at", None)
                    tables[key] = json.dumps(table, sort_keys=True, default=str, ensure_ascii=False)
    return tables


def reader_towns(reader):
    with scopes_disabled():
        return list(reader.district.municipalities.values_list("pk", flat=True))


def rows_with_text(people_tokens):
    """Every text of every row of every model that contains one of the tokens."""
    found = []
    for model in apps.get_models():
        if not model._meta.label_lower.startswith(("casework.", "core.", "exchange.", "privacy.", "residence.",
                                                   "system.", "reports.", "api.")):
            continue
        names = [f.attname for f in model._meta.concrete_fields
                 if isinstance(f, (models.CharField, models.TextField, models.JSONField))]
        if not names:
            continue
        with scopes_disabled():
            for values in model._base_manager.values_list(*names):
                text = json.dumps(values, default=str, ensure_ascii=False)
                found += [(model._meta.label_lower, token) for token in people_tokens if token in text]
    return found


@pytest.mark.parametrize("seed", [11, 12])
def test_every_report_is_identical_after_anonymisation_and_nobody_can_be_found_again(seed):
    rng = random.Random(seed)
    district = make_district(f"Kreis Spur {seed}")
    org = make_org(district, municipalities=3, providers=2, managers_per_provider=2)
    random_records(org, rng, 2021, 50)
    random_records(org, rng, 2023, 50)
    people = personalise(org, rng)
    steering = UserFactory(district=district, role=Role.STEERING)
    readers = [org.coordination, steering, *org.leads.values(), *[m for ms in org.managers.values() for m in ms]]
    # One person erased on request too: the erasure keeps the figures the same way.
    with scopes_disabled():
        erased = Participant.objects.filter(district=district).order_by("pk").first()
        lead = org.leads[erased.provider_id]
    before = every_report(readers)
    with scope(district=district.pk):
        request = erasure.request_erasure(lead, erased, reason="Antrag", confirmation=erased.code)
    with scopes_disabled():
        type(request).objects.filter(pk=request.pk).update(due_on=AS_OF - timedelta(days=1))

    runs = retention.run_everywhere(AS_OF)

    counts = runs[0].counts
    assert counts["case_data"] + counts["short_counselling"] + counts["consent_withdrawn"] > 10, counts
    assert counts["erasure"] == 1
    after = every_report(readers)
    changed = sorted(key for key in before if before[key] != after.get(key))
    assert changed == [], f"{len(changed)} Berichte haben sich geändert, z. B. {changed[:3]}"
    assert before.keys() == after.keys()

    with scopes_disabled():
        gone = {pk: people[pk] for pk in Participant.objects.filter(district=district, anonymised_on__isnull=False)
                .values_list("pk", flat=True)}
        assert erased.pk in gone and len(gone) > 3
        tokens = [token for first, last, code, _born in gone.values() for token in (first, last, code)]
        assert rows_with_text(tokens) == []
        birth_dates = {born for *_names, born in gone.values()}
        left = set(Participant.objects.filter(pk__in=gone).values_list("birth_date", flat=True))
        assert not birth_dates & left
        assert all(day.day == 1 and day.month in (1, 4, 7, 10) for day in left)


def test_the_demo_district_reports_the_same_after_every_closed_case_is_anonymised():
    """Realistic data with module 3, staffing and the system level: every report, every role."""
    from kim.core.models import User
    from kim.demo import build_demo_district

    today = date(2026, 12, 4)
    result = build_demo_district(size=0.2, seed=7, today=today, slug="spur", name="Kreis Spur (Demo)")
    district = result.district
    with scopes_disabled():
        readers = [next(iter(User.objects.filter(district=district, role=role, is_active=True)), None)
                   for role in Role.values]
        readers += list(User.objects.filter(district=district, role=Role.PROVIDER_LEAD))
    readers = list({reader.pk: reader for reader in readers if reader}.values())
    periods = [Period.of("year", 2025), Period.of("half", 2026, 1), Period.of("quarter", 2026, 3)]
    before = every_report(readers, periods)

    runs = retention.run_everywhere(date(2031, 1, 1))

    assert runs[0].counts["case_data"] + runs[0].counts["short_counselling"] > 20
    assert runs[0].counts["module3"] > 50
    after = every_report(readers, periods)
    changed = sorted(key for key in before if before[key] != after.get(key))
    assert changed == [], f"{len(changed)} Berichte haben sich geändert, z. B. {changed[:3]}"
