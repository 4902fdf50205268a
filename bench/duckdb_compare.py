"""The application's report figures against hand-written SQL in DuckDB over the same rows.

    .venv/bin/python bench/duckdb_compare.py [--db-url URL] [--district SLUG] [--year Y]
        [--reports R1 R2 ...] [--statewide] [--statewide-reports R1 R2 R3 R4 R5] [--repeat 3]

Reads the database bench/statescale.py made (default kim_sbench_state). For one district-year
(default: the largest district, last year) it exports the district's rows of cases,
appointments, topic links, goals, assessments and users with COPY to CSV files, loads them into
an in-memory DuckDB, and computes R1–R7, R10 (active cases per provider), R14 and R15 with one
hand-written query each (GROUPING SETS over the municipality and the provider split).

The fair comparison: the coordination's report page computes every report's counts for the
whole district and for both splits (municipality and provider, which suppression needs), then
suppresses. So the application side is timed twice, as the coordination: `build_table` (what
the page costs: counts of both splits plus suppression) and the report's `counts` for both
splits alone (the database work). The figures compared are those raw counts, before
suppression, row by row and member by member, against DuckDB's; sum rows ("total", "all") and
derived measures are left out because they are additions of the compared cells. R10 and R15
give the coordination rows per provider, DuckDB adds the case managers up per provider too.
The ratio is application time / DuckDB time (target ≤ 3).

--statewide exports every district's rows, runs the DuckDB queries once for all districts
(grouped by district as well) and the application's reports district by district as the
coordination of each (there is no statewide view in the application yet); the figures are
compared for every district. Results: bench/results/duckdb-<database>-<slug>-<year>.json
(and -state-<year>)."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kim.settings")
RESULTS = Path(__file__).parent / "results"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kim_sbench_state"
REPORTS = ["R1", "R2", "R3", "R4", "R5", "R6", "R7", "R10", "R14", "R15"]

EXPORTS = {
    "cases": "SELECT id, district_id, provider_id, participant_id, kind, case_manager_id, municipality_id, "
             "target_group_id, referral_source_id, opened_on, closed_on, screening_outcome_id FROM casework_case",
    "appointments": "SELECT id, district_id, provider_id, case_manager_id, case_id, kind, complexity, date, "
                    "handed_over::int AS handed_over, thematic_offer_id, session_format, audience "
                    "FROM casework_appointment",
    "topics": "SELECT t.appointment_id, t.topic_id FROM casework_appointment_topics t "
              "JOIN casework_appointment a ON a.id = t.appointment_id",
    "goals": "SELECT g.id, g.case_id, g.category_id, g.status, g.status_changed_on, g.handed_over::int AS handed_over "
             "FROM casework_goal g JOIN casework_case c ON c.id = g.case_id",
    "assessments": "SELECT s.case_id, s.assessed_on FROM casework_assessment s JOIN casework_case c ON c.id = s.case_id",
    "users": "SELECT id, district_id, provider_id FROM core_user",
}
# Where each export is narrowed to one district.
DISTRICT_FILTER = {"cases": "district_id", "appointments": "district_id", "topics": "a.district_id",
                   "goals": "c.district_id", "assessments": "c.district_id", "users": "district_id"}

# Every query returns (d, split, row, member, n); $s, $e: the period, $ref: the reference date,
# $due: reassessment_due_before($ref), $stale: stale_before($ref).
SPLITS = "CASE WHEN GROUPING(m) = 0 THEN 'municipality' ELSE 'provider' END"
SQL = {
    "R1": f"""
        WITH a AS (
            SELECT a.district_id AS d, c.municipality_id AS m, a.provider_id AS p,
                   CASE WHEN a.kind = 'counselling' THEN COALESCE(NULLIF(a.complexity, ''), 'one_off') ELSE 'other' END AS r
            FROM appointments a LEFT JOIN cases c ON c.id = a.case_id
            WHERE a.date BETWEEN $s AND $e AND a.handed_over = 0
            UNION ALL
            SELECT c.district_id, c.municipality_id, c.provider_id, 'cases' FROM cases c
            WHERE c.kind = 'case_management' AND EXISTS (
                SELECT 1 FROM appointments x WHERE x.case_id = c.id AND x.kind = 'counselling'
                AND x.date BETWEEN $s AND $e AND x.handed_over = 0))
        SELECT d, {SPLITS} AS split, r, CASE WHEN GROUPING(m) = 0 THEN m ELSE p END AS member, count(*) AS n
        FROM a GROUP BY GROUPING SETS ((d, r, m), (d, r, p))""",
    "R2": f"""
        SELECT a.district_id AS d, {SPLITS} AS split, t.topic_id AS r,
               CASE WHEN GROUPING(m) = 0 THEN m ELSE p END AS member, count(*) AS n
        FROM (SELECT a.id, a.district_id, c.municipality_id AS m, a.provider_id AS p FROM appointments a
              LEFT JOIN cases c ON c.id = a.case_id
              WHERE a.kind = 'counselling' AND a.date BETWEEN $s AND $e AND a.handed_over = 0) a
        JOIN topics t ON t.appointment_id = a.id
        GROUP BY GROUPING SETS ((a.district_id, t.topic_id, m), (a.district_id, t.topic_id, p))""",
    "R3": f"""
        SELECT district_id AS d, {SPLITS} AS split, COALESCE(target_group_id::VARCHAR, 'none') AS r,
               CASE WHEN GROUPING(m) = 0 THEN m ELSE p END AS member, count(*) AS n
        FROM (SELECT *, municipality_id AS m, provider_id AS p FROM cases) c
        WHERE kind = 'case_management' AND opened_on <= $ref AND (closed_on IS NULL OR closed_on >= $ref)
        GROUP BY GROUPING SETS ((district_id, r, m), (district_id, r, p))""",
    "R4": f"""
        SELECT district_id AS d, {SPLITS} AS split, COALESCE(referral_source_id::VARCHAR, 'none') AS r,
               CASE WHEN GROUPING(m) = 0 THEN m ELSE p END AS member, count(*) AS n
        FROM (SELECT *, municipality_id AS m, provider_id AS p FROM cases) c
        WHERE kind = 'case_management' AND opened_on BETWEEN $s AND $e
        GROUP BY GROUPING SETS ((district_id, r, m), (district_id, r, p))""",
    "R5": f"""
        SELECT c.district_id AS d, {SPLITS} AS split, g.category_id AS r,
               CASE WHEN GROUPING(m) = 0 THEN m ELSE p END AS member, count(*) AS n
        FROM goals g JOIN (SELECT *, municipality_id AS m, provider_id AS p FROM cases) c ON c.id = g.case_id
        WHERE g.status = 'achieved' AND g.status_changed_on BETWEEN $s AND $e AND g.handed_over = 0
        GROUP BY GROUPING SETS ((c.district_id, g.category_id, m), (c.district_id, g.category_id, p))""",
    "R6": f"""
        SELECT district_id AS d, {SPLITS} AS split, COALESCE(screening_outcome_id::VARCHAR, 'none') AS r,
               CASE WHEN GROUPING(m) = 0 THEN m ELSE p END AS member, count(*) AS n
        FROM (SELECT *, municipality_id AS m, provider_id AS p FROM cases) c
        WHERE kind = 'screening' AND opened_on BETWEEN $s AND $e
        GROUP BY GROUPING SETS ((district_id, r, m), (district_id, r, p))""",
    # Each person once per kind: their first case of that kind active in the period. Transfers
    # (privacy_transfer) would be left out as well; the generated data have none (checked).
    "R7": f"""
        WITH active AS (
            SELECT *, municipality_id AS m, provider_id AS p FROM cases
            WHERE kind IN ('short_counselling', 'referral') AND opened_on <= $e
            AND (closed_on IS NULL OR closed_on >= $s)),
        firsts AS (SELECT min(id) AS id FROM active WHERE participant_id IS NOT NULL GROUP BY participant_id, kind)
        SELECT district_id AS d, {SPLITS} AS split, kind AS r,
               CASE WHEN GROUPING(m) = 0 THEN m ELSE p END AS member, count(*) AS n
        FROM active WHERE participant_id IS NULL OR id IN (SELECT id FROM firsts)
        GROUP BY GROUPING SETS ((district_id, kind, m), (district_id, kind, p))""",
    "R10": f"""
        SELECT c.district_id AS d, {SPLITS} AS split, 'p:' || u.provider_id AS r,
               CASE WHEN GROUPING(m) = 0 THEN m ELSE p END AS member, count(*) AS n
        FROM (SELECT *, municipality_id AS m, provider_id AS p FROM cases) c JOIN users u ON u.id = c.case_manager_id
        WHERE c.kind = 'case_management' AND c.opened_on <= $ref AND (c.closed_on IS NULL OR c.closed_on >= $ref)
        GROUP BY GROUPING SETS ((c.district_id, r, m), (c.district_id, r, p))""",
    "R14": f"""
        SELECT a.district_id AS d, {SPLITS} AS split,
               'a:' || a.thematic_offer_id || ':' || COALESCE(a.session_format, '') || ':' || COALESCE(a.audience, '') AS r,
               CASE WHEN GROUPING(m) = 0 THEN m ELSE p END AS member, count(*) AS n
        FROM (SELECT a.*, c.municipality_id AS m, a.provider_id AS p FROM appointments a
              LEFT JOIN cases c ON c.id = a.case_id) a
        WHERE a.thematic_offer_id IS NOT NULL AND a.date BETWEEN $s AND $e AND a.handed_over = 0
        GROUP BY GROUPING SETS ((a.district_id, r, m), (a.district_id, r, p))""",
    "R15": f"""
        WITH worked AS (
            SELECT c.*, c.municipality_id AS m, c.provider_id AS p, u.provider_id AS staff_provider,
                   c.opened_on <= $ref AND (c.closed_on IS NULL OR c.closed_on >= $ref) AS open_on_ref
            FROM cases c JOIN users u ON u.id = c.case_manager_id
            WHERE c.opened_on <= $e AND (c.closed_on IS NULL OR c.closed_on >= $s)),
        untopiced AS (
            SELECT DISTINCT a.case_id FROM appointments a
            WHERE a.kind = 'counselling' AND a.date BETWEEN $s AND $e AND a.case_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM topics t WHERE t.appointment_id = a.id)),
        assessed AS (SELECT DISTINCT case_id FROM assessments WHERE assessed_on BETWEEN $due AND $ref),
        recent AS (SELECT DISTINCT case_id FROM appointments WHERE date BETWEEN $stale AND $ref AND case_id IS NOT NULL),
        statusless AS (SELECT DISTINCT case_id FROM goals WHERE status = ''),
        gaps AS (
            SELECT w.district_id, w.m, w.p, w.staff_provider,
                w.kind = 'case_management' AND w.target_group_id IS NULL AS no_target_group,
                w.kind = 'case_management' AND w.referral_source_id IS NULL AS no_referral_source,
                w.id IN (SELECT case_id FROM untopiced) AS appointments_no_topic,
                w.id IN (SELECT case_id FROM statusless) AS goals_no_status,
                w.kind = 'case_management' AND w.open_on_ref AND w.opened_on < $due
                    AND w.id NOT IN (SELECT case_id FROM assessed) AS reassessment_overdue,
                w.open_on_ref AND w.opened_on < $stale AND w.id NOT IN (SELECT case_id FROM recent) AS stale
            FROM worked w),
        counted AS (
            SELECT *, NOT (no_target_group OR no_referral_source OR appointments_no_topic OR goals_no_status
                           OR reassessment_overdue OR stale) AS complete FROM gaps)
        SELECT district_id AS d, {SPLITS} AS split, 'p:' || staff_provider AS r,
               CASE WHEN GROUPING(m) = 0 THEN m ELSE p END AS member,
               count(*) AS cases, count(*) FILTER (complete) AS complete,
               count(*) FILTER (no_target_group) AS no_target_group,
               count(*) FILTER (no_referral_source) AS no_referral_source,
               count(*) FILTER (appointments_no_topic) AS appointments_no_topic,
               count(*) FILTER (goals_no_status) AS goals_no_status,
               count(*) FILTER (reassessment_overdue) AS reassessment_overdue,
               count(*) FILTER (stale) AS stale
        FROM counted GROUP BY GROUPING SETS ((district_id, r, m), (district_id, r, p))""",
}
R15_MEASURES = ["cases", "complete", "no_target_group", "no_referral_source", "appointments_no_topic",
                "goals_no_status", "reassessment_overdue", "stale"]


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, env={**os.environ, "TZ": "UTC"}).stdout.strip()


def database_name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def export(url: str, folder: Path, district_id: int | None) -> dict:
    """The tables as CSV files (one district's rows, or all); seconds and rows per table."""
    import psycopg

    timings = {}
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        for name, query in EXPORTS.items():
            if district_id is not None:
                query += f" WHERE {DISTRICT_FILTER[name]} = {int(district_id)}"
            started = time.perf_counter()
            with (folder / f"{name}.csv").open("wb") as out, \
                    cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
                for block in copy:
                    out.write(block)
            timings[name] = round(time.perf_counter() - started, 2)
    return timings


def load_duckdb(folder: Path):
    import duckdb

    con = duckdb.connect()
    started = time.perf_counter()
    rows = {}
    for name in EXPORTS:
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv('{folder / name}.csv', header = true)")
        rows[name] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    # Empty text columns come back as NULL from CSV: the application's '' is NULL here.
    con.execute("UPDATE appointments SET complexity = '' WHERE complexity IS NULL")
    con.execute("UPDATE goals SET status = '' WHERE status IS NULL")
    return con, rows, round(time.perf_counter() - started, 2)


def duckdb_figures(con, report_id, dates) -> tuple[dict, float]:
    """{district: {(measure, row, split, member): n}} and seconds."""
    started = time.perf_counter()
    sql = SQL[report_id]
    result = con.execute(sql, {k: v for k, v in dates.items() if f"${k}" in sql}).fetchall()
    seconds = time.perf_counter() - started
    figures = defaultdict(dict)
    for d, split, row, member, *values in result:
        measures = R15_MEASURES if report_id == "R15" else ["n"]
        for measure, value in zip(measures, values, strict=True):
            if value:
                figures[d][(measure, str(row), split, member)] = value
    return figures, seconds


def app_counts(report_id, user, params):
    """{(measure, row, split, member): n} of the report's raw counts for the coordination."""
    from kim.reports.framework import MUNICIPALITY, PROVIDER, Context, get_report

    report = get_report(report_id)
    context = Context(user, params, report)
    specs = report.row_specs(context, params)  # R10 and R15 learn their case managers here
    del specs
    flat = {}
    for split in (MUNICIPALITY, PROVIDER):
        for measure, rows in report.counts(context, params.period, params, split).items():
            for row, members in rows.items():
                if not compared(report_id, measure, str(row)):
                    continue
                for member, value in members.items():
                    if value:
                        flat[(measure, str(row), split, member)] = value
    return flat


def compared(report_id, measure, row) -> bool:
    """Cells that are counted, not added up from other cells or derived."""
    if report_id == "R1":
        return row not in ("all", "counselling")
    if report_id in ("R10", "R15"):
        return row.startswith("p:") and measure != "incomplete"
    if report_id == "R14":
        return row.startswith("a:")
    return row != "total"


def timed(function, repeat):
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        value = function()
        runs.append(time.perf_counter() - started)
    return value, statistics.median(runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db-url", default=os.environ.get("STATESCALE_URL", DEFAULT_URL))
    parser.add_argument("--district", help="slug (default: the district with most appointments)")
    parser.add_argument("--year", type=int)
    parser.add_argument("--reports", nargs="+", default=REPORTS)
    parser.add_argument("--statewide", action="store_true")
    parser.add_argument("--statewide-only", action="store_true", help="skip the district-year")
    parser.add_argument("--statewide-reports", nargs="+", default=["R1", "R2", "R3", "R4", "R5"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-results", action="store_true", help="print only (the smoke test)")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.db_url
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone
    from django_scopes import scope, scopes_disabled

    from kim.casework.models import reassessment_due_before, stale_before
    from kim.core.models import District, Role, User
    from kim.privacy.models import Transfer
    from kim.reports.framework import ReportParams, build_table
    from kim.reports.periods import Period

    year = args.year or timezone.localdate().year - 1
    reference = date(year, 12, 31)
    params = ReportParams(Period.of("year", year), reference)
    dates = {"s": params.period.start, "e": params.period.end, "ref": reference,
             "due": reassessment_due_before(reference), "stale": stale_before(reference)}
    with scopes_disabled():
        assert not Transfer.objects.exists(), "R7's query here assumes no transfers"
        if args.district:
            district = District.objects.get(slug=args.district)
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT district_id FROM casework_appointment GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
                district = District.objects.get(pk=cursor.fetchone()[0])
        coordinators = {u.district_id: u for u in User.objects.filter(role=Role.COORDINATION).select_related("district")}
    load = uptime()
    result = {"district": district.slug, "year": year, "uptime_before": load, "reports": {}, "db_url": args.db_url}

    def one_district(report_id, district_id, figures, repeat):
        user = coordinators[district_id]
        with scope(district=district_id):
            app, counts_s = timed(lambda: app_counts(report_id, user, params), repeat)
            _table, table_s = timed(lambda: build_table(user, report_id, params), repeat)
        expected = figures.get(district_id, {})
        mismatches = sorted(set(app.items()) ^ set(expected.items()), key=repr)[:5]
        return counts_s, table_s, len(app), mismatches

    if not args.statewide_only:
        result = district_year(args, district, result, dates, one_district)
    if not (args.statewide or args.statewide_only):
        return 0 if all(r["equal"] for r in result["reports"].values()) else 1
    return statewide(args, coordinators, result, dates, one_district)


def district_year(args, district, result, dates, one_district):
    year = result["year"]
    with tempfile.TemporaryDirectory() as folder:
        exported = export(args.db_url, Path(folder), district.pk)
        con, rows, load_s = load_duckdb(Path(folder))
        result.update({"export_s": exported, "duckdb_load_s": load_s, "rows": rows})
        print(f"{district.name} ({district.slug}), {year}: exported {rows} in {sum(exported.values()):.1f} s, "
              f"loaded into DuckDB in {load_s} s")
        print(f"{'report':<7}{'app page ms':>12}{'app counts ms':>14}{'DuckDB ms':>10}{'ratio':>7}{'counts':>8}  equal")
        for report_id in args.reports:
            figures, duck_s = duckdb_figures(con, report_id, dates)
            duck_s = min(duck_s, timed(lambda report_id=report_id: duckdb_figures(con, report_id, dates), args.repeat)[1])
            counts_s, table_s, cells, mismatches = one_district(report_id, district.pk, figures, args.repeat)
            entry = {"app_build_table_ms": round(1000 * table_s, 1), "app_counts_ms": round(1000 * counts_s, 1),
                     "duckdb_ms": round(1000 * duck_s, 1), "ratio_page": round(table_s / duck_s, 1),
                     "ratio_counts": round(counts_s / duck_s, 1), "cells": cells, "equal": not mismatches,
                     "mismatches": [repr(m) for m in mismatches]}
            result["reports"][report_id] = entry
            print(f"{report_id:<7}{entry['app_build_table_ms']:>12}{entry['app_counts_ms']:>14}{entry['duckdb_ms']:>10}"
                  f"{entry['ratio_page']:>7}{cells:>8}  {'yes' if not mismatches else 'NO ' + str(mismatches)}")
        con.close()
    result["uptime_after"] = uptime()
    result["target"] = "ratio_page <= 3 (application page time / DuckDB time)"
    if not args.no_results:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"duckdb-{database_name(args.db_url)}-{district.slug}-{year}.json"
        path.write_text(json.dumps(result, indent=1, ensure_ascii=False))
        print(f"written: {path}")
    return result


def statewide(args, coordinators, result, dates, one_district):
    year = result["year"]
    state = {"year": year, "uptime_before": uptime(), "reports": {}}
    with tempfile.TemporaryDirectory() as folder:
        exported = export(args.db_url, Path(folder), None)
        con, rows, load_s = load_duckdb(Path(folder))
        state.update({"export_s": exported, "duckdb_load_s": load_s, "rows": rows})
        print(f"\nStatewide, {len(coordinators)} districts: exported {rows} in {sum(exported.values()):.1f} s, "
              f"loaded into DuckDB in {load_s} s")
        print(f"{'report':<7}{'app pages s':>12}{'app counts s':>13}{'DuckDB s':>9}{'ratio':>7}  equal")
        for report_id in args.statewide_reports:
            figures, duck_s = duckdb_figures(con, report_id, dates)
            counts_total = table_total = 0.0
            bad = []
            for district_id in sorted(coordinators):
                counts_s, table_s, _cells, mismatches = one_district(report_id, district_id, figures, 1)
                counts_total, table_total = counts_total + counts_s, table_total + table_s
                if mismatches:
                    bad.append((district_id, mismatches))
            entry = {"app_build_table_s": round(table_total, 2), "app_counts_s": round(counts_total, 2),
                     "duckdb_s": round(duck_s, 3), "ratio_page": round(table_total / duck_s, 1),
                     "equal": not bad, "mismatches": repr(bad[:3])}
            state["reports"][report_id] = entry
            print(f"{report_id:<7}{entry['app_build_table_s']:>12}{entry['app_counts_s']:>13}{entry['duckdb_s']:>9}"
                  f"{entry['ratio_page']:>7}  {'yes' if not bad else 'NO ' + repr(bad[:2])}")
        con.close()
    state["uptime_after"] = uptime()
    state["target"] = "statewide reports <= 3 s"
    if not args.no_results:
        (RESULTS / f"duckdb-{database_name(args.db_url)}-state-{year}.json").write_text(json.dumps(state, indent=1, ensure_ascii=False))
    ok = all(r["equal"] for r in [*result["reports"].values(), *state["reports"].values()])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
