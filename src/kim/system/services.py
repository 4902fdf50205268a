"""Changes of the system level: one transaction and one audit entry each."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kim.casework.models import Case
from kim.core.models import Role, User
from kim.core.services import create_object, update_object

from .guard import personal_data_in
from .models import LegalDomain, NeedReport, Theme

HIT_KINDS = {"name": gettext_lazy("a name"), "birth date": gettext_lazy("a date of birth"),
             "code": gettext_lazy("a participant code"), "case number": gettext_lazy("a case number")}


def refuse_personal_data(user, **texts):
    """Refuse texts that name a participant `user` can see: {field: text}. The message says what
    was found in which field, in the words of the text, so the author can rewrite it."""
    errors = {}
    for field, text in texts.items():
        hits = personal_data_in(text, user)
        if hits:
            found = ", ".join(f"{HIT_KINDS[hit.kind]} („{hit.text}“)" for hit in hits[:5])
            errors[field] = _("The text names a participant: %(found)s. Write in general terms, for example "
                              "“a participant”, without names, dates of birth or case numbers.") % {"found": found}
    if errors:
        raise ValidationError(errors)


def coordinators_of(district_id):
    """Who may be responsible for a theme: the district's own coordination (accounts are not
    scoped by district)."""
    return User.objects.filter(district_id=district_id, role=Role.COORDINATION, is_active=True)


def _ensure(actor, permission):
    if not actor.has_perm(permission):
        raise PermissionDenied


@transaction.atomic
def send_need_report(actor, values: dict, cases=()) -> NeedReport:
    """A case manager (or lead) reports a structural problem, from a case or on its own."""
    _ensure(actor, "system.report_need")
    refuse_personal_data(actor, challenge=values.get("challenge", ""))
    unknown = set(values.get("legal_domains", [])) - set(LegalDomain.values)
    if unknown:
        raise ValidationError({"legal_domains": _("Unknown legal domain.")})
    cases = list(cases)
    visible = set(Case.objects.visible_to(actor).filter(pk__in=[c.pk for c in cases]).values_list("pk", flat=True))
    if len(visible) != len({c.pk for c in cases}):
        raise PermissionDenied  # a case the author cannot see
    return create_object(actor, NeedReport, district=actor.district, provider=actor.provider, author=actor,
                         cases=cases, **values)


TRIAGE = {NeedReport.Status.ACCEPTED, NeedReport.Status.MERGED, NeedReport.Status.ANSWERED,
          NeedReport.Status.DECLINED}


@transaction.atomic
def triage_need_report(actor, report: NeedReport, status: str, response: str = "", theme: Theme | None = None):
    """Coordination's answer to a report: accepted, merged into a theme, answered, declined."""
    _ensure(actor, "system.coordinate")
    if status not in TRIAGE:
        raise ValidationError({"status": _("Choose how the report is dealt with.")})
    if status == NeedReport.Status.MERGED and theme is None:
        raise ValidationError({"theme": _("Choose the theme the report is merged into.")})
    if status in (NeedReport.Status.ANSWERED, NeedReport.Status.DECLINED) and not response.strip():
        raise ValidationError({"response": _("Say what the answer is, or why the report is declined.")})
    report = NeedReport.objects.select_for_update().get(pk=report.pk)
    return update_object(actor, report, {"status": status, "response": response,
                                         "theme": theme if status == NeedReport.Status.MERGED else report.theme,
                                         "triaged_at": timezone.now()})


def _check_theme(actor, values: dict, theme: Theme | None = None):
    """What a theme must say, by field (the database's constraint is the backstop): a reason
    where it did not come about, and a responsible coordinator of the district's own."""
    status = values.get("status", theme.status if theme else Theme.Status.COLLECTED)
    reason = values.get("failure_reason", theme.failure_reason if theme else "")
    if status == Theme.Status.FAILED and not (reason or "").strip():
        raise ValidationError({"failure_reason": _("Say why the theme did not come about.")})
    responsible = values.get("responsible")
    if responsible is not None and not coordinators_of(actor.district_id).filter(pk=responsible.pk).exists():
        raise ValidationError({"responsible": _("The responsible person is one of the district's coordinators.")})


@transaction.atomic
def create_theme(actor, values: dict) -> Theme:
    _ensure(actor, "system.coordinate")
    _check_theme(actor, values)
    return create_object(actor, Theme, district=actor.district, **values)


@transaction.atomic
def update_theme(actor, theme: Theme, values: dict) -> Theme:
    _ensure(actor, "system.coordinate")
    theme = Theme.objects.select_for_update().get(pk=theme.pk)
    _check_theme(actor, values, theme)
    return update_object(actor, theme, values)


def linked_case_count(report: NeedReport) -> int:
    """What coordination learns of the cases behind a report: how many, not which."""
    return report.cases.count()

