"""Restriction of processing (Art. 18 GDPR): the provider lead freezes a participant's record.

A restricted record is shown (to whoever may see it) but not changed and not exported, until
the lead lifts the restriction. The freeze is enforced once, where every change passes:
kim.core.services.create_object / update_object / delete_object call `refuse_if_frozen`
for the object they write (and the few services that write otherwise call it themselves); the
import's check refuses rows that name a restricted record (kim.exchange.checks); the exports
and the API's lists leave restricted records out (`without_restricted`).

Reports still count restricted records: a count in a statistic does not process the record in
the sense of Art. 18 (nothing about the person is changed, disclosed or used against them), and
leaving them out would make the figures depend on who asked for a restriction."""

import contextlib
import threading

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

# How each record that belongs to a participant leads to that participant, as a lookup path
# ("" for the participant itself). Keyed by the model's label, so that kim.core can ask about
# any object without importing case work.
PATH_TO_PARTICIPANT = {
    "casework.participant": "",
    "casework.consent": "participant",
    "casework.case": "participant",
    "casework.assessment": "case__participant",
    "casework.assessmentitem": "assessment__case__participant",
    "casework.goal": "case__participant",
    "casework.planaction": "case__participant",
    "casework.referral": "case__participant",
    "casework.appointment": "case__participant",
    "residence.procedure": "participant",
}

REASON_MAX_LENGTH = 300
# The reason shown for the freeze an erasure request sets (kim.privacy.erasure). Which freeze is
# whose is told by Erasure.froze_record, never by this text (a lead may type the same words).
RESTRICTED_FOR_ERASURE = "Löschung beantragt (Art. 17 DSGVO)"


def restricted_message(participant=None) -> str:
    if participant is not None and participant.restricted_on:
        return _("Processing of this record is restricted (Art. 18 GDPR) since %(day)s: it cannot be changed "
                 "until the provider lead lifts the restriction.") % {"day": f"{participant.restricted_on:%d.%m.%Y}"}
    return _("Processing of this record is restricted (Art. 18 GDPR): it cannot be changed until the provider "
             "lead lifts the restriction.")


def participant_id_of(obj):
    """The id of the participant `obj` belongs to, followed in memory along PATH_TO_PARTICIPANT
    (so that a record not yet saved is judged by the parent it is about to get); None for an
    object that belongs to no participant."""
    path = PATH_TO_PARTICIPANT.get(obj._meta.label_lower)
    if path is None:
        return None
    return obj.pk if path == "" else _follow(obj, path)


def restricted_participant(obj):
    """The restricted participant `obj` belongs to, read from the database (the copy in memory
    may be older than a restriction set meanwhile), or None."""
    from kim.casework.models import Participant

    participant_id = participant_id_of(obj)
    if participant_id is None:
        return None
    return Participant._base_manager.filter(pk=participant_id, restricted_on__isnull=False).first()


# How a record leads to its case: an anonymised case is a statistical trace, changed by nobody.
PATH_TO_CASE = {"casework.case": "", "casework.assessment": "case", "casework.assessmentitem": "assessment__case",
                "casework.goal": "case", "casework.planaction": "case", "casework.referral": "case",
                "casework.appointment": "case"}

_despite_restriction = threading.local()


@contextlib.contextmanager
def withdrawal_despite_restriction():
    """A consent may be withdrawn at any time (Art. 7(3) GDPR), a restricted record too: the
    withdrawal and what follows from it (module 3 links cut) pass the restriction."""
    _despite_restriction.value = True
    try:
        yield
    finally:
        _despite_restriction.value = False


def anonymised(obj) -> bool:
    """Whether `obj` belongs to an anonymised person or case (kim.privacy.retention)."""
    from kim.casework.models import Case, Participant

    participant_id = participant_id_of(obj)
    if participant_id is not None and Participant._base_manager.filter(pk=participant_id,
                                                                       anonymised_on__isnull=False).exists():
        return True
    path = PATH_TO_CASE.get(obj._meta.label_lower)
    if path is None:
        return False
    case_id = obj.pk if path == "" else _follow(obj, path)
    return case_id is not None and Case._base_manager.filter(pk=case_id, anonymised_on__isnull=False).exists()


def _follow(obj, path):
    *parents, last = path.split("__")
    for name in parents:
        if getattr(obj, f"{name}_id") is None:
            return None
        obj = getattr(obj, name)
    return getattr(obj, f"{last}_id")


def refuse_if_frozen(*objects) -> None:
    """Refuse, with the German message and before anything is written, a change of any of
    `objects` whose participant's processing is restricted, or that was anonymised."""
    for obj in objects:
        if obj is None:
            continue
        if anonymised(obj):
            raise ValidationError(_("This record has been anonymised: what remains is a statistical trace, "
                                    "which cannot be changed."), code="anonymised")
        if getattr(_despite_restriction, "value", False):
            continue
        participant = restricted_participant(obj)
        if participant is not None:
            raise ValidationError(restricted_message(participant), code="restricted")


def _lookup(path: str, name: str) -> str:
    return f"{path}__{name}" if path else name


def without_anonymised(queryset):
    """`queryset` without statistical traces (kim.privacy.retention): nobody's record any more."""
    label = queryset.model._meta.label_lower
    for path in (PATH_TO_PARTICIPANT.get(label), PATH_TO_CASE.get(label)):
        if path is not None:
            queryset = queryset.exclude(**{_lookup(path, "anonymised_on__isnull"): False})
    return queryset


def without_restricted(queryset):
    """`queryset` without the records of restricted participants (exports, the API's lists), nor
    statistical traces."""
    path = PATH_TO_PARTICIPANT[queryset.model._meta.label_lower]
    return without_anonymised(queryset).exclude(**{_lookup(path, "restricted_on__isnull"): False})


# ---------------------------------------------------------------- the lead's two actions

def may_restrict(user, participant) -> bool:
    """Only the lead of the provider that owns the record decides on its restriction."""
    return bool(user.is_active and user.has_perm("privacy.restrict") and user.provider_id
                and user.provider_id == participant.provider_id and user.district_id == participant.district_id)


def erasure_pending(participant) -> bool:
    """An erasure awaiting its review window keeps the record frozen (kim.privacy.erasure): the
    restriction it set ends with the erasure, or with its cancellation, not by lifting."""
    from .models import Erasure

    return Erasure.objects.pending_for(participant) is not None


def _require_lead(user, participant):
    if not may_restrict(user, participant):
        raise PermissionDenied(_("Only the lead of the provider may restrict the processing of a record or lift "
                                 "the restriction."))


def _locked(participant):
    from kim.casework.models import Participant

    return Participant._base_manager.select_for_update().get(pk=participant.pk)


@transaction.atomic
def restrict(user, participant, reason: str):
    """Freeze the record from today, with the reason (the person's request, a contested
    accuracy, ...). The change bypasses update_object on purpose: that one refuses restricted
    records, and this is the one change besides lifting that a restriction allows."""
    from kim.core.audit import Action, record

    _require_lead(user, participant)
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the restriction (e.g. the person contests the "
                                           "accuracy of the data).")})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": _("The reason may have at most %(n)s characters.") % {"n": REASON_MAX_LENGTH}})
    stored = _locked(participant)
    if stored.restricted_on is not None:
        raise ValidationError(_("Processing of this record is already restricted."))
    if stored.anonymised_on is not None:
        raise ValidationError(_("The record has been anonymised; there is nothing left to restrict."))
    today = timezone.localdate()
    stored.restricted_on, stored.restriction_reason = today, reason
    stored.save(update_fields=["restricted_on", "restriction_reason"])
    record(user, Action.UPDATE, stored, changes={"restricted_on": [None, today.isoformat()],
                                                 "restriction_reason": ["", reason]})
    participant.restricted_on, participant.restriction_reason = stored.restricted_on, stored.restriction_reason
    return stored


@transaction.atomic
def lift_restriction(user, participant):
    """End the restriction: the record can be changed and exported again."""
    from kim.core.audit import Action, record

    _require_lead(user, participant)
    stored = _locked(participant)
    if stored.restricted_on is None:
        raise ValidationError(_("Processing of this record is not restricted."))
    if erasure_pending(stored):
        raise ValidationError(_("The erasure of this record has been requested: cancel the erasure to lift the "
                                "restriction."))
    before = [stored.restricted_on.isoformat(), stored.restriction_reason]
    stored.restricted_on, stored.restriction_reason = None, ""
    stored.save(update_fields=["restricted_on", "restriction_reason"])
    record(user, Action.UPDATE, stored, changes={"restricted_on": [before[0], None],
                                                 "restriction_reason": [before[1], ""]})
    participant.restricted_on, participant.restriction_reason = None, ""
    return stored
