"""axe-core on the pages outside the case-management flow, for every role that uses them."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from kim.core.models import Municipality, Role

from ..factories import (
    AppointmentFactory,
    CaseFactory,
    ConsentFactory,
    GoalFactory,
    ParticipantFactory,
    ProviderFactory,
    UserFactory,
    make_district,
)
from .test_case_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = {
    "fallmanagerin": ["/fallarbeit/teilnehmende/", "/fallarbeit/termine/", "/fallarbeit/termine/neu/",
                      "/fallarbeit/vertretung/", "/fallarbeit/?status=all", "/passwort/", "/daten/"],
    "leitung": ["/fallarbeit/", "/protokoll/", "/daten/"],
    "verwaltung": ["/", "/verwaltung/benutzer/", "/verwaltung/benutzer/neu/", "/verwaltung/organisation/",
                   "/verwaltung/organisation/provider/neu/", "/verwaltung/einstellungen/", "/verwaltung/kataloge/topics/",
                   "/verwaltung/kataloge/topics/neu/", "/protokoll/"],
    "koordination": ["/"],
}


@pytest.fixture
def district_with_staff():
    district = make_district("Kreis Aue")
    with scopes_disabled():
        Municipality.objects.create(district=district, name="Hilden")
    provider = ProviderFactory(district=district, name="Diakonie Aue", slug="diakonie")
    cm = UserFactory(username="fallmanagerin", role=Role.CASE_MANAGER, district=district, provider=provider)
    UserFactory(username="kollege", role=Role.CASE_MANAGER, district=district, provider=provider)
    UserFactory(username="leitung", role=Role.PROVIDER_LEAD, district=district, provider=provider)
    UserFactory(username="verwaltung", role=Role.DISTRICT_ADMIN, district=district)
    UserFactory(username="koordination", role=Role.COORDINATION, district=district)
    participant = ParticipantFactory(responsible=cm, first_name="Oksana", last_name="Kovalenko")
    ConsentFactory(participant=participant, given_on=timezone.localdate() - timedelta(days=200))
    case = CaseFactory(participant=participant)
    GoalFactory(case=case)
    AppointmentFactory(case=case)
    return district


@pytest.mark.parametrize("username", list(PAGES))
def test_pages_have_no_serious_accessibility_violations(page, auditor, district_with_staff, username):
    log_in(page, username)
    for number, url in enumerate(PAGES[username]):
        response = page.goto(url)
        assert response.status == 200, url
        auditor.visit(f"{username}-{number}")


NARROW_PAGES = {
    "fallmanagerin": ["/fallarbeit/", "/fallarbeit/teilnehmende/", "/fallarbeit/termine/", "{case}"],
    "leitung": ["/berichte/vollstaendigkeit/", "/protokoll/", "/verwaltung/benutzer/"],
}


@pytest.mark.parametrize("username", list(NARROW_PAGES))
def test_pages_on_a_phone_have_no_serious_accessibility_violations(page, auditor, district_with_staff, username):
    """At 390 px wide tables scroll sideways: the scrolling region must be reachable by keyboard."""
    from kim.casework.models import Case

    page.set_viewport_size({"width": 390, "height": 844})
    with scopes_disabled():
        case = Case.objects.get()
    log_in(page, username)
    for number, url in enumerate(NARROW_PAGES[username]):
        response = page.goto(url.replace("{case}", f"/fallarbeit/fall/{case.pk}/"))
        assert response.status == 200, url
        auditor.visit(f"narrow-{username}-{number}")
