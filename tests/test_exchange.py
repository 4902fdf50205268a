"""Data out: the standard workbook template, the provider export, data-subject access."""

import csv
import io
import json
import subprocess
import zipfile

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled
from openpyxl import load_workbook

from kim.core.cells import neutralise
from kim.core.models import AuditEntry, TargetGroup
from kim.exchange.workbook import CASE_SHEETS
from kim.exchange.workbook import SHEETS as ALL_SHEETS

from .factories import (
    AppointmentFactory,
    CaseFactory,
    ConsentFactory,
    GoalFactory,
    ParticipantFactory,
)

# The parts of case data: what the export, the round trip and a provider's template hold (not "Stellen").
SHEETS = {kind: ALL_SHEETS[kind] for kind in CASE_SHEETS}


def test_the_template_has_the_documented_sheets_and_catalogue_dropdowns(client, world):
    client.force_login(world.insider)
    response = client.get(reverse("exchange:template"))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    for sheet, headers in SHEETS.items():
        assert [c.value for c in workbook[sheet][1]] == headers
    with scopes_disabled():
        labels = set(TargetGroup.objects.filter(district=world.district).values_list("label", flat=True))
    lists = workbook["Wertelisten"]
    column = next(c.column for c in lists[1] if c.value == "Fälle: Zielgruppe")
    assert {lists.cell(r, column).value for r in range(2, lists.max_row + 1)} - {None} == labels
    cases = workbook["Fälle"]
    formulas = {str(v.sqref).split(":")[0][0]: v.formula1 for v in cases.data_validations.dataValidation}
    assert "D" in formulas and "Wertelisten" in formulas["D"]  # Zielgruppe is column D


def test_formula_injection_is_neutralised():
    assert neutralise("=HYPERLINK(\"http://x\")").startswith("'=")
    for dangerous in ("+1", "-1", "@SUM(A1)", "\tx"):
        assert neutralise(dangerous).startswith("'")
    assert neutralise("Wohnen") == "Wohnen" and neutralise(5) == 5


@pytest.fixture
def provider_data(world):
    with scopes_disabled():
        world.participant.last_name = "=cmd|' /C calc'!A0"
        world.participant.save()
        other = ParticipantFactory(responsible=world.colleague, last_name="Kollegin-Fall")
        ConsentFactory(participant=other)
        case = CaseFactory(participant=other)
        GoalFactory(case=case)
        AppointmentFactory(case=case)
        foreign = ParticipantFactory(responsible=world.other_provider_cm, last_name="Fremder-Träger")
        CaseFactory(participant=foreign)
    return world


def test_the_lead_exports_exactly_the_provider_as_the_standard_workbook(client, provider_data):
    world = provider_data
    client.force_login(world.lead)
    response = client.post(reverse("exchange:export", args=["xlsx"]))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    people = [row for row in workbook["Teilnehmende"].iter_rows(min_row=2, values_only=True)]
    names = {row[2] for row in people}
    assert names == {"'=cmd|' /C calc'!A0", "Kollegin-Fall"}  # neutralised, colleague included, other provider not
    assert workbook["Teilnehmende"]["D2"].number_format == "DD.MM.YYYY"
    cases = list(workbook["Fälle"].iter_rows(min_row=2, values_only=True))
    assert len(cases) == 2 and {row[2] for row in cases} == {"Case Management"}
    appointments = list(workbook["Termine"].iter_rows(min_row=2, values_only=True))
    assert len(appointments) == 2 and all(row[5] for row in appointments)  # topics joined
    with scopes_disabled():
        entry = AuditEntry.objects.get(actor=world.lead, action=AuditEntry.Action.READ, object_type="core.provider")
    assert entry.provider_id == world.provider.pk and entry.changes["export"][1]["rows"]["Fälle"] == 2


def test_csv_and_json_exports_hold_the_same_rows(client, provider_data):
    client.force_login(provider_data.lead)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(client.post(reverse("exchange:export", args=["zip"])).streaming_content)))
    assert sorted(archive.namelist()) == sorted(f"{name}.csv" for name in SHEETS)
    text = archive.read("Teilnehmende.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == SHEETS["Teilnehmende"] and len(rows) == 3
    payload = json.loads(b"".join(client.post(reverse("exchange:export", args=["json"])).streaming_content))
    assert len(payload["Fälle"]) == 2 and len(payload["Teilnehmende"]) == 2


@pytest.mark.parametrize("persona", ["insider", "coordination", "steering", "other_provider"])
def test_only_the_provider_lead_exports(client, world, persona):
    client.force_login(world.personas()[persona])
    assert client.post(reverse("exchange:export", args=["xlsx"])).status_code == 403


def test_subject_access_gives_all_data_of_the_person_and_is_audited(client, provider_data):
    world = provider_data
    client.force_login(world.insider)
    response = client.get(reverse("exchange:subject-access", args=[world.participant.pk, "json"]))
    assert response.status_code == 200
    record = json.loads(response.content)
    assert record["Kennung"] == world.participant.code and len(record["Fälle"]) == 1
    assert record["Fälle"][0]["Ziele"] and record["Fälle"][0]["Termine"] and record["Einwilligungen"]
    pdf = client.get(reverse("exchange:subject-access", args=[world.participant.pk, "pdf"])).content
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert world.participant.code in text and "Art. 15" in text
    with scopes_disabled():
        assert AuditEntry.objects.filter(
            actor=world.insider, object_type="casework.participant", changes__has_key="subject_access"
        ).count() == 2


@pytest.mark.parametrize("persona", ["other_provider", "other_district", "coordination"])
def test_subject_access_is_refused_outside_the_scope(client, world, persona):
    client.force_login(world.personas()[persona])
    status = client.get(reverse("exchange:subject-access", args=[world.participant.pk, "json"])).status_code
    assert status in (403, 404)


def test_the_subject_access_pdf_speaks_to_the_participant_in_german_dates_local_times_and_labels(client, world):
    """Issue 9, item 23: the PDF showed ISO dates, UTC timestamps and needs as numbers."""
    from datetime import datetime, timezone

    from django.utils import timezone as django_timezone

    from kim.casework.models import Assessment, AssessmentItem
    from kim.core.models import LifeDomain

    with scopes_disabled():
        assessment = Assessment.objects.create(case=world.case, assessed_on=world.case.opened_on, author=world.insider)
        AssessmentItem.objects.create(assessment=assessment, life_domain=LifeDomain.objects.filter(
            district=world.district).first(), need=3)
        late = AuditEntry.objects.create(actor=world.insider, action=AuditEntry.Action.READ, district=world.district,
                                         object_type="casework.participant", object_id=str(world.participant.pk),
                                         at=datetime(2025, 7, 1, 22, 30, tzinfo=timezone.utc))
    client.force_login(world.insider)
    pdf = client.get(reverse("exchange:subject-access", args=[world.participant.pk, "pdf"])).content
    text = " ".join(subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode().split())
    birth = world.participant.birth_date
    assert f"{birth:%d.%m.%Y}" in text and birth.isoformat() not in text
    assert "hoher Bedarf" in text
    assert f"{django_timezone.localtime(late.at):%d.%m.%Y, %H:%M} Uhr" in text and "02.07.2025, 00:30 Uhr" in text  # 22:30 UTC is past midnight in Berlin
    assert "2025-07-01T22:30" not in text
    record = json.loads(client.get(reverse("exchange:subject-access", args=[world.participant.pk, "json"])).content)
    assert record["Geburtsdatum"] == birth.isoformat()  # for machines: ISO
    assert record["Fälle"][0]["Assessments"][0]["Lebensbereiche"][0]["Bedarf"] == "hoher Bedarf"


# ---------------------------------------------------------------- subject access: everything, readable

@pytest.fixture
def whole_record(world):
    """The participant with a module-3 procedure, a colleague's need report naming the case, an
    erasure request, a restriction and a redacted audit entry."""
    from datetime import date

    from kim.core.audit import redact
    from kim.core.models import ReferralTarget
    from kim.privacy.models import Erasure
    from kim.privacy.restriction import restrict
    from kim.residence.models import Office, Outcome, Procedure, ProcedureKind
    from kim.system.models import NeedReport

    with scopes_disabled():
        office = Office.objects.create(district=world.district, name="Ausländerbehörde Aue", kind=Office.Kind.FOREIGNERS,
                                       release_target=ReferralTarget.objects.get(district=world.district, key="abh"))
        world.procedure = Procedure.objects.create(
            district=world.district, office=office, kind=ProcedureKind.NATURALISATION, reference="AZ 12/345",
            received_on=date(2025, 2, 1), decided_on=date(2025, 9, 4), outcome=Outcome.GRANTED,
            participant=world.participant)
        AuditEntry.objects.create(actor=None, action="update", district=world.district,
                                  object_type="residence.procedure", object_id=str(world.procedure.pk),
                                  changes={"decided_on": [None, "2025-09-04"]})
        world.need_report = NeedReport.objects.create(district=world.district, provider=world.provider,
                                                      author=world.colleague, challenge="Keine Kita-Plätze für Kinder ab drei.")
        world.need_report.cases.set([world.case])
        world.erasure = Erasure.objects.create(district=world.district, provider=world.provider,
                                               participant=world.participant, reason="Auf Wunsch der Person",
                                               requested_by=world.lead)
        old = AuditEntry.objects.create(actor=world.insider, action="update", district=world.district,
                                        object_type="casework.participant", object_id=str(world.participant.pk),
                                        object_label=world.participant.code, changes={"phone": ["0176 111", "0176 222"]})
        redact(AuditEntry.objects.filter(pk=old.pk), "anonymisiert")
        AuditEntry.objects.create(actor=world.lead, action="transfer", district=world.district,
                                  object_type="casework.case", object_id=str(world.case.pk), changes={})
        restrict(world.lead, world.participant, "Die Person bestreitet die Richtigkeit.")
    return world


def pdf_text(client, world):
    pdf = client.get(reverse("exchange:subject-access", args=[world.participant.pk, "pdf"])).content
    return " ".join(subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode().split())


SECTIONS = ["Verantwortliche Stelle", "Einschränkung der Verarbeitung", "Einwilligungen", "Fälle",
            "Verfahren bei Ausländer- und Einbürgerungsbehörden", "Bedarfsmeldungen an die Koordinierung",
            "Anträge auf Löschung", "Zugriffe und Änderungen"]


def test_the_subject_access_holds_every_section_procedures_need_reports_erasures_and_the_restriction(client, whole_record):
    world = whole_record
    client.force_login(world.insider)
    record = json.loads(client.get(reverse("exchange:subject-access", args=[world.participant.pk, "json"])).content)
    assert all(section in record for section in SECTIONS), set(SECTIONS) - set(record)
    procedure = record["Verfahren bei Ausländer- und Einbürgerungsbehörden"][0]
    assert procedure["Behörde"] == "Ausländerbehörde Aue" and procedure["Ergebnis"] == "stattgegeben"
    assert procedure["Nr."] == world.procedure.pk  # the JSON keeps the numbers, for machines
    assert record["Bedarfsmeldungen an die Koordinierung"][0]["Herausforderung"] == "Keine Kita-Plätze für Kinder ab drei."
    assert record["Anträge auf Löschung"][0]["Grund"] == "Auf Wunsch der Person"
    assert record["Einschränkung der Verarbeitung"]["eingeschränkt"] is True
    trail = record["Zugriffe und Änderungen"]
    assert {"residence.procedure", "casework.participant", "casework.case"} <= {e["Objekttyp"] for e in trail}
    assert any(e["Was"] == "übermittelt" for e in trail)  # a transfer, whatever its action
    assert any(e["Angaben"] == "geschwärzt" for e in trail)
    assert "0176 111" not in json.dumps(record, ensure_ascii=False)
    text = pdf_text(client, world)
    for heading in [*SECTIONS, "Was ist das?", "Wer ist verantwortlich?", "Ihre Rechte", "Ihre Angaben"]:
        assert heading in text, heading
    assert "Ausländerbehörde Aue" in text and "AZ 12/345" in text and "04.09.2025" in text
    assert "Keine Kita-Plätze für Kinder ab drei." in text and "Auf Wunsch der Person" in text
    assert "Die Person bestreitet die Richtigkeit." in text and "geschwärzt" in text and "in der Prüffrist" in text
    assert "Verarbeitung eingeschränkt seit" in text  # the changed field by its label, not restricted_on
    assert "Caritas Aue" in text and "Art. 77" in text


def test_the_subject_access_pdf_names_no_database_number_and_no_internal_type(client, whole_record):
    world = whole_record
    client.force_login(world.insider)
    text = pdf_text(client, world)
    assert world.case.number not in text and "F-0" not in text
    assert "casework." not in text and "residence." not in text and "privacy." not in text
    assert "Nr." not in text and "Objekt" not in text
    assert "Fall 1 (seit" in text and "Ihre persönlichen Angaben" in text and "Verfahren bei einer Behörde" in text
    assert "\"" not in text and "_" not in text  # no keys like case_management or goal_status


@pytest.mark.parametrize("persona", ["other_provider", "other_district"])
def test_another_provider_gets_404_for_the_subject_access(client, whole_record, persona):
    client.force_login(whole_record.personas()[persona])
    for fmt in ("json", "pdf"):
        assert client.get(reverse("exchange:subject-access", args=[whole_record.participant.pk, fmt])).status_code == 404


def test_coordination_gets_no_subject_access(client, whole_record):
    client.force_login(whole_record.coordination)
    assert client.get(reverse("exchange:subject-access", args=[whole_record.participant.pk, "json"])).status_code == 403
