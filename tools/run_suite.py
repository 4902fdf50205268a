"""Run the whole suite twice: on SQLite and on PostgreSQL, both legs at once.

The legs share nothing (SQLite in memory, a PostgreSQL test database of its own, live servers
on free ports), so on a machine with two cores they run side by side; each leg's output is
printed as a whole when it ends. KIM_SUITE_SERIAL=1 runs them one after the other, with their
output as it comes.

A leg that cannot run says why. With KIM_REQUIRE_POSTGRES=1 (set by CI) a missing
PostgreSQL server fails the run instead of skipping the leg; KIM_REQUIRE_BROWSER=1 does
the same for the browser tests (see tests/browser/conftest.py), KIM_REQUIRE_SSO=1 for the LDAP
login tests without slapd (tests/directories.py)."""

import os
import shutil
import subprocess
import sys
import tempfile

PG_URL = os.environ.get("PG_TEST_URL", "postgres://postgres@127.0.0.1:5432/kim")


def postgres_available(url: str) -> str | None:
    """None if the server answers, else the reason it does not."""
    import psycopg

    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(admin_url, connect_timeout=5):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


def start_leg(name: str, database_url: str, extra: list[str], serial: bool):
    """The leg's pytest process, and the file its output goes to (None: straight through)."""
    env = {**os.environ, "DATABASE_URL": database_url}
    # The slowest tests of each leg are printed, so that a test that grows slow is seen in CI.
    command = [sys.executable, "-m", "pytest", "--durations=15", *extra]
    if serial:
        print(f"\n=== Test leg: {name} ===", flush=True)
        return subprocess.Popen(command, env=env), None
    log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
    print(f"=== Test leg: {name} started ===", flush=True)
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT), log


def finish_leg(name: str, process, log) -> int:
    code = process.wait()
    if log is not None:
        log.seek(0)
        print(f"\n=== Test leg: {name} ===", flush=True)
        shutil.copyfileobj(log, sys.stdout)
        sys.stdout.flush()
        log.close()
    return code


def main(argv: list[str]) -> int:
    serial = os.environ.get("KIM_SUITE_SERIAL") == "1"
    legs = {"SQLite": "sqlite:///:memory:"}
    results = {}
    reason = postgres_available(PG_URL)
    if reason is None:
        legs["PostgreSQL"] = PG_URL
    if serial:
        for name, url in legs.items():
            results[name] = finish_leg(name, *start_leg(name, url, argv, serial))
    else:
        running = {name: start_leg(name, url, argv, serial) for name, url in legs.items()}
        for name, (process, log) in running.items():
            results[name] = finish_leg(name, process, log)
    if reason is not None and os.environ.get("KIM_REQUIRE_POSTGRES") == "1":
        print(f"\nPostgreSQL leg is mandatory but the server is not reachable: {reason}")
        results["PostgreSQL"] = 1
    elif reason is not None:
        print(f"\nSKIPPED the PostgreSQL leg: server not reachable at {PG_URL} ({reason}).")
    print("\n=== Summary ===")
    for leg, code in results.items():
        print(f"{leg}: {'passed' if code == 0 else f'FAILED (exit {code})'}")
    return 0 if all(code == 0 for code in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
