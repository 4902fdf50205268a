"""Changes of module 3: one transaction, the change, one audit entry each (kim.core.services).

Plausibility is checked here, so that the page and every other way in meet the same rules:
dates in order (received ≤ complete ≤ decided, none in the future), an outcome exactly when a
decision date is given, a link to a KIM participant only under that participant's release
from confidentiality towards the office, and never both single procedures and a monthly tally
for the same office, month and kind (they would be counted twice)."""

from datetime import date

from anyascii import anyascii
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kim.casework.models import Participant
from kim.casework.rules import record_date_problem
from kim.core.models import ReferralTarget, Role, User
from kim.core.services import create_object, update_object

from .models import MonthlyTally, Office, Procedure

# The partners of a release from confidentiality an office is named by, by kind of office.
RELEASE_TARGETS = {Office.Kind.FOREIGNERS: ("abh", "Ausländerbehörde"),
                   Office.Kind.NATURALISATION: ("ebh", "Einbürgerungsbehörde")}


def _ensure(actor, permission):
    if not actor.has_perm(permission):
        raise PermissionDenied


def _own_office(actor, office):
    if office is None or not Office.objects.filter(pk=office.pk, staff=actor, district_id=actor.district_id).exists():
        raise ValidationError({"office": _("Choose one of your offices.")})


def month_of(day: date) -> date:
    return day.replace(day=1)


# ---------------------------------------------------------------- offices

def release_target_for(district, kind, municipality=None) -> ReferralTarget:
    """The district's partner "Ausländerbehörde" or "Einbürgerungsbehörde" of releases from
    confidentiality; the naturalisation office is no statewide default, so it is added to the
    district's list (as a local entry with the key "ebh") the first time it is needed. A town's
    own office is a partner of its own ("Ausländerbehörde Ratingen"): a release towards the
    district's office does not open the town's."""
    key, label = RELEASE_TARGETS[kind]
    if municipality is not None:
        key, label = f"{key}-{municipality.pk}", f"{label} {municipality.name}"
    target = ReferralTarget.objects.filter(district=district, key=key).first()
    if target is None:
        target = ReferralTarget.objects.filter(district=district, label=label).first()
    if target is None:
        target = create_object(None, ReferralTarget, district=district, key=key, label=label, sort_order=15)
    return target


def module3_staff(district_id):
    return User.objects.filter(district_id=district_id, role=Role.MODULE3, is_active=True)


@transaction.atomic
def save_office(actor, values: dict, office: Office | None = None) -> Office:
    """The district administrator creates or changes an office and says who works in it."""
    _ensure(actor, "residence.manage_offices")
    values = dict(values)
    staff = values.get("staff")
    if staff is not None:
        allowed = set(module3_staff(actor.district_id).values_list("pk", flat=True))
        if any(user.pk not in allowed for user in staff):
            raise ValidationError({"staff": _("Staff of an office are module 3 accounts of the district.")})
    if values.get("release_target") is None and (office is None or "kind" in values):
        municipality = values.get("municipality", office.municipality if office else None)
        values["release_target"] = release_target_for(actor.district, values.get("kind") or office.kind, municipality)
    target = values.get("release_target")
    if target is not None and Office.objects.filter(release_target=target).exclude(pk=getattr(office, "pk", None)).exists():
        raise ValidationError({"release_target": _(
            "Another office already uses this partner of releases: a release names one office.")})
    if office is None:
        return create_object(actor, Office, district=actor.district, **values)
    return update_object(actor, Office.objects.select_for_update().get(pk=office.pk), values)


# ---------------------------------------------------------------- procedures

def procedure_problems(values: dict, today=None) -> dict:
    """{field: German message} for the dates and outcome of a procedure."""
    received, complete, decided = values.get("received_on"), values.get("complete_on"), values.get("decided_on")
    outcome = values.get("outcome") or ""
    problems = {}
    for name, day in (("received_on", received), ("complete_on", complete), ("decided_on", decided)):
        problem = record_date_problem(day, today)
        if problem:
            problems[name] = problem
    if received and complete and complete < received and "complete_on" not in problems:
        problems["complete_on"] = _("The application cannot be complete before it was received.")
    if received and decided and decided < received and "decided_on" not in problems:
        problems["decided_on"] = _("The decision cannot come before the application was received.")
    elif complete and decided and decided < complete and "decided_on" not in problems:
        problems["decided_on"] = _("The decision cannot come before the application was complete.")
    if decided and not outcome:
        problems["outcome"] = _("A decided procedure has an outcome: granted, refused, or withdrawn.")
    if outcome and not decided:
        problems["decided_on"] = _("Give the date of the decision, or leave the outcome empty.")
    return problems


def linked_participant(office: Office, code: str, on: date | None = None):
    """The KIM participant with this code who released the office from confidentiality, or a
    ValidationError. The message is the same whether no such participant exists or the release
    is missing: module-3 staff learn nothing of case work but what the release allows."""
    code = (code or "").strip().upper()
    if not code:
        return None
    on = on or timezone.localdate()
    participant = Participant.objects.filter(code=code, district_id=office.district_id).first()
    if participant is not None:
        released = participant.consents.filter(given_on__lte=on, released_to=office.release_target_id).exclude(
            withdrawn_on__lte=on).exists()
        if released:
            return participant
    raise ValidationError({"participant_code": _(
        "No KIM participant with this code has released %(office)s from confidentiality. The procedure can be "
        "recorded without the link.") % {"office": office.release_target.label}})


def _refuse_same_reference(office, reference, procedure):
    """One procedure per file reference (Aktenzeichen) of an office: a form sent twice, or the
    same file entered again, is refused. The office's row is locked so that two requests at
    once find each other."""
    wanted = _reference_key(reference)
    if not wanted:
        return
    Office.objects.select_for_update().filter(pk=office.pk).exists()
    others = Procedure.objects.filter(office=office).exclude(reference="").exclude(pk=getattr(procedure, "pk", None))
    if any(_reference_key(other) == wanted for other in others.values_list("reference", flat=True)):
        raise ValidationError({"reference": _("The office already has a procedure with this file reference.")})


def _reference_key(reference) -> str:
    """A file reference as it is meant: case, spaces and typographic dashes or spaces aside."""
    return " ".join(anyascii(reference or "").casefold().split())


@transaction.atomic
def release_withdrawn(actor, consent):
    """A participant withdrew a release (on the page, by the API): see `unlink_unreleased`."""
    unlink_unreleased(actor, consent.participant)


def unlink_unreleased(actor, participant):
    """The participant's procedures stay linked only to offices a release still covers today;
    the others lose the link (audited), after a withdrawal or a release that names fewer."""
    on = timezone.localdate()
    released = set(participant.consents.filter(given_on__lte=on).exclude(withdrawn_on__lte=on)
                   .values_list("released_to", flat=True))
    linked = Procedure.objects.filter(participant=participant).exclude(office__release_target__in=released)
    for procedure in linked.select_for_update():
        update_object(actor, procedure, {"participant": None})


def _tally_for(office, kind, days) -> bool:
    months = {month_of(day) for day in days if day}
    return MonthlyTally.objects.filter(office=office, kind=kind, month__in=months).exists()


@transaction.atomic
def save_procedure(actor, values: dict, procedure: Procedure | None = None) -> Procedure:
    """Record (procedure None) or change a procedure of one of the actor's offices.
    `values` may hold `participant_code` (the link to a KIM participant, under a release)."""
    _ensure(actor, "residence.record")
    values = dict(values)
    code = values.pop("participant_code", None)
    office = values.get("office", procedure.office if procedure else None)
    _own_office(actor, office)
    if procedure is not None:
        procedure = Procedure.objects.visible_to(actor).select_for_update().get(pk=procedure.pk)
        merged = {name: getattr(procedure, name) for name in ("received_on", "complete_on", "decided_on", "outcome")}
        merged.update(values)
    else:
        merged = values
    problems = procedure_problems(merged)
    if problems:
        raise ValidationError(problems)
    kind = merged.get("kind", procedure.kind if procedure else None)
    if _tally_for(office, kind, (merged.get("received_on"), merged.get("decided_on"))):
        raise ValidationError(_(
            "This office reports monthly figures for this kind of procedure and month: a single procedure would "
            "be counted twice. Add it to the monthly figures instead."))
    if code is not None:
        values["participant"] = linked_participant(office, code)
    _refuse_same_reference(office, values.get("reference", procedure.reference if procedure else ""), procedure)
    if procedure is None:
        return create_object(actor, Procedure, district=actor.district, **values)
    return update_object(actor, procedure, values)


# ---------------------------------------------------------------- monthly tallies

def tally_problems(values: dict, today=None) -> dict:
    today = today or timezone.localdate()
    problems = {}
    month = values.get("month")
    if month is not None and month > month_of(today):
        problems["month"] = _("The month cannot be in the future.")
    elif month is not None and record_date_problem(month, today):
        problems["month"] = record_date_problem(month, today)
    decided = sum(values.get(name) or 0 for name in ("granted", "refused", "withdrawn"))
    if (values.get("by_kim_staff") or 0) > decided:
        problems["by_kim_staff"] = _("At most as many as were decided in the month (%(n)s).") % {"n": decided}
    return problems


@transaction.atomic
def save_tally(actor, values: dict, tally: MonthlyTally | None = None) -> MonthlyTally:
    _ensure(actor, "residence.record")
    values = dict(values)
    if values.get("month"):
        values["month"] = month_of(values["month"])
    office = values.get("office", tally.office if tally else None)
    _own_office(actor, office)
    if tally is not None:
        tally = MonthlyTally.objects.visible_to(actor).select_for_update().get(pk=tally.pk)
        merged = {f.name: getattr(tally, f.name) for f in MonthlyTally._meta.concrete_fields}
        merged.update(values)
    else:
        merged = values
    problems = tally_problems(merged)
    if problems:
        raise ValidationError(problems)
    duplicate = MonthlyTally.objects.filter(office=office, month=merged["month"], kind=merged["kind"])
    if tally is not None:
        duplicate = duplicate.exclude(pk=tally.pk)
    if duplicate.exists():
        raise ValidationError({"month": _("This office already has figures for this month and kind of procedure.")})
    start = merged["month"]
    singles = Procedure.objects.filter(office=office, kind=merged["kind"])
    if (singles.filter(received_on__year=start.year, received_on__month=start.month).exists()
            or singles.filter(decided_on__year=start.year, decided_on__month=start.month).exists()):
        raise ValidationError(_(
            "This office has recorded single procedures of this kind in this month: monthly figures would count "
            "them twice."))
    if tally is None:
        return create_object(actor, MonthlyTally, district=actor.district, **values)
    return update_object(actor, tally, values)
