"""What counts as reading personal data, and the audit entry a read leaves: the one helper
every page and API endpoint of case work goes through.

A read of personal data is showing a participant's record or anything of it: the
participant, their household, consent, a case that still has its participant, and the
records of such a case (assessments, goals, steps, referrals, appointments). An anonymised
case (retention removed the person) and other work without a case are no personal data of a
participant. Showing one record writes one entry for it; showing a list (a page of a list,
an API page) writes one entry for the list, naming the records shown by their pseudonymous
labels (participant code, case number), so that "who saw whom" can be answered either way."""

from django.db import models
from django.utils.translation import ngettext

from kim.core.audit import Action, entry

from .models import Case, Consent, Household, Participant

MAX_LISTED = 500  # an API page holds at most 500 records


def participant_of(record):
    """The participant whose personal data `record` is, or None (no personal data of anyone)."""
    if isinstance(record, Participant):
        return record
    if isinstance(record, Consent):
        return record.participant
    if isinstance(record, Case):
        return record.participant
    case = getattr(record, "case", None) if not isinstance(record, Household) else None
    return case.participant if isinstance(case, Case) else None


def holds_personal_data(record) -> bool:
    # A record of another app that is personal data whoever it names (module 3's procedures)
    # says so itself: `holds_personal_data = True` on its model.
    if isinstance(record, Household) or getattr(type(record), "holds_personal_data", False):
        return True
    return participant_of(record) is not None


def audit_read(actor, shown) -> None:
    """The audit entry of showing `shown` (a record, or the records of a list page) to `actor`,
    if it holds personal data; nothing otherwise. Lists should come with their participants
    selected (`select_related`), so that judging them costs no query per record."""
    if isinstance(shown, models.Model):
        if holds_personal_data(shown):
            entry(actor, Action.READ, shown).save()
        return
    records = [record for record in shown if holds_personal_data(record)]
    if not records:
        return
    listed = [getattr(record, "audit_label", "") or str(record.pk) for record in records[:MAX_LISTED]]
    list_entry = entry(actor, Action.READ, records[0], district_id=actor.district_id,
                       provider_id=actor.provider_id, label=ngettext("%(n)s record", "%(n)s records", len(records)) % {"n": len(records)},
                       changes={"listed": listed})
    list_entry.object_id = ""  # a list is no single record: the entry names the kind of record
    list_entry.save()
