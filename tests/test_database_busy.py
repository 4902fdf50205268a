"""SQLite lets one process write at a time: a write that waited in vain for the lock (a large
import in the worker) gets a German 503 that says to try again, on the page, in an htmx form
and in the API, and changes nothing. The lock itself is SQLite's: the service raises the very
error Django raises when its wait times out."""

import pytest
from django.db import OperationalError
from django.urls import reverse
from django_scopes import scopes_disabled

from kim.casework import services
from kim.casework.models import Case

from .test_api import Api


@pytest.fixture
def locked(monkeypatch):
    def wait_in_vain(*_args, **_kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "update_case", wait_in_vain)
    monkeypatch.setattr(services, "record_appointment", wait_in_vain)


def case_form(client, world) -> dict:
    form = client.get(reverse("casework:case-edit", args=[world.case.pk])).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data["opened_on"] = world.case.opened_on.isoformat()
    return data


def test_a_page_says_in_german_to_try_again(client, world, locked):
    client.force_login(world.insider)
    answer = client.post(reverse("casework:case-edit", args=[world.case.pk]), case_form(client, world))
    assert answer.status_code == 503 and answer["Retry-After"] == "60"
    text = answer.content.decode()
    assert "Bitte versuchen Sie es in einer Minute erneut" in text and "Nichts wurde gespeichert" in text


def test_the_api_says_it_in_json(world, locked):
    day = world.case.opened_on.replace(day=1)
    answer = Api(world.insider).patch(f"cases/{world.case.pk}/", {"opened_on": day.isoformat()})
    assert answer.status_code == 503
    assert "in einer Minute erneut" in answer.json()["detail"]
    with scopes_disabled():
        assert Case.objects.get(pk=world.case.pk).opened_on == world.case.opened_on


def test_other_database_errors_stay_server_errors(client, world, monkeypatch):
    def broken(*_args, **_kwargs):
        raise OperationalError("disk I/O error")

    monkeypatch.setattr(services, "update_case", broken)
    client.raise_request_exception = True
    client.force_login(world.insider)
    with pytest.raises(OperationalError):
        client.post(reverse("casework:case-edit", args=[world.case.pk]), case_form(client, world))
