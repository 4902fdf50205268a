"""Everything of a provider's case data, out: as the standard workbook (XLSX, streamed), as CSV
files in a zip, or as JSON. Rows come through `visible_to(user)`; records are read in chunks
with their catalogue labels joined in, so memory stays flat however many rows there are."""

import csv
import io
import json
import tempfile
import zipfile
from collections import Counter
from datetime import date

from django.db.models import OuterRef, Subquery

from kim.casework.models import (
    Appointment,
    Assessment,
    AssessmentItem,
    Case,
    Consent,
    Goal,
    Participant,
    PlanAction,
    Referral,
)
from kim.core.cells import neutralise
from kim.core.models import User
from kim.privacy.restriction import without_restricted

from .mapping import fold, staff_name
from .models import ImportedRecord
from .workbook import CASE_SHEETS, CATALOGUES, DATE_COLUMNS, LIST_SEPARATOR, SHEETS, fixed_lists, own_number

CHUNK = 2000

# Said in the file when records were left out; the people are not named (Art. 18 GDPR).
RESTRICTED_NOTE = ("{n} Person(en) wurden nicht exportiert, weil die Verarbeitung ihrer Daten eingeschränkt ist "
                   "(Art. 18 DSGVO). Ihre Fälle und Einträge fehlen ebenso.")
NOTE_SHEET = "Hinweis"


def exportable(model, user):
    """The records of `model` the user may see, without those of restricted participants."""
    return without_restricted(model.objects.visible_to(user))


def left_out(user) -> int:
    """How many people the export leaves out because their processing is restricted."""
    return Participant.objects.visible_to(user).filter(restricted_on__isnull=False).count()


class _Names:
    """How the export names what rows refer to: a person and a case by the file's identifier
    they came under (else code and case number), staff by name, catalogue entries by label."""

    def __init__(self, user):
        self.user = user
        self.lists = fixed_lists()
        people = exportable(Participant, user).values_list("pk", "external_id", "code")
        self.people = {pk: external or code for pk, external, code in people.iterator(chunk_size=CHUNK)}
        cases = exportable(Case, user).values_list("pk", "external_id")
        self.cases = {pk: external or f"F-{pk:05d}" for pk, external in cases.iterator(chunk_size=CHUNK)}
        staff = list(User.objects.filter(provider_id=user.provider_id))
        names = Counter(fold(staff_name(member)) for member in staff)
        self.staff = {member.pk: staff_name(member) if names[fold(staff_name(member))] == 1 else member.username
                      for member in staff}
        self.labels = {name: dict(model.objects.values_list("pk", field)) for name, (model, field) in CATALOGUES.items()}

    def label(self, list_name, value):
        if value is None or value == "":
            return None
        if list_name in CATALOGUES:
            return self.labels[list_name].get(value)
        return self.lists[list_name].get(value, value)


def identifiers(user, sheet: str, ids) -> dict:
    """{record id: identifier} for the export: the file's identifier of a record that came from
    a file, else the number the export gives it (Z-42), so that a file read back names the same
    records, in this district or another."""
    from_file = dict(ImportedRecord.objects.filter(provider_id=user.provider_id, sheet=sheet, from_file=True,
                                                   object_id__in=ids).values_list("object_id", "key"))
    return {pk: from_file.get(pk) or own_number(sheet, pk) for pk in ids}


def _chunked(queryset):
    """The rows of `queryset` (ordered by pk, pk first) in chunks, by keyset: memory stays flat."""
    last_pk = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last_pk).order_by("pk")[:CHUNK])
        if not chunk:
            return
        last_pk = chunk[-1][0]
        yield chunk


def _m2m_labels(through, owner, target, ids, labels) -> dict:
    """{owner id: "label; label"} of a many-to-many relation, sorted."""
    found = {}
    for owner_id, target_id in through.objects.filter(**{f"{owner}__in": ids}).values_list(owner, target):
        found.setdefault(owner_id, []).append(labels.get(target_id, ""))
    return {owner_id: LIST_SEPARATOR.join(sorted(values)) for owner_id, values in found.items()}


def participant_rows(names: _Names):
    latest = Consent.objects.filter(participant=OuterRef("pk")).order_by("-given_on", "-pk")
    queryset = (
        exportable(Participant, names.user)
        .annotate(consent_on=Subquery(latest.values("given_on")[:1]), withdrawn_on=Subquery(latest.values("withdrawn_on")[:1]))
        .values_list("pk", "first_name", "last_name", "birth_date", "gender", "nationalities", "languages",
                     "municipality__name", "household__name", "household_id", "entry_date", "residence_status",
                     "phone", "email", "address", "responsible_id", "consent_on", "withdrawn_on")
    )
    for chunk in _chunked(queryset):
        households = identifiers(names.user, "Haushalte", {row[9] for row in chunk if row[9]})
        for (pk, first, last, birth, gender, nationalities, languages, town, household, household_id, entry, status,
             phone, email, address, responsible, consent_on, withdrawn_on) in chunk:
            yield [names.people[pk], first, last, birth, names.label("gender", gender), nationalities, languages, town,
                   household, households.get(household_id), entry, names.label("residence_status", status), phone,
                   email, address, names.staff.get(responsible), consent_on, withdrawn_on]


def consent_rows(names: _Names):
    queryset = exportable(Consent, names.user).values_list(
        "pk", "participant_id", "given_on", "covers_processing", "withdrawn_on", "note")
    for chunk in _chunked(queryset):
        ids = [row[0] for row in chunk]
        keys = identifiers(names.user, "Einwilligungen", ids)
        released = _m2m_labels(Consent.released_to.through, "consent_id", "referraltarget_id", ids,
                               names.labels["referral_target"])
        for pk, person, given, processing, withdrawn, note in chunk:
            yield [keys[pk], names.people[person], given, names.label("yes_no", processing), withdrawn,
                   released.get(pk, ""), note]


def case_rows(names: _Names):
    queryset = exportable(Case, names.user).values_list(
        "pk", "participant_id", "kind", "target_group_id", "referral_source_id", "municipality__name", "opened_on",
        "phase", "closed_on", "closure_reason_id", "screening_outcome_id", "case_manager_id")
    for chunk in _chunked(queryset):
        for pk, person, kind, target, source, town, opened, phase, closed, reason, outcome, manager in chunk:
            yield [names.cases[pk], names.people.get(person, ""), names.label("case_kind", kind),
                   names.label("target_group", target), names.label("referral_source", source), town, opened,
                   names.label("phase", phase), closed, names.label("closure_reason", reason),
                   names.label("referral_target", outcome), names.staff.get(manager)]


def assessment_rows(names: _Names):
    queryset = exportable(Assessment, names.user).values_list(
        "pk", "case_id", "kind", "assessed_on", "previous_id", "summary", "author_id")
    for chunk in _chunked(queryset):
        keys = identifiers(names.user, "Assessments", {row[0] for row in chunk} | {row[4] for row in chunk if row[4]})
        for pk, case, kind, day, previous, summary, author in chunk:
            yield [keys[pk], names.cases[case], names.label("assessment_kind", kind), day, keys.get(previous), summary,
                   names.staff.get(author)]


def item_rows(names: _Names):
    queryset = exportable(AssessmentItem, names.user).values_list(
        "pk", "assessment_id", "life_domain_id", "need", "situation", "resources", "wishes")
    for chunk in _chunked(queryset):
        keys = identifiers(names.user, "Assessments", {row[1] for row in chunk})
        for _pk, assessment, domain, need, situation, resources, wishes in chunk:
            yield [keys[assessment], names.label("life_domain", domain), names.label("need", need), situation,
                   resources, wishes]


def goal_rows(names: _Names):
    queryset = exportable(Goal, names.user).values_list(
        "pk", "case_id", "category_id", "text", "agreed_on", "due_on", "status", "status_changed_on")
    for chunk in _chunked(queryset):
        keys = identifiers(names.user, "Ziele", [row[0] for row in chunk])
        for pk, case, category, text, agreed, due, status, since in chunk:
            yield [keys[pk], names.cases[case], names.label("goal_category", category), text, agreed, due,
                   names.label("goal_status", status), since]


def action_rows(names: _Names):
    queryset = exportable(PlanAction, names.user).values_list(
        "pk", "case_id", "goal_id", "description", "responsible", "due_on", "done_on")
    for chunk in _chunked(queryset):
        keys = identifiers(names.user, "Maßnahmen", [row[0] for row in chunk])
        goals = identifiers(names.user, "Ziele", {row[2] for row in chunk if row[2]})
        for pk, case, goal, description, responsible, due, done in chunk:
            yield [keys[pk], names.cases[case], goals.get(goal), description, responsible, due, done]


def referral_rows(names: _Names):
    queryset = exportable(Referral, names.user).values_list("pk", "case_id", "target_id", "referred_on", "note")
    for chunk in _chunked(queryset):
        keys = identifiers(names.user, "Verweise", [row[0] for row in chunk])
        for pk, case, target, day, note in chunk:
            yield [keys[pk], names.cases[case], names.label("referral_target", target), day, note]


def appointment_rows(names: _Names):
    """Appointments in chunks; their topics and language support joined per chunk."""
    queryset = exportable(Appointment, names.user).values_list(
        "pk", "case_id", "date", "kind", "complexity", "duration_minutes", "other_kind", "place", "thematic_offer_id",
        "session_format", "audience", "note", "case_manager_id")
    for chunk in _chunked(queryset):
        ids = [row[0] for row in chunk]
        keys = identifiers(names.user, "Termine", ids)
        topics = _m2m_labels(Appointment.topics.through, "appointment_id", "topic_id", ids, names.labels["topic"])
        support = _m2m_labels(Appointment.language_support.through, "appointment_id", "languagesupportkind_id", ids,
                              names.labels["language_support"])
        for (pk, case, day, kind, complexity, minutes, other_kind, place, offer, session_format, audience, note,
             manager) in chunk:
            yield [keys[pk], names.cases.get(case, "") if case else "", day, names.label("appointment_kind", kind),
                   names.label("complexity", complexity), minutes, topics.get(pk, ""), support.get(pk, ""),
                   names.label("other_kind", other_kind), names.label("place", place),
                   names.label("thematic_offer", offer), names.label("session_format", session_format),
                   names.label("audience", audience), note, names.staff.get(manager)]


ROWS = {"Teilnehmende": participant_rows, "Einwilligungen": consent_rows, "Fälle": case_rows,
        "Assessments": assessment_rows, "Lebensbereiche": item_rows, "Ziele": goal_rows, "Maßnahmen": action_rows,
        "Verweise": referral_rows, "Termine": appointment_rows}
assert list(ROWS) == list(CASE_SHEETS)


def sheet_rows(user):
    """(sheet, its rows) of everything of the user's provider that the user may see."""
    names = _Names(user)
    for sheet_name, rows in ROWS.items():
        yield sheet_name, rows(names)


def export_xlsx(user, target) -> dict:
    """Write the standard workbook to the file object `target`; returns rows per sheet."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    counts = {}
    for sheet_name, rows in sheet_rows(user):
        headers = SHEETS[sheet_name]
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
        for row in rows:
            cells = []
            for value, is_date in zip(row, dates, strict=True):
                cell = WriteOnlyCell(sheet, value=neutralise(value) if value is not None else None)
                if is_date and isinstance(value, date):
                    cell.number_format = "DD.MM.YYYY"
                cells.append(cell)
            sheet.append(cells)
            count += 1
        counts[sheet_name] = count
    if restricted := left_out(user):
        note = workbook.create_sheet(NOTE_SHEET)
        note.append([RESTRICTED_NOTE.format(n=restricted)])
        counts["eingeschränkt, nicht exportiert"] = restricted
    workbook.save(target)
    return counts


def export_csv_zip(user, target) -> dict:
    """One CSV per sheet (UTF-8 with BOM, semicolons, dates as DD.MM.YYYY) in a zip."""
    counts = {}
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for sheet_name, rows in sheet_rows(user):
            headers = SHEETS[sheet_name]
            with tempfile.TemporaryFile("w+", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
                writer.writerow(headers)
                count = 0
                for row in rows:
                    writer.writerow([_csv(value) for value in row])
                    count += 1
                handle.seek(0)
                archive.writestr(f"{sheet_name}.csv", handle.read().encode("utf-8-sig"))
            counts[sheet_name] = count
        if restricted := left_out(user):
            archive.writestr(f"{NOTE_SHEET}.txt", RESTRICTED_NOTE.format(n=restricted).encode("utf-8-sig"))
            counts["eingeschränkt, nicht exportiert"] = restricted
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
    for index, (sheet_name, rows) in enumerate(sheet_rows(user)):
        headers = SHEETS[sheet_name]
        text.write(("," if index else "") + json.dumps(sheet_name, ensure_ascii=False) + ":[")
        count = 0
        for row in rows:
            record = {h: (v.isoformat() if isinstance(v, date) else v) for h, v in zip(headers, row, strict=True)}
            text.write(("," if count else "") + json.dumps(record, ensure_ascii=False))
            count += 1
        text.write("]")
        counts[sheet_name] = count
    if restricted := left_out(user):
        text.write("," + json.dumps(NOTE_SHEET) + ":" + json.dumps(RESTRICTED_NOTE.format(n=restricted), ensure_ascii=False))
        counts["eingeschränkt, nicht exportiert"] = restricted
    text.write("}")
    text.detach()
    return counts
