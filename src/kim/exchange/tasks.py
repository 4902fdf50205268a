"""Background checks and imports (run by `kim worker`)."""

import logging

from django.utils import translation
from django_scopes import scope, scopes_disabled
from django_tasks import task

from .models import ImportRun

log = logging.getLogger(__name__)


def _run(run_id: int, commit: bool):
    from .services import fail, run_import

    with scopes_disabled():
        run = ImportRun.objects.select_related("created_by", "case_manager", "mapping").get(pk=run_id)
    with translation.override("de"), scope(district=run.district_id):

        def progress(done, total):
            # Display state of the run, not a change worth an audit entry. Reading and checking
            # is the first 90 %; writing happens in one transaction that others cannot watch.
            ImportRun.objects.filter(pk=run.pk).update(progress=min(90, int(90 * done / max(total, 1))))

        try:
            run_import(run, commit=commit, progress=progress)
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
