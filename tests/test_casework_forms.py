"""Every form of case work, on its unhappy path: wrong input answers 422 with the German message
in the announced error summary (role=alert), and nothing is written. And what a form labels
"optional" can really be left empty; a field some rule requires says when instead."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from kim.casework.models import Appointment
from kim.core.models import AuditEntry, Topic

TODAY = timezone.localdate


def days(n):
    return (TODAY() + timedelta(days=n)).isoformat()


def writes():
    """Every change of state writes an audit entry; reads are not changes."""
    with scopes_disabled():
        return AuditEntry.objects.exclude(action=AuditEntry.Action.READ).count()


# (url name, the object of the world its url takes, wrong input, a German message it must show)
WRONG_INPUT = [
    ("casework:participant-new", None, {"first_name": "Amira"}, "Dieses Feld ist zwingend erforderlich."),
    ("casework:participant-edit", "participant", {"first_name": "Zarifa", "last_name": "Qasimova",
                                                  "birth_date": days(3)}, "in der Zukunft"),
    ("casework:consent-new", "participant", {"given_on": days(5)}, "in der Zukunft"),
    ("casework:consent-withdraw", "consent", {"withdrawn_on": days(-400)},
     "Der Widerruf kann nicht vor der Einwilligung liegen."),
    ("casework:case-new", "participant", {"kind": "short_counselling", "opened_on": days(0)},
     "Dieses Feld ist zwingend erforderlich."),
    ("casework:case-edit", "case", {"opened_on": days(9)}, "in der Zukunft"),
    ("casework:case-close", "case", {"closed_on": days(-400)}, "Dieses Feld ist zwingend erforderlich."),
    ("casework:assessment-new", "case", {"assessed_on": days(0)}, "Schätzen Sie mindestens einen Lebensbereich ein."),
    ("casework:goal-new", "case", {"text": "Wohnung", "agreed_on": days(0)}, "Jedes Ziel braucht eine Zielkategorie."),
    ("casework:goal-status", "goal", {"status": "achieved", "status_changed_on": days(-400)},
     "vor der Vereinbarung"),
    ("casework:action-new", "case", {"responsible": "Jobcenter"}, "Dieses Feld ist zwingend erforderlich."),
    ("casework:referral-new", "case", {"referred_on": days(0)}, "Dieses Feld ist zwingend erforderlich."),
    ("casework:appointment-new", None, {"date": days(0), "duration_minutes": 60, "kind": "other", "place": "office"},
     "Wählen Sie die Art der Tätigkeit."),
    ("casework:appointment-edit", "appointment", {"date": days(-1), "duration_minutes": 0, "kind": "counselling",
                                                  "complexity": "complex", "place": "office"},
     "Dieser Wert muss größer oder gleich 5 sein."),
    ("casework:deputies", None, {"deputy": "colleague", "valid_until": days(-3)}, "in der Vergangenheit"),
]


def world_object(world, attribute):
    if attribute == "consent":
        with scopes_disabled():
            return world.participant.consents.get()
    return getattr(world, attribute)


@pytest.mark.parametrize("url_name, attribute, data, message", WRONG_INPUT, ids=[w[0] for w in WRONG_INPUT])
def test_wrong_input_in_every_form_of_case_work_is_announced_in_german_and_changes_nothing(
        client, world, url_name, attribute, data, message):
    if data.get("deputy") == "colleague":
        data = {**data, "deputy": world.colleague.pk}
    url = reverse(url_name, args=[world_object(world, attribute).pk] if attribute else [])
    client.force_login(world.insider)
    before = writes()
    response = client.post(url, data)
    body = response.content.decode()
    assert response.status_code == 422
    summary = re.search(r'<div class="kern-alert kern-alert--danger" role="alert" tabindex="-1" id="form-errors">'
                        r'(.*?)</ul></div>', body, re.S)
    assert summary, "no announced error summary"
    assert message in summary.group(1)
    assert writes() == before


def test_a_phase_the_cycle_does_not_allow_is_refused_with_an_announced_message(client, world):
    client.force_login(world.insider)
    before = writes()
    response = client.post(reverse("casework:case-advance", args=[world.case.pk]), {"phase": "implementation"},
                           follow=True)
    body = response.content.decode()
    assert re.search(r'role="alert">.*?Der Fall kann nicht von', body, re.S)
    assert writes() == before


def labels(body):
    """{field name: label text} of a rendered form, the part behind the field's label included."""
    found = {}
    for match in re.finditer(r'<(?:label class="kern-label" for="id_(?:appt-)?(\w+)"|fieldset class="kern-fieldset[^"]*"'
                             r' id="id_(?:appt-)?(\w+)">\s*<legend class="kern-label")>(.*?)</(?:label|legend)>', body, re.S):
        found[match.group(1) or match.group(2)] = re.sub(r"<[^>]+>", "", match.group(3)).strip()
    return found


def test_fields_a_rule_requires_are_not_labelled_optional_but_say_when_they_are_required(client, world):
    client.force_login(world.insider)
    shown = labels(client.get(reverse("casework:case", args=[world.case.pk])).content.decode())
    assert shown["topics"] == "Themen – Pflicht bei Einzelberatung"
    assert shown["complexity"] == "Beratung – Pflicht bei Einzelberatung"
    assert shown["other_kind"] == "Art der Tätigkeit – Pflicht bei sonstiger Arbeit"
    assert shown["session_format"] == "Format – Pflicht bei einem thematischen Angebot"
    assert shown["note"].endswith("– optional")
    other_work = labels(client.get(reverse("casework:appointment-new")).content.decode())
    assert other_work["other_kind"] == "Art der Tätigkeit – Pflicht bei sonstiger Arbeit"
    case_form = labels(client.get(reverse("casework:case-new", args=[world.participant.pk])).content.decode())
    assert case_form["screening_outcome"] == "Ergebnis des Screenings – Pflicht beim Screening"


def optional_fields(body):
    return {name for name, text in labels(body).items() if text.endswith("– optional")}


def test_what_the_appointment_form_calls_optional_can_be_left_empty(client, world):
    """Individual counselling with only the fields the form does not call optional, and
    with the fields required for counselling: recorded."""
    client.force_login(world.insider)
    body = client.get(reverse("casework:case", args=[world.case.pk])).content.decode()
    with scopes_disabled():
        topic = Topic.objects.filter(district=world.district).first()
    filled = {"date": days(0), "duration_minutes": 30, "kind": "counselling", "place": "office",
              "complexity": "one_off", "topics": [topic.pk]}
    assert not set(filled) & optional_fields(body)
    response = client.post(reverse("casework:case-appointment-new", args=[world.case.pk]),
                           {f"appt-{name}": value for name, value in filled.items()})
    assert response.status_code == 302
    with scopes_disabled():
        assert Appointment.objects.filter(case=world.case, duration_minutes=30).exists()



def test_a_step_of_a_closed_case_cannot_be_marked_done(client, world):
    from django_scopes import scope

    from kim.casework import services
    from kim.core.models import ClosureReason

    with scope(district=world.district.pk):
        action = services.add_plan_action(world.insider, world.case, {"description": "Antrag", "responsible": "TN"})
        services.close_case(world.insider, world.case, TODAY(), ClosureReason.objects.first(), "dropped")
    client.force_login(world.insider)
    before = writes()
    body = client.post(reverse("casework:action-done", args=[action.pk]), follow=True).content.decode()
    assert re.search(r'role="alert">.*?Der Fall ist abgeschlossen', body, re.S)
    assert writes() == before


def test_number_fields_offer_the_bounds_the_model_enforces(world, in_scope):
    """A duration of at least 5 minutes was offered from 0 (walkthrough): the browser's min and
    max come from the model's validators too."""
    from kim.casework.forms import AppointmentForm
    from kim.core.forms import DistrictSettingsForm

    duration = AppointmentForm(with_case=True).fields["duration_minutes"].widget.attrs
    assert (duration["min"], duration["max"]) == (5, 600)
    district = DistrictSettingsForm(instance=world.district).fields
    assert (district["suppression_k"].widget.attrs["min"], district["suppression_k"].widget.attrs["max"]) == (3, 20)
    assert district["caseload_key"].widget.attrs["max"] == 200
