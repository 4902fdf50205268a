"""Housekeeping that runs on its own: one registry of maintenance jobs.

The background worker (`kim worker`, started by `kim serve`) runs every job when it starts and
then every `KIM_MAINTENANCE_MINUTES` (default 10); `kim cleanup` runs them at once, and with
`--dry-run` only says what they would do. A job is a function `(dry_run: bool) -> list[str]`
returning one German line per thing it did (or would do); it changes state through services,
so that every change is audited. The apps register their jobs in their `ready()`."""

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections
from django.utils import translation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    function: object


JOBS: list[Job] = []


def job(name: str):
    """Decorator: register a maintenance job under a German name."""

    def register(function):
        if any(existing.name == name for existing in JOBS):
            raise ValueError(f"maintenance job {name!r} is registered twice")
        JOBS.append(Job(name, function))
        return function

    return register


def run_all(dry_run: bool = False) -> dict[str, list[str]]:
    """Every job once; a failing job is logged and does not stop the others."""
    results = {}
    with translation.override("de"):
        for registered in JOBS:
            try:
                results[registered.name] = list(registered.function(dry_run))
            except Exception:  # one broken job must not stop the housekeeping of the others
                log.exception("maintenance job %s failed", registered.name)
                results[registered.name] = ["fehlgeschlagen (siehe Protokoll des Betriebs)"]
    return results


def run_periodically(stop: threading.Event):
    """The worker's maintenance thread: all jobs now, then every few minutes until `stop`."""
    minutes = settings.KIM_MAINTENANCE_MINUTES
    while not stop.is_set():
        started = time.monotonic()
        try:
            for name, lines in run_all().items():
                for line in lines:
                    log.warning("%s: %s", name, line)
        finally:
            close_old_connections()
        stop.wait(max(1.0, minutes * 60 - (time.monotonic() - started)))


def start_in_background() -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_periodically, args=(stop,), name="kim-maintenance", daemon=True).start()
    return stop
