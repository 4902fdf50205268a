"""Printing a bilingual document in a real browser: from the participant's page the case
manager opens the documents, first sends the form without a language (the German message,
nothing downloaded), then downloads the consent in Arabic and the goal agreement in Tigrinya.
axe-core on every page."""

import re
import subprocess

import pytest
from playwright.sync_api import expect

from kim.core.models import Role

from ..factories import CaseFactory, ConsentFactory, GoalFactory, ParticipantFactory, ProviderFactory, UserFactory, make_district
from .test_case_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def participant():
    district = make_district("Kreis Aue")
    provider = ProviderFactory(district=district, name="Caritas Aue", slug="caritas")
    manager = UserFactory(username="fallmanagerin", first_name="Lea", last_name="Berg", role=Role.CASE_MANAGER,
                          district=district, provider=provider)
    person = ParticipantFactory(responsible=manager, first_name="Zarifa", last_name="Qasimova")
    ConsentFactory(participant=person, released_categories=["identity"])
    case = CaseFactory(participant=person)
    GoalFactory(case=case, text="Einen Sprachkurs B1 finden")
    person.case = case
    return person


def pdf_text(download) -> str:
    return subprocess.run(["pdftotext", "-raw", download.path(), "-"], capture_output=True, check=True).stdout.decode()


def test_the_case_manager_prints_the_consent_in_arabic(page, auditor, participant):
    log_in(page, "fallmanagerin")
    page.goto(f"/fallarbeit/teilnehmende/{participant.pk}/")
    auditor.visit("documents-participant")
    page.get_by_role("link", name="Dokumente drucken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dokumente für die teilnehmende Person drucken")
    auditor.visit("documents-choose")

    page.get_by_label("Dokument").select_option(label="Einwilligung und Schweigepflichtentbindung")
    page.get_by_role("button", name="PDF herunterladen").click()
    expect(page.locator("#form-errors")).to_contain_text("Bitte wählen Sie die Sprache der teilnehmenden Person.")
    expect(page.get_by_label("Dokument")).to_have_value("consent")  # the choice is kept
    auditor.visit("documents-no-language")

    page.get_by_label("Zweite Sprache neben Deutsch").select_option("ar")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="PDF herunterladen").click()
    download = download_info.value
    assert download.suggested_filename == f"consent-{participant.code}-de-ar.pdf"
    text = pdf_text(download)
    assert "Qasimova" in text and re.search(r"[\u0600-\u06FF]", text) and "Schweigepflichtentbindung" in text

    # The form guards against a second sending for a few seconds (kim.js); a fresh page does not.
    page.goto(f"/dokumente/teilnehmende/{participant.pk}/")
    page.get_by_label("Dokument").select_option(
        label=f"Zielvereinbarung / Hilfeplan · {participant.case.number}")
    page.get_by_label("Zweite Sprache neben Deutsch").select_option("ti")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="PDF herunterladen").click()
    text = pdf_text(download_info.value)
    assert "Sprachkurs B1" in text and re.search(r"[\u1200-\u137F]", text)
