"""The audit log is append-only in the database too, not only in the ORM.

PostgreSQL refuses UPDATE and DELETE by trigger (migration 0002); the boundary there is the
table's owner, who could drop the trigger, so the application should connect as a role that
does not own the tables (`kim grant-app-role`, docs/betrieb.md). SQLite has no roles: the
triggers of migration 0005 refuse UPDATE, DELETE and a REPLACE that would overwrite an entry.
The DELETE trigger asks the function `kim_audit_delete_allowed()`, which every connection of
this application registers and which answers "no" except inside `audit_delete_allowed()`:
only the test suite's flush of its own database uses that. A connection that does not know
the function (the sqlite3 shell, another program) cannot delete entries at all."""

import contextlib
import threading

from django.db.backends.signals import connection_created
from django.dispatch import receiver

_allowed = threading.local()


@contextlib.contextmanager
def audit_delete_allowed():
    """Let this thread's connections empty the audit table (the test suite's flush only)."""
    _allowed.value = True
    try:
        yield
    finally:
        _allowed.value = False


def _delete_allowed() -> int:
    return int(getattr(_allowed, "value", False))


@receiver(connection_created)
def register_audit_guard(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function("kim_audit_delete_allowed", 0, _delete_allowed, deterministic=False)
