"""Load test: 50 concurrent users of mixed roles against `kim serve` on loopback, bounded.

    .venv/bin/python bench/load.py [--db-url URL] [--users 50] [--seconds 60] [--port 8310]

Starts `kim serve --bind 127.0.0.1:<port>` (its default workers; plain HTTP on loopback, so
KIM_SECURE_COOKIES=0 and KIM_SSL_REDIRECT=0, as behind nginx's TLS) on the database made by
bench/statescale.py (default kim_sbench_state), and runs locust headless (bench/locustfile.py)
for --seconds: 70 % case managers of the largest district (Meine Fälle, case pages,
participant pages, lists, saving an appointment), 20 % its coordination (report pages R1–R5,
R15 and the overview) and 10 % provider leads, each logging in through the login form and
waiting 1 to 3 s between requests. The appointments saved stay in the database. The figures
are of the steady state: locust resets them once all users are running (their logins, with
the password hash's deliberate cost, fall in the ramp-up); --with-logins keeps the ramp-up.

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
                        help="keep the ramp-up (every user's login) in the figures")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kim-load-"))
    plan_file = work / "plan.json"
    the_plan = plan(args.db_url)
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
