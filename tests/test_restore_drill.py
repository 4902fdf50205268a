"""The restore drill of docs/betrieb.md ("Sicherung und Wiederherstellung"), step by step with the
real programs: deploy/kim-backup.sh (pg_dump -Fc), createdb, pg_restore into a NEW database owned by the owner role,
`kim grant-app-role`, `kim migrate --check`; then the restored database must give every report
exactly as the original, hold the same rows, and its audit log must still refuse changes."""

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from psycopg import sql

PROJECT = Path(__file__).resolve().parents[1]
YEAR = "2025"

# Every report, as `kim report ID --district demo --as koordination --year 2025 --format json`
# would print it, from the database named by DATABASE_URL.
ALL_REPORTS = """
import json, pathlib, tempfile
from django.core.management import call_command
from django.core.management.base import CommandError
from kim.reports.framework import registered_reports
answers = {}
output = pathlib.Path(tempfile.mkdtemp()) / "report.json"
for report in registered_reports():
    try:
        call_command("report", report.id, district="demo", username="koordination", year=%r, format="json",
                     output=str(output))
        answer = json.loads(output.read_text())
        answer.pop("generated_at")  # when, not what
        answers[report.id] = answer
    except CommandError as exc:
        answers[report.id] = "Fehler: " + str(exc)
print(json.dumps(answers))
"""


def postgres_url(name: str, user: str | None = None) -> str:
    settings = connection.settings_dict
    return (f"postgres://{user or settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
            f"/{name}")


def kim(database_url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DATABASE_URL": database_url}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    # The browser tests' conftest allows Django's async-unsafe calls for Playwright in this
    # process; a deployment never does, and `kim check --deploy` says so as async.E001.
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run([sys.executable, "-m", "kim.cli", *args], env=environment, capture_output=True, text=True,
                          cwd=PROJECT, check=check)


def reports_of(database_url: str) -> dict:
    result = kim(database_url, "shell", "-c", ALL_REPORTS % YEAR)
    return json.loads(result.stdout.strip().splitlines()[-1])


def row_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as database:
        tables = [row[0] for row in database.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")]
        return {table: database.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
                for table in tables}


def run(*command: str):
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{command[0]}: {result.stderr}"


@pytest.fixture
def restored_database():
    """A new database and its two roles as docs/betrieb.md sets them up (kim_owner, kim_app),
    named after this leg's test database so that parallel runs do not meet; dropped afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("the drill restores a pg_dump into PostgreSQL; an SQLite installation is backed up by copying "
                    "its file (docs/betrieb.md). The PostgreSQL leg, mandatory in CI, runs it")
    base = connection.settings_dict["NAME"]
    names = {"database": f"{base}_restored", "owner": f"{base}_owner", "app": f"{base}_app"}
    admin = psycopg.connect(postgres_url("postgres"), autocommit=True)

    def drop():
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(names["database"])))
        for role in ("app", "owner"):
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(names[role])))

    drop()
    for role in ("owner", "app"):
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(names[role])))
    try:
        yield names
    finally:
        drop()
        admin.close()


@pytest.mark.django_db(transaction=True)
def test_a_restored_backup_gives_the_same_reports_and_keeps_the_audit_log_append_only(tmp_path, restored_database):
    missing = [program for program in ("pg_dump", "pg_restore", "createdb") if shutil.which(program) is None]
    assert missing == [], f"PostgreSQL client programs missing (tools/system_packages.sh): {missing}"
    from kim.demo import build_demo_district

    build_demo_district(size=0.3, today=date(2026, 6, 30))
    original = postgres_url(connection.settings_dict["NAME"])
    names = restored_database
    owner_url = postgres_url(names["database"], names["owner"])
    app_url = postgres_url(names["database"], names["app"])

    # The steps of docs/betrieb.md.
    backup = subprocess.run(["sh", str(PROJECT / "deploy" / "kim-backup.sh")], capture_output=True, text=True,
                            check=False, env={**os.environ, "KIM_BACKUP_DATABASE_URL": original,
                                              "KIM_BACKUP_DIR": str(tmp_path)})
    assert backup.returncode == 0 and "kim-backup:" in backup.stdout, backup.stderr
    [dump] = tmp_path.glob("kim-*.dump")
    assert list(tmp_path.glob("*.partial")) == []
    counts_at_backup = row_counts(original)
    run("createdb", "--owner", names["owner"], "--maintenance-db", postgres_url("postgres"), names["database"])
    run("pg_restore", "--exit-on-error", "--no-owner", "--role", names["owner"], "--dbname",
        postgres_url(names["database"]), str(dump))
    granted = kim(owner_url, "grant-app-role", names["app"])
    assert f"Die Rolle {names['app']} darf die Anwendung betreiben" in granted.stdout
    assert kim(owner_url, "migrate", "--check").returncode == 0  # nothing left to migrate

    assert row_counts(app_url) == counts_at_backup
    assert counts_at_backup["core_auditentry"] > 20 and counts_at_backup["casework_appointment"] > 500, counts_at_backup

    before, after = reports_of(original), reports_of(app_url)
    assert len(before) >= 10
    assert [report for report, answer in before.items() if isinstance(answer, str)] == []
    assert after == before

    # The application's role sees a sound installation: triggers present, no rights to remove them.
    checked = kim(app_url, "check", "--deploy", "--database", "default", "--fail-level", "ERROR")
    assert "kim.E001" not in checked.stdout + checked.stderr and "kim.W001" not in checked.stdout + checked.stderr

    with psycopg.connect(app_url, autocommit=True) as database:
        for refused in ("UPDATE core_auditentry SET action = 'delete' WHERE id = (SELECT min(id) FROM core_auditentry)",
                        "DELETE FROM core_auditentry WHERE id = (SELECT min(id) FROM core_auditentry)",
                        "TRUNCATE core_auditentry",
                        "ALTER TABLE core_auditentry DISABLE TRIGGER ALL",
                        "DROP TRIGGER core_auditentry_append_only ON core_auditentry"):
            with pytest.raises(psycopg.Error):
                database.execute(refused)
        assert database.execute("SELECT count(*) FROM core_auditentry").fetchone()[0] == \
            counts_at_backup["core_auditentry"]
