"""kim worker: the background task worker, which survives a locked or unreachable database and
runs the maintenance jobs (kim.core.maintenance) beside the tasks."""

import logging
import time

from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker

from kim.core import maintenance

log = logging.getLogger("kim.worker")
MAX_PAUSE_SECONDS = 30


class ResilientWorker(Worker):
    """django-tasks' worker, restarted in place when the database refuses it for a moment
    (SQLite: "database is locked" while another process writes; PostgreSQL: a restart of the
    server). The task that was running is marked by django-tasks itself; the loop goes on.
    A signal (Ctrl+C, SIGTERM) still ends it: that is a SystemExit, not an Exception."""

    def run(self):
        pause = 1
        while self.running:
            try:
                return super().run()
            except Exception as exc:  # noqa: BLE001 - the worker must outlive any one failure
                log.warning("Der Hintergrunddienst pausiert %d s nach einem Fehler: %s", pause, exc)
                close_old_connections()
                time.sleep(pause)
                pause = min(pause * 2, MAX_PAUSE_SECONDS)


class Command(DatabaseWorkerCommand):
    help = ("Der Hintergrunddienst: erstellt Sachstandsberichte, prüft und übernimmt Importe und erledigt "
            "regelmäßige Aufräumarbeiten (siehe kim cleanup). Übersteht eine gesperrte Datenbank.")

    def handle(self, *, verbosity, queue_name, interval, batch, backend_name, startup_delay, reload, max_tasks,
               worker_id, exclude_queues, **options):
        self.configure_logging(verbosity)
        worker = ResilientWorker(
            queue_names=queue_name.split(","), interval=interval, batch=batch, backend_name=backend_name,
            startup_delay=startup_delay, max_tasks=max_tasks, worker_id=worker_id,
            excluded_queue_names=exclude_queues.split(",") if exclude_queues else [],
        )
        worker.configure_signals()
        stop = maintenance.start_in_background() if not batch else None
        try:
            worker.run()
        finally:
            if stop is not None:
                stop.set()
