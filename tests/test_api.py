"""The REST API: token authentication, the same scope as the pages for every persona, writes
validated by the pages' forms and written by the services (audited), reports with suppression,
and the OpenAPI schema it serves."""

import json

import pytest
from django.core.management import call_command
from django.test import Client
from django_scopes import scopes_disabled

from kim.api.models import ApiToken, hash_token
from kim.casework.models import Appointment, Case, Participant
from kim.core.models import AuditEntry, TargetGroup, Topic


def make_token(user) -> str:
    key = ApiToken.new_key()
    ApiToken.objects.create(user=user, name="Test", prefix=key[4:12], key_hash=hash_token(key))
    return key


class Api:
    def __init__(self, user=None, key=None):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Token {key or make_token(user)}"}

    def get(self, path, **params):
        return self.client.get(f"/api/v1/{path}", params, **self.headers)

    def post(self, path, body):
        return self.client.post(f"/api/v1/{path}", json.dumps(body), content_type="application/json", **self.headers)

    def patch(self, path, body):
        return self.client.patch(f"/api/v1/{path}", json.dumps(body), content_type="application/json", **self.headers)


def test_without_a_valid_token_nothing_is_answered(world):
    client = Client()
    assert client.get("/api/v1/participants/").status_code == 401
    assert client.get("/api/v1/participants/", HTTP_AUTHORIZATION="Token kim_falsch").status_code == 401
    key = make_token(world.insider)
    ApiToken.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert Api(key=key).get("participants/").status_code == 401
    # A session login is no way in either: the API knows tokens only.
    client.force_login(world.insider)
    assert client.get("/api/v1/participants/").status_code == 401


@pytest.mark.parametrize("persona, listed, detail", [
    ("insider", 1, 200), ("lead", 1, 200), ("colleague", 0, 404), ("other_provider", 0, 404),
    ("other_district", 0, 404), ("coordination", None, 403), ("steering", None, 403), ("district_admin", None, 403),
])
def test_a_token_sees_exactly_what_its_user_sees(world, persona, listed, detail):
    api = Api(world.personas()[persona])
    response = api.get("participants/")
    if listed is None:
        assert response.status_code == 403
    else:
        assert response.status_code == 200 and response.json()["count"] == listed
    for path in (f"participants/{world.participant.pk}/", f"cases/{world.case.pk}/", f"goals/{world.goal.pk}/",
                 f"appointments/{world.appointment.pk}/"):
        assert api.get(path).status_code == detail, (persona, path)


def test_reading_a_record_through_the_api_is_audited(world):
    Api(world.insider).get(f"participants/{world.participant.pk}/")
    assert AuditEntry.objects.filter(action="read", object_type="casework.participant", actor=world.insider,
                                     object_id=str(world.participant.pk)).exists()


def test_a_participant_is_created_and_changed_through_the_forms_rules(world):
    api = Api(world.insider)
    with scopes_disabled():
        town = Participant.objects.get(pk=world.participant.pk).municipality_id
    bad = api.post("participants/", {"first_name": "Lena", "last_name": "Novak", "birth_date": "2999-01-01", "gender": "f",
                                     "municipality": town})
    assert bad.status_code == 400
    assert bad.json()["birth_date"] == ["Das Datum kann nicht in der Zukunft liegen."]
    created = api.post("participants/", {"first_name": "Lena", "last_name": "Novak", "birth_date": "1990-05-01", "gender": "f",
                                         "municipality": town, "consent_given_on": "2025-01-10"})
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    with scopes_disabled():
        person = Participant.objects.get(pk=pk)
        assert person.provider == world.provider and person.consents.count() == 1
    assert AuditEntry.objects.filter(action="create", object_type="casework.participant", object_id=str(pk)).exists()
    # The same name and birth date again: refused like on the page, unless confirmed.
    again = api.post("participants/", {"first_name": "Lena", "last_name": "Novak", "birth_date": "1990-05-01", "gender": "f",
                                       "municipality": town})
    assert again.status_code == 400 and "confirm_duplicate" in again.json()
    changed = api.patch(f"participants/{pk}/", {"languages": "Kroatisch, Deutsch"})
    assert changed.status_code == 200, changed.json()
    assert changed.json()["languages"] == "Kroatisch, Deutsch"
    assert changed.json()["first_name"] == "Lena"  # a PATCH keeps what it does not name
    # Another provider's case manager cannot change it.
    assert Api(world.other_provider_cm).patch(f"participants/{pk}/", {"languages": "x"}).status_code == 404


def test_cases_goals_and_appointments_follow_the_services_rules(world):
    api = Api(world.insider)
    with scopes_disabled():
        target = TargetGroup.objects.filter(district=world.district).first().pk
        source = world.case.referral_source_id
        topic = Topic.objects.filter(district=world.district).first().pk
        town = world.participant.municipality_id
    person = api.post("participants/", {"first_name": "Omar", "last_name": "Said", "birth_date": "1985-02-03", "gender": "m",
                                        "municipality": town}).json()["id"]
    case = {"participant": person, "kind": "case_management", "municipality": town, "target_group": target,
            "referral_source": source, "opened_on": "2025-03-01"}
    refused = api.post("cases/", case)
    assert refused.status_code == 400 and "Einwilligung" in json.dumps(refused.json(), ensure_ascii=False)
    short = api.post("cases/", {**case, "kind": "short_counselling"})
    assert short.status_code == 201, short.json()
    case_id = short.json()["id"]
    no_topic = api.post("appointments/", {"case": case_id, "date": "2025-03-02", "duration_minutes": 30,
                                          "kind": "counselling", "complexity": "one_off", "place": "office"})
    assert no_topic.status_code == 400 and "topics" in no_topic.json()
    made = api.post("appointments/", {"case": case_id, "date": "2025-03-02", "duration_minutes": 30,
                                      "kind": "counselling", "complexity": "one_off", "place": "office",
                                      "topics": [topic]})
    assert made.status_code == 201, made.json()
    assert api.patch(f"appointments/{made.json()['id']}/", {"duration_minutes": 45}).json()["duration_minutes"] == 45
    before = api.post("appointments/", {"case": case_id, "date": "2025-02-01", "duration_minutes": 30,
                                        "kind": "counselling", "complexity": "one_off", "place": "office",
                                        "topics": [topic]})
    assert before.status_code == 400 and "date" in before.json()
    with scopes_disabled():
        assert Appointment.objects.filter(case_id=case_id).count() == 1
        assert Case.objects.get(pk=case_id).case_manager == world.insider
    goal = api.post("goals/", {"case": world.case.pk, "category": world.goal.category_id, "text": "Wohnung finden",
                               "agreed_on": str(world.case.opened_on)})
    assert goal.status_code == 201, goal.json()
    status = api.post(f"goals/{goal.json()['id']}/status/", {"status": "achieved",
                                                             "status_changed_on": str(world.case.opened_on)})
    assert status.status_code == 200 and status.json()["status"] == "achieved"
    closed = api.post(f"cases/{case_id}/close/", {"closed_on": "2025-03-05", "closure_reason": 999999})
    assert closed.status_code == 400


def test_reports_come_with_suppression_for_aggregate_readers(world):
    coordination = Api(world.coordination).get("reports/R1/", year=2025)
    assert coordination.status_code == 200
    body = coordination.json()
    assert body["report"] == "R1" and body["suppression"]["applied"] is True
    lead = Api(world.lead).get("reports/R1/", year=2025).json()
    assert lead["suppression"]["applied"] is False
    assert Api(world.coordination).get("reports/R1/", year=2025, period="quarter", number=1).status_code == 400
    assert Api(world.coordination).get("reports/R99/").status_code == 404
    assert [r["id"] for r in Api(world.steering).get("reports/").json()][:2] == ["R1", "R2"]
    catalogues = Api(world.coordination).get("catalogues/").json()
    assert "Duldung/Gestattung" in [e["label"] for e in catalogues["target-groups"]]


def test_the_schema_is_served_and_names_every_endpoint(client):
    response = client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/participants/", "/api/v1/cases/{id}/close/", "/api/v1/reports/{report_id}/"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["tokenAuth"]["in"] == "header"


def test_the_command_line_makes_and_revokes_tokens(world, capsys):
    call_command("create_token", "insider", "--name", "Jobcenter")
    key = capsys.readouterr().out.strip()
    assert key.startswith("kim_") and Api(key=key).get("participants/").status_code == 200
    assert ApiToken.objects.get().key_hash == hash_token(key)  # only the hash is kept
    call_command("create_token", "--revoke", key[4:12])
    assert Api(key=key).get("participants/").status_code == 401


def test_lists_are_bounded_and_show_no_contact_data(world):
    body = Api(world.insider).get("participants/", limit=1_000_000).json()
    assert set(body["results"][0]) == {"id", "code", "first_name", "last_name", "birth_date", "municipality",
                                       "responsible"}
    assert "limit=500" in (body["next"] or "limit=500")
    Api(world.insider).get(f"cases/{world.case.pk}/")
    assert AuditEntry.objects.filter(action="read", object_type="casework.case", object_id=str(world.case.pk)).exists()


@pytest.mark.parametrize("path, expected", [
    ("participants/999999/", "Kein solcher Datensatz"),
    ("nichtda/", "Diese API-Adresse gibt es nicht."),
    ("participants/abc/", "Diese API-Adresse gibt es nicht."),
])
def test_not_found_is_answered_in_german_json(world, path, expected):
    answer = Api(world.insider).get(path)
    assert answer.status_code == 404 and answer["Content-Type"] == "application/json"
    assert expected in answer.json()["detail"]


def test_a_body_that_is_no_json_is_refused_in_german(world):
    api = Api(world.insider)
    path = f"/api/v1/participants/{world.participant.pk}/"
    broken = api.client.patch(path, "{kaputt", content_type="application/json", **api.headers)
    assert broken.status_code == 400 and broken.json() == {"detail": "Der Inhalt der Anfrage ist kein gültiges JSON."}
    form = api.client.patch(path, "a=b", content_type="application/x-www-form-urlencoded", **api.headers)
    assert form.status_code == 415 and "nur JSON" in form.json()["detail"]


def test_options_describes_nothing_in_english(world):
    """DRF's OPTIONS metadata named the endpoints "Participant List" (second attack): the
    OpenAPI schema documents the API, OPTIONS is refused in German."""
    api = Api(world.insider)
    answer = api.client.options("/api/v1/participants/", **api.headers)
    assert answer.status_code == 405 and "nicht erlaubt" in answer.json()["detail"]
