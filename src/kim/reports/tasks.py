"""Background work of committee papers (run by `kim worker`): checking an uploaded Word
template, rendering a paper. The untrusted part of both runs in a bounded child process
(paper.py, word.py), so that a template cannot take the worker down."""

import logging

from django.utils import translation
from django_scopes import scope, scopes_disabled
from django_tasks import task

from .models import DocumentTemplate, RenderJob

log = logging.getLogger(__name__)


@task()
def render_paper(job_id: int):
    from .paper import paper_data_state, paper_tables, render_docx, render_pdf
    from .services import finish_job, start_job

    with scopes_disabled():
        job = (RenderJob.objects.select_related("paper", "paper__template", "requested_by", "district")
               .filter(pk=job_id).first())
    if job is None:  # the paper was deleted while the job waited
        return
    with translation.override("de"), scope(district=job.district_id):
        try:
            start_job(job)
            paper, user = job.paper, job.requested_by

            def progress(done, total):
                # Reports are most of the work; the document itself is the last fifth. Progress
                # is display state of the job, not a change worth an audit entry.
                RenderJob.objects.filter(pk=job.pk).update(progress=5 + int(75 * done / max(total, 1)))

            tables = paper_tables(paper, user, progress)
            state_text = paper_data_state(paper, user)
            if job.format == "docx":
                result = render_docx(paper, tables, state_text, _ready_template(paper))
            else:
                result = render_pdf(paper, tables, state_text)
        except Exception as exc:  # the user gets a message, the operator the traceback
            log.exception("rendering committee paper %s failed", job.paper_id)
            finish_job(job, error=failure_message(exc))
            return
        finish_job(job, result=result, paper=paper)


def failure_message(exc) -> str:
    """What the user reads when a rendering failed: the German reason where there is one."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from .paper import TemplateRefused
    from .questions import ParamError

    if isinstance(exc, (TemplateRefused, ParamError)):
        reason = str(exc)
    elif isinstance(exc, ValidationError):
        reason = " ".join(exc.messages)
    else:
        reason = _("an unexpected error; the operator finds the details in the log")
    return (_("The document could not be created: %(reason)s") % {"reason": reason})[:300]


@task()
def check_template(template_id: int):
    from .services import run_template_check

    with scopes_disabled():
        template = DocumentTemplate.objects.select_related("uploaded_by").filter(pk=template_id).first()
    if template is None or template.status != DocumentTemplate.Status.CHECKING:
        return
    with translation.override("de"), scope(district=template.district_id):
        run_template_check(template)


def _ready_template(paper) -> bytes | None:
    """The paper's own template, if it passed its check; None for the default template."""
    from django.utils.translation import gettext as _

    from .paper import TemplateRefused

    if not paper.template_id:
        return None
    if paper.template.status != DocumentTemplate.Status.READY:
        raise TemplateRefused(_("The Word template “%(name)s” has not passed its check.") % {"name": paper.template.name})
    return bytes(paper.template.content)
