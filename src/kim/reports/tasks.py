"""Background rendering of committee papers (run by `kim worker`)."""

import logging

from django.utils import translation
from django_scopes import scope, scopes_disabled
from django_tasks import task

from .models import RenderJob

log = logging.getLogger(__name__)


@task()
def render_paper(job_id: int):
    from .completeness import data_state
    from .paper import paper_tables, render_docx, render_pdf
    from .services import finish_job, start_job

    with scopes_disabled():
        job = RenderJob.objects.select_related("paper", "paper__template", "requested_by", "district").get(pk=job_id)
    with translation.override("de"), scope(district=job.district_id):
        try:
            start_job(job)
            paper, user = job.paper, job.requested_by

            def progress(done, total):
                # Reports are most of the work; the document itself is the last fifth. Progress
                # is display state of the job, not a change worth an audit entry.
                RenderJob.objects.filter(pk=job.pk).update(progress=5 + int(75 * done / max(total, 1)))

            tables = paper_tables(paper, user, progress)
            state = data_state(user)
            state_text = state["text"] if state else "kein Stichtag gesetzt"
            if job.format == "docx":
                template = paper.template.content if paper.template_id else None
                result = render_docx(paper, tables, state_text, bytes(template) if template else None)
            else:
                result = render_pdf(paper, tables, state_text)
        except Exception as exc:  # the user gets a message, the operator the traceback
            log.exception("rendering committee paper %s failed", job.paper_id)
            finish_job(job, error=f"Die Erstellung ist fehlgeschlagen: {exc}"[:300])
            return
        finish_job(job, result=result)
