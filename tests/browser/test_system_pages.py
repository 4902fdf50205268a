"""The demo district's system level in a real browser: every page of module 1 for the roles
that read it, with axe-core, and the unhappy path of the forms not in the chain test
(a vignette naming someone, a bad agreement document, a bad postcode, a forum without a date)."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from kim.demo import DEMO_PASSWORD, build_demo_district
from kim.system.models import Agreement, Measure, Meeting, Service, Theme, WorkingGroup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username):
    page.goto("/anmelden/")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()


@pytest.fixture
def demo():
    build_demo_district(size=0.05, seed=5)
    with scopes_disabled():
        return {"theme": Theme.objects.filter(status="implementing").first().pk,
                "meeting": Meeting.objects.order_by("held_on").first().pk,
                "group": WorkingGroup.objects.get(name="Projektgruppe DELFIN 4").pk,
                "measure": Measure.objects.exclude(indicator="").first().pk,
                "agreement": Agreement.objects.first().pk, "service": Service.objects.first().pk}


def pages_of(ids):
    return [
        "/", "/systemebene/", "/systemebene/themen/", f"/systemebene/themen/{ids['theme']}/",
        "/systemebene/fallrekonstruktionen/", "/systemebene/beteiligungsforen/", "/systemebene/lenkungsgruppe/",
        "/systemebene/sitzungen/", f"/systemebene/sitzungen/{ids['meeting']}/", "/systemebene/arbeitsgruppen/",
        f"/systemebene/arbeitsgruppen/{ids['group']}/", "/systemebene/massnahmen/",
        f"/systemebene/massnahmen/{ids['measure']}/", "/systemebene/vereinbarungen/",
        f"/systemebene/vereinbarungen/{ids['agreement']}/", "/systemebene/angebote/",
        f"/systemebene/angebote/{ids['service']}/", "/systemebene/angebote/druck/", "/berichte/R11/", "/berichte/R12/",
    ]


@pytest.mark.parametrize("username", ["koordination", "lenkungsgruppe"])
def test_every_page_of_the_system_level_passes_axe(page, auditor, demo, username):
    log_in(page, username)
    for number, url in enumerate(pages_of(demo)):
        response = page.goto(url)
        assert response.status == 200, url
        auditor.visit(f"system-{username}-{number}")


def test_case_managers_and_module_3_read_the_directory_and_their_groups(page, auditor, demo):
    log_in(page, "cm-kreis-1")
    page.get_by_role("navigation").get_by_role("link", name="Arbeitsgruppen").click()
    expect(page.get_by_role("link", name="Projektgruppe DELFIN 4")).to_be_visible()
    auditor.visit("system-cm-groups")
    page.get_by_role("link", name="Projektgruppe DELFIN 4").click()
    auditor.visit("system-cm-group")
    page.get_by_role("navigation").get_by_role("link", name="Angebotsübersicht").click()
    page.get_by_role("searchbox", name="Suche").fill("Kita")
    page.get_by_role("button", name="Suche").click()
    expect(page.get_by_role("link", name="Kita-Lotsen").first).to_be_visible()
    auditor.visit("system-cm-directory")
    assert page.goto("/systemebene/sitzungen/").status == 403


def test_forms_refuse_wrong_input_where_the_user_sees_it(page, auditor, demo):
    log_in(page, "koordination")
    page.goto("/systemebene/fallrekonstruktionen/neu/")
    page.locator("#id_held_on").fill("2025-05-12")
    page.locator("#id_focus").fill("Zielgruppe Südosteuropa")
    page.locator("#id_vignette").fill("Frau Nasser, geb. 03.04.1987, wartet auf einen Kitaplatz.")
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#form-errors")).to_contain_text("Der Text nennt eine*n Teilnehmende*n")
    expect(page.locator("#form-errors")).to_be_focused()
    expect(page.locator("#id_vignette")).to_have_value("Frau Nasser, geb. 03.04.1987, wartet auf einen Kitaplatz.")
    auditor.visit("system-reconstruction-refused")

    page.goto(f"/systemebene/vereinbarungen/{demo['agreement']}/bearbeiten/")
    page.locator("#id_upload").set_input_files(files=[{"name": "vereinbarung.pdf", "mimeType": "application/pdf",
                                                       "buffer": b"MZ this is not a pdf"}])
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#form-errors")).to_contain_text("kein PDF-Dokument")
    auditor.visit("system-agreement-refused")

    page.goto("/systemebene/angebote/neu/")
    page.locator("#id_name").fill("Sprechstunde")
    page.locator("#id_provider_name").fill("AWO")
    page.locator("#id_postcode").fill("4082")
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#form-errors")).to_contain_text("fünf Ziffern")
    expect(page.locator("#id_name")).to_have_value("Sprechstunde")
    auditor.visit("system-service-refused")

    page.goto("/systemebene/beteiligungsforen/neu/")
    page.locator("#id_participants").fill("25")
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#form-errors")).to_be_focused()
    expect(page.locator("#id_participants")).to_have_value("25")
    auditor.visit("system-forum-refused")
