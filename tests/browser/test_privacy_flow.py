"""Erasure and retention in a real browser: the provider lead asks for an erasure (first
without reason and with a wrong code: the German messages where the user sees them, the input
kept), the participant page says when it will be carried out, the lead cancels; the district
administrator sets a period out of bounds (refused, shown) and within. axe-core on every page."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from kim.core.models import Role
from kim.privacy.models import Erasure, RetentionPeriod

from ..factories import CaseFactory, ParticipantFactory, ProviderFactory, UserFactory, make_district
from .test_case_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def participant():
    district = make_district("Kreis Aue")
    provider = ProviderFactory(district=district, name="Caritas Aue", slug="caritas")
    manager = UserFactory(username="fallmanagerin", role=Role.CASE_MANAGER, district=district, provider=provider)
    UserFactory(username="leitung", role=Role.PROVIDER_LEAD, district=district, provider=provider)
    UserFactory(username="verwaltung", role=Role.DISTRICT_ADMIN, district=district)
    person = ParticipantFactory(responsible=manager, first_name="Yusra", last_name="Qarawi")
    CaseFactory(participant=person)
    return person


def test_the_lead_requests_an_erasure_and_cancels_it(page, auditor, participant):
    log_in(page, "leitung")
    page.goto(f"/fallarbeit/teilnehmende/{participant.pk}/")
    page.get_by_role("link", name="Löschung beantragen").click()
    auditor.visit("privacy-erasure-form")
    page.get_by_label("Kennung der teilnehmenden Person, zur Bestätigung").fill("TN-FALSCH")
    page.get_by_role("button", name="Löschung beantragen").click()
    errors = page.locator("#form-errors")
    expect(errors).to_contain_text("Grund")
    expect(page.locator("main")).to_contain_text(f"Geben Sie die Kennung {participant.code}")
    expect(page.get_by_label("Kennung der teilnehmenden Person, zur Bestätigung")).to_have_value("TN-FALSCH")
    auditor.visit("privacy-erasure-refused")
    with scopes_disabled():
        assert not Erasure.objects.exists()

    page.get_by_label("Grund").fill("Antrag der Person vom 1. Dezember")
    page.get_by_label("Kennung der teilnehmenden Person, zur Bestätigung").fill(participant.code)
    page.get_by_role("button", name="Löschung beantragen").click()
    due = (timezone.localdate() + timedelta(days=90)).strftime("%d.%m.%Y")
    expect(page.locator("main")).to_contain_text(f"Der Datensatz wird am {due} gelöscht")
    auditor.visit("privacy-erasure-pending")

    page.get_by_role("navigation").get_by_role("link", name="Datenschutz").click()
    expect(page.get_by_role("cell", name=participant.code)).to_be_visible()
    auditor.visit("privacy-index-lead")
    page.get_by_role("link", name=participant.code).click()
    page.get_by_role("button", name="Löschung zurücknehmen").click()
    expect(page.locator("main")).to_contain_text("Die Löschung wurde zurückgenommen")
    expect(page.get_by_role("link", name="Löschung beantragen")).to_be_visible()
    with scopes_disabled():
        assert Erasure.objects.get().status == Erasure.Status.CANCELLED


def test_the_case_manager_sees_no_erasure_form(page, auditor, participant):
    log_in(page, "fallmanagerin")
    page.goto(f"/fallarbeit/teilnehmende/{participant.pk}/")
    expect(page.locator("main")).to_contain_text("Die Löschung beantragt die Leitung des Trägers.")
    response = page.goto(f"/datenschutz/teilnehmende/{participant.pk}/loeschung/")
    assert response.status == 403


def test_the_administrator_sets_the_periods(page, auditor, participant):
    log_in(page, "verwaltung")
    page.get_by_role("navigation").get_by_role("link", name="Datenschutz").click()
    auditor.visit("privacy-index-admin")
    field = page.get_by_label("Falldaten des Case Managements (Monate)")
    field.fill("200")
    page.get_by_role("button", name="Fristen speichern").click()
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.locator("main")).to_contain_text("kleiner oder gleich 120")
    expect(field).to_have_value("200")
    auditor.visit("privacy-periods-refused")
    field.fill("48")
    page.get_by_role("button", name="Fristen speichern").click()
    expect(page.locator("main")).to_contain_text("Die Löschfristen wurden gespeichert.")
    with scopes_disabled():
        assert RetentionPeriod.objects.get(deletion_class="case_data").period == 48
