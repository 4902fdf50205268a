"""The demo district's staffing, funding and module 3 in a real browser: every page for the
roles that read it (coordination, steering group, administration; module 3 staff), with
axe-core, and what each role must not see."""

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from kim.demo import build_demo_district
from kim.staffing.models import Position

from .test_system_pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LAST_YEAR = timezone.localdate().year - 1


@pytest.fixture
def demo():
    build_demo_district(size=0.05, seed=5)
    with scopes_disabled():
        return {"position": Position.objects.filter(fillings__isnull=False).first().pk}


def staffing_pages(ids):
    return ["/stellen/", f"/stellen/{ids['position']}/", f"/stellen/foerderung/?year={LAST_YEAR}",
            f"/stellen/saetze/?year={LAST_YEAR}", "/berichte/R8/", f"/berichte/R9/?year={LAST_YEAR}", "/berichte/R10/",
            "/berichte/R16/"]


@pytest.mark.parametrize("username", ["koordination", "lenkungsgruppe", "verwaltung"])
def test_every_staffing_page_passes_axe(page, auditor, demo, username):
    log_in(page, username)
    for number, url in enumerate(staffing_pages(demo)):
        response = page.goto(url)
        assert response.status == 200, url
        auditor.visit(f"staffing-{username}-{number}")
    page.goto(f"/stellen/{demo['position']}/")
    names = page.get_by_role("columnheader", name="Person")
    if username == "lenkungsgruppe":
        expect(names).to_have_count(0)  # names of holders only for those who manage staff
    else:
        expect(names).to_have_count(1)


def test_module_3_pages_pass_axe(page, auditor, demo):
    log_in(page, "abh")
    for number, url in enumerate(["/modul3/", "/modul3/monatszahlen/", "/modul3/chancen-aufenthalt/",
                                  f"/berichte/R13/?year={LAST_YEAR}", "/modul3/verfahren/neu/"]):
        response = page.goto(url)
        assert response.status == 200, url
        auditor.visit(f"residence-abh-{number}")
    assert page.goto("/stellen/").status == 403
