"""A case handed to another provider of the district: a transfer (the participant moves, the
case manager changes employer, the district takes the case over) closes the sender's case;
the handover that goes with a referral to a partner that is itself a provider here leaves it
open. Both need the participant's release from confidentiality towards the receiver, and the
receiver gets exactly what the release covers (kim.privacy.release.CATEGORIES), copied by
one function (`copy_released`). The sender keeps its own case under its own retention rules.

Audited once on each side: the sender's provider reads what left it, the receiver's provider
what arrived, with pseudonymous codes and case numbers only, never a person's values."""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kim.casework import rules
from kim.casework.models import (
    Appointment,
    Assessment,
    AssessmentItem,
    Case,
    CaseKind,
    Consent,
    Goal,
    GoalStatus,
    Participant,
    Phase,
    PlanAction,
    new_participant_code,
)
from kim.core.audit import Action, record
from kim.core.defaults import CLOSURE_REASONS, TRANSFER_CLOSURE_KEY
from kim.core.models import ClosureReason, Provider, ReferralTarget, Role, User

from .models import Transfer
from .release import CATEGORIES, released_categories

# Required fields of a participant that a release may not cover: they get these values, and
# the transfer says so (Transfer.neutral_fields). The last name becomes the new code.
NEUTRAL_NAME = "–"
NEUTRAL_BIRTH_DATE = date(1900, 1, 1)
RECEIVING_ROLES = (Role.CASE_MANAGER, Role.PROVIDER_LEAD)


# ---------------------------------------------------------------- what the release allows

def released_targets(participant: Participant, on=None):
    """Referral targets standing for a provider that a consent in force releases towards."""
    on = on or timezone.localdate()
    in_force = Consent.objects.filter(participant=participant, given_on__lte=on).filter(
        Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gt=on))
    return ReferralTarget.objects.filter(provider__isnull=False, pk__in=in_force.values("released_to"))


def receiving_providers(participant: Participant, sender_id, on=None):
    """Providers of the district the participant released the sender towards (not the sender),
    for data of at least one category: a release of nothing offers nobody to hand over to."""
    candidates = Provider.objects.filter(pk__in=released_targets(participant, on).values("provider"),
                                         active=True).exclude(pk=sender_id)
    return candidates.filter(pk__in=[p.pk for p in candidates if categories_towards(participant, p, on)])


def categories_towards(participant: Participant, receiver: Provider, on=None) -> set[str]:
    """The categories released towards `receiver`, over every referral target standing for it."""
    categories = set()
    for target in ReferralTarget.objects.filter(provider=receiver):
        categories |= released_categories(participant, target, on)
    return categories


def receiving_staff(providers):
    """Who may take a case over at `providers`: their active case managers and leads."""
    return (User.objects.filter(provider__in=providers, role__in=RECEIVING_ROLES, is_active=True)
            .select_related("provider").order_by("provider__name", "last_name", "first_name"))


# ---------------------------------------------------------------- checks

def _refuse(message, field=None):
    raise ValidationError({field: message} if field else message)


def _lock_case(actor, case: Case) -> Case:
    """The case as the actor may see it, locked: two transfers at once run one after the other,
    and the second finds the case closed."""
    if not actor.sees_personal_data:
        raise PermissionDenied
    locked = Case.objects.visible_to(actor).select_for_update().filter(pk=case.pk).first()
    if locked is None:
        raise PermissionDenied
    return locked


def _check_participant(case: Case):
    participant = case.participant
    if participant is None or participant.anonymised_on:
        _refuse(_("The participant's data have been anonymised: there is nothing to hand over."))
    if participant.restricted_on:
        _refuse(_("The processing of this participant's data is restricted: the case cannot be handed over."))


def _receiving_manager(receiver: Provider, case_manager: User | None) -> User:
    """The chosen case manager of the receiver, or without a choice the receiver's lead."""
    if case_manager is None:
        case_manager = receiving_staff([receiver]).filter(role=Role.PROVIDER_LEAD).first()
        if case_manager is None:
            _refuse(_("%(provider)s has no provider lead in the KIM-Fachdatenbank: choose the receiving "
                      "case manager.") % {"provider": receiver.name}, "case_manager")
    if case_manager.provider_id != receiver.pk or case_manager.role not in RECEIVING_ROLES \
            or not case_manager.is_active:
        _refuse(_("The receiving case manager does not work for %(provider)s.") % {"provider": receiver.name},
                "case_manager")
    return case_manager


def _check_receiver(case: Case, receiver: Provider | None, on) -> set[str]:
    """The categories released towards `receiver`; refused when there are none."""
    if receiver is None:
        _refuse(_("Choose the receiving provider."), "receiver")
    if receiver.pk == case.provider_id:
        _refuse(_("The case already is with your provider: choose another provider."), "receiver")
    if receiver.district_id != case.district_id or not receiver.active:
        _refuse(_("This provider cannot receive cases of the district."), "receiver")
    categories = categories_towards(case.participant, receiver, on)
    if not categories:
        _refuse(_("The participant has not released you from confidentiality towards %(provider)s "
                  "(or the release covers no data). Record the release first; nothing has been handed over.")
                % {"provider": receiver.name}, "receiver")
    return categories


def _check_date(case: Case, on):
    problem = rules.record_date_problem(on)
    if problem:
        _refuse(problem, "transferred_on")
    latest = case.goals.aggregate(agreed=Max("agreed_on"), changed=Max("status_changed_on"))
    problems = rules.closure_problems(
        opened_on=case.opened_on, closed_on=on,
        last_appointment_on=case.appointments.aggregate(last=Max("date"))["last"],
        last_goal_on=max(filter(None, latest.values()), default=None), open_goals=0)
    if "closed_on" in problems:
        _refuse(problems["closed_on"], "transferred_on")


# ---------------------------------------------------------------- the copy

def _participant_values(source: Participant, fields: set[str]) -> tuple[dict, list[str]]:
    """The receiver's participant: released fields copied, required ones not released neutral.
    The municipality always goes with it: every case of the district is counted in a town."""
    values, neutral = {"municipality_id": source.municipality_id}, []
    for name in ("first_name", "last_name", "birth_date", "gender", "address", "phone", "email",
                 "nationalities", "languages", "entry_date", "residence_status"):
        if name in fields:
            values[name] = getattr(source, name)
    for name, value in (("first_name", NEUTRAL_NAME), ("last_name", NEUTRAL_NAME),
                        ("birth_date", NEUTRAL_BIRTH_DATE)):
        if name not in values:
            values[name] = value
            neutral.append(name)
    return values, neutral


def _copy_goals_and_plan(source: Case, target: Case) -> dict[str, int]:
    goals = {}
    for goal in source.goals.all():
        # Goals reached or given up were counted at the sender: the copy is shown, not counted.
        goals[goal.pk] = Goal.objects.create(
            case=target, category_id=goal.category_id, text=goal.text, agreed_on=goal.agreed_on,
            due_on=goal.due_on, status=goal.status, status_changed_on=goal.status_changed_on,
            handed_over=goal.status != GoalStatus.OPEN)
    actions = [PlanAction(case=target, goal=goals.get(action.goal_id), description=action.description,
                          responsible=action.responsible, due_on=action.due_on, done_on=action.done_on)
               for action in source.actions.all()]
    PlanAction.objects.bulk_create(actions)
    return {"goals": len(goals), "actions": len(actions)}


def _copy_assessments(source: Case, target: Case) -> dict[str, int]:
    copies = {}
    for assessment in source.assessments.order_by("assessed_on", "pk").prefetch_related("items"):
        copy = Assessment.objects.create(
            case=target, kind=assessment.kind, assessed_on=assessment.assessed_on, summary=assessment.summary,
            author_id=assessment.author_id, previous=copies.get(assessment.previous_id))
        AssessmentItem.objects.bulk_create(
            AssessmentItem(assessment=copy, life_domain_id=item.life_domain_id, situation=item.situation,
                           resources=item.resources, wishes=item.wishes, need=item.need)
            for item in assessment.items.all())
        copies[assessment.pk] = copy
    return {"assessments": len(copies)}


def _copy_appointments(source: Case, target: Case) -> dict[str, int]:
    count = 0
    for appointment in source.appointments.prefetch_related("topics", "language_support"):
        # The sender's work, counted there: at the receiver it is history (`handed_over`).
        copy = Appointment.objects.create(
            district_id=target.district_id, provider_id=target.provider_id, case_manager=target.case_manager,
            case=target, kind=appointment.kind, date=appointment.date,
            duration_minutes=appointment.duration_minutes, place=appointment.place, handed_over=True)
        copy.topics.set(appointment.topics.all())
        copy.language_support.set(appointment.language_support.all())
        count += 1
    return {"appointments": count}


def copy_released(source: Case, receiver: Provider, case_manager: User, categories: set[str], *,
                  kind: str, opened_on) -> tuple[Case, list[str], dict[str, int]]:
    """A new participant and case at `receiver`, holding what `categories` release: the new
    case, the required fields that hold a neutral value, and how many records were copied.
    The new case opens on `opened_on` (it is a new case of the receiver: the figures of past
    years stay as they were); the history it carries is never counted again."""
    fields = {name for key in categories for name in CATEGORIES[key][1].get("participant", [])}
    values, neutral = _participant_values(source.participant, fields)
    participant = Participant(district_id=source.district_id, provider=receiver, responsible=case_manager,
                              code=new_participant_code(), **values)
    if "last_name" in neutral:
        participant.last_name = participant.code  # found by its code, told apart from other copies
    participant.full_clean()
    participant.save()
    with_course = "case" in categories
    same_cycle = with_course and kind == source.kind == CaseKind.CASE_MANAGEMENT
    target = Case(
        district_id=source.district_id, provider=receiver, participant=participant, kind=kind,
        phase=source.phase if same_cycle else Phase.INTAKE, case_manager=case_manager,
        municipality_id=source.municipality_id, opened_on=opened_on,
        target_group_id=source.target_group_id if with_course else None,
        referral_source_id=source.referral_source_id if with_course else None,
    )
    target.full_clean()
    target.save()
    copied = {}
    if with_course:
        copied.update(_copy_goals_and_plan(source, target))
    if "assessment" in categories:
        copied.update(_copy_assessments(source, target))
    if "appointments" in categories:
        copied.update(_copy_appointments(source, target))
    return target, neutral, copied


def _record_transfer(actor, source: Case, target: Case, *, kind, on, categories, neutral, note) -> Transfer:
    transfer = Transfer(district_id=source.district_id, kind=kind, sender_id=source.provider_id,
                        receiver_id=target.provider_id, source_case=source, target_case=target,
                        transferred_on=on, categories=sorted(categories), neutral_fields=neutral,
                        note=note, created_by=actor)
    transfer.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            transfer.save()
    except IntegrityError:
        # The same case handed to the same place at the same moment by a second request.
        raise ValidationError(_("This case has just been handed over; nothing more has been changed.")) from None
    return transfer


def _audit_arrival(actor, source: Case, target: Case, categories, neutral, copied):
    """The receiver's one entry: which case arrived from where, with what (no values)."""
    record(actor, Action.CREATE, target, changes={
        "participant": [None, target.participant.code], "kind": [None, target.kind],
        "from_provider": [None, source.provider_id], "from_case": [None, source.number],
        "released": [None, sorted(categories)], "neutral_fields": [None, neutral],
        **{f"copied_{name}": [None, n] for name, n in copied.items()},
    })


def transfer_closure_reason(district_id) -> ClosureReason:
    """The district's closure reason for a transfer (a statewide default; added if missing)."""
    reason, _created = ClosureReason.objects.get_or_create(
        district_id=district_id, key=TRANSFER_CLOSURE_KEY,
        defaults={"label": dict(CLOSURE_REASONS)[TRANSFER_CLOSURE_KEY], "sort_order": 75})
    return reason


# ---------------------------------------------------------------- the two services

@transaction.atomic
def transfer_case(actor, case: Case, *, receiver: Provider, case_manager: User | None, transferred_on,
                  note: str = "") -> Transfer:
    """Hand `case` over to `receiver` and close it here on `transferred_on`. Refused, with
    nothing changed, without a release towards the receiver, for a restricted participant or
    a closed case."""
    case = _lock_case(actor, case)
    if not case.is_open:
        _refuse(_("The case is closed: a closed case cannot be transferred."))
    _check_participant(case)
    categories = _check_receiver(case, receiver, transferred_on)
    case_manager = _receiving_manager(receiver, case_manager)
    _check_date(case, transferred_on)
    target, neutral, copied = copy_released(case, receiver, case_manager, categories, kind=case.kind,
                                            opened_on=transferred_on)
    transfer = _record_transfer(actor, case, target, kind=Transfer.Kind.TRANSFER, on=transferred_on,
                                categories=categories, neutral=neutral, note=note)
    phase_before = case.phase
    case.closed_on, case.closure_reason, case.phase = transferred_on, transfer_closure_reason(case.district_id), Phase.CLOSED
    case.save(update_fields=["closed_on", "closure_reason", "phase"])
    record(actor, Action.UPDATE, case, changes={
        "closed_on": [None, transferred_on.isoformat()], "closure_reason": [None, case.closure_reason_id],
        "phase": [phase_before, Phase.CLOSED], "transferred_to": [None, receiver.pk],
        "to_case": [None, target.number], "released": [None, sorted(categories)],
    })
    _audit_arrival(actor, case, target, categories, neutral, copied)
    return transfer


@transaction.atomic
def refer_and_hand_over(actor, case: Case, values: dict, *, case_manager: User | None, kind: str = "") -> Transfer:
    """Record a referral to a partner that is a provider here and hand the released data over
    to it (`values` as for kim.casework.services.add_referral): the receiver gets a new case of
    `kind` (default: the same kind), the sender's case stays open."""
    from kim.casework.services import add_referral  # the referral's own rules and its entry

    case = _lock_case(actor, case)
    receiver = values["target"].provider
    if receiver is None:
        _refuse(_("This partner is not a provider in the KIM-Fachdatenbank: the data cannot be handed over here."),
                "target")
    if not case.is_open:
        _refuse(_("The case is closed: its data can no longer be handed over."))
    _check_participant(case)
    earlier = Transfer.objects.filter(source_case=case, receiver=receiver, kind=Transfer.Kind.HANDOVER).first()
    if earlier:
        # One copy per receiver: a later release is the receiver's to ask for on its own copy.
        _refuse(_("This case was handed over to %(receiver)s on %(day)s already (their case %(case)s). Record the "
                  "referral without handing the data over again.") % {
            "receiver": receiver, "day": f"{earlier.transferred_on:%d.%m.%Y}", "case": earlier.target_case.number},
            "hand_over")
    on = values["referred_on"]
    categories = _check_receiver(case, receiver, on)
    case_manager = _receiving_manager(receiver, case_manager)
    kind = kind or case.kind
    if kind not in CaseKind.values:
        _refuse(_("Choose the kind of case."), "kind")
    target, neutral, copied = copy_released(case, receiver, case_manager, categories, kind=kind, opened_on=on)
    transfer = _record_transfer(actor, case, target, kind=Transfer.Kind.HANDOVER, on=on,
                                categories=categories, neutral=neutral, note=values.get("note", ""))
    add_referral(actor, case, values, audit_extra={"handed_over_to": [None, receiver.pk],
                                                   "to_case": [None, target.number],
                                                   "released": [None, sorted(categories)]})
    _audit_arrival(actor, case, target, categories, neutral, copied)
    return transfer
