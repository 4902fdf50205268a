"""State changes of controlling: one transaction and one audit entry each."""

import re
import zipfile
from xml.parsers import expat
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kim.core.audit import Action, record, snapshot
from kim.core.models import District
from kim.core.services import create_object, update_object

from .completeness import current_deadline, deadline_for_year
from .models import CommitteePaper, DataConfirmation, DocumentTemplate, RenderJob, ReportingDeadline

MAX_TEMPLATE_BYTES = 5 * 1024 * 1024


# How far ahead a deadline may lie: a typing error (2062) should not become the current deadline.
MAX_DEADLINE_YEARS_AHEAD = 2


def _check_deadline(due_on, year, *, changing_due_on=True, later_than=None):
    """A deadline lies ahead (not more than two years), for a year that has ended, and after
    every other deadline in force (`later_than`), so that a new one never hides behind an old."""
    today = timezone.localdate()
    if changing_due_on and due_on < today:
        raise ValidationError({"due_on": _("The deadline lies in the past.")})
    if changing_due_on and due_on.year > today.year + MAX_DEADLINE_YEARS_AHEAD:
        raise ValidationError({"due_on": _("The deadline lies more than two years ahead.")})
    if year >= today.year:
        raise ValidationError({"year": _(
            "A deadline is set for the figures of a year that has ended (at most %(year)d): district "
            "figures of a running year are not published."
        ) % {"year": today.year - 1}})
    if year < 1990:
        raise ValidationError({"year": _("The year must lie between 1990 and 2100.")})
    if year > due_on.year:
        raise ValidationError({"year": _("The figures cannot be from a year after the deadline.")})
    if later_than is not None and due_on < later_than.due_on:
        raise ValidationError({"due_on": _(
            "The deadline “%(title)s” falls on %(due)s, later than this one: change or withdraw it first."
        ) % {"title": later_than.title, "due": f"{later_than.due_on:%d.%m.%Y}"}})


def _one_deadline_change_at_a_time(actor):
    """Deadlines are checked against each other ("after every other in force"): two changes
    at once would each pass against the state before the other. The district's row serialises
    them (PostgreSQL; SQLite writes one at a time anyway)."""
    District.objects.select_for_update().filter(pk=actor.district_id).exists()


@transaction.atomic
def create_deadline(actor, title, due_on, year: int) -> ReportingDeadline:
    """A deadline for the figures of one calendar year that has ended. It becomes the current
    deadline; the earlier ones keep their confirmations (see deadline list)."""
    _one_deadline_change_at_a_time(actor)
    _check_deadline(due_on, year, later_than=current_deadline())
    return create_object(
        actor, ReportingDeadline, district=actor.district, title=title, due_on=due_on,
        period_start=date(year, 1, 1), period_end=date(year, 12, 31), created_by=actor,
    )


@transaction.atomic
def update_deadline(actor, deadline, title, due_on, year: int) -> ReportingDeadline:
    """Correct a deadline. Once a provider has confirmed, its year is fixed: they confirmed the
    figures of that year."""
    _one_deadline_change_at_a_time(actor)
    deadline = ReportingDeadline.objects.select_for_update().get(pk=deadline.pk)
    current = current_deadline()
    if current is None or current.pk != deadline.pk:
        raise ValidationError(_("Only the current deadline can be changed; earlier ones are kept as they were."))
    if year != deadline.year and deadline.confirmations.exists():
        raise ValidationError({"year": _(
            "Providers have confirmed the figures of %(year)d for this deadline; the year can no longer "
            "be changed. Set a new deadline instead."
        ) % {"year": deadline.year}})
    others = ReportingDeadline.objects.filter(withdrawn_at__isnull=True).exclude(pk=deadline.pk)
    _check_deadline(due_on, year, changing_due_on=due_on != deadline.due_on,
                    later_than=others.order_by("-due_on", "-pk").first())
    return update_object(actor, deadline, {
        "title": title, "due_on": due_on, "period_start": date(year, 1, 1), "period_end": date(year, 12, 31),
    })


@transaction.atomic
def withdraw_deadline(actor, deadline) -> ReportingDeadline:
    """The deadline is no longer current; it and its confirmations stay in the history."""
    deadline = ReportingDeadline.objects.select_for_update().get(pk=deadline.pk)
    if deadline.withdrawn_at:
        raise ValidationError(_("The deadline has already been withdrawn."))
    return update_object(actor, deadline, {"withdrawn_at": timezone.now()})


def _check_confirmable(actor, deadline):
    if not actor.is_provider_lead:
        raise ValidationError(_("Only the provider lead confirms the provider's data."))
    current = current_deadline()
    if current is None or current.pk != deadline.pk:
        raise ValidationError(_("Only the current deadline can be confirmed."))


@transaction.atomic
def confirm_data(actor, deadline, complete_share, cases, note="") -> DataConfirmation:
    """The provider lead confirms the provider's data for the deadline (once)."""
    _check_confirmable(actor, deadline)
    if DataConfirmation.objects.filter(deadline=deadline, provider_id=actor.provider_id).exists():
        raise ValidationError(_("The data of this provider has already been confirmed for this deadline."))
    if complete_share is not None:
        complete_share = Decimal(complete_share).quantize(Decimal("0.0001"))
    return create_object(
        actor, DataConfirmation, deadline=deadline, district=actor.district, provider=actor.provider,
        confirmed_by=actor, complete_share=complete_share, cases=cases, note=note,
    )


@transaction.atomic
def correct_confirmation_note(actor, confirmation, note: str) -> DataConfirmation:
    """The provider's lead corrects the note of the provider's confirmation of the current
    deadline (the audit keeps the earlier wording)."""
    _check_confirmable(actor, confirmation.deadline)
    if confirmation.provider_id != actor.provider_id:
        raise ValidationError(_("Only the lead of the provider corrects its confirmation."))
    return update_object(actor, confirmation, {"note": note})


# What a Word file (an agreement's document, a committee paper's template) may not hold.
# Content types and relationship types of macros, ActiveX controls and OLE objects, wherever
# they appear (a part may have any name: macros.dat is a vbaProject as well as vbaProject.bin).
WORD_ACTIVE_CONTENT_TYPES = ("vbaproject", "vbadata", "macroenabled", "activex", "oleobject",
                             "keymapcustomizations", "attachedtoolbars")
WORD_ACTIVE_RELATIONSHIPS = {"vbaproject", "wordvbadata", "activexcontrol", "activexcontrolbinary", "control",
                             "oleobject", "keymapcustomizations", "attachedtoolbars"}
# Embedded packages (a chart's data, an embedded workbook) without macros; anything else in
# embeddings/ is an OLE object.
WORD_EMBEDDED_PACKAGES = (".xlsx", ".docx", ".pptx")
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: VBA projects, OLE objects, ActiveX
MAX_WORD_PARTS, MAX_WORD_XML_BYTES = 10_000, 2 * 1024 * 1024
RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"


# Field codes that run something (DDE) or load content from elsewhere when the file is opened
# or updated; HYPERLINK, PAGE, TOC and the like are fine. A field's instruction may be split
# over several runs: their texts are joined before looking.
FIELD_INSTRUCTION = re.compile(rb"<w:instrText\b[^>]*>([^<]*)</w:instrText>|\bw:instr=\"([^\"]*)\"")
ACTIVE_FIELDS = re.compile(r"(?i)(?<![A-Za-z])(DDEAUTO|DDE)(?![A-Za-z])")
EXTERNAL_FIELDS = re.compile(r"(?i)(?<![A-Za-z])(INCLUDETEXT|INCLUDEPICTURE|INCLUDE|LINK|IMPORT)(?![A-Za-z])")


def _field_problem(data: bytes):
    instructions = "".join((a or b).decode("utf-8", "replace") for a, b in FIELD_INSTRUCTION.findall(data))
    if ACTIVE_FIELDS.search(instructions):
        raise _Unsafe("active")
    if EXTERNAL_FIELDS.search(instructions):
        raise _Unsafe("external")


class _Unsafe(Exception):
    """The kind of content a Word file is refused for: "active", "external", "broken"."""


def _xml_elements(data: bytes, namespace: str, names: tuple) -> list[dict]:
    """The attributes of the elements `names` (in `namespace`) of a package part. A DTD is
    refused (the package format forbids it; it is how entity tricks come in)."""
    found = []

    def start(name, attributes):
        uri, _sep, local = name.rpartition(" ")
        if uri == namespace and local in names:
            found.append(attributes)

    def doctype(*_args):
        raise _Unsafe("broken")

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler, parser.StartDoctypeDeclHandler = start, doctype
    parser.EntityDeclHandler = doctype
    try:
        parser.Parse(data, True)
    except expat.ExpatError:
        raise _Unsafe("broken") from None
    return found


def _word_file_problem(archive: zipfile.ZipFile):
    infos = archive.infolist()
    if len(infos) > MAX_WORD_PARTS or sum(info.file_size for info in infos) > 50 * MAX_TEMPLATE_BYTES:
        raise _Unsafe("size")
    for info in infos:
        name = info.filename.lower().replace("\\", "/")
        if name.endswith("vbaproject.bin") or "/embeddings/" in f"/{name}" and not name.endswith(WORD_EMBEDDED_PACKAGES):
            raise _Unsafe("active")
        with archive.open(info) as part:
            if part.read(len(OLE_SIGNATURE)) == OLE_SIGNATURE:
                raise _Unsafe("active")
        if name.startswith("word/") and name.endswith(".xml"):
            if info.file_size > 10 * MAX_WORD_XML_BYTES:
                raise _Unsafe("size")
            _field_problem(archive.read(info))
        if name == "[content_types].xml" or name.endswith(".rels"):
            if info.file_size > MAX_WORD_XML_BYTES:
                raise _Unsafe("size")
            data = archive.read(info)
            if name == "[content_types].xml":
                types = _xml_elements(data, CONTENT_TYPES, ("Default", "Override"))
                if any(kind in entry.get("ContentType", "").lower()
                       for entry in types for kind in WORD_ACTIVE_CONTENT_TYPES):
                    raise _Unsafe("active")
                continue
            for relation in _xml_elements(data, RELATIONSHIPS, ("Relationship",)):
                kind = relation.get("Type", "").strip().rstrip("/").rpartition("/")[2].lower()
                if kind in WORD_ACTIVE_RELATIONSHIPS:
                    raise _Unsafe("active")
                if relation.get("TargetMode", "").strip().lower() == "external" and kind != "hyperlink":
                    raise _Unsafe("external")


def check_word_file(content: bytes):
    """A .docx is a zip with word/document.xml, without macros, ActiveX controls or OLE
    objects (by content type, relationship type, part name or the compound-file signature
    they are stored in), and without relationships to anything outside the file but
    hyperlinks (a remote template, an external OLE link load content when the file is
    opened); anything else gets a German message."""
    if len(content) > MAX_TEMPLATE_BYTES:
        raise ValidationError(_("The template is larger than 5 MB."))
    try:
        with zipfile.ZipFile(BytesIO(content)) as archive:
            if "word/document.xml" not in archive.namelist():
                raise ValidationError(_("The file is not a Word document (.docx)."))
            _word_file_problem(archive)
    except _Unsafe as problem:
        raise ValidationError({
            "active": _("Word files with macros, ActiveX controls or embedded objects (OLE) are not accepted."),
            "external": _("Word files that load content from elsewhere when opened (for example a template or an "
                          "object from the internet or a network drive) are not accepted. Links in the text are fine."),
            "size": _("The template unpacks to an implausible size."),
            "broken": _("The file is not a Word document (.docx)."),
        }[str(problem)]) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, OSError):
        # not a zip, a compression Python cannot unpack, an encrypted member, a bad checksum
        raise ValidationError(_("The file is not a Word document (.docx).")) from None


def upload_template(actor, name, content: bytes) -> DocumentTemplate:
    """Store an uploaded Word template for checking. The quick look at the file (a zip with a
    Word document, no macros) happens here, before the transaction; the check of its
    placeholders runs in the background (`tasks.check_template`), bounded in memory and time,
    so that neither the request nor a database lock waits for it."""
    check_word_file(content)
    with transaction.atomic():
        template = create_object(actor, DocumentTemplate, district=actor.district, name=name, content=content,
                                 uploaded_by=actor, status=DocumentTemplate.Status.CHECKING)
        from .tasks import check_template

        transaction.on_commit(lambda: check_template.enqueue(template.pk))
    return template


def run_template_check(template) -> DocumentTemplate:
    """Check a template (in the worker): the bounded check outside any transaction, then its
    outcome in one transaction with its audit entry."""
    from .paper import TemplateRefused, check_template

    try:
        check_template(bytes(template.content))
    except TemplateRefused as refusal:
        return finish_template_check(template, str(refusal))
    return finish_template_check(template, "")


@transaction.atomic
def finish_template_check(template, refusal: str) -> DocumentTemplate:
    status = DocumentTemplate.Status.REFUSED if refusal else DocumentTemplate.Status.READY
    return update_object(template.uploaded_by, template, {
        "status": status, "message": refusal[:500], "checked_at": timezone.now(),
    })


@transaction.atomic
def delete_template(actor, template):
    """Delete a template no paper uses (the audit keeps its name and outcome)."""
    if CommitteePaper.objects.filter(template=template).exists():
        raise ValidationError(_("Status reports use this template; choose another template for them first."))
    record(actor, Action.DELETE, template, changes={
        k: [v, None] for k, v in snapshot(template, ["name", "status", "message"]).items()})
    template.delete()


def check_paper_question(actor, year, reference_date, report_ids):
    """The paper asks each of its reports for one year and one reference date: by the same
    rules (questions.check_question) that its rendering will apply, so that a paper the form
    accepts can be rendered."""
    from .framework import REGISTRY, get_report
    from .questions import ParamError, check_question, year_question

    unknown = [r for r in report_ids if r not in REGISTRY]
    if unknown:
        raise ValidationError({"report_ids": _("Unknown reports: %(ids)s") % {"ids": ", ".join(unknown)}})
    question = year_question(year, reference_date)
    for report_id in report_ids:
        try:
            check_question(actor, get_report(report_id), question)
        except ParamError as exc:
            field = exc.field if exc.field in ("year", "reference_date") else NON_FIELD_ERRORS
            raise ValidationError({field: str(exc)}) from None


@transaction.atomic
def create_paper(actor, **values) -> CommitteePaper:
    check_paper_question(actor, values.get("year"), values.get("reference_date"), values.get("report_ids", []))
    return create_object(actor, CommitteePaper, district=actor.district, created_by=actor,
                         deadline=deadline_for_year(values.get("year")), **values)


@transaction.atomic
def update_paper(actor, paper, values: dict) -> CommitteePaper:
    """Change a paper's text, year, reports or template; renderings made before stay as made."""
    values = {**values, "deadline": deadline_for_year(values.get("year", paper.year))}
    check_paper_question(actor, values.get("year", paper.year), values.get("reference_date", paper.reference_date),
                         values.get("report_ids", paper.report_ids))
    return update_object(actor, paper, values)


@transaction.atomic
def delete_paper(actor, paper):
    """Delete a paper with its renderings; the audit keeps what it was."""
    fields = ["title", "year", "reference_date", "report_ids", "template"]
    record(actor, Action.DELETE, paper, changes={
        **{k: [v, None] for k, v in snapshot(paper, fields).items()}, "renderings": [paper.jobs.count(), 0],
    })
    paper.delete()


ACTIVE_JOB_STATES = (RenderJob.Status.QUEUED, RenderJob.Status.RUNNING)
# A rendering takes minutes at most; one still active after this was lost (a worker killed).
RENDER_GIVEN_UP_AFTER = timedelta(minutes=30)


@transaction.atomic
def request_render(actor, paper, fmt: str) -> RenderJob:
    """Queue the rendering; the worker picks it up after this transaction commits. A paper has
    at most one active rendering per format: asking again (a double click, a second tab, a
    script) answers with the one already waiting or running, so that nobody fills the queue."""
    if not actor.has_perm("reports.coordinate"):
        raise PermissionDenied  # the district's papers are rendered by its coordination, read by all
    if fmt not in ("docx", "pdf"):
        raise ValidationError(_("Committee papers are made as DOCX or PDF."))
    CommitteePaper.objects.select_for_update().filter(pk=paper.pk).exists()  # one request per paper at a time
    active = RenderJob.objects.filter(paper=paper, format=fmt, status__in=ACTIVE_JOB_STATES).order_by("-created_at")
    for job in active:
        if job.created_at >= timezone.now() - RENDER_GIVEN_UP_AFTER:
            return job
        _give_up(actor, job)
    job = create_object(actor, RenderJob, district=paper.district, paper=paper, requested_by=actor, format=fmt,
                        report_ids=list(paper.report_ids), shows_meeting=paper.meeting_id is not None)
    from .tasks import render_paper

    transaction.on_commit(lambda: render_paper.enqueue(job.pk))
    return job


def _give_up(actor, job):
    """A rendering that never finished (its worker was stopped) is marked failed, audited."""
    before = job.status
    job.status, job.finished_at = RenderJob.Status.FAILED, timezone.now()
    job.message = _("Cancelled: no result after 30 minutes.")
    job.save(update_fields=["status", "message", "finished_at"])
    record(actor, Action.UPDATE, job, changes={"status": [before, job.status]})


def start_job(job):
    with transaction.atomic():
        job.status, job.progress = RenderJob.Status.RUNNING, 5
        job.save(update_fields=["status", "progress"])
        record(job.requested_by, Action.UPDATE, job, changes={"status": [RenderJob.Status.QUEUED, job.status]})


def finish_job(job, *, result=None, error="", paper=None):
    """Store the outcome of a rendering (called by the task; audited like any change) and what
    it shows: `paper` as it was rendered."""
    with transaction.atomic():
        job.status = RenderJob.Status.FAILED if error else RenderJob.Status.DONE
        job.progress = 100
        job.result = result
        job.message = error
        job.finished_at = timezone.now()
        if paper is not None:
            job.report_ids, job.shows_meeting = list(paper.report_ids), paper.meeting_id is not None
        job.save(update_fields=["status", "progress", "result", "message", "finished_at", "report_ids",
                                "shows_meeting"])
        record(job.requested_by, Action.UPDATE, job, changes={"status": [RenderJob.Status.RUNNING, job.status]})
