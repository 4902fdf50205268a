"""The case list says when a re-assessment is due, as a date, and shows the most overdue
cases first; the household choice tells families of the same name apart."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from kim.casework import services
from kim.casework.models import Assessment, add_months, reassessment_due_before, reassessment_due_on

from .factories import CaseFactory, ParticipantFactory

TODAY = timezone.localdate


def test_months_are_added_as_on_a_calendar():
    assert add_months(date(2026, 4, 6), 6) == date(2026, 10, 6)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2026, 1, 15), -6) == date(2025, 7, 15)


def test_due_and_overdue_agree():
    last = date(2026, 4, 6)
    due = reassessment_due_on(last)
    assert last >= reassessment_due_before(due)  # on the due date: due, not yet overdue
    assert last < reassessment_due_before(due + timedelta(days=1))


def assessed(world, days_ago):
    person = ParticipantFactory(responsible=world.insider, last_name=f"Bewertet{days_ago}")
    case = CaseFactory(participant=person)
    with scopes_disabled():
        Assessment.objects.create(case=case, assessed_on=TODAY() - timedelta(days=days_ago), author=world.insider)
    return case


def rows(body):
    return re.findall(r'<tr class="kern-table__row">\s*<td class="kern-table__cell"><a class="kern-link" '
                      r'href="/fallarbeit/fall/\d+/">(F-\d+)</a>.*?</tr>', body, re.S)


def test_the_list_shows_the_due_date_and_the_most_overdue_case_first(client, world):
    recent, overdue, very_overdue = assessed(world, 30), assessed(world, 200), assessed(world, 400)
    client.force_login(world.insider)
    body = client.get(reverse("casework:my-cases")).content.decode()
    assert "+ 6" not in body and "Monaten" not in body
    due = reassessment_due_on(TODAY() - timedelta(days=30))
    assert f"{due:%d.%m.%Y}" in body
    shown = rows(body)
    assert shown[:3] == [very_overdue.number, overdue.number, recent.number]
    assert shown[-1] == world.case.number  # not assessed yet: nothing due
    assert body.count("überfällig") == 2


def test_the_re_assessment_filter_lists_the_overdue_cases_most_overdue_first(client, world):
    _recent, overdue, very_overdue = assessed(world, 30), assessed(world, 200), assessed(world, 400)
    client.force_login(world.insider)
    body = client.get(reverse("casework:my-cases"), {"status": "reassessment"}).content.decode()
    assert rows(body) == [very_overdue.number, overdue.number]


def household_options(body):
    select = re.search(r'<select name="household".*?</select>', body, re.S).group(0)
    return re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>', select)


def test_two_families_of_the_same_name_can_be_told_apart(client, world):
    amal = ParticipantFactory(responsible=world.insider, first_name="Amal", last_name="Haddad")
    karim = ParticipantFactory(responsible=world.insider, first_name="Karim", last_name="Haddad")
    with scope(district=world.district.pk):
        services.create_household(world.insider, "Familie Haddad", members=[amal])
        services.create_household(world.insider, "Familie Haddad (Wuppertal)", members=[karim])
    client.force_login(world.insider)
    options = household_options(client.get(reverse("casework:participant-new")).content.decode())
    assert options == ["Familie Haddad (Amal)", "Familie Haddad (Wuppertal) (Karim)"]


def test_a_second_household_of_the_same_name_is_refused(client, world):
    client.force_login(world.insider)
    with scope(district=world.district.pk):
        services.create_household(world.insider, "Familie Qasimova", members=[world.participant])
    with scopes_disabled():
        municipality = world.participant.municipality_id
    response = client.post(reverse("casework:participant-new"), {
        "first_name": "Dilnoza", "last_name": "Qasimova", "birth_date": "1992-02-02", "gender": "f",
        "municipality": municipality, "new_household": "familie qasimova"})
    assert response.status_code == 422
    assert "Es gibt bereits einen Haushalt „Familie Qasimova“" in response.content.decode()


def open_cases(world, n):
    """`n` open cases of the insider, each with two appointments and an assessment, written in
    bulk (the factories would take minutes for a thousand)."""
    from kim.casework.models import Appointment, Case, Participant, new_participant_code

    mine = world.case
    with scopes_disabled():
        people = Participant.objects.bulk_create([
            Participant(district=world.district, provider=world.provider, responsible=world.insider,
                        first_name="Amal", last_name=f"Viele{i}", birth_date=world.participant.birth_date,
                        municipality=mine.municipality, code=new_participant_code())
            for i in range(n)])
        cases = Case.objects.bulk_create([
            Case(district=world.district, provider=world.provider, participant=person, case_manager=world.insider,
                 municipality=mine.municipality, kind=mine.kind, target_group=mine.target_group,
                 referral_source=mine.referral_source, opened_on=TODAY() - timedelta(days=300 + i % 50))
            for i, person in enumerate(people)])
        Appointment.objects.bulk_create([
            Appointment(district=world.district, provider=world.provider, case=case, case_manager=world.insider,
                        kind=Appointment.Kind.OTHER, date=TODAY() - timedelta(days=days), duration_minutes=30)
            for i, case in enumerate(cases) for days in (10 + i % 120, 200)])
        Assessment.objects.bulk_create([
            Assessment(case=case, assessed_on=TODAY() - timedelta(days=30 + i % 300), author=world.insider)
            for i, case in enumerate(cases)])
    return cases


@pytest.mark.parametrize("caseload", [30, 1000])
def test_my_cases_asks_a_fixed_number_of_queries_whatever_the_caseload(
        client, world, caseload, django_assert_max_num_queries):
    cases = open_cases(world, caseload)
    client.force_login(world.insider)
    client.get(reverse("casework:my-cases"))  # the session's first request marks it (kim.core.middleware)
    with django_assert_max_num_queries(15):
        body = client.get(reverse("casework:my-cases")).content.decode()
    shown = rows(body)
    assert len(shown) == min(50, caseload + 1)  # one page (the world's own case has no assessment: last)
    # Most overdue re-assessment first, then the newest case (BY_URGENCY), whatever the caseload.
    with scopes_disabled():
        assessed_on = dict(Assessment.objects.filter(case__in=cases).values_list("case_id", "assessed_on"))
    expected = sorted(cases, key=lambda case: (assessed_on[case.pk], -case.opened_on.toordinal(), -case.pk))
    assert shown[:20] == [case.number for case in expected[:20]]
    # The per-case dates of the page are each case's latest, as before.
    first = expected[0]
    with scopes_disabled():
        last_appointment = first.appointments.order_by("-date").values_list("date", flat=True)[0]
    row = re.search(rf'{first.number}</a>.*?</tr>', body, re.S).group(0)
    assert f"{last_appointment:%d.%m.%Y}" in row
    assert f"{reassessment_due_on(assessed_on[first.pk]):%d.%m.%Y}" in row
