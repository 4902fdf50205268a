"""State changes of case work. Each function: one transaction, the change, one audit entry.

Callers pass objects they obtained through `visible_to(actor)`; the functions re-check the
rules of the case-management cycle and of consent, so that no path (form, import, API)
can skip them."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kim.core.audit import Action, record
from kim.core.models import User
from kim.core.services import create_object, update_object
from kim.privacy.restriction import refuse_if_frozen, withdrawal_despite_restriction

from . import rules
from .models import (
    Appointment,
    Assessment,
    AssessmentItem,
    Case,
    Consent,
    DeputyGrant,
    Goal,
    GoalStatus,
    Household,
    Participant,
    Phase,
    PlanAction,
    Referral,
)
from .search import words

# The case-management cycle after Reis: which phase may follow which.
NEXT_PHASES = {
    Phase.INTAKE: {Phase.ASSESSMENT},
    Phase.ASSESSMENT: {Phase.AGREEMENT},
    Phase.AGREEMENT: {Phase.IMPLEMENTATION},
    Phase.IMPLEMENTATION: {Phase.REASSESSMENT},
    Phase.REASSESSMENT: {Phase.AGREEMENT},
}


def _require_personal_data_role(actor):
    if not actor.sees_personal_data:
        raise PermissionDenied


def _refuse(problems: dict):
    """The rules' German messages as one ValidationError, field by field; nothing is written."""
    if problems:
        raise ValidationError(problems)


def _require_open(case: Case):
    if not case.is_open:
        raise ValidationError(_("The case is closed; reopen is not possible, open a new case."))


def _require_consent_for_case_management(case: Case, on=None):
    """Case management processes data on the basis of consent: without an active consent
    nothing more may be recorded. Other kinds of counselling are short and consent-free."""
    if case.is_case_management and case.participant and not case.participant.active_consent(on):
        raise ValidationError(
            _("There is no valid consent of the participant (withdrawn or missing). "
              "Record a new consent or close the case.")
        )


def find_possible_duplicates(actor, first_name, last_name, birth_date):
    """Participants of the actor's provider with the same name and birth date, the name
    compared as search compares it (Sahin is Şahin). Only their number is returned: a
    duplicate another case manager keeps stays invisible."""
    wanted = (words(first_name), words(last_name))
    same_birthday = Participant.objects.filter(provider_id=actor.provider_id, birth_date=birth_date)
    return sum(1 for first, last in same_birthday.values_list("first_name", "last_name")
               if (words(first), words(last)) == wanted)


# ---------------------------------------------------------------- participants

@transaction.atomic
def create_participant(actor: User, values: dict, consent: dict | None = None) -> Participant:
    _require_personal_data_role(actor)
    _refuse(rules.participant_problems(values.get("birth_date"), values.get("entry_date")))
    values = {"responsible": actor, **values}
    participant = create_object(
        actor, Participant, district_id=actor.district_id, provider_id=actor.provider_id, **values
    )
    if consent:
        add_consent(actor, participant, consent)
    return participant


@transaction.atomic
def update_participant(actor: User, participant: Participant, values: dict) -> Participant:
    _require_personal_data_role(actor)
    merged = {"birth_date": participant.birth_date, "entry_date": participant.entry_date, **values}
    _refuse(rules.participant_problems(merged["birth_date"], merged["entry_date"]))
    return update_object(actor, participant, values)


@transaction.atomic
def create_household(actor: User, name: str, members=()) -> Household:
    _require_personal_data_role(actor)
    existing = Household.objects.visible_to(actor).filter(name__iexact=name.strip()).first()
    if existing is not None:
        raise ValidationError({"new_household": _(
            "There is already a household “%(name)s”. Choose it under “Household”, or give the new one a "
            "name that tells the families apart (e.g. with the town)."
        ) % {"name": existing.name}})
    household = create_object(
        actor, Household, district_id=actor.district_id, provider_id=actor.provider_id, name=name
    )
    for member in members:
        update_object(actor, member, {"household": household})
    return household


@transaction.atomic
def add_consent(actor: User, participant: Participant, values: dict) -> Consent:
    _require_personal_data_role(actor)
    _refuse(rules.consent_problems(values.get("given_on"), participant.birth_date))
    values = {**values, **signed_documents(values.get("document_language", ""))}
    return create_object(actor, Consent, participant=participant, **values)


def signed_documents(language: str) -> dict:
    """The language of the signed bilingual texts and {document kind: version} of what was
    signed in it, so that the consent names the exact wording; nothing without a language
    (the fields keep their defaults, and the audit entry names no empty versions)."""
    if not language:
        return {}
    from kim.privacy.documents.registry import LANGUAGES, signed_versions  # the documents build on case work

    if language not in LANGUAGES:
        raise ValidationError({"document_language": _("Documents are not available in this language.")})
    return {"document_language": language, "document_versions": signed_versions(language)}


@transaction.atomic
def withdraw_consent(actor: User, consent: Consent, withdrawn_on) -> Consent:
    _require_personal_data_role(actor)
    if consent.withdrawn_on:
        raise ValidationError(_("This consent has already been withdrawn."))
    _refuse(rules.withdrawal_problems(consent.given_on, withdrawn_on))
    from kim.residence.services import release_withdrawn  # module 3 builds on case work

    with withdrawal_despite_restriction():
        consent = update_object(actor, consent, {"withdrawn_on": withdrawn_on})
        release_withdrawn(actor, consent)
    return consent


# ---------------------------------------------------------------- cases

def _check_case(participant: Participant, values: dict, confirmed: bool):
    """The rules of a case's own values, and the doubts about its target group, which the
    user must have confirmed (`confirm_target_group`)."""
    if "title_104c_issued_on" in values:
        values["title_104c_expires_on"] = rules.title_104c_expiry(values.get("title_104c_issued_on"),
                                                                  values.get("title_104c_expires_on"))
    _refuse({**rules.case_field_problems(values),
             **rules.case_opening_problems(values.get("opened_on"), participant.birth_date)})
    group = values.get("target_group")
    warnings = rules.target_group_warnings(
        group.key if group else "", group.label if group else "", opened_on=values.get("opened_on"),
        birth_date=participant.birth_date, entry_date=participant.entry_date)
    if warnings and not confirmed:
        raise ValidationError({"confirm_target_group": warnings})


@transaction.atomic
def open_case(actor: User, participant: Participant, values: dict) -> Case:
    """`values` may hold `confirm_target_group`: the user confirmed a target group the rules doubt."""
    _require_personal_data_role(actor)
    values = {"case_manager": actor, **values}
    confirmed = values.pop("confirm_target_group", False)
    if values["case_manager"].provider_id != actor.provider_id:
        raise ValidationError({"case_manager": _("The case manager works for another provider.")})
    _check_case(participant, values, confirmed)
    case = Case(participant=participant, **values)
    if case.is_case_management and not participant.active_consent(values.get("opened_on")):
        raise ValidationError(
            _("A case-management case can only be opened with the participant's consent. "
              "Record the consent first.")
        )
    return create_object(
        actor, Case, district_id=participant.district_id, provider_id=participant.provider_id,
        participant=participant, phase=Phase.INTAKE, **values,
    )


@transaction.atomic
def update_case(actor: User, case: Case, values: dict) -> Case:
    _require_personal_data_role(actor)
    values = dict(values)
    confirmed = values.pop("confirm_target_group", False)
    if case.participant is not None:
        merged = {"kind": case.kind, "opened_on": case.opened_on, "target_group": case.target_group,
                  "screening_outcome": case.screening_outcome, "title_104c_issued_on": case.title_104c_issued_on,
                  "title_104c_expires_on": case.title_104c_expires_on, **values}
        _check_case(case.participant, merged, confirmed)
        if "title_104c_issued_on" in values:
            values["title_104c_expires_on"] = merged["title_104c_expires_on"]  # the default expiry
    return update_object(actor, case, values)


@transaction.atomic
def advance_phase(actor: User, case: Case, to_phase: str) -> Case:
    _require_personal_data_role(actor)
    _require_open(case)
    if not case.is_case_management:
        raise ValidationError(_("Only case-management cases follow the phases of the cycle."))
    if to_phase not in NEXT_PHASES.get(case.phase, set()):
        raise ValidationError(
            _("The case cannot move from “%(from)s” to “%(to)s”.")
            % {"from": Phase(case.phase).label, "to": Phase(to_phase).label}
        )
    if to_phase == Phase.IMPLEMENTATION and not case.goals.filter(status=GoalStatus.OPEN).exists():
        raise ValidationError(_("Agree at least one goal before the plan is put into practice."))
    _require_consent_for_case_management(case)
    return update_object(actor, case, {"phase": to_phase})


@transaction.atomic
def close_case(actor: User, case: Case, closed_on, closure_reason, open_goals_status: str = "") -> Case:
    """Close the case after everything recorded in it. Goals still open take the outcome the
    user chose (`open_goals_status`: achieved, partly achieved or dropped), each change of a
    goal audited like a status change on the goal's own form."""
    _require_personal_data_role(actor)
    _require_open(case)
    open_goals = list(case.goals.filter(status=GoalStatus.OPEN))
    latest = case.goals.aggregate(agreed=Max("agreed_on"), changed=Max("status_changed_on"))
    _refuse(rules.closure_problems(
        opened_on=case.opened_on, closed_on=closed_on,
        last_appointment_on=case.appointments.aggregate(last=Max("date"))["last"],
        last_goal_on=max(filter(None, latest.values()), default=None),
        open_goals=len(open_goals), open_goals_status=open_goals_status,
    ))
    for goal in open_goals:
        update_object(actor, goal, {"status": open_goals_status, "status_changed_on": closed_on})
    return update_object(
        actor, case, {"closed_on": closed_on, "closure_reason": closure_reason, "phase": Phase.CLOSED}
    )


@transaction.atomic
def record_assessment(actor: User, case: Case, assessed_on, summary: str, items: list[dict]) -> Assessment:
    """An assessment (or re-assessment) per life domain; the case moves on to the goal
    agreement. A re-assessment keeps a link to the assessment it is compared with."""
    _require_personal_data_role(actor)
    refuse_if_frozen(case)  # written below without create_object
    _require_open(case)
    _require_consent_for_case_management(case, assessed_on)
    if case.phase not in (Phase.ASSESSMENT, Phase.REASSESSMENT):
        raise ValidationError(_("An assessment can be recorded in the assessment or re-assessment phase."))
    if assessed_on < case.opened_on:
        raise ValidationError({"assessed_on": _("The assessment cannot be before the case was opened.")})
    if not items:
        raise ValidationError(_("Assess at least one life domain."))
    previous = case.assessments.first()
    kind = Assessment.Kind.REASSESSMENT if case.phase == Phase.REASSESSMENT else Assessment.Kind.INITIAL
    assessment = Assessment.objects.create(
        case=case, kind=kind, assessed_on=assessed_on, summary=summary, author=actor,
        previous=previous if kind == Assessment.Kind.REASSESSMENT else None,
    )
    for item in items:
        AssessmentItem.objects.create(assessment=assessment, **item)
    case.phase = Phase.AGREEMENT
    case.save(update_fields=["phase"])
    record(actor, Action.CREATE, assessment, changes={
        "kind": [None, kind], "assessed_on": [None, assessed_on.isoformat()],
        "life_domains": [None, sorted(i["life_domain"].pk for i in items)],
        "phase": [None, Phase.AGREEMENT],
    })
    return assessment


@transaction.atomic
def add_goal(actor: User, case: Case, values: dict) -> Goal:
    _require_personal_data_role(actor)
    _require_open(case)
    _require_consent_for_case_management(case)
    _refuse(rules.goal_problems(values["agreed_on"], values.get("due_on"), opened_on=case.opened_on))
    Case.objects.select_for_update().filter(pk=case.pk).exists()  # two submissions of one form: one after the other
    same_day = case.goals.filter(category=values.get("category"), agreed_on=values["agreed_on"])
    if any(rules.same_text(goal.text, values["text"]) for goal in same_day):
        # The same goal agreed the same day is the same goal: a second click, or a second tab.
        raise ValidationError({"text": _("This goal, agreed on this day, is already recorded for the case.")})
    values.setdefault("status_changed_on", values["agreed_on"])
    return create_object(actor, Goal, case=case, **values)


@transaction.atomic
def set_goal_status(actor: User, goal: Goal, status: str, changed_on) -> Goal:
    _require_personal_data_role(actor)
    _require_open(goal.case)
    _refuse(rules.goal_status_problems(goal.agreed_on, changed_on))
    return update_object(actor, goal, {"status": status, "status_changed_on": changed_on})


@transaction.atomic
def add_plan_action(actor: User, case: Case, values: dict) -> PlanAction:
    _require_personal_data_role(actor)
    _require_open(case)
    _require_consent_for_case_management(case)
    goal = values.get("goal")
    if goal is not None and goal.case_id != case.pk:
        raise ValidationError({"goal": _("The goal belongs to another case.")})
    return create_object(actor, PlanAction, case=case, **values)


@transaction.atomic
def mark_plan_action_done(actor: User, action: PlanAction, done_on) -> PlanAction:
    _require_personal_data_role(actor)
    _require_open(action.case)
    return update_object(actor, action, {"done_on": done_on})


@transaction.atomic
def add_referral(actor: User, case: Case, values: dict, audit_extra: dict | None = None) -> Referral:
    """`audit_extra`: what the referral's entry says besides (a handover, kim.privacy.transfer)."""
    _require_personal_data_role(actor)
    _require_consent_for_case_management(case, values.get("referred_on"))
    consent = case.participant.active_consent() if case.is_case_management and case.participant else None
    target = values["target"]
    if consent and not target.means_no_need and not consent.released_to.filter(pk=target.pk).exists():
        raise ValidationError({"target": _(
            "The participant has not released you from confidentiality towards %(target)s. "
            "Record an extended consent first."
        ) % {"target": target.label}})
    return create_object(actor, Referral, audit_extra=audit_extra, case=case, **values)


# ---------------------------------------------------------------- appointments

def _check_appointment(case: Case | None, values: dict):
    errors = rules.appointment_field_problems(values)
    errors.update(rules.appointment_date_problems(
        values["date"], opened_on=case.opened_on if case else None, closed_on=case.closed_on if case else None))
    if values.get("kind") == Appointment.Kind.COUNSELLING:
        if case is None:
            errors["case"] = _("Individual counselling belongs to a case.")
        values["other_kind"] = ""
    else:
        values["complexity"] = ""
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def record_appointment(actor: User, values: dict, case: Case | None = None) -> Appointment:
    _require_personal_data_role(actor)
    values = dict(values)
    _check_appointment(case, values)
    if case is not None:
        _require_consent_for_case_management(case, values["date"])
    return create_object(
        actor, Appointment, district_id=actor.district_id,
        provider_id=case.provider_id if case else actor.provider_id,
        case_manager=case.case_manager if case else actor, case=case, **values,
    )


@transaction.atomic
def update_appointment(actor: User, appointment: Appointment, values: dict) -> Appointment:
    _require_personal_data_role(actor)
    values = dict(values)
    _check_appointment(appointment.case, values)
    return update_object(actor, appointment, values)


# ---------------------------------------------------------------- deputyship

@transaction.atomic
def grant_deputyship(actor: User, grantor: User, deputy: User, valid_until) -> DeputyGrant:
    _require_personal_data_role(actor)
    if actor != grantor and not actor.is_provider_lead:
        raise PermissionDenied
    if deputy == grantor:
        raise ValidationError({"deputy": _("Choose a colleague, not yourself.")})
    if not (deputy.provider_id == grantor.provider_id == actor.provider_id):
        raise ValidationError({"deputy": _("Deputies must work for the same provider.")})
    if not deputy.is_case_manager and not deputy.is_provider_lead:
        raise ValidationError({"deputy": _("Only case managers can deputise.")})
    today = timezone.localdate()
    if valid_until < today:
        raise ValidationError({"valid_until": _("The end date lies in the past.")})
    if valid_until > today + timedelta(days=366):
        raise ValidationError({"valid_until": _("A deputyship lasts one year at the most.")})
    return create_object(
        actor, DeputyGrant, district_id=actor.district_id, provider_id=actor.provider_id,
        grantor=grantor, deputy=deputy, valid_from=today, valid_until=valid_until,
    )


@transaction.atomic
def revoke_deputyship(actor: User, grant: DeputyGrant) -> DeputyGrant:
    _require_personal_data_role(actor)
    if actor != grant.grantor and not actor.is_provider_lead:
        raise PermissionDenied
    return update_object(actor, grant, {"revoked_on": timezone.localdate()})

