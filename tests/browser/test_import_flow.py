"""A case manager brings her Excel file in, in Chromium: upload, sheets and columns with
preview, dry run with problems, value mapping, import; axe-core on every step."""

from datetime import date

import pytest
from django_scopes import scopes_disabled
from openpyxl import Workbook

from kim.casework.models import Appointment, Case
from kim.core.models import Municipality, Role

from ..factories import ProviderFactory, UserFactory, make_district
from .test_case_flow import log_in
from .test_reports_flow import run_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
Y = date.today().year - 1


def hand_made_file(path):
    """Like a case manager's own file: a title row, own headers, a typo in a target group."""
    book = Workbook()
    people = book.active
    people.title = "Personen"
    people.append(["Meine Klientinnen 2025"])
    people.append(["Nr", "Vorname", "Name", "Geburtstag", "Wohnort", "Einwilligung"])
    people.append(["1", "Oksana", "Kovalenko", "12.03.1988", "Hilden", f"05.01.{Y}"])
    people.append(["2", "Amir", "Haddad", date(1979, 7, 1), "hilden", f"06.01.{Y}"])
    cases = book.create_sheet("Fälle")
    cases.append(["Fallnummer", "Teilnehmer-Nr", "Fallart", "Zielgruppe", "Zugang", "Fallbeginn"])
    cases.append(["A-1", "1", "Case Management", "Dldung/Gestattung", "Jobcenter", f"10.01.{Y}"])
    cases.append(["A-2", "2", "Kurzberatung", "§25a/b AufenthG", "Sozialamt", f"{Y}-01-12"])
    meetings = book.create_sheet("Termine")
    meetings.append(["Fallnummer", "Termin", "Dauer", "Thema"])
    meetings.append(["A-1", f"15.01.{Y}", "60", "Wohnen; Gesundheit"])
    meetings.append(["A-1", f"22.01.{Y}", "45,0", "Deutschkurse"])
    meetings.append(["A-2", f"20.01.{Y}", 30, "Arbeit und Ausbildung"])
    book.save(path)


def test_a_case_manager_imports_her_excel_file(page, auditor, monkeypatch, tmp_path):
    district = make_district("Kreis Aue")
    with scopes_disabled():
        Municipality.objects.create(district=district, name="Hilden")
    provider = ProviderFactory(district=district, name="Diakonie Aue", slug="diakonie")
    UserFactory(username="fallmanagerin", role=Role.CASE_MANAGER, district=district, provider=provider)
    path = tmp_path / "klientinnen.xlsx"
    hand_made_file(path)

    log_in(page, "fallmanagerin")
    page.goto("/daten/")
    page.get_by_role("link", name="Datei importieren").click()
    auditor.visit("import-upload")
    page.get_by_label("Datei (xlsx, xls, ods oder csv)").set_input_files(str(path))
    page.get_by_role("button", name="Hochladen und weiter").click()
    page.wait_for_url("**/daten/import/*/")
    # Sheets and columns were recognised from the headers; the preview shows the first rows.
    assert page.get_by_label("Blatt mit „Teilnehmende“").input_value() == "Personen"
    assert page.locator("#col-teilnehmende-0").input_value() == "Nr"
    assert page.locator("#col-falle-6").input_value() == "Fallbeginn"
    assert page.get_by_role("cell", name="Kovalenko").first.is_visible()
    auditor.visit("import-mapping")
    page.get_by_role("button", name="Spalten speichern und prüfen (Probelauf)").click()
    run_worker(monkeypatch)
    page.get_by_text("Die Prüfung hat 2 Probleme gefunden").wait_for(timeout=15000)
    assert page.get_by_role("cell", name="Unbekannter Wert „Dldung/Gestattung“ – meinten Sie „Duldung/Gestattung“?").is_visible()
    auditor.visit("import-problems")
    # The suggestion is preselected; "Jobcenter" is chosen by hand.
    page.get_by_label("„Jobcenter“ (Zugangsweg, 1-mal)").select_option("Agentur für Arbeit / Jobcenter")
    page.get_by_role("button", name="Werte speichern und erneut prüfen").click()
    run_worker(monkeypatch)
    page.get_by_text("Die Prüfung hat kein Problem gefunden.").wait_for(timeout=15000)
    auditor.visit("import-checked")
    page.get_by_role("button", name="Jetzt übernehmen").click()
    run_worker(monkeypatch)
    page.get_by_text("Übernommen. Die Datei selbst wurde gelöscht.").wait_for(timeout=15000)
    auditor.visit("import-done")
    with scopes_disabled():
        case = Case.objects.get(external_id="A-1")
        assert case.target_group.label == "Duldung/Gestattung" and case.referral_source.label.endswith("Jobcenter")
        assert sorted(Appointment.objects.filter(case=case).values_list("duration_minutes", flat=True)) == [45, 60]
    page.goto("/daten/import/")
    assert page.get_by_role("cell", name="klientinnen.xlsx").is_visible()
    auditor.visit("import-list")

    # The same file again, with a surname changed: before anything is imported, the dry run
    # shows the person on record whose name the file would change (walkthrough).
    from openpyxl import load_workbook

    book = load_workbook(path)
    book["Personen"]["C3"] = "Kovalenko-Schmidt"
    changed = tmp_path / "klientinnen-neu.xlsx"
    book.save(changed)
    page.goto("/daten/import/")
    page.get_by_label("Datei (xlsx, xls, ods oder csv)").set_input_files(str(changed))
    page.get_by_role("button", name="Hochladen und weiter").click()
    page.wait_for_url("**/daten/import/*/")
    page.get_by_role("button", name="Spalten speichern und prüfen (Probelauf)").click()
    run_worker(monkeypatch)
    warning = page.get_by_role("alert").filter(has_text="Die Datei ändert Name oder Geburtsdatum erfasster Personen")
    warning.wait_for(timeout=15000)
    changes = page.get_by_role("table", name="Änderungen von Name oder Geburtsdatum")
    assert changes.get_by_role("cell", name="Kovalenko-Schmidt").is_visible()
    assert changes.get_by_role("cell", name="Kovalenko", exact=True).is_visible()
    auditor.visit("import-identity-changes")
