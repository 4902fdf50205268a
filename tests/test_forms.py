"""Bad input gets a clear German message and changes nothing."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from kim.casework.models import Appointment, Case, Goal, Participant
from kim.core.models import ClosureReason, Topic

TODAY = timezone.localdate


def post(client, user, url_name, pk, data):
    client.force_login(user)
    return client.post(reverse(url_name, args=[pk] if pk else []), data)


def test_closing_before_opening_is_refused_in_german(client, world):
    with scopes_disabled():
        reason = ClosureReason.objects.filter(district=world.district).first()
    response = post(client, world.insider, "casework:case-close", world.case.pk, {
        "closed_on": (world.case.opened_on - timedelta(days=2)).isoformat(), "closure_reason": reason.pk,
        "open_goals_status": "dropped"})
    assert response.status_code == 422
    assert "Ein Fall kann nicht vor seinem Beginn abgeschlossen werden." in response.content.decode()
    with scopes_disabled():
        assert Case.objects.get(pk=world.case.pk).closed_on is None


def test_a_goal_without_category_is_refused(client, world):
    response = post(client, world.insider, "casework:goal-new", world.case.pk, {
        "text": "Wohnung finden", "agreed_on": TODAY().isoformat()})
    assert response.status_code == 422
    assert "Jedes Ziel braucht eine Zielkategorie." in response.content.decode()
    with scopes_disabled():
        assert Goal.objects.filter(case=world.case).count() == 1


def test_the_same_goal_sent_twice_is_recorded_once(client, world):
    """A second click or a second tab: the same goal agreed the same day is the same goal."""
    from kim.core.models import GoalCategory

    with scopes_disabled():
        category = GoalCategory.objects.filter(district=world.district).first()
    data = {"category": category.pk, "text": "Wohnung finden", "agreed_on": TODAY().isoformat()}
    assert post(client, world.insider, "casework:goal-new", world.case.pk, data).status_code == 302
    again = post(client, world.insider, "casework:goal-new", world.case.pk, data)
    assert again.status_code == 422
    assert "Dieses Ziel ist für den Fall an diesem Tag schon erfasst." in again.content.decode()
    with scopes_disabled():
        assert Goal.objects.filter(case=world.case, text="Wohnung finden").count() == 1
    for spelling in ("Wohnung  finden", "wohnung finden", "Wohnung\u200b finden", "Wohnung finden ", "Woh\u200enung finden",
                     "Wohnung\u034f finden", "Wohnung\ufe0f finden", "Wohnung\u3164 finden", "\u202aWohnung finden\u202c"):
        again = post(client, world.insider, "casework:goal-new", world.case.pk, {**data, "text": spelling})
        assert again.status_code == 422, spelling


def test_an_appointment_far_in_the_future_is_refused(client, world):
    with scopes_disabled():
        topic = Topic.objects.filter(district=world.district).first()
    response = post(client, world.insider, "casework:case-appointment-new", world.case.pk, {
        "appt-date": (TODAY() + timedelta(days=500)).isoformat(), "appt-duration_minutes": 60,
        "appt-kind": "counselling", "appt-complexity": "complex", "appt-topics": [topic.pk],
        "appt-place": "office"})
    assert response.status_code == 422
    assert "Ein Termin wird erfasst, wenn er stattgefunden hat: Das Datum liegt in der Zukunft." in response.content.decode()
    with scopes_disabled():
        assert Appointment.objects.filter(case=world.case).count() == 1


def test_htmx_quick_entry_returns_only_the_panel(client, world):
    with scopes_disabled():
        topic = Topic.objects.filter(district=world.district).first()
    client.force_login(world.insider)
    response = client.post(reverse("casework:case-appointment-new", args=[world.case.pk]), {
        "appt-date": TODAY().isoformat(), "appt-duration_minutes": 45, "appt-kind": "counselling",
        "appt-complexity": "one_off", "appt-topics": [topic.pk], "appt-place": "office"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and 'id="appointments"' in body
    assert "Der Termin wurde erfasst." in body


def participant_data(world, **extra):
    with scopes_disabled():
        municipality = world.participant.municipality
    return {"first_name": "Zarifa", "last_name": "Qasimova", "birth_date": world.participant.birth_date.isoformat(),
            "gender": "f", "municipality": municipality.pk, **extra}


def test_a_possible_duplicate_is_flagged_and_can_be_confirmed(client, world):
    response = post(client, world.insider, "casework:participant-new", None, participant_data(world))
    assert response.status_code == 422
    assert "gleichem Namen und Geburtsdatum" in response.content.decode()
    with scopes_disabled():
        assert Participant.objects.count() == 1
    response = post(client, world.insider, "casework:participant-new", None,
                    participant_data(world, confirm_duplicate="on"))
    assert response.status_code == 302
    with scopes_disabled():
        assert Participant.objects.count() == 2


def test_the_duplicate_check_reveals_no_names_of_other_providers(client, world):
    response = post(client, world.other_provider_cm, "casework:participant-new", None, participant_data(world))
    assert response.status_code == 302  # the other provider's record is not even hinted at


def test_birth_date_in_the_future_is_refused(client, world):
    response = post(client, world.insider, "casework:participant-new", None,
                    participant_data(world, birth_date=(TODAY() + timedelta(days=3)).isoformat()))
    assert response.status_code == 422
    assert "Das Datum kann nicht in der Zukunft liegen." in response.content.decode()


def test_case_management_without_consent_is_refused_in_the_form(client, world):
    response = post(client, world.insider, "casework:participant-new", None,
                    participant_data(world, last_name="Neu"))
    new_pk = int(response.url.rstrip("/").split("/")[-1])
    with scopes_disabled():
        data = {"kind": "case_management", "municipality": world.participant.municipality_id,
                "target_group": world.case.target_group_id, "referral_source": world.case.referral_source_id,
                "opened_on": TODAY().isoformat()}
    response = client.post(reverse("casework:case-new", args=[new_pk]), data)
    assert response.status_code == 422
    assert "Einwilligung" in response.content.decode()


@pytest.mark.parametrize("garbage", [{"opened_on": "31.02.2024"}, {"kind": "bogus"}, {"target_group": "999999"}])
def test_malformed_input_never_causes_a_server_error(client, world, garbage):
    with scopes_disabled():
        data = {"kind": "short_counselling", "municipality": world.participant.municipality_id,
                "target_group": world.case.target_group_id, "referral_source": world.case.referral_source_id,
                "opened_on": TODAY().isoformat(), **garbage}
    response = post(client, world.insider, "casework:case-new", world.participant.pk, data)
    assert response.status_code == 422


def test_a_target_group_of_another_district_cannot_be_chosen(client, world):
    with scopes_disabled():
        foreign = world.other_district_cm.district
        from kim.core.models import TargetGroup

        foreign_group = TargetGroup.objects.filter(district=foreign).first()
        data = {"kind": "short_counselling", "municipality": world.participant.municipality_id,
                "target_group": foreign_group.pk, "referral_source": world.case.referral_source_id,
                "opened_on": TODAY().isoformat()}
    response = post(client, world.insider, "casework:case-new", world.participant.pk, data)
    assert response.status_code == 422


def test_a_name_that_reverses_its_direction_is_refused(world):
    """Attack A5: "\u202eNIMDA" was stored and printed as "ADMIN" on the consent."""
    from django_scopes import scope

    from kim.casework.forms import ParticipantForm

    with scope(district=world.district.pk):
        form = ParticipantForm({"first_name": "\u202eNIMDA\u202c", "last_name": "Haddad", "birth_date": "1990-01-01",
                                "gender": "x", "municipality": world.participant.municipality_id},
                               instance=world.participant, user=world.insider)
        assert not form.is_valid()
    assert "Richtung" in " ".join(form.errors["first_name"])
    with scope(district=world.district.pk):
        arabic = ParticipantForm({"first_name": "أمل", "last_name": "حداد", "birth_date": "1990-01-01", "gender": "x",
                                  "municipality": world.participant.municipality_id},
                                 instance=world.participant, user=world.insider)
        assert "first_name" not in arabic.errors  # right-to-left names themselves are welcome
