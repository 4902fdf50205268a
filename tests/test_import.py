"""Import of tables in the shape of the standard workbook: checking, committing, re-importing,
value mapping, scoping and audit; the command line. Hostile files live in test_import_files."""

import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_scopes import scope, scopes_disabled
from openpyxl import Workbook

from kim.casework.models import Appointment, Case, Consent, Goal, Participant
from kim.core.models import AuditEntry, Municipality
from kim.exchange.export import export_xlsx
from kim.exchange.models import ImportRun
from kim.exchange.services import assign_sheets, map_values, run_import, start_import
from kim.exchange.workbook import SHEETS as SHEETS_

from .factories import MunicipalityFactory, ParticipantFactory

TODAY = date.today()
Y = TODAY.year - 1


def workbook_bytes(sheets: dict[str, list[list]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


PEOPLE = [
    ["Kennung", "Vorname", "Nachname", "Geburtsdatum", "Geschlecht", "Staatsangehörigkeit", "Sprachen", "Kommune",
     "Haushalt", "Einreisedatum", "Aufenthaltsstatus", "Einwilligung am", "Einwilligung widerrufen am"],
    ["P1", "Amina", "Rahimi", "03.04.1990", "weiblich", "afghanisch", "Dari; Deutsch", "Aue-Stadt", "Rahimi",
     f"{Y - 3}-05-01", "Duldung", date(Y, 1, 10), None],
    ["P2", "Yusuf", "Demir", 32874, "m", "türkisch", "Türkisch", "aue-stadt", None, None, None, None, None],
]
CASES = [
    ["Fall-Kennung", "Teilnehmende-Kennung", "Art", "Zielgruppe", "Zugangsweg", "Kommune", "Beginn", "Phase", "Ende",
     "Abschlussgrund", "Verwiesen an"],
    ["C1", "P1", "Case Management", "duldung/gestattung", "Agentur für Arbeit / Jobcenter", None, f"15.01.{Y}", None, None, None, None],
    ["C2", "P2", "Kurzberatung", None, "Eigeninitiative der Teilnehmenden", None, f"{Y}-02-01", None, f"{Y}-02-20",
     None, None],
]
GOALS = [
    ["Fall-Kennung", "Zielkategorie", "Beschreibung", "vereinbart am", "Status", "Status seit"],
    ["C1", "Unterstützung bei der Sprachkurssuche", "B1-Kurs finden", f"01.02.{Y}", "offen", None],
]
APPOINTMENTS = [
    ["Fall-Kennung", "Datum", "Art", "komplex", "Dauer (Minuten)", "Themen", "Sprachmittlung"],
    ["C1", f"20.01.{Y}", "Beratung", "ja", 60, "Wohnen; Gesundheit", None],
    ["C1", f"20.01.{Y}", "Beratung", "ja", "45,0", "Deutschkurse", None],
    ["C2", f"{Y}-02-01", "Beratung", "nein", 30, "Arbeit und Ausbildung", None],
    [None, f"03.03.{Y}", "Sonstiger Termin", None, 90, None, None],
]


def standard_file(changes=None):
    sheets = {"Teilnehmende": PEOPLE, "Fälle": CASES, "Ziele": GOALS, "Termine": APPOINTMENTS}
    sheets = {name: [list(row) for row in rows] for name, rows in sheets.items()}
    for (sheet, row, column), value in (changes or {}).items():
        sheets[sheet][row][sheets[sheet][0].index(column)] = value
    return workbook_bytes(sheets)


@pytest.fixture
def town(world):
    return MunicipalityFactory(district=world.district, name="Aue-Stadt")


def do_import(user, data, commit=True, filename="akten.xlsx", **kwargs):
    with scope(district=user.district_id):
        run = start_import(user, filename=filename, data=data, **kwargs)
        return run_import(run, commit=commit)


def counts(provider):
    with scopes_disabled():
        return {model.__name__: model.objects.filter(**{field: provider}).count() for model, field in [
            (Participant, "provider"), (Case, "provider"), (Goal, "case__provider"), (Appointment, "provider"),
            (Consent, "participant__provider")]}


def problems(run):
    return [f"{p['sheet']}:{p['row']}:{p['column']}: {p['message']}" for p in run.problems]


def test_a_standard_file_lands_in_the_importing_providers_scope_with_every_value(world, town):
    before = counts(world.provider)
    run = do_import(world.insider, standard_file())
    assert run.status == ImportRun.Status.DONE, problems(run) or run.message
    after = counts(world.provider)
    assert {k: after[k] - before[k] for k in after} == {
        "Participant": 2, "Case": 2, "Goal": 1, "Appointment": 4, "Consent": 1}
    with scope(district=world.district.pk):
        amina = Participant.objects.get(external_id="P1")
        assert (amina.first_name, amina.birth_date, amina.gender, amina.residence_status) == (
            "Amina", date(1990, 4, 3), "f", "duldung")
        assert amina.provider == world.provider and amina.responsible == world.insider
        assert amina.household.name == "Rahimi" and amina.municipality == town
        assert Participant.objects.get(external_id="P2").birth_date == date(1990, 1, 1)  # Excel serial 32874
        case = Case.objects.get(external_id="C1")
        assert (case.kind, case.target_group.label, case.referral_source.label, case.opened_on) == (
            "case_management", "Duldung/Gestattung", "Agentur für Arbeit / Jobcenter", date(Y, 1, 15))
        assert case.case_manager == world.insider and case.municipality == town
        closed = Case.objects.get(external_id="C2")
        assert closed.closed_on == date(Y, 2, 20) and closed.phase == "closed"
        durations = sorted(Appointment.objects.filter(case=case).values_list("duration_minutes", flat=True))
        assert durations == [45, 60]
        first = Appointment.objects.get(case=case, duration_minutes=60)
        assert sorted(first.topics.values_list("label", flat=True)) == ["Gesundheit", "Wohnen"]
        other = Appointment.objects.get(case__isnull=True, provider=world.provider, date=date(Y, 3, 3))
        assert other.kind == "other" and other.case_manager == world.insider
        # Audited: one entry per record as an import, and the import as a whole.
        assert AuditEntry.objects.filter(action="import", object_type="casework.appointment").count() == 4
        assert AuditEntry.objects.filter(action="import", object_type="exchange.importrun").count() == 1
    assert run.content is None  # the file is not kept after the import
    assert run.summary["Termine"] == {"neu": 4}


def test_reimporting_the_same_file_changes_nothing_and_a_corrected_file_updates(world, town):
    do_import(world.insider, standard_file())
    before, audit_before = counts(world.provider), AuditEntry.objects.order_by("pk").last().pk
    run = do_import(world.insider, standard_file())
    assert run.status == ImportRun.Status.DONE, problems(run)
    assert counts(world.provider) == before
    assert run.summary["Termine"] == {"unverändert": 4} and run.summary["Teilnehmende"] == {"unverändert": 2}
    # Only the run itself is audited (upload and import), no record.
    assert not AuditEntry.objects.filter(pk__gt=audit_before).exclude(
        object_type__in=["exchange.importrun", "exchange.importmapping"]).exists()

    corrected = standard_file({("Termine", 3, "Dauer (Minuten)"): 40, ("Ziele", 1, "Status"): "erreicht",
                                 ("Ziele", 1, "Status seit"): f"01.06.{Y}", ("Teilnehmende", 2, "Vorname"): "Yusuf Ali"})
    run = do_import(world.insider, corrected)
    assert run.status == ImportRun.Status.DONE, problems(run)
    assert counts(world.provider) == before
    assert run.summary["Termine"] == {"geändert": 1, "unverändert": 3}
    with scope(district=world.district.pk):
        assert Participant.objects.get(external_id="P2").first_name == "Yusuf Ali"
        goal = Goal.objects.get(case__external_id="C1")
        assert (goal.status, goal.status_changed_on) == ("achieved", date(Y, 6, 1))
        entry = AuditEntry.objects.filter(object_type="casework.appointment", action="update").get()
        assert entry.changes["duration_minutes"] == [30, 40]


def test_reimporting_a_providers_own_export_finds_every_record(world, town):
    do_import(world.insider, standard_file())
    before = counts(world.provider)
    with scope(district=world.district.pk):
        out = io.BytesIO()
        export_xlsx(world.insider, out)
    run = do_import(world.insider, out.getvalue(), filename="export.xlsx")
    assert run.status == ImportRun.Status.DONE, problems(run)
    assert counts(world.provider) == before
    assert all(set(c) == {"unverändert"} for c in run.summary.values()), run.summary


def test_the_dry_run_lists_every_problem_in_german_and_writes_nothing(world, town):
    before, audit = counts(world.provider), AuditEntry.objects.exclude(object_type__startswith="exchange.").count()
    data = standard_file({
        ("Fälle", 1, "Zielgruppe"): "Dldung",
        ("Fälle", 2, "Ende"): f"01.01.{Y}",
        ("Termine", 3, "Fall-Kennung"): "C9",
        ("Termine", 1, "Datum"): "32.01.2023",
        ("Termine", 2, "Dauer (Minuten)"): 2,
        ("Teilnehmende", 2, "Vorname"): None,
    })
    run = do_import(world.insider, data, commit=False)
    found = problems(run)
    assert run.status == ImportRun.Status.CHECKED and run.problem_count == len(found) == 6, found
    assert "Fälle:2:Zielgruppe: Unbekannter Wert „Dldung“ – meinten Sie „Duldung/Gestattung“?" in found
    assert "Fälle:3:Ende: Das Ende liegt vor dem Beginn." in found
    assert any(p.startswith("Termine:4:Fall-Kennung: Termin für einen unbekannten Fall „C9“") for p in found)
    assert any(p.startswith("Termine:2:Datum: „32.01.2023“ ist kein Datum") for p in found)
    assert "Termine:3:Dauer (Minuten): Die Dauer muss zwischen 5 und 600 Minuten liegen." in found
    assert "Teilnehmende:3:Vorname: Pflichtangabe fehlt." in found
    assert run.unknown_values == [{"list": "target_group", "value": "Dldung", "column": "Zielgruppe", "count": 1,
                                   "suggestion": "Duldung/Gestattung"}]
    # The commit of a faulty file writes nothing either.
    run = do_import(world.insider, data, commit=True)
    assert run.status == ImportRun.Status.CHECKED and run.problem_count == 6
    assert counts(world.provider) == before
    assert AuditEntry.objects.exclude(object_type__startswith="exchange.").count() == audit


def test_unknown_values_are_mapped_once_and_the_mapping_is_kept_for_the_next_file(world, town):
    data = standard_file({("Fälle", 1, "Zielgruppe"): "Dldung", ("Termine", 1, "Themen"): "Wohnung; Gesundheit"})
    with scope(district=world.district.pk):
        run = start_import(world.insider, filename="a.xlsx", data=data)
        run = run_import(run, commit=False)
        assert {(u["list"], u["value"]) for u in run.unknown_values} == {("target_group", "Dldung"), ("topic", "Wohnung")}
        map_values(world.insider, run, {("target_group", "Dldung"): "Duldung/Gestattung", ("topic", "Wohnung"): "Wohnen"})
        run.refresh_from_db()
        run = run_import(run, commit=True)
        assert run.status == ImportRun.Status.DONE, problems(run)
        assert Case.objects.get(external_id="C1").target_group.label == "Duldung/Gestattung"
        # A new upload of the same provider uses the saved mapping.
        data = standard_file({("Fälle", 1, "Zielgruppe"): "DLDUNG"})
        run = run_import(start_import(world.insider, filename="b.xlsx", data=data), commit=False)
        assert run.problem_count == 0, problems(run)
        with pytest.raises(Exception, match="kein Eintrag"):
            map_values(world.insider, run, {("target_group", "x"): "Gibt es nicht"})


def test_case_management_without_consent_is_refused_like_in_the_form(world, town):
    data = standard_file({("Teilnehmende", 1, "Einwilligung am"): None})
    run = do_import(world.insider, data, commit=False)
    found = problems(run)
    assert any("Fälle:2:Beginn: Für Case Management braucht es eine Einwilligung" in p for p in found), found
    assert any(p.startswith("Termine:2:Datum: Zu diesem Datum gilt keine Einwilligung") for p in found)


def test_lookups_of_existing_records_respect_scope(world, town):
    """Another provider's record with the same Kennung is neither found nor changed; a record of
    the own provider that the importing case manager cannot see is reported, not overwritten."""
    do_import(world.other_provider_cm, standard_file())
    run = do_import(world.insider, standard_file())
    assert run.status == ImportRun.Status.DONE, problems(run)
    with scopes_disabled():
        assert Participant.objects.filter(external_id="P1").count() == 2
    run = do_import(world.colleague, standard_file(), commit=False)
    assert any("deren Akte Sie nicht sehen" in p for p in problems(run)), problems(run)


def test_a_lead_imports_into_a_chosen_case_managers_caseload(world, town):
    run = do_import(world.lead, standard_file(), case_manager=world.colleague)
    assert run.status == ImportRun.Status.DONE, problems(run)
    with scope(district=world.district.pk):
        assert set(Case.objects.filter(external_id__in=["C1", "C2"]).values_list("case_manager", flat=True)) == {
            world.colleague.pk}
        with pytest.raises(Exception, match="keine Fälle Ihres Trägers"):
            start_import(world.lead, filename="a.xlsx", data=standard_file(), case_manager=world.other_provider_cm)
        with pytest.raises(Exception, match="keine Fälle Ihres Trägers"):
            start_import(world.insider, filename="a.xlsx", data=standard_file(), case_manager=world.colleague)


@pytest.mark.parametrize("persona", ["steering", "district_admin"])
def test_aggregate_roles_cannot_import(world, town, persona):
    from django.core.exceptions import PermissionDenied

    with scope(district=world.district.pk), pytest.raises(PermissionDenied):
        start_import(getattr(world, persona), filename="a.xlsx", data=standard_file())


def test_coordination_imports_only_the_sheet_stellen_never_case_data(world, town):
    """Coordination may upload (for the sheet "Stellen", tests/test_staffing_import.py), but no
    sheet of case data is offered or accepted."""
    from django.core.exceptions import ValidationError

    with scope(district=world.district.pk):
        run = start_import(world.coordination, filename="a.xlsx", data=standard_file())
        assert run.assignments == {}
        with pytest.raises(ValidationError, match="Die Koordination importiert nur das Blatt „Stellen“"):
            assign_sheets(world.coordination, run, {"Teilnehmende": "Teilnehmende"})


def test_a_hand_made_file_is_mapped_by_header_similarity_below_a_title_row(world, town):
    rows = [["Beratungsstatistik 2025 – Frau Muster"], [],
            ["Fallnummer", "Termin", "Dauer", "Thema", "Dolmetscher"],
            ["F-%05d" % world.case.pk, world.case.opened_on + timedelta(days=10), 50, "Wohnen", None]]
    data = workbook_bytes({"Tabelle1": rows})
    with scope(district=world.district.pk):
        run = start_import(world.insider, filename="muster.xlsx", data=data)
        assert run.assignments["Termine"] == {"sheet": "Tabelle1", "header_row": 2, "columns": {
            "Fall-Kennung": "Fallnummer", "Datum": "Termin", "Dauer (Minuten)": "Dauer", "Themen": "Thema",
            "Sprachmittlung": "Dolmetscher"}}
        run = run_import(run, commit=True)
        assert run.status == ImportRun.Status.DONE, problems(run)
        assert world.case.appointments.filter(duration_minutes=50, complexity="complex").exists()


def test_an_unmapped_required_column_is_reported_once(world, town):
    data = workbook_bytes({"Termine": [["Fall-Kennung", "Dauer (Minuten)"], ["C1", 30], ["C1", 40]]})
    run = do_import(world.insider, data, commit=False)
    assert problems(run) == ["Termine:0:Datum: Diese Pflichtspalte ist keiner Spalte der Datei zugeordnet."]


# ---------------------------------------------------------------- command line

def test_command_line_dry_run_import_and_failure(world, town, tmp_path, capsys):
    path = tmp_path / "akten.xlsx"
    path.write_bytes(standard_file())
    args = [str(path), "--district", world.district.slug, "--provider", "caritas", "--case-manager", "insider"]
    call_command("import", *args, "--dry-run")
    assert counts(world.provider)["Participant"] == 1
    assert "Prüfung ohne Fehler" in capsys.readouterr().out
    call_command("import", *args)
    assert counts(world.provider)["Participant"] == 3
    bad = tmp_path / "kaputt.xlsx"
    bad.write_bytes(standard_file({("Fälle", 1, "Zielgruppe"): "Dldung"}))
    with pytest.raises(SystemExit) as exit_info:
        call_command("import", str(bad), *args[1:])
    assert exit_info.value.code == 1
    assert "Fälle, Zeile 2, Spalte „Zielgruppe“: Unbekannter Wert „Dldung“" in capsys.readouterr().err


def test_command_line_refuses_a_broken_file_with_a_message(world, town, tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "bild.xlsx"
    path.write_bytes(b"%PDF-1.4 not a table")
    with pytest.raises(CommandError, match="keine Tabelle in diesem Format"):
        call_command("import", str(path), "--district", world.district.slug, "--provider", "caritas",
                     "--case-manager", "insider")
    with scopes_disabled():
        assert not ImportRun.objects.exists()


def test_sheets_can_be_chosen_by_hand(world, town):
    data = workbook_bytes({"Blatt A": APPOINTMENTS, "Blatt B": CASES})
    with scope(district=world.district.pk):
        run = start_import(world.insider, filename="a.xlsx", data=data)
        run = assign_sheets(world.insider, run, {"Termine": "Blatt A"})
        assert list(run.assignments) == ["Termine"]
        with pytest.raises(Exception, match="gibt es in der Datei nicht"):
            assign_sheets(world.insider, run, {"Termine": "Blatt C"})


def test_municipality_must_exist_in_the_district(world, town):
    with scopes_disabled():
        assert Municipality.objects.filter(district=world.other_district, name="Aue-Stadt").count() == 0
    run = do_import(world.insider, standard_file({("Teilnehmende", 1, "Kommune"): "Berg-Stadt"}), commit=False)
    assert any(p.startswith("Teilnehmende:2:Kommune: Unbekannter Wert „Berg-Stadt“") for p in problems(run))


# ---------------------------------------------------------------- pages

def test_the_import_pages_walk_through_upload_check_and_import(client, world, town, django_capture_on_commit_callbacks,
                                                               monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from .test_report_outputs import run_worker

    client.force_login(world.insider)
    assert client.get(reverse("exchange:imports")).status_code == 200
    data = standard_file({("Fälle", 1, "Zielgruppe"): "Dldung"})
    response = client.post(reverse("exchange:imports"), {
        "file": SimpleUploadedFile("akten.xlsx", data), "case_manager": world.insider.pk, "mapping_name": "Standard"})
    assert response.status_code == 302
    url = response["Location"]
    page = client.get(url).content.decode()
    assert "Teilnehmende" in page and "Amina" in page  # the preview shows the first rows
    with scopes_disabled():
        run = ImportRun.objects.get()
    columns = {f"col-{kind}-{i}": header for kind, a in run.assignments.items()
               for i, column in enumerate(SHEETS_[kind]) for c, header in a["columns"].items() if c == column}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"action": "columns", **columns}).status_code == 302
    run_worker(monkeypatch)
    page = client.get(url).content.decode()
    assert "Unbekannter Wert „Dldung“ – meinten Sie „Duldung/Gestattung“?" in page
    assert "Import now" not in page and "Jetzt übernehmen" not in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "values", "value-0": "Duldung/Gestattung"})
    run_worker(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"action": "commit"}).status_code == 302
    status = client.get(url + "?status=1", HTTP_HX_REQUEST="true")
    assert "<progress" in status.content.decode() and "HX-Refresh" not in status.headers
    run_worker(monkeypatch)
    assert client.get(url + "?status=1", HTTP_HX_REQUEST="true")["HX-Refresh"] == "true"
    with scopes_disabled():
        run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE and run.summary["Fälle"] == {"neu": 2}
    assert client.get(url).status_code == 200


def test_a_hostile_upload_gets_a_german_message_and_no_run(client, world, town):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    client.force_login(world.insider)
    response = client.post(reverse("exchange:imports"), {
        "file": SimpleUploadedFile("akten.xlsx", b"%PDF-1.4 ..."), "case_manager": world.insider.pk,
        "mapping_name": "Standard"})
    assert response.status_code == 422
    assert "ist aber keine Tabelle in diesem Format" in response.content.decode()
    with scopes_disabled():
        assert not ImportRun.objects.exists()


def test_other_people_cannot_see_an_import_run(client, world, town):
    from django.urls import reverse

    run = None
    with scope(district=world.district.pk):
        run = start_import(world.insider, filename="a.xlsx", data=standard_file())
    url = reverse("exchange:import-run", args=[run.pk])
    for persona, expected in {"insider": 200, "lead": 200, "colleague": 404, "other_provider": 404,
                              "other_district": 404, "coordination": 404, "steering": 403}.items():
        client.force_login(world.personas()[persona])
        assert client.get(url).status_code == expected, persona


# ---------------------------------------------------------------- review findings

def test_a_case_number_of_another_persons_case_is_refused_not_overwritten(world, town):
    """A file's own numbering "F-00001" must not take over the existing case F-00001 of someone else."""
    data = standard_file({("Fälle", 1, "Fall-Kennung"): world.case.number, ("Ziele", 1, "Fall-Kennung"): world.case.number,
                          ("Termine", 1, "Fall-Kennung"): world.case.number, ("Termine", 2, "Fall-Kennung"): world.case.number})
    run = do_import(world.insider, data)
    assert any(p.startswith(f"Fälle:2:Fall-Kennung: Der Fall „{world.case.number}“ gehört bereits zu einer anderen Person")
               for p in problems(run)), problems(run)
    with scopes_disabled():
        case = Case.objects.get(pk=world.case.pk)
    assert (case.kind, case.participant_id) == ("case_management", world.participant.pk)


def test_an_imported_person_never_joins_a_household_the_importer_cannot_see(world, town):
    from kim.casework.services import create_household

    with scope(district=world.district.pk):
        theirs = create_household(world.colleague, "Rahimi")
    run = do_import(world.insider, standard_file())
    assert run.status == ImportRun.Status.DONE, problems(run)
    with scope(district=world.district.pk):
        amina = Participant.objects.get(external_id="P1")
        assert amina.household_id != theirs.pk and amina.household.name == "Rahimi"


def test_only_the_uploader_acts_on_a_run(world, town):
    from django.core.exceptions import PermissionDenied

    from kim.exchange.services import request_check

    with scope(district=world.district.pk):
        run = start_import(world.insider, filename="a.xlsx", data=standard_file())
        with pytest.raises(PermissionDenied):
            request_check(world.lead, run)


def test_the_forms_rules_for_cases_people_and_counselling_hold_in_the_import(world, town):
    data = standard_file({("Fälle", 2, "Phase"): "Assessment", ("Teilnehmende", 1, "Einreisedatum"): "01.01.1980",
                          ("Termine", 3, "Themen"): None, ("Fälle", 2, "Art"): "Screening"})
    found = problems(do_import(world.insider, data, commit=False))
    assert "Fälle:3:Phase: Phasen gibt es nur im Case Management." in found
    assert any(p.startswith("Fälle:3:Verwiesen an: Ein Screening braucht ein Ergebnis") for p in found)
    assert "Teilnehmende:2:Einreisedatum: Das Einreisedatum kann nicht vor dem Geburtsdatum liegen." in found
    assert "Termine:4:Themen: Für eine Beratung fehlt das Thema (mindestens eines)." in found


# ---------------------------------------------------------------- issue 9, item 13: only records from a file

def other_work(days, minutes=45):
    return workbook_bytes({"Termine": [APPOINTMENTS[0]] + [
        [None, f"{day:%d.%m.%Y}", "Sonstiger Termin", None, minutes, None, None] for day in days]})


def test_an_import_of_other_work_never_changes_appointments_entered_by_hand(world, town):
    """Rows of "Sonstiger Termin" on the days of appointments entered in the browser: new
    appointments, however alike; the hand-entered ones keep what they were."""
    from kim.casework.services import record_appointment

    days = [date(Y, 3, 3), date(Y, 3, 4), date(Y, 3, 4)]
    with scope(district=world.district.pk):
        by_hand = [record_appointment(world.insider, {"kind": "other", "other_kind": "network", "date": day,
                                                      "duration_minutes": 120}) for day in days]
        audit_before = AuditEntry.objects.order_by("pk").last().pk
    run = do_import(world.insider, other_work(days))
    assert run.status == ImportRun.Status.DONE and run.summary["Termine"] == {"neu": 3}, problems(run)
    run = do_import(world.insider, other_work(days))  # the same file again: the same three, unchanged
    assert run.summary["Termine"] == {"unverändert": 3}, run.summary
    run = do_import(world.insider, other_work(days, minutes=50))  # corrected: the file's three change
    assert run.summary["Termine"] == {"geändert": 3}, run.summary
    with scope(district=world.district.pk):
        for appointment in by_hand:
            appointment.refresh_from_db()
            assert (appointment.duration_minutes, appointment.other_kind) == (120, "network")
        assert not AuditEntry.objects.filter(pk__gt=audit_before, object_type="casework.appointment",
                                             object_id__in=[str(a.pk) for a in by_hand]).exists()
        assert sorted(Appointment.objects.filter(case__isnull=True, case_manager=world.insider).values_list(
            "duration_minutes", flat=True)) == [50, 50, 50, 120, 120, 120]


def test_a_goal_entered_by_hand_is_not_taken_for_a_row_with_the_same_content(world, town):
    goal = world.goal
    data = workbook_bytes({"Ziele": [GOALS[0], [world.case.number, goal.category.label, goal.text,
                                                 f"{goal.agreed_on:%d.%m.%Y}", "erreicht", None]]})
    run = do_import(world.insider, data)
    assert run.status == ImportRun.Status.DONE and run.summary["Ziele"] == {"neu": 1}, problems(run)
    with scope(district=world.district.pk):
        goal.refresh_from_db()
        assert goal.status == "open"
        assert sorted(world.case.goals.values_list("status", flat=True)) == ["achieved", "open"]
    assert do_import(world.insider, data).summary["Ziele"] == {"unverändert": 1}


def test_a_consent_entered_by_hand_is_not_withdrawn_by_a_file(world, town):
    with scope(district=world.district.pk):
        consent = world.participant.consents.get()
    row = [world.participant.code, world.participant.first_name, world.participant.last_name,
           world.participant.birth_date, None, None, None, "Aue-Stadt", None, None, None, consent.given_on,
           TODAY - timedelta(days=1)]
    run = do_import(world.insider, workbook_bytes({"Teilnehmende": [PEOPLE[0], row]}), commit=True)
    assert any("ist in der Akte erfasst und wird durch eine Datei nicht geändert" in p for p in problems(run)), problems(run)
    with scope(district=world.district.pk):
        consent.refresh_from_db()
        assert consent.withdrawn_on is None and world.participant.consents.count() == 1
    row[-1] = None  # the same consent, not withdrawn: nothing to do, no second consent
    run = do_import(world.insider, workbook_bytes({"Teilnehmende": [PEOPLE[0], row]}))
    assert run.status == ImportRun.Status.DONE, problems(run)
    with scope(district=world.district.pk):
        assert world.participant.consents.count() == 1


def test_records_named_by_the_files_identifier_are_updated_and_an_identifier_twice_is_a_problem(world, town):
    header = ["Termin-Kennung", *APPOINTMENTS[0]]
    first = workbook_bytes({"Termine": [header, ["A-1", None, f"03.03.{Y}", "Sonstiger Termin", None, 45, None, None]]})
    assert do_import(world.insider, first).summary["Termine"] == {"neu": 1}
    moved = workbook_bytes({"Termine": [header, ["A-1", None, f"05.03.{Y}", "Sonstiger Termin", None, 60, None, None]]})
    run = do_import(world.insider, moved)
    assert run.summary["Termine"] == {"geändert": 1}, problems(run)
    with scope(district=world.district.pk):
        appointment = Appointment.objects.get(case__isnull=True, case_manager=world.insider)
        assert (appointment.date, appointment.duration_minutes) == (date(Y, 3, 5), 60)
    twice = workbook_bytes({"Termine": [header, *[["A-2", None, f"0{d}.03.{Y}", "Sonstiger Termin", None, 45, None, None]
                                                  for d in (6, 7)]]})
    assert "Termine:3:Termin-Kennung: Die Kennung „A-2“ steht schon in Zeile 2." in problems(
        do_import(world.insider, twice, commit=False))


def test_a_hand_kept_numbering_like_the_exports_names_no_record(world, town):
    """A case manager numbers her rows T-1, T-2 ...: an appointment entered by hand with that
    number stays as it is; the export's own number (KIM-T-n) does name it."""
    with scope(district=world.district.pk):
        by_hand = Appointment.objects.create(district=world.district, provider=world.provider,
                                             case_manager=world.insider, date=date(Y, 3, 1),
                                             kind=Appointment.Kind.OTHER, duration_minutes=30)
    header = ["Termin-Kennung", *APPOINTMENTS[0]]
    row = [None, f"03.03.{Y}", "Sonstiger Termin", None, 45, None, None]
    run = do_import(world.insider, workbook_bytes({"Termine": [header, [f"T-{by_hand.pk}", *row]]}))
    assert run.summary["Termine"] == {"neu": 1}, problems(run)
    run = do_import(world.insider, workbook_bytes({"Termine": [header, [f"KIM-T-{by_hand.pk}", *row]]}))
    assert run.summary["Termine"] == {"geändert": 1}, problems(run)
    with scope(district=world.district.pk):
        by_hand.refresh_from_db()
        assert (by_hand.date, by_hand.duration_minutes) == (date(Y, 3, 3), 45)


def test_a_colleagues_participant_code_in_a_file_makes_no_second_person(world, town):
    """The file names a person by the code a colleague's record has (second attack)."""
    with scopes_disabled():
        theirs = ParticipantFactory(responsible=world.colleague, first_name="Lina", last_name="Haddad")
    person = ["Kennung", "Vorname", "Nachname", "Geburtsdatum", "Kommune"]
    data = workbook_bytes({"Teilnehmende": [person, [theirs.code, "Lina", "Haddad", "01.02.1991", "Aue-Stadt"]]})
    for written in (theirs.code, theirs.code.lower(), theirs.code + "\u200b", theirs.code.replace("-", "\u2010"),
                    "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in theirs.code)):  # full-width
        data = workbook_bytes({"Teilnehmende": [person, [written, "Lina", "Haddad", "01.02.1991", "Aue-Stadt"]]})
        run = do_import(world.insider, data, commit=False)
        assert any("gehört bei Ihrem Träger zu einer Person, deren Akte Sie nicht sehen" in p for p in problems(run)), \
            (written, problems(run))


def test_a_participant_code_written_otherwise_names_the_same_person(world, town):
    code = world.participant.code
    person = ["Kennung", "Vorname", "Nachname", "Geburtsdatum", "Kommune"]
    row = ["Zarifa", "Qasimova", world.participant.birth_date, "Aue-Stadt"]
    run = do_import(world.insider, workbook_bytes({"Teilnehmende": [person, [code.lower(), *row]]}), commit=False)
    assert run.summary["Teilnehmende"]["schon vorhanden"] == 1, problems(run)
    twice = workbook_bytes({"Teilnehmende": [person, [code, *row], [code.lower(), *row]]})
    assert "Teilnehmende:3:Kennung: Die Kennung „%s“ nennt dieselbe Person wie Zeile 2." % code.lower() in problems(
        do_import(world.insider, twice, commit=False))


def test_a_colleagues_record_under_the_same_identifier_is_neither_found_nor_overwritten(world, town):
    header = ["Termin-Kennung", *APPOINTMENTS[0]]
    data = workbook_bytes({"Termine": [header, ["A-1", None, f"03.03.{Y}", "Sonstiger Termin", None, 45, None, None]]})
    assert do_import(world.colleague, data).status == ImportRun.Status.DONE
    run = do_import(world.insider, data, commit=False)
    assert any("gehört bei Ihrem Träger zu einem Datensatz, den Sie nicht sehen" in p for p in problems(run)), problems(run)


# ---------------------------------------------------------------- issue 9, item 20: the whole workbook

def test_the_other_parts_of_the_workbook_are_checked_row_by_row(world, town):
    case, opened = world.case.number, world.case.opened_on
    person = dict.fromkeys(SHEETS_["Teilnehmende"])
    person.update({"Kennung": world.participant.code, "Vorname": "Zarifa", "Nachname": "Qasimova", "Kommune": "Aue-Stadt",
                   "Geburtsdatum": world.participant.birth_date, "E-Mail": "keine-adresse"})
    person = list(person.values())
    data = workbook_bytes({
        "Teilnehmende": [SHEETS_["Teilnehmende"], person],
        "Assessments": [SHEETS_["Assessments"], ["A1", case, None, opened - timedelta(days=3), None, "früh", None],
                        ["A2", case, "Re-Assessment", opened + timedelta(days=9), "A9", None, "Niemand Bekanntes"]],
        "Lebensbereiche": [SHEETS_["Lebensbereiche"], ["A2", "Wohnen", "hoher Bedarf", None, None, None],
                           ["A2", "Wohnen", "2", None, None, None], ["A7", "Gesundheit", None, None, None, None]],
        "Maßnahmen": [SHEETS_["Maßnahmen"], ["M1", case, "Z-999999", "Antrag stellen", "Teilnehmende", None, None]],
        "Verweise": [SHEETS_["Verweise"], [None, case, "Jobcenter", opened - timedelta(days=1), None]],
    })
    found = problems(do_import(world.insider, data, commit=False))
    assert "Teilnehmende:2:E-Mail: „keine-adresse“ ist keine gültige E-Mail-Adresse." in found, found
    assert "Assessments:2:Datum: Das Assessment liegt vor dem Beginn des Falls." in found
    assert any(p.startswith("Assessments:3:vorheriges Assessment: Kein Assessment „A9“ dieses Falls") for p in found)
    assert any(p.startswith("Assessments:3:verfasst von: Unbekannter Wert „Niemand Bekanntes“") for p in found)
    assert "Lebensbereiche:3:Lebensbereich: Dieser Lebensbereich steht für das Assessment schon in Zeile 2." in found
    assert any(p.startswith("Lebensbereiche:4:Assessment-Kennung: Kein Assessment mit der Kennung „A7“") for p in found)
    assert any(p.startswith("Maßnahmen:2:Ziel-Kennung: Kein Ziel „Z-999999“ dieses Falls") for p in found)
    assert "Verweise:2:Datum: Der Verweis liegt vor dem Beginn des Falls." in found
    assert len(found) == 8, found


def test_a_case_manager_may_name_only_themselves_a_lead_their_providers_staff(world, town):
    rows = [SHEETS_["Fälle"], ["C7", world.participant.code, "Kurzberatung", None, None, None, f"{Y}-02-01", None, None,
                               None, None, world.colleague.username]]
    found = problems(do_import(world.insider, workbook_bytes({"Fälle": rows}), commit=False))
    assert any(p.startswith("Fälle:2:Case Manager*in: Unbekannter Wert „colleague“") for p in found), found
    run = do_import(world.lead, workbook_bytes({"Fälle": rows}))
    assert run.status == ImportRun.Status.DONE, problems(run)
    with scope(district=world.district.pk):
        assert Case.objects.get(external_id="C7").case_manager == world.colleague


def test_the_list_of_imports_says_who_uploaded_a_file_not_until_when(client, world, town):
    """Issue 9, item 23: the column after "Hochgeladen" read "bis" (msgid "by" of a due date)."""
    import re

    from django.urls import reverse

    with scope(district=world.district.pk):
        start_import(world.insider, filename="a.xlsx", data=standard_file())
    client.force_login(world.insider)
    page = client.get(reverse("exchange:imports")).content.decode()
    assert re.search(r">Hochgeladen</th><th[^>]*>von</th>", page), page


def test_the_plausibility_rules_of_case_work_hold_in_the_import(world, town):
    """The same rules as the page and the API (kim.casework.rules): no appointment before it took
    place or after its case closed, no consent before birth, no case opened before 2000 (1080 is no date at all for the file)."""
    tomorrow = TODAY + timedelta(days=1)
    data = standard_file({
        ("Termine", 1, "Datum"): tomorrow.strftime("%d.%m.%Y"),
        ("Termine", 3, "Datum"): f"{Y}-02-25",  # C2 ended on 20.02.
        ("Teilnehmende", 1, "Einwilligung am"): "01.01.1989",  # born 03.04.1990
        ("Fälle", 1, "Beginn"): "15.01.1995",
    })
    found = problems(do_import(world.insider, data, commit=False))
    assert "Termine:2:Datum: Ein Termin wird erfasst, wenn er stattgefunden hat: Das Datum liegt in der Zukunft." in found
    assert "Termine:4:Datum: Der Termin kann nicht nach dem Abschluss des Falls (20.02.%s) liegen." % Y in found
    assert any(p.startswith("Teilnehmende:2:Einwilligung am: Die Einwilligung kann nicht vor der Geburt") for p in found)
    assert "Fälle:2:Beginn: Bitte prüfen Sie das Datum: Es liegt vor 2000." in found


def test_the_dry_run_lists_people_whose_name_or_birth_date_the_file_changes(client, world, town):
    """A wrong identifier in a file would turn one person into another: before importing, the
    case manager sees each person on record whose identity the file changes (walkthrough)."""
    assert do_import(world.insider, workbook_bytes({"Teilnehmende": PEOPLE})).status == ImportRun.Status.DONE
    changed = [row[:] for row in PEOPLE]
    changed[1][2], changed[1][3] = "Rahimi-Karimi", "04.04.1990"
    run = do_import(world.insider, workbook_bytes({"Teilnehmende": changed}), commit=False)
    with scopes_disabled():
        code = Participant.objects.get(external_id="P1").code
    assert run.identity_changes == [
        {"row": 2, "code": code, "column": "Nachname", "before": "Rahimi", "after": "Rahimi-Karimi"},
        {"row": 2, "code": code, "column": "Geburtsdatum", "before": "03.04.1990", "after": "04.04.1990"}]
    client.force_login(world.insider)
    page = client.get(reverse("exchange:import-run", args=[run.pk])).content.decode()
    assert "Die Datei ändert Name oder Geburtsdatum erfasster Personen" in page and "Rahimi-Karimi" in page
    with scope(district=world.district.pk):
        done = run_import(run, commit=True)
    assert done.status == ImportRun.Status.DONE and done.identity_changes == []  # the audit log has them now
