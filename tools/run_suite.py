"""Run the whole suite twice: on SQLite and on PostgreSQL.

A leg that cannot run says why. With KIM_REQUIRE_POSTGRES=1 (set by CI) a missing
PostgreSQL server fails the run instead of skipping the leg; KIM_REQUIRE_BROWSER=1 does
the same for the browser tests (see tests/browser/conftest.py)."""

import os
import subprocess
import sys

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


def run_leg(name: str, database_url: str, extra: list[str]) -> int:
    print(f"\n=== Test leg: {name} ===", flush=True)
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.call([sys.executable, "-m", "pytest", *extra], env=env)


def main(argv: list[str]) -> int:
    results = {"SQLite": run_leg("SQLite", "sqlite:///:memory:", argv)}
    reason = postgres_available(PG_URL)
    if reason is None:
        results["PostgreSQL"] = run_leg("PostgreSQL", PG_URL, argv)
    elif os.environ.get("KIM_REQUIRE_POSTGRES") == "1":
        print(f"\nPostgreSQL leg is mandatory but the server is not reachable: {reason}")
        results["PostgreSQL"] = 1
    else:
        print(f"\nSKIPPED the PostgreSQL leg: server not reachable at {PG_URL} ({reason}).")
    print("\n=== Summary ===")
    for leg, code in results.items():
        print(f"{leg}: {'passed' if code == 0 else f'FAILED (exit {code})'}")
    return 0 if all(code == 0 for code in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
