"""Mapping a file onto the standard workbook, the second step of the import (read → map →
check → write): which sheet and which column of the file holds which part and column of the
workbook (suggested from the headers, saved per provider), and what each cell means: dates,
numbers, and values of the district's lists (catalogues and fixed choices), with the value
mappings a provider saved. Problems of single cells go into the plan; nothing is looked up
in the records here."""

import difflib
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from kim.casework.models import CaseKind

from .plan import Plan
from .readers import header_text
from .workbook import (
    ACROSS_TOWNS,
    CATALOGUES,
    DISTRICT_ADMINISTRATION,
    NONE,
    SHEETS,
    SPECS,
    Column,
    fixed_lists,
    german_labels,
)

HEADER_SEARCH_ROWS = 15

# Headers seen in case managers' own files, for the suggested column mapping.
HEADER_SYNONYMS = {
    "Kennung": ["ID", "Nr", "Nummer", "TN-Nr", "Teilnehmer-ID", "Teilnehmernummer", "Klient-Nr", "Kunden-Nr", "Lfd. Nr."],
    "Termin-Kennung": ["Termin-ID", "Termin-Nr", "Terminnummer"],
    "Ziel-Kennung": ["Ziel-ID", "Ziel-Nr", "Zielnummer"],
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
    "Telefon": ["Tel.", "Telefonnummer", "Handy", "Mobil"],
    "E-Mail": ["Email", "Mail", "E-Mail-Adresse"],
    "Anschrift": ["Adresse", "Straße", "Wohnanschrift"],
    "Verantwortlich": ["zuständig", "Fachkraft", "Case Manager*in"],
    "Case Manager*in": ["Case Manager", "Case Managerin", "Fachkraft", "Berater", "Beraterin", "Bearbeitung"],
    "Einwilligungs-Kennung": ["Einwilligungs-ID", "Einwilligung-Nr"],
    "erteilt am": ["Einwilligung am", "Datum der Einwilligung", "Einwilligung vom"],
    "widerrufen am": ["Widerruf", "Widerruf am", "Einwilligung widerrufen am"],
    "Verarbeitung": ["Datenverarbeitung", "Einwilligung Verarbeitung"],
    "Schweigepflichtentbindung für": ["Schweigepflichtentbindung", "Entbindung für", "Freigabe für"],
    "Assessment-Kennung": ["Assessment-ID", "Assessment-Nr", "Assessment"],
    "vorheriges Assessment": ["Vorgänger", "vorheriges"],
    "Zusammenfassung": ["Fazit", "Ergebnis"],
    "verfasst von": ["Autor", "Autorin", "erstellt von"],
    "Lebensbereich": ["Bereich", "Lebenslage"],
    "Bedarf": ["Handlungsbedarf", "Unterstützungsbedarf"],
    "fällig am": ["fällig", "Zieldatum"],
    "Maßnahmen-Kennung": ["Maßnahmen-ID", "Maßnahme-Nr"],
    "Was": ["Maßnahme", "Schritt", "Aufgabe"],
    "Wer": ["zuständig", "Verantwortlich"],
    "bis": ["Frist", "bis wann"],
    "erledigt am": ["erledigt", "Erledigung"],
    "Verweis-Kennung": ["Verweis-ID", "Verweis-Nr"],
    "Art der Tätigkeit": ["Tätigkeit", "Art der Arbeit"],
    "Ort": ["Beratungsort", "Wo"],
    "Thematisches Angebot": ["Angebot"],
    "Zielgruppe des Angebots": ["Teilnehmende des Angebots", "Publikum"],
    "Bemerkung": ["Notiz", "Anmerkung", "Kommentar"],
    "Stellen-Kennung": ["Stellen-Nr", "Stellennummer", "Stellen-ID", "Stelle-Nr"],
    "Modul": ["Baustein", "Förderbaustein", "KIM-Modul"],
    "Funktion": ["Stelle", "Stellenart", "Aufgabe", "Tätigkeit"],
    "Bezeichnung": ["Stellenbezeichnung", "Titel"],
    "Träger": ["Arbeitgeber", "Anstellungsträger", "Anstellungsträger*in", "Dienststelle"],
    "VZÄ bewilligt": ["bewilligt", "bewilligte VZÄ", "bewilligte Stellen", "Stellen bewilligt", "VZÄ (bewilligt)",
                      "Stellenanteil bewilligt"],
    "VZÄ besetzt": ["besetzt", "besetzte VZÄ", "besetzte Stellen", "Stellen besetzt", "VZÄ (besetzt)"],
    "VZÄ noch nicht besetzt": ["noch nicht besetzt", "noch nicht besetzte Stellen", "nicht besetzt", "unbesetzt",
                               "vakant", "VZÄ vakant", "VZÄ (noch nicht besetzt)"],
    "Stichtag": ["Stand", "Stand am", "Datum", "zum"],
    "bewilligt ab": ["Bewilligung ab", "Beginn der Bewilligung", "Förderbeginn"],
    "bewilligt bis": ["Bewilligung bis", "Ende der Bewilligung", "Förderende"],
    "besetzt ab": ["Besetzung ab", "Eintritt", "Stellenantritt"],
    "Weiterleitung an": ["weitergeleitet an", "Weiterleitung", "Mittel weitergeleitet an"],
    "Person": ["Stelleninhaber*in", "Stelleninhaberin", "Stelleninhaber", "Name", "Mitarbeiter*in"],
}
SHEET_SYNONYMS = {
    "Teilnehmende": ["Teilnehmer", "Personen", "Klienten", "Stammdaten"],
    "Fälle": ["Faelle", "Fall", "Fallübersicht"],
    "Ziele": ["Zielvereinbarung", "Zielvereinbarungen"],
    "Termine": ["Beratungen", "Kontakte", "Termin", "Zeiterfassung"],
    "Einwilligungen": ["Einwilligung", "Datenschutz", "Schweigepflichtentbindungen"],
    "Assessments": ["Assessment", "Einschätzungen"],
    "Lebensbereiche": ["Lebensbereich", "Assessment-Lebensbereiche"],
    "Maßnahmen": ["Massnahmen", "Hilfeplan", "Schritte"],
    "Verweise": ["Verweisungen", "Weitervermittlungen", "Verweis"],
    "Stellen": ["Stellenplan", "Stellenübersicht", "Stellenbesetzung", "Personalausstattung", "Personal", "Stelle"],
}
assert set(SHEET_SYNONYMS) == set(SHEETS)


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

    loose: dict = field(default_factory=dict)  # {simplified text: stored value}: "Case Management-KIM"

    def resolve(self, text, saved: dict):
        key = fold(text)
        if key in self.by_text:
            return self.by_text[key]
        target = saved.get(key)
        if target is not None and fold(target) in self.by_text:
            return self.by_text[fold(target)]
        if self.loose and simplify(text) in self.loose:
            return self.loose[simplify(text)]
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


YES = {"ja": True, "j": True, "x": True, "1": True, "wahr": True, "true": True,
       "nein": False, "n": False, "0": False, "falsch": False, "false": False}
ALIASES = {
    "gender": {"w": "f", "weiblich": "f", "frau": "f", "männlich": "m", "mann": "m", "divers": "d",
               "keine angabe": "x", "k.a.": "x", "m": "m", "d": "d"},
    "complexity": {**{text: "complex" if yes else "one_off" for text, yes in YES.items()},
                   "komplex": "complex", "einmalig": "one_off"},
    "yes_no": YES,
    "appointment_kind": {"beratung": "counselling", "einzelberatung": "counselling", "sonstiger termin": "other",
                         "sonstiges": "other", "sonstige arbeit": "other"},
    "case_kind": {"cm": "case_management", "fallmanagement": "case_management"},
    "assessment_kind": {"erstassessment": "initial", "reassessment": "reassessment"},
    "need": {str(level): level for level in range(5)},
}
# Spellings of modules and functions in the districts' own staffing tables, compared without
# case, spaces, dashes and umlauts ("Case Management-KIM", "Modul 1", "1", "ABH").
LOOSE = {
    "module": {
        "1": ["1", "1.0", "Modul 1", "M1", "Baustein 1", "Modul 1 strategische Steuerung", "Modul I"],
        "2": ["2", "2.0", "Modul 2", "M2", "Baustein 2", "Modul 2 Case Management", "Modul II"],
        "3": ["3", "3.0", "Modul 3", "M3", "Baustein 3", "Modul 3 ABH EBH", "Modul III"],
    },
    "function": {
        "coordination": ["Koordination", "Koordinierung", "Koordination KIM", "KIM-Koordination", "Koordinator",
                         "Koordinatorin", "Koordinator*in", "Kommunale Koordinierung", "Strategische Steuerung",
                         "Koordinierungsstelle"],
        "administration": ["Verwaltung", "Verwaltungsassistenz", "Verwaltungskraft", "Verwaltungsfachkraft",
                           "Assistenz", "Sachbearbeitung", "Verwaltungsassistenz KIM", "Administration"],
        "case_management": ["Case Management", "Case Management-KIM", "Case Management KIM", "KIM-Case-Management",
                            "CM", "CM-KIM", "Fallmanagement", "Case Manager", "Case Managerin", "Case Manager*in",
                            "Case Management (kommunal)", "externes Case Management"],
        "thematic_case_management": ["Thematisches Case Management", "Thematisches CM", "MuKi-S", "MuKiS",
                                     "Case Management thematisch"],
        "case_management_coordination": ["Koordination Case Management", "Koordination CM", "CM-Koordination",
                                         "Case-Management-Koordination", "Koordination des Case Managements",
                                         "Koordination Case Management-KIM", "Leitung Case Management",
                                         "Teamleitung Case Management"],
        "foreigners_office": ["Ausländerbehörde", "ABH", "Ausländeramt", "Ausländerbehörde (ABH)", "Zuwanderung"],
        "naturalisation_office": ["Einbürgerungsbehörde", "EBH", "Einbürgerung", "Einbürgerungsbehörde (EBH)",
                                  "Staatsangehörigkeitsbehörde", "Einbürgerungsstelle"],
    },
}


def _catalogue(model, field_name="label"):
    """Every entry is read (a deactivated one still names the records of earlier years);
    only active ones are offered."""
    rows = model.objects.values_list("pk", field_name, "active")
    return {fold(label): pk for pk, label, _ in rows}, [label for _, label, active in rows if active]


def importable_case_managers(actor):
    """Whose caseload an import may fill: a case manager's own; a lead's choice of the provider's staff."""
    from kim.core.models import Role, User

    if actor.is_provider_lead:
        return User.objects.filter(provider_id=actor.provider_id, is_active=True,
                                   role__in=[Role.CASE_MANAGER, Role.PROVIDER_LEAD]).order_by("last_name", "username")
    return User.objects.filter(pk=actor.pk)


def staff_name(user) -> str:
    """How the workbook names a member of staff."""
    return user.get_full_name() or user.username


def _staff(actor) -> ValueList:
    """The staff a file may name as case manager or author: by name, or by user name where two
    share a name."""
    users = list(importable_case_managers(actor))
    names = Counter(fold(staff_name(user)) for user in users)
    by_text = {fold(user.username): user.pk for user in users}
    by_text.update({fold(staff_name(user)): user.pk for user in users if names[fold(staff_name(user))] == 1})
    return ValueList("staff", by_text, [staff_name(user) for user in users])


def load_value_lists(actor=None) -> dict[str, ValueList]:
    """The district's catalogues, the fixed lists and (for `actor`) the staff, by name."""
    lists = {"staff": _staff(actor)} if actor is not None else {}
    fixed = fixed_lists()
    # Case kinds have two German names (the workbook's and the form's); both are accepted.
    fixed["case_kind"] = {**german_labels(CaseKind.choices), **fixed["case_kind"]}
    for name, choices in fixed.items():
        by_text = {fold(label): value for value, label in choices.items()}
        by_text.update({fold(value): value for value in choices if isinstance(value, str)})
        by_text.update(ALIASES.get(name, {}))
        lists[name] = ValueList(name, by_text, list(dict.fromkeys(choices.values())))
    for name, entries in LOOSE.items():
        lists[name].loose = {simplify(text): value for value, texts in entries.items() for text in texts}
    for name, (model, field_name) in CATALOGUES.items():
        by_text, labels = _catalogue(model, field_name)
        lists[name] = ValueList(name, by_text, labels)
    if actor is not None and actor.district_id:
        lists.update(staffing_lists(actor.district))
    return lists


def staffing_lists(district) -> dict[str, ValueList]:
    """Kommune and Träger of the sheet "Stellen": the district's towns and "kommunenübergreifend"
    (NONE: across towns); its providers and the district's own name or "Kreisverwaltung"
    (NONE: the district administration employs)."""
    from kim.core.models import Municipality, Provider

    towns, town_labels = _catalogue(Municipality, "name")
    towns.update({fold(ACROSS_TOWNS): NONE, "kommunenuebergreifend": NONE, "kreisweit": NONE, "alle kommunen": NONE})
    providers, provider_labels = _catalogue(Provider, "name")
    providers.update({fold(district.name): NONE, fold(DISTRICT_ADMINISTRATION): NONE, "kreis": NONE})
    return {
        "position_municipality": ValueList("position_municipality", towns, [ACROSS_TOWNS, *town_labels]),
        "employer": ValueList("employer", providers, [DISTRICT_ADMINISTRATION, *provider_labels]),
    }


# ---------------------------------------------------------------- sheets, header rows and columns

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


def suggest_sheets(sheet_names: list[str], first_rows: dict[str, list], kinds=tuple(SHEETS)) -> dict[str, str]:
    """{part of the workbook: sheet}: first the sheets named like a part, then, for the parts
    left, the sheets whose headers look most like one (a sheet stands for one part only).
    `kinds`: the parts to look for (those the uploader may import)."""
    chosen = {}
    for kind in kinds:
        names = {simplify(name) for name in [kind, *SHEET_SYNONYMS[kind]]}
        sheet = next((sheet for sheet in sheet_names if simplify(sheet) in names and sheet not in chosen.values()), None)
        if sheet is not None:
            chosen[kind] = sheet
    scored = sorted(((max((header_score(row, kind) for row in first_rows.get(sheet, [])[:HEADER_SEARCH_ROWS]), default=0),
                      -index, kind, sheet) for index, kind in enumerate(kinds) if kind not in chosen
                     for sheet in sheet_names if sheet not in chosen.values()), reverse=True)
    for score, _order, kind, sheet in scored:
        if score >= 3 and kind not in chosen and sheet not in chosen.values():
            chosen[kind] = sheet
    return {kind: chosen[kind] for kind in kinds if kind in chosen}


# ---------------------------------------------------------------- cells

@dataclass
class Table:
    """One mapped sheet: its rows, the header row, and {standard column: index}."""

    kind: str
    sheet: str
    rows: list
    header_row: int
    columns: dict
    merged: list = field(default_factory=list)


def map_rows(table: Table, lists: dict, saved_values: dict, plan: Plan):
    """(row number, {column: value}) for each non-empty data row of `table`; problems of
    single cells (not a date, unknown value, missing required value) go into `plan`."""
    specs = {column.header: column for column in SPECS[table.kind]}
    columns = [(header, position, specs[header]) for header, position in table.columns.items()]
    merged_rows = {r for first, last in table.merged if last > table.header_row for r in range(first, last + 1)}
    known = {}  # {(value list, text): value}: a file repeats its values thousands of times
    for index in range(table.header_row + 1, len(table.rows)):
        raw = table.rows[index]
        if not any(cell is not None for cell in raw):
            continue
        number = index + 1
        if index in merged_rows:
            plan.add(table.sheet, number, "", "Die Zeile enthält verbundene Zellen. Bitte heben Sie den "
                                              "Zellverbund auf und füllen Sie jede Zelle einzeln.")
            continue
        values = {}
        width = len(raw)
        for header, position, spec in columns:
            cell = raw[position] if position < width else None
            if cell is None:
                values[header] = [] if spec.kind == "list" else None
                if spec.required:
                    plan.add(table.sheet, number, header, "Pflichtangabe fehlt.")
                continue
            values[header] = _value(spec, cell, lists, saved_values, plan, (table.sheet, number), known)
        yield number, values


def _value(spec: Column, cell, lists, saved_values, plan, where, known):
    try:
        if spec.kind == "date":
            return parse_date(cell)
        if spec.kind == "fte":
            return parse_fte(cell)
        if spec.kind == "number":
            value = parse_number(cell)
            if value != int(value):
                raise ValueError(f"„{cell}“ ist keine ganze Zahl")
            return int(value)
        if spec.kind == "choice":
            return _choice(spec, cell, lists, saved_values, plan, where, known)
        if spec.kind == "list":
            parts = [part.strip() for part in re.split(r"[;\n]", str(cell)) if part.strip()]
            values = [_choice(spec, part, lists, saved_values, plan, where, known) for part in parts]
            return [value for value in values if value is not None]
    except ValueError as exc:
        plan.add(*where, spec.header, f"{exc}.")
        return None
    text = _unneutralise(str(cell) if not isinstance(cell, float) else f"{cell:g}")
    if spec.kind == "key" and isinstance(cell, float) and cell.is_integer():
        text = str(int(cell))
    if spec.max_length and len(text) > spec.max_length:
        plan.add(*where, spec.header, f"Der Text ist länger als {spec.max_length} Zeichen.")
        return None
    if spec.kind == "email":
        try:
            validate_email(text)
        except ValidationError:
            plan.add(*where, spec.header, f"„{text}“ ist keine gültige E-Mail-Adresse.")
            return None
    return text


def _choice(spec: Column, cell, lists, saved_values, plan, where, known):
    text = str(cell).strip()
    if (spec.values, text) in known:
        return known[(spec.values, text)]
    value_list = lists[spec.values]
    resolved = value_list.resolve(text, saved_values.get(spec.values, {}))
    if resolved is None:  # every row with an unknown value is listed
        suggestion = value_list.suggest(text)
        hint = f" – meinten Sie „{suggestion}“?" if suggestion else ""
        plan.add(*where, spec.header, f"Unbekannter Wert „{text}“{hint}")
        plan.note_unknown(spec.values, text, spec.header, suggestion)
    else:
        known[(spec.values, text)] = resolved
    return resolved


def _unneutralise(text: str) -> str:
    """Our own export writes '=… for a text beginning with a formula sign; read it back as it was."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text



EXCEL_EPOCH = date(1899, 12, 30)
PLAUSIBLE_YEARS = (1900, 2100)


def parse_date(value) -> date:
    """A date from a date cell, an Excel serial number, or German, ISO or short German text.
    Raises ValueError with a German message."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValueError("kein Datum")
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 5):
        serial = int(float(value))
        if 1 <= serial <= 73050:  # 1900-01-01 to 2099-12-31
            return EXCEL_EPOCH + timedelta(days=serial)
        raise ValueError(f"„{value}“ ist kein Datum")
    text = str(value).strip()
    for pattern in ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                    "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S"):
        try:
            parsed = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if not PLAUSIBLE_YEARS[0] <= parsed.year <= PLAUSIBLE_YEARS[1]:
            raise ValueError(f"„{text}“ liegt außerhalb von 1900 bis 2100")
        return parsed
    raise ValueError(f"„{text}“ ist kein Datum (erwartet z. B. 31.12.2023)")


FTE_LIMIT = Decimal(100)


def parse_fte(value) -> Decimal:
    """Full-time equivalents (VZÄ) with at most two decimals, from a number or German text
    ("0,75"); a calculated cell's 2.8800000000000004 is 2,88. Raises ValueError in German."""
    number = parse_number(value)
    try:
        exact = Decimal(repr(float(number)))
    except (InvalidOperation, ValueError):
        raise ValueError(f"„{value}“ ist keine Zahl") from None
    if abs(exact) > FTE_LIMIT:  # before rounding: 1e308 has more digits than a Decimal context holds
        raise ValueError(f"„{value}“ VZÄ sind mehr als {FTE_LIMIT} für eine Stelle")
    fte = exact.quantize(Decimal("0.01"))
    if abs(fte - exact) > Decimal("0.000001"):
        raise ValueError(f"„{value}“ hat mehr als zwei Nachkommastellen")
    if fte < 0:
        raise ValueError(f"„{value}“ ist negativ")
    if fte > FTE_LIMIT:
        raise ValueError(f"„{value}“ VZÄ sind mehr als {FTE_LIMIT} für eine Stelle")
    return fte


def parse_number(value) -> float:
    """A number from a numeric cell or text with a German decimal comma ("1.234,5")."""
    if isinstance(value, bool):
        raise ValueError("keine Zahl")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(f"„{value}“ ist keine Zahl")
        return value
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        number = float(text)
    except (ValueError, OverflowError):
        raise ValueError(f"„{value}“ ist keine Zahl") from None
    if not math.isfinite(number):
        raise ValueError(f"„{value}“ ist keine Zahl")
    return number
