"""The topic links carry their appointment's district and date (casework.AppointmentTopic, kept by
database triggers), and R2, which reads the links of one district-year through them, stays equal
to counting the raw rows: whichever way a link was written or an appointment moved."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django_scopes import scope, scopes_disabled

from kim.casework.models import Appointment, AppointmentTopic
from kim.core.models import Role, Topic
from kim.reports.framework import ReportParams, build_table
from kim.reports.periods import Period

from .factories import AppointmentFactory, CaseFactory, ParticipantFactory, UserFactory

YEAR = date.today().year - 1


def copies_are_right():
    with scopes_disabled():
        wrong = [(link.pk, link.district_id, link.date, link.appointment.district_id, link.appointment.date)
                 for link in AppointmentTopic.objects.select_related("appointment")
                 if (link.district_id, link.date) != (link.appointment.district_id, link.appointment.date)]
    assert wrong == []


def raw_topic_mentions(district):
    """R2 counted from the appointments and the bare link rows, without the copies."""
    with scopes_disabled():
        counselling = dict(Appointment.objects.filter(
            district=district, kind=Appointment.Kind.COUNSELLING, handed_over=False,
            date__range=(date(YEAR, 1, 1), date(YEAR, 12, 31))).values_list("pk", "provider_id"))
        counts = {}
        for appointment_id, topic_id in AppointmentTopic.objects.values_list("appointment_id", "topic_id"):
            if appointment_id in counselling:
                counts[topic_id] = counts.get(topic_id, 0) + 1
    return counts


def r2_mentions(lead):
    params = ReportParams(Period.of("year", YEAR), date(YEAR, 12, 31), top=100)
    with scope(district=lead.district_id):
        table = build_table(lead, "R2", params)
    return {row.key: row.values["n@0"] for row in table.rows if row.key != "total" and row.values["n@0"]}


@pytest.fixture
def two_districts(world):
    """Counselling with topics in both districts, on the year's edges and beside it."""
    made = []
    for district, manager in ((world.district, world.insider), (world.other_district, world.other_district_cm)):
        with scopes_disabled():
            topics = list(Topic.objects.filter(district=district)[:3])
        case = CaseFactory(participant=ParticipantFactory(responsible=manager), opened_on=date(YEAR - 1, 6, 1))
        for day, chosen in ((date(YEAR, 1, 1), topics[:1]), (date(YEAR, 12, 31), topics[:2]),
                            (date(YEAR - 1, 12, 31), topics), (date(YEAR, 6, 30), topics[1:])):
            made.append(AppointmentFactory(case=case, date=day, topics=chosen))
    return made


def test_links_take_district_and_date_from_their_appointment(two_districts):
    copies_are_right()


def test_a_moved_appointment_takes_its_links_along(world, two_districts):
    inside, outside = two_districts[0], two_districts[2]
    with scopes_disabled():
        inside.date = date(YEAR + 1, 1, 1)  # out of the year, through save()
        inside.save()
        Appointment.objects.filter(pk=outside.pk).update(date=date(YEAR, 3, 1))  # in, through a bulk update
    copies_are_right()
    lead = UserFactory(role=Role.PROVIDER_LEAD, provider=world.provider, district=world.district)
    assert r2_mentions(lead) == raw_topic_mentions(world.district)


def test_links_written_in_bulk_or_with_wrong_copies_are_corrected(world, two_districts):
    appointment = two_districts[1]
    with scopes_disabled():
        spare = Topic.objects.filter(district=world.district).exclude(
            pk__in=appointment.topics.values("pk")).first()
        # As the import and the demo write them: in bulk, the copies not given, or given wrongly.
        AppointmentTopic.objects.bulk_create([AppointmentTopic(appointment=appointment, topic=spare,
                                                               district=world.other_district, date=date(2000, 1, 1))])
        AppointmentTopic.objects.filter(appointment=appointment).update(date=date(2000, 1, 1))
    copies_are_right()


def test_r2_counts_the_district_year_exactly(world, two_districts):
    for district, provider in ((world.district, world.provider), (world.other_district, None)):
        with scopes_disabled():
            provider = provider or two_districts[-1].provider
        lead = UserFactory(role=Role.PROVIDER_LEAD, provider=provider, district=district)
        expected = raw_topic_mentions(district)
        assert expected and r2_mentions(lead) == expected


def test_the_triggers_exist_on_this_database(db):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE %s", ["%topic_link%"])
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s", ["%topic_link%"])
        names = {row[0] for row in cursor.fetchall()}
    assert {"casework_topic_link_copies", "casework_appointment_moves_topic_links"} <= names


def test_a_year_apart_is_not_counted(world, two_districts):
    lead = UserFactory(role=Role.PROVIDER_LEAD, provider=world.provider, district=world.district)
    with scopes_disabled():
        for appointment in two_districts[:4]:
            Appointment.objects.filter(pk=appointment.pk).update(date=appointment.date - timedelta(days=400))
    assert r2_mentions(lead) == raw_topic_mentions(world.district) == {}


def test_the_completeness_gap_of_counselling_without_topic(world, two_districts):
    """R15's gap "counselling appointment without topic", read through the links' copies: exactly
    the cases with such an appointment in the period, in either district."""
    from kim.casework.models import Case
    from kim.reports.definitions import completeness_gaps

    period = Period.of("year", YEAR)
    case = two_districts[0].case  # open through the year, its appointments all with topics
    untopiced_in_year = AppointmentFactory(case=case, date=date(YEAR, 12, 31))
    other = CaseFactory(participant=ParticipantFactory(responsible=world.other_district_cm), opened_on=date(YEAR - 1, 1, 1))
    AppointmentFactory(case=other, date=date(YEAR - 1, 12, 31))  # the year before: no gap in this year
    with scopes_disabled():
        AppointmentTopic.objects.filter(appointment__in=[untopiced_in_year, *other.appointments.all()]).delete()
        expected = {a.case_id for a in Appointment.objects.filter(
            kind=Appointment.Kind.COUNSELLING, date__range=(period.start, period.end), case__isnull=False)
            if not AppointmentTopic.objects.filter(appointment_id=a.pk).exists()}
        flagged = set(completeness_gaps(Case.objects.all(), period, date(YEAR, 12, 31))
                      .filter(gap_appointments_no_topic=True).values_list("pk", flat=True))
    assert expected == flagged == {case.pk}
    for district in (world.district, world.other_district):
        with scope(district=district.pk):
            in_scope = set(completeness_gaps(Case.objects.all(), period, date(YEAR, 12, 31))
                           .filter(gap_appointments_no_topic=True).values_list("pk", flat=True))
        assert in_scope == ({case.pk} if district == world.district else set())
