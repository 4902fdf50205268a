"""State changes of imports: upload, sheet and column mapping, value mapping, the check
(dry run) and the import itself. Each: one transaction, the change, one audit entry.

The web pages queue the check and the import as background tasks; the command line runs
the same functions directly."""

import logging
from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from kim.core.audit import Action, record
from kim.core.models import User

from . import checks, positions, readers, writer
from .mapping import (
    Table,
    find_header_row,
    fold,
    header_score,
    headers_of,
    importable_case_managers,
    load_value_lists,
    suggest_columns,
    suggest_sheets,
)
from .models import ImportMapping, ImportRun, this_process
from .readers import FileRefused
from .workbook import CASE_SHEETS, SHEETS, SPECS, STAFFING_SHEETS, kinds_for

log = logging.getLogger(__name__)
KINDS = list(SHEETS)
ONLY_COORDINATION = "Das Blatt „Stellen“ importiert nur die Koordination (in die Stellen des Kreises)."
ONLY_CASE_DATA = ("Die Koordination importiert nur das Blatt „Stellen“; Blätter mit Falldaten (Teilnehmende, "
                  "Fälle, Termine …) importieren Case Manager*innen und Trägerleitungen.")


def _require_importer(actor: User):
    """Case data: the roles that see personal data; the sheet "Stellen": coordination."""
    if not kinds_for(actor):
        raise PermissionDenied


def _refuse_other_kinds(actor, kinds):
    """A part of the workbook the actor may not import: refused with a German message."""
    other = [kind for kind in kinds if kind not in kinds_for(actor)]
    if other:
        raise ValidationError(ONLY_COORDINATION if other[0] in STAFFING_SHEETS else ONLY_CASE_DATA)


def start_import(actor: User, *, filename: str, data: bytes, case_manager: User | None = None,
                 mapping_name: str = "Standard") -> ImportRun:
    """Open the upload (raises FileRefused with a German message), suggest sheets and columns.
    The file is read before the transaction: on SQLite a transaction holds the write lock
    from its start, and reading a large file takes seconds that others would wait.
    Coordination's run (the sheet "Stellen") has no provider and no case manager."""
    _require_importer(actor)
    staffing = kinds_for(actor) == STAFFING_SHEETS
    if staffing:
        case_manager = None
    else:
        case_manager = case_manager or actor
        if not importable_case_managers(actor).filter(pk=case_manager.pk).exists():
            raise ValidationError({"case_manager": "Diese Person kann keine Fälle Ihres Trägers führen."})
    found = readers.survey(data, filename)
    with transaction.atomic():
        mapping = _mapping(actor, mapping_name)
        run = ImportRun(
            district_id=actor.district_id, provider_id=None if staffing else actor.provider_id, created_by=actor,
            case_manager=case_manager, mapping=mapping, filename=filename[:200], format=found.format, content=data,
            sheets=[asdict(sheet) for sheet in found.sheets], warnings=list(found.warnings),
        )
        run.assignments = suggest_assignments(run, mapping, kinds_for(actor))
        run.warnings += _other_parts(run, kinds_for(actor))
        run.save()
        record(actor, Action.CREATE, run, changes={"filename": [None, run.filename], "format": [None, run.format],
                                                   "case_manager": [None, case_manager.pk if case_manager else None]})
    return run


def _other_parts(run, kinds) -> list[str]:
    """Warnings for sheets that look like parts of the workbook the uploader may not import:
    they are not offered and not read."""
    first_rows = {sheet["name"]: sheet["head"] for sheet in run.sheets if sheet["head"]}
    visible = [sheet["name"] for sheet in run.sheets if sheet["visible"] and sheet["name"] not in
               {a["sheet"] for a in run.assignments.values()}]
    other = CASE_SHEETS if kinds == STAFFING_SHEETS else STAFFING_SHEETS
    found = suggest_sheets(visible, first_rows, other) if run.format != "csv" else {}
    if not found:
        return []
    names = ", ".join(f"„{sheet}“" for sheet in found.values())
    if kinds == STAFFING_SHEETS:
        return [f"Die Blätter {names} sehen nach Falldaten aus und werden nicht gelesen: {ONLY_CASE_DATA}"
                if len(found) > 1 else f"Das Blatt {names} sieht nach Falldaten aus und wird nicht gelesen: "
                                       f"{ONLY_CASE_DATA}"]
    return [f"Das Blatt {names} sieht aus wie das Blatt „Stellen“ und wird nicht gelesen: {ONLY_COORDINATION}"]


def _mapping(actor, name) -> ImportMapping:
    """The provider's mapping of this name; coordination's: the district's (no provider)."""
    name = (name or "Standard").strip()[:80] or "Standard"
    provider_id = None if kinds_for(actor) == STAFFING_SHEETS else actor.provider_id
    mapping = ImportMapping.objects.filter(district_id=actor.district_id, provider_id=provider_id, name=name).first()
    if mapping is None:
        mapping = ImportMapping.objects.create(district_id=actor.district_id, provider_id=provider_id, name=name)
        record(actor, Action.CREATE, mapping, changes={"name": [None, name]})
    return mapping


def suggest_assignments(run, mapping, kinds=CASE_SHEETS) -> dict:
    """{kind: {"sheet", "header_row", "columns"}} for the kinds (of `kinds`) a sheet of the file
    looks like, from the first rows the survey of the file kept."""
    first_rows = {sheet["name"]: sheet["head"] for sheet in run.sheets if sheet["head"]}
    visible = [sheet["name"] for sheet in run.sheets if sheet["visible"]]
    if run.format == "csv":
        rows = first_rows.get(readers.CSV_NAME, [])
        kind = max(kinds, key=lambda k: max((header_score(row, k) for row in rows[:15]), default=0))
        candidates = {kind: readers.CSV_NAME}
    else:
        candidates = suggest_sheets(visible, first_rows, kinds)
    return {kind: _assignment(first_rows.get(sheet, []), kind, sheet, mapping.columns.get(kind))
            for kind, sheet in candidates.items()}


def _assignment(head, kind, sheet, saved_columns) -> dict:
    """Where the header row of `sheet` is, and which of its columns hold the standard ones."""
    header_row = find_header_row(head, kind)
    return {"sheet": sheet, "header_row": header_row,
            "columns": suggest_columns(headers_of(head, header_row), kind, saved_columns)}


def head_of(run: ImportRun, sheet: str) -> list:
    """The first rows of a sheet of the run's file; read now for a sheet the upload did not survey."""
    entry = next(entry for entry in run.sheets if entry["name"] == sheet)
    if not entry["head"]:
        found = readers.survey(_content(run), run.filename, heads_of=[sheet])
        entry["head"] = found.sheet(sheet).head
    return entry["head"]


def _content(run: ImportRun) -> bytes:
    if run.content is None:
        raise FileRefused("Die Datei dieses Imports ist nicht mehr gespeichert. Bitte laden Sie sie erneut hoch.")
    return bytes(run.content)


def assign_sheets(actor: User, run: ImportRun, sheets: dict[str, str]) -> ImportRun:
    """{kind: sheet name or ""}: which sheet holds which part of the workbook."""
    _require_owner(actor, run)
    names = {s["name"] for s in run.sheets}
    chosen = {kind: sheet for kind, sheet in sheets.items() if kind in SHEETS and sheet}
    _refuse_other_kinds(actor, chosen)
    if not chosen:
        raise ValidationError("Bitte wählen Sie mindestens ein Blatt.")
    if any(sheet not in names for sheet in chosen.values()):
        raise ValidationError("Dieses Blatt gibt es in der Datei nicht.")
    if len(set(chosen.values())) < len(chosen):
        raise ValidationError("Ein Blatt kann nur für einen Teil der Standardmappe stehen.")
    assignments = {}
    for kind, sheet in chosen.items():  # may read the file: before the transaction
        current = run.assignments.get(kind, {})
        if current.get("sheet") == sheet:  # keep the columns already chosen for this sheet
            assignments[kind] = current
        else:
            assignments[kind] = _assignment(head_of(run, sheet), kind, sheet, run.mapping.columns.get(kind))
    with transaction.atomic():
        before = {k: v["sheet"] for k, v in run.assignments.items()}
        run.assignments = assignments
        run.status, run.problems, run.problem_count = ImportRun.Status.UPLOADED, [], 0
        run.summary, run.unknown_values, run.identity_changes = {}, [], []
        run.save()
        record(actor, Action.UPDATE, run, changes={"sheets": [before, chosen]})
    return run


def map_columns(actor: User, run: ImportRun, kind: str, columns: dict[str, str]) -> ImportRun:
    """{standard column: file header or ""} for one sheet; saved in the provider's mapping."""
    _require_owner(actor, run)
    if kind not in run.assignments:
        raise ValidationError("Diesem Teil ist kein Blatt zugeordnet.")
    assignment = run.assignments[kind]
    head = head_of(run, assignment["sheet"])  # may read the file: before the transaction
    with transaction.atomic():
        return _save_columns(actor, run, kind, assignment, head, columns)


def _save_columns(actor, run, kind, assignment, head, columns) -> ImportRun:
    headers = set(headers_of(head, assignment["header_row"])) - {""}
    chosen = {column: header for column, header in columns.items() if column in SHEETS[kind] and header}
    if any(header not in headers for header in chosen.values()):
        raise ValidationError("Diese Spalte gibt es im Blatt nicht.")
    duplicates = {h for h in chosen.values() if list(chosen.values()).count(h) > 1}
    if duplicates:
        raise ValidationError(f"Die Spalte „{sorted(duplicates)[0]}“ ist mehreren Angaben zugeordnet.")
    before = assignment.get("columns", {})
    run.assignments = {**run.assignments, kind: {**assignment, "columns": chosen}}
    run.status, run.summary, run.identity_changes = ImportRun.Status.UPLOADED, {}, []
    run.save(update_fields=["assignments", "sheets", "status", "summary", "identity_changes"])
    mapping = run.mapping
    mapping.columns = {**mapping.columns, kind: chosen}
    mapping.updated_at = timezone.now()
    mapping.save(update_fields=["columns", "updated_at"])
    record(actor, Action.UPDATE, mapping, changes={f"columns:{kind}": [before, chosen]})
    return run


@transaction.atomic
def map_values(actor: User, run: ImportRun, choices: dict[tuple[str, str], str]) -> ImportRun:
    """{(value list, value in the file): label of a catalogue entry}, saved in the mapping."""
    _require_owner(actor, run)
    lists = load_value_lists(actor)
    mapping = run.mapping
    values = {name: dict(entries) for name, entries in mapping.values.items()}
    changes = {}
    for (list_name, text), label in choices.items():
        if not label:
            continue
        if list_name not in lists or fold(label) not in lists[list_name].by_text:
            raise ValidationError(f"„{label}“ ist kein Eintrag dieser Liste.")
        values.setdefault(list_name, {})[fold(text)] = label
        changes[f"{list_name}:{text}"] = [None, label]
    mapping.values = values
    mapping.updated_at = timezone.now()
    mapping.save(update_fields=["values", "updated_at"])
    record(actor, Action.UPDATE, mapping, changes=changes)
    return run


def _require_owner(actor, run):
    """Only the person who uploaded acts on a run (the lead may look at it): the import is
    audited as theirs, with their scope."""
    _require_importer(actor)
    if run.created_by_id != actor.pk or not ImportRun.objects.visible_to(actor).filter(pk=run.pk).exists():
        raise PermissionDenied
    if run.is_busy:
        raise ValidationError("Dieser Import wird gerade bearbeitet. Bitte warten Sie einen Moment.")
    if run.status == ImportRun.Status.DONE:
        raise ValidationError("Dieser Import ist abgeschlossen.")


@transaction.atomic
def request_check(actor: User, run: ImportRun) -> ImportRun:
    return _queue(actor, run, ImportRun.Status.CHECKING)


@transaction.atomic
def request_commit(actor: User, run: ImportRun) -> ImportRun:
    if not run.can_commit:
        raise ValidationError("Erst prüfen: übernommen wird nur eine Datei ohne Fehler.")
    return _queue(actor, run, ImportRun.Status.IMPORTING)


def _queue(actor, run, status):
    _mark_busy(actor, run, status, worker="")
    from .tasks import check_import, commit_import

    task = check_import if status == ImportRun.Status.CHECKING else commit_import
    transaction.on_commit(lambda: task.enqueue(run.pk))
    return run


def _mark_busy(actor, run, status, worker):
    _require_owner(actor, run)
    if not run.assignments:
        raise ValidationError("Bitte ordnen Sie zuerst die Blätter zu.")
    before = run.status
    run.status, run.progress, run.message = status, 0, ""
    run.worker, run.heartbeat_at = worker, timezone.now()
    run.save(update_fields=["status", "progress", "message", "worker", "heartbeat_at"])
    record(actor, Action.UPDATE, run, changes={"status": [before, status]})


def claim(run_id: int, *, commit: bool) -> ImportRun | None:
    """The queued run, now taken by this process; None if it was reset, finished or taken
    by another process meanwhile (a task queued twice runs once)."""
    status = ImportRun.Status.IMPORTING if commit else ImportRun.Status.CHECKING
    with transaction.atomic():
        run = (ImportRun.objects.select_for_update(of=("self",)).select_related("created_by", "case_manager", "mapping")
               .filter(pk=run_id, status=status).first())
        if run is None or (run.worker and not run.is_stale):
            return None
        run.worker, run.heartbeat_at = this_process(), timezone.now()
        run.save(update_fields=["worker", "heartbeat_at"])
    return run


def run_in_this_process(actor: User, run: ImportRun, *, commit: bool) -> ImportRun:
    """Check (and import) at once, in this process, as the command line does: the run is
    marked busy with this process first, so that a killed command leaves a run that is seen
    as interrupted."""
    status = ImportRun.Status.IMPORTING if commit else ImportRun.Status.CHECKING
    with transaction.atomic():
        _mark_busy(actor, run, status, worker=this_process())
    return run_import(run, commit=commit, progress=heartbeat(run))


def heartbeat(run: ImportRun):
    """The progress callback of a run: its share done, and that its process is alive. Display
    state, not a change worth an audit entry. Reading and checking is the first 90 %; writing
    happens in one transaction that others cannot watch."""

    def progress(done, total):
        ImportRun.objects.filter(pk=run.pk).update(progress=min(90, int(90 * done / max(total, 1))),
                                                   heartbeat_at=timezone.now())

    return progress


INTERRUPTED = "Die Verarbeitung wurde unterbrochen; es wurde nichts übernommen. Bitte starten Sie sie erneut."


def reset_interrupted(actor: User | None, run: ImportRun) -> ImportRun:
    """A run whose process was killed (or has been silent for KIM_STALE_RUN_MINUTES) goes back
    to where it was before: to "checked" after an interrupted import of a checked file, else
    to "uploaded".
    Nothing of it was written, as an import's data and its outcome are one transaction. By the
    uploader on the page (`actor`) or by the maintenance job (None)."""
    if actor is not None:
        _require_importer(actor)
        if run.created_by_id != actor.pk:
            raise PermissionDenied
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run.pk)
        if not run.is_stale:
            raise ValidationError("Dieser Import wird gerade bearbeitet. Bitte warten Sie einen Moment.")
        before = run.status
        checked = before == ImportRun.Status.IMPORTING and run.problem_count == 0 and bool(run.summary)
        run.status = ImportRun.Status.CHECKED if checked else ImportRun.Status.UPLOADED
        run.progress, run.worker, run.message = 0, "", INTERRUPTED
        run.save(update_fields=["status", "progress", "worker", "message"])
        record(actor, Action.UPDATE, run, changes={"status": [before, run.status], "message": [None, run.message]})
    return run


# What a run keeps of its file's contents: first rows, problems, unknown values, changes of identity.
READ_FROM_FILE = ["problems", "unknown_values", "identity_changes", "sheets"]


def forget_what_was_read(run: ImportRun) -> list[str]:
    """Empty on `run` (not saved) what was read from its file; the fields to save."""
    run.problems, run.unknown_values, run.identity_changes = [], [], []
    run.sheets = [{**sheet, "head": []} for sheet in run.sheets]
    return READ_FROM_FILE


def expire_upload(run: ImportRun, message: str | None = None) -> ImportRun:
    """The file of a run not imported after KIM_UPLOAD_RETENTION_DAYS is deleted, with what
    was read from it (first rows, problems, unknown values); the run stays as a trace. `message`
    says why, where another reason than the period deletes it (an erasure)."""
    days = settings.KIM_UPLOAD_RETENTION_DAYS
    with transaction.atomic():
        before = run.status
        run.content = None
        forget_what_was_read(run)
        run.status, run.worker = ImportRun.Status.EXPIRED, ""
        run.message = message or f"Die Datei wurde nach {days} Tagen ohne Import gelöscht."
        run.save(update_fields=["content", "problems", "unknown_values", "identity_changes", "sheets", "status",
                                "worker", "message"])
        record(None, Action.DELETE, run, changes={"status": [before, run.status], "file": [run.filename, None]})
    return run


def expired_uploads():
    """Runs whose file has been kept longer than KIM_UPLOAD_RETENTION_DAYS without an import
    (busy ones only once they are interrupted and reset)."""
    cutoff = timezone.now() - timedelta(days=settings.KIM_UPLOAD_RETENTION_DAYS)
    return (ImportRun.objects.filter(created_at__lt=cutoff, content__isnull=False)
            .exclude(status__in=[ImportRun.Status.DONE, ImportRun.Status.CHECKING, ImportRun.Status.IMPORTING]))


# ---------------------------------------------------------------- running (task or command line)

def tables_for(run: ImportRun) -> dict[str, Table]:
    """The assigned sheets of the run's file, read in full (and no other sheet)."""
    sheets = readers.read_sheets(_content(run), run.filename, [a["sheet"] for a in run.assignments.values()],
                                 surveyed=True)
    tables = {}
    for kind, assignment in run.assignments.items():
        sheet = sheets[assignment["sheet"]]
        header_row = assignment["header_row"]
        headers = headers_of(sheet.rows, header_row)
        index = {}
        for position, header in enumerate(headers):
            index.setdefault(header, position)
        columns = {column: index[header] for column, header in assignment["columns"].items() if header in index}
        tables[kind] = Table(kind=kind, sheet=assignment["sheet"], rows=sheet.rows, header_row=header_row,
                             columns=columns, merged=sheet.merged)
    return tables


def run_import(run: ImportRun, *, commit: bool, progress=None) -> ImportRun:
    """Check (and, with `commit`, import) the run's file: read → map → check → write. Stores
    problems or the outcome on the run; never raises for a problem of the file."""
    progress = progress or (lambda done, total: None)
    try:
        tables = tables_for(run)
    except FileRefused as exc:
        return _finish(run, ImportRun.Status.FAILED, message=str(exc))
    missing = {kind: [c.header for c in SPECS[kind] if c.required and c.header not in a["columns"]]
               for kind, a in run.assignments.items()}
    allowed = set(STAFFING_SHEETS if run.is_staffing else CASE_SHEETS) & set(kinds_for(run.created_by))
    if not set(tables) <= allowed:  # assigned before a change of role, or by hand in the database
        return _finish(run, ImportRun.Status.FAILED, message=ONLY_CASE_DATA if run.is_staffing else ONLY_COORDINATION)
    if run.is_staffing:
        plan = positions.check(run.created_by, tables.get("Stellen"), saved_values=run.mapping.values,
                               missing=missing, progress=progress)
    else:
        plan = checks.check(run.created_by, run.case_manager, tables, saved_values=run.mapping.values,
                            missing=missing, progress=progress)
    del tables  # the plan holds what is written
    run.problems = [p.as_dict() for p in plan.problems]
    run.problem_count = plan.problem_count
    run.unknown_values = [
        {"list": name, "value": value, "column": column, "count": count, "suggestion": suggestion or ""}
        for (name, value), (column, count, suggestion) in sorted(plan.unknown.items())
    ]
    run.summary = plan.summary
    run.identity_changes = plan.identity_changes
    if commit and plan.ok:
        progress(1, 1)
        with transaction.atomic():  # the data and the run's outcome: both or neither
            if run.is_staffing:
                run.summary = positions.write(plan, run.created_by)
            else:
                run.summary = writer.write(plan, run.created_by, run.case_manager, label=f"Import {run.pk}")
            _record_done(run, run.summary)
            run.content = None  # the file's bytes are not kept once its data is in
            run.identity_changes = []  # names and birth dates: the audit log has the changes now
            return _finish(run, ImportRun.Status.DONE)
    if commit:
        return _finish(run, ImportRun.Status.CHECKED, message="Die Datei hat sich als fehlerhaft erwiesen; nichts wurde übernommen.")
    return _finish(run, ImportRun.Status.CHECKED)


def _record_done(run, summary):
    """Inside the import's transaction: the one audit entry of the import as a whole."""
    record(run.created_by, Action.IMPORT, run, changes={"summary": [None, summary]})


@transaction.atomic
def _finish(run, status, message=""):
    """The outcome of a check or import, stored on the run and audited like any change."""
    before = ImportRun.objects.filter(pk=run.pk).values_list("status", flat=True).first()
    run.status, run.progress, run.message, run.finished_at = status, 100, message[:300], timezone.now()
    run.worker = ""
    run.save()
    record(run.created_by, Action.UPDATE, run, changes={
        "status": [before, status], "problems": [None, run.problem_count], **({"message": [None, run.message]} if message else {})})
    return run


def fail(run, message):
    return _finish(run, ImportRun.Status.FAILED, message)
