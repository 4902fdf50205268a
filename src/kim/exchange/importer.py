"""Checking and importing tables in the shape of the standard workbook.

`check()` reads the mapped sheets, turns every cell into a value of the data model, and
lists every problem by sheet, row and column in German; nothing is written. `commit()`
runs the same check and, only if there is no problem at all, writes everything in one
transaction: new records are created, records already imported (same identifier) are
updated where the file differs, and unchanged records stay untouched, so importing the
same file twice changes nothing.

Identifiers: a person is found by the file's Kennung (stored as `external_id`) or by
the participant code; a case by Fall-Kennung (`external_id`) or its number F-00042.
Goals are the same goal when case, category, description and agreement date agree;
appointments when case, date and kind agree, counted in file order for several on the
same day. Existing records are looked up through `visible_to(actor)` only."""

import difflib
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone

from kim.casework.models import Appointment, Case, CaseKind, Consent, Goal, GoalStatus, Household, Participant, Phase
from kim.casework.services import MAX_DAYS_AHEAD
from kim.core import audit
from kim.core.models import (
    AuditEntry,
    ClosureReason,
    GoalCategory,
    LanguageSupportKind,
    Municipality,
    ReferralSource,
    ReferralTarget,
    TargetGroup,
    Topic,
)

from .mapping import parse_date, parse_number
from .readers import header_text
from .workbook import APPOINTMENT_KINDS, CASE_KINDS, SHEETS, german_labels

MAX_LISTED_PROBLEMS = 500
HEADER_SEARCH_ROWS = 15


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"  # text, key, date, number, choice, list
    required: bool = False
    max_length: int = 0
    values: str = ""  # name of the value list for choice and list columns


SPECS = {
    "Teilnehmende": [
        Column("Kennung", "key", True, 100), Column("Vorname", required=True, max_length=80),
        Column("Nachname", required=True, max_length=80), Column("Geburtsdatum", "date", True),
        Column("Geschlecht", "choice", values="gender"), Column("Staatsangehörigkeit", max_length=200),
        Column("Sprachen", max_length=200), Column("Kommune", "choice", True, values="municipality"),
        Column("Haushalt", max_length=120), Column("Einreisedatum", "date"),
        Column("Aufenthaltsstatus", "choice", values="residence_status"), Column("Einwilligung am", "date"),
        Column("Einwilligung widerrufen am", "date"),
    ],
    "Fälle": [
        Column("Fall-Kennung", "key", True, 100), Column("Teilnehmende-Kennung", "key", True, 100),
        Column("Art", "choice", True, values="case_kind"), Column("Zielgruppe", "choice", values="target_group"),
        Column("Zugangsweg", "choice", values="referral_source"), Column("Kommune", "choice", values="municipality"),
        Column("Beginn", "date", True), Column("Phase", "choice", values="phase"), Column("Ende", "date"),
        Column("Abschlussgrund", "choice", values="closure_reason"),
        Column("Verwiesen an", "choice", values="referral_target"),
    ],
    "Ziele": [
        Column("Fall-Kennung", "key", True, 100), Column("Zielkategorie", "choice", True, values="goal_category"),
        Column("Beschreibung", required=True, max_length=300), Column("vereinbart am", "date", True),
        Column("Status", "choice", values="goal_status"), Column("Status seit", "date"),
    ],
    "Termine": [
        Column("Fall-Kennung", "key", max_length=100), Column("Datum", "date", True),
        Column("Art", "choice", values="appointment_kind"), Column("komplex", "choice", values="complexity"),
        Column("Dauer (Minuten)", "number", True), Column("Themen", "list", values="topic"),
        Column("Sprachmittlung", "list", values="language_support"),
    ],
}
assert {kind: [c.header for c in columns] for kind, columns in SPECS.items()} == SHEETS

# Headers seen in case managers' own files, for the suggested column mapping.
HEADER_SYNONYMS = {
    "Kennung": ["ID", "Nr", "Nummer", "TN-Nr", "Teilnehmer-ID", "Teilnehmernummer", "Klient-Nr", "Kunden-Nr", "Lfd. Nr."],
    "Vorname": ["Rufname"],
    "Nachname": ["Name", "Familienname", "Zuname"],
    "Geburtsdatum": ["Geb.-Datum", "Geburtstag", "geb. am", "Geb.Datum", "Geboren"],
    "Staatsangehörigkeit": ["Nationalität", "Staatsang.", "Herkunftsland"],
    "Sprachen": ["Sprache", "Muttersprache", "Sprachkenntnisse"],
    "Kommune": ["Wohnort", "Stadt", "Gemeinde", "Ort", "Kommune/Stadt"],
    "Aufenthaltsstatus": ["Aufenthaltstitel", "Status Aufenthalt"],
    "Einwilligung am": ["Einwilligung", "Datenschutzerklärung", "DSGVO-Einwilligung", "Einverständnis"],
    "Fall-Kennung": ["Fallnummer", "Fall-Nr", "Fall ID", "Aktenzeichen", "Fall"],
    "Teilnehmende-Kennung": ["Teilnehmer-Kennung", "TN-Kennung", "Teilnehmer-Nr", "Klient", "Person"],
    "Art": ["Fallart", "Beratungsart", "Terminart", "Typ"],
    "Zielgruppe": ["Personengruppe"],
    "Zugangsweg": ["Zugang", "Zuweisung durch", "Vermittelt von"],
    "Beginn": ["Fallbeginn", "Start", "Aufnahme", "Beginn am", "Aufnahmedatum"],
    "Ende": ["Fallende", "Abschluss am", "beendet am", "Abschlussdatum"],
    "Abschlussgrund": ["Grund des Abschlusses", "Beendigungsgrund"],
    "Verwiesen an": ["Verweisung an", "Weitervermittlung"],
    "Zielkategorie": ["Ziel-Kategorie", "Lebensbereich"],
    "Beschreibung": ["Ziel", "Zielbeschreibung"],
    "vereinbart am": ["Vereinbarung", "Zielvereinbarung am"],
    "Status seit": ["Stand"],
    "Datum": ["Termin", "Termindatum", "Beratungsdatum", "Datum des Termins"],
    "komplex": ["Komplexität", "Case Management", "komplexe Beratung"],
    "Dauer (Minuten)": ["Dauer", "Minuten", "Zeit (min)", "Dauer in Minuten"],
    "Themen": ["Thema", "Beratungsthemen", "Inhalte", "Beratungsinhalt"],
    "Sprachmittlung": ["Dolmetscher", "Sprachmittler", "Dolmetschung"],
}
SHEET_SYNONYMS = {
    "Teilnehmende": ["Teilnehmer", "Personen", "Klienten", "Stammdaten"],
    "Fälle": ["Faelle", "Fall", "Fallübersicht"],
    "Ziele": ["Zielvereinbarung", "Zielvereinbarungen"],
    "Termine": ["Beratungen", "Kontakte", "Termin", "Zeiterfassung"],
}


def simplify(text) -> str:
    """Lower case, umlauts folded, punctuation and spaces removed: for comparing headers."""
    text = unicodedata.normalize("NFKD", str(text).casefold().replace("ß", "ss"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]", "", text)


def fold(value) -> str:
    """How values are matched against labels: case-insensitive, spaces collapsed."""
    return " ".join(str(value).split()).casefold()


# ---------------------------------------------------------------- value lists

@dataclass
class ValueList:
    """One list of allowed values: {folded label or alias: stored value}, and the labels."""

    name: str
    by_text: dict
    labels: list

    def resolve(self, text, saved: dict):
        key = fold(text)
        if key in self.by_text:
            return self.by_text[key]
        target = saved.get(key)
        if target is not None and fold(target) in self.by_text:
            return self.by_text[fold(target)]
        return None

    def suggest(self, text) -> str | None:
        folded = {fold(label): label for label in self.labels}
        close = difflib.get_close_matches(fold(text), list(folded), n=1, cutoff=0.6)
        if close:
            return folded[close[0]]
        # "Dldung" against "Duldung/Gestattung": compare with the parts of compound labels.
        parts = {fold(part): label for label in self.labels for part in re.split(r"[/(),;]", label) if part.strip()}
        close = difflib.get_close_matches(fold(text), list(parts), n=1, cutoff=0.7)
        return parts[close[0]] if close else None


ALIASES = {
    "gender": {"w": "f", "weiblich": "f", "frau": "f", "männlich": "m", "mann": "m", "divers": "d",
               "keine angabe": "x", "k.a.": "x", "m": "m", "d": "d"},
    "complexity": {"ja": "complex", "nein": "one_off", "x": "complex", "1": "complex", "0": "one_off",
                   "komplex": "complex", "einmalig": "one_off", "true": "complex", "false": "one_off"},
    "appointment_kind": {"beratung": "counselling", "einzelberatung": "counselling", "sonstiger termin": "other",
                         "sonstiges": "other", "sonstige arbeit": "other"},
    "case_kind": {"cm": "case_management", "fallmanagement": "case_management"},
}


def _catalogue(model, field_name="label"):
    rows = model.objects.filter(active=True).values_list("pk", field_name)
    return {fold(label): pk for pk, label in rows}, [label for _, label in rows]


def load_value_lists() -> dict[str, ValueList]:
    """The district's catalogues (active entries) and the fixed lists, by name."""
    lists = {}
    fixed = {
        "gender": german_labels(Participant.Gender.choices),
        "residence_status": german_labels(Participant.ResidenceStatus.choices),
        "case_kind": {**german_labels(CaseKind.choices), **CASE_KINDS},
        "phase": german_labels(Phase.choices),
        "goal_status": german_labels(GoalStatus.choices),
        "appointment_kind": dict(APPOINTMENT_KINDS),
        "complexity": {"complex": "ja", "one_off": "nein"},
    }
    for name, choices in fixed.items():
        by_text = {fold(label): value for value, label in choices.items()}
        by_text.update({fold(value): value for value in choices})
        by_text.update(ALIASES.get(name, {}))
        labels = list(dict.fromkeys(choices.values()))
        # Case kinds have two German names (the workbook's and the form's); both are accepted.
        lists[name] = ValueList(name, by_text, labels)
    catalogues = {
        "municipality": (Municipality, "name"), "target_group": (TargetGroup, "label"),
        "referral_source": (ReferralSource, "label"), "closure_reason": (ClosureReason, "label"),
        "referral_target": (ReferralTarget, "label"), "goal_category": (GoalCategory, "label"),
        "topic": (Topic, "label"), "language_support": (LanguageSupportKind, "label"),
    }
    for name, (model, field_name) in catalogues.items():
        by_text, labels = _catalogue(model, field_name)
        lists[name] = ValueList(name, by_text, labels)
    return lists


# ---------------------------------------------------------------- columns and headers

def header_score(cells, kind) -> int:
    wanted = {simplify(h) for h in SHEETS[kind]} | {simplify(s) for h in SHEETS[kind] for s in HEADER_SYNONYMS.get(h, [])}
    return sum(1 for cell in cells if cell is not None and simplify(cell) in wanted)


def find_header_row(rows, kind) -> int:
    """The row among the first few that looks most like a header row (titles and notes
    above the table are common in hand-made files)."""
    best, best_score = 0, -1
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        score = header_score(row, kind)
        if score > best_score:
            best, best_score = index, score
    return best


def headers_of(rows, header_row) -> list[str]:
    """The header row's cells as text, the same for the first rows kept at upload and the sheet read in full."""
    if header_row >= len(rows):
        return []
    return [header_text(cell) or "" for cell in rows[header_row]]


def suggest_columns(headers: list[str], kind: str, saved: dict | None = None) -> dict[str, str]:
    """{standard column: file header}: the saved mapping first, then exact and similar names."""
    saved = saved or {}
    available = [h for h in headers if h]
    result = {}
    for column, header in saved.items():
        if column in SHEETS[kind] and header in available:
            result[column] = header
    candidates = []
    for column in SHEETS[kind]:
        if column in result:
            continue
        names = [column, *HEADER_SYNONYMS.get(column, [])]
        for header in available:
            score = max(difflib.SequenceMatcher(None, simplify(name), simplify(header)).ratio() for name in names)
            if score >= 0.8:
                candidates.append((score, column, header))
    taken = set(result.values())
    for _score, column, header in sorted(candidates, reverse=True):
        if column not in result and header not in taken:
            result[column] = header
            taken.add(header)
    return result


def suggest_sheet(sheet_names: list[str], kind: str, first_rows: dict[str, list]) -> str | None:
    names = [kind, *SHEET_SYNONYMS[kind]]
    for sheet in sheet_names:
        if any(simplify(sheet) == simplify(name) for name in names):
            return sheet
    scored = [(header_score(row, kind), sheet) for sheet in sheet_names
              for row in first_rows.get(sheet, [])[:HEADER_SEARCH_ROWS]]
    scored = [item for item in scored if item[0] >= 3]
    return max(scored)[1] if scored else None


# ---------------------------------------------------------------- problems and plan

@dataclass
class Problem:
    sheet: str
    row: int
    column: str
    message: str

    def as_dict(self):
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "message": self.message}

    def __str__(self):
        where = f"{self.sheet}, Zeile {self.row}" + (f", Spalte „{self.column}“" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class Table:
    """One mapped sheet: its rows, the header row, and {standard column: index}."""

    kind: str
    sheet: str
    rows: list
    header_row: int
    columns: dict
    merged: list = field(default_factory=list)


@dataclass
class Plan:
    problems: list = field(default_factory=list)
    problem_count: int = 0
    unknown: dict = field(default_factory=dict)  # {(list name, value): (column, count, suggestion)}
    records: dict = field(default_factory=lambda: defaultdict(list))
    summary: dict = field(default_factory=dict)

    def add(self, sheet, row, column, message):
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(Problem(sheet, row, column, message))

    @property
    def ok(self):
        return self.problem_count == 0


@dataclass
class Row:
    """A record read from one row: its values, where it came from, and what it matched."""

    number: int
    values: dict
    existing: object = None
    key: object = None


# ---------------------------------------------------------------- the importer

class Importer:
    def __init__(self, actor, case_manager, value_mapping: dict | None = None, progress=None):
        self.actor = actor
        self.case_manager = case_manager
        self.saved_values = value_mapping or {}
        self.progress = progress or (lambda done, total: None)
        self.lists = load_value_lists()
        self.today = timezone.localdate()
        self._case_cache, self._person_cache = {}, {}

    # ------------------------------------------------------------ reading cells

    def _cells(self, table: Table, plan: Plan):
        """(row number, {column: parsed value}) for each non-empty data row."""
        specs = {column.header: column for column in SPECS[table.kind]}
        merged_rows = {r for first, last in table.merged if last > table.header_row for r in range(first, last + 1)}
        for index in range(table.header_row + 1, len(table.rows)):
            raw = table.rows[index]
            if all(cell is None for cell in raw):
                continue
            number = index + 1
            if index in merged_rows:
                plan.add(table.sheet, number, "", "Die Zeile enthält verbundene Zellen. Bitte heben Sie den "
                                                  "Zellverbund auf und füllen Sie jede Zelle einzeln.")
                continue
            values = {}
            for header, position in table.columns.items():
                cell = raw[position] if position < len(raw) else None
                values[header] = self._parse(specs[header], cell, table.sheet, number, plan)
            for header, position in table.columns.items():
                cell = raw[position] if position < len(raw) else None
                if specs[header].required and cell is None:
                    plan.add(table.sheet, number, header, "Pflichtangabe fehlt.")
            yield number, values

    def _parse(self, spec: Column, cell, sheet, number, plan):
        if cell is None:
            return [] if spec.kind == "list" else None
        try:
            if spec.kind == "date":
                return parse_date(cell)
            if spec.kind == "number":
                value = parse_number(cell)
                if value != int(value):
                    raise ValueError(f"„{cell}“ ist keine ganze Zahl")
                return int(value)
            if spec.kind == "choice":
                return self._choice(spec, cell, sheet, number, plan)
            if spec.kind == "list":
                parts = [part.strip() for part in re.split(r"[;\n]", str(cell)) if part.strip()]
                values = [self._choice(spec, part, sheet, number, plan) for part in parts]
                return [value for value in values if value is not None]
        except ValueError as exc:
            plan.add(sheet, number, spec.header, f"{exc}.")
            return None
        text = _unneutralise(str(cell) if not isinstance(cell, float) else f"{cell:g}")
        if spec.kind == "key" and isinstance(cell, float) and cell.is_integer():
            text = str(int(cell))
        if spec.max_length and len(text) > spec.max_length:
            plan.add(sheet, number, spec.header, f"Der Text ist länger als {spec.max_length} Zeichen.")
            return None
        return text

    def _choice(self, spec: Column, cell, sheet, number, plan):
        value_list = self.lists[spec.values]
        text = str(cell).strip()
        resolved = value_list.resolve(text, self.saved_values.get(spec.values, {}))
        if resolved is None:
            suggestion = value_list.suggest(text)
            hint = f" – meinten Sie „{suggestion}“?" if suggestion else ""
            plan.add(sheet, number, spec.header, f"Unbekannter Wert „{text}“{hint}")
            key = (spec.values, text)
            column, count, _ = plan.unknown.get(key, (spec.header, 0, suggestion))
            plan.unknown[key] = (column, count + 1, suggestion)
        return resolved

    # ------------------------------------------------------------ check

    def check(self, tables: dict[str, Table], missing: dict | None = None) -> Plan:
        """`missing`: {kind: [required standard columns no column of the file is mapped to]}."""
        plan = Plan()
        for kind, headers in (missing or {}).items():
            for header in headers:
                plan.add(kind, 0, header, "Diese Pflichtspalte ist keiner Spalte der Datei zugeordnet.")
        if not plan.ok:
            return plan
        total = sum(max(len(t.rows) - t.header_row - 1, 0) for t in tables.values()) or 1
        self._done, self._total = 0, total
        participants = self._participants(tables.get("Teilnehmende"), plan)
        cases = self._cases(tables.get("Fälle"), participants, plan)
        self._goals(tables.get("Ziele"), cases, plan)
        self._appointments(tables.get("Termine"), cases, plan)
        plan.summary = self._summary(plan)
        return plan

    def _tick(self, count=1):
        self._done += count
        if self._done % 2000 == 0:
            self.progress(self._done, self._total)

    def _participants(self, table, plan) -> dict:
        """{Kennung: Row or existing Participant} of the file and of the database."""
        rows = {}
        if table is not None:
            for number, values in self._cells(table, plan):
                self._tick()
                key = values.get("Kennung")
                if not key:
                    continue
                if key in rows:
                    plan.add(table.sheet, number, "Kennung", f"Die Kennung „{key}“ steht schon in Zeile {rows[key].number}.")
                    continue
                given, withdrawn = values.get("Einwilligung am"), values.get("Einwilligung widerrufen am")
                if withdrawn and not given:
                    plan.add(table.sheet, number, "Einwilligung widerrufen am", "Widerruf ohne Datum der Einwilligung.")
                elif withdrawn and withdrawn < given:
                    plan.add(table.sheet, number, "Einwilligung widerrufen am", "Der Widerruf liegt vor der Einwilligung.")
                for header in ("Geburtsdatum", "Einreisedatum", "Einwilligung am"):
                    if values.get(header) and values[header] > self.today:
                        plan.add(table.sheet, number, header, "Das Datum liegt in der Zukunft.")
                birth, entry = values.get("Geburtsdatum"), values.get("Einreisedatum")
                if birth and birth.year < self.today.year - 120:
                    plan.add(table.sheet, number, "Geburtsdatum", "Bitte prüfen Sie das Geburtsdatum.")
                if birth and entry and entry < birth:
                    plan.add(table.sheet, number, "Einreisedatum", "Die Einreise liegt vor der Geburt.")
                rows[key] = Row(number, values)
            self._match_participants(rows, table, plan)
        return rows

    def _match_participants(self, rows, table, plan):
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
                plan.add(table.sheet, row.number, "Kennung", f"Die Kennung „{key}“ gehört bei Ihrem Träger zu einer "
                                                              "Person, deren Akte Sie nicht sehen. Bitte klären Sie das mit der Leitung.")
        plan.records["Teilnehmende"] = list(rows.values())

    def _participant_for(self, key, participants) -> tuple:
        """(Row of this file or None, existing Participant or None) for a Kennung."""
        row = participants.get(key)
        if row is not None:
            return row, row.existing
        if key not in self._person_cache:
            self._person_cache[key] = existing_participant(self.actor, key)
        return None, self._person_cache[key]

    def _consent_active(self, participant_row, participant, on: date) -> bool:
        if participant_row is not None and participant_row.values.get("Einwilligung am"):
            given = participant_row.values["Einwilligung am"]
            withdrawn = participant_row.values.get("Einwilligung widerrufen am")
            if given <= on and (withdrawn is None or withdrawn > on):
                return True
        if participant is not None:
            if not hasattr(participant, "_import_consents"):
                participant._import_consents = list(participant.consents.all())
            return any(consent.is_active(on) for consent in participant._import_consents)
        return False

    def _cases(self, table, participants, plan) -> dict:
        rows = {}
        if table is not None:
            for number, values in self._cells(table, plan):
                self._tick()
                key = values.get("Fall-Kennung")
                if not key:
                    continue
                if key in rows:
                    plan.add(table.sheet, number, "Fall-Kennung", f"Die Fall-Kennung „{key}“ steht schon in Zeile {rows[key].number}.")
                    continue
                row = Row(number, values)
                rows[key] = row
                self._check_case(table.sheet, row, participants, plan)
            self._match_cases(rows, table, plan)
        return rows

    def _check_case(self, sheet, row, participants, plan):
        values, number = row.values, row.number
        person_key = values.get("Teilnehmende-Kennung")
        if person_key:
            person_row, person = self._participant_for(person_key, participants)
            row.key = (person_row, person)
            if person_row is None and person is None:
                plan.add(sheet, number, "Teilnehmende-Kennung",
                         f"Keine Person mit der Kennung „{person_key}“ – weder im Blatt „Teilnehmende“ noch bei Ihnen.")
            elif values.get("Art") == CaseKind.CASE_MANAGEMENT and values.get("Beginn") and not self._consent_active(
                    person_row, person, values["Beginn"]):
                plan.add(sheet, number, "Beginn", "Für Case Management braucht es eine Einwilligung, die zum Beginn "
                                                  "gilt. Bitte tragen Sie „Einwilligung am“ bei der Person ein.")
        opened, closed = values.get("Beginn"), values.get("Ende")
        if opened and opened > self.today:
            plan.add(sheet, number, "Beginn", "Der Beginn liegt in der Zukunft.")
        if opened and closed and closed < opened:
            plan.add(sheet, number, "Ende", "Das Ende liegt vor dem Beginn.")
        if closed and closed > self.today:
            plan.add(sheet, number, "Ende", "Das Ende liegt in der Zukunft.")
        if values.get("Phase") and values.get("Art") != CaseKind.CASE_MANAGEMENT and values["Phase"] != Phase.CLOSED:
            plan.add(sheet, number, "Phase", "Phasen gibt es nur im Case Management.")
        if values.get("Art") == CaseKind.SCREENING and not values.get("Verwiesen an"):
            plan.add(sheet, number, "Verwiesen an", "Ein Screening braucht ein Ergebnis (eine Verweisung oder „kein Bedarf“).")
        if values.get("Phase") == Phase.CLOSED and not closed:
            plan.add(sheet, number, "Ende", "Die Phase ist „Abgeschlossen“, aber das Ende fehlt.")
        if values.get("Abschlussgrund") and not closed:
            plan.add(sheet, number, "Ende", "Ein Abschlussgrund ohne Ende des Falls.")

    def _match_cases(self, rows, table, plan):
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
                plan.add(table.sheet, rows[key].number, "Fall-Kennung",
                         f"Die Fall-Kennung „{key}“ gehört bei Ihrem Träger zu einem Fall, den Sie nicht sehen.")
        for key, row in rows.items():
            row.existing = found.get(key)
            person_row, person = row.key or (None, None)
            current = row.existing
            if current is not None and (person is None or current.participant_id != person.pk):
                plan.add(table.sheet, row.number, "Fall-Kennung",
                         f"Der Fall „{key}“ gehört bereits zu einer anderen Person. Bitte prüfen Sie die "
                         "Fall-Kennung (eine eigene Fallnummer darf nicht wie F-00042 aussehen).")
            if current is not None and row.values.get("Art") and row.values["Art"] != current.kind:
                plan.add(table.sheet, row.number, "Art", "Die Art eines bestehenden Falls kann nicht geändert werden.")
            if current is not None and current.closed_on and row.values.get("Phase") not in (None, Phase.CLOSED):
                plan.add(table.sheet, row.number, "Phase", "Der Fall ist abgeschlossen; die Phase bleibt „Abgeschlossen“.")
            if current is not None and current.closed_on and "Ende" in row.values and not row.values["Ende"]:
                plan.add(table.sheet, row.number, "Ende", "Der Fall ist bereits abgeschlossen und kann nicht wieder "
                                                          "geöffnet werden. Bitte legen Sie einen neuen Fall an.")
        plan.records["Fälle"] = list(rows.values())

    def _case_for(self, key, cases):
        """(Row of this file or None, the existing case or None) for a Fall-Kennung."""
        row = cases.get(key)
        if row is not None:
            return row, row.existing
        if key not in self._case_cache:
            self._case_cache[key] = existing_case(self.actor, key)
        return None, self._case_cache[key]

    def _case_facts(self, key, cases):
        """What the rules need of a case, from the file (which wins) or the database."""
        row, case = self._case_for(key, cases)
        if row is not None:
            person_row, person = row.key or (None, None)
            return {"opened_on": row.values.get("Beginn"), "kind": row.values.get("Art"),
                    "person_row": person_row, "person": person}
        if case is not None:
            return {"opened_on": case.opened_on, "kind": case.kind, "person_row": None, "person": case.participant}
        return None

    def _goals(self, table, cases, plan):
        if table is None:
            return
        rows = []
        for number, values in self._cells(table, plan):
            self._tick()
            key = values.get("Fall-Kennung")
            if not key:
                continue
            facts = self._case_facts(key, cases)
            if facts is None:
                plan.add(table.sheet, number, "Fall-Kennung", f"Kein Fall mit der Kennung „{key}“ – weder im Blatt „Fälle“ noch bei Ihnen.")
                continue
            agreed, since = values.get("vereinbart am"), values.get("Status seit")
            if agreed and facts["opened_on"] and agreed < facts["opened_on"]:
                plan.add(table.sheet, number, "vereinbart am", "Das Ziel ist vor dem Beginn des Falls vereinbart.")
            if agreed and agreed > self.today:
                plan.add(table.sheet, number, "vereinbart am", "Das Datum liegt in der Zukunft.")
            if since and agreed and since < agreed:
                plan.add(table.sheet, number, "Status seit", "Der Status kann sich nicht vor der Vereinbarung ändern.")
            if since and since > self.today:
                plan.add(table.sheet, number, "Status seit", "Das Datum liegt in der Zukunft.")
            if facts["kind"] == CaseKind.CASE_MANAGEMENT and agreed and not self._consent_active(
                    facts["person_row"], facts["person"], agreed):
                plan.add(table.sheet, number, "vereinbart am", "Zu diesem Datum gilt keine Einwilligung der Person.")
            rows.append(Row(number, values, key=key))
        plan.records["Ziele"] = rows

    def _appointments(self, table, cases, plan):
        if table is None:
            return
        rows = []
        for number, values in self._cells(table, plan):
            self._tick()
            key = values.get("Fall-Kennung")
            facts = None
            if key:
                facts = self._case_facts(key, cases)
                if facts is None:
                    plan.add(table.sheet, number, "Fall-Kennung",
                             f"Termin für einen unbekannten Fall „{key}“ – weder im Blatt „Fälle“ noch bei Ihnen.")
                    continue
            self._complete_appointment(values, facts)
            self._check_appointment(table.sheet, number, values, facts, plan)
            rows.append(Row(number, values, key=key or ""))
        plan.records["Termine"] = rows

    def _complete_appointment(self, values, facts):
        """Defaults of a hand-made file: counselling when there is a case, complexity from the kind of case."""
        if not values.get("Art"):
            values["Art"] = Appointment.Kind.COUNSELLING if facts else Appointment.Kind.OTHER
        if values["Art"] == Appointment.Kind.OTHER:
            values["komplex"] = ""
        if values["Art"] == Appointment.Kind.COUNSELLING and not values.get("komplex") and facts:
            values["komplex"] = (Appointment.Complexity.COMPLEX if facts["kind"] == CaseKind.CASE_MANAGEMENT
                                 else Appointment.Complexity.ONE_OFF)

    def _check_appointment(self, sheet, number, values, facts, plan):
        """The rules of `record_appointment`, row by row (without a query per row)."""
        day, minutes = values.get("Datum"), values.get("Dauer (Minuten)")
        if minutes is not None and not 5 <= minutes <= 600:
            plan.add(sheet, number, "Dauer (Minuten)", "Die Dauer muss zwischen 5 und 600 Minuten liegen.")
        if values["Art"] == Appointment.Kind.COUNSELLING and not values.get("Themen"):
            plan.add(sheet, number, "Themen", "Für eine Beratung fehlt das Thema (mindestens eines).")
        if values["Art"] == Appointment.Kind.COUNSELLING and facts is None:
            plan.add(sheet, number, "Fall-Kennung", "Eine Beratung gehört zu einem Fall: die Fall-Kennung fehlt.")
        if day is None:
            return
        if (day - self.today).days > MAX_DAYS_AHEAD:
            plan.add(sheet, number, "Datum", "Das Datum liegt mehr als ein Jahr in der Zukunft.")
        if facts is not None and facts["opened_on"] and day < facts["opened_on"]:
            plan.add(sheet, number, "Datum", "Der Termin liegt vor dem Beginn des Falls.")
        if facts is not None and facts["kind"] == CaseKind.CASE_MANAGEMENT and not self._consent_active(
                facts["person_row"], facts["person"], day):
            plan.add(sheet, number, "Datum", "Zu diesem Datum gilt keine Einwilligung der Person (Case Management).")

    # ------------------------------------------------------------ summary

    def _summary(self, plan) -> dict:
        summary = {}
        for kind in SHEETS:
            rows = plan.records.get(kind)
            if rows is None:
                continue
            matched = sum(1 for row in rows if row.existing is not None)
            summary[kind] = {"Zeilen": len(rows), "schon vorhanden": matched, "neu": len(rows) - matched}
        return summary

    # ------------------------------------------------------------ commit

    def commit(self, tables: dict[str, Table], label: str, missing: dict | None = None, on_written=None) -> Plan:
        """Check, then write everything or nothing. Returns the plan with the counts written;
        `on_written(summary)` runs inside the transaction (for the import's own audit entry)."""
        plan = self.check(tables, missing)
        if not plan.ok:
            return plan
        self.progress(self._total, self._total)
        with transaction.atomic():
            writer = _Writer(self, label)
            persons = writer.participants(plan.records.get("Teilnehmende", []))
            cases = writer.cases(plan.records.get("Fälle", []), persons)
            writer.goals(plan.records.get("Ziele", []), cases)
            writer.appointments(plan.records.get("Termine", []), cases)
            writer.flush_audit()
            plan.summary = {kind: dict(counter) for kind, counter in writer.counts.items()}
            if on_written:
                on_written(plan.summary)
        return plan


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


def _unneutralise(text: str) -> str:
    """Our own export writes '=… for a text beginning with a formula sign; read it back as it was."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text


def _chunks(items, size=500):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


# ---------------------------------------------------------------- writing

PARTICIPANT_FIELDS = {
    "Vorname": "first_name", "Nachname": "last_name", "Geburtsdatum": "birth_date", "Geschlecht": "gender",
    "Staatsangehörigkeit": "nationalities", "Sprachen": "languages", "Kommune": "municipality_id",
    "Einreisedatum": "entry_date", "Aufenthaltsstatus": "residence_status",
}
CASE_FIELDS = {
    "Art": "kind", "Zielgruppe": "target_group_id", "Zugangsweg": "referral_source_id", "Kommune": "municipality_id",
    "Beginn": "opened_on", "Phase": "phase", "Ende": "closed_on", "Abschlussgrund": "closure_reason_id",
    "Verwiesen an": "screening_outcome_id",
}
GOAL_FIELDS = {"Status": "status", "Status seit": "status_changed_on"}
APPOINTMENT_FIELDS = {"komplex": "complexity", "Dauer (Minuten)": "duration_minutes"}
TEXT_FIELDS = {"nationalities", "languages", "residence_status", "complexity"}


class _Writer:
    """Writes a checked plan in bulk; every created or changed record gets its audit entry."""

    def __init__(self, importer: Importer, label: str):
        self.actor = importer.actor
        self.case_manager = importer.case_manager
        self.district_id = importer.actor.district_id
        self.provider_id = importer.actor.provider_id
        self.label = label
        self.audit = []
        self.counts = {}

    def _count(self, kind, outcome):
        self.counts.setdefault(kind, Counter())[outcome] += 1

    def _audit(self, obj, action, changes, label=None):
        # Collected and written in bulk; district and provider given, as reading them from
        # consents and goals would cost a query each.
        self.audit.append(audit.entry(self.actor, action, obj, changes={"import": self.label, **changes},
                                      district_id=self.district_id, provider_id=self.provider_id, label=label))
        if len(self.audit) >= 2000:
            self.flush_audit()

    def flush_audit(self):
        AuditEntry.objects.bulk_create(self.audit, batch_size=1000)
        self.audit = []

    def _apply(self, obj, values: dict, mapping: dict) -> dict:
        """Set the mapped columns present in the file onto `obj`; {field: [before, after]} of changes."""
        changes = {}
        for header, field_name in mapping.items():
            if header not in values:
                continue
            value = values[header]
            if value is None and field_name in TEXT_FIELDS:
                value = ""
            before = getattr(obj, field_name)
            if before != value:
                changes[field_name] = [audit.plain(before), audit.plain(value)]
                setattr(obj, field_name, value)
        return changes

    # participants ----------------------------------------------------------

    def participants(self, rows) -> dict:
        households = {}
        created, updated = [], []
        for row in rows:
            values = row.values
            if "Geschlecht" in values and values["Geschlecht"] is None:
                values["Geschlecht"] = Participant.Gender.UNSTATED
            person = row.existing
            if person is None:
                person = Participant(district_id=self.district_id, provider_id=self.provider_id,
                                     responsible=self.case_manager, external_id=values["Kennung"])
                self._apply(person, values, PARTICIPANT_FIELDS)
                person.save()  # one by one: each needs its generated code
                created.append((row, person))
            else:
                changes = self._apply(person, values, PARTICIPANT_FIELDS)
                if changes:
                    person.save(update_fields=[f.removesuffix("_id") if f.endswith("_id") else f for f in changes])
                    self._audit(person, AuditEntry.Action.UPDATE, changes)
                    self._count("Teilnehmende", "geändert")
                else:
                    self._count("Teilnehmende", "unverändert")
                updated.append((row, person))
            if values.get("Haushalt"):
                self._household(person, values["Haushalt"], households)
        for _row, person in created:
            self._audit(person, AuditEntry.Action.IMPORT, {
                field_name: [None, audit.plain(getattr(person, field_name))] for field_name in PARTICIPANT_FIELDS.values()})
            self._count("Teilnehmende", "neu")
        for row, person in created + updated:
            self._consent(person, row.values)
        return {row.values["Kennung"]: person for row, person in created + updated}

    def _household(self, person, name, households):
        household = households.get(name)
        if household is None:
            household = Household.objects.visible_to(self.actor).filter(name=name).first()
            if household is None:
                household = Household.objects.create(district_id=self.district_id, provider_id=self.provider_id, name=name)
                self._audit(household, AuditEntry.Action.IMPORT, {"name": [None, name]})
            households[name] = household
        if person.household_id != household.pk:
            self._audit(person, AuditEntry.Action.UPDATE, {"household": [person.household_id, household.pk]})
            person.household = household
            person.save(update_fields=["household"])

    def _consent(self, person, values):
        given, withdrawn = values.get("Einwilligung am"), values.get("Einwilligung widerrufen am")
        if not given:
            return
        consent = person.consents.filter(given_on=given).first()
        if consent is None:
            consent = Consent.objects.create(participant=person, given_on=given, withdrawn_on=withdrawn,
                                             note="Import")
            self._audit(consent, AuditEntry.Action.IMPORT, {"given_on": [None, given.isoformat()],
                                                           "withdrawn_on": [None, audit.plain(withdrawn)]})
            self._count("Einwilligungen", "neu")
        elif consent.withdrawn_on is None and withdrawn is not None:
            self._audit(consent, AuditEntry.Action.UPDATE, {"withdrawn_on": [audit.plain(consent.withdrawn_on), withdrawn.isoformat()]})
            consent.withdrawn_on = withdrawn
            consent.save(update_fields=["withdrawn_on"])
            self._count("Einwilligungen", "geändert")

    # cases -----------------------------------------------------------------

    def cases(self, rows, persons) -> dict:
        new, changed = [], []
        result = {}
        for row in rows:
            values = dict(row.values)
            person = persons.get(values["Teilnehmende-Kennung"]) or (row.key[1] if row.key else None)
            if values.get("Kommune") is None and "Kommune" in values:
                del values["Kommune"]
            if values.get("Ende"):
                values["Phase"] = Phase.CLOSED
            elif values.get("Phase") is None:
                values.pop("Phase", None)
            case = row.existing
            if case is None:
                case = Case(district_id=self.district_id, provider_id=self.provider_id, participant=person,
                            case_manager=self.case_manager, external_id=values["Fall-Kennung"],
                            municipality_id=person.municipality_id, phase=Phase.INTAKE)
                self._apply(case, values, CASE_FIELDS)
                new.append(case)
            else:
                changes = self._apply(case, values, CASE_FIELDS)
                if changes:
                    changed.append((case, changes))
                else:
                    self._count("Fälle", "unverändert")
            result[values["Fall-Kennung"]] = case
        Case.objects.bulk_create(new, batch_size=1000)
        for case in new:
            self._audit(case, AuditEntry.Action.IMPORT, {f: [None, audit.plain(getattr(case, f))] for f in CASE_FIELDS.values()})
            self._count("Fälle", "neu")
        if changed:
            Case.objects.bulk_update([c for c, _ in changed], list(CASE_FIELDS.values()), batch_size=1000)
        for case, changes in changed:
            self._audit(case, AuditEntry.Action.UPDATE, changes)
            self._count("Fälle", "geändert")
        return result

    def _case(self, key, cases):
        if key not in cases:
            cases[key] = existing_case(self.actor, key)
        return cases[key]

    # goals -----------------------------------------------------------------

    def goals(self, rows, cases):
        by_case = defaultdict(list)
        for row in rows:
            by_case[self._case(row.key, cases).pk].append(row)
        existing = {}
        for chunk in _chunks(list(by_case)):
            for goal in Goal.objects.visible_to(self.actor).filter(case_id__in=chunk):
                existing.setdefault((goal.case_id, goal.category_id, fold(goal.text), goal.agreed_on), goal)
        new, changed = [], []
        for case_id, case_rows in by_case.items():
            for row in case_rows:
                values = row.values
                key = (case_id, values["Zielkategorie"], fold(values["Beschreibung"]), values["vereinbart am"])
                goal = existing.get(key)
                if "Status" in values and values["Status"] is None:
                    values["Status"] = GoalStatus.OPEN
                if goal is None or "Status seit" in values:
                    values["Status seit"] = values.get("Status seit") or values["vereinbart am"]
                if goal is None:
                    goal = Goal(case_id=case_id, category_id=values["Zielkategorie"], text=values["Beschreibung"],
                                agreed_on=values["vereinbart am"])
                    self._apply(goal, values, GOAL_FIELDS)
                    new.append(goal)
                    existing[key] = goal
                else:
                    changes = self._apply(goal, values, GOAL_FIELDS)
                    if changes:
                        changed.append((goal, changes))
                    else:
                        self._count("Ziele", "unverändert")
        Goal.objects.bulk_create(new, batch_size=1000)
        for goal in new:
            self._audit(goal, AuditEntry.Action.IMPORT, {"category": [None, goal.category_id], "text": [None, goal.text],
                                                         "agreed_on": [None, goal.agreed_on.isoformat()],
                                                         "status": [None, goal.status]})
            self._count("Ziele", "neu")
        if changed:
            Goal.objects.bulk_update([g for g, _ in changed], list(GOAL_FIELDS.values()), batch_size=1000)
        for goal, changes in changed:
            self._audit(goal, AuditEntry.Action.UPDATE, changes)
            self._count("Ziele", "geändert")

    # appointments ----------------------------------------------------------

    def appointments(self, rows, cases):
        """Written in batches as they are matched, so that memory holds one batch of new
        records, not all of them; existing ones are read as plain tuples."""
        groups = defaultdict(list)
        for row in rows:
            case = self._case(row.key, cases) if row.key else None
            groups[(case.pk if case else None, row.values["Datum"], row.values["Art"])].append((row, case))
        existing = self._existing_appointments(groups)
        pending, changed = [], []
        for group_key, items in groups.items():
            matches = existing.get(group_key, [])
            for index, (row, case) in enumerate(items):
                values = row.values
                topics, support = values.get("Themen") or [], values.get("Sprachmittlung") or []
                if index < len(matches):
                    pk, complexity, minutes, old_topics, old_support = matches[index]
                    appointment = Appointment(pk=pk, complexity=complexity, duration_minutes=minutes)
                    changes = self._apply(appointment, values, APPOINTMENT_FIELDS)
                    if "Themen" in values and sorted(set(topics)) != old_topics:
                        changes["topics"] = [old_topics, sorted(set(topics))]
                    if "Sprachmittlung" in values and sorted(set(support)) != old_support:
                        changes["language_support"] = [old_support, sorted(set(support))]
                    if changes:
                        changed.append((appointment, changes, topics, support))
                    else:
                        self._count("Termine", "unverändert")
                    continue
                counselling = values["Art"] == Appointment.Kind.COUNSELLING
                appointment = Appointment(
                    district_id=self.district_id, provider_id=self.provider_id,
                    case_manager_id=case.case_manager_id if case else self.case_manager.pk,
                    case_id=case.pk if case else None, kind=values["Art"], date=values["Datum"],
                    duration_minutes=values["Dauer (Minuten)"],
                    complexity=(values.get("komplex") or "") if counselling else "",
                    other_kind="" if counselling else Appointment.OtherKind.OTHER,
                )
                pending.append((appointment, topics, support))
                if len(pending) >= 2000:
                    self._create_appointments(pending)
                    pending = []
        self._create_appointments(pending)
        if changed:
            Appointment.objects.bulk_update([a for a, *_ in changed], list(APPOINTMENT_FIELDS.values()), batch_size=1000)
            for appointment, changes, topics, support in changed:
                if "topics" in changes:
                    appointment.topics.set(set(topics))
                if "language_support" in changes:
                    appointment.language_support.set(set(support))
                self._audit(appointment, AuditEntry.Action.UPDATE, changes, label=f"T-{appointment.pk}")
                self._count("Termine", "geändert")

    def _create_appointments(self, batch):
        if not batch:
            return
        topic_model = Appointment.topics.through
        support_model = Appointment.language_support.through
        Appointment.objects.bulk_create([a for a, _, _ in batch])
        topic_model.objects.bulk_create(
            [topic_model(appointment_id=a.pk, topic_id=t) for a, topics, _ in batch for t in set(topics)])
        support_model.objects.bulk_create(
            [support_model(appointment_id=a.pk, languagesupportkind_id=s) for a, _, support in batch for s in set(support)])
        for appointment, topics, _support in batch:
            self._audit(appointment, AuditEntry.Action.IMPORT, {
                "date": [None, appointment.date.isoformat()], "kind": [None, appointment.kind],
                "duration_minutes": [None, appointment.duration_minutes], "topics": [None, sorted(set(topics))]},
                label=f"F-{appointment.case_id:05d}" if appointment.case_id else f"T-{appointment.pk}")
            self._count("Termine", "neu")

    def _existing_appointments(self, groups) -> dict:
        """{(case id, date, kind): [(pk, complexity, minutes, topic ids, support ids)]} in order of creation."""
        case_ids = {case_id for case_id, _, _ in groups if case_id}
        visible = Appointment.objects.visible_to(self.actor)
        fields = ("pk", "case_id", "date", "kind", "complexity", "duration_minutes")
        found = []
        for chunk in _chunks(case_ids):
            found += list(visible.filter(case_id__in=chunk).values_list(*fields))
        if any(case_id is None for case_id, _, _ in groups):
            dates = {day for case_id, day, _ in groups if case_id is None}
            found += list(visible.filter(case__isnull=True, case_manager=self.case_manager, date__in=dates)
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

