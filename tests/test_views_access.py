"""Every view, every persona: who gets the page, who gets 404 (outside the scope) or 403
(a role without access). Objects outside the scope must never be told apart from missing."""

import pytest
from django.urls import reverse
from django_scopes import scope

from kim.casework.services import create_household
from kim.core.models import AuditEntry

from .factories import ParticipantFactory

ALLOWED, HIDDEN, FORBIDDEN = 200, 404, 403
PERSONAL_OBJECT_PAGES = [
    ("casework:participant", "participant"),
    ("casework:participant-edit", "participant"),
    ("casework:consent-new", "participant"),
    ("casework:case-new", "participant"),
    ("casework:case", "case"),
    ("casework:case-edit", "case"),
    ("casework:case-close", "case"),
    ("casework:goal-new", "case"),
    ("casework:action-new", "case"),
    ("casework:referral-new", "case"),
    ("casework:goal-status", "goal"),
    ("casework:appointment-edit", "appointment"),
]
# persona -> expected status for an object of the insider's case
EXPECTED = {
    "insider": ALLOWED, "lead": ALLOWED, "colleague": HIDDEN, "other_provider": HIDDEN,
    "other_district": HIDDEN, "coordination": FORBIDDEN, "steering": FORBIDDEN, "district_admin": FORBIDDEN,
    "state": FORBIDDEN,
}


@pytest.mark.parametrize("persona", list(EXPECTED))
@pytest.mark.parametrize("url_name, attribute", PERSONAL_OBJECT_PAGES)
def test_personal_pages_answer_by_persona(client, world, persona, url_name, attribute):
    client.force_login(world.personas()[persona])
    response = client.get(reverse(url_name, args=[getattr(world, attribute).pk]))
    assert response.status_code == EXPECTED[persona]


LIST_PAGES = ["casework:my-cases", "casework:participants", "casework:participant-new",
              "casework:appointments", "casework:appointment-new", "casework:deputies"]


@pytest.mark.parametrize("url_name", LIST_PAGES)
def test_list_pages_show_only_own_provider(client, world, url_name):
    client.force_login(world.insider)
    assert client.get(reverse(url_name)).status_code == 200
    client.force_login(world.other_provider_cm)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert "Qasimova" not in response.content.decode()


@pytest.mark.parametrize("persona", ["coordination", "steering", "district_admin", "state"])
@pytest.mark.parametrize("url_name", LIST_PAGES)
def test_roles_without_personal_data_get_no_case_pages(client, world, persona, url_name):
    client.force_login(world.personas()[persona])
    assert client.get(reverse(url_name)).status_code == FORBIDDEN


def test_insider_sees_own_case_in_my_cases(client, world):
    client.force_login(world.insider)
    assert "Qasimova" in client.get(reverse("casework:my-cases")).content.decode()


def test_opening_a_record_writes_a_read_entry(client, world, no_scopes):
    client.force_login(world.insider)
    client.get(reverse("casework:participant", args=[world.participant.pk]))
    entry = AuditEntry.objects.filter(action="read", object_type="casework.participant").get()
    assert entry.actor == world.insider and entry.object_label == world.participant.code


ADMIN_PAGES = ["admin-organisation", "admin-catalogues", "admin-district-settings"]
STAFF_PAGES = ["admin-users", "admin-user-new"]


@pytest.mark.parametrize("url_name", ADMIN_PAGES)
@pytest.mark.parametrize("persona, status", [("district_admin", 200), ("insider", 403), ("coordination", 403),
                                             ("lead", 403)])
def test_administration_is_for_district_administrators(client, world, url_name, persona, status):
    client.force_login(world.personas()[persona])
    assert client.get(reverse(url_name)).status_code == status


@pytest.mark.parametrize("url_name", STAFF_PAGES)
@pytest.mark.parametrize("persona, status", [("district_admin", 200), ("lead", 200), ("insider", 403),
                                             ("coordination", 403), ("steering", 403)])
def test_staff_accounts_are_managed_by_administrators_and_provider_leads(client, world, url_name, persona, status):
    client.force_login(world.personas()[persona])
    assert client.get(reverse(url_name)).status_code == status


@pytest.mark.parametrize("persona, status", [("lead", 200), ("district_admin", 200), ("insider", 403),
                                             ("coordination", 403)])
def test_audit_trail_access(client, world, persona, status):
    client.force_login(world.personas()[persona])
    assert client.get(reverse("audit-trail")).status_code == status


def test_anonymous_users_are_sent_to_the_login(client, world):
    response = client.get(reverse("casework:case", args=[world.case.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["coordination", "steering", "district_admin", "insider", "state"])
def test_start_page_answers_every_role(client, world, persona):
    client.force_login(world.personas()[persona])
    response = client.get("/", follow=True)
    assert response.status_code == 200


def test_household_members_of_a_colleague_stay_hidden(client, world, no_scopes):
    sibling = ParticipantFactory(responsible=world.colleague, first_name="Verborgen", last_name="Qasimova")
    with scope(district=world.district.pk):
        household = create_household(world.lead, "Familie Qasimova", members=[world.participant, sibling])
    client.force_login(world.insider)
    page = client.get(reverse("casework:participant", args=[world.participant.pk])).content.decode()
    assert household.name in page and "Verborgen" not in page
    client.force_login(world.lead)
    page = client.get(reverse("casework:participant", args=[world.participant.pk])).content.decode()
    assert "Verborgen" in page


def test_editing_through_a_form_audits_before_and_after(client, world, no_scopes):
    client.force_login(world.insider)
    appointment = world.appointment
    response = client.post(reverse("casework:appointment-edit", args=[appointment.pk]), {
        "date": appointment.date.isoformat(), "duration_minutes": 95, "kind": "counselling",
        "complexity": "complex", "topics": list(appointment.topics.values_list("pk", flat=True)),
        "place": "office"})
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(object_type="casework.appointment", action="update").get()
    assert entry.changes["duration_minutes"] == [60, 95]


def test_open_case_counts_include_only_visible_cases(client, world, no_scopes):
    from .factories import CaseFactory

    CaseFactory(participant=world.participant, case_manager=world.colleague)  # not the insider's
    client.force_login(world.insider)
    row = client.get(reverse("casework:participants")).context["page"].object_list[0]
    assert row.open_cases == 1
    client.force_login(world.lead)
    row = client.get(reverse("casework:participants")).context["page"].object_list[0]
    assert row.open_cases == 2
