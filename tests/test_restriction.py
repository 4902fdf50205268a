"""Restriction of processing (Art. 18 GDPR): the provider lead freezes a record; every way of
changing it (services, forms, API, import, module 3) refuses in German and changes nothing;
exports and API lists leave it out; reports still count it. Personas: the lead, the case
manager of the record, a case manager of another provider, coordination."""

import io
import json
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django_scopes import scope, scopes_disabled
from openpyxl import load_workbook

from kim.casework import services
from kim.casework.models import Appointment, Case, Consent, Goal, Household, Participant, PlanAction
from kim.core.models import AuditEntry, GoalCategory, ReferralTarget, Topic
from kim.exchange.models import ImportRun
from kim.privacy.restriction import lift_restriction, restrict

from .test_api import Api
from .test_import import do_import, problems, standard_file, town  # noqa: F401 - town is a fixture

MESSAGE = "Die Verarbeitung dieses Datensatzes ist eingeschränkt (Art. 18 DSGVO)"


def fresh(model, pk):
    with scopes_disabled():
        return model._base_manager.get(pk=pk)


def entries(world, **filters):
    with scopes_disabled():
        return AuditEntry.objects.filter(district=world.district, **filters)


@pytest.fixture
def restricted(world):
    with scope(district=world.district.pk):
        restrict(world.lead, world.participant, "Die Person bestreitet die Richtigkeit der Anschrift.")
    return world


# ---------------------------------------------------------------- the lead's two actions

def test_the_lead_restricts_and_lifts_with_one_audit_entry_each(world):
    before = entries(world).count()
    with scope(district=world.district.pk):
        restrict(world.lead, world.participant, "  Richtigkeit   bestritten ")
    stored = fresh(Participant, world.participant.pk)
    assert stored.restricted_on == date.today() and stored.restriction_reason == "Richtigkeit bestritten"
    entry = entries(world).order_by("-pk").first()
    assert entries(world).count() == before + 1
    assert entry.actor == world.lead and entry.object_type == "casework.participant"
    assert entry.changes["restriction_reason"] == ["", "Richtigkeit bestritten"]
    with scope(district=world.district.pk):
        lift_restriction(world.lead, world.participant)
    stored = fresh(Participant, world.participant.pk)
    assert stored.restricted_on is None and stored.restriction_reason == ""
    assert entries(world).count() == before + 2


@pytest.mark.parametrize("persona", ["insider", "colleague", "other_provider", "coordination", "district_admin"])
def test_only_the_lead_of_the_owning_provider_restricts_or_lifts(world, persona):
    with scope(district=world.district.pk), pytest.raises(PermissionDenied):
        restrict(world.personas()[persona], world.participant, "Grund")
    assert fresh(Participant, world.participant.pk).restricted_on is None


def test_a_restriction_needs_a_reason_and_is_not_set_twice(world):
    with scope(district=world.district.pk):
        with pytest.raises(ValidationError) as error:
            restrict(world.lead, world.participant, "   ")
        assert "reason" in error.value.message_dict
        restrict(world.lead, world.participant, "Grund")
        with pytest.raises(ValidationError):
            restrict(world.lead, world.participant, "noch einmal")


# ---------------------------------------------------------------- every change refused

def _changes(world):
    """Every kind of change of the record or its children, as the services offer them."""
    case, goal, appointment = world.case, world.goal, world.appointment
    today = date.today()
    category = GoalCategory.objects.filter(district=world.district).first()
    return {
        "participant": lambda: services.update_participant(world.insider, fresh(Participant, world.participant.pk),
                                                           {"phone": "0123"}),
        "consent": lambda: services.add_consent(world.insider, world.participant, {"given_on": today}),
        "case": lambda: services.update_case(world.insider, fresh(Case, case.pk), {"closed_on": None}),
        "new case": lambda: services.open_case(world.insider, world.participant, {
            "kind": "short_counselling", "opened_on": today, "municipality": world.participant.municipality}),
        "phase": lambda: services.advance_phase(world.insider, fresh(Case, case.pk), "assessment"),
        "assessment": lambda: services.record_assessment(world.insider, fresh(Case, case.pk), today, "", []),
        "goal": lambda: services.add_goal(world.insider, fresh(Case, case.pk), {
            "category": category, "text": "Neu", "agreed_on": today}),
        "goal status": lambda: services.set_goal_status(world.insider, fresh(Goal, goal.pk), "achieved", today),
        "plan action": lambda: services.add_plan_action(world.insider, fresh(Case, case.pk), {
            "description": "Anrufen", "due_on": today}),
        "referral": lambda: services.add_referral(world.insider, fresh(Case, case.pk), {
            "target": ReferralTarget.objects.filter(district=world.district, means_no_need=True).first(),
            "referred_on": today}),
        "appointment": lambda: services.record_appointment(world.insider, {
            "date": today, "duration_minutes": 30, "kind": "counselling", "complexity": "one_off",
            "topics": list(Topic.objects.filter(district=world.district)[:1])}, case=fresh(Case, case.pk)),
        "appointment change": lambda: services.update_appointment(world.insider, fresh(Appointment, appointment.pk), {
            "date": appointment.date, "duration_minutes": 45, "kind": appointment.kind, "complexity": "one_off",
            "topics": list(Topic.objects.filter(district=world.district)[:1])}),
        "household": lambda: services.create_household(world.insider, "Familie Q", [fresh(Participant, world.participant.pk)]),
        "close": lambda: services.close_case(world.insider, fresh(Case, case.pk), today, None, "dropped"),
    }


# A withdrawal of consent is the one change a restricted record allows (Art. 7(3) GDPR; test_privacy_retention).
CHANGES = ["participant", "consent", "case", "new case", "phase", "assessment", "goal", "goal status",
           "plan action", "referral", "appointment", "appointment change", "household", "close"]


@pytest.mark.parametrize("change", CHANGES)
def test_no_service_changes_a_restricted_record(restricted, change):
    world = restricted
    before = entries(world).count()
    with scope(district=world.district.pk):
        snapshot = _state(world)
        with pytest.raises(ValidationError) as error:
            _changes(world)[change]()
        assert MESSAGE in " ".join(error.value.messages)
        assert _state(world) == snapshot
    assert entries(world).count() == before


def _state(world):
    return (
        list(Participant._base_manager.filter(pk=world.participant.pk).values()),
        list(Case._base_manager.filter(participant=world.participant).values()),
        list(Consent._base_manager.filter(participant=world.participant).values()),
        list(Goal._base_manager.filter(case__participant=world.participant).values()),
        list(PlanAction._base_manager.filter(case__participant=world.participant).values()),
        list(Appointment._base_manager.filter(case__participant=world.participant).values()),
        Household._base_manager.count(),
    )


def test_lifting_the_restriction_allows_changes_again(restricted):
    world = restricted
    with scope(district=world.district.pk):
        lift_restriction(world.lead, world.participant)
        services.update_participant(world.insider, fresh(Participant, world.participant.pk), {"phone": "0123"})
    assert fresh(Participant, world.participant.pk).phone == "0123"


def test_other_people_of_the_provider_stay_changeable(restricted):
    from .factories import ParticipantFactory

    world = restricted
    other = ParticipantFactory(responsible=world.insider)
    with scope(district=world.district.pk):
        services.update_participant(world.insider, fresh(Participant, other.pk), {"phone": "0456"})
    assert fresh(Participant, other.pk).phone == "0456"


def test_a_module_3_procedure_linked_to_a_restricted_person_is_not_changed(restricted):
    from kim.residence.models import Office, Outcome, Procedure, ProcedureKind
    from kim.residence.services import save_procedure

    from .factories import UserFactory

    world = restricted
    abh = UserFactory(username="abh", role="module3", district=world.district, provider=None)
    with scopes_disabled():
        office = Office.objects.create(district=world.district, name="ABH Aue", kind=Office.Kind.FOREIGNERS,
                                       release_target=ReferralTarget.objects.get(district=world.district, key="abh"))
        office.staff.set([abh])
        procedure = Procedure.objects.create(district=world.district, office=office, kind=ProcedureKind.NATURALISATION,
                                             received_on=date(2024, 2, 1), participant=world.participant)
    with scope(district=world.district.pk), pytest.raises(ValidationError) as error:
        save_procedure(abh, {"decided_on": date(2024, 9, 1), "outcome": Outcome.GRANTED}, procedure)
    assert MESSAGE in " ".join(error.value.messages)
    assert fresh(Procedure, procedure.pk).decided_on is None


# ---------------------------------------------------------------- pages

def test_the_page_shows_the_banner_and_no_edit_buttons_to_the_case_manager(client, restricted):
    world = restricted
    client.force_login(world.insider)
    page = client.get(reverse("casework:participant", args=[world.participant.pk])).content.decode()
    assert f"Verarbeitung eingeschränkt seit {date.today():%d.%m.%Y} – Grund: Die Person bestreitet" in page
    assert reverse("casework:participant-edit", args=[world.participant.pk]) not in page
    assert reverse("casework:case-new", args=[world.participant.pk]) not in page
    assert reverse("privacy:restrict", args=[world.participant.pk]) not in page  # the case manager has no form
    listed = client.get(reverse("casework:participants")).content.decode()
    assert "kern-badge--warning" in listed and "eingeschränkt" in listed
    case_page = client.get(reverse("casework:case", args=[world.case.pk])).content.decode()
    assert "Verarbeitung eingeschränkt seit" in case_page
    assert reverse("casework:case-edit", args=[world.case.pk]) not in case_page
    assert reverse("casework:goal-new", args=[world.case.pk]) not in case_page


def category(world):
    with scopes_disabled():
        return GoalCategory.objects.filter(district=world.district).first().pk


def test_a_case_manager_posting_a_form_anyway_gets_the_message_and_nothing_changes(client, restricted):
    world = restricted
    client.force_login(world.insider)
    response = client.post(reverse("casework:goal-new", args=[world.case.pk]), {
        "category": category(world), "text": "Neu",
        "agreed_on": date.today().isoformat()})
    assert response.status_code == 422 and MESSAGE in response.content.decode()
    with scopes_disabled():
        assert Goal.objects.filter(case=world.case).count() == 1


def test_the_lead_restricts_and_lifts_on_the_page(client, world):
    client.force_login(world.lead)
    url = reverse("casework:participant", args=[world.participant.pk])
    assert reverse("privacy:restrict", args=[world.participant.pk]) in client.get(url).content.decode()
    empty = client.post(reverse("privacy:restrict", args=[world.participant.pk]), {"restriction-reason": " "})
    assert empty.status_code == 422 and "Bitte geben Sie den Grund der Einschränkung an." in empty.content.decode()
    assert fresh(Participant, world.participant.pk).restricted_on is None
    done = client.post(reverse("privacy:restrict", args=[world.participant.pk]), {"restriction-reason": "Widerspruch"})
    assert done.status_code == 302 and fresh(Participant, world.participant.pk).restriction_reason == "Widerspruch"
    assert reverse("privacy:lift", args=[world.participant.pk]) in client.get(url).content.decode()
    client.post(reverse("privacy:lift", args=[world.participant.pk]))
    assert fresh(Participant, world.participant.pk).restricted_on is None


@pytest.mark.parametrize("persona, status", [("insider", 403), ("other_provider", 403), ("coordination", 403),
                                             ("other_district", 403), ("other_lead", 404)])
def test_nobody_else_restricts_on_the_page(client, world, persona, status):
    from .factories import UserFactory

    other_lead = UserFactory(username="other_lead", role="provider_lead", provider=world.other_provider,
                             district=world.district)
    client.force_login(other_lead if persona == "other_lead" else world.personas()[persona])
    response = client.post(reverse("privacy:restrict", args=[world.participant.pk]), {"restriction-reason": "x"})
    assert response.status_code == status
    assert fresh(Participant, world.participant.pk).restricted_on is None


def test_the_restricted_record_is_404_for_another_provider(client, restricted):
    client.force_login(restricted.other_provider_cm)
    assert client.get(reverse("casework:participant", args=[restricted.participant.pk])).status_code == 404


# ---------------------------------------------------------------- API

def test_the_api_refuses_a_change_in_german_and_lists_leave_the_record_out(restricted):
    world = restricted
    api = Api(world.insider)
    response = api.patch(f"participants/{world.participant.pk}/", {"phone": "0999"})
    assert 400 <= response.status_code < 500
    assert MESSAGE in json.dumps(response.json(), ensure_ascii=False)
    assert fresh(Participant, world.participant.pk).phone != "0999"
    goal = api.post("goals/", {"case": world.case.pk, "category": category(world), "text": "Neu", "agreed_on": date.today().isoformat()})
    assert goal.status_code == 400 and MESSAGE in json.dumps(goal.json(), ensure_ascii=False)
    for path in ("participants/", "cases/", "goals/", "appointments/", "consents/"):
        listed = api.get(path).json()
        assert listed["count"] == 0, path
    assert api.get(f"participants/{world.participant.pk}/").status_code == 200  # shown on its own


# ---------------------------------------------------------------- import and export

def test_the_import_refuses_rows_of_a_restricted_person_and_writes_nothing(world, town):  # noqa: F811
    assert do_import(world.insider, standard_file()).status == ImportRun.Status.DONE
    with scope(district=world.district.pk):
        amina = Participant.objects.get(external_id="P1")
        restrict(world.lead, amina, "Widerspruch")
    before = entries(world, object_type__startswith="casework.").exclude(action="read").count()
    changed = standard_file({("Teilnehmende", 1, "Sprachen"): "Dari", ("Teilnehmende", 2, "Sprachen"): "Kurdisch",
                             ("Termine", 1, "Dauer (Minuten)"): 75})
    run = do_import(world.insider, changed)
    assert run.status == ImportRun.Status.CHECKED
    listed = problems(run)
    assert any(p.startswith("Teilnehmende:2::" + " " + MESSAGE) for p in listed), listed
    assert any(p.startswith("Termine:2::") and MESSAGE in p for p in listed), listed
    assert not any(p.startswith("Teilnehmende:3:") for p in listed), listed  # Yusuf is not restricted
    with scopes_disabled():
        assert Participant.objects.get(external_id="P2").languages == "Türkisch"  # nothing half written
        assert Participant.objects.get(external_id="P1").languages == "Dari; Deutsch"
    assert entries(world, object_type__startswith="casework.").exclude(action="read").count() == before


def test_the_export_leaves_restricted_records_out_and_says_how_many(client, restricted):
    world = restricted
    from .factories import CaseFactory, ParticipantFactory

    other = ParticipantFactory(responsible=world.insider, last_name="Offen")
    CaseFactory(participant=other)
    client.force_login(world.lead)
    workbook = load_workbook(io.BytesIO(b"".join(client.post(reverse("exchange:export", args=["xlsx"])).streaming_content)))
    people = list(workbook["Teilnehmende"].iter_rows(min_row=2, values_only=True))
    assert [row[2] for row in people] == ["Offen"]
    assert len(list(workbook["Fälle"].iter_rows(min_row=2, values_only=True))) == 1
    assert not list(workbook["Ziele"].iter_rows(min_row=2, values_only=True))
    assert not list(workbook["Termine"].iter_rows(min_row=2, values_only=True))
    note = workbook["Hinweis"]["A1"].value
    assert note.startswith("1 Person(en) wurden nicht exportiert") and "Qasimova" not in note
    payload = json.loads(b"".join(client.post(reverse("exchange:export", args=["json"])).streaming_content))
    assert len(payload["Teilnehmende"]) == 1 and payload["Hinweis"].startswith("1 Person(en)")
    assert world.participant.code not in json.dumps(payload, ensure_ascii=False)


def test_reports_still_count_restricted_records(restricted):
    """A count is no processing of the record in the sense of Art. 18 (see kim.privacy.restriction)."""
    world = restricted
    with scope(district=world.district.pk):
        assert Case.objects.for_statistics(world.coordination).filter(participant=world.participant).count() == 1
        assert Case.objects.for_statistics(world.lead).filter(pk=world.case.pk).exists()



def test_a_need_report_cannot_name_a_restricted_case(restricted):
    """Linking the case to a report uses the record for another purpose: refused like a change."""
    from kim.system.models import NeedReport
    from kim.system.services import send_need_report

    world = restricted
    with scope(district=world.district.pk), pytest.raises(ValidationError) as error:
        send_need_report(world.insider, {"challenge": "Keine Kita-Plätze für Kinder ab drei."}, cases=[world.case])
    assert MESSAGE in " ".join(error.value.messages)
    with scopes_disabled():
        assert not NeedReport.objects.exists()


def test_a_restriction_set_by_an_erasure_request_is_not_lifted_but_ends_with_the_cancellation(world):
    from kim.privacy.erasure import cancel_erasure, request_erasure

    with scope(district=world.district.pk):
        erasure = request_erasure(world.lead, world.participant, reason="Antrag der Person",
                                  confirmation=world.participant.code)
        with pytest.raises(ValidationError) as error:
            lift_restriction(world.lead, fresh(Participant, world.participant.pk))
        assert "Löschung" in " ".join(error.value.messages)
        assert fresh(Participant, world.participant.pk).restricted_on is not None
        with pytest.raises(ValidationError):  # and frozen like any restricted record
            services.update_participant(world.insider, fresh(Participant, world.participant.pk), {"phone": "1"})
        cancel_erasure(world.lead, erasure)
    assert fresh(Participant, world.participant.pk).restricted_on is None


def test_the_import_refuses_rows_that_name_an_anonymised_person(world, town):  # noqa: F811
    """Attack A7: an old file, or the new code of the trace, must not write names into it again."""
    from kim.privacy import retention

    with scopes_disabled():
        world.case.opened_on, world.case.closed_on = date(2020, 1, 1), date(2020, 5, 1)
        world.case.save()
        world.appointment.date = date(2020, 2, 1)
        world.appointment.save()
    retention.run(world.district, date(2026, 1, 1))
    with scopes_disabled():
        trace = Participant.objects.get(pk=world.participant.pk)
    assert trace.anonymised_on
    changed = standard_file({("Teilnehmende", 1, "Kennung"): trace.code, ("Teilnehmende", 1, "Vorname"): "Wieder"})
    run = do_import(world.insider, changed)
    assert run.status == ImportRun.Status.CHECKED
    assert any(p.startswith("Teilnehmende:2::") and "anonymisiert" in p for p in problems(run)), problems(run)
    with scopes_disabled():
        assert Participant.objects.get(pk=trace.pk).first_name == ""


def test_restricting_twice_says_so_where_the_user_looks(client, world):
    """Attack A6: the second request (another tab, a double click) used to answer a silent 422."""
    client.force_login(world.lead)
    url = reverse("privacy:restrict", args=[world.participant.pk])
    assert client.post(url, {"restriction-reason": "Richtigkeit bestritten"}).status_code == 302
    again = client.post(url, {"restriction-reason": "nochmal"}, follow=True)
    assert "Die Verarbeitung dieses Datensatzes ist bereits eingeschränkt." in again.content.decode()
    with scopes_disabled():
        assert Participant.objects.get(pk=world.participant.pk).restriction_reason == "Richtigkeit bestritten"


@pytest.mark.parametrize("htmx", [True, False])
def test_a_quick_appointment_sent_after_the_restriction_says_why(client, restricted, htmx):
    """Attack A13: the panel came back without form and without a message: the entry vanished."""
    world = restricted
    client.force_login(world.insider)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    with scopes_disabled():
        topic = Topic.objects.filter(district=world.district).first()
    response = client.post(reverse("casework:case-appointment-new", args=[world.case.pk]), {
        "appt-date": date.today().isoformat(), "appt-duration_minutes": "30", "appt-kind": "counselling",
        "appt-complexity": "one_off", "appt-place": "office", "appt-topics": [topic.pk]}, **headers)
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="form-errors"' in page and "eingeschränkt" in page
    assert reverse("casework:appointment-edit", args=[world.appointment.pk]) not in page
