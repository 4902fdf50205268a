"""`kim check --deploy`: the audit log is append-only in the database of this installation —
its triggers are there, and on PostgreSQL the application does not connect as a role that
could drop them (a superuser, or the owner of the audit table; see docs/betrieb.md)."""

from django.conf import settings
from django.core import checks
from django.db import DatabaseError, connection

from .models import AuditEntry

EXPECTED_TRIGGERS = {
    "sqlite": {"no_update", "no_delete", "no_replace"},
    "postgresql": {"append_only"},
}


@checks.register(checks.Tags.database, deploy=True)
def audit_log_is_append_only(app_configs=None, databases=None, **kwargs):
    if not databases or "default" not in databases:
        return []  # `check --deploy` without --database: the database is not asked
    table = AuditEntry._meta.db_table
    try:
        present = _triggers(table)
        problems = _role_problems(table) if connection.vendor == "postgresql" else []
    except DatabaseError as exc:
        return [checks.Warning(f"The audit table could not be inspected: {exc}", id="kim.W002")]
    missing = {f"{table}_{name}" for name in EXPECTED_TRIGGERS.get(connection.vendor, set())} - present
    if missing:
        problems.append(checks.Error(
            f"The audit log is not append-only: trigger(s) {', '.join(sorted(missing))} missing or disabled.",
            hint="Run `kim migrate`; if they were dropped, restore them from migrations 0002 and 0005 of core.",
            id="kim.E001"))
    return problems


def _triggers(table) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
        else:
            # Counted only if it fires in every session ('O' origin, 'A' always: not disabled, not
            # 'R' replica-only) and its function still refuses (a function that returns its row
            # lets everything through).
            cursor.execute("SELECT t.tgname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
                           "WHERE t.tgrelid = %s::regclass AND NOT t.tgisinternal AND t.tgenabled IN ('O', 'A') "
                           "AND p.prosrc ILIKE '%%RAISE EXCEPTION%%'", [table])
        return {row[0] for row in cursor.fetchall()}


def _role_problems(table) -> list:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        cursor.execute("SELECT pg_has_role(current_user, tableowner, 'USAGE') FROM pg_tables WHERE tablename = %s",
                       [table])
        owner = cursor.fetchone()[0]
    if superuser or owner:
        return [checks.Warning(
            "The application connects to PostgreSQL as a superuser or as the owner of the audit table: "
            "that role can drop the trigger that keeps the audit log append-only.",
            hint="Connect as the role `kim grant-app-role` sets up (docs/betrieb.md); migrate as the owner.",
            id="kim.W001")]
    return []


METRICS_TOKEN_MIN_LENGTH = 32


@checks.register(checks.Tags.security, deploy=True)
def metrics_token_is_long_enough(app_configs=None, **kwargs):
    """A short KIM_METRICS_TOKEN can be guessed; `kim secret-key`-like random tokens are long."""
    token = settings.KIM_METRICS_TOKEN
    if token and len(token) < METRICS_TOKEN_MIN_LENGTH:
        return [checks.Warning(
            f"KIM_METRICS_TOKEN is shorter than {METRICS_TOKEN_MIN_LENGTH} characters and could be guessed.",
            hint="Make a random one, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))'.",
            id="kim.W003")]
    return []
