"""Erasure on request (Art. 17 GDPR), with a review window, and its replay after a restore.

The provider lead asks, with a reason and by typing the participant's code as confirmation.
The record is restricted at once (shown, not changed, not exported) and erased when the
review window (90 days, SORMAS practice) has passed, by the retention job, unless the lead
cancels before. Erasing removes the person everywhere: the record, its cases' free texts,
the identifiers from imported files, what was read from files still kept, the audit entries'
personal values (the entries stay, pointing to "gelöschte Person"). The figures stay, as
after anonymisation: an erasure is the retention job's anonymisation of every case at once."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from kim.casework.models import Case, Participant
from kim.core.audit import Action, record
from kim.core.models import District

from . import erasure_log
from .models import Erasure
from .registry import CLASSES
from .restriction import RESTRICTED_FOR_ERASURE
from .retention import anonymise_case, anonymise_participant, clear_upload



def may_request(user, participant) -> bool:
    return user.is_provider_lead and user.sees_personal_data and participant.provider_id == user.provider_id


def request_erasure(user, participant, *, reason: str, confirmation: str) -> Erasure:
    """Ask for the erasure of `participant` (one the lead can see): it is frozen now and erased
    after the review window."""
    if not may_request(user, participant):
        raise PermissionDenied
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = _("Please give the reason for the erasure (e.g. the person's request of a date).")
    if (confirmation or "").strip().upper() != participant.code:
        errors["confirmation"] = _("Type the participant's code %(code)s to confirm.") % {"code": participant.code}
    if participant.anonymised_on:
        errors["confirmation"] = _("This record has already been anonymised.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if Erasure.objects.filter(participant=locked, status=Erasure.Status.PENDING).exists():
            raise ValidationError({"confirmation": _("The erasure of this record has already been requested.")})
        erasure = Erasure.objects.create(district_id=locked.district_id, provider_id=locked.provider_id,
                                         participant=locked, reason=reason.strip(), requested_by=user,
                                         froze_record=not locked.restricted_on)
        if erasure.froze_record:
            locked.restricted_on, locked.restriction_reason = timezone.localdate(), RESTRICTED_FOR_ERASURE
            locked.save(update_fields=["restricted_on", "restriction_reason"])
        # No code in the entry: after the erasure nothing may lead from the log back to the person.
        record(user, Action.CREATE, erasure, changes={"Löschung ab": erasure.due_on})
    return erasure


def cancel_erasure(user, erasure: Erasure) -> Erasure:
    """Withdraw a pending erasure within the review window; a restriction it set is lifted."""
    if not (user.is_provider_lead and user.provider_id == erasure.provider_id):
        raise PermissionDenied
    with transaction.atomic():
        erasure = Erasure.objects.select_for_update().get(pk=erasure.pk)
        if erasure.status != Erasure.Status.PENDING:
            raise ValidationError(_("This erasure can no longer be cancelled."))
        erasure.status, erasure.decided_by, erasure.decided_at = Erasure.Status.CANCELLED, user, timezone.now()
        erasure.save(update_fields=["status", "decided_by", "decided_at"])
        participant = Participant.objects.select_for_update().get(pk=erasure.participant_id)
        if erasure.froze_record:
            participant.restricted_on, participant.restriction_reason = None, ""
            participant.save(update_fields=["restricted_on", "restriction_reason"])
        record(user, Action.UPDATE, erasure, changes={"status": [Erasure.Status.PENDING, erasure.status]})
    return erasure


def carry_out(erasure: Erasure, as_of, *, replaying=False) -> bool:
    """The erasure after its review window (by the retention job), in one transaction with the
    erasure locked: one cancelled meanwhile is never carried out. After a restore (`replaying`)
    the log says it was carried out already, whatever the restored window says."""
    with transaction.atomic():
        erasure = Erasure.objects.select_for_update().get(pk=erasure.pk)
        if erasure.status != Erasure.Status.PENDING or (erasure.due_on > as_of and not replaying):
            return False
        erase_participant(erasure.participant_id, as_of)
        erasure.status, erasure.decided_at, erasure.reason = Erasure.Status.DONE, timezone.now(), ""
        erasure.save(update_fields=["status", "decided_at", "reason"])
        record(None, Action.DELETE, erasure, changes={"status": [Erasure.Status.PENDING, erasure.status]})
    return True


def erase_participant(participant_id: int, as_of) -> None:
    """Every case of the person anonymised (open ones closed on the day), then the person."""
    with scopes_disabled():
        participant = Participant.objects.get(pk=participant_id)
        Case.objects.filter(participant_id=participant_id, closed_on__isnull=True,
                            anonymised_on__isnull=True).update(closed_on=as_of)
        for case_id in Case.objects.filter(participant_id=participant_id, anonymised_on__isnull=True).values_list(
                "pk", flat=True):
            anonymise_case(case_id, as_of, "erasure", erased=True)
        anonymise_participant(participant_id, as_of, "erasure", erased=True)
        _forget_files_of(participant)


ERASED_FILE = ("Die Datei wurde verworfen, weil eine Person des Trägers nach Art. 17 DSGVO gelöscht wurde und "
               "die Datei sie enthalten könnte. Bitte laden Sie sie erneut hoch.")


def _forget_files_of(participant):
    """Files and what was read from them (first rows, problems), still kept for runs of the
    provider: any of them may hold the person, so all go, and their page says why."""
    from kim.exchange.models import ImportRun
    from kim.exchange.services import expire_upload

    runs = ImportRun.objects.filter(provider_id=participant.provider_id).exclude(
        status__in=[ImportRun.Status.CHECKING, ImportRun.Status.IMPORTING])
    for run in runs.filter(content__isnull=False).defer("content"):
        expire_upload(run, message=ERASED_FILE)
    for run in runs.exclude(filename="–"):
        clear_upload(run)


def replay(as_of=None, *, slug=None, dry_run=False) -> dict:
    """After a restore: every key in the erasure log that the database holds unanonymised again
    is anonymised again; an erased person is erased again everywhere, and an erasure the
    restored database still shows as pending is carried out (not left to be cancelled).
    Lines that name no known district, kind or class are skipped and listed."""
    as_of = as_of or timezone.localdate()
    counts = {"erased": 0, "case": 0, "participant": 0, "skipped": []}
    with scopes_disabled(), erasure_log.replaying():
        districts = set(District.objects.values_list("slug", flat=True))
        entries = []
        for number, entry in enumerate(erasure_log.entries(), start=1):
            problem = _problem_of(entry, districts)
            if problem:
                counts["skipped"].append(f"Zeile {number}: {problem}")
            elif slug is None or entry["district"] == slug:
                entries.append(entry)
        erased = {(entry["district"], entry["id"]) for entry in entries
                  if entry["class"] == "erasure" and entry["kind"] == "participant"}
        for district_slug, pk in sorted(erased):
            participant = Participant.objects.filter(pk=pk, district__slug=district_slug).first()
            if participant is None:
                continue
            pending = Erasure.objects.filter(participant=participant, status=Erasure.Status.PENDING).first()
            if pending or participant.anonymised_on is None:
                counts["erased"] += 1
                if not dry_run:
                    carry_out(pending, as_of, replaying=True) if pending else erase_participant(pk, as_of)
        for entry in entries:
            if (entry["district"], entry["id"]) in erased and entry["kind"] == "participant":
                continue
            model = Case if entry["kind"] == "case" else Participant
            if not model.objects.filter(pk=entry["id"], district__slug=entry["district"],
                                        anonymised_on__isnull=True).exists():
                continue
            if dry_run:
                counts[entry["kind"]] += 1
            elif entry["kind"] == "case":
                done = anonymise_case(entry["id"], as_of, entry["class"], erased=entry["class"] == "erasure")
                counts["case"] += "case" in done
                counts["participant"] += "participant" in done
            else:
                counts["participant"] += anonymise_participant(entry["id"], as_of, entry["class"])
    return counts


def _problem_of(entry, districts) -> str:
    """Why a line of the log cannot be replayed (a class renamed later, a district not here), or ""."""
    if entry.get("district") not in districts:
        return f"Kreis „{entry.get('district')}“ gibt es hier nicht"
    if entry.get("class") not in CLASSES:
        return f"unbekannte Löschklasse „{entry.get('class')}“"
    return ""
