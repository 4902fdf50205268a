"""The retention job: what is due is anonymised or deleted, class by class (kim.privacy.registry).

Anonymisation keeps every figure: the rows the reports count stay, only what identifies a
person goes (names, contact data, address, free texts, identifiers from files, the code); the
birth date becomes the first day of its quarter. A participant whose cases have all been
anonymised keeps only that statistical trace. Each case is one transaction with one audit
entry, so a run killed halfway leaves every case either done or untouched, and the next run
goes on where it stopped. Each anonymised or erased key is also written to the erasure log
outside the database (kim.privacy.erasure_log), so that a restored backup can be made to
forget again (`kim retention replay`)."""

import calendar
from collections import Counter
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django_scopes import scopes_disabled

from kim.casework.models import (Appointment, Assessment, AssessmentItem, Case, CaseKind, Consent, Goal, Household,
                                 Participant, PlanAction, Referral, new_participant_code)
from kim.core.audit import REDACTED_LABELS, Action, record, redact
from kim.core.audit import entry as audit_entry
from kim.core.models import AuditEntry, District

from kim.exchange.models import process_is_gone, this_process

from . import erasure_log
from .models import Erasure, RetentionPeriod, RetentionRun, Transfer
from .registry import CLASSES, EMPTY, fields_with

SHORT_KINDS = (CaseKind.SHORT_COUNSELLING, CaseKind.REFERRAL, CaseKind.SCREENING)
# The classes a district's run carries out; logins, sessions, tokens and tasks belong to no district.
DISTRICT_CLASSES = ("case_data", "short_counselling", "consent_withdrawn", "erasure", "module3", "uploads",
                    "read_log")
# How redacted entries read (the database allows these labels only).
ANONYMISED, ERASED = REDACTED_LABELS

# The sheets of the standard workbook whose identifiers name records of these models.
SHEETS_OF = {
    "casework.participant": ("Teilnehmende",), "casework.household": ("Haushalte",),
    "casework.consent": ("Einwilligungen",), "casework.case": ("Fälle",), "casework.assessment": ("Assessments",),
    "casework.goal": ("Ziele",), "casework.planaction": ("Maßnahmen",), "casework.referral": ("Verweise",),
    "casework.appointment": ("Termine",),
}


class RetentionBusy(Exception):
    """Another run of the district's retention is going on; the message is for the operator."""


# ---------------------------------------------------------------- periods

def period(district, key: str) -> int:
    """The district's period for a deletion class, or the class's default."""
    own = RetentionPeriod.objects.filter(district=district, deletion_class=key).values_list("period", flat=True).first()
    return CLASSES[key].default if own is None else own


def months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def year_end_cutoff(as_of: date, months: int) -> date:
    """Records whose year ended `months` ago or longer: their date lies before the returned day
    (closed in 2022, 36 months: due from 1 January 2026)."""
    return date(months_before(as_of, months).year, 1, 1)


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# ---------------------------------------------------------------- what is due

def due_cases(district, as_of: date):
    """Cases not yet anonymised whose class is due: closed long enough ago (case management,
    shorter contacts), or of a person whose consent was withdrawn and not given again."""
    # A restricted record is kept (Art. 18(1)(b, c) GDPR); one frozen for its erasure goes with it.
    erasing = Erasure.objects.filter(participant=OuterRef("participant"), status=Erasure.Status.PENDING)
    live = Case.objects.filter(district=district, anonymised_on__isnull=True).exclude(
        Q(participant__restricted_on__isnull=False) & ~Exists(erasing))
    case_cutoff = year_end_cutoff(as_of, period(district, "case_data"))
    short_cutoff = year_end_cutoff(as_of, period(district, "short_counselling"))
    closed = Q(kind=CaseKind.CASE_MANAGEMENT, closed_on__lt=case_cutoff) | Q(kind__in=SHORT_KINDS,
                                                                              closed_on__lt=short_cutoff)
    return {
        "case_data": live.filter(closed & Q(kind=CaseKind.CASE_MANAGEMENT)),
        "short_counselling": live.filter(closed & Q(kind__in=SHORT_KINDS)),
        "consent_withdrawn": live.exclude(closed).filter(participant__in=withdrawn_participants(district, as_of)),
    }


def withdrawn_participants(district, as_of: date):
    """Participants who withdrew their consent long enough ago and hold no consent in force."""
    cutoff = months_before(as_of, period(district, "consent_withdrawn"))
    in_force = Consent.objects.filter(participant=OuterRef("pk"), covers_processing=True, given_on__lte=as_of).filter(
        Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gt=as_of))
    return (Participant.objects.filter(district=district, anonymised_on__isnull=True)
            .annotate(last_withdrawal=Max("consents__withdrawn_on")).filter(last_withdrawal__lte=cutoff)
            .exclude(Exists(in_force)).values("pk"))


def due_participants_without_cases(district, as_of: date):
    """People recorded without any case: their record goes like a case closed the year it was made."""
    cutoff = year_end_cutoff(as_of, period(district, "case_data"))
    return (Participant.objects.filter(district=district, anonymised_on__isnull=True, restricted_on__isnull=True,
                                       created_at__lt=start_of(cutoff))
            .exclude(Exists(Case.objects.filter(participant=OuterRef("pk")))))


def due_erasures(district, as_of: date):
    return Erasure.objects.filter(district=district, status=Erasure.Status.PENDING, due_on__lte=as_of)


def due_procedures(district, as_of: date):
    from kim.residence.models import Procedure

    cutoff = year_end_cutoff(as_of, period(district, "module3"))
    return Procedure.objects.filter(district=district, decided_on__lt=cutoff).filter(
        ~Q(reference="") | Q(participant__isnull=False))


def due_uploads(district, as_of: date):
    from kim.exchange.models import ImportRun

    cutoff = start_of(as_of) - timedelta(days=period(district, "uploads"))
    busy = [ImportRun.Status.CHECKING, ImportRun.Status.IMPORTING]
    return ImportRun.objects.filter(district=district, created_at__lt=cutoff, content__isnull=True).exclude(
        status__in=busy).exclude(problems=[], unknown_values=[], identity_changes=[], warnings=[], filename="–")


def due_read_entries(district, as_of: date):
    # The database lets no read go that is younger than a year (core migration 0014), whatever
    # day the run is asked to reckon from.
    cutoff = min(start_of(months_before(as_of, period(district, "read_log"))), timezone.now() - timedelta(days=366))
    return AuditEntry.objects.filter(district=district, action=Action.READ, at__lt=cutoff)


# ---------------------------------------------------------------- anonymising

def anonymise_case(case_id: int, as_of: date, deletion_class: str, *, erased=False) -> set[str]:
    """One case: its free texts and file identifiers go, its audit entries are redacted, and
    the person's record too when this was the person's last live case. One transaction;
    returns what was anonymised ({"case"}, {"case", "participant"}, or nothing when another
    run was first)."""
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id, anonymised_on__isnull=True).first()
        if case is None:
            return set()
        erasure_log.append(case.district, "case", case.pk, deletion_class)
        children = {
            "casework.assessment": Assessment.objects.filter(case=case),
            "casework.goal": Goal.objects.filter(case=case),
            "casework.planaction": PlanAction.objects.filter(case=case),
            "casework.referral": Referral.objects.filter(case=case),
            "casework.appointment": Appointment.objects.filter(case=case),
        }
        ids = {label: list(queryset.values_list("pk", flat=True)) for label, queryset in children.items()}
        for label, queryset in children.items():
            _empty(label, queryset)
        items = AssessmentItem.objects.filter(assessment__case=case)
        _empty("casework.assessmentitem", items)
        # The note of a transfer goes with either of its cases (kim.privacy.transfer).
        _empty("privacy.transfer", Transfer.objects.filter(Q(source_case=case) | Q(target_case=case)))
        ids["casework.case"] = [case.pk]
        _forget_identifiers(case.district_id, ids)
        _redact(case.district_id, ids, _label(erased))
        _redact_lists(case, case.number, _label(erased))
        case.external_id, case.anonymised_on = "", as_of
        case.save(update_fields=["external_id", "anonymised_on"])
        _record_anonymised(case, deletion_class, erased)
        if case.participant_id and not Case.objects.filter(participant_id=case.participant_id,
                                                           anonymised_on__isnull=True).exists():
            participant = Participant.objects.select_for_update().filter(pk=case.participant_id,
                                                                         anonymised_on__isnull=True).first()
            if participant:
                _anonymise_participant(participant, as_of, deletion_class, erased=erased)
                return {"case", "participant"}
    return {"case"}


def anonymise_participant(participant_id: int, as_of: date, deletion_class: str, *, erased=False) -> bool:
    """A person's record on its own (one without cases, or the last step of an erasure)."""
    with transaction.atomic():
        participant = Participant.objects.select_for_update().filter(pk=participant_id,
                                                                      anonymised_on__isnull=True).first()
        if participant is None:
            return False
        _anonymise_participant(participant, as_of, deletion_class, erased=erased)
    return True


def _anonymise_participant(participant, as_of, deletion_class, *, erased=False):
    erasure_log.append(participant.district, "participant", participant.pk, deletion_class)
    consents = Consent.objects.filter(participant=participant)
    ids = {"casework.participant": [participant.pk], "casework.consent": list(consents.values_list("pk", flat=True))}
    _empty("casework.consent", consents)
    household_id = participant.household_id
    _redact_lists(participant, participant.code, _label(erased))
    for name in fields_with("casework.participant", EMPTY):
        setattr(participant, name, _blank(Participant, name))
    participant.birth_date = quarter_start(participant.birth_date)
    participant.entry_date = participant.entry_date and quarter_start(participant.entry_date)
    participant.code = new_participant_code()
    participant.household = None
    participant.anonymised_on = as_of
    participant.save()
    # save() folds the new code into the search text; an anonymous record is found by nobody.
    Participant.objects.filter(pk=participant.pk).update(search_text="", sort_name="")
    if household_id and not Participant.objects.filter(household_id=household_id).exists():
        Household.objects.filter(pk=household_id).update(name="")
        ids["casework.household"] = [household_id]
    _unlink_procedures(participant)
    _forget_identifiers(participant.district_id, ids)
    _redact(participant.district_id, ids, _label(erased))
    _record_anonymised(participant, deletion_class, erased)


def _redact_lists(obj, shown_as, label):
    """Reads of list pages name each record listed by its code or case number
    (kim.casework.reads): the entries that listed this one are redacted too."""
    redact(AuditEntry.objects.filter(district_id=obj.district_id, provider_id=obj.provider_id, action=Action.READ,
                                     object_id="", changes__icontains=f'"{shown_as}"'), label)


def _record_anonymised(obj, deletion_class, erased):
    """The record's own entry, labelled like its redacted ones: neither code nor case number."""
    audit_entry(None, Action.UPDATE, obj, changes={"anonymisiert": CLASSES[deletion_class].title},
                label=_label(erased)).save()


def _label(erased) -> str:
    return ERASED if erased else ANONYMISED


def _blank(model, name):
    """What an emptied field holds: nothing where it may be null (a date), else the empty text."""
    return None if model._meta.get_field(name).null else ""


def _empty(label, queryset):
    names = fields_with(label, EMPTY)
    if names:
        queryset.update(**{name: _blank(queryset.model, name) for name in names})


def _unlink_procedures(participant):
    from kim.residence.models import Procedure

    Procedure.objects.filter(participant=participant).update(participant=None)


def _forget_identifiers(district_id, ids_by_label):
    """The identifiers the records had in imported files (they may be made of names)."""
    from kim.exchange.models import ImportedRecord

    for label, ids in ids_by_label.items():
        if ids and label in SHEETS_OF:
            ImportedRecord.objects.filter(district_id=district_id, sheet__in=SHEETS_OF[label],
                                          object_id__in=ids).delete()


def _redact(district_id, ids_by_label, label):
    for object_type, ids in ids_by_label.items():
        for start in range(0, len(ids), 500):
            redact(AuditEntry.objects.filter(district_id=district_id, object_type=object_type,
                                             object_id__in=[str(pk) for pk in ids[start:start + 500]]), label)


# ---------------------------------------------------------------- the other classes

def clear_procedure(procedure, as_of) -> bool:
    with transaction.atomic():
        # Still due, seen under lock: a run at the same time may have been first.
        procedure = (due_procedures(procedure.district, as_of).select_for_update(of=("self",))
                     .filter(pk=procedure.pk).first())
        if procedure is None:
            return False
        procedure.reference, procedure.participant = "", None
        procedure.save(update_fields=["reference", "participant"])
        _redact(procedure.district_id, {"residence.procedure": [procedure.pk]}, ANONYMISED)
        record(None, Action.UPDATE, procedure, changes={"anonymisiert": CLASSES["module3"].title})
    return True


def clear_upload(run):
    """What was read from an imported file (first rows, problems, unknown values), after the period."""
    from kim.exchange.services import forget_what_was_read

    with transaction.atomic():
        fields = forget_what_was_read(run)
        run.warnings, run.filename = [], "–"  # warnings quote values, a file name may carry a name
        run.save(update_fields=[*fields, "warnings", "filename"])
        record(None, Action.UPDATE, run, changes={"gelöscht": CLASSES["uploads"].title})


def delete_read_entries(queryset) -> int:
    ids = list(queryset.values_list("pk", flat=True))
    for start in range(0, len(ids), 500):
        chunk = AuditEntry.objects.filter(pk__in=ids[start:start + 500])
        redact(chunk, ANONYMISED)
        # The database allows deleting a redacted entry of a read older than a year (core migration 0014).
        QuerySet.delete(chunk)
    return len(ids)


def delete_access_traces(as_of) -> Counter:
    """Expired sessions, old failed logins, tokens revoked or expired long enough ago, finished tasks."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.sessions.models import Session
    from django_tasks_db.models import DBTaskResult

    from kim.api.models import ApiToken

    counts = Counter()
    days = CLASSES["access"].default
    cutoff = start_of(as_of) - timedelta(days=days)
    counts["access"] += Session.objects.filter(expire_date__lt=start_of(as_of)).delete()[0]
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        counts["access"] += model.objects.filter(attempt_time__lt=cutoff).delete()[0]
    counts["access"] += ApiToken.objects.filter(Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff)).delete()[0]
    task_cutoff = start_of(as_of) - timedelta(days=CLASSES["worker"].default)
    counts["worker"] += DBTaskResult.objects.filter(finished_at__lt=task_cutoff).delete()[0]
    return counts


# ---------------------------------------------------------------- the run

def plan(district, as_of: date) -> dict[str, int]:
    """What is due in the district, per deletion class, as counts (the dry run)."""
    with scopes_disabled():
        due = due_cases(district, as_of)
        counts = {key: queryset.count() for key, queryset in due.items()}
        # People whose every live case is due: their record goes with the last one.
        due_here = due["case_data"] | due["short_counselling"] | due["consent_withdrawn"]
        staying = Case.objects.filter(participant=OuterRef("pk"), anonymised_on__isnull=True).exclude(
            pk__in=due_here.values("pk"))
        with_due = Participant.objects.filter(district=district, anonymised_on__isnull=True,
                                              pk__in=due_here.values("participant"))
        counts["participants"] = (due_participants_without_cases(district, as_of).count()
                                  + with_due.exclude(Exists(staying)).count())
        counts["erasure"] = due_erasures(district, as_of).count()
        counts["module3"] = due_procedures(district, as_of).count()
        counts["uploads"] = due_uploads(district, as_of).count()
        counts["read_log"] = due_read_entries(district, as_of).count()
    return counts


def run(district, as_of: date | None = None, *, dry_run=False) -> RetentionRun:
    """Carry out (or, dry, count) what is due in `district` on `as_of`, audited as one run
    with counts per class and no personal data."""
    as_of = as_of or timezone.localdate()
    with scopes_disabled():
        # A run killed without a trace (kill -9) stays "running": after a while it was not.
        stale = timezone.now() - timedelta(minutes=settings.KIM_STALE_RUN_MINUTES)
        RetentionRun.objects.filter(status=RetentionRun.Status.RUNNING, started_at__lt=stale).update(
            status=RetentionRun.Status.FAILED)
        with transaction.atomic():
            # One run of a district at a time: the district's row is the lock while this one starts.
            District.objects.select_for_update().filter(pk=district.pk).first()
            busy = RetentionRun.objects.filter(district=district, status=RetentionRun.Status.RUNNING,
                                               dry_run=False).first()
            if busy and busy.worker and process_is_gone(busy.worker):
                RetentionRun.objects.filter(pk=busy.pk).update(status=RetentionRun.Status.FAILED)
                busy = None
            if busy and not dry_run:
                raise RetentionBusy(f"Für {district} läuft bereits ein Lauf der Löschfristen (seit "
                                    f"{timezone.localtime(busy.started_at):%d.%m.%Y %H:%M} Uhr).")
            retention_run = RetentionRun.objects.create(district=district, as_of=as_of, dry_run=dry_run,
                                                        worker=this_process())
        try:
            counts = plan(district, as_of) if dry_run else _carry_out(district, as_of)
        except BaseException:
            RetentionRun.objects.filter(pk=retention_run.pk).update(status=RetentionRun.Status.FAILED,
                                                                    finished_at=timezone.now())
            raise
        with transaction.atomic():
            retention_run.counts, retention_run.status = counts, RetentionRun.Status.DONE
            retention_run.finished_at = timezone.now()
            retention_run.save()
            record(None, Action.UPDATE, retention_run, changes={"Stichtag": as_of.isoformat(), "Probelauf": dry_run,
                                                               "Anzahlen": counts})
    return retention_run


def _carry_out(district, as_of) -> dict[str, int]:
    from .erasure import carry_out

    # Cases per class, and the records of people whose last case went with them.
    counts = Counter({key: 0 for key in DISTRICT_CLASSES})
    counts["participants"] = 0
    for erasure in list(due_erasures(district, as_of)):
        counts["erasure"] += carry_out(erasure, as_of)  # not if cancelled meanwhile
    for key, queryset in due_cases(district, as_of).items():
        for case_id in list(queryset.values_list("pk", flat=True)):
            done = anonymise_case(case_id, as_of, key)
            counts[key] += "case" in done
            counts["participants"] += "participant" in done
    for participant_id in list(due_participants_without_cases(district, as_of).values_list("pk", flat=True)):
        counts["participants"] += anonymise_participant(participant_id, as_of, "case_data")
    for procedure in list(due_procedures(district, as_of)):
        counts["module3"] += clear_procedure(procedure, as_of)
    for upload in list(due_uploads(district, as_of)):
        clear_upload(upload)
        counts["uploads"] += 1
    counts["read_log"] += delete_read_entries(due_read_entries(district, as_of))
    return dict(counts)


def run_everywhere(as_of: date | None = None, *, slug: str | None = None, dry_run=False) -> list[RetentionRun]:
    """Every district (or the one named), then, when all run, the traces of logins, sessions,
    tokens and tasks, which belong to no district."""
    as_of = as_of or timezone.localdate()
    with scopes_disabled():
        chosen = list(District.objects.filter(slug=slug) if slug else District.objects.all())
    runs = [run(district, as_of, dry_run=dry_run) for district in chosen]
    if not slug and not dry_run:
        with scopes_disabled(), transaction.atomic():
            counts = dict(delete_access_traces(as_of))
            traces = RetentionRun.objects.create(as_of=as_of, counts=counts, status=RetentionRun.Status.DONE,
                                                 finished_at=timezone.now())
            record(None, Action.DELETE, traces, changes={"Stichtag": as_of.isoformat(), "Anzahlen": counts})
        runs.append(traces)
    return runs
