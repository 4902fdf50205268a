"""The standard workbook: the one documented shape of case data in Excel, for the template
case managers fill in, for the export of a provider's data, and for the import.

Headers and choice values are German, as case managers know them; catalogue values are the
district's labels. The value lists below are the single place that maps them."""

from dataclasses import dataclass

from django.utils import translation

from kim.casework.models import Appointment, CaseKind, GoalStatus, Participant, Phase


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
        Column("Ziel-Kennung", "key", max_length=100), Column("Fall-Kennung", "key", True, 100), Column("Zielkategorie", "choice", True, values="goal_category"),
        Column("Beschreibung", required=True, max_length=300), Column("vereinbart am", "date", True),
        Column("Status", "choice", values="goal_status"), Column("Status seit", "date"),
    ],
    "Termine": [
        Column("Termin-Kennung", "key", max_length=100), Column("Fall-Kennung", "key", max_length=100), Column("Datum", "date", True),
        Column("Art", "choice", values="appointment_kind"), Column("komplex", "choice", values="complexity"),
        Column("Dauer (Minuten)", "number", True), Column("Themen", "list", values="topic"),
        Column("Sprachmittlung", "list", values="language_support"),
    ],
}
SHEETS = {kind: [column.header for column in columns] for kind, columns in SPECS.items()}

# The identifier column of a part, and the prefix of the number the export gives a record
# that has no identifier from a file (T-42: the appointment with id 42).
IDENTIFIERS = {"Ziele": ("Ziel-Kennung", "Z"), "Termine": ("Termin-Kennung", "T")}


def own_number(sheet: str, pk: int) -> str:
    return f"{IDENTIFIERS[sheet][1]}-{pk}"
DATE_COLUMNS = {"Geburtsdatum", "Einreisedatum", "Einwilligung am", "Einwilligung widerrufen am", "Beginn", "Ende",
                "vereinbart am", "Status seit", "Datum"}
LIST_SEPARATOR = ";"

CASE_KINDS = {
    CaseKind.CASE_MANAGEMENT: "Case Management",
    CaseKind.SHORT_COUNSELLING: "Kurzberatung",
    CaseKind.REFERRAL: "Verweisberatung",
    CaseKind.SCREENING: "Screening",
}
APPOINTMENT_KINDS = {Appointment.Kind.COUNSELLING: "Beratung", Appointment.Kind.OTHER: "Sonstiger Termin"}
YES_NO = {True: "ja", False: "nein"}


def german_labels(choices) -> dict:
    """{stored value: German label} of a model's choices."""
    with translation.override("de"):
        return {value: str(label) for value, label in choices}


def value_lists() -> dict:
    """The fixed value lists of the workbook, by header, in German."""
    return {
        "Geschlecht": german_labels(Participant.Gender.choices),
        "Aufenthaltsstatus": german_labels(Participant.ResidenceStatus.choices),
        "Art (Fall)": dict(CASE_KINDS),
        "Phase": german_labels(Phase.choices),
        "Status": german_labels(GoalStatus.choices),
        "Art (Termin)": dict(APPOINTMENT_KINDS),
        "komplex": {"complex": "ja", "one_off": "nein"},
    }

