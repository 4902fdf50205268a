"""The coordination flow in a real browser: key figures, a report with year-on-year columns
and its XLSX, a deadline, a committee paper rendered in the background and downloaded;
then the provider lead confirms the data. axe-core checks every page on the way."""

import io
import random
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scopes_disabled

from kim.core.models import Role

from ..factories import make_district
from ..report_data import make_org, random_records
from .test_case_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def district_with_figures():
    org = make_org(make_district("Kreis Aue"), municipalities=3, providers=2, managers_per_provider=3)
    with scopes_disabled():
        org.coordination.username = "koordination"
        org.coordination.role = Role.COORDINATION
        org.coordination.save()
        lead = org.leads[org.providers[0].pk]
        lead.username = "leitung"
        lead.save()
    random_records(org, random.Random(4), timezone.localdate().year - 1, 160)
    return org


def run_worker(monkeypatch):
    # The live server shares the test database connection; the worker must not recycle it.
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    call_command("db_worker", batch=True, verbosity=0)


def test_coordination_prepares_the_steering_group(page, auditor, district_with_figures, monkeypatch):
    from docx import Document
    from openpyxl import load_workbook

    last_year = timezone.localdate().year - 1
    log_in(page, "koordination")
    page.wait_for_url("**/berichte/uebersicht/")
    assert page.get_by_role("heading", name="Kennzahlen: Kreis Aue").is_visible()
    auditor.visit("reports-dashboard")

    page.get_by_role("link", name="Berichte", exact=True).click()
    auditor.visit("reports-index")
    page.get_by_role("link", name="R1 Termine des Case Managements").click()
    page.get_by_label("Mit dem Vorjahreszeitraum vergleichen").check()
    page.get_by_role("button", name="Anzeigen").click()
    page.wait_for_url("**compare=on**")
    table = page.locator("table.kim-report-table")
    assert table.locator("th", has_text=f"Anzahl {last_year - 1}").count() == 1
    shown_total = table.locator("tbody tr").first.locator("td").first.inner_text()
    auditor.visit("report-r1")

    with page.expect_download() as download:
        page.get_by_role("link", name="XLSX – R1").click()
    with open(download.value.path(), "rb") as file:
        sheet = load_workbook(io.BytesIO(file.read()))["R1"]
    values = [row for row in sheet.iter_rows(values_only=True) if row and row[0] == "Anzahl aller Termine"]
    assert values and f"{values[0][1]:,.0f}".replace(",", ".") == shown_total

    for report_id in ["R2", "R3", "R4", "R5", "R6", "R7", "R10", "R14", "R15"]:
        page.goto(f"/berichte/{report_id}/")
        auditor.visit(f"report-{report_id.lower()}")

    page.goto("/berichte/vollstaendigkeit/")
    page.get_by_role("link", name="Stichtag setzen").click()
    auditor.visit("deadline-new")
    page.get_by_label("Anlass").fill("Lenkungsgruppe 12/2026")
    page.get_by_label("Stichtag").fill(f"{timezone.localdate() + timedelta(days=30):%Y-%m-%d}")
    page.get_by_label("Jahr der Zahlen").fill(str(last_year))
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_url("**/berichte/vollstaendigkeit/")
    assert page.get_by_text("noch nicht bestätigt").count() == 2
    auditor.visit("completeness-coordination")
    # The state of the data comes after the page (reports:data-state), on the report and the key figures.
    page.goto("/berichte/R1/")
    page.locator("#data-state", has_text="Datenstand: Lenkungsgruppe 12/2026").wait_for()
    auditor.visit("report-r1-data-state")
    page.goto("/berichte/uebersicht/")
    page.locator("#data-state", has_text="0 von 2 Trägern haben ihre Daten bestätigt").wait_for()

    page.goto("/berichte/vorlagen/")
    auditor.visit("templates")
    page.goto("/berichte/sachstandsbericht/")
    auditor.visit("papers")
    page.get_by_role("link", name="Neuer Sachstandsbericht").click()
    page.get_by_label("Titel").fill(f"Sachstandsbericht KIM {last_year}")
    page.get_by_label("Jahr der Zahlen").fill(str(last_year))
    page.get_by_label("Stichtag").fill(f"{last_year}-12-31")
    page.get_by_label("Einleitung").fill("Das Kommunale Integrationsmanagement im Kreis Aue.")
    auditor.visit("paper-new")
    page.get_by_role("button", name="Speichern").click()
    auditor.visit("paper")
    page.get_by_role("button", name="Als Word erstellen (DOCX)").click()
    page.wait_for_url("**/sachstandsbericht/auftrag/**")
    assert page.locator("progress#job-progress").is_visible()
    auditor.visit("paper-job-waiting")
    run_worker(monkeypatch)
    download_link = page.get_by_role("link", name="Herunterladen")
    download_link.wait_for(timeout=15000)  # htmx polls every second
    auditor.visit("paper-job-done")
    with page.expect_download() as download:
        download_link.click()
    document = Document(download.value.path())
    text = "\n".join(p.text for p in document.paragraphs)
    assert f"Sachstandsbericht KIM {last_year}" in text and "Datenstand" in text
    assert len(document.tables) == 7

    page.get_by_role("button", name="Abmelden").click()
    log_in(page, "leitung")
    page.goto("/berichte/vollstaendigkeit/")
    auditor.visit("completeness-lead")
    page.get_by_role("button", name="Daten für diesen Stichtag bestätigen").click()
    page.wait_for_url("**/berichte/vollstaendigkeit/")
    assert page.get_by_text("bestätigt", exact=True).count() == 1
    page.goto("/berichte/uebersicht/")
    auditor.visit("reports-dashboard-lead")
