"""A provider's export holds everything of theirs, and the import reads it back (issue 9, item 20):
each demo provider's export, imported into an empty district, exports the same again."""

import io
from collections import Counter

import pytest
from django_scopes import scope, scopes_disabled
from openpyxl import load_workbook

from kim.core.models import Municipality, Provider, Role, User
from kim.core.services import create_district, create_municipality, create_provider, create_user
from kim.demo import build_demo_district
from kim.exchange.export import export_xlsx
from kim.exchange.models import ImportRun
from kim.exchange.services import run_import, start_import
from kim.exchange.workbook import CASE_SHEETS
from kim.exchange.workbook import SHEETS as ALL_SHEETS

# The parts of case data: what the export, the round trip and a provider's template hold (not "Stellen").
SHEETS = {kind: ALL_SHEETS[kind] for kind in CASE_SHEETS}


def records_of(provider) -> dict:
    """How many records of each kind the provider has, links of many-to-many relations included."""
    from kim.casework.models import (
        Appointment,
        Assessment,
        AssessmentItem,
        Case,
        Consent,
        Goal,
        Household,
        Participant,
        PlanAction,
        Referral,
    )

    with scopes_disabled():
        return {
            "people": Participant.objects.filter(provider=provider).count(),
            "households": Household.objects.filter(provider=provider).count(),
            "consents": Consent.objects.filter(participant__provider=provider).count(),
            "releases": Consent.released_to.through.objects.filter(consent__participant__provider=provider).count(),
            "cases": Case.objects.filter(provider=provider).count(),
            "assessments": Assessment.objects.filter(case__provider=provider).count(),
            "reassessments": Assessment.objects.filter(case__provider=provider, previous__isnull=False).count(),
            "life domains": AssessmentItem.objects.filter(assessment__case__provider=provider).count(),
            "goals": Goal.objects.filter(case__provider=provider).count(),
            "actions for goals": PlanAction.objects.filter(case__provider=provider, goal__isnull=False).count(),
            "referrals": Referral.objects.filter(case__provider=provider).count(),
            "appointments": Appointment.objects.filter(provider=provider).count(),
            "topics": Appointment.topics.through.objects.filter(appointment__provider=provider).count(),
            "language support": Appointment.language_support.through.objects.filter(appointment__provider=provider).count(),
        }


def export_of(user) -> bytes:
    with scope(district=user.district_id):
        out = io.BytesIO()
        export_xlsx(user, out)
    return out.getvalue()


def sheets_of(data: bytes) -> dict[str, list]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    return {name: [list(row) for row in workbook[name].iter_rows(values_only=True)] for name in workbook.sheetnames}


def empty_copy_of(provider, slug):
    """A new district with the same catalogues (the statewide defaults), towns, provider and
    staff names as `provider`'s, and no case data."""
    with scopes_disabled():
        district = create_district(None, f"Kreis {slug}", slug)
        for town in Municipality.objects.filter(district=provider.district):
            create_municipality(None, district, town.name)
        copy = create_provider(None, district, provider.name, provider.kind, provider.slug)
        for user in User.objects.filter(provider=provider).order_by("pk"):
            create_user(None, district=district, username=f"{slug}-{user.username}", role=user.role, provider=copy,
                        first_name=user.first_name, last_name=user.last_name)
        return district, User.objects.get(provider=copy, role=Role.PROVIDER_LEAD)


def import_as(lead, district, data) -> ImportRun:
    with scope(district=district.pk):
        run = start_import(lead, filename="umzug.xlsx", data=data)
        assert set(run.assignments) == set(SHEETS), run.assignments
        return run_import(run, commit=True)


@pytest.fixture
def demo(db):
    return build_demo_district(size=0.3, seed=11)


def test_each_demo_providers_export_read_into_an_empty_district_exports_the_same(demo):
    carried = Counter()
    with scopes_disabled():
        providers = list(Provider.objects.filter(district=demo.district).order_by("pk"))
    for provider in providers:
        with scopes_disabled():
            lead = User.objects.get(provider=provider, role=Role.PROVIDER_LEAD)
        first = export_of(lead)
        district, new_lead = empty_copy_of(provider, f"leer-{provider.slug}")
        run = import_as(new_lead, district, first)
        assert run.status == ImportRun.Status.DONE, (provider.slug, run.message, run.problems[:10])
        before, after = sheets_of(first), sheets_of(export_of(new_lead))
        for name in SHEETS:
            differing = [(b, a) for b, a in zip(before[name], after[name], strict=False) if b != a][:3]
            assert after[name] == before[name], (provider.slug, name, len(before[name]), len(after[name]), differing)
            carried[name] += len(before[name]) - 1
        assert records_of(new_lead.provider) == records_of(provider)
        again = import_as(new_lead, district, first)  # the same file once more changes nothing
        assert all(set(counts) == {"unverändert"} for counts in again.summary.values()), again.summary
    assert all(carried[name] > 0 for name in SHEETS), carried  # every part of the workbook was carried


def test_the_export_holds_contact_data_consent_releases_plans_referrals_assessments_and_staff(demo):
    with scopes_disabled():
        lead = User.objects.get(username="leitung-caritas")
    sheets = sheets_of(export_of(lead))
    headers = {name: rows[0] for name, rows in sheets.items()}
    assert set(sheets) >= set(SHEETS) and all(headers[name] == SHEETS[name] for name in SHEETS)

    def column(sheet, header):
        return [row[headers[sheet].index(header)] for row in sheets[sheet][1:]]

    assert any(column("Teilnehmende", "Telefon")) and any(column("Teilnehmende", "Anschrift"))
    assert all(column("Teilnehmende", "Verantwortlich")) and all(column("Fälle", "Case Manager*in"))
    assert any(column("Einwilligungen", "Schweigepflichtentbindung für"))
    assert any(column("Maßnahmen", "Ziel-Kennung")) and any(column("Verweise", "Verwiesen an"))
    assert set(column("Lebensbereiche", "Bedarf")) <= {"kein Bedarf", "geringer Bedarf", "mittlerer Bedarf",
                                                      "hoher Bedarf", "akuter Bedarf"}
    kinds = dict(zip(column("Fälle", "Fall-Kennung"), column("Fälle", "Art"), strict=True))
    outcomes = [outcome for key, outcome in zip(column("Fälle", "Fall-Kennung"), column("Fälle", "Verwiesen an"),
                                                strict=True) if kinds[key] == "Screening"]
    assert outcomes and all(outcomes)  # the screening outcome of every screening
