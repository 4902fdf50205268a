"""Module 3 in a real browser: the foreigners' office records a procedure (first with the
decision before the receipt, which is refused in German with the input kept), sees it in its
list and the §104c pipeline; a case manager sees the §104c warning on "Meine Fälle" and on the
case page. axe-core on every page."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from kim.casework.models import Participant, add_months
from kim.core.models import GoalCategory, ReferralTarget, Role
from kim.residence.models import Office, Procedure

from ..factories import CaseFactory, ConsentFactory, GoalFactory, ParticipantFactory, ProviderFactory, UserFactory
from ..factories import make_district
from .test_case_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def district():
    district = make_district("Kreis Aue")
    provider = ProviderFactory(district=district, name="Caritas Aue", slug="caritas")
    manager = UserFactory(username="fallmanagerin", role=Role.CASE_MANAGER, district=district, provider=provider)
    abh = UserFactory(username="abh", role=Role.MODULE3, district=district, provider=None)
    with scopes_disabled():
        office = Office.objects.create(district=district, name="Ausländerbehörde Aue", kind=Office.Kind.FOREIGNERS,
                                       release_target=ReferralTarget.objects.get(district=district, key="abh"))
        office.staff.set([abh])
        person = ParticipantFactory(responsible=manager, first_name="Amira", last_name="Nasser",
                                    residence_status=Participant.ResidenceStatus.PERMIT_104C)
        ConsentFactory(participant=person)
        expires = timezone.localdate() + timedelta(days=75)
        case = CaseFactory(participant=person, title_104c_expires_on=expires,
                           title_104c_issued_on=add_months(expires, -18))
        GoalFactory(case=case, category=GoalCategory.objects.get(district=district, key="aufenthalt-25ab"),
                    text="Sprachnachweis A2 für §25b erbringen")
    district.case, district.expires = case, expires
    return district


def test_the_office_records_a_procedure_and_sees_the_pipeline(page, auditor, district):
    log_in(page, "abh")
    page.get_by_role("navigation").get_by_role("link", name="Verfahren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Einbürgerungs- und Aufenthaltsverfahren")
    auditor.visit("residence-procedures-empty")
    page.get_by_role("link", name="Verfahren erfassen").click()
    page.get_by_label("Art des Verfahrens").select_option(label="Aufenthalt §25b AufenthG")
    page.get_by_label("Antrag eingegangen am").fill("2025-03-10")
    page.get_by_label("entschieden am").fill("2025-02-01")
    page.get_by_label("Ergebnis").select_option(label="stattgegeben")
    page.get_by_label("durch KIM-Personal bearbeitet").check()
    page.get_by_label("Antragsteller*in hat Chancen-Aufenthaltsrecht (§104c)").check()
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#form-errors")).to_contain_text("Die Entscheidung kann nicht vor dem Eingang des Antrags liegen")
    expect(page.get_by_label("Antrag eingegangen am")).to_have_value("2025-03-10")  # nothing lost
    auditor.visit("residence-procedure-refused")
    page.get_by_label("entschieden am").fill("2025-09-01")
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator(".kern-alert--success")).to_contain_text("Gespeichert")
    expect(page.get_by_role("cell", name="Aufenthalt §25b AufenthG (aus §104c)")).to_be_visible()
    auditor.visit("residence-procedures")
    with scopes_disabled():
        assert Procedure.objects.get().by_kim_staff
    page.get_by_role("main").get_by_role("link", name="Chancen-Aufenthalt §104c").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Chancen-Aufenthaltsrecht")
    expect(page.get_by_role("table")).to_contain_text("< 5")
    expect(page.get_by_text("Nasser")).to_have_count(0)
    auditor.visit("residence-pipeline")


def test_the_case_manager_sees_the_104c_warning(page, auditor, district):
    log_in(page, "fallmanagerin")
    warning = page.locator(".kim-title-104c")
    expect(warning).to_contain_text("innerhalb von 3 Monaten")
    expect(warning).to_contain_text(district.expires.strftime("%d.%m.%Y"))
    expect(warning).to_contain_text("Sprachnachweis A2 für §25b erbringen: offen")
    auditor.visit("residence-my-cases-warning")
    warning.get_by_role("link", name=district.case.number).click()
    expect(page.locator(".kim-title-104c")).to_contain_text("innerhalb von 3 Monaten")
    expect(page.get_by_text("Titel §104c")).to_be_visible()
    auditor.visit("residence-case-warning")
