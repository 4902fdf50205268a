"""A case manager's whole day in a real browser: log in, create a participant with consent,
open a case-management case, assess, agree two goals, record three appointments, re-assess
and close. axe-core checks every page of the flow: no serious or critical violation."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from kim.casework.models import Appointment, Case, Goal, Participant
from kim.core.models import AuditEntry, Municipality, Role

from ..factories import PASSWORD, ProviderFactory, UserFactory, make_district

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def case_manager():
    district = make_district("Kreis Aue")
    with scopes_disabled():
        for town in ("Hilden", "Velbert"):
            Municipality.objects.create(district=district, name=town)
    provider = ProviderFactory(district=district, name="Caritasverband Aue", slug="caritas")
    return UserFactory(username="fallmanagerin", first_name="Anna", last_name="Becker",
                       role=Role.CASE_MANAGER, district=district, provider=provider)


def log_in(page, username):
    page.goto("/anmelden/")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()


def record_appointment(page, number, minutes, topic):
    """Quick entry on the case page; htmx replaces only the appointment panel."""
    panel = page.locator("#appointments")
    if panel.locator("details").get_attribute("open") is None:
        panel.get_by_text("Termin erfassen").click()
    panel.get_by_label("Dauer (Minuten)").fill(str(minutes))
    panel.get_by_label(topic).check()
    panel.get_by_label("Dauer (Minuten)").press("Enter")  # keyboard only
    expect(page.locator("#appointments tbody tr")).to_have_count(number)
    expect(page.locator("#appointments .kern-alert--success")).to_contain_text("Der Termin wurde erfasst.")
    expect(page.locator("#appointments tbody tr").first).to_contain_text(f"{minutes} {topic}")


def test_case_manager_completes_the_case_management_cycle(page, auditor, case_manager):
    today = timezone.localdate()
    log_in(page, "wrong-user")  # a failed login shows a German message, no lock yet
    expect(page.locator("#form-errors")).to_contain_text("Bitte korrigieren")
    auditor.visit("login")
    log_in(page, "fallmanagerin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Meine Fälle")
    auditor.visit("my-cases-empty")

    page.get_by_role("link", name="Neue*r Teilnehmende*r").click()
    page.get_by_label("Vorname").fill("Amal")
    page.get_by_label("Nachname").fill("Haddad")
    page.get_by_label("Geburtsdatum").fill("1988-03-14")
    page.get_by_label("Kommune").select_option(label="Hilden")
    page.get_by_label("Staatsangehörigkeiten").fill("syrisch")
    page.get_by_label("Einwilligung erteilt am").fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("Jobcenter").check()
    auditor.visit("participant-new")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Amal Haddad")
    auditor.visit("participant")

    page.get_by_role("link", name="Fall eröffnen").click()
    page.get_by_label("Zielgruppe").select_option(label="Duldung/Gestattung")
    page.get_by_label("Zugangsweg").select_option(label="Agentur für Arbeit / Jobcenter")
    auditor.visit("case-new")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Case Management F-")
    auditor.visit("case-intake")

    page.get_by_role("button", name="Erstgespräch erledigt: Assessment beginnen").click()
    page.get_by_role("link", name="Assessment erfassen").click()
    language = page.locator("fieldset", has=page.locator("legend", has_text="Sprache"))
    language.get_by_label("Bedarf").select_option(label="hoher Bedarf")
    language.get_by_label("Situation").fill("Spricht kaum Deutsch, kein Kursplatz.")
    housing = page.locator("fieldset", has=page.locator("legend", has_text="Wohnen"))
    housing.get_by_label("Bedarf").select_option(label="mittlerer Bedarf")
    auditor.visit("assessment")
    page.get_by_role("button", name="Assessment speichern").click()
    expect(page.locator(".kim-phases__step--current")).to_contain_text("Zielvereinbarung")

    page.get_by_role("link", name="Ziel vereinbaren").first.click()
    page.get_by_label("Zielkategorie").select_option(label="Unterstützung bei der Sprachkurssuche")
    page.get_by_label("Ziel", exact=True).fill("Platz im Integrationskurs B1")
    auditor.visit("goal-new")
    page.get_by_role("button", name="Speichern und weiteres Ziel vereinbaren").click()
    page.get_by_label("Zielkategorie").select_option(label="Unterstützung Wohnungssuche")
    page.get_by_label("Ziel", exact=True).fill("Wohnberechtigungsschein beantragen")
    page.get_by_role("button", name="Speichern", exact=True).click()
    page.get_by_role("button", name="Zielvereinbarung erledigt: Umsetzung beginnen").click()
    expect(page.locator(".kim-phases__step--current")).to_contain_text("Umsetzung")

    record_appointment(page, 1, 60, "Deutschkurse")
    record_appointment(page, 2, 45, "Wohnen")
    record_appointment(page, 3, 90, "Lebensunterhalt")
    auditor.visit("case")

    page.get_by_role("button", name="Re-Assessment beginnen").click()
    page.get_by_role("link", name="Re-Assessment erfassen").click()
    language = page.locator("fieldset", has=page.locator("legend", has_text="Sprache"))
    expect(language.get_by_label("Bedarf")).to_have_value("3")  # the previous assessment, for comparison
    language.get_by_label("Bedarf").select_option(label="geringer Bedarf")
    auditor.visit("reassessment")
    page.get_by_role("button", name="Assessment speichern").click()
    page.get_by_role("link", name=re.compile("Re-Assessment vom")).click()
    expect(page.locator("table")).to_contain_text("hoher Bedarf")
    auditor.visit("reassessment-compare")
    page.go_back()

    page.get_by_role("link", name=re.compile("ändern Platz im Integrationskurs")).click()
    page.get_by_label("Status").select_option(label="erreicht")
    auditor.visit("goal-status")
    page.get_by_role("button", name="Speichern").click()

    page.get_by_role("link", name="Fall abschließen").click()
    page.get_by_label("Abschlussgrund").select_option(label="Ziele erreicht")
    expect(page.get_by_text("Noch offen: Wohnberechtigungsschein beantragen.")).to_be_visible()
    page.get_by_label("Ergebnis der noch offenen Ziele").select_option(label="teilweise erreicht")
    auditor.visit("case-close")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("status").first).to_contain_text("Der Fall wurde abgeschlossen.")
    auditor.visit("case-closed")
    page.get_by_role("link", name="Meine Fälle").click()
    auditor.visit("my-cases")

    with scopes_disabled():
        case = Case.objects.get(participant__last_name="Haddad")
        assert case.closed_on == today and case.phase == "closed"
        assert Appointment.objects.filter(case=case).count() == 3
        assert sorted(Goal.objects.filter(case=case).values_list("status", flat=True)) == ["achieved", "partly_achieved"]
        assert case.assessments.count() == 2
        assert AuditEntry.objects.filter(actor=case_manager, action="read",
                                         object_label=Participant.objects.get().code).exists()
