"""Everything of a provider's case data, out: as the standard workbook (XLSX, streamed), as CSV
files in a zip, or as JSON. Rows come through `visible_to(user)`; records are read in chunks
with their catalogue labels joined in, so memory stays flat however many rows there are."""

import csv
import io
import json
import tempfile
import zipfile
from datetime import date

from django.db.models import OuterRef, Subquery

from kim.casework.models import Appointment, Case, Consent, Goal, Participant
from kim.core.cells import neutralise
from kim.core.models import LanguageSupportKind, Topic

from .models import ImportedRecord
from .workbook import (
    APPOINTMENT_KINDS,
    CASE_KINDS,
    DATE_COLUMNS,
    LIST_SEPARATOR,
    SHEETS,
    own_number,
    value_lists,
)

CHUNK = 2000


def participant_rows(user):
    latest = Consent.objects.filter(participant=OuterRef("pk")).order_by("-given_on", "-pk")
    labels = value_lists()
    rows = (
        Participant.objects.visible_to(user)
        .annotate(consent_on=Subquery(latest.values("given_on")[:1]), withdrawn_on=Subquery(latest.values("withdrawn_on")[:1]))
        .values_list("code", "first_name", "last_name", "birth_date", "gender", "nationalities", "languages",
                     "municipality__name", "household__name", "entry_date", "residence_status", "consent_on",
                     "withdrawn_on")
        .order_by("pk")
    )
    for row in rows.iterator(chunk_size=CHUNK):
        row = list(row)
        row[4] = labels["Geschlecht"].get(row[4], "")
        row[10] = labels["Aufenthaltsstatus"].get(row[10], "")
        yield row


def case_rows(user):
    labels = value_lists()
    rows = (
        Case.objects.visible_to(user)
        .values_list("pk", "participant__code", "kind", "target_group__label", "referral_source__label",
                     "municipality__name", "opened_on", "phase", "closed_on", "closure_reason__label",
                     "screening_outcome__label")
        .order_by("pk")
    )
    for pk, code, kind, *rest in rows.iterator(chunk_size=CHUNK):
        target, source, town, opened, phase, closed, reason, outcome = rest
        yield [f"F-{pk:05d}", code or "", CASE_KINDS.get(kind, kind), target, source, town, opened,
               labels["Phase"].get(phase, phase), closed, reason, outcome]


def identifiers(user, sheet: str, ids) -> dict:
    """{record id: identifier} for the export: the file's identifier of a record that came from
    a file, else the number the export gives it (Z-42), so that a file read back names the same
    records, in this district or another."""
    from_file = dict(ImportedRecord.objects.filter(provider_id=user.provider_id, sheet=sheet, from_file=True,
                                                   object_id__in=ids).values_list("object_id", "key"))
    return {pk: from_file.get(pk) or own_number(sheet, pk) for pk in ids}


def goal_rows(user):
    labels = value_lists()
    queryset = (
        Goal.objects.visible_to(user)
        .values_list("pk", "case_id", "category__label", "text", "agreed_on", "status", "status_changed_on")
        .order_by("pk")
    )
    for chunk in _chunked(queryset):
        keys = identifiers(user, "Ziele", [row[0] for row in chunk])
        for pk, case_id, category, text, agreed, status, since in chunk:
            yield [keys[pk], f"F-{case_id:05d}", category, text, agreed, labels["Status"].get(status, status), since]


def _chunked(queryset):
    """The rows of `queryset` (ordered by pk, pk first) in chunks, by keyset: memory stays flat."""
    last_pk = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last_pk)[:CHUNK])
        if not chunk:
            return
        last_pk = chunk[-1][0]
        yield chunk


def appointment_rows(user):
    """Appointments in chunks; their topics and language support joined per chunk."""
    topics = dict(Topic.objects.values_list("pk", "label"))
    support = dict(LanguageSupportKind.objects.values_list("pk", "label"))
    topic_links = Appointment.topics.through.objects
    support_links = Appointment.language_support.through.objects
    queryset = Appointment.objects.visible_to(user).values_list(
        "pk", "case_id", "date", "kind", "complexity", "duration_minutes"
    ).order_by("pk")
    for chunk in _chunked(queryset):
        ids = [row[0] for row in chunk]
        keys = identifiers(user, "Termine", ids)
        chunk_topics, chunk_support = {}, {}
        for appointment_id, topic_id in topic_links.filter(appointment_id__in=ids).values_list("appointment_id", "topic_id"):
            chunk_topics.setdefault(appointment_id, []).append(topics.get(topic_id, ""))
        for appointment_id, kind_id in support_links.filter(appointment_id__in=ids).values_list(
            "appointment_id", "languagesupportkind_id"
        ):
            chunk_support.setdefault(appointment_id, []).append(support.get(kind_id, ""))
        for pk, case_id, day, kind, complexity, minutes in chunk:
            yield [
                keys[pk], f"F-{case_id:05d}" if case_id else "", day, APPOINTMENT_KINDS.get(kind, kind),
                {"complex": "ja", "one_off": "nein"}.get(complexity, ""), minutes,
                LIST_SEPARATOR.join(sorted(chunk_topics.get(pk, []))), LIST_SEPARATOR.join(sorted(chunk_support.get(pk, []))),
            ]


ROWS = {"Teilnehmende": participant_rows, "Fälle": case_rows, "Ziele": goal_rows, "Termine": appointment_rows}


def export_xlsx(user, target) -> dict:
    """Write the standard workbook to the file object `target`; returns rows per sheet."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    counts = {}
    for sheet_name, headers in SHEETS.items():
        sheet = workbook.create_sheet(sheet_name)
        sheet.freeze_panes = "A2"
        header_cells = []
        for header in headers:
            cell = WriteOnlyCell(sheet, value=header)
            cell.font = Font(bold=True)
            header_cells.append(cell)
        sheet.append(header_cells)
        dates = [header in DATE_COLUMNS for header in headers]
        count = 0
        for row in ROWS[sheet_name](user):
            cells = []
            for value, is_date in zip(row, dates, strict=True):
                cell = WriteOnlyCell(sheet, value=neutralise(value) if value is not None else None)
                if is_date and isinstance(value, date):
                    cell.number_format = "DD.MM.YYYY"
                cells.append(cell)
            sheet.append(cells)
            count += 1
        counts[sheet_name] = count
    workbook.save(target)
    return counts


def export_csv_zip(user, target) -> dict:
    """One CSV per sheet (UTF-8 with BOM, semicolons, dates as DD.MM.YYYY) in a zip."""
    counts = {}
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for sheet_name, headers in SHEETS.items():
            with tempfile.TemporaryFile("w+", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
                writer.writerow(headers)
                count = 0
                for row in ROWS[sheet_name](user):
                    writer.writerow([_csv(value) for value in row])
                    count += 1
                handle.seek(0)
                archive.writestr(f"{sheet_name}.csv", handle.read().encode("utf-8-sig"))
            counts[sheet_name] = count
    return counts


def _csv(value):
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value:%d.%m.%Y}"
    return neutralise(value) if isinstance(value, str) else value


def export_json(user, target) -> dict:
    """{sheet: [{header: value}]} with ISO dates, written as UTF-8 JSON."""
    counts = {}
    text = io.TextIOWrapper(target, encoding="utf-8", write_through=True)
    text.write("{")
    for index, (sheet_name, headers) in enumerate(SHEETS.items()):
        text.write(("," if index else "") + json.dumps(sheet_name, ensure_ascii=False) + ":[")
        count = 0
        for row in ROWS[sheet_name](user):
            record = {h: (v.isoformat() if isinstance(v, date) else v) for h, v in zip(headers, row, strict=True)}
            text.write(("," if count else "") + json.dumps(record, ensure_ascii=False))
            count += 1
        text.write("]")
        counts[sheet_name] = count
    text.write("}")
    text.detach()
    return counts
