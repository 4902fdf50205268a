"""Background checks and imports (run by `kim worker`): the view queues, the task calls the service."""

import logging

from django.utils import translation
from django_scopes import scope, scopes_disabled
from django_tasks import task

log = logging.getLogger(__name__)


def _run(run_id: int, commit: bool):
    from .services import claim, fail, heartbeat, run_import

    with scopes_disabled():
        run = claim(run_id, commit=commit)
    if run is None:
        return  # reset, finished or taken by another worker meanwhile
    with translation.override("de"), scope(district=run.district_id):
        try:
            run_import(run, commit=commit, progress=heartbeat(run))
        except Exception:  # the user gets a message, the operator the traceback
            log.exception("import %s failed", run_id)
            fail(run, "Der Import ist an einem internen Fehler gescheitert; es wurde nichts übernommen. "
                      "Bitte wenden Sie sich an den Betrieb.")


@task()
def check_import(run_id: int):
    _run(run_id, commit=False)


@task()
def commit_import(run_id: int):
    _run(run_id, commit=True)
