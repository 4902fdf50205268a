"""The standard workbook: the one documented shape of case data in Excel, for the template
case managers fill in, for the export of a provider's data, and for the import.

Headers and choice values are German, as case managers know them; catalogue values are the
district's labels. The value lists below are the single place that maps them."""

from django.utils import translation

from kim.casework.models import Appointment, CaseKind, GoalStatus, Participant, Phase

SHEETS = {
    "Teilnehmende": [
        "Kennung", "Vorname", "Nachname", "Geburtsdatum", "Geschlecht", "Staatsangehörigkeit", "Sprachen",
        "Kommune", "Haushalt", "Einreisedatum", "Aufenthaltsstatus", "Einwilligung am", "Einwilligung widerrufen am",
    ],
    "Fälle": [
        "Fall-Kennung", "Teilnehmende-Kennung", "Art", "Zielgruppe", "Zugangsweg", "Kommune", "Beginn", "Phase",
        "Ende", "Abschlussgrund", "Verwiesen an",
    ],
    "Ziele": ["Fall-Kennung", "Zielkategorie", "Beschreibung", "vereinbart am", "Status", "Status seit"],
    "Termine": [
        "Fall-Kennung", "Datum", "Art", "komplex", "Dauer (Minuten)", "Themen", "Sprachmittlung",
    ],
}
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

