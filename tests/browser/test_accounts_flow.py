"""Accounts in a real browser: a provider lead makes a case manager (first with wrong input),
the district administrator finds it managed by the provider and can only switch it off; the
owner makes and revokes an API token. axe-core on every page; wrong input shows its message."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from kim.api.models import ApiToken
from kim.core.models import Role, User

from ..factories import ProviderFactory, UserFactory, make_district
from .test_case_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def district():
    district = make_district("Kreis Aue")
    provider = ProviderFactory(district=district, name="Diakonie Aue", slug="diakonie")
    UserFactory(username="leitung", first_name="Lea", last_name="Lang", role=Role.PROVIDER_LEAD,
                district=district, provider=provider)
    UserFactory(username="verwaltung", role=Role.DISTRICT_ADMIN, district=district)
    return district


def log_out(page):
    page.get_by_role("button", name="Abmelden").click()


def test_a_lead_makes_a_case_manager_and_the_administrator_can_only_switch_it_off(page, auditor, district):
    log_in(page, "leitung")
    page.get_by_role("link", name="Mitarbeitende").click()
    auditor.visit("accounts-lead-list")
    page.get_by_role("link", name="Neue*r Benutzer*in").click()
    expect(page.get_by_label("Rolle")).to_contain_text("Case Manager*in")
    expect(page.get_by_label("Rolle")).not_to_contain_text("Koordination")
    page.get_by_label("Benutzername").fill("neu")
    page.get_by_label("Vorname").fill("Nadia")
    page.get_by_label("Nachname").fill("Koch")
    page.get_by_label("Rolle").select_option(label="Case Manager*in")
    page.get_by_label("Startpasswort").fill("kurz")
    page.get_by_role("button", name="Speichern").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Passwort")
    expect(alert).to_be_focused()
    expect(page.get_by_label("Nachname")).to_have_value("Koch")  # the input is kept
    auditor.visit("accounts-lead-new-error")
    page.get_by_label("Startpasswort").fill("ein-langes-passwort-2026")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("cell", name="neu", exact=True)).to_be_visible()
    with scopes_disabled():
        account = User.objects.get(username="neu")
    assert account.role == Role.CASE_MANAGER and account.provider.slug == "diakonie"
    page.get_by_role("link", name="Nadia Koch").click()
    auditor.visit("accounts-lead-edit")
    log_out(page)

    log_in(page, "verwaltung")
    page.get_by_role("link", name="Benutzer").first.click()
    expect(page.get_by_role("row", name="Nadia Koch")).to_contain_text("verwaltet vom Träger")
    page.get_by_role("link", name="Nadia Koch").click()
    expect(page.get_by_role("textbox")).to_have_count(0)  # no form for this account
    auditor.visit("accounts-admin-summary")
    page.get_by_role("link", name="Konto deaktivieren").click()
    auditor.visit("accounts-admin-deactivate")
    page.get_by_role("button", name="Konto deaktivieren").click()
    expect(page.get_by_text("Das Konto ist deaktiviert")).to_be_visible()
    account.refresh_from_db()
    assert account.is_active is False


def test_the_owner_makes_and_revokes_a_token_and_sees_wrong_input(page, auditor, district):
    log_in(page, "leitung")
    page.get_by_role("link", name="API-Tokens").click()
    auditor.visit("tokens-empty")
    page.get_by_label("Wofür").fill("Jobcenter-Schnittstelle")
    page.get_by_label("Gültig für (Tage)").fill("400")
    page.get_by_role("button", name="Token anlegen").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Gültig für (Tage)")
    expect(page.get_by_label("Wofür")).to_have_value("Jobcenter-Schnittstelle")
    auditor.visit("tokens-error")
    page.get_by_label("Gültig für (Tage)").fill("30")
    page.get_by_role("button", name="Token anlegen").click()
    expect(page.locator("#new-token code")).to_contain_text("kim_")
    auditor.visit("tokens-new")
    page.get_by_role("button", name="Widerrufen Jobcenter-Schnittstelle").click()
    expect(page.get_by_role("cell", name="widerrufen")).to_be_visible()
    assert ApiToken.objects.get().revoked_at is not None
