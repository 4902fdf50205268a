"""Implausible case data is refused with a German message, the same on the page and through
the API, because the rules live in casework.rules and the services call them; a doubtful
target group is a warning the user confirms. Closing a case says what becomes of its open
goals, and that choice is audited."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from kim.casework import rules
from kim.casework.models import Appointment, Case, Consent, Goal, GoalStatus
from kim.core.models import AuditEntry, ClosureReason, TargetGroup, Topic

from .test_api import Api

TODAY = timezone.localdate


def iso(day):
    return day.isoformat()


# ---------------------------------------------------------------- the rules as plain functions

def test_the_rules_are_plain_functions_of_values():
    born = date(1990, 4, 1)
    assert "given_on" in rules.consent_problems(date(1850, 1, 1), born)
    assert "1990" in rules.consent_problems(date(1985, 1, 1), born)["given_on"]
    assert rules.consent_problems(date(2024, 1, 1), born) == {}
    assert "opened_on" in rules.case_opening_problems(date(1080, 5, 1), born)
    assert "opened_on" in rules.case_opening_problems(date(1080, 5, 1), None)
    assert rules.case_opening_problems(date(2024, 5, 1), born) == {}
    assert "date" in rules.appointment_date_problems(TODAY() + timedelta(days=1))
    assert "date" in rules.appointment_date_problems(date(2024, 6, 1), opened_on=date(2024, 1, 1),
                                                     closed_on=date(2024, 3, 1))
    assert rules.appointment_date_problems(TODAY()) == {}
    closing = {"opened_on": date(2024, 1, 1), "closed_on": date(2024, 3, 1), "last_goal_on": None}
    assert "closed_on" in rules.closure_problems(**closing, last_appointment_on=date(2024, 4, 1), open_goals=0)
    assert "open_goals_status" in rules.closure_problems(**closing, last_appointment_on=None, open_goals=2)
    assert rules.closure_problems(**closing, last_appointment_on=None, open_goals=2, open_goals_status="dropped") == {}


def test_a_recent_arrivals_target_group_for_an_early_arrival_is_a_warning():
    doubt = rules.target_group_warnings(rules.RECENT_ARRIVALS_KEY, "Über 18 Jahre und weniger als 5 Jahre",
                                        opened_on=date(2026, 3, 1), birth_date=date(1990, 1, 1),
                                        entry_date=date(2016, 5, 1))
    assert len(doubt) == 1 and "01.05.2016" in doubt[0]
    assert rules.target_group_warnings(rules.RECENT_ARRIVALS_KEY, "…", opened_on=date(2026, 3, 1),
                                       birth_date=date(1990, 1, 1), entry_date=date(2023, 5, 1)) == []
    minor = rules.target_group_warnings(rules.RECENT_ARRIVALS_KEY, "…", opened_on=date(2026, 3, 1),
                                        birth_date=date(2012, 1, 1), entry_date=date(2024, 5, 1))
    assert len(minor) == 1 and "14" in minor[0]
    assert rules.target_group_warnings("duldung-gestattung", "…", opened_on=date(2026, 3, 1),
                                       birth_date=date(1990, 1, 1), entry_date=date(2001, 5, 1)) == []


# ---------------------------------------------------------------- the same rules on every way in

def changes():
    """Changes of case work (the API's token bookkeeping is not one)."""
    with scopes_disabled():
        return AuditEntry.objects.filter(object_type__startswith="casework.").exclude(
            action=AuditEntry.Action.READ).count()


@pytest.fixture
def born_2005(world):
    with scopes_disabled():
        world.participant.birth_date = date(2005, 4, 1)
        world.participant.save()
    return world


def page_post(client, user, url_name, pk, data):
    client.force_login(user)
    response = client.post(reverse(url_name, args=[pk]), data)
    return response.status_code, response.content.decode()


def api_post(user, path, body):
    response = Api(user).post(path, body)
    return response.status_code, response.content.decode("unicode_escape") if response.status_code != 201 else ""


def test_a_consent_dated_1850_is_refused_on_the_page_and_through_the_api(client, born_2005):
    world = born_2005
    before = changes()
    status, body = page_post(client, world.insider, "casework:consent-new", world.participant.pk,
                             {"given_on": "1850-01-01", "covers_processing": "on"})
    assert status == 422 and "vor 2000" in body
    status, body = page_post(client, world.insider, "casework:consent-new", world.participant.pk,
                             {"given_on": "2004-06-01", "covers_processing": "on"})
    assert status == 422 and "vor der Geburt der Person (01.04.2005)" in body
    status, body = api_post(world.insider, "consents/", {"participant": world.participant.pk,
                                                         "given_on": "2004-06-01", "covers_processing": True})
    assert status == 400 and "vor der Geburt der Person (01.04.2005)" in body
    assert changes() == before


def case_values(world, **extra):
    with scopes_disabled():
        return {"kind": "short_counselling", "municipality": world.participant.municipality_id,
                "target_group": world.case.target_group_id, "referral_source": world.case.referral_source_id,
                "opened_on": iso(TODAY()), **extra}


def test_a_case_opened_in_1080_is_refused_on_the_page_and_through_the_api(client, born_2005):
    world = born_2005
    before = changes()
    status, body = page_post(client, world.insider, "casework:case-new", world.participant.pk,
                             case_values(world, opened_on="1080-05-01"))
    assert status == 422 and "Bitte prüfen Sie das Datum: Es liegt vor 2000." in body
    status, body = api_post(world.insider, "cases/", {"participant": world.participant.pk,
                                                      **case_values(world, opened_on="1080-05-01")})
    assert status == 400 and "Es liegt vor 2000." in body
    status, body = page_post(client, world.insider, "casework:case-new", world.participant.pk,
                             case_values(world, opened_on="2004-05-01"))
    assert status == 422 and "vor der Geburt der Person (01.04.2005) eröffnet" in body
    assert changes() == before


def appointment_values(world, day):
    with scopes_disabled():
        topic = Topic.objects.filter(district=world.district).first()
    return {"date": iso(day), "duration_minutes": 45, "kind": "counselling", "complexity": "complex",
            "topics": [topic.pk], "place": "office"}


@pytest.mark.parametrize("ahead", [1, 200, 365])
def test_counselling_in_the_future_is_not_recorded_as_held(client, world, ahead):
    before = changes()
    values = appointment_values(world, TODAY() + timedelta(days=ahead))
    status, body = page_post(client, world.insider, "casework:case-appointment-new", world.case.pk,
                             {f"appt-{k}": v for k, v in values.items()})
    assert status == 422 and "Das Datum liegt in der Zukunft." in body
    status, body = api_post(world.insider, "appointments/", {"case": world.case.pk, **values})
    assert status == 400 and "Das Datum liegt in der Zukunft." in body
    assert changes() == before


def reason(world):
    with scopes_disabled():
        return ClosureReason.objects.filter(district=world.district).first()


def test_a_case_is_not_closed_before_its_last_appointment(client, world):
    before = changes()
    too_early = world.appointment.date - timedelta(days=2)  # the appointment is a week after opening
    data = {"closed_on": iso(too_early), "closure_reason": reason(world).pk, "open_goals_status": "dropped"}
    status, body = page_post(client, world.insider, "casework:case-close", world.case.pk, data)
    assert status == 422 and f"einen Termin am {world.appointment.date:%d.%m.%Y}" in body
    status, body = api_post(world.insider, f"cases/{world.case.pk}/close/", data)
    assert status == 400 and f"einen Termin am {world.appointment.date:%d.%m.%Y}" in body
    assert changes() == before
    with scopes_disabled():
        assert Case.objects.get(pk=world.case.pk).closed_on is None


def test_the_closing_form_lists_the_open_goals_and_asks_what_became_of_them(client, world):
    client.force_login(world.insider)
    body = client.get(reverse("casework:case-close", args=[world.case.pk])).content.decode()
    assert "Ergebnis der noch offenen Ziele" in body and "Noch offen: Sprachkurs finden." in body
    before = changes()
    status, body = page_post(client, world.insider, "casework:case-close", world.case.pk,
                             {"closed_on": iso(TODAY()), "closure_reason": reason(world).pk})
    assert status == 422 and "Ergebnis der noch offenen Ziele: Dieses Feld ist zwingend erforderlich." in body
    assert changes() == before


@pytest.mark.parametrize("way", ["page", "api"])
def test_closing_marks_the_open_goals_as_chosen_and_audits_it(client, world, way):
    data = {"closed_on": iso(TODAY()), "closure_reason": reason(world).pk, "open_goals_status": "dropped"}
    if way == "page":
        status, _ = page_post(client, world.insider, "casework:case-close", world.case.pk, data)
        assert status == 302
    else:
        assert Api(world.insider).post(f"cases/{world.case.pk}/close/", data).status_code == 200
    with scopes_disabled():
        goal = Goal.objects.get(pk=world.goal.pk)
        assert goal.status == GoalStatus.DROPPED and goal.status_changed_on == TODAY()
        entry = AuditEntry.objects.get(object_type="casework.goal", object_id=str(goal.pk), action="update")
        assert entry.changes["status"] == ["open", "dropped"] and entry.actor == world.insider
        assert Case.objects.get(pk=world.case.pk).closed_on == TODAY()


@pytest.fixture
def early_arrival(world):
    with scopes_disabled():
        world.participant.birth_date = date(1990, 4, 1)
        world.participant.entry_date = date(2016, 5, 1)
        world.participant.save()
        group = TargetGroup.objects.get(district=world.district, key=rules.RECENT_ARRIVALS_KEY)
    return world, group


def test_a_doubtful_target_group_is_a_warning_confirmed_on_the_page(client, early_arrival):
    world, group = early_arrival
    data = case_values(world, target_group=group.pk)
    status, body = page_post(client, world.insider, "casework:case-new", world.participant.pk, data)
    assert status == 422 and "Die Person ist am 01.05.2016 eingereist" in body
    assert 'type="checkbox" name="confirm_target_group"' in body  # asked now, not before
    client.force_login(world.insider)
    first_view = client.get(reverse("casework:case-new", args=[world.participant.pk])).content.decode()
    assert 'type="checkbox" name="confirm_target_group"' not in first_view
    status, _ = page_post(client, world.insider, "casework:case-new", world.participant.pk,
                          {**data, "confirm_target_group": "on"})
    assert status == 302
    with scopes_disabled():
        assert Case.objects.filter(participant=world.participant, target_group=group).count() == 1


def test_a_doubtful_target_group_is_a_warning_confirmed_through_the_api(early_arrival):
    world, group = early_arrival
    api = Api(world.insider)
    body = {"participant": world.participant.pk, **case_values(world, target_group=group.pk)}
    refused = api.post("cases/", body)
    assert refused.status_code == 400 and "eingereist" in refused.json()["confirm_target_group"][0]
    assert api.post("cases/", {**body, "confirm_target_group": True}).status_code == 201


def test_changing_a_case_to_a_doubtful_target_group_asks_too(client, early_arrival):
    world, group = early_arrival
    with scopes_disabled():
        data = case_values(world, kind="case_management", target_group=group.pk,
                           opened_on=iso(world.case.opened_on))
    status, body = page_post(client, world.insider, "casework:case-edit", world.case.pk, data)
    assert status == 422 and "eingereist" in body
    with scopes_disabled():
        assert Case.objects.get(pk=world.case.pk).target_group_id != group.pk


def test_an_appointment_is_not_moved_after_the_closure_of_its_case(client, world):
    with scopes_disabled():
        Case.objects.filter(pk=world.case.pk).update(closed_on=world.appointment.date + timedelta(days=1))
    values = appointment_values(world, world.appointment.date + timedelta(days=5))
    status, body = page_post(client, world.insider, "casework:appointment-edit", world.appointment.pk, values)
    assert status == 422 and "nach dem Abschluss des Falls" in body
    with scopes_disabled():
        assert Appointment.objects.get(pk=world.appointment.pk).date == world.appointment.date
        assert Consent.objects.count() == 1
