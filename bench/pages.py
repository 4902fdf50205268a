"""Server-side time and queries of the pages the issue sets targets for, at state scale.

    .venv/bin/python bench/pages.py [--db-url URL] [--heavy-db-url URL] [--reuse] [--repeat 20]
        [--reports R1 R3 R15]

Targets (issue 13): the district's report page p95 ≤ 300 ms; case-worker pages p95 ≤ 150 ms
with ≤ 15 queries, at a realistic caseload (27–60 open cases per case manager) and at 1,000.

- Report pages: the coordination of the largest district of the state database (made by
  bench/statescale.py, default kim_sbench_state) opens /berichte/<R>/ (last year, the default
  question), each --repeat times.
- Case-worker pages at a realistic caseload: in the same database the case manager of the
  largest district whose open cases are nearest 45, and the lead of that provider.
- At 1,000 open cases: a database of its own (default kim_sbench_pages: the largest district
  alone, generated with bench/statescale.py unless --reuse) in which 1,000 open cases of one
  district are given to one case manager (their participants with all their cases and
  appointments move to the case manager and the provider).

Each page is requested with Django's test client (the whole request: middleware, queries,
template) --repeat times after one warm-up; p50 and p95 (nearest rank) and the SQL queries of
one request. Results: bench/results/pages-<database>.json with the machine's load."""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kim.settings")
HERE = Path(__file__).parent
RESULTS = HERE / "results"
STATE_URL = "postgres://postgres@127.0.0.1:5432/kim_sbench_state"
HEAVY_URL = "postgres://postgres@127.0.0.1:5432/kim_sbench_pages"
HEAVY_CASES = 1000


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, env={**os.environ, "TZ": "UTC"}).stdout.strip()


def percentile(values, share):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def prepare_heavy(url: str):
    """The largest district alone, one case manager with 1,000 open cases."""
    subprocess.run([sys.executable, str(HERE / "statescale.py"), "--share", "1", "--districts", "1",
                    "--db-url", url, "--no-results"], check=True, stdout=subprocess.DEVNULL)
    import psycopg

    with psycopg.connect(url) as connection:
        manager, provider = connection.execute(
            "SELECT u.id, u.provider_id FROM core_user u JOIN casework_case c ON c.case_manager_id = u.id "
            "WHERE c.closed_on IS NULL GROUP BY u.id ORDER BY count(*) DESC LIMIT 1").fetchone()
        # The people of 1,000 open cases, with all their cases and appointments, move to this
        # case manager (and so to the provider): what the pages show stays consistent.
        connection.execute(
            "CREATE TEMP TABLE moved AS SELECT DISTINCT participant_id AS id FROM (SELECT participant_id FROM "
            "casework_case WHERE closed_on IS NULL AND participant_id IS NOT NULL "
            "ORDER BY (case_manager_id = %s) DESC, id DESC LIMIT %s) open_cases", [manager, HEAVY_CASES])
        connection.execute("UPDATE casework_participant SET responsible_id = %s, provider_id = %s "
                           "WHERE id IN (SELECT id FROM moved)", [manager, provider])
        connection.execute("UPDATE casework_case SET case_manager_id = %s, provider_id = %s "
                           "WHERE participant_id IN (SELECT id FROM moved)", [manager, provider])
        connection.execute("UPDATE casework_appointment SET case_manager_id = %s, provider_id = %s WHERE case_id IN "
                           "(SELECT id FROM casework_case WHERE participant_id IN (SELECT id FROM moved))",
                           [manager, provider])
        connection.execute("ANALYZE")


def measure(url: str, repeat: int, reports: list[str], heavy: bool) -> dict:
    """One child process per database: Django reads DATABASE_URL once."""
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_scopes import scopes_disabled

    from kim.casework.models import Appointment, Case, Participant
    from kim.core.models import Role, User

    settings.ALLOWED_HOSTS = ["testserver"]
    with scopes_disabled(), connection.cursor() as cursor:
        cursor.execute("SELECT district_id FROM casework_case GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        district_id = cursor.fetchone()[0]
        cursor.execute(
            "SELECT case_manager_id, count(*) FROM casework_case WHERE district_id = %s AND closed_on IS NULL "
            "GROUP BY 1 ORDER BY abs(count(*) - %s), 1 LIMIT 1", [district_id, HEAVY_CASES if heavy else 45])
        manager_id, open_cases = cursor.fetchone()
        manager = User.objects.get(pk=manager_id)
        lead = User.objects.get(provider_id=manager.provider_id, role=Role.PROVIDER_LEAD)
        coordination = User.objects.get(district_id=district_id, role=Role.COORDINATION)
        case = (Case.objects.filter(case_manager=manager, closed_on__isnull=True, kind="case_management")
                .annotate(n=django.db.models.Count("appointments")).order_by("-n", "pk").first())
        busiest = (Appointment.objects.filter(case__participant__responsible=manager).values("case__participant")
                   .order_by().annotate(n=django.db.models.Count("pk")).order_by("-n").first())
        participant = Participant.objects.get(pk=busiest["case__participant"])
        counts = {"district": manager.district.slug, "open_cases_of_case_manager": open_cases,
                  "participants_of_district": Participant.objects.filter(district_id=district_id).count(),
                  "appointments_of_case": Appointment.objects.filter(case=case).count(),
                  "appointments_of_participant": busiest["n"]}
    case_pages = {
        "Meine Fälle": "/fallarbeit/", "Teilnehmende": "/fallarbeit/teilnehmende/",
        "Teilnehmende*r": f"/fallarbeit/teilnehmende/{participant.pk}/", "Fallakte": f"/fallarbeit/fall/{case.pk}/",
        "Termine": "/fallarbeit/termine/", "Termin (neu)": "/fallarbeit/termine/neu/",
    }
    readers = [("case_manager", manager, case_pages), ("provider_lead", lead, case_pages)]
    if not heavy:
        readers.append(("coordination", coordination, {f"Bericht {r}": f"/berichte/{r}/" for r in reports}))
    pages = {}
    for role, user, urls in readers:
        client = Client()
        client.force_login(user)
        for name, url in urls.items():
            response = client.get(url)  # warm-up: caches, the first compilation of templates
            if response.status_code != 200:
                raise SystemExit(f"{user.username} {url}: HTTP {response.status_code}")
            timings, queries = [], 0
            for _ in range(repeat):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    client.get(url)
                    timings.append(1000 * (time.perf_counter() - started))
                queries = max(queries, len(captured))
            pages[f"{role}/{name}"] = {"url": url, "p50_ms": round(statistics.median(timings), 1),
                                      "p95_ms": round(percentile(timings, 0.95), 1), "queries": queries,
                                      "requests": repeat}
            print(f"{role:<14}{name:<18}{pages[f'{role}/{name}']['p50_ms']:>9}{pages[f'{role}/{name}']['p95_ms']:>9}"
                  f"{queries:>8}", flush=True)
    return {"counts": counts, "pages": pages}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db-url", default=os.environ.get("STATESCALE_URL", STATE_URL))
    parser.add_argument("--heavy-db-url", default=HEAVY_URL)
    parser.add_argument("--reuse", action="store_true", help="keep the 1,000-case database as it is")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--reports", nargs="+", default=["R1", "R3", "R15"])
    parser.add_argument("--child", choices=["state", "heavy"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url = args.db_url if args.child == "state" else args.heavy_db_url
        print(json.dumps(measure(url, args.repeat, args.reports, args.child == "heavy")))
        return 0
    if not args.reuse:
        prepare_heavy(args.heavy_db_url)
    result = {"uptime_before": uptime(), "repeat": args.repeat,
              "targets": {"report page p95 ms": 300, "case-worker page p95 ms": 150, "case-worker queries": 15}}
    for child, label in (("state", "realistic caseload (state database)"), ("heavy", f"{HEAVY_CASES} open cases")):
        print(f"\n{label}\n{'reader':<14}{'page':<18}{'p50 ms':>9}{'p95 ms':>9}{'queries':>8}", flush=True)
        output = subprocess.run(
            [sys.executable, __file__, "--child", child, "--db-url", args.db_url, "--heavy-db-url", args.heavy_db_url,
             "--repeat", str(args.repeat), "--reports", *args.reports],
            capture_output=True, text=True)
        sys.stdout.write("\n".join(output.stdout.strip().splitlines()[:-1]) + "\n")
        if output.returncode:
            sys.stderr.write(output.stderr[-3000:])
            return output.returncode
        result[child] = json.loads(output.stdout.strip().splitlines()[-1])
        result[child]["db_url"] = args.db_url if child == "state" else args.heavy_db_url
    result["uptime_after"] = uptime()
    missed = [f"{child}: {name} p95 {page['p95_ms']} ms, {page['queries']} queries"
              for child in ("state", "heavy") for name, page in result[child]["pages"].items()
              if (name.startswith("coordination") and page["p95_ms"] > 300)
              or (name.startswith("case_manager") and (page["p95_ms"] > 150 or page["queries"] > 15))]
    result["targets_missed"] = missed
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"pages-{args.db_url.rsplit('/', 1)[-1]}.json"
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print("\ntargets missed:\n  " + "\n  ".join(missed) if missed else "\nall targets met")
    print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
