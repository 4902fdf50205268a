"""The state-scale generator and the DuckDB comparison of bench/ keep working (a tiny share).

bench/statescale.py writes with PostgreSQL's COPY, so this runs on the PostgreSQL leg only:
into a database of its own beside the test database, dropped afterwards."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture
def state_url():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("bench/statescale.py writes with PostgreSQL's COPY: the PostgreSQL leg runs it")
    import psycopg

    server, name = url.rsplit("/", 1)
    target = f"kim_sbench_{name}"  # the generator drops and makes only databases named as its own
    yield f"{server}/{target}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')


def run(script, *args):
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run([sys.executable, str(PROJECT / "bench" / script), *args], env=environment,
                          cwd=PROJECT, capture_output=True, text=True, timeout=120)


def test_a_tiny_share_of_the_state_is_generated_and_reports_match_duckdb(state_url):
    import psycopg

    made = run("statescale.py", "--share", "0.001", "--districts", "2", "--db-url", state_url, "--no-results")
    assert made.returncode == 0, made.stderr[-2000:]
    with psycopg.connect(state_url) as connection:
        counts = {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("core_district", "casework_participant", "casework_case", "casework_appointment",
                                "casework_appointment_topics", "casework_goal", "casework_assessment")}
        # The foreign keys dropped for the load are back (and were checked when they came back).
        keys = connection.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
                                  "AND conrelid = 'casework_appointment'::regclass").fetchone()[0]
    assert counts["core_district"] == 2
    assert all(n > 0 for n in counts.values()), counts
    assert keys >= 5
    compared = run("duckdb_compare.py", "--db-url", state_url, "--reports", "R1", "R2", "R3", "R4", "R5", "R15",
                   "--repeat", "1", "--no-results")
    assert compared.returncode == 0, compared.stdout[-2000:] + compared.stderr[-2000:]
    assert compared.stdout.count(" yes") == 6, compared.stdout


def test_the_generator_refuses_to_drop_a_database_not_named_as_the_benchmarks_own():
    refused = run("statescale.py", "--share", "0.001", "--districts", "1",
                  "--db-url", "postgres://postgres@127.0.0.1:5432/kim", "--no-results")
    assert refused.returncode != 0
    assert "refusing to drop the database 'kim'" in refused.stderr

