"""Staffing in a real browser: the coordination records a case-management position and its
holder (each form first sent wrong: the German message where the user sees it, the input
kept), R8 and R10 show the new FTE, the funding page the grant; the case manager sees the
caseload key from the post and the time split on "Meine Fälle". axe-core on every page."""

from datetime import date

import pytest
from playwright.sync_api import expect

from kim.core.models import Role

from ..factories import ProviderFactory, UserFactory, make_district
from .test_case_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def district():
    district = make_district("Kreis Aue")
    provider = ProviderFactory(district=district, name="Caritas Aue", slug="caritas")
    UserFactory(username="fallmanagerin", first_name="Lea", last_name="Berg", role=Role.CASE_MANAGER,
                district=district, provider=provider)
    UserFactory(username="koordination", role=Role.COORDINATION, district=district)
    return district


def test_a_position_and_its_holder_change_r8_and_r10(page, auditor, district):
    year = date.today().year
    log_in(page, "koordination")
    page.get_by_role("navigation").get_by_role("link", name="Stellen und Förderung").click()
    auditor.visit("staffing-index-empty")
    page.get_by_role("link", name="Neue Stelle").click()
    page.get_by_label("Funktion").select_option(label="Case Management")
    page.get_by_label("Anstellungsträger").select_option(label="Caritas Aue")
    page.get_by_label("Mittel weitergeleitet an").select_option(label="Caritas Aue")
    fte = page.get_by_label("VZÄ bewilligt")
    fte.fill("0")
    page.get_by_label("bewilligt ab").fill(f"{year - 1}-01-01")
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#form-errors")).to_contain_text("Mindestens 0,01 VZÄ")
    expect(page.locator("#form-errors")).to_be_focused()
    expect(page.get_by_label("bewilligt ab")).to_have_value(f"{year - 1}-01-01")  # nothing lost
    auditor.visit("staffing-position-refused")
    fte.fill("0.75")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Case Management")
    auditor.visit("staffing-position")

    page.get_by_role("link", name="Neue Besetzung").click()
    page.get_by_label("Person (Konto)").select_option(label="Lea Berg (Caritas Aue, Case Manager*in)")
    page.get_by_label("VZÄ besetzt").fill("1")
    page.get_by_label("von").fill(f"{year - 1}-01-01")
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#form-errors")).to_contain_text("mehr als die bewilligten 0,75 VZÄ")
    expect(page.get_by_label("Person (Konto)")).to_have_value(page.get_by_label("Person (Konto)").input_value())
    auditor.visit("staffing-filling-refused")
    page.get_by_label("VZÄ besetzt").fill("0.75")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("cell", name="Lea Berg")).to_be_visible()
    auditor.visit("staffing-position-filled")

    page.goto(f"/berichte/R8/?reference_date={year - 1}-12-31&year={year - 1}")
    row = page.get_by_role("row", name="Case Management").first
    expect(row).to_contain_text("0,75")
    auditor.visit("staffing-r8")
    page.goto(f"/berichte/R10/?reference_date={year - 1}-12-31&year={year - 1}")
    expect(page.get_by_role("row", name="Caritas Aue")).to_contain_text("0,75")
    auditor.visit("staffing-r10")
    page.goto(f"/stellen/foerderung/?year={year - 1}")
    expect(page.get_by_role("heading", level=2, name="Modul 2")).to_contain_text("41.250,00")  # 0,75 × 55.000
    expect(page.locator("main")).to_contain_text("Caritas Aue: 41.250,00 EUR")  # passed on
    auditor.visit("staffing-funding")

    page.goto("/stellen/saetze/")
    auditor.visit("staffing-rates")
    page.get_by_role("link", name="Neuer Satz des Kreises").click()
    page.get_by_label("Ausgabenart").select_option(label="Pauschale für Veranstaltungsformate")
    page.get_by_label("Funktion").select_option(label="Koordination")
    page.get_by_label("Betrag (EUR)").fill("8000")
    page.get_by_label("Quelle").fill("Zuwendungsbescheid vom 20.01.")
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#form-errors")).to_contain_text("eine Pauschale nennt keine")
    expect(page.get_by_label("Quelle")).to_have_value("Zuwendungsbescheid vom 20.01.")
    auditor.visit("staffing-rate-refused")
    page.get_by_label("Funktion").select_option(index=0)
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("main")).to_contain_text("Zuwendungsbescheid vom 20.01. (eigener Satz des Kreises)")
    page.get_by_role("button", name="Abmelden").click()

    log_in(page, "fallmanagerin")
    expect(page.locator("main")).to_contain_text("bei 0,75 VZÄ sind das 20 Fälle")
    expect(page.locator("main")).to_contain_text("Zeitanteile in diesem Jahr")
    auditor.visit("staffing-my-cases")
