"""The rules of plausibility of case work, as plain functions: values in, German messages out.

Each function takes the values it judges (no request, no form, no query) and returns
`{field: message}` for what it refuses, empty when all is well. The services call them before
they write, so that every way in (page, API, import) meets the same rules; the forms call the
ones that need nothing but the form's values, so that the page shows every message at once; the
import's checks can call them row by row with the values of a file.

Where a rule makes a field required only in some cases (topics for individual counselling), the
rule is declared here once and the forms read it to say so at the field, instead of "optional".
"""

import unicodedata
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Appointment, CaseKind, GoalStatus, add_months

Problems = dict[str, str]

# No record of case work lies before this date (a case "opened in 1080" is a typing error);
# early enough for the files of the programmes before KIM that districts bring in.
EARLIEST_RECORD = date(2000, 1, 1)
OLDEST_AGE_YEARS = 120
# The key of the statewide target group "over 18 and less than 5 years in Germany".
RECENT_ARRIVALS_KEY = "ue18-unter-5-jahre"
RECENT_ARRIVAL_YEARS = 5
ADULT_YEARS = 18
# What an open goal becomes when its case is closed.
GOAL_OUTCOMES_ON_CLOSURE = (GoalStatus.ACHIEVED, GoalStatus.PARTLY_ACHIEVED, GoalStatus.DROPPED)


def _today(today):
    return today or timezone.localdate()


def _shown(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def years_between(earlier: date, later: date) -> int:
    """Full years from `earlier` to `later` (an age, a stay)."""
    return later.year - earlier.year - ((later.month, later.day) < (earlier.month, earlier.day))


def record_date_problem(day: date | None, today=None) -> str | None:
    """The message for a date of case work that cannot be right: in the future, or before
    any case work recorded here."""
    if day is None:
        return None
    if day > _today(today):
        return _("The date cannot be in the future.")
    if day < EARLIEST_RECORD:
        return _("Please check the date: it lies before %(year)s.") % {"year": EARLIEST_RECORD.year}
    return None


def _problems(**messages) -> Problems:
    return {field: message for field, message in messages.items() if message}


# ---------------------------------------------------------------- participants and consent

def participant_problems(birth_date: date | None, entry_date: date | None, today=None) -> Problems:
    today = _today(today)
    problems = {}
    if birth_date and birth_date > today:
        problems["birth_date"] = _("The date cannot be in the future.")
    elif birth_date and years_between(birth_date, today) >= OLDEST_AGE_YEARS:
        problems["birth_date"] = _("Please check the date of birth.")
    if entry_date and entry_date > today:
        problems["entry_date"] = _("The date cannot be in the future.")
    elif birth_date and entry_date and entry_date < birth_date:
        problems["entry_date"] = _("The date of entry cannot be before the date of birth.")
    return problems


def consent_problems(given_on: date | None, birth_date: date | None, today=None) -> Problems:
    """A consent is given by a living person, not in the future."""
    if given_on and given_on > _today(today):
        return {"given_on": _("Consent cannot be dated in the future.")}
    if given_on and birth_date and given_on < birth_date:
        return {"given_on": _("The consent cannot be dated before the participant's birth (%(birth)s).")
                % {"birth": _shown(birth_date)}}
    return _problems(given_on=record_date_problem(given_on, today))


def withdrawal_problems(given_on: date, withdrawn_on: date | None, today=None) -> Problems:
    if withdrawn_on and withdrawn_on < given_on:
        return {"withdrawn_on": _("Withdrawal cannot be before the consent.")}
    return _problems(withdrawn_on=record_date_problem(withdrawn_on, today))

# ---------------------------------------------------------------- appointments

COUNSELLING, OTHER_WORK = Appointment.Kind.COUNSELLING, Appointment.Kind.OTHER

# The fields an appointment needs besides date and duration, by its kind: {field: message}.
APPOINTMENT_REQUIRED_BY_KIND = {
    COUNSELLING: {
        "complexity": gettext_lazy("Choose one-off or complex counselling."),
        "topics": gettext_lazy("Choose at least one topic of the counselling."),
    },
    OTHER_WORK: {"other_kind": gettext_lazy("Choose the kind of work.")},
}
REQUIRED_FOR_KIND = {
    COUNSELLING: gettext_lazy("required for individual counselling"),
    OTHER_WORK: gettext_lazy("required for other work"),
}
REQUIRED_WITH_THEMATIC_OFFER = gettext_lazy("required for a thematic offer")


def conditionally_required_appointment_fields() -> dict[str, str]:
    """{field: when it is required}, for the form to show at the field instead of "optional"."""
    required = {field: REQUIRED_FOR_KIND[kind] for kind, fields in APPOINTMENT_REQUIRED_BY_KIND.items()
                for field in fields}
    required["session_format"] = REQUIRED_WITH_THEMATIC_OFFER
    return required


def appointment_field_problems(values: dict) -> Problems:
    """What an appointment's own values lack: the fields its kind needs, and a thematic offer
    that comes with its format (format and audience only with an offer)."""
    problems = {}
    for field, message in APPOINTMENT_REQUIRED_BY_KIND.get(values.get("kind"), {}).items():
        if not values.get(field):
            problems[field] = str(message)
    if values.get("thematic_offer") and not values.get("session_format"):
        problems["session_format"] = _("Choose the format of the thematic offer's session.")
    if (values.get("session_format") or values.get("audience")) and not values.get("thematic_offer"):
        problems["thematic_offer"] = _("Format and audience belong to a thematic offer.")
    return problems


# ---------------------------------------------------------------- cases

REQUIRED_FOR_SCREENING = gettext_lazy("required for screening")


def conditionally_required_case_fields() -> dict[str, str]:
    return {"screening_outcome": REQUIRED_FOR_SCREENING}


def case_field_problems(values: dict) -> Problems:
    """A screening (§104c) ends in an outcome: a referral or "no need"; a §104c title's dates
    (see `title_104c_problems`)."""
    problems = title_104c_problems(values.get("title_104c_issued_on"), values.get("title_104c_expires_on"))
    if values.get("kind") == CaseKind.SCREENING and not values.get("screening_outcome"):
        problems["screening_outcome"] = _("A screening needs an outcome (a referral or “no need”).")
    return problems


# The opportunity residence (§104c AufenthG) is granted for 18 months, once; the law is in force
# since 31 December 2022.
TITLE_104C_MONTHS = 18
TITLE_104C_SINCE = date(2022, 12, 31)


def title_104c_expiry(issued_on: date | None, expires_on: date | None) -> date | None:
    """The expiry as given, or by default 18 months after the issue."""
    if expires_on is None and issued_on is not None:
        return add_months(issued_on, TITLE_104C_MONTHS)
    return expires_on


def title_104c_problems(issued_on: date | None, expires_on: date | None, today=None) -> Problems:
    if issued_on is None:
        return {"title_104c_issued_on": _("Give the date the §104c title was issued.")} if expires_on else {}
    if issued_on < TITLE_104C_SINCE:
        return {"title_104c_issued_on": _("The opportunity residence (§104c) exists since 31.12.2022.")}
    problem = record_date_problem(issued_on, today)
    if problem:
        return {"title_104c_issued_on": problem}
    if expires_on is not None and expires_on < issued_on:
        return {"title_104c_expires_on": _("The title cannot expire before it was issued.")}
    if expires_on is not None and expires_on > add_months(issued_on, TITLE_104C_MONTHS):
        return {"title_104c_expires_on": _(
            "A §104c title is issued for at most 18 months and cannot be extended (here: until %(latest)s)."
        ) % {"latest": _shown(add_months(issued_on, TITLE_104C_MONTHS))}}
    return {}


def case_opening_problems(opened_on: date | None, birth_date: date | None, today=None) -> Problems:
    if opened_on and birth_date and opened_on < birth_date:
        return {"opened_on": _("The case cannot be opened before the participant's birth (%(birth)s).")
                % {"birth": _shown(birth_date)}}
    return _problems(opened_on=record_date_problem(opened_on, today))


def target_group_warnings(target_group_key: str, target_group_label: str, *, opened_on: date | None,
                          birth_date: date | None, entry_date: date | None) -> list[str]:
    """Doubts about the target group that the user may overrule (a stay counted from another
    date, an age estimated): "over 18 and less than 5 years in Germany" for someone who came
    earlier or is younger. Empty when there is nothing to doubt or not enough to judge."""
    if target_group_key != RECENT_ARRIVALS_KEY or opened_on is None:
        return []
    warnings = []
    if entry_date and years_between(entry_date, opened_on) >= RECENT_ARRIVAL_YEARS:
        warnings.append(_(
            "The participant entered Germany on %(entry)s, %(years)s years before the case was opened; "
            "the target group “%(group)s” is meant for less than %(limit)s years."
        ) % {"entry": _shown(entry_date), "years": years_between(entry_date, opened_on),
             "group": target_group_label, "limit": RECENT_ARRIVAL_YEARS})
    if birth_date and years_between(birth_date, opened_on) < ADULT_YEARS:
        warnings.append(_(
            "The participant was %(age)s when the case was opened; the target group “%(group)s” is meant "
            "for people over %(adult)s."
        ) % {"age": years_between(birth_date, opened_on), "group": target_group_label, "adult": ADULT_YEARS})
    return warnings


def closure_problems(*, opened_on: date, closed_on: date, last_appointment_on: date | None,
                     last_goal_on: date | None, open_goals: int, open_goals_status: str = "",
                     today=None) -> Problems:
    """A case is closed after everything recorded in it, not in the future, and says what
    became of the goals still open (achieved, partly achieved or dropped)."""
    problems = {}
    if closed_on < opened_on:
        problems["closed_on"] = _("A case cannot be closed before it was opened.")
    elif closed_on > _today(today):
        problems["closed_on"] = _("A case cannot be closed in the future.")
    elif last_appointment_on and last_appointment_on > closed_on:
        problems["closed_on"] = _(
            "The case has an appointment on %(date)s, after this closing date. Close it on that day or later, "
            "or correct the appointment."
        ) % {"date": _shown(last_appointment_on)}
    elif last_goal_on and last_goal_on > closed_on:
        problems["closed_on"] = _(
            "A goal of the case was agreed or changed on %(date)s, after this closing date."
        ) % {"date": _shown(last_goal_on)}
    if open_goals and open_goals_status not in GOAL_OUTCOMES_ON_CLOSURE:
        problems["open_goals_status"] = _(
            "%(n)s goal(s) of the case are still open: say whether they were achieved, partly achieved "
            "or dropped."
        ) % {"n": open_goals}
    return problems


def appointment_date_problems(day: date, *, opened_on: date | None = None, closed_on: date | None = None,
                              today=None) -> Problems:
    """An appointment is recorded once it has taken place, within the case it belongs to."""
    if day > _today(today):
        return {"date": _("An appointment is recorded once it has taken place: the date lies in the future.")}
    if opened_on and day < opened_on:
        return {"date": _("The appointment cannot be before the case was opened.")}
    if closed_on and day > closed_on:
        return {"date": _("The appointment cannot be after the case was closed (%(closed)s).")
                % {"closed": _shown(closed_on)}}
    return _problems(date=record_date_problem(day, today))


def goal_problems(agreed_on: date | None, due_on: date | None, *, opened_on: date | None = None,
                  today=None) -> Problems:
    if agreed_on and opened_on and agreed_on < opened_on:
        return {"agreed_on": _("A goal cannot be agreed before the case was opened.")}
    if agreed_on and due_on and due_on < agreed_on:
        return {"due_on": _("The goal cannot be due before it was agreed.")}
    return _problems(agreed_on=record_date_problem(agreed_on, today))


def goal_status_problems(agreed_on: date, changed_on: date, today=None) -> Problems:
    if changed_on < agreed_on:
        return {"status_changed_on": _("The status cannot change before the goal was agreed.")}
    return _problems(status_changed_on=record_date_problem(changed_on, today))


# Characters a reader does not see besides the format characters (Unicode category Cf): the
# combining grapheme joiner, variation selectors, Hangul fillers, Mongolian free variation selectors.
IGNORABLE = {0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0, *range(0x180B, 0x1810), *range(0xFE00, 0xFE10)}


def visible_text(text: str) -> str:
    """`text` as a reader sees it: Unicode compatibility forms joined (NFKC), characters that
    show nothing (zero-width, direction marks, joiners, variation selectors) left out."""
    return "".join(c for c in unicodedata.normalize("NFKC", text)
                   if unicodedata.category(c) != "Cf" and ord(c) not in IGNORABLE)


def same_text(first: str, second: str) -> bool:
    """Whether two texts say the same to a reader: Unicode forms, invisible characters, spaces
    and case make no difference ("Wohnung  finden" is "wohnung finden")."""
    def plain(text):
        return " ".join(visible_text(text).split()).casefold()

    return plain(first) == plain(second)


def participant_code_form(key: str) -> str:
    """A participant code as a file may write it (tn-8fb4wjwg, with a typographic dash or in
    full-width letters) in the form the system gives it (TN-8FB4WJWG)."""
    text = "".join("-" if unicodedata.category(c) == "Pd" else c for c in visible_text(key))
    return "".join(text.split()).upper()
