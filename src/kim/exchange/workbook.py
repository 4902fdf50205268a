"""The standard workbook: the one documented shape of case data in Excel, for the template
case managers fill in, for the export of everything of a provider, and for the import.

Headers and choice values are German, as case managers know them; catalogue values are the
district's labels. The value lists below are the single place that maps them. Every record
that others refer to has an identifier column (Kennung): the file's own, or the number the
export gives it.

The sheets of case data (CASE_SHEETS) are imported by case managers and provider leads into
their provider's records; the sheet "Stellen" (STAFFING_SHEETS) by coordination into the
district's staffing (kim.staffing), one row per position with its figures on a reference date
(Stichtag). Neither side can import the other's sheets."""

import re
from dataclasses import dataclass

from django.utils import translation

from kim.casework.models import (
    Appointment,
    Assessment,
    CaseKind,
    GoalStatus,
    Need,
    Participant,
    Phase,
)
from kim.core.models import (
    ClosureReason,
    GoalCategory,
    LanguageSupportKind,
    LifeDomain,
    Municipality,
    ReferralSource,
    ReferralTarget,
    TargetGroup,
    ThematicOffer,
    Topic,
)


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"  # text, key, date, number, choice, list, email
    required: bool = False
    max_length: int = 0
    values: str = ""  # name of the value list for choice and list columns


def _key(header, required=False):
    return Column(header, "key", required, 100)


def _person(header):
    """A member of the provider's staff, by name or user name (value list "staff")."""
    return Column(header, "choice", values="staff")


SPECS = {
    "Teilnehmende": [
        _key("Kennung", True), Column("Vorname", required=True, max_length=80),
        Column("Nachname", required=True, max_length=80), Column("Geburtsdatum", "date", True),
        Column("Geschlecht", "choice", values="gender"), Column("Staatsangehörigkeit", max_length=200),
        Column("Sprachen", max_length=200), Column("Kommune", "choice", True, values="municipality"),
        Column("Haushalt", max_length=120), _key("Haushalt-Kennung"), Column("Einreisedatum", "date"),
        Column("Aufenthaltsstatus", "choice", values="residence_status"), Column("Telefon", max_length=40),
        Column("E-Mail", "email", max_length=254), Column("Anschrift", max_length=200), _person("Verantwortlich"),
        Column("Einwilligung am", "date"), Column("Einwilligung widerrufen am", "date"),
    ],
    "Einwilligungen": [
        _key("Einwilligungs-Kennung"), _key("Teilnehmende-Kennung", True), Column("erteilt am", "date", True),
        Column("Verarbeitung", "choice", values="yes_no"), Column("widerrufen am", "date"),
        Column("Schweigepflichtentbindung für", "list", values="referral_target"), Column("Bemerkung", max_length=200),
    ],
    "Fälle": [
        _key("Fall-Kennung", True), _key("Teilnehmende-Kennung", True),
        Column("Art", "choice", True, values="case_kind"), Column("Zielgruppe", "choice", values="target_group"),
        Column("Zugangsweg", "choice", values="referral_source"), Column("Kommune", "choice", values="municipality"),
        Column("Beginn", "date", True), Column("Phase", "choice", values="phase"), Column("Ende", "date"),
        Column("Abschlussgrund", "choice", values="closure_reason"),
        Column("Verwiesen an", "choice", values="referral_target"), _person("Case Manager*in"),
    ],
    "Assessments": [
        _key("Assessment-Kennung"), _key("Fall-Kennung", True), Column("Art", "choice", values="assessment_kind"),
        Column("Datum", "date", True), _key("vorheriges Assessment"), Column("Zusammenfassung"),
        _person("verfasst von"),
    ],
    "Lebensbereiche": [
        _key("Assessment-Kennung", True), Column("Lebensbereich", "choice", True, values="life_domain"),
        Column("Bedarf", "choice", values="need"), Column("Situation"), Column("Ressourcen"), Column("Wünsche"),
    ],
    "Ziele": [
        _key("Ziel-Kennung"), _key("Fall-Kennung", True), Column("Zielkategorie", "choice", True, values="goal_category"),
        Column("Beschreibung", required=True, max_length=300), Column("vereinbart am", "date", True),
        Column("fällig am", "date"), Column("Status", "choice", values="goal_status"), Column("Status seit", "date"),
    ],
    "Maßnahmen": [
        _key("Maßnahmen-Kennung"), _key("Fall-Kennung", True), _key("Ziel-Kennung"),
        Column("Was", required=True, max_length=300), Column("Wer", required=True, max_length=120),
        Column("bis", "date"), Column("erledigt am", "date"),
    ],
    "Verweise": [
        _key("Verweis-Kennung"), _key("Fall-Kennung", True), Column("Verwiesen an", "choice", True, values="referral_target"),
        Column("Datum", "date", True), Column("Bemerkung", max_length=300),
    ],
    "Termine": [
        _key("Termin-Kennung"), _key("Fall-Kennung"), Column("Datum", "date", True),
        Column("Art", "choice", values="appointment_kind"), Column("komplex", "choice", values="complexity"),
        Column("Dauer (Minuten)", "number", True), Column("Themen", "list", values="topic"),
        Column("Sprachmittlung", "list", values="language_support"),
        Column("Art der Tätigkeit", "choice", values="other_kind"), Column("Ort", "choice", values="place"),
        Column("Thematisches Angebot", "choice", values="thematic_offer"),
        Column("Format", "choice", values="session_format"), Column("Zielgruppe des Angebots", "choice", values="audience"),
        Column("Bemerkung", max_length=300), _person("Case Manager*in"),
    ],
    # One row per position (Stelle): its figures on the Stichtag. Optional columns: a
    # designation, the approval's dates, from when it is filled, to whom its funds go on,
    # who fills it, a note, and an identifier of the file's own.
    "Stellen": [
        _key("Stellen-Kennung"), Column("Modul", "choice", values="module"),
        Column("Funktion", "choice", True, values="function"), Column("Bezeichnung", max_length=120),
        Column("Kommune", "choice", values="position_municipality"), Column("Träger", "choice", values="employer"),
        Column("VZÄ bewilligt", "fte", True), Column("VZÄ besetzt", "fte"), Column("VZÄ noch nicht besetzt", "fte"),
        Column("Stichtag", "date", True), Column("bewilligt ab", "date"), Column("bewilligt bis", "date"),
        Column("besetzt ab", "date"), Column("Weiterleitung an", "choice", values="employer"),
        Column("Person", max_length=120), Column("Bemerkung", max_length=300),
    ],
}
SHEETS = {kind: [column.header for column in columns] for kind, columns in SPECS.items()}
STAFFING_SHEETS = ("Stellen",)
CASE_SHEETS = tuple(kind for kind in SHEETS if kind not in STAFFING_SHEETS)


def kinds_for(user) -> tuple:
    """The parts of the workbook `user` may import: case data for the roles that see personal
    data (into their provider), the staffing for coordination (into the district); never both."""
    if user.sees_personal_data:
        return CASE_SHEETS
    if user.is_active and user.district_id and user.has_perm("staffing.manage"):
        return STAFFING_SHEETS
    return ()
DATE_COLUMNS = {column.header for columns in SPECS.values() for column in columns if column.kind == "date"}
LIST_SEPARATOR = ";"

# The identifier column of a part, and the prefix of the number the export gives a record
# that has no identifier from a file (KIM-T-42: the appointment with id 42). Participants and
# cases keep the file's identifier on the record itself (external_id), else their code or
# case number F-00042; a household is identified by its Haushalt-Kennung.
IDENTIFIERS = {
    "Haushalte": ("Haushalt-Kennung", "H"), "Einwilligungen": ("Einwilligungs-Kennung", "E"),
    "Assessments": ("Assessment-Kennung", "A"), "Ziele": ("Ziel-Kennung", "Z"),
    "Maßnahmen": ("Maßnahmen-Kennung", "M"), "Verweise": ("Verweis-Kennung", "V"), "Termine": ("Termin-Kennung", "T"),
    "Stellen": ("Stellen-Kennung", "S"),
}


# The export numbers a record that came from no file as "KIM-T-42": a hand-kept list that
# numbers its rows T-1, T-2 ... (the attack found one) must not update records of that number.
OWN_NUMBER_PREFIX = "KIM"


def own_number(sheet: str, pk: int) -> str:
    return f"{OWN_NUMBER_PREFIX}-{IDENTIFIERS[sheet][1]}-{pk}"


def exported_pk(sheet: str, key: str) -> int | None:
    """The record a key names as the export numbered it (own_number), or None."""
    match = re.fullmatch(rf"{OWN_NUMBER_PREFIX}-{IDENTIFIERS[sheet][1]}-(\d{{1,12}})", key)
    return int(match.group(1)) if match else None


CASE_KINDS = {
    CaseKind.CASE_MANAGEMENT: "Case Management",
    CaseKind.SHORT_COUNSELLING: "Kurzberatung",
    CaseKind.REFERRAL: "Verweisberatung",
    CaseKind.SCREENING: "Screening",
}
APPOINTMENT_KINDS = {Appointment.Kind.COUNSELLING: "Beratung", Appointment.Kind.OTHER: "Sonstiger Termin"}

# The district's catalogues behind choice and list columns: (model, field of the label).
CATALOGUES = {
    "municipality": (Municipality, "name"), "target_group": (TargetGroup, "label"),
    "referral_source": (ReferralSource, "label"), "closure_reason": (ClosureReason, "label"),
    "referral_target": (ReferralTarget, "label"), "goal_category": (GoalCategory, "label"),
    "topic": (Topic, "label"), "language_support": (LanguageSupportKind, "label"),
    "life_domain": (LifeDomain, "label"), "thematic_offer": (ThematicOffer, "label"),
}


# The staffing sheet's fixed lists, in German (the exchange writes its labels here, not
# through the catalogue of translations): modules and functions of kim.staffing.
MODULES = {"1": "Modul 1", "2": "Modul 2", "3": "Modul 3"}
FUNCTIONS = {
    "coordination": "Koordination", "administration": "Verwaltungsassistenz", "case_management": "Case Management",
    "thematic_case_management": "Thematisches Case Management",
    "case_management_coordination": "Koordination Case Management",
    "foreigners_office": "Ausländerbehörde", "naturalisation_office": "Einbürgerungsbehörde",
}
# Kommune: "kommunenübergreifend" (a position across towns); Träger: the district's own name
# or "Kreisverwaltung" (the district administration employs). Both stand for an empty field.
ACROSS_TOWNS = "kommunenübergreifend"
DISTRICT_ADMINISTRATION = "Kreisverwaltung"
NONE = 0  # what these two words resolve to: no town, no provider


def german_labels(choices) -> dict:
    """{stored value: German label} of a model's choices."""
    with translation.override("de"):
        return {value: str(label) for value, label in choices}


def fixed_lists() -> dict[str, dict]:
    """The fixed value lists of the workbook: {list name: {stored value: German label}}."""
    return {
        "gender": german_labels(Participant.Gender.choices),
        "residence_status": german_labels(Participant.ResidenceStatus.choices),
        "case_kind": dict(CASE_KINDS),
        "phase": german_labels(Phase.choices),
        "goal_status": german_labels(GoalStatus.choices),
        "appointment_kind": dict(APPOINTMENT_KINDS),
        "complexity": {Appointment.Complexity.COMPLEX: "ja", Appointment.Complexity.ONE_OFF: "nein"},
        "yes_no": {True: "ja", False: "nein"},
        "assessment_kind": german_labels(Assessment.Kind.choices),
        "need": german_labels(Need.choices),
        "other_kind": german_labels(Appointment.OtherKind.choices),
        "place": german_labels(Appointment.Place.choices),
        "session_format": german_labels(Appointment.SessionFormat.choices),
        "audience": german_labels(Appointment.Audience.choices),
        "module": dict(MODULES),
        "function": dict(FUNCTIONS),
    }


def list_of(sheet: str, header: str) -> str:
    """The name of the value list of a column."""
    return next(column.values for column in SPECS[sheet] if column.header == header)

