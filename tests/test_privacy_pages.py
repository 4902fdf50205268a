"""The data-protection pages: erasure requested and cancelled by the provider lead, the
district's retention periods set by the district administrator; everyone else refused."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from kim.casework.models import Participant
from kim.privacy.models import Erasure, RetentionPeriod

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def erasure_url(world):
    return reverse("privacy:erasure-new", args=[world.participant.pk])


def test_the_lead_requests_an_erasure_and_the_page_says_when(client, world):
    login(client, world.lead)
    response = client.post(erasure_url(world), {"reason": "Antrag vom 1.12.", "confirmation": world.participant.code})
    assert response.status_code == 302
    page = client.get(reverse("casework:participant", args=[world.participant.pk])).content.decode()
    due = (timezone.localdate() + timedelta(days=90)).strftime("%d.%m.%Y")
    assert f"Löschung beantragt: Der Datensatz wird am {due} gelöscht." in page
    assert "Löschung zurücknehmen" in page


def test_a_wrong_code_is_shown_on_the_form_and_nothing_changes(client, world):
    login(client, world.lead)
    response = client.post(erasure_url(world), {"reason": "Antrag", "confirmation": "TN-FALSCH"})
    assert response.status_code == 422
    assert f"Geben Sie die Kennung {world.participant.code} der teilnehmenden Person zur Bestätigung ein." in response.content.decode()
    with scopes_disabled():
        assert not Erasure.objects.exists()


def test_an_empty_form_answers_422(client, world):
    login(client, world.lead)
    assert client.post(erasure_url(world), {}).status_code == 422


@pytest.mark.parametrize("persona", ["insider", "other_provider_cm", "coordination", "district_admin"])
def test_others_cannot_request_an_erasure(client, world, persona):
    login(client, getattr(world, persona))
    assert client.post(erasure_url(world), {"reason": "x", "confirmation": world.participant.code}).status_code in (
        403, 404)
    with scopes_disabled():
        assert not Erasure.objects.exists()


def test_the_lead_of_another_provider_gets_404(client, world):
    from .factories import UserFactory
    from kim.core.models import Role

    other_lead = UserFactory(district=world.district, provider=world.other_provider, role=Role.PROVIDER_LEAD)
    login(client, other_lead)
    assert client.get(erasure_url(world)).status_code == 404


def test_the_lead_cancels_within_the_window(client, world):
    login(client, world.lead)
    client.post(erasure_url(world), {"reason": "Antrag", "confirmation": world.participant.code})
    with scopes_disabled():
        erasure = Erasure.objects.get()
    assert client.post(reverse("privacy:erasure-cancel", args=[erasure.pk])).status_code == 302
    with scopes_disabled():
        assert Erasure.objects.get().status == Erasure.Status.CANCELLED
        assert Participant.objects.get(pk=world.participant.pk).restricted_on is None


def test_the_district_administrator_sets_periods_within_bounds(client, world):
    login(client, world.district_admin)
    page = client.get(reverse("privacy:index")).content.decode()
    assert "Falldaten des Case Managements" in page and "Löschung auf Verlangen" in page
    response = client.post(reverse("privacy:periods"), {"case_data": "48", "short_counselling": "12",
                                                       "consent_withdrawn": "1", "module3": "36", "uploads": "7",
                                                       "read_log": "24", "access": "90", "worker": "30"})
    assert response.status_code == 302
    with scopes_disabled():
        assert RetentionPeriod.objects.get(district=world.district, deletion_class="case_data").period == 48
    response = client.post(reverse("privacy:periods"), {"case_data": "500", "short_counselling": "12"})
    assert response.status_code == 422
    assert "kleiner oder gleich 120" in response.content.decode()
    with scopes_disabled():
        assert RetentionPeriod.objects.get(district=world.district, deletion_class="case_data").period == 48


@pytest.mark.parametrize("persona", ["insider", "coordination", "steering"])
def test_other_roles_do_not_reach_the_page(client, world, persona):
    login(client, getattr(world, persona))
    assert client.get(reverse("privacy:index")).status_code == 403
    assert client.post(reverse("privacy:periods"), {"case_data": "12"}).status_code == 403


def test_an_anonymised_record_is_not_listed(client, world):
    from kim.privacy import retention

    with scopes_disabled():
        world.case.closed_on = date(2020, 5, 1)
        world.case.opened_on = date(2020, 1, 1)
        world.case.save()
        world.appointment.date = date(2020, 2, 1)
        world.appointment.save()
    retention.run(world.district, date(2026, 1, 1))
    login(client, world.insider)
    page = client.get(reverse("casework:participants")).content.decode()
    assert world.participant.last_name not in page
    detail = client.get(reverse("casework:participant", args=[world.participant.pk]))
    assert detail.status_code == 410 and "wurden am 01.01.2026 anonymisiert oder gelöscht" in detail.content.decode()


def test_an_anonymised_records_edit_pages_offer_no_form(client, world):
    """Attack A17: the edit pages of a trace showed full (empty) forms."""
    from kim.privacy import retention

    with scopes_disabled():
        world.case.opened_on, world.case.closed_on = date(2020, 1, 1), date(2020, 5, 1)
        world.case.save()
        world.appointment.date = date(2020, 2, 1)
        world.appointment.save()
    retention.run(world.district, date(2026, 1, 1))
    login(client, world.insider)
    for url in (reverse("casework:participant-edit", args=[world.participant.pk]),
                reverse("casework:case", args=[world.case.pk]),
                reverse("casework:case-edit", args=[world.case.pk]),
                reverse("casework:appointment-edit", args=[world.appointment.pk])):
        response = client.get(url)
        assert response.status_code == 410 and 'name="first_name"' not in response.content.decode()
        assert 'name="duration_minutes"' not in response.content.decode()


def test_the_api_hands_out_no_trace(world):
    """Verification V1: /api/v1/cases/<pk>/ still answered 200 for an anonymised case."""
    from kim.privacy import retention

    from .test_api import Api

    with scopes_disabled():
        world.case.opened_on, world.case.closed_on = date(2020, 1, 1), date(2020, 5, 1)
        world.case.save()
        world.appointment.date = date(2020, 2, 1)
        world.appointment.save()
    retention.run(world.district, date(2026, 1, 1))
    api = Api(world.insider)
    assert api.get(f"cases/{world.case.pk}/").status_code == 404
    assert api.get(f"participants/{world.participant.pk}/").status_code == 404
    assert api.get(f"appointments/{world.appointment.pk}/").status_code == 404


def test_the_list_of_pending_erasures_is_a_read_of_those_records(client, world):
    from kim.core.models import AuditEntry

    login(client, world.lead)
    client.post(erasure_url(world), {"reason": "Antrag", "confirmation": world.participant.code})
    client.get(reverse("privacy:index"))
    with scopes_disabled():
        listed = AuditEntry.objects.filter(action="read", object_id="", actor=world.lead).last()
    assert listed and world.participant.code in listed.changes["listed"]
