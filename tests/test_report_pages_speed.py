"""The report page does not wait for the completeness figures (R15): the state of the data is
loaded after the page, for the readers it was shown to before, with the same text."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from kim.reports.completeness import data_state

from .test_deadlines import set_deadline


def test_the_report_page_loads_the_state_of_the_data_afterwards(client, world):
    set_deadline(client, world, "Lenkungsgruppe Herbst")
    client.force_login(world.coordination)
    with CaptureQueriesContext(connection) as page_queries:
        page = client.get(reverse("reports:report", args=["R1"]))
    content = page.content.decode()
    assert page.status_code == 200
    assert f'hx-get="{reverse("reports:data-state")}"' in content and 'hx-trigger="load"' in content
    assert "Lenkungsgruppe Herbst" not in content
    assert not any("reports_dataconfirmation" in q["sql"] for q in page_queries.captured_queries)
    fragment = client.get(reverse("reports:data-state"), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    with scope(district=world.district.pk):
        expected = data_state(world.coordination)["text"]
    assert fragment.content.decode().strip() == f"Datenstand: {expected}"


def test_readers_of_their_own_data_get_no_state_line_on_the_report(client, world):
    client.force_login(world.lead)
    content = client.get(reverse("reports:report", args=["R1"])).content.decode()
    assert reverse("reports:data-state") not in content


def test_the_key_figures_say_when_no_deadline_is_set(client, world):
    client.force_login(world.coordination)
    assert f'hx-get="{reverse("reports:data-state")}?on=dashboard"' in client.get(reverse("reports:dashboard")).content.decode()
    fragment = client.get(reverse("reports:data-state") + "?on=dashboard").content.decode()
    assert "Es ist noch kein Stichtag gesetzt." in fragment


def test_the_state_of_the_data_needs_a_login(client, db):
    response = client.get(reverse("reports:data-state"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_share_of_complete_records_is_computed_once_a_minute_per_reader_scope(client, world, settings, monkeypatch):
    from kim.reports import completeness

    settings.KIM_DATA_STATE_SECONDS = 60
    set_deadline(client, world, "Lenkungsgruppe Herbst")
    computed = []
    original = completeness.complete_share

    def counting(user, deadline):
        computed.append(user.username)
        return original(user, deadline)

    monkeypatch.setattr(completeness, "complete_share", counting)
    client.force_login(world.coordination)
    first = client.get(reverse("reports:data-state")).content.decode()
    second = client.get(reverse("reports:data-state")).content.decode()
    assert first == second and computed == [world.coordination.username]
    client.force_login(world.lead)  # another scope: the lead's own share, never the district's
    client.get(reverse("reports:data-state"))
    assert computed == [world.coordination.username, world.lead.username]
    settings.KIM_DATA_STATE_SECONDS = 0  # no caching: every page computes it
    client.get(reverse("reports:data-state"))
    assert len(computed) == 3
