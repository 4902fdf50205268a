"""Rules of case work, enforced by the service functions for every caller."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from kim.casework import services
from kim.casework.models import Case, CaseKind, Consent, GoalStatus, Phase
from kim.core.models import (
    AppendOnlyError,
    AuditEntry,
    ClosureReason,
    GoalCategory,
    LifeDomain,
    ReferralTarget,
)

from .factories import ParticipantFactory

TODAY = timezone.localdate


def open_cm_case(world, participant=None):
    participant = participant or world.participant
    return services.open_case(world.insider, participant, {
        "kind": CaseKind.CASE_MANAGEMENT, "municipality": participant.municipality,
        "target_group": world.case.target_group, "referral_source": world.case.referral_source,
        "opened_on": TODAY() - timedelta(days=30),
    })


def test_case_management_needs_consent(world, in_scope):
    stranger = ParticipantFactory(responsible=world.insider)
    with pytest.raises(ValidationError):
        open_cm_case(world, stranger)
    assert not Case.objects.filter(participant=stranger).exists()


def test_short_counselling_needs_no_consent(world, in_scope):
    stranger = ParticipantFactory(responsible=world.insider)
    case = services.open_case(world.insider, stranger, {
        "kind": CaseKind.SHORT_COUNSELLING, "municipality": stranger.municipality,
        "target_group": world.case.target_group, "referral_source": world.case.referral_source,
        "opened_on": TODAY(),
    })
    assert case.pk and case.provider == world.provider


def test_every_change_writes_one_audit_entry_with_before_and_after(world, in_scope):
    case = open_cm_case(world)
    before = AuditEntry.objects.count()
    services.advance_phase(world.insider, case, Phase.ASSESSMENT)
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.first()
    assert entry.changes == {"phase": [Phase.INTAKE, Phase.ASSESSMENT]}
    assert entry.provider_id == world.provider.pk and entry.actor == world.insider


def test_the_cycle_runs_in_order(world, in_scope):
    case = open_cm_case(world)
    with pytest.raises(ValidationError):
        services.advance_phase(world.insider, case, Phase.IMPLEMENTATION)
    services.advance_phase(world.insider, case, Phase.ASSESSMENT)
    domain = LifeDomain.objects.first()
    services.record_assessment(world.insider, case, TODAY(), "", [{"life_domain": domain, "need": 3}])
    assert case.phase == Phase.AGREEMENT
    with pytest.raises(ValidationError):  # no goal agreed yet
        services.advance_phase(world.insider, case, Phase.IMPLEMENTATION)
    goal = services.add_goal(world.insider, case, {
        "category": GoalCategory.objects.first(), "text": "Wohnung", "agreed_on": TODAY()})
    services.advance_phase(world.insider, case, Phase.IMPLEMENTATION)
    services.advance_phase(world.insider, case, Phase.REASSESSMENT)
    reassessment = services.record_assessment(world.insider, case, TODAY(), "", [{"life_domain": domain, "need": 1}])
    assert reassessment.previous is not None and reassessment.kind == "reassessment"
    services.set_goal_status(world.insider, goal, GoalStatus.ACHIEVED, TODAY())
    services.close_case(world.insider, case, TODAY(), ClosureReason.objects.first())
    assert case.phase == Phase.CLOSED
    with pytest.raises(ValidationError):
        services.add_goal(world.insider, case, {"category": GoalCategory.objects.first(), "text": "x", "agreed_on": TODAY()})


def test_a_case_cannot_close_before_it_opened(world, in_scope):
    with pytest.raises(ValidationError) as error:
        services.close_case(world.insider, world.case, world.case.opened_on - timedelta(days=1),
                            ClosureReason.objects.first())
    assert "closed_on" in error.value.error_dict
    world.case.refresh_from_db()
    assert world.case.closed_on is None


def test_withdrawn_consent_blocks_further_recording(world, in_scope):
    consent = Consent.objects.get(participant=world.participant)
    services.withdraw_consent(world.insider, consent, TODAY())
    with pytest.raises(ValidationError):
        services.add_goal(world.insider, world.case, {
            "category": GoalCategory.objects.first(), "text": "x", "agreed_on": TODAY()})
    with pytest.raises(ValidationError):
        services.record_appointment(world.insider, {
            "date": TODAY(), "duration_minutes": 30, "kind": "counselling", "complexity": "complex"}, case=world.case)


def test_referral_needs_release_from_confidentiality(world, in_scope):
    target = ReferralTarget.objects.filter(means_no_need=False).first()
    with pytest.raises(ValidationError):
        services.add_referral(world.insider, world.case, {"target": target, "referred_on": TODAY()})
    consent = Consent.objects.get(participant=world.participant)
    consent.released_to.add(target)
    assert services.add_referral(world.insider, world.case, {"target": target, "referred_on": TODAY()}).pk


def test_appointments_far_in_the_future_are_refused(world, in_scope):
    with pytest.raises(ValidationError) as error:
        services.record_appointment(world.insider, {
            "date": TODAY() + timedelta(days=400), "duration_minutes": 30, "kind": "counselling",
            "complexity": "complex"}, case=world.case)
    assert "date" in error.value.error_dict


def test_counselling_needs_a_case_and_other_work_a_kind(world, in_scope):
    with pytest.raises(ValidationError):
        services.record_appointment(world.insider, {"date": TODAY(), "duration_minutes": 30,
                                                    "kind": "counselling", "complexity": "one_off"})
    with pytest.raises(ValidationError):
        services.record_appointment(world.insider, {"date": TODAY(), "duration_minutes": 30, "kind": "other"})
    other = services.record_appointment(world.insider, {"date": TODAY(), "duration_minutes": 30,
                                                        "kind": "other", "other_kind": "network"})
    assert other.case is None and other.case_manager == world.insider


def test_a_failed_service_call_changes_nothing(world, in_scope):
    audit_before, cases_before = AuditEntry.objects.count(), Case.objects.count()
    stranger = ParticipantFactory(responsible=world.insider)
    with pytest.raises(ValidationError):
        open_cm_case(world, stranger)
    assert (AuditEntry.objects.count(), Case.objects.count()) == (audit_before, cases_before)


def test_audit_entries_cannot_be_changed_or_deleted(world, in_scope):
    services.update_case(world.insider, world.case, {"opened_on": world.case.opened_on - timedelta(days=1)})
    entry = AuditEntry.objects.first()
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()


def test_the_database_refuses_to_rewrite_the_audit_log(world, in_scope):
    services.update_case(world.insider, world.case, {"opened_on": world.case.opened_on - timedelta(days=1)})
    entry = AuditEntry.objects.first()
    with pytest.raises(Exception, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE core_auditentry SET action = 'delete' WHERE id = %s", [entry.pk])
    if connection.vendor == "postgresql":
        with pytest.raises(Exception, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [entry.pk])


def test_deputyship_only_within_the_provider(world, in_scope):
    with pytest.raises(ValidationError):
        services.grant_deputyship(world.insider, world.insider, world.other_provider_cm, TODAY() + timedelta(days=3))
    with pytest.raises(ValidationError):
        services.grant_deputyship(world.insider, world.insider, world.colleague, TODAY() - timedelta(days=3))
