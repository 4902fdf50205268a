"""Reports may read from a replica of the database (KIM_REPORTING_DATABASE_URL, docs/betrieb.md
"Über einen Server hinaus"): a streaming replica of PostgreSQL on a second server takes the
reports' long reads off the primary, which keeps the case work fast.

Only a request for a report reads there (ReportingReadsMiddleware), and only what a report
reads: case work, staffing, residence, and the district's organisation and catalogues.
Accounts, sessions and the audit log are always read on the primary, where they are written
(a replica is a moment behind: a login just made must not be missing there). Every write goes
to the primary, also of an object that was read from the replica."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import connections

REPORTING = "reporting"
REPORT_PATHS = ("/berichte/", "/api/v1/reports/")
SAFE_METHODS = ("GET", "HEAD")
REPLICA_APPS = {"casework", "staffing", "residence", "reports", "core"}
PRIMARY_MODELS = {"core.user", "core.auditentry"}

_reading_reports = ContextVar("kim_reading_reports", default=False)


def replica_configured() -> bool:
    return settings.KIM_REPORTING_REPLICA


@contextmanager
def reading_reports():
    """Reads of report data in this block go to the replica, when one is configured."""
    token = _reading_reports.set(True)
    try:
        yield
    finally:
        _reading_reports.reset(token)


class ReportingRouter:
    def db_for_read(self, model, **hints):
        meta = model._meta
        # Inside a transaction of the primary a read is a check before a write (a deadline that
        # must not overlap another): it must see the primary's rows, never a replica's older ones.
        if (_reading_reports.get() and replica_configured() and meta.app_label in REPLICA_APPS
                and meta.label_lower not in PRIMARY_MODELS and not connections["default"].in_atomic_block):
            return REPORTING
        return None

    def db_for_write(self, model, **hints):
        return "default"  # never the replica, which is read-only

    def allow_relation(self, first, second, **hints):
        # Both hold the same rows: an object read from the replica may refer to one from the primary.
        return {first._state.db, second._state.db} <= {"default", REPORTING} or None

    def allow_migrate(self, db, app_label, **hints):
        return db != REPORTING  # the replica follows the primary's migrations by replication


class ReportingReadsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Only pages that show: a form sent under /berichte/ (a deadline, a committee paper)
        # checks and writes on the primary, and the page after it shows what was just saved.
        if not (replica_configured() and request.method in SAFE_METHODS and request.path.startswith(REPORT_PATHS)):
            return self.get_response(request)
        with reading_reports():
            return self.get_response(request)
