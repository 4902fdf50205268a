"""Load test: 50 concurrent users of mixed roles against `kim serve` on loopback, bounded.

    .venv/bin/python bench/load.py [--db-url URL] [--users 50] [--seconds 60] [--port 8310]

Starts `kim serve --bind 127.0.0.1:<port>` (its default workers; plain HTTP on loopback, so
KIM_SECURE_COOKIES=0 and KIM_SSL_REDIRECT=0, as behind nginx's TLS) on the database made by
bench/statescale.py (default kim_sbench_state), and runs locust headless (bench/locustfile.py) on the same machine
for --seconds: 70 % case managers of the largest district (Meine Fälle, case pages,
participant pages, lists, saving an appointment), 20 % its coordination (report pages R1–R5,
R15 and the overview) and 10 % provider leads, each logging in through the login form and
waiting 1 to 3 s between requests. The appointments saved stay in the database. By default
every user starts with a session made beforehand (as the login form makes it) and locust
resets the figures once all users run, so that they are of the steady state; with
--with-logins every user logs in through the form (the password hash costs about half a
second of CPU by design) and the ramp-up stays in the figures.

Prints and writes bench/results/load-<database>-<users>u-<seconds>s.json: per page requests, failures,
p50/p95/p99 in ms; targets: 0 errors, p95 ≤ 500 ms; the machine's load before and after."""

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
RESULTS = HERE / "results"
STATE_URL = "postgres://postgres@127.0.0.1:5432/kim_sbench_state"
REPORTS = ["R1", "R2", "R3", "R4", "R5", "R15"]


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, env={**os.environ, "TZ": "UTC"}).stdout.strip()


def plan(url: str) -> dict:
    """Accounts of the largest district, with open cases and participants for each case manager."""
    import psycopg

    with psycopg.connect(url) as connection:
        district = connection.execute(
            "SELECT district_id FROM casework_case GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
        accounts = {"case_manager": [], "coordination": [], "provider_lead": []}
        for user_id, username, role in connection.execute(
                "SELECT id, username, role FROM core_user WHERE district_id = %s AND is_active "
                "AND role IN ('case_manager', 'coordination', 'provider_lead') ORDER BY id", [district]):
            account = {"username": username}
            if role == "case_manager":
                rows = connection.execute(
                    "SELECT id, participant_id FROM casework_case WHERE case_manager_id = %s AND closed_on IS NULL "
                    "AND participant_id IS NOT NULL ORDER BY id DESC LIMIT 30", [user_id]).fetchall()
                if not rows:
                    continue
                account["cases"] = [r[0] for r in rows]
                account["participants"] = sorted({r[1] for r in rows})
            accounts[role].append(account)
        topics = [r[0] for r in connection.execute(
            "SELECT id FROM core_topic WHERE district_id = %s AND active", [district])]
    return {"district_id": district, "accounts": accounts, "topics": topics, "reports": REPORTS,
            "password": "kim-demo-2026"}


def signed_in(url: str, the_plan: dict, users: int):
    """Sessions made beforehand, `users` per role (one per locust user, the accounts in turn),
    as a login would make them: the test measures working, not the password hash."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kim.settings")
    import importlib

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_scopes import scopes_disabled

    from kim.core.models import User

    engine = importlib.import_module(settings.SESSION_ENGINE)
    with scopes_disabled():
        for role, accounts in the_plan["accounts"].items():
            signed = []
            for index in range(users):
                account = dict(accounts[index % len(accounts)])
                user = User.objects.get(username=account["username"])
                session = engine.SessionStore()
                session[SESSION_KEY] = str(user.pk)
                session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]  # the local login
                session[HASH_SESSION_KEY] = user.get_session_auth_hash()
                session.create()
                account["session"] = session.session_key
                signed.append(account)
            the_plan["accounts"][role] = signed
    the_plan["session_cookie"] = settings.SESSION_COOKIE_NAME


def wait_for(url: str, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def read_stats(path: Path) -> dict:
    pages = {}
    with path.open(encoding="utf-8") as stats:
        for row in csv.DictReader(stats):
            name = row["Name"] if row["Name"] != "Aggregated" else "(alle)"
            if row["Request Count"] == "0":
                continue  # requested before locust reset the figures only
            pages[name] = {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                           "p50_ms": float(row["50%"] or 0), "p95_ms": float(row["95%"] or 0),
                           "p99_ms": float(row["99%"] or 0), "requests_per_s": round(float(row["Requests/s"]), 2)}
    return pages


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db-url", default=os.environ.get("STATESCALE_URL", STATE_URL))
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--port", type=int, default=8310)
    parser.add_argument("--with-logins", action="store_true",
                        help="every user logs in through the form, and the figures keep the ramp-up")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kim-load-"))
    plan_file = work / "plan.json"
    the_plan = plan(args.db_url)
    if not args.with_logins:
        signed_in(args.db_url, the_plan, args.users)
    plan_file.write_text(json.dumps(the_plan))
    env = {**os.environ, "DATABASE_URL": args.db_url, "KIM_SECURE_COOKIES": "0", "KIM_SSL_REDIRECT": "0",
           "KIM_LOAD_PLAN": str(plan_file)}
    host = f"http://127.0.0.1:{args.port}"
    server_log = (work / "serve.log").open("w")
    server = subprocess.Popen([str(ROOT / ".venv/bin/kim"), "serve", "--bind", f"127.0.0.1:{args.port}"],
                              env=env, stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True)
    result = {"users": args.users, "seconds": args.seconds, "db_url": args.db_url, "with_logins": args.with_logins,
              "accounts": {role: len(a) for role, a in the_plan["accounts"].items()}}
    try:
        wait_for(f"{host}/healthz", 120)
        result["uptime_before"] = uptime()
        started = time.monotonic()
        locust = subprocess.run(
            [str(ROOT / ".venv/bin/locust"), "-f", str(HERE / "locustfile.py"), "--headless", "--host", host,
             "--users", str(args.users), "--spawn-rate", str(max(1, args.users // 10)),
             "--run-time", f"{args.seconds}s", "--csv", str(work / "locust"), "--only-summary",
             "--stop-timeout", "10", "--loglevel", "WARNING", *([] if args.with_logins else ["--reset-stats"])],
            env=env, capture_output=True, text=True, timeout=args.seconds + 120)
        result["wall_s"] = round(time.monotonic() - started, 1)
        result["uptime_after"] = uptime()
        if not (work / "locust_stats.csv").exists():
            sys.stderr.write(locust.stdout[-3000:] + locust.stderr[-3000:])
            return 1
        result["pages"] = read_stats(work / "locust_stats.csv")
        failures = (work / "locust_failures.csv")
        result["failures"] = failures.read_text(encoding="utf-8")[:4000] if failures.exists() else ""
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        server_log.close()
    total = result["pages"].get("(alle)", {})
    result["targets"] = {"errors": 0, "p95_ms": 500}
    result["targets_met"] = {"errors": total.get("failures", 1) == 0, "p95": total.get("p95_ms", 1e9) <= 500}
    print(f"{args.users} users, {args.seconds} s against kim serve on {host} ({uptime()})")
    print(f"{'page':<28}{'requests':>9}{'errors':>7}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}")
    for name, page in result["pages"].items():
        print(f"{name:<28}{page['requests']:>9}{page['failures']:>7}{page['p50_ms']:>8.0f}{page['p95_ms']:>8.0f}"
              f"{page['p99_ms']:>8.0f}")
    if result["failures"].count("\n") > 1:
        print("failures:\n" + result["failures"][:1500])
    RESULTS.mkdir(exist_ok=True)
    database = args.db_url.rsplit("/", 1)[-1]
    path = RESULTS / f"load-{database}-{args.users}u-{args.seconds}s{'-logins' if args.with_logins else ''}.json"
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
