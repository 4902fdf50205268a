"""Restriction of processing (Art. 18 GDPR) in a real browser: the provider lead first sends
the form without a reason (the German message where the lead sees it, nothing restricted),
then restricts; the banner appears and the edit buttons are gone, for the lead and for the
case manager, on the participant's page and the case page; the lead lifts it again. axe-core
on every page."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from kim.casework.models import Participant
from kim.core.models import Role

from ..factories import CaseFactory, ConsentFactory, ParticipantFactory, ProviderFactory, UserFactory, make_district
from .test_case_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def record():
    district = make_district("Kreis Aue")
    provider = ProviderFactory(district=district, name="Caritas Aue", slug="caritas")
    manager = UserFactory(username="fallmanagerin", first_name="Lea", last_name="Berg", role=Role.CASE_MANAGER,
                          district=district, provider=provider)
    UserFactory(username="leitung", first_name="Uta", last_name="Kern", role=Role.PROVIDER_LEAD, district=district,
                provider=provider)
    participant = ParticipantFactory(responsible=manager, first_name="Zarifa", last_name="Qasimova")
    ConsentFactory(participant=participant)
    case = CaseFactory(participant=participant, case_manager=manager)
    return participant, case


def stored(participant):
    with scopes_disabled():
        return Participant.objects.get(pk=participant.pk)


def test_the_lead_restricts_the_banner_shows_and_the_edit_buttons_are_gone(page, auditor, record):
    participant, case = record
    log_in(page, "leitung")
    page.goto(f"/fallarbeit/teilnehmende/{participant.pk}/")
    expect(page.get_by_role("link", name="Bearbeiten")).to_be_visible()
    auditor.visit("restriction-participant-before")

    page.get_by_role("button", name="Verarbeitung einschränken").click()
    expect(page.locator("#form-errors")).to_contain_text("Bitte geben Sie den Grund der Einschränkung an.")
    expect(page.get_by_label("Grund der Einschränkung")).to_be_visible()
    assert stored(participant).restricted_on is None
    auditor.visit("restriction-refused-without-reason")

    page.get_by_label("Grund der Einschränkung").fill("Die Person bestreitet die Richtigkeit ihrer Anschrift.")
    page.get_by_role("button", name="Verarbeitung einschränken").click()
    banner = page.locator("#restriction-banner")
    expect(banner).to_contain_text("Verarbeitung eingeschränkt seit")
    expect(banner).to_contain_text("Grund: Die Person bestreitet die Richtigkeit ihrer Anschrift.")
    expect(page.get_by_role("link", name="Bearbeiten")).to_have_count(0)
    expect(page.get_by_role("link", name="Fall eröffnen")).to_have_count(0)
    expect(page.get_by_role("button", name="Einschränkung aufheben")).to_be_visible()
    assert stored(participant).restricted_on is not None
    auditor.visit("restriction-participant-restricted")

    page.goto(f"/fallarbeit/fall/{case.pk}/")
    expect(page.locator("#restriction-banner")).to_be_visible()
    expect(page.get_by_role("link", name="Bearbeiten")).to_have_count(0)
    expect(page.get_by_role("link", name="Fall abschließen")).to_have_count(0)
    auditor.visit("restriction-case-restricted")

    page.goto(f"/fallarbeit/teilnehmende/{participant.pk}/")
    page.get_by_role("button", name="Einschränkung aufheben").click()
    expect(page.locator("#restriction-banner")).to_have_count(0)
    expect(page.get_by_role("link", name="Bearbeiten")).to_be_visible()
    assert stored(participant).restricted_on is None
    auditor.visit("restriction-lifted")


def test_the_case_manager_sees_the_banner_but_no_form_and_no_edit(page, auditor, record):
    from kim.privacy.restriction import restrict

    participant, case = record
    with scopes_disabled():
        lead = type(participant.responsible).objects.get(username="leitung")
        restrict(lead, participant, "Widerspruch gegen die Verarbeitung")
    log_in(page, "fallmanagerin")
    page.goto(f"/fallarbeit/teilnehmende/{participant.pk}/")
    expect(page.locator("#restriction-banner")).to_contain_text("Grund: Widerspruch gegen die Verarbeitung")
    expect(page.get_by_role("link", name="Bearbeiten")).to_have_count(0)
    expect(page.get_by_role("button", name="Verarbeitung einschränken")).to_have_count(0)
    expect(page.get_by_role("button", name="Einschränkung aufheben")).to_have_count(0)
    auditor.visit("restriction-case-manager")
    page.goto(f"/fallarbeit/teilnehmende/{participant.pk}/bearbeiten/")  # typed in by hand
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#form-errors")).to_contain_text("Die Verarbeitung dieses Datensatzes ist eingeschränkt")
    auditor.visit("restriction-edit-refused")
