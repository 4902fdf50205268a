"""A document printed as PDF: an A4 page of paired rows, German on the left and the
participant's language on the right (right to left for Arabic and Farsi/Dari), each row one
paragraph in both languages so that the texts stay side by side. The data filled in (names,
dates, goals as entered) are the same in both columns."""

from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils import timezone

from kim.casework.models import Participant
from kim.privacy.release import CATEGORIES, released_categories

from . import texts
from .catalogues import translate
from .registry import DOCUMENTS, LANGUAGES, version


@dataclass
class Row:
    """One line of the page: `kind` says how it looks (heading, paragraph, field, check, sign)."""

    kind: str
    german: str
    other: str
    value: str = ""
    checked: bool = False


@dataclass
class Subject:
    """What a document is printed for: the participant, and the case or the referral."""

    participant: Participant
    case: object = None
    referral: object = None
    consent: object = None
    partners: list = field(default_factory=list)  # referral targets to tick by hand when no consent is recorded


def _date(value):
    return f"{value:%d.%m.%Y}" if value else "–"


class Page:
    def __init__(self, kind, language, values=None):
        self.kind, self.language = DOCUMENTS[kind], LANGUAGES[language]
        self.rows: list[Row] = []
        # Figures a text names ({months}: the district's retention period), filled in after the
        # translation is looked up, so that the text and its version stay the same.
        self.values = values or {}

    def fill(self, text):
        for name, value in self.values.items():
            text = text.replace("{" + name + "}", str(value))
        return text

    def t(self, german):
        return translate(self.language.code, german)

    def add(self, kind, german, value="", checked=False):
        self.rows.append(Row(kind, self.fill(german), self.fill(self.t(german)), value, checked))

    def label(self, key, value):
        self.add("field", texts.LABELS[key], value)


def _person(page, subject):
    participant = subject.participant
    page.label("participant", f"{participant.first_name} {participant.last_name}")
    page.label("birth_date", _date(participant.birth_date))
    page.label("provider", str(participant.provider))
    case = subject.case
    manager = case.case_manager if case else participant.responsible
    page.label("case_manager", manager.get_full_name() or manager.username)
    if case:
        page.label("case", case.number)


def _partners(page, subject):
    consent = subject.consent
    partners = list(consent.released_to.all()) if consent else subject.partners
    if not partners:
        page.add("field", texts.LABELS["none"])
    for partner in partners:
        page.rows.append(Row("check", str(partner), str(partner), checked=consent is not None))


def _categories(page, subject):
    released = set(subject.consent.released_categories) if subject.consent else set()
    for key in CATEGORIES:
        page.add("check", texts.CATEGORY_TEXTS[key], checked=key in released)


def _signatures(page, subject):
    page.add("sign", texts.LABELS["place_date"])
    page.add("sign", texts.LABELS["sign_participant"])
    page.add("sign", texts.LABELS["sign_case_manager"])


def _signature_case_manager(page, subject):
    page.add("sign", texts.LABELS["place_date"])
    page.add("sign", texts.LABELS["sign_case_manager"])


def _goals(page, subject):
    goals = list(subject.case.goals.select_related("category"))
    if not goals:
        page.add("field", texts.LABELS["none"])
    for number, goal in enumerate(goals, 1):
        # The entry as written (German) is the row's value; only "until <date>" is translated.
        until = texts.LABELS["until"]
        due = (f"{until} {_date(goal.due_on)}", f"{page.t(until)} {_date(goal.due_on)}") if goal.due_on else ("", "")
        page.rows.append(Row("item", *due, value=f"{number}. {goal.category}: {goal.text}"))


def _actions(page, subject):
    actions = list(subject.case.actions.all())
    if not actions:
        page.add("field", texts.LABELS["none"])
    for action in actions:
        page.rows.append(Row("item", "", "", value=f"{action.description} – {action.responsible} – {_date(action.due_on)}"))


def _referral(page, subject):
    referral, participant = subject.referral, subject.participant
    page.add("field", texts.REFERRAL_LABELS["to"], str(referral.target))
    page.add("field", texts.REFERRAL_LABELS["referred_on"], _date(referral.referred_on))
    if referral.note:
        page.add("field", texts.REFERRAL_LABELS["reason"], referral.note)
    page.label("provider", str(participant.provider))
    manager = subject.case.case_manager
    page.label("case_manager", manager.get_full_name() or manager.username)


def released_values(subject) -> dict[str, list[tuple[str, str]]]:
    """{category: [(field key, value)]} of exactly the categories the participant releases
    towards the referral's target today (the letter hands the data over when it is printed:
    a release withdrawn since the referral no longer covers it), nothing of any other."""
    participant, case = subject.participant, subject.case
    released = released_categories(participant, subject.referral.target)
    values = {}
    if "identity" in released:
        values["identity"] = [("first_name", participant.first_name), ("last_name", participant.last_name),
                              ("birth_date", _date(participant.birth_date)),
                              ("gender", participant.get_gender_display())]
    if "contact" in released:
        values["contact"] = [("address", participant.address), ("phone", participant.phone),
                             ("email", participant.email)]
    if "background" in released:
        values["background"] = [("nationalities", participant.nationalities), ("languages", participant.languages),
                                ("entry_date", _date(participant.entry_date)),
                                ("residence_status", participant.get_residence_status_display())]
    if "case" in released:
        goals = "; ".join(f"{g.category}: {g.text}" for g in case.goals.select_related("category"))
        values["case"] = [("case_kind", case.get_kind_display()), ("opened_on", _date(case.opened_on)),
                          ("goals", goals)]
    if "assessment" in released:
        last = case.assessments.order_by("-assessed_on", "-pk").first()
        values["assessment"] = [("assessed_on", _date(last.assessed_on) if last else "–"),
                                ("summary", last.summary if last else "")]
    if "appointments" in released:
        appointments = list(case.appointments.prefetch_related("topics"))
        topics = sorted({str(topic) for a in appointments for topic in a.topics.all()})
        values["appointments"] = [("appointment_count", str(len(appointments))),
                                  ("last_appointment", _date(max((a.date for a in appointments), default=None))),
                                  ("topics", ", ".join(topics))]
    return {key: values[key] for key in CATEGORIES if key in values}


def _released(page, subject):
    released = released_values(subject)
    if not released:
        page.add("p", texts.REFERRAL_LABELS["no_data"])
    for key, pairs in released.items():
        page.add("subhead", texts.CATEGORY_TEXTS[key])
        for name, value in pairs:
            page.add("field", texts.FIELD_LABELS[name], value or "–")


DATA_PARTS = {
    "person": _person, "partners": _partners, "categories": _categories, "signatures": _signatures,
    "signature_case_manager": _signature_case_manager, "goals": _goals, "actions": _actions,
    "referral": _referral, "released": _released,
}


def page_rows(kind: str, language: str, subject: Subject) -> Page:
    from kim.privacy.services import current_periods

    page = Page(kind, language, {"months": current_periods(subject.participant.district)["case_data"]})
    for part, text in page.kind.blocks:
        if part == "data":
            DATA_PARTS[text](page, subject)
        else:
            page.add(part, text)
    return page


def document_html(kind: str, language: str, subject: Subject) -> str:
    page = page_rows(kind, language, subject)
    return render_to_string(page.kind.template, {
        "page": page, "language": page.language, "title": page.kind.title, "title_other": page.t(page.kind.title),
        "version": version(kind, language), "version_label_de": texts.LABELS["version"],
        "printed_on": _date(timezone.localdate()),
    })


def document_pdf(kind: str, language: str, subject: Subject) -> bytes:
    from weasyprint import HTML

    return HTML(string=document_html(kind, language, subject)).write_pdf()
