"""Time per report for one district-year and for all districts, growing with data size.

    .venv/bin/python bench/reports.py [--sizes 1 10 100] [--districts 1] [--db sqlite|postgres]

For each size it builds fresh demo districts (size 1 = 300 participants, about 4,800
appointments over two years), then times R1–R7 (and R10, R14, R15) for last year as the
coordination (district figures with suppression) and as a provider lead (own data): the
median of three runs per report, with the number of SQL queries. "All districts" is every
district's report in turn, as a statewide overview would compute it. PostgreSQL uses the
database kim_bench on PG_BENCH_URL (default postgres://postgres@127.0.0.1:5432), dropped
and created for each size. Results are printed and written to bench/results/."""

import argparse
from datetime import date
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kim.settings")
REPORTS = ["R1", "R2", "R3", "R4", "R5", "R6", "R7", "R10", "R14", "R15"]
RESULTS = Path(__file__).parent / "results"


def fresh_database(kind: str, size: float) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp()}/bench-{size}.sqlite3"
    import psycopg

    server = os.environ.get("PG_BENCH_URL", "postgres://postgres@127.0.0.1:5432")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS kim_bench WITH (FORCE)")
        connection.execute("CREATE DATABASE kim_bench")
    return f"{server}/kim_bench"


def run(kind: str, size: float, districts: int, repeat: int) -> dict:
    """One process per size: Django reads DATABASE_URL once."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from django_scopes import scope, scopes_disabled

    from kim.core.models import Role, User
    from kim.demo import build_demo_district
    from kim.reports.framework import ReportParams, build_table
    from kim.reports.periods import Period

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    counts = []
    for index in range(districts):
        slug = "demo" if index == 0 else f"kreis-{index}"
        counts.append(build_demo_district(name=f"Kreis {index} (Bench)", slug=slug, size=size, seed=index).counts)
    generated = time.perf_counter() - started
    if kind == "postgres":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    last_year = timezone.localdate().year - 1
    # What an aggregate reader may ask (reports/questions.py): a year that has ended, 31 December.
    params = ReportParams(Period.of("year", last_year), date(last_year, 12, 31))
    with scopes_disabled():
        readers = {
            "coordination": list(User.objects.filter(role=Role.COORDINATION).order_by("district_id")),
            "lead": list(User.objects.filter(role=Role.PROVIDER_LEAD).order_by("district_id", "pk")[:1]),
        }
    timings = {}
    for reader_kind, users in readers.items():
        for report_id in REPORTS:
            runs, queries = [], 0
            for _ in range(repeat):
                start = time.perf_counter()
                for user in (users if reader_kind == "coordination" else users[:1]):
                    with scope(district=user.district_id), CaptureQueriesContext(connection) as captured:
                        build_table(user, report_id, params)
                    queries = len(captured)
                runs.append(time.perf_counter() - start)
            single = users[0]
            one = []
            for _ in range(repeat):
                start = time.perf_counter()
                with scope(district=single.district_id):
                    build_table(single, report_id, params)
                one.append(time.perf_counter() - start)
            timings[f"{reader_kind}/{report_id}"] = {
                "one_district_ms": round(1000 * statistics.median(one), 1),
                "all_districts_ms": round(1000 * statistics.median(runs), 1),
                "queries_per_district": queries,
            }
    return {"db": kind, "size": size, "districts": districts, "generated_s": round(generated, 1),
            "records_per_district": counts[0], "timings": timings}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 10])
    parser.add_argument("--districts", type=int, default=1)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = run(args.db, args.sizes[0], args.districts, args.repeat)
        print(json.dumps(result))
        return 0
    import subprocess

    RESULTS.mkdir(exist_ok=True)
    for size in args.sizes:
        env = {**os.environ, "DATABASE_URL": fresh_database(args.db, size)}
        output = subprocess.run(
            [sys.executable, __file__, "--child", "--db", args.db, "--sizes", str(size),
             "--districts", str(args.districts), "--repeat", str(args.repeat)],
            env=env, capture_output=True, text=True, check=True,
        ).stdout
        result = json.loads(output.strip().splitlines()[-1])
        name = f"reports-{args.db}-{size:g}x-{args.districts}d.json"
        (RESULTS / name).write_text(json.dumps(result, indent=1))
        print(f"\n{args.db}, {size:g}× demo, {args.districts} district(s): generated in {result['generated_s']} s, "
              f"{result['records_per_district']}")
        print(f"{'report':<18}{'one district ms':>16}{'all districts ms':>18}{'queries':>9}")
        for key, timing in result["timings"].items():
            print(f"{key:<18}{timing['one_district_ms']:>16}{timing['all_districts_ms']:>18}{timing['queries_per_district']:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
