"""Reports against an independent plain-Python count of the same records."""

import random
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_scopes import scope, scopes_disabled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kim.casework.models import Appointment, CaseKind, GoalStatus
from kim.reports.formatting import whole_percent
from kim.reports.framework import (
    ParamError,
    ReportParams,
    build_table,
    parse_params,
    registered_reports,
)
from kim.reports.periods import Period
from kim.staffing.models import Filling

from .factories import make_district
from .report_data import make_org, random_records

YEAR = 2023


def in_year(day, year=YEAR):
    return day is not None and day.year == year


def active_on(case, day):
    return case.opened_on <= day and (case.closed_on is None or case.closed_on >= day)


def overlaps(case, start, end):
    return case.opened_on <= end and (case.closed_on is None or case.closed_on >= start)


def expected_counts(records, year=YEAR, reference=date(YEAR, 6, 30), provider=None):
    """Every report figure, counted record by record in Python."""
    cases = [c for c in records.cases if provider is None or c.provider_id == provider]
    appointments = [(a, t) for a, t in records.appointments if provider is None or a.provider_id == provider]
    goals = [g for g in records.goals if provider is None or g.case.provider_id == provider]
    in_period = [(a, t) for a, t in appointments if in_year(a.date, year)]
    counselling = [(a, t) for a, t in in_period if a.kind == Appointment.Kind.COUNSELLING]
    cm = [c for c in cases if c.kind == CaseKind.CASE_MANAGEMENT]
    result = {
        "R1": {
            "all": len(in_period), "counselling": len(counselling),
            "one_off": sum(1 for a, _ in counselling if a.complexity == "one_off"),
            "complex": sum(1 for a, _ in counselling if a.complexity == "complex"),
            "other": len(in_period) - len(counselling),
            "cases": len({a.case_id for a, _ in counselling if a.case.kind == CaseKind.CASE_MANAGEMENT}),
        },
        "R2": Counter(t for _, topics in counselling for t in topics),
        "R3": Counter(c.target_group_id or "none" for c in cm if active_on(c, reference)),
        "R4": Counter(c.referral_source_id or "none" for c in cm if in_year(c.opened_on, year)),
        "R5": Counter(g.category_id for g in goals if g.status == GoalStatus.ACHIEVED and in_year(g.status_changed_on, year)),
        "R6": Counter(c.screening_outcome_id or "none" for c in cases
                      if c.kind == CaseKind.SCREENING and in_year(c.opened_on, year)),
        "R7": {
            kind: len({c.participant_id for c in cases
                       if c.kind == kind and overlaps(c, date(year, 1, 1), date(year, 12, 31))})
            for kind in (CaseKind.SHORT_COUNSELLING, CaseKind.REFERRAL)
        },
    }
    result["R2"]["total"] = sum(result["R2"].values())
    topic_cases = {}
    for appointment, topics in counselling:
        for topic in topics:
            topic_cases.setdefault(topic, set()).add(appointment.case_id)
    result["R2 cases"] = {topic: len(ids) for topic, ids in topic_cases.items()}
    result["R2 cases"]["total"] = len({a.case_id for a, topics in counselling if topics})
    for key in ("R3", "R4", "R5", "R6"):
        result[key]["total"] = sum(result[key].values())
    return result


def table_values(user, report_id, reference=date(YEAR, 6, 30)):
    unit = "cases" if report_id == "R2 cases" else "mentions"
    params = ReportParams(period=Period.of("year", YEAR), reference_date=reference, top=50, unit=unit)
    report_id = report_id.split()[0]
    with scope(district=user.district_id):
        table = build_table(user, report_id, params)
    return {row.key if isinstance(row.key, str) else row.key: row for row in table.rows}, table


def assert_report_matches(user, expected, hidden_allowed):
    # Counted by case, R2 is for the owners of the data only (topics overlap).
    reports = ("R1", "R2", "R3", "R4", "R5", "R6", "R7") + (() if hidden_allowed else ("R2 cases",))
    for report_id in reports:
        rows, table = table_values(user, report_id)
        for key, row in rows.items():
            want = expected[report_id].get(key, 0) if isinstance(expected[report_id], dict) else 0
            if "n@0" in row.suppressed:
                assert hidden_allowed, f"{report_id} {row.label}: hidden for a reader who owns the data"
                continue
            assert row.values["n@0"] == want, f"{report_id} {row.label}: {row.values['n@0']} != {want}"


@pytest.fixture
def org(db):
    return make_org(make_district("Kreis Probe"))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), n_cases=st.integers(0, 40))
def test_every_report_equals_a_plain_count_of_the_records(org, seed, n_cases):
    with transaction.atomic():
        records = random_records(org, random.Random(seed), YEAR, n_cases)
        for provider in org.providers:
            lead = org.leads[provider.pk]
            assert_report_matches(lead, expected_counts(records, provider=provider.pk), hidden_allowed=False)
        # Coordination sees the whole district; every figure it is shown is right.
        assert_report_matches(org.coordination, expected_counts(records), hidden_allowed=True)
        transaction.set_rollback(True)


def test_cells_shown_as_below_k_are_small_and_no_small_count_is_shown(org):
    records = random_records(org, random.Random(7), YEAR, 60)
    expected = expected_counts(records)
    for report_id in ("R3", "R4", "R6"):
        rows, table = table_values(org.coordination, report_id)
        for key, row in rows.items():
            true_value = expected[report_id].get(key, 0)
            if "n@0" in row.below_k:
                assert true_value < table.k
            elif "n@0" in row.suppressed:
                assert true_value >= table.k  # hidden without range: a count of at least k
            else:
                assert not 0 < row.values["n@0"] < table.k


def test_the_number_of_queries_does_not_grow_with_the_data(org):
    user = org.coordination
    lead = org.leads[org.providers[0].pk]

    def queries_per_report():
        counts = {}
        for reader in (user, lead):
            for report in registered_reports(reader):
                with scope(district=user.district_id), CaptureQueriesContext(connection) as captured:
                    build_table(reader, report.id, ReportParams(Period.of("year", YEAR), date(YEAR, 6, 30),
                                                                compare=report.comparable))
                counts[(reader.username, report.id)] = len(captured)
        return counts

    random_records(org, random.Random(1), YEAR, 10)
    small = queries_per_report()
    random_records(org, random.Random(2), YEAR, 150)
    assert queries_per_report() == small


def test_shares_are_whole_percent_of_the_parent_row(org):
    random_records(org, random.Random(3), YEAR, 40)
    lead = org.leads[org.providers[0].pk]
    rows, _table = table_values(lead, "R1")
    counselling = rows["counselling"]
    assert rows["all"].values["n@0"], "the data should have appointments"
    assert counselling.values["n%@0"] == Decimal(counselling.values["n@0"]) / Decimal(rows["all"].values["n@0"])
    # Shown as whole percent, rounded half up: 71.5 % is 72 %.
    assert whole_percent(Decimal("0.715")) == 72 and whole_percent(Decimal("0.714")) == 71


def test_aggregate_readers_count_topics_by_mention_only(org):
    with scope(district=org.district.pk), pytest.raises(ParamError, match="Themennennungen"):
        build_table(org.coordination, "R2", parse_params({"year": "2023", "unit": "cases"}))


def test_aggregate_readers_get_calendar_years_only(org):
    params = parse_params({"period": "quarter", "year": "2023", "number": "2"})
    with scope(district=org.district.pk), pytest.raises(ParamError, match="Kalenderjahre"):
        build_table(org.coordination, "R1", params)
    with scope(district=org.district.pk):
        table = build_table(org.leads[org.providers[0].pk], "R1", params)
    assert table.params.period.start == date(2023, 4, 1)


@pytest.mark.parametrize("data, message", [
    ({"period": "quarter", "year": "2023", "number": "5"}, "1 bis 4"),
    ({"period": "custom", "start": "2023-05-01", "end": "2023-04-01"}, "vor seinem Beginn"),
    ({"year": "zwei"}, "ungültig"),
    ({"top": "0"}, "zwischen 1 und 50"),
])
def test_bad_parameters_get_a_message(data, message):
    with pytest.raises(ParamError, match=message):
        parse_params(data)


def test_year_on_year_columns_use_the_same_period_a_year_earlier(org):
    records = random_records(org, random.Random(5), YEAR, 40)
    lead = org.leads[org.providers[0].pk]
    params = ReportParams(Period.of("year", YEAR), date(YEAR, 6, 30), compare=True)
    with scope(district=org.district.pk):
        table = build_table(lead, "R4", params)
    previous = expected_counts(records, year=YEAR - 1, provider=org.providers[0].pk)["R4"]
    total = next(r for r in table.rows if r.key == "total")
    assert total.values["n@1"] == previous["total"]
    assert [c.period.label for c in table.columns if not c.is_share] == ["2023", "2022"]


def test_r10_puts_active_cases_against_the_key_per_fte(org):
    random_records(org, random.Random(9), YEAR, 50)
    lead = org.leads[org.providers[0].pk]
    manager = org.managers[org.providers[0].pk][0]
    with scopes_disabled():
        Filling.objects.filter(person=manager).update(fte="0.50")
    with scope(district=org.district.pk):
        table = build_table(lead, "R10", ReportParams(Period.of("year", YEAR), date(YEAR, 6, 30)))
        from kim.casework.models import Case

        active = Case.objects.filter(case_manager=manager, kind=CaseKind.CASE_MANAGEMENT, opened_on__lte=date(YEAR, 6, 30)).exclude(closed_on__lt=date(YEAR, 6, 30)).count()
    row = next(r for r in table.rows if r.key == f"u:{manager.pk}")
    assert row.values["n@0"] == active
    assert row.values["per_fte@0"] == active / 0.5
    assert row.values["key@0"] == 27


def test_aggregate_readers_see_completeness_per_provider_with_small_counts_hidden(org):
    """R15 counts cases, that is participants: the district gets each provider's figures with the
    suppression of every report and no row per named case manager; the lead gets both."""
    random_records(org, random.Random(11), YEAR, 30)
    params = ReportParams(Period.of("year", YEAR), date(YEAR, 12, 31))
    with scope(district=org.district.pk):
        district = build_table(org.coordination, "R15", params)
        lead = build_table(org.leads[org.providers[0].pk], "R15", params)
    assert district.suppressed_for_reader
    assert {row.key for row in district.rows} == {"total"} | {f"p:{p.pk}" for p in org.providers}
    for row in district.rows:
        for column in district.columns:
            value = row.values.get(column.key)
            if column.measure.kind == "count" and value is not None:
                assert not 0 < value < district.k, (row.label, column.key, value)
    names = {str(user) for user in org.managers[org.providers[0].pk]}
    assert names <= {row.label for row in lead.rows} and not names & {row.label for row in district.rows}


@pytest.mark.parametrize("seed", range(6))
def test_r15_hides_the_number_of_incomplete_cases_when_it_is_small(org, seed):
    """Each gap is at most cases minus complete ones: shown both, they bound every "< 5" gap by a
    smaller number (the attack found 2). That difference is a count of its own: it is either
    at least k, zero, or cannot be worked out from what is shown."""
    random_records(org, random.Random(seed), YEAR, 12)
    params = ReportParams(Period.of("year", YEAR), date(YEAR, 12, 31))
    with scope(district=org.district.pk):
        district = build_table(org.coordination, "R15", params)
    assert district.suppressed_for_reader and not district.withheld
    keys = {column.measure.key: column.key for column in district.columns if column.measure.kind == "count"}
    for row in district.rows:
        cases, complete = row.values.get(keys["cases"]), row.values.get(keys["complete"])
        if cases is not None and complete is not None:
            assert cases - complete == 0 or cases - complete >= district.k, (row.label, cases, complete)
            assert row.values.get(keys["incomplete"]) == cases - complete


def test_aggregate_readers_are_told_what_r10_and_r15_leave_out(org):
    """R10 shows the district FTE and key only: without a word, the missing counts look like a
    defect (walkthrough). The note is part of the legend that every renderer prints."""
    from kim.reports.renderers import legend, render

    params = ReportParams(Period.of("year", YEAR), date(YEAR, 12, 31))
    with scope(district=org.district.pk), translation.override("de"):
        district = build_table(org.coordination, "R10", params)
        lead = build_table(org.leads[org.providers[0].pk], "R10", params)
        assert "Auslastung sind Angaben über das Personal eines anderen Arbeitgebers" in legend(district)
        assert legend(lead) == ""
        assert "anderen Arbeitgebers" in render([district], "csv").decode("utf-8-sig")
        assert "je Fachkraft" in legend(build_table(org.coordination, "R15", params))
