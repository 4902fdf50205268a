"""Module 1 in a real browser: a case manager reports a need (first naming her participant,
which the guard refuses with the input kept), the coordination finds it in its list and merges
it into a theme (first without choosing one), puts the theme on a meeting's agenda, records
the decision, creates a measure with an effect indicator, and the theme page shows the chain.
Every form is first sent wrong; axe-core on every page."""

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from kim.core.models import Role
from kim.system import services

from ..factories import ParticipantFactory, ProviderFactory, UserFactory, make_district
from .test_case_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def district():
    district = make_district("Kreis Aue")
    provider = ProviderFactory(district=district, name="Diakonie Aue", slug="diakonie")
    manager = UserFactory(username="fallmanagerin", role=Role.CASE_MANAGER, district=district, provider=provider)
    coordination = UserFactory(username="koordination", role=Role.COORDINATION, district=district)
    ParticipantFactory(responsible=manager, first_name="Amira", last_name="Nasser")
    with scope(district=district.pk):
        services.create_theme(coordination, {"title": "Sprachförderung vor der Einschulung"})
    return district


def test_a_need_goes_from_case_work_to_a_theme(page, auditor, district):
    log_in(page, "fallmanagerin")
    page.get_by_role("navigation").get_by_role("link", name="Bedarfsmeldungen").click()
    auditor.visit("system-my-need-reports-empty")
    page.get_by_role("link", name="Bedarf melden").click()
    challenge = page.get_by_label("Herausforderung")
    challenge.fill("Frau Nasser findet für ihr Kind keinen Sprachkurs.")
    page.get_by_label("Kinder- und Jugendhilfe (SGB VIII)").check()
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#form-errors")).to_contain_text("Der Text nennt eine*n Teilnehmende*n")
    expect(page.locator("#form-errors")).to_be_focused()
    expect(challenge).to_have_value("Frau Nasser findet für ihr Kind keinen Sprachkurs.")  # nothing lost
    auditor.visit("system-need-report-refused")
    challenge.fill("Kinder mit schlechtem Sprachtest finden vor der Einschulung keinen Sprachkurs.")
    page.get_by_label("Wie oft beobachtet").select_option(label="häufig")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("status").or_(page.locator(".kern-alert--success"))).to_contain_text(
        "an die Koordination gesendet")
    expect(page.get_by_role("cell", name="gemeldet", exact=True)).to_be_visible()
    auditor.visit("system-my-need-reports")
    page.get_by_role("button", name="Abmelden").click()

    log_in(page, "koordination")
    page.get_by_role("navigation").get_by_role("link", name="Bedarfsmeldungen").click()
    auditor.visit("system-inbox")
    page.get_by_role("link", name="B-").first.click()
    page.get_by_label("Bearbeitung der Meldung").select_option(label="in ein Thema übernommen")
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#form-errors")).to_contain_text("Bitte wählen Sie das Thema")
    auditor.visit("system-triage-refused")
    page.locator("#id_theme").select_option(label="Sprachförderung vor der Einschulung")  # "Thema – optional"
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("cell", name="in ein Thema übernommen: Sprachförderung vor der Einschulung")).to_be_visible()
    auditor.visit("system-inbox-triaged")
    # The theme page shows the report as evidence, without the case it came from.
    page.get_by_role("navigation").get_by_role("link", name="Systemebene").click()
    auditor.visit("system-index")
    page.get_by_role("main").get_by_role("link", name="Generative Themen").first.click()
    auditor.visit("system-themes")
    page.get_by_role("link", name="Sprachförderung vor der Einschulung").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sprachförderung vor der Einschulung")
    expect(page.get_by_text("Kinder mit schlechtem Sprachtest")).to_be_visible()
    auditor.visit("system-theme")
    page.get_by_role("link", name="Bearbeiten").click()
    page.get_by_label("Status").select_option(label="nicht zustande gekommen")
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#form-errors")).to_contain_text("nicht zustande kam")
    auditor.visit("system-theme-refused")
    meeting_decides_and_a_measure_follows(page, auditor)


def meeting_decides_and_a_measure_follows(page, auditor):
    page.get_by_role("navigation").get_by_role("link", name="Systemebene").click()
    page.get_by_role("main").get_by_role("link", name="Sitzungen der Lenkungsgruppe").click()
    auditor.visit("system-meetings-empty")
    page.get_by_role("link", name="Neue Sitzung").click()
    page.locator("#id_location").fill("Kreishaus")
    page.get_by_role("button", name="Speichern").click()  # no date
    expect(page.locator("#form-errors")).to_be_focused()
    expect(page.locator("#id_location")).to_have_value("Kreishaus")
    auditor.visit("system-meeting-refused")
    page.locator("#id_held_on").fill("2025-03-20")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lenkungsgruppe am 20.03.2025")
    auditor.visit("system-meeting")

    page.get_by_role("link", name="Neuer Tagesordnungspunkt").click()
    page.get_by_role("button", name="Speichern").click()  # neither theme nor title
    expect(page.locator("#form-errors")).to_contain_text("Ein Tagesordnungspunkt ist ein Thema oder hat einen Titel")
    auditor.visit("system-agenda-refused")
    page.locator("#id_theme").select_option(label="Sprachförderung vor der Einschulung")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("main").get_by_role("link", name="Sprachförderung vor der Einschulung")).to_be_visible()

    page.get_by_role("link", name="Neuer Beschluss").click()
    page.locator("#id_theme").select_option(label="Sprachförderung vor der Einschulung")
    page.locator("#id_text").fill("Die Projektgruppe DELFIN 4 wird eingerichtet.")
    page.locator("#id_mode").select_option(label="Abstimmung")
    page.get_by_role("button", name="Speichern").click()  # a vote without votes
    expect(page.locator("#form-errors")).to_contain_text("Ja-Stimmen")
    expect(page.locator("#id_text")).to_have_value("Die Projektgruppe DELFIN 4 wird eingerichtet.")
    auditor.visit("system-decision-refused")
    page.locator("#id_votes_for").fill("7")
    page.locator("#id_follow_up").select_option(label="eine Maßnahme")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_text("Die Projektgruppe DELFIN 4 wird eingerichtet.")).to_be_visible()
    auditor.visit("system-meeting-decided")

    page.get_by_role("navigation").get_by_role("link", name="Systemebene").click()
    page.get_by_role("main").get_by_role("link", name="Maßnahmen").first.click()
    page.get_by_role("link", name="Neue Maßnahme").click()
    page.locator("#id_title").fill("Sprachförderkräfte in Kitas")
    page.locator("#id_decision").select_option(index=1)
    page.locator("#id_indicator").select_option(label="R2 Häufigste Themen in der Beratung: Kinderbetreuung")
    page.get_by_role("button", name="Speichern").click()  # no owner, no start
    expect(page.locator("#form-errors")).to_be_focused()
    expect(page.locator("#id_title")).to_have_value("Sprachförderkräfte in Kitas")
    auditor.visit("system-measure-refused")
    page.locator("#id_owner").fill("Jugendamt")
    page.locator("#id_starts_on").fill("2024-02-01")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("heading", name="Wirkung")).to_be_visible()
    expect(page.get_by_role("row", name="vorher: 2023")).to_be_visible()
    auditor.visit("system-measure")

    page.get_by_role("navigation").get_by_role("link", name="Systemebene").click()
    page.get_by_role("main").get_by_role("link", name="Generative Themen").first.click()
    page.get_by_role("link", name="Sprachförderung vor der Einschulung").click()
    main = page.get_by_role("main")
    expect(main).to_contain_text("Kinder mit schlechtem Sprachtest")  # evidence
    expect(main).to_contain_text("Beschluss vom 20.03.2025")  # decision
    expect(main.get_by_role("link", name="Sprachförderkräfte in Kitas")).to_be_visible()  # measure
    expect(main.get_by_role("heading", name="Sprachförderkräfte in Kitas: R2 Häufigste Themen in der Beratung: Kinderbetreuung")
           ).to_be_visible()  # effect
    auditor.visit("system-theme-chain")
