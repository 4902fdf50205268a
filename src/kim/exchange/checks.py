"""Checking the mapped rows into a plan, the third step of the import (read → map → check →
write).

The rules a row must keep are the functions `*_rules` at the top: the rules of the forms and
services of case work (consent for case management, dates in order, phases, screening
outcomes, counselling topics, durations) and what a file may not do to an existing record.
Each takes the row's values and what is known about the records it refers to, and yields
(column, German message); rules of case work that other parts of the application share can
be called from them.

Then every record is matched with the existing one it updates, looked up through
`visible_to(actor)` only, so that the writer only writes. Identifiers: a person is found by
the file's Kennung (stored as `external_id`) or by the participant code; a case by
Fall-Kennung (`external_id`) or its number F-00042. Goals are the same goal when case,
category, description and agreement date agree; appointments when case, date and kind agree,
counted in file order for several on the same day."""

import re
from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone

from kim.casework.models import Appointment, Case, CaseKind, Consent, Goal, Household, Participant, Phase
from kim.casework.services import MAX_DAYS_AHEAD

from .mapping import Table, fold, load_value_lists, map_rows
from .models import ImportedRecord
from .plan import Plan, Record
from .workbook import IDENTIFIERS, SHEETS

# ---------------------------------------------------------------- the rules, row by row


@dataclass
class ExistingAppointment:
    """An appointment on record as the check reads it: plain values, as there may be many."""

    pk: int
    case_id: int | None
    kind: str
    complexity: str
    duration_minutes: int
    date: object
    topics: list
    support: list


@dataclass
class CaseFacts:
    """What the rules need of the case a row refers to: from the file (which wins) or the records."""

    opened_on: object
    kind: str
    consent_active: object  # (date) -> bool: does the person's consent hold on that day?
    existing: object = None  # the existing case, or None for a case that this file creates


def participant_rules(values, today):
    given, withdrawn = values.get("Einwilligung am"), values.get("Einwilligung widerrufen am")
    if withdrawn and not given:
        yield "Einwilligung widerrufen am", "Widerruf ohne Datum der Einwilligung."
    elif withdrawn and withdrawn < given:
        yield "Einwilligung widerrufen am", "Der Widerruf liegt vor der Einwilligung."
    for header in ("Geburtsdatum", "Einreisedatum", "Einwilligung am"):
        if values.get(header) and values[header] > today:
            yield header, "Das Datum liegt in der Zukunft."
    birth, entry = values.get("Geburtsdatum"), values.get("Einreisedatum")
    if birth and birth.year < today.year - 120:
        yield "Geburtsdatum", "Bitte prüfen Sie das Geburtsdatum."
    if birth and entry and entry < birth:
        yield "Einreisedatum", "Die Einreise liegt vor der Geburt."


def case_rules(values, today, consent_active):
    """`consent_active`: (date) -> bool for the case's person, None if the person is unknown."""
    opened, closed = values.get("Beginn"), values.get("Ende")
    if (consent_active is not None and values.get("Art") == CaseKind.CASE_MANAGEMENT and opened
            and not consent_active(opened)):
        yield "Beginn", ("Für Case Management braucht es eine Einwilligung, die zum Beginn gilt. "
                         "Bitte tragen Sie „Einwilligung am“ bei der Person ein.")
    if opened and opened > today:
        yield "Beginn", "Der Beginn liegt in der Zukunft."
    if opened and closed and closed < opened:
        yield "Ende", "Das Ende liegt vor dem Beginn."
    if closed and closed > today:
        yield "Ende", "Das Ende liegt in der Zukunft."
    if values.get("Phase") and values.get("Art") != CaseKind.CASE_MANAGEMENT and values["Phase"] != Phase.CLOSED:
        yield "Phase", "Phasen gibt es nur im Case Management."
    if values.get("Art") == CaseKind.SCREENING and not values.get("Verwiesen an"):
        yield "Verwiesen an", "Ein Screening braucht ein Ergebnis (eine Verweisung oder „kein Bedarf“)."
    if values.get("Phase") == Phase.CLOSED and not closed:
        yield "Ende", "Die Phase ist „Abgeschlossen“, aber das Ende fehlt."
    if values.get("Abschlussgrund") and not closed:
        yield "Ende", "Ein Abschlussgrund ohne Ende des Falls."


def existing_case_rules(key, values, case, person):
    """What a row may not do to the existing `case` it names (`person`: the row's person)."""
    if person is None or case.participant_id != person.pk:
        yield "Fall-Kennung", (f"Der Fall „{key}“ gehört bereits zu einer anderen Person. Bitte prüfen Sie die "
                               "Fall-Kennung (eine eigene Fallnummer darf nicht wie F-00042 aussehen).")
    if values.get("Art") and values["Art"] != case.kind:
        yield "Art", "Die Art eines bestehenden Falls kann nicht geändert werden."
    if case.closed_on and values.get("Phase") not in (None, Phase.CLOSED):
        yield "Phase", "Der Fall ist abgeschlossen; die Phase bleibt „Abgeschlossen“."
    if case.closed_on and "Ende" in values and not values["Ende"]:
        yield "Ende", ("Der Fall ist bereits abgeschlossen und kann nicht wieder geöffnet werden. "
                       "Bitte legen Sie einen neuen Fall an.")


def goal_rules(values, case: CaseFacts, today):
    agreed, since = values.get("vereinbart am"), values.get("Status seit")
    if agreed and case.opened_on and agreed < case.opened_on:
        yield "vereinbart am", "Das Ziel ist vor dem Beginn des Falls vereinbart."
    if agreed and agreed > today:
        yield "vereinbart am", "Das Datum liegt in der Zukunft."
    if since and agreed and since < agreed:
        yield "Status seit", "Der Status kann sich nicht vor der Vereinbarung ändern."
    if since and since > today:
        yield "Status seit", "Das Datum liegt in der Zukunft."
    if case.kind == CaseKind.CASE_MANAGEMENT and agreed and not case.consent_active(agreed):
        yield "vereinbart am", "Zu diesem Datum gilt keine Einwilligung der Person."


def complete_appointment(values, case: CaseFacts | None):
    """Defaults of a hand-made file: counselling when there is a case, complexity from the kind of case."""
    if not values.get("Art"):
        values["Art"] = Appointment.Kind.COUNSELLING if case else Appointment.Kind.OTHER
    if values["Art"] == Appointment.Kind.OTHER:
        values["komplex"] = ""
    if values["Art"] == Appointment.Kind.COUNSELLING and not values.get("komplex") and case:
        values["komplex"] = (Appointment.Complexity.COMPLEX if case.kind == CaseKind.CASE_MANAGEMENT
                             else Appointment.Complexity.ONE_OFF)


def appointment_rules(values, case: CaseFacts | None, today):
    """The rules of `record_appointment`, row by row (without a query per row)."""
    day, minutes = values.get("Datum"), values.get("Dauer (Minuten)")
    if minutes is not None and not 5 <= minutes <= 600:
        yield "Dauer (Minuten)", "Die Dauer muss zwischen 5 und 600 Minuten liegen."
    if values["Art"] == Appointment.Kind.COUNSELLING and not values.get("Themen"):
        yield "Themen", "Für eine Beratung fehlt das Thema (mindestens eines)."
    if values["Art"] == Appointment.Kind.COUNSELLING and case is None:
        yield "Fall-Kennung", "Eine Beratung gehört zu einem Fall: die Fall-Kennung fehlt."
    if day is None:
        return
    if (day - today).days > MAX_DAYS_AHEAD:
        yield "Datum", "Das Datum liegt mehr als ein Jahr in der Zukunft."
    if case is not None and case.opened_on and day < case.opened_on:
        yield "Datum", "Der Termin liegt vor dem Beginn des Falls."
    if case is not None and case.kind == CaseKind.CASE_MANAGEMENT and not case.consent_active(day):
        yield "Datum", "Zu diesem Datum gilt keine Einwilligung der Person (Case Management)."


# ---------------------------------------------------------------- the check

def check(actor, case_manager, tables: dict[str, Table], *, saved_values: dict | None = None,
          missing: dict | None = None, progress=None) -> Plan:
    """The plan for importing `tables` as `actor` into the caseload of `case_manager`.
    `missing`: {kind: [required standard columns no column of the file is mapped to]}."""
    plan = Plan()
    for kind, headers in (missing or {}).items():
        for header in headers:
            plan.add(kind, 0, header, "Diese Pflichtspalte ist keiner Spalte der Datei zugeordnet.")
    if plan.ok:
        _Check(actor, case_manager, saved_values, progress, plan).run(tables)
    return plan


class _Check:
    def __init__(self, actor, case_manager, saved_values, progress, plan: Plan):
        self.actor = actor
        self.case_manager = case_manager
        self.saved_values = saved_values or {}
        self.progress = progress or (lambda done, total: None)
        self.plan = plan
        self.lists = load_value_lists()
        self.today = timezone.localdate()
        self._cases, self._persons = {}, {}  # existing records named by this file, by identifier
        self._consents = {}  # {person id: consents on record}

    def run(self, tables: dict[str, Table]):
        self._done, self._total = 0, sum(max(len(t.rows) - t.header_row - 1, 0) for t in tables.values()) or 1
        participants = self._participants(tables.get("Teilnehmende"))
        cases = self._case_rows(tables.get("Fälle"), participants)
        self._goals(tables.get("Ziele"), cases)
        self._appointments(tables.get("Termine"), cases)
        self.plan.summary = self._summary()

    def _rows(self, table):
        """The mapped rows of `table`, with progress."""
        for number, values in map_rows(table, self.lists, self.saved_values, self.plan):
            self._done += 1
            if self._done % 2000 == 0:
                self.progress(self._done, self._total)
            yield number, values

    def _problems(self, sheet, number, problems):
        for column, message in problems:
            self.plan.add(sheet, number, column, message)

    # participants ----------------------------------------------------------

    def _participants(self, table) -> dict:
        """{Kennung: Record} of the file's people."""
        rows = {}
        if table is None:
            return rows
        for number, values in self._rows(table):
            key = values.get("Kennung")
            if not key:
                continue
            if key in rows:
                self.plan.add(table.sheet, number, "Kennung", f"Die Kennung „{key}“ steht schon in Zeile {rows[key].number}.")
                continue
            self._problems(table.sheet, number, participant_rules(values, self.today))
            rows[key] = Record(number, values)
        self._match_participants(rows, table)
        self._match_consents(rows, table.sheet)
        self._match_households(rows)
        self.plan.records["Teilnehmende"] = list(rows.values())
        return rows

    def _match_participants(self, rows, table):
        keys = list(rows)
        visible = Participant.objects.visible_to(self.actor)
        found = {}
        for chunk in _chunks(keys):
            for participant in visible.filter(external_id__in=chunk):
                found[participant.external_id] = participant
            for participant in visible.filter(code__in=chunk):
                found.setdefault(participant.code, participant)
        # Outside visible_to on purpose, like find_possible_duplicates: only whether an identifier
        # of this file is taken at the provider, so that a second record is not made under it.
        hidden = set()
        for chunk in _chunks([k for k in keys if k not in found]):
            hidden |= set(Participant.objects.filter(provider_id=self.actor.provider_id, external_id__in=chunk)
                          .values_list("external_id", flat=True))
        for key, row in rows.items():
            row.existing = found.get(key)
            if key in hidden:
                self.plan.add(table.sheet, row.number, "Kennung", f"Die Kennung „{key}“ gehört bei Ihrem Träger zu "
                              "einer Person, deren Akte Sie nicht sehen. Bitte klären Sie das mit der Leitung.")

    def _match_consents(self, rows, sheet):
        """The consent a person's row gives ("Einwilligung am"): the one that came from a file
        under the person's Kennung and date, else a new one. A consent entered by hand on that
        date is not changed by a file; a withdrawal the file gives for it is a problem."""
        wanted = {}
        for kennung, row in rows.items():
            if row.values.get("Einwilligung am"):
                row.extra["consent_key"] = f"{kennung}|{row.values['Einwilligung am'].isoformat()}"
                wanted[row.extra["consent_key"]] = row
        provenance = {}
        for chunk in _chunks(wanted):
            for entry in ImportedRecord.objects.filter(provider_id=self.actor.provider_id, sheet="Einwilligungen",
                                                       key__in=chunk):
                provenance[entry.key] = entry
        on_record = {}
        for chunk in _chunks({row.existing.pk for row in wanted.values() if row.existing is not None}):
            for consent in Consent.objects.visible_to(self.actor).filter(participant_id__in=chunk).order_by("pk"):
                on_record.setdefault(consent.pk, consent)
        by_day = {}
        for consent in on_record.values():
            by_day.setdefault((consent.participant_id, consent.given_on), consent)
        for key, row in wanted.items():
            entry = provenance.get(key)
            row.extra["consent_provenance"] = entry
            row.extra["consent"] = on_record.get(entry.object_id) if entry else None
            if entry is not None or row.existing is None:
                continue
            by_hand = by_day.get((row.existing.pk, row.values["Einwilligung am"]))
            if by_hand is not None:
                row.extra["consent_by_hand"] = by_hand
                withdrawn = row.values.get("Einwilligung widerrufen am")
                if "Einwilligung widerrufen am" in row.values and withdrawn != by_hand.withdrawn_on:
                    self.plan.add(sheet, row.number, "Einwilligung widerrufen am", (
                        f"Die Einwilligung vom {by_hand.given_on:%d.%m.%Y} ist in der Akte erfasst und wird durch "
                        "eine Datei nicht geändert. Bitte tragen Sie einen Widerruf in der Akte ein."))

    def _match_households(self, rows):
        names = {row.values["Haushalt"] for row in rows.values() if row.values.get("Haushalt")}
        found = {}
        for chunk in _chunks(names):
            for household in Household.objects.visible_to(self.actor).filter(name__in=chunk).order_by("pk"):
                found.setdefault(household.name, household)
        self.plan.households = {name: found.get(name) for name in names}

    def _person(self, key, participants) -> tuple:
        """(Record of this file or None, existing Participant or None) for a Kennung."""
        row = participants.get(key)
        if row is not None:
            return row, row.existing
        if key not in self._persons:
            self._persons[key] = existing_participant(self.actor, key)
        return None, self._persons[key]

    def _consent_active(self, person_row, person):
        """(date) -> bool: whether the person's consent, in the file or recorded, holds on a day."""

        def active(on) -> bool:
            if person_row is not None and person_row.values.get("Einwilligung am"):
                given = person_row.values["Einwilligung am"]
                withdrawn = person_row.values.get("Einwilligung widerrufen am")
                if given <= on and (withdrawn is None or withdrawn > on):
                    return True
            if person is None:
                return False
            if person.pk not in self._consents:
                self._consents[person.pk] = list(person.consents.all())
            return any(consent.is_active(on) for consent in self._consents[person.pk])

        return active

    # cases -----------------------------------------------------------------

    def _case_rows(self, table, participants) -> dict:
        """{Fall-Kennung: Record} of the file's cases."""
        rows = {}
        if table is None:
            return rows
        for number, values in self._rows(table):
            key = values.get("Fall-Kennung")
            if not key:
                continue
            if key in rows:
                self.plan.add(table.sheet, number, "Fall-Kennung",
                              f"Die Fall-Kennung „{key}“ steht schon in Zeile {rows[key].number}.")
                continue
            row = rows[key] = Record(number, values)
            consent_active = None
            person_key = values.get("Teilnehmende-Kennung")
            if person_key:
                person_row, person = self._person(person_key, participants)
                row.key = (person_row, person)
                row.extra["consent_active"] = self._consent_active(person_row, person)
                if person_row is None and person is None:
                    self.plan.add(table.sheet, number, "Teilnehmende-Kennung",
                                  f"Keine Person mit der Kennung „{person_key}“ – weder im Blatt „Teilnehmende“ noch bei Ihnen.")
                else:
                    consent_active = row.extra["consent_active"]
            self._problems(table.sheet, number, case_rules(values, self.today, consent_active))
        self._match_cases(rows, table)
        self.plan.records["Fälle"] = list(rows.values())
        return rows

    def _match_cases(self, rows, table):
        visible = Case.objects.visible_to(self.actor)
        found = {}
        keys = list(rows)
        numbers = {case_number(k): k for k in keys if case_number(k)}
        for chunk in _chunks(keys):
            for case in visible.filter(external_id__in=chunk):
                found[case.external_id] = case
        for chunk in _chunks(list(numbers)):
            for case in visible.filter(pk__in=chunk):
                found.setdefault(numbers[case.pk], case)
        for chunk in _chunks([k for k in keys if k not in found]):  # taken at the provider? (see above)
            for key in Case.objects.filter(provider_id=self.actor.provider_id, external_id__in=chunk).values_list(
                    "external_id", flat=True):
                self.plan.add(table.sheet, rows[key].number, "Fall-Kennung",
                              f"Die Fall-Kennung „{key}“ gehört bei Ihrem Träger zu einem Fall, den Sie nicht sehen.")
        for key, row in rows.items():
            row.existing = found.get(key)
            if row.existing is not None:
                _person_row, person = row.key or (None, None)
                self._problems(table.sheet, row.number, existing_case_rules(key, row.values, row.existing, person))

    def _case_facts(self, key, cases) -> CaseFacts | None:
        """What the rules need of the case a row names, from the file (which wins) or the records."""
        row = cases.get(key)
        if row is not None:
            person_row, person = row.key or (None, None)
            return CaseFacts(row.values.get("Beginn"), row.values.get("Art"),
                             row.extra.get("consent_active") or self._consent_active(None, None), row.existing)
        if key not in self._cases:
            case = existing_case(self.actor, key)
            self._cases[key] = case and CaseFacts(case.opened_on, case.kind,
                                                  self._consent_active(None, case.participant), case)
        return self._cases[key]

    # goals -----------------------------------------------------------------

    def _goals(self, table, cases):
        if table is None:
            return
        rows = []
        for number, values in self._rows(table):
            key = values.get("Fall-Kennung")
            if not key:
                continue
            case = self._case_facts(key, cases)
            if case is None:
                self.plan.add(table.sheet, number, "Fall-Kennung",
                              f"Kein Fall mit der Kennung „{key}“ – weder im Blatt „Fälle“ noch bei Ihnen.")
                continue
            self._problems(table.sheet, number, goal_rules(values, case, self.today))
            rows.append(Record(number, values, key=key, extra={"case": case.existing}))
        self._match_goals(rows, table.sheet)
        self.plan.records["Ziele"] = rows

    def _match_goals(self, rows, sheet_name):
        """A goal of the file is one on record only when it came from a file: under its
        Ziel-Kennung, or (without one) under the same case, category, text and date as then;
        or when the file names it by its number from the export (Z-42)."""
        for row in rows:
            row.extra["identifier"] = self._identifier(row, "Ziele", (
                row.values["Fall-Kennung"], row.values.get("Zielkategorie"), fold(row.values.get("Beschreibung") or ""),
                row.values.get("vereinbart am")))
        self._identify(rows, "Ziele", sheet_name, lambda ids: {
            goal.pk: goal for goal in Goal.objects.visible_to(self.actor).filter(pk__in=ids)}, case_of=lambda goal: goal.case_id)

    # appointments ----------------------------------------------------------

    def _appointments(self, table, cases):
        if table is None:
            return
        rows = []
        for number, values in self._rows(table):
            key = values.get("Fall-Kennung")
            case = None
            if key:
                case = self._case_facts(key, cases)
                if case is None:
                    self.plan.add(table.sheet, number, "Fall-Kennung",
                                  f"Termin für einen unbekannten Fall „{key}“ – weder im Blatt „Fälle“ noch bei Ihnen.")
                    continue
            complete_appointment(values, case)
            self._problems(table.sheet, number, appointment_rules(values, case, self.today))
            rows.append(Record(number, values, key=key or "", extra={"case": case.existing if case else None}))
        self._match_appointments(rows, table.sheet)
        self.plan.records["Termine"] = rows

    def _match_appointments(self, rows, sheet_name):
        """An appointment of the file is one on record only when it came from a file: under its
        Termin-Kennung, or (without one) as the n-th row of the file on the same day of the same
        case (or without case) and kind; or when the file names it by its number (T-42). An
        appointment entered by hand is never taken for a row of a file."""
        ordinal = defaultdict(int)
        for row in rows:
            if not row.values.get(IDENTIFIERS["Termine"][0]):
                group = (row.key, row.values.get("Datum"), row.values["Art"])
                ordinal[group] += 1
                row.extra["ordinal"] = ordinal[group]
            row.extra["identifier"] = self._identifier(row, "Termine", (
                row.key, row.values.get("Datum"), row.values["Art"], row.extra.get("ordinal")))
        self._identify(rows, "Termine", sheet_name, self._existing_appointments,
                       case_of=lambda appointment: appointment.case_id)
        for row in rows:
            if row.existing is not None and row.existing.kind != row.values["Art"]:
                self.plan.add(sheet_name, row.number, "Art", "Die Art eines bestehenden Termins kann nicht geändert werden.")

    def _existing_appointments(self, ids) -> dict:
        """{pk: Existing appointment} of the visible ones among `ids`, as plain values."""
        found = {pk: ExistingAppointment(pk, case_id, kind, complexity, minutes, day, [], []) for
                 pk, case_id, kind, complexity, minutes, day in Appointment.objects.visible_to(self.actor).filter(
                     pk__in=ids).values_list("pk", "case_id", "kind", "complexity", "duration_minutes", "date")}
        for a_id, t_id in Appointment.topics.through.objects.filter(appointment_id__in=list(found)).values_list(
                "appointment_id", "topic_id"):
            found[a_id].topics.append(t_id)
        for a_id, s_id in Appointment.language_support.through.objects.filter(appointment_id__in=list(found)).values_list(
                "appointment_id", "languagesupportkind_id"):
            found[a_id].support.append(s_id)
        return found

    # identifiers -----------------------------------------------------------

    def _identifier(self, row, sheet, content: tuple) -> tuple[str, bool]:
        """(key, from the file?): the row's identifier, or a key made of what identifies it."""
        column = IDENTIFIERS[sheet][0]
        if row.values.get(column):
            return row.values[column], True
        return "|".join("" if part is None else str(part) for part in content), False

    def _identify(self, rows, sheet, sheet_name, load, case_of):
        """Set `existing` of each row to the record it names: one that came from a file under
        the row's key, or (for a key from the file) the one the export numbered so. `load(ids)`
        gives {pk: record} of the visible records; `case_of(record)` the case it belongs to."""
        column, prefix = IDENTIFIERS[sheet]
        seen = {}
        for row in rows:
            key, from_file = row.extra["identifier"]
            if from_file and key in seen:
                self.plan.add(sheet_name, row.number, column, f"Die Kennung „{key}“ steht schon in Zeile {seen[key]}.")
            seen.setdefault(key, row.number)
        keys = {row.extra["identifier"][0] for row in rows}
        provenance = {}
        for chunk in _chunks(keys):
            for entry in ImportedRecord.objects.filter(provider_id=self.actor.provider_id, sheet=sheet, key__in=chunk):
                provenance[entry.key] = entry
        numbers = {}
        for row in rows:
            key, from_file = row.extra["identifier"]
            if from_file and key not in provenance and re.fullmatch(rf"{prefix}-\d{{1,12}}", key):
                numbers[key] = int(key[len(prefix) + 1:])
        ids = {entry.object_id for entry in provenance.values()} | set(numbers.values())
        records = {}
        for chunk in _chunks(ids):
            records.update(load(chunk))
        for row in rows:
            key, from_file = row.extra["identifier"]
            entry = provenance.get(key)
            row.extra["provenance"] = entry
            row.existing = records.get(entry.object_id if entry else numbers.get(key))
            if entry is not None and row.existing is None and self._exists(sheet, entry.object_id):
                self.plan.add(sheet_name, row.number, column, f"Die Kennung „{key}“ gehört bei Ihrem Träger zu einem "
                              "Datensatz, den Sie nicht sehen. Bitte klären Sie das mit der Leitung.")
            case = row.extra.get("case")
            if row.existing is not None and case_of(row.existing) != (case.pk if case else None):
                self.plan.add(sheet_name, row.number, column, f"„{key}“ gehört zu einem anderen Fall.")

    def _exists(self, sheet, pk) -> bool:
        """Whether a record behind a key still exists (outside visible_to on purpose: only whether
        it is there, so that no second record is made under the key of one the actor cannot see)."""
        model = {"Ziele": Goal, "Termine": Appointment}[sheet]
        return model.objects.filter(pk=pk).exists()

    # summary ---------------------------------------------------------------

    def _summary(self) -> dict:
        summary = {}
        for kind in SHEETS:
            rows = self.plan.records.get(kind)
            if rows is None:
                continue
            matched = sum(1 for row in rows if row.existing is not None)
            summary[kind] = {"Zeilen": len(rows), "schon vorhanden": matched, "neu": len(rows) - matched}
        return summary


def case_number(key: str) -> int | None:
    """The record id in a case number like F-00042 (as the export writes it), else None."""
    return int(key[2:]) if re.fullmatch(r"F-\d{1,9}", key) else None


def existing_case(actor, key: str):
    """The case `actor` may see that a Fall-Kennung names: imported under it, or numbered so."""
    visible = Case.objects.visible_to(actor)
    number = case_number(key)
    return visible.filter(external_id=key).first() or (visible.filter(pk=number).first() if number else None)


def existing_participant(actor, key: str):
    """The person `actor` may see that a Kennung names: imported under it, or with that code."""
    visible = Participant.objects.visible_to(actor)
    return visible.filter(external_id=key).first() or visible.filter(code=key).first()


def _chunks(items, size=500):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]
