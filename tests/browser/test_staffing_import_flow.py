"""Coordination brings Warendorf's staffing table in, in Chromium: from the staffing page to
the import, the example file under docs/ through sheets, columns, dry run and import, the
positions on the staffing page; and a file whose module and function disagree, whose German
problem is shown and from which nothing is written. axe-core on every step."""

from pathlib import Path

import pytest
from django_scopes import scopes_disabled
from openpyxl import Workbook

from kim.core.models import Role
from kim.staffing.models import Position

from ..factories import UserFactory, make_district
from .test_case_flow import log_in
from .test_reports_flow import run_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "beispiele" / "warendorf-2022-stellen.xlsx"


def upload(page, path):
    page.goto("/daten/import/")
    page.get_by_label("Datei (xlsx, xls, ods oder csv)").set_input_files(str(path))
    page.get_by_role("button", name="Hochladen und weiter").click()
    page.wait_for_url("**/daten/import/*/")


def test_coordination_imports_the_warendorf_staffing_table(page, auditor, monkeypatch, tmp_path):
    district = make_district("Kreis Warendorf")
    UserFactory(username="koordination", role=Role.COORDINATION, district=district)

    log_in(page, "koordination")
    page.goto("/stellen/")
    page.get_by_role("link", name="Stellen aus Excel importieren").click()
    page.wait_for_url("**/daten/import/")
    assert page.get_by_role("link", name="Leere Vorlage „Stellen“ herunterladen (XLSX)").is_visible()
    assert page.get_by_label("Wessen Fälle sind das?").count() == 0  # the district's positions are nobody's cases
    auditor.visit("staffing-import-upload")
    upload(page, EXAMPLE)
    # The sheet and its columns were recognised, below the title row of the district's table.
    assert page.get_by_label("Blatt mit „Stellen“").input_value() == "Stellen"
    assert page.locator("#col-stellen-2").input_value() == "Funktion"
    assert page.locator("#col-stellen-8").input_value() == "VZÄ noch nicht besetzt"
    assert page.get_by_role("cell", name="Case Management-KIM").is_visible()
    auditor.visit("staffing-import-mapping")
    page.get_by_role("button", name="Spalten speichern und prüfen (Probelauf)").click()
    run_worker(monkeypatch)
    page.get_by_text("Die Prüfung hat kein Problem gefunden.").wait_for(timeout=15000)
    with scopes_disabled():
        assert not Position.objects.exists()  # the dry run wrote nothing
    auditor.visit("staffing-import-checked")
    page.get_by_role("button", name="Jetzt übernehmen").click()
    run_worker(monkeypatch)
    page.get_by_text("Übernommen. Die Datei selbst wurde gelöscht.").wait_for(timeout=15000)
    auditor.visit("staffing-import-done")
    with scopes_disabled():
        assert Position.objects.filter(district=district).count() == 5
    page.goto("/stellen/?day=31.12.2022")
    assert page.get_by_role("link", name="Case Management – across municipalities").or_(
        page.get_by_role("link", name="Case Management – kommunenübergreifend")).first.is_visible()
    auditor.visit("staffing-after-import")

    # Unhappy path: module 1 with case management; the German problem is shown, nothing written.
    book = Workbook()
    sheet = book.active
    sheet.title = "Stellen"
    sheet.append(["Modul", "Funktion", "VZÄ bewilligt", "VZÄ besetzt", "Stichtag"])
    sheet.append(["Modul 1", "Case Management", "1,0", "0,5", "31.12.2023"])
    bad = tmp_path / "stellen-falsch.xlsx"
    book.save(bad)
    upload(page, bad)
    page.get_by_role("button", name="Spalten speichern und prüfen (Probelauf)").click()
    run_worker(monkeypatch)
    page.get_by_text("Die Prüfung hat 1 Problem gefunden").wait_for(timeout=15000)
    assert page.get_by_role("cell", name="„Case Management“ gehört zu Modul 2, nicht zu Modul 1.").is_visible()
    assert page.get_by_role("button", name="Jetzt übernehmen").count() == 0
    auditor.visit("staffing-import-problem")
    with scopes_disabled():
        assert Position.objects.filter(district=district).count() == 5
