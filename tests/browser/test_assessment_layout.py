"""The assessment form in Chromium: each life domain's heading stands above its fields, and the
fields of all domains stand in the same columns (KERN floats a fieldset's legend; content
outside `kern-fieldset__body` ran into it)."""

import pytest
from django.utils import timezone
from django_scopes import scope

from kim.casework import services

from ..factories import CaseFactory, ConsentFactory, ParticipantFactory
from .test_case_flow import case_manager, log_in  # noqa: F401 - the fixture is used by name

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_life_domain_headings_stand_above_fields_in_common_columns(page, auditor, case_manager):  # noqa: F811
    participant = ParticipantFactory(responsible=case_manager)
    ConsentFactory(participant=participant, given_on=timezone.localdate())
    case = CaseFactory(participant=participant, opened_on=timezone.localdate())
    with scope(district=case.district_id):
        services.advance_phase(case_manager, case, "assessment")
    log_in(page, "fallmanagerin")
    page.goto(f"/fallarbeit/fall/{case.pk}/assessment/")
    domains = page.locator("fieldset.kim-domain")
    assert domains.count() >= 5
    columns = None
    for index in range(domains.count()):
        domain = domains.nth(index)
        legend = domain.locator("legend").bounding_box()
        labels = [box for box in (label.bounding_box() for label in domain.locator("label").all())]
        assert len(labels) == 4
        assert all(legend["y"] + legend["height"] <= box["y"] + 1 for box in labels), "heading runs into the fields"
        lefts = [round(box["x"]) for box in labels]
        assert lefts == sorted(lefts) and len(set(lefts)) == 4
        assert columns is None or lefts == columns, "columns staggered between life domains"
        columns = lefts
    auditor.visit("assessment-layout")
