"""The rules of plausibility of case work, as plain functions: values in, German messages out.

Each function takes the values it judges (no request, no form, no query) and returns
`{field: message}` for what it refuses, empty when all is well. The services call them before
they write, so that every way in (page, API, import) meets the same rules; the forms call the
ones that need nothing but the form's values, so that the page shows every message at once; the
import's checks can call them row by row with the values of a file.

Where a rule makes a field required only in some cases (topics for individual counselling), the
rule is declared here once and the forms read it to say so at the field, instead of "optional".
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Appointment, CaseKind

Problems = dict[str, str]

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
    """A screening (§104c) ends in an outcome: a referral or "no need"."""
    if values.get("kind") == CaseKind.SCREENING and not values.get("screening_outcome"):
        return {"screening_outcome": _("A screening needs an outcome (a referral or “no need”).")}
    return {}
