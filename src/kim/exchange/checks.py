"""Checking the mapped rows into a plan, the third step of the import (read → map → check →
write).

The rules a row must keep are the functions `*_rules` at the top: the rules of the forms and
services of case work (consent for case management, dates in order, phases, screening
outcomes, counselling topics, durations) and what a file may not do to an existing record.
Each takes the row's values and what is known about the records it refers to, and yields
(column, German message); rules of case work that other parts of the application share can
be called from them.

Then every record is matched with the existing one it updates, looked up through
`visible_to(actor)` only, so that the writer only writes. A file updates only records it
names: a person by the file's Kennung (kept as `external_id`) or the participant code; a case
by the Fall-Kennung (`external_id`) or its number F-00042; every other record by the file's
identifier it came under (exchange.ImportedRecord) or the number the export gave it (KIM-T-42).
A row without an identifier is the same record as the same row of an earlier file (a key
made of its content); a record entered by hand is never taken for a row of a file."""

import re
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from kim.casework import rules
from kim.casework.models import (
    Appointment,
    Assessment,
    AssessmentItem,
    Case,
    CaseKind,
    Consent,
    Goal,
    Household,
    Participant,
    Phase,
    PlanAction,
    Referral,
)

from .mapping import Table, fold, load_value_lists, map_rows
from .models import ImportedRecord
from .plan import MAX_LISTED_PROBLEMS, Plan, Record
from .workbook import IDENTIFIERS, SHEETS, exported_pk

NOT_VISIBLE = "Die Kennung „{key}“ gehört bei Ihrem Träger zu einem Datensatz, den Sie nicht sehen. " \
              "Bitte klären Sie das mit der Leitung."


# ---------------------------------------------------------------- what the rules know


@dataclass
class CaseFacts:
    """What the rules need of the case a row refers to: from the file (which wins) or the records."""

    opened_on: object
    kind: str
    consent_active: object  # (date) -> bool: does the person's consent hold on that day?
    existing: object = None  # the existing case, or None for a case that this file creates
    closed_on: object = None


@dataclass(slots=True)
class ExistingAppointment:
    """An appointment on record as the check reads it: plain values, as there may be many."""

    pk: int
    case_id: int | None
    kind: str
    fields: tuple  # the values of APPOINTMENT_FIELDS
    topics: list
    support: list


@dataclass(frozen=True)
class Provenance:
    """Under which entry of exchange.ImportedRecord, and as which record, a key came from a file."""

    pk: int
    object_id: int


APPOINTMENT_FIELDS = ("date", "complexity", "duration_minutes", "other_kind", "place", "thematic_offer_id",
                      "session_format", "audience", "note", "case_manager_id")


# ---------------------------------------------------------------- the rules, row by row

def shared(problems: dict, columns: dict):
    """(column, message) of the problems a rule of case work (kim.casework.rules) found, its
    fields named by the columns of the file: the page, the API and the import refuse alike."""
    for field, message in problems.items():
        yield columns.get(field, next(iter(columns.values()))), str(message)


def participant_rules(values, today):
    given, withdrawn = values.get("Einwilligung am"), values.get("Einwilligung widerrufen am")
    birth, entry = values.get("Geburtsdatum"), values.get("Einreisedatum")
    yield from shared(rules.participant_problems(birth, entry, today),
                      {"birth_date": "Geburtsdatum", "entry_date": "Einreisedatum"})
    yield from shared(rules.consent_problems(given, birth, today), {"given_on": "Einwilligung am"})
    if withdrawn and not given:
        yield "Einwilligung widerrufen am", "Widerruf ohne Datum der Einwilligung."
    elif withdrawn:
        yield from shared(rules.withdrawal_problems(given, withdrawn, today),
                          {"withdrawn_on": "Einwilligung widerrufen am"})


def consent_rules(values, today):
    given, withdrawn = values.get("erteilt am"), values.get("widerrufen am")
    yield from shared(rules.consent_problems(given, None, today), {"given_on": "erteilt am"})
    if given and withdrawn:
        yield from shared(rules.withdrawal_problems(given, withdrawn, today), {"withdrawn_on": "widerrufen am"})


def case_rules(values, today, consent_active):
    """`consent_active`: (date) -> bool for the case's person, None if the person is unknown."""
    opened, closed = values.get("Beginn"), values.get("Ende")
    if (consent_active is not None and values.get("Art") == CaseKind.CASE_MANAGEMENT and opened
            and not consent_active(opened)):
        yield "Beginn", ("Für Case Management braucht es eine Einwilligung, die zum Beginn gilt. "
                         "Bitte tragen Sie „Einwilligung am“ bei der Person ein.")
    yield from shared(rules.case_opening_problems(opened, None, today), {"opened_on": "Beginn"})
    if opened and closed and closed < opened:
        yield "Ende", "Das Ende liegt vor dem Beginn."
    elif closed and (problem := rules.record_date_problem(closed, today)):
        yield "Ende", problem
    if values.get("Art") != CaseKind.CASE_MANAGEMENT and values.get("Phase") not in (None, Phase.INTAKE, Phase.CLOSED):
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


def dated_record_rules(column, day, case: CaseFacts, before_opening: str):
    """The rules of `record_assessment` and `add_referral` for a record of a case on a day."""
    if day and case.opened_on and day < case.opened_on:
        yield column, before_opening
    if day and case.kind == CaseKind.CASE_MANAGEMENT and not case.consent_active(day):
        yield column, "Zu diesem Datum gilt keine Einwilligung der Person (Case Management)."


def goal_rules(values, case: CaseFacts, today):
    agreed, since = values.get("vereinbart am"), values.get("Status seit")
    yield from shared(rules.goal_problems(agreed, None, opened_on=case.opened_on, today=today),
                      {"agreed_on": "vereinbart am"})
    if since and agreed:
        yield from shared(rules.goal_status_problems(agreed, since, today), {"status_changed_on": "Status seit"})
    elif since and (problem := rules.record_date_problem(since, today)):
        yield "Status seit", problem
    if case.kind == CaseKind.CASE_MANAGEMENT and agreed and not case.consent_active(agreed):
        yield "vereinbart am", "Zu diesem Datum gilt keine Einwilligung der Person."


def complete_appointment(values, case: CaseFacts | None):
    """Defaults of a hand-made file: counselling when there is a case, complexity from the kind
    of case, "other" as the kind of other work."""
    if not values.get("Art"):
        values["Art"] = Appointment.Kind.COUNSELLING if case else Appointment.Kind.OTHER
    if values["Art"] == Appointment.Kind.OTHER:
        values["komplex"] = ""
        if not values.get("Art der Tätigkeit"):
            values["Art der Tätigkeit"] = Appointment.OtherKind.OTHER
    else:
        values["Art der Tätigkeit"] = ""
        if not values.get("komplex") and case:
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
    yield from shared(rules.appointment_date_problems(day, closed_on=case.closed_on if case else None, today=today),
                      {"date": "Datum"})
    if case is not None:
        yield from dated_record_rules("Datum", day, case, "Der Termin liegt vor dem Beginn des Falls.")


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


MODELS = {"Haushalte": Household, "Einwilligungen": Consent, "Assessments": Assessment, "Ziele": Goal,
          "Maßnahmen": PlanAction, "Verweise": Referral, "Termine": Appointment}


class _Check:
    def __init__(self, actor, case_manager, saved_values, progress, plan: Plan):
        self.actor = actor
        self.case_manager = case_manager
        self.saved_values = saved_values or {}
        self.progress = progress or (lambda done, total: None)
        self.plan = plan
        self.lists = load_value_lists(actor)
        self.today = timezone.localdate()
        self._cases, self._persons = {}, {}  # existing records named by this file, by identifier
        self._consents = {}  # {person id: consents on record}
        self._file_consents = defaultdict(list)  # {Kennung: [(given, withdrawn, processing)]} of this file

    def run(self, tables: dict[str, Table]):
        self.plan.sheet_names = {kind: table.sheet for kind, table in tables.items()}
        self._done, self._total = 0, sum(max(len(t.rows) - t.header_row - 1, 0) for t in tables.values()) or 1
        people = self._participants(tables.get("Teilnehmende"))
        self._consent_rows(tables.get("Einwilligungen"), tables.get("Teilnehmende"), people)
        cases = self._case_rows(tables.get("Fälle"), people)
        assessments = self._assessments(tables.get("Assessments"), cases)
        self._items(tables.get("Lebensbereiche"), assessments)
        goals = self._goals(tables.get("Ziele"), cases)
        self._actions(tables.get("Maßnahmen"), cases, goals)
        self._referrals(tables.get("Verweise"), cases)
        self._appointments(tables.get("Termine"), cases)
        self._refuse_restricted()
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

    def _case_rows_of(self, table, cases, what):
        """(row number, values, CaseFacts) of the rows of `table` that name a known case."""
        for number, values in self._rows(table):
            key = values.get("Fall-Kennung")
            if not key:
                continue
            case = self._case_facts(key, cases)
            if case is None:
                self.plan.add(table.sheet, number, "Fall-Kennung",
                              f"{what} für einen unbekannten Fall „{key}“ – weder im Blatt „Fälle“ noch bei Ihnen.")
                continue
            yield number, values, case

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
            if values.get("Einwilligung am"):
                self._file_consents[key].append((values["Einwilligung am"], values.get("Einwilligung widerrufen am"), True))
        self._match_participants(rows, table)
        self._match_households(rows, table.sheet)
        self.plan.records["Teilnehmende"] = list(rows.values())
        return rows

    def _match_participants(self, rows, table):
        keys = list(rows)
        # A participant code may come written otherwise (lower case, another dash): its form.
        by_code = defaultdict(list)
        for key in keys:
            by_code[rules.participant_code_form(key)].append(key)
        visible = Participant.objects.visible_to(self.actor)
        found = {}
        for chunk in _chunks(keys):
            for participant in visible.filter(external_id__in=chunk):
                found[participant.external_id] = participant
        for chunk in _chunks(list(by_code)):
            for participant in visible.filter(code__in=chunk):
                for key in by_code[participant.code]:
                    found.setdefault(key, participant)
        # Outside visible_to on purpose, like find_possible_duplicates: only whether an identifier
        # of this file is taken at the provider, so that a second record is not made under it.
        at_provider = Participant.objects.filter(provider_id=self.actor.provider_id)
        hidden = set()
        for chunk in _chunks([k for k in keys if k not in found]):
            hidden |= set(at_provider.filter(external_id__in=chunk).values_list("external_id", flat=True))
        # A colleague's participant code names that person as much as a file's identifier.
        for chunk in _chunks([code for code, named in by_code.items() if not all(k in found for k in named)]):
            for code in at_provider.filter(code__in=chunk).values_list("code", flat=True):
                hidden |= {key for key in by_code[code] if key not in found}
        named_in_row = {}
        for key, row in rows.items():
            row.existing = found.get(key)
            if row.existing is not None:
                self._note_identity_changes(row)
                first = named_in_row.setdefault(row.existing.pk, row.number)
                if first != row.number:
                    self.plan.add(table.sheet, row.number, "Kennung",
                                  f"Die Kennung „{key}“ nennt dieselbe Person wie Zeile {first}.")
            if key in hidden:
                self.plan.add(table.sheet, row.number, "Kennung", f"Die Kennung „{key}“ gehört bei Ihrem Träger zu "
                              "einer Person, deren Akte Sie nicht sehen. Bitte klären Sie das mit der Leitung.")

    def _note_identity_changes(self, row):
        """A person on record whose name or birth date the row changes: listed in the dry run."""
        for column, field_name in IDENTITY_COLUMNS.items():
            after, before = row.values.get(column), getattr(row.existing, field_name)
            if after is None or after == before or len(self.plan.identity_changes) >= MAX_LISTED_PROBLEMS:
                continue
            self.plan.identity_changes.append({"row": row.number, "code": row.existing.code, "column": column,
                                               "before": _shown(before), "after": _shown(after)})

    def _match_households(self, rows, sheet_name):
        """A household by its Haushalt-Kennung (the file's, or the export's H-12), else by its name."""
        keyed = {row.values["Haushalt-Kennung"] for row in rows.values() if row.values.get("Haushalt-Kennung")}
        found = self._lookup("Haushalte", keyed)
        names = {row.values["Haushalt"] for row in rows.values()
                 if row.values.get("Haushalt") and not row.values.get("Haushalt-Kennung")}
        by_name = {}
        for chunk in _chunks(names):
            for household in Household.objects.visible_to(self.actor).filter(name__in=chunk).order_by("pk"):
                by_name.setdefault(household.name, household)
        for row in rows.values():
            key, name = row.values.get("Haushalt-Kennung"), row.values.get("Haushalt")
            if key:
                row.extra["household"] = ("key", key)
                self.plan.households[("key", key)] = found.get(key)
                if not name and found.get(key) is None:
                    self.plan.add(sheet_name, row.number, "Haushalt", "Für einen neuen Haushalt fehlt sein Name.")
            elif name:
                row.extra["household"] = ("name", name)
                self.plan.households[("name", name)] = by_name.get(name)

    def _person(self, key, participants) -> tuple:
        """(Record of this file or None, existing Participant or None) for a Kennung."""
        row = participants.get(key)
        if row is not None:
            return row, row.existing
        if key not in self._persons:
            self._persons[key] = existing_participant(self.actor, key)
        return None, self._persons[key]

    def _consent_active(self, person_key, person):
        """(date) -> bool: whether a consent of the person, in this file or on record, holds on a day."""

        def active(on) -> bool:
            for given, withdrawn, processing in self._file_consents.get(person_key, ()):
                if processing is not False and given <= on and (withdrawn is None or withdrawn > on):
                    return True
            if person is None:
                return False
            if person.pk not in self._consents:
                self._consents[person.pk] = list(person.consents.all())
            return any(consent.is_active(on) for consent in self._consents[person.pk])

        return active

    # consents --------------------------------------------------------------

    def _consent_rows(self, table, people_table, people):
        """The consents of the sheet "Einwilligungen", and those given in a person's row
        ("Einwilligung am") that the sheet does not list."""
        rows = []
        if table is not None:
            for number, values in self._rows(table):
                key = values.get("Teilnehmende-Kennung")
                if not key or not values.get("erteilt am"):
                    continue
                person_row, person = self._person(key, people)
                if person_row is None and person is None:
                    self.plan.add(table.sheet, number, "Teilnehmende-Kennung",
                                  f"Keine Person mit der Kennung „{key}“ – weder im Blatt „Teilnehmende“ noch bei Ihnen.")
                    continue
                self._problems(table.sheet, number, consent_rules(values, self.today))
                self._file_consents[key].append((values["erteilt am"], values.get("widerrufen am"),
                                                 values.get("Verarbeitung")))
                rows.append(Record(number, values, key=key, extra={"owner": person.pk if person else None,
                                                                   "person": person, "sheet": table.sheet}))
        listed = {(row.key, row.values["erteilt am"]) for row in rows}
        for key, person_row in people.items():
            given = person_row.values.get("Einwilligung am")
            if given and (key, given) not in listed:
                values = {"Teilnehmende-Kennung": key, "erteilt am": given}
                if "Einwilligung widerrufen am" in person_row.values:
                    values["widerrufen am"] = person_row.values["Einwilligung widerrufen am"]
                rows.append(Record(person_row.number, values, key=key, extra={
                    "owner": person_row.existing.pk if person_row.existing else None, "person": person_row.existing,
                    "sheet": people_table.sheet, "column": "Einwilligung widerrufen am"}))
        for row in rows:
            row.extra["identifier"] = self._identifier(row, "Einwilligungen", (row.key, row.values["erteilt am"].isoformat()))
        self._identify(rows, "Einwilligungen", lambda ids: {
            consent.pk: consent for consent in Consent.objects.visible_to(self.actor).filter(pk__in=ids)},
            owner_of=lambda consent: consent.participant_id, other_owner="zu einer anderen Person")
        self._leave_hand_entered_consents(rows)
        self.plan.records["Einwilligungen"] = rows

    def _leave_hand_entered_consents(self, rows):
        """A row without identifier whose person has a consent entered by hand on that day
        names that consent; a file does not change it, and where it would, that is a problem."""
        unnamed = [row for row in rows if row.existing is None and not row.extra["identifier"][1] and row.extra["owner"]]
        by_day = {}
        for chunk in _chunks({row.extra["owner"] for row in unnamed}):
            for consent in Consent.objects.visible_to(self.actor).filter(participant_id__in=chunk).order_by("pk"):
                by_day.setdefault((consent.participant_id, consent.given_on), consent)
        for row in unnamed:
            by_hand = by_day.get((row.extra["owner"], row.values["erteilt am"]))
            if by_hand is None:
                continue
            row.extra["by_hand"] = by_hand
            column = row.extra.get("column", "widerrufen am")
            if "widerrufen am" in row.values and row.values["widerrufen am"] != by_hand.withdrawn_on:
                self.plan.add(row.extra["sheet"], row.number, column, (
                    f"Die Einwilligung vom {by_hand.given_on:%d.%m.%Y} ist in der Akte erfasst und wird durch eine "
                    "Datei nicht geändert. Bitte tragen Sie einen Widerruf in der Akte ein."))

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
                row.extra["consent_active"] = self._consent_active(person_key, person)
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
            return CaseFacts(row.values.get("Beginn"), row.values.get("Art"),
                             row.extra.get("consent_active") or self._consent_active(None, None), row.existing,
                             closed_on=row.values.get("Ende") if "Ende" in row.values else getattr(
                                 row.existing, "closed_on", None))
        if key not in self._cases:
            case = existing_case(self.actor, key)
            self._cases[key] = case and CaseFacts(case.opened_on, case.kind,
                                                  self._consent_active(None, case.participant), case,
                                                  closed_on=case.closed_on)
        return self._cases[key]

    def _child(self, number, values, key, case: CaseFacts) -> Record:
        """A record of a case: `owner` the existing case (None for one this file creates)."""
        return Record(number, values, key=key, extra={"case": case.existing,
                                                      "owner": case.existing.pk if case.existing else None})

    # assessments -----------------------------------------------------------

    def _assessments(self, table, cases) -> dict:
        """{Assessment-Kennung: Record} of the file's assessments that have one."""
        if table is None:
            return {}
        rows = []
        for number, values, case in self._case_rows_of(table, cases, "Assessment"):
            if not values.get("Art"):
                values["Art"] = Assessment.Kind.INITIAL
            self._problems(table.sheet, number, dated_record_rules(
                "Datum", values.get("Datum"), case, "Das Assessment liegt vor dem Beginn des Falls."))
            rows.append(self._child(number, values, values["Fall-Kennung"], case))
        for row in rows:
            row.extra["identifier"] = self._identifier(row, "Assessments", (row.key, row.values.get("Datum"),
                                                                           row.values.get("Art")))
        self._identify(rows, "Assessments", lambda ids: {
            assessment.pk: assessment for assessment in Assessment.objects.visible_to(self.actor).filter(pk__in=ids)},
            owner_of=lambda assessment: assessment.case_id)
        named = {row.extra["identifier"][0]: row for row in rows if row.extra["identifier"][1]}
        found = self._lookup("Assessments", {row.values["vorheriges Assessment"] for row in rows
                                             if row.values.get("vorheriges Assessment")} - set(named))
        for row in rows:
            previous = row.values.get("vorheriges Assessment")
            if not previous:
                continue
            if previous in named and named[previous].key == row.key:
                row.extra["previous_row"] = named[previous]
            elif previous in found and row.extra["owner"] == found[previous].case_id:
                row.extra["previous"] = found[previous]
            else:
                self.plan.add(table.sheet, row.number, "vorheriges Assessment",
                              f"Kein Assessment „{previous}“ dieses Falls – weder im Blatt „Assessments“ noch bei Ihnen.")
        self.plan.records["Assessments"] = rows
        return named

    def _items(self, table, assessments):
        """The life domains of assessments: of this file's (by Assessment-Kennung) or on record."""
        if table is None:
            return
        rows, seen = [], {}
        parsed = list(self._rows(table))
        found = self._lookup("Assessments", {values["Assessment-Kennung"] for _, values in parsed
                                             if values.get("Assessment-Kennung")} - set(assessments))
        for number, values in parsed:
            key, domain = values.get("Assessment-Kennung"), values.get("Lebensbereich")
            if not key or domain is None:
                continue
            if key not in assessments and key not in found:
                self.plan.add(table.sheet, number, "Assessment-Kennung",
                              f"Kein Assessment mit der Kennung „{key}“ – weder im Blatt „Assessments“ noch bei Ihnen.")
                continue
            if (key, domain) in seen:
                self.plan.add(table.sheet, number, "Lebensbereich",
                              f"Dieser Lebensbereich steht für das Assessment schon in Zeile {seen[(key, domain)]}.")
                continue
            seen[(key, domain)] = number
            assessment_row = assessments.get(key)
            existing = assessment_row.existing if assessment_row else found[key]
            rows.append(Record(number, values, key=key, extra={"assessment_row": assessment_row, "assessment": existing}))
        by_domain = {}
        for chunk in _chunks({row.extra["assessment"].pk for row in rows if row.extra["assessment"]}):
            for item in AssessmentItem.objects.visible_to(self.actor).filter(assessment_id__in=chunk):
                by_domain[(item.assessment_id, item.life_domain_id)] = item
        for row in rows:
            if row.extra["assessment"] is not None:
                row.existing = by_domain.get((row.extra["assessment"].pk, row.values["Lebensbereich"]))
        self.plan.records["Lebensbereiche"] = rows

    # goals and actions -----------------------------------------------------

    def _goals(self, table, cases) -> dict:
        """{Ziel-Kennung: Record} of the file's goals that have one."""
        if table is None:
            return {}
        rows = []
        for number, values, case in self._case_rows_of(table, cases, "Ziel"):
            self._problems(table.sheet, number, goal_rules(values, case, self.today))
            rows.append(self._child(number, values, values["Fall-Kennung"], case))
        for row in rows:
            # Without identifier: the same goal as one of an earlier file with the same case,
            # category, text and date (and one goal, if a file lists it twice).
            row.extra["identifier"] = self._identifier(row, "Ziele", (
                row.key, row.values.get("Zielkategorie"), fold(row.values.get("Beschreibung") or ""),
                row.values.get("vereinbart am")))
        self._identify(rows, "Ziele", lambda ids: {
            goal.pk: goal for goal in Goal.objects.visible_to(self.actor).filter(pk__in=ids)},
            owner_of=lambda goal: goal.case_id, repeated_is_one=True)
        self.plan.records["Ziele"] = rows
        return {row.extra["identifier"][0]: row for row in rows if row.extra["identifier"][1]}

    def _actions(self, table, cases, goals):
        if table is None:
            return
        rows = []
        for number, values, case in self._case_rows_of(table, cases, "Maßnahme"):
            rows.append(self._child(number, values, values["Fall-Kennung"], case))
        found = self._lookup("Ziele", {row.values["Ziel-Kennung"] for row in rows if row.values.get("Ziel-Kennung")}
                             - set(goals))
        for row in rows:
            goal_key = row.values.get("Ziel-Kennung")
            if goal_key in goals and goals[goal_key].key == row.key:
                row.extra["goal_row"] = goals[goal_key]
            elif goal_key in found and found[goal_key].case_id == row.extra["owner"]:
                row.extra["goal"] = found[goal_key]
            elif goal_key:
                self.plan.add(table.sheet, row.number, "Ziel-Kennung",
                              f"Kein Ziel „{goal_key}“ dieses Falls – weder im Blatt „Ziele“ noch bei Ihnen.")
            row.extra["identifier"] = self._identifier(row, "Maßnahmen", (
                row.key, fold(row.values.get("Was") or ""), row.values.get("bis")))
        self._identify(rows, "Maßnahmen", lambda ids: {
            action.pk: action for action in PlanAction.objects.visible_to(self.actor).filter(pk__in=ids)},
            owner_of=lambda action: action.case_id)
        self.plan.records["Maßnahmen"] = rows

    # referrals -------------------------------------------------------------

    def _referrals(self, table, cases):
        if table is None:
            return
        rows = []
        for number, values, case in self._case_rows_of(table, cases, "Verweis"):
            self._problems(table.sheet, number, dated_record_rules(
                "Datum", values.get("Datum"), case, "Der Verweis liegt vor dem Beginn des Falls."))
            rows.append(self._child(number, values, values["Fall-Kennung"], case))
        for row in rows:
            row.extra["identifier"] = self._identifier(row, "Verweise", (
                row.key, row.values.get("Verwiesen an"), row.values.get("Datum")))
        self._identify(rows, "Verweise", lambda ids: {
            referral.pk: referral for referral in Referral.objects.visible_to(self.actor).filter(pk__in=ids)},
            owner_of=lambda referral: referral.case_id)
        self.plan.records["Verweise"] = rows

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
            existing_case = case.existing if case else None
            rows.append(Record(number, values, key=key or "", extra={
                "case": existing_case, "owner": existing_case.pk if existing_case else None}))
        self._match_appointments(rows, table.sheet)
        self.plan.records["Termine"] = rows

    def _match_appointments(self, rows, sheet_name):
        """Without Termin-Kennung, an appointment of the file is the n-th row of the file on
        the same day of the same case (or without case) and kind, as in an earlier file."""
        ordinal = defaultdict(int)
        for row in rows:
            ordinal[(row.key, row.values.get("Datum"), row.values["Art"])] += 1
            row.extra["identifier"] = self._identifier(row, "Termine", (
                row.key, row.values.get("Datum"), row.values["Art"],
                ordinal[(row.key, row.values.get("Datum"), row.values["Art"])]))
        self._identify(rows, "Termine", self._existing_appointments, owner_of=lambda appointment: appointment.case_id)
        for row in rows:
            if row.existing is not None and row.existing.kind != row.values["Art"]:
                self.plan.add(sheet_name, row.number, "Art", "Die Art eines bestehenden Termins kann nicht geändert werden.")

    def _existing_appointments(self, ids) -> dict:
        """{pk: ExistingAppointment} of the visible ones among `ids`, as plain values."""
        found = {pk: ExistingAppointment(pk, case_id, kind, tuple(rest), [], [])
                 for pk, case_id, kind, *rest in Appointment.objects.visible_to(self.actor).filter(pk__in=ids)
                 .values_list("pk", "case_id", "kind", *APPOINTMENT_FIELDS)}
        for a_id, t_id in Appointment.topics.through.objects.filter(appointment_id__in=list(found)).values_list(
                "appointment_id", "topic_id"):
            found[a_id].topics.append(t_id)
        for a_id, s_id in Appointment.language_support.through.objects.filter(appointment_id__in=list(found)).values_list(
                "appointment_id", "languagesupportkind_id"):
            found[a_id].support.append(s_id)
        for appointment in found.values():
            appointment.topics.sort()
            appointment.support.sort()
        return found

    # restriction of processing ---------------------------------------------

    def _refuse_restricted(self):
        """A row that would change (or add to) the record of a person whose processing is
        restricted (Art. 18 GDPR) is a problem: the file is refused as a whole, as for any
        problem, so that nothing is half written."""
        people, cases = {}, {}  # {(part, row number, sheet): participant id / case id}
        for kind, rows in self.plan.records.items():
            for row in rows:
                where = (row.extra.get("sheet") or self._sheet_name(kind), row.number)
                person_id, case_id = _touched(kind, row)
                if person_id:
                    people[where] = person_id
                if case_id:
                    cases[where] = case_id
        # An anonymised person or case (kim.privacy.retention) is a trace nobody may write to again.
        anonymised = _ids(Participant.objects.filter(anonymised_on__isnull=False), people.values())
        anonymised_cases = _ids(Case.objects.filter(Q(anonymised_on__isnull=False)
                                                    | Q(participant__anonymised_on__isnull=False)), cases.values())
        restricted = _ids(Participant.objects.filter(restricted_on__isnull=False), people.values())
        restricted_cases = _ids(Case.objects.filter(participant__restricted_on__isnull=False), cases.values())
        refused = {}
        for touched, anonymous, frozen in ((people, anonymised, restricted), (cases, anonymised_cases, restricted_cases)):
            for where, pk in touched.items():
                if pk in anonymous:
                    refused[where] = ANONYMISED
                elif pk in frozen and refused.get(where) != ANONYMISED:
                    refused[where] = RESTRICTED
        for (sheet, number), message in sorted(refused.items(), key=lambda item: item[0]):
            self.plan.add(sheet, number, "", message)

    # identifiers -----------------------------------------------------------

    def _identifier(self, row, sheet, content: tuple) -> tuple[str, bool]:
        """(key, from the file?): the row's identifier, or a key made of what identifies it."""
        column = IDENTIFIERS[sheet][0]
        if row.values.get(column):
            return row.values[column], True
        return "|".join("" if part is None else str(part) for part in content), False

    def _identify(self, rows, sheet, load, owner_of, other_owner="zu einem anderen Fall", repeated_is_one=False):
        """Set `existing` of each row to the record it names: one that came from a file under
        the row's key, or (for a key from the file) the one the export numbered so. `load(ids)`
        gives {pk: record} of the visible records; `owner_of(record)` the id of the case (or
        person) it belongs to, which must be the row's (`extra["owner"]`)."""
        column = IDENTIFIERS[sheet][0]
        seen = {}
        for row in rows:
            key, from_file = row.extra["identifier"]
            if key in seen and from_file:
                self.plan.add(row.extra.get("sheet", self._sheet_name(sheet)), row.number, column,
                              f"Die Kennung „{key}“ steht schon in Zeile {seen[key]}.")
            elif key in seen and not repeated_is_one:
                self.plan.add(row.extra.get("sheet", self._sheet_name(sheet)), row.number, "",
                              f"Die Zeile wiederholt Zeile {seen[key]}.")
            seen.setdefault(key, row.number)
        provenance = self._provenance(sheet, {row.extra["identifier"][0] for row in rows})
        numbers = {}
        for row in rows:
            key, from_file = row.extra["identifier"]
            if from_file and key not in provenance and exported_pk(sheet, key) is not None:
                numbers[key] = exported_pk(sheet, key)
        records = {}
        for chunk in _chunks({entry.object_id for entry in provenance.values()} | set(numbers.values())):
            records.update(load(chunk))
        for row in rows:
            key, _from_file = row.extra["identifier"]
            entry = provenance.get(key)
            row.extra["provenance"] = entry
            row.existing = records.get(entry.object_id if entry else numbers.get(key))
            where = (row.extra.get("sheet", self._sheet_name(sheet)), row.number, column)
            if entry is not None and row.existing is None and MODELS[sheet].objects.filter(pk=entry.object_id).exists():
                # Outside visible_to on purpose: only whether the record is there, so that no
                # second one is made under the key of one the actor cannot see.
                self.plan.add(*where, NOT_VISIBLE.format(key=key))
            if row.existing is not None and owner_of(row.existing) != row.extra.get("owner"):
                self.plan.add(*where, f"„{key}“ gehört {other_owner}.")

    def _provenance(self, sheet, keys) -> dict:
        """{key: Provenance} of the actor's provider (plain values: a file may name 100,000)."""
        found = {}
        for chunk in _chunks(keys):
            for pk, key, object_id in ImportedRecord.objects.filter(
                    provider_id=self.actor.provider_id, sheet=sheet, key__in=chunk).values_list("pk", "key", "object_id"):
                found[key] = Provenance(pk, object_id)
        return found

    def _lookup(self, sheet, keys) -> dict:
        """{key: visible record} that identifiers of a file name in another part (a goal for an
        action, an assessment for its life domains): the file's identifier or the export's number."""
        provenance = self._provenance(sheet, keys)
        wanted = {key: entry.object_id for key, entry in provenance.items()}
        for key in set(keys) - set(provenance):
            if exported_pk(sheet, key) is not None:
                wanted[key] = exported_pk(sheet, key)
        visible = {}
        for chunk in _chunks(set(wanted.values())):
            visible.update({record.pk: record for record in MODELS[sheet].objects.visible_to(self.actor).filter(pk__in=chunk)})
        return {key: visible[pk] for key, pk in wanted.items() if pk in visible}

    def _sheet_name(self, sheet):
        return self.plan.sheet_names.get(sheet, sheet)

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


ANONYMISED = ("Dieser Datensatz ist anonymisiert: Übrig ist eine statistische Spur, in die nichts mehr geschrieben "
              "werden darf. Bitte nehmen Sie die Zeile aus der Datei.")
RESTRICTED = ("Die Verarbeitung dieses Datensatzes ist eingeschränkt (Art. 18 DSGVO): Die Zeile betrifft eine "
              "Person, deren Akte nicht geändert werden darf, bis die Leitung des Trägers die Einschränkung aufhebt. "
              "Bitte nehmen Sie die Zeile aus der Datei.")


def _touched(kind, row) -> tuple:
    """(participant id, case id) of the existing records a row of part `kind` changes or adds to."""
    if kind == "Teilnehmende":
        return getattr(row.existing, "pk", None), None
    if kind == "Einwilligungen":
        return row.extra.get("owner"), None
    if kind == "Fälle":
        person = row.key[1] if row.key else None
        return getattr(person, "pk", None) or getattr(row.existing, "participant_id", None), getattr(row.existing, "pk", None)
    if kind == "Lebensbereiche":
        return None, getattr(row.extra.get("assessment"), "case_id", None)
    return None, row.extra.get("owner")  # records of a case: the existing case they belong to


IDENTITY_COLUMNS = {"Vorname": "first_name", "Nachname": "last_name", "Geburtsdatum": "birth_date"}


def _shown(value) -> str:
    return value.strftime("%d.%m.%Y") if hasattr(value, "strftime") else str(value or "")


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


def _ids(queryset, ids) -> set:
    """Those of `ids` that `queryset` holds, asked in chunks (SQLite limits the parameters)."""
    found = set()
    for chunk in _chunks(set(ids)):
        found |= set(queryset.filter(pk__in=chunk).values_list("pk", flat=True))
    return found


def _chunks(items, size=500):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]
