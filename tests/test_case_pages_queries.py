"""The case worker's pages ask a fixed number of queries whatever the size of the record: the
case page with 2 or 120 appointments, the participant page with 1 or 30 cases (issue 13)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from kim.casework.models import Appointment, Assessment, Case

# Session, user with district and provider, second-factor device, the read's audit entry and the
# page's own records; the same number for a short and a long record.
CASE_PAGE_QUERIES = 18
PARTICIPANT_PAGE_QUERIES = 12


def add_appointments(world, case, n):
    today = timezone.localdate()
    with scopes_disabled():
        Appointment.objects.bulk_create([
            Appointment(district=world.district, provider=world.provider, case=case, case_manager=world.insider,
                        kind=Appointment.Kind.OTHER, date=today - timedelta(days=i + 1), duration_minutes=30)
            for i in range(n)])
        Assessment.objects.create(case=case, assessed_on=today - timedelta(days=40), author=world.insider)


def add_cases(world, n):
    mine = world.case
    with scopes_disabled():
        Case.objects.bulk_create([
            Case(district=world.district, provider=world.provider, participant=world.participant,
                 case_manager=world.insider, municipality=mine.municipality, kind=mine.kind,
                 target_group=mine.target_group, referral_source=mine.referral_source,
                 opened_on=mine.opened_on)
            for _ in range(n)])


def queries_of(client, url, django_assert_max_num_queries, most):
    client.get(url)  # the session's first request marks it (kim.core.middleware)
    with django_assert_max_num_queries(most) as captured:
        body = client.get(url).content.decode()
    return len(captured), body


@pytest.mark.parametrize("appointments", [2, 120])
def test_the_case_page_asks_the_same_queries_for_a_short_and_a_long_case(
        client, world, appointments, django_assert_max_num_queries):
    add_appointments(world, world.case, appointments)
    client.force_login(world.insider)
    with scopes_disabled():
        total = world.case.appointments.count()
    count, body = queries_of(client, reverse("casework:case", args=[world.case.pk]),
                             django_assert_max_num_queries, CASE_PAGE_QUERIES)
    assert count == CASE_PAGE_QUERIES
    # The heading counts all appointments; the list shows the latest twenty.
    assert f"({total})" in body
    panel = body.split('id="h-appointments"', 1)[1].split("</tbody>", 1)[0]
    assert panel.count('<tr class="kern-table__row"><td class="kern-table__cell">') == min(total, 20)


@pytest.mark.parametrize("cases", [0, 30])
def test_the_participant_page_asks_the_same_queries_for_one_and_many_cases(
        client, world, cases, django_assert_max_num_queries):
    add_cases(world, cases)
    client.force_login(world.insider)
    count, body = queries_of(client, reverse("casework:participant", args=[world.participant.pk]),
                             django_assert_max_num_queries, PARTICIPANT_PAGE_QUERIES)
    assert count == PARTICIPANT_PAGE_QUERIES
    with scopes_disabled():
        numbers = list(Case.objects.filter(participant=world.participant).values_list("pk", flat=True))
    assert all(reverse("casework:case", args=[pk]) in body for pk in numbers)
