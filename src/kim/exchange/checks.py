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
from .plan import Plan, Record
from .workbook import SHEETS

# ---------------------------------------------------------------- the rules, row by row


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
        self._match_consents(rows)
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

    def _match_consents(self, rows):
        """The existing consent of a matched person given on the file's date, if any."""
        wanted = {(row.existing.pk, row.values["Einwilligung am"]): row for row in rows.values()
                  if row.existing is not None and row.values.get("Einwilligung am")}
        found = {}
        for chunk in _chunks({person for person, _ in wanted}):
            for consent in Consent.objects.visible_to(self.actor).filter(participant_id__in=chunk).order_by("pk"):
                found.setdefault((consent.participant_id, consent.given_on), consent)
        for key, row in wanted.items():
            row.extra["consent"] = found.get(key)

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
        self._match_goals(rows)
        self.plan.records["Ziele"] = rows

    def _match_goals(self, rows):
        """The same goal: same (existing) case, category, description and date of agreement."""
        case_ids = {row.extra["case"].pk for row in rows if row.extra["case"] is not None}
        existing = {}
        for chunk in _chunks(case_ids):
            for goal in Goal.objects.visible_to(self.actor).filter(case_id__in=chunk).order_by("pk"):
                existing.setdefault((goal.case_id, goal.category_id, fold(goal.text), goal.agreed_on), goal)
        for row in rows:
            if row.extra["case"] is not None and row.values.get("Beschreibung"):
                row.existing = existing.get((row.extra["case"].pk, row.values["Zielkategorie"],
                                             fold(row.values["Beschreibung"]), row.values["vereinbart am"]))

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
        self._match_appointments(rows)
        self.plan.records["Termine"] = rows

    def _match_appointments(self, rows):
        """The n-th row of a file on a day of a case (and kind) is the n-th such appointment on
        record; `existing` is (pk, complexity, minutes, topic ids, support ids)."""
        groups = defaultdict(list)
        for row in rows:
            case = row.extra["case"]
            if row.key and case is None:
                continue  # a case this file creates has no appointments yet
            groups[(case.pk if case else None, row.values.get("Datum"), row.values["Art"])].append(row)
        existing = self._existing_appointments(groups)
        for group_key, group in groups.items():
            for row, match in zip(group, existing.get(group_key, []), strict=False):
                row.existing = match

    def _existing_appointments(self, groups) -> dict:
        """{(case id, date, kind): [(pk, complexity, minutes, topic ids, support ids)]} in order of creation."""
        case_ids = {case_id for case_id, _, _ in groups if case_id}
        visible = Appointment.objects.visible_to(self.actor)
        fields = ("pk", "case_id", "date", "kind", "complexity", "duration_minutes")
        found = []
        for chunk in _chunks(case_ids):
            found += list(visible.filter(case_id__in=chunk).values_list(*fields))
        dates = {day for case_id, day, _ in groups if case_id is None}
        for chunk in _chunks(dates):
            found += list(visible.filter(case__isnull=True, case_manager=self.case_manager, date__in=chunk)
                          .values_list(*fields))
        topics, support = defaultdict(list), defaultdict(list)
        for chunk in _chunks([row[0] for row in found], 2000):
            for a_id, t_id in Appointment.topics.through.objects.filter(appointment_id__in=chunk).values_list(
                    "appointment_id", "topic_id"):
                topics[a_id].append(t_id)
            for a_id, s_id in Appointment.language_support.through.objects.filter(appointment_id__in=chunk).values_list(
                    "appointment_id", "languagesupportkind_id"):
                support[a_id].append(s_id)
        result = defaultdict(list)
        for pk, case_id, day, kind, complexity, minutes in sorted(found):
            result[(case_id, day, kind)].append((pk, complexity, minutes, sorted(topics[pk]), sorted(support[pk])))
        return result

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
