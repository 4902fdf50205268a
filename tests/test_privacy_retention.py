"""The retention job: what is due is anonymised, nothing else; erasure on request with its
review window; the erasure log replayed after a restore."""

import json
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from kim.casework.models import Appointment, Assessment, Case, CaseKind, Consent, Goal, Household, Participant
from kim.core.models import AuditEntry
from kim.exchange.models import ImportedRecord
from kim.privacy import erasure, erasure_log, retention
from kim.privacy.models import Erasure, RetentionPeriod, RetentionRun

from .factories import AppointmentFactory, CaseFactory, ConsentFactory, GoalFactory, ParticipantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_district(world):
    """Services run in the district's scope, as in a request."""
    with scope(district=world.district.pk):
        yield


def closed_case(world, *, closed_on, kind=CaseKind.CASE_MANAGEMENT, participant=None, **names):
    participant = participant or ParticipantFactory(responsible=world.insider, **names)
    case = CaseFactory(participant=participant, kind=kind, opened_on=closed_on - timedelta(days=60), closed_on=closed_on)
    return participant, case


def reload(obj):
    with scopes_disabled():
        return type(obj).objects.get(pk=obj.pk)


def test_a_case_is_anonymised_three_years_after_the_end_of_the_year_it_closed(world):
    participant, case = closed_case(world, closed_on=date(2022, 5, 3), first_name="Yusra", last_name="Qarawi")
    retention.run(world.district, date(2025, 12, 31))
    assert reload(case).anonymised_on is None and reload(participant).first_name == "Yusra"
    retention.run(world.district, date(2026, 1, 1))
    assert reload(case).anonymised_on == date(2026, 1, 1)
    assert reload(participant).first_name == ""


def test_short_counselling_goes_after_one_year(world):
    _, short = closed_case(world, closed_on=date(2024, 11, 2), kind=CaseKind.SHORT_COUNSELLING)
    _, managed = closed_case(world, closed_on=date(2024, 11, 2))
    retention.run(world.district, date(2026, 1, 1))
    assert reload(short).anonymised_on and not reload(managed).anonymised_on


def test_anonymisation_keeps_the_statistical_trace_and_removes_what_identifies(world):
    with scopes_disabled():
        household = Household.objects.create(district=world.district, provider=world.provider, name="Familie Qarawi")
    participant, case = closed_case(world, closed_on=date(2021, 3, 1), first_name="Yusra", last_name="Qarawi")
    with scopes_disabled():
        Participant.objects.filter(pk=participant.pk).update(
            birth_date=date(1988, 5, 17), nationalities="Syrien", languages="Arabisch", phone="0171 555",
            email="y@example.org", address="Hauptstr. 1", household=household, external_id="X-17")
        ConsentFactory(participant=participant, note="Mündlich bei Frau Qarawi")
        goal = GoalFactory(case=case, text="Yusra findet einen Sprachkurs")
        appointment = AppointmentFactory(case=case, date=case.opened_on, duration_minutes=60, note="Yusra kam mit Sohn")
        Assessment.objects.create(case=case, assessed_on=case.opened_on, summary="Lebt mit Ali", author=world.insider)
        ImportedRecord.objects.create(district=world.district, provider=world.provider, sheet="Termine",
                                      key="Qarawi|1988-05-17|1", from_file=False, object_id=appointment.pk)
    code = reload(participant).code
    retention.run(world.district, date(2026, 1, 1))
    after = reload(participant)
    assert (after.first_name, after.last_name, after.phone, after.email, after.address, after.external_id) == ("",) * 6
    assert after.birth_date == date(1988, 4, 1)
    assert after.code != code and after.household_id is None
    assert (after.nationalities, after.languages, after.municipality_id) == ("Syrien", "Arabisch",
                                                                             participant.municipality_id)
    assert reload(goal).text == "" and reload(goal).status == goal.status
    assert reload(appointment).note == "" and reload(appointment).duration_minutes == 60
    with scopes_disabled():
        assert Consent.objects.get(participant=participant).note == ""
        assert Assessment.objects.get(case=case).summary == ""
        assert Household.objects.get(pk=household.pk).name == ""
        assert not ImportedRecord.objects.filter(object_id=appointment.pk, sheet="Termine").exists()
        case_after = Case.objects.get(pk=case.pk)
    assert (case_after.kind, case_after.opened_on, case_after.closed_on) == (case.kind, case.opened_on, case.closed_on)


def test_a_person_with_a_live_case_keeps_the_record_until_the_last_case_goes(world):
    participant, old = closed_case(world, closed_on=date(2021, 3, 1), first_name="Nour")
    recent = CaseFactory(participant=participant, opened_on=date(2025, 1, 1))
    retention.run(world.district, date(2026, 1, 1))
    assert reload(old).anonymised_on and not reload(recent).anonymised_on
    assert reload(participant).first_name == "Nour"


def test_audit_entries_of_anonymised_records_are_redacted_and_stay(world):
    from kim.casework.services import update_participant

    participant, case = closed_case(world, closed_on=date(2021, 3, 1), first_name="Nour")
    with scopes_disabled():
        update_participant(world.insider, reload(participant), {"first_name": "Noura"})
        before = AuditEntry.objects.filter(object_type="casework.participant", object_id=str(participant.pk)).count()
    retention.run(world.district, date(2026, 1, 1))
    with scopes_disabled():
        entries = AuditEntry.objects.filter(object_type="casework.participant", object_id=str(participant.pk))
        changed = [e for e in entries if e.actor_id == world.insider.pk]
        assert entries.count() == before + 1  # the anonymisation's own entry
        assert changed and all(e.redacted and e.object_label == "anonymisiert" for e in changed)
        assert all("Noura" not in json.dumps(e.changes) and "Nour" not in json.dumps(e.changes) for e in changed)


def test_a_redacted_entry_cannot_be_changed_again_and_others_not_at_all(world):
    from django.db import DatabaseError, models, transaction

    from kim.core.audit import record

    with scopes_disabled():
        entry = record(world.insider, "update", world.case, changes={"note": ["a", "b"]})
        with pytest.raises(DatabaseError), transaction.atomic():
            models.QuerySet.update(AuditEntry.objects.filter(pk=entry.pk), object_label="falsch")
        retention.redact(AuditEntry.objects.filter(pk=entry.pk), "anonymisiert")
        with pytest.raises(DatabaseError), transaction.atomic():
            models.QuerySet.update(AuditEntry.objects.filter(pk=entry.pk), redacted=False, object_label="zurück")
        assert AuditEntry.objects.get(pk=entry.pk).changes == {"note": "–"}
        with pytest.raises(DatabaseError), transaction.atomic():
            models.QuerySet.delete(AuditEntry.objects.filter(pk=entry.pk))  # only reads may go


def test_the_dry_run_counts_and_changes_nothing(world):
    participant, case = closed_case(world, closed_on=date(2021, 3, 1))
    closed_case(world, closed_on=date(2024, 3, 1), kind=CaseKind.SCREENING)
    run = retention.run(world.district, date(2026, 1, 1), dry_run=True)
    assert run.counts["case_data"] == 1 and run.counts["short_counselling"] == 1
    assert run.counts["participants"] == 2  # as the real run will: each person's only case is due
    assert reload(case).anonymised_on is None and reload(participant).first_name
    assert retention.run(world.district, date(2026, 1, 1)).counts["participants"] == 2


def test_a_second_run_finds_nothing_left(world):
    closed_case(world, closed_on=date(2021, 3, 1))
    first = retention.run(world.district, date(2026, 1, 1))
    second = retention.run(world.district, date(2026, 1, 1))
    assert first.counts["case_data"] == 1 and second.counts["case_data"] == 0
    assert first.counts["participants"] == 1 and second.counts["participants"] == 0


def test_the_district_sets_its_own_period(world):
    _, case = closed_case(world, closed_on=date(2024, 3, 1))
    with scopes_disabled():
        RetentionPeriod.objects.create(district=world.district, deletion_class="case_data", period=12)
    retention.run(world.district, date(2026, 1, 1))
    assert reload(case).anonymised_on


def test_other_districts_are_not_touched(world):
    _, case = closed_case(world, closed_on=date(2021, 3, 1))
    retention.run(world.other_district, date(2026, 1, 1))
    assert reload(case).anonymised_on is None


def test_a_withdrawn_consent_takes_even_open_cases_after_a_month(world):
    participant = ParticipantFactory(responsible=world.insider, first_name="Rami")
    case = CaseFactory(participant=participant, opened_on=date(2025, 1, 1))
    ConsentFactory(participant=participant, given_on=date(2025, 1, 1), withdrawn_on=date(2025, 11, 10))
    retention.run(world.district, date(2025, 12, 9))
    assert reload(case).anonymised_on is None
    retention.run(world.district, date(2025, 12, 10))
    assert reload(case).anonymised_on and reload(participant).first_name == ""


def test_a_new_consent_after_the_withdrawal_keeps_the_case(world):
    participant = ParticipantFactory(responsible=world.insider)
    case = CaseFactory(participant=participant, opened_on=date(2025, 1, 1))
    ConsentFactory(participant=participant, given_on=date(2025, 1, 1), withdrawn_on=date(2025, 3, 1))
    ConsentFactory(participant=participant, given_on=date(2025, 4, 1))
    retention.run(world.district, date(2025, 12, 10))
    assert reload(case).anonymised_on is None


def test_reads_are_forgotten_after_two_years(world):
    with scopes_disabled():
        old = AuditEntry(district=world.district, provider=world.provider, actor=world.insider, action="read",
                         object_type="casework.participant", object_id=str(world.participant.pk), object_label="TN-X",
                         at=timezone.make_aware(datetime(2023, 11, 30)))
        old.save()
        change = AuditEntry(district=world.district, provider=world.provider, actor=world.insider, action="update",
                            object_type="casework.case", object_id="1", at=timezone.make_aware(datetime(2020, 1, 1)))
        change.save()
    run = retention.run(world.district, date(2025, 12, 1))
    with scopes_disabled():
        assert not AuditEntry.objects.filter(pk=old.pk).exists()
        assert AuditEntry.objects.filter(pk=change.pk).exists()
    assert run.counts["read_log"] >= 1


def test_the_run_is_audited_with_counts_and_no_person(world):
    participant, _ = closed_case(world, closed_on=date(2021, 3, 1), first_name="Yusra", last_name="Qarawi")
    code = participant.code
    run = retention.run(world.district, date(2026, 1, 1))
    with scopes_disabled():
        entry = AuditEntry.objects.get(object_type="privacy.retentionrun", object_id=str(run.pk))
    text = json.dumps(entry.changes)
    assert "Yusra" not in text and code not in text and entry.changes["Anzahlen"]["case_data"] == 1


def test_a_run_killed_halfway_leaves_each_case_whole_and_the_next_run_goes_on(world, monkeypatch):
    cases = [closed_case(world, closed_on=date(2021, 3, 1))[1] for _ in range(3)]
    real = retention.anonymise_participant if False else retention._anonymise_participant
    calls = {"n": 0}

    def dies_on_the_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("kill")
        return real(*args, **kwargs)

    monkeypatch.setattr(retention, "_anonymise_participant", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        retention.run(world.district, date(2026, 1, 1))
    states = [reload(case).anonymised_on is not None for case in cases]
    assert states.count(True) == 1  # the first whole, the second rolled back, the third untouched
    with scopes_disabled():
        half = [c for c in cases if not reload(c).anonymised_on]
        assert all(Participant.objects.get(pk=c.participant_id).first_name for c in half)
        assert RetentionRun.objects.filter(status=RetentionRun.Status.FAILED).count() == 1
    monkeypatch.setattr(retention, "_anonymise_participant", real)
    retention.run(world.district, date(2026, 1, 1))
    assert all(reload(case).anonymised_on for case in cases)


def test_the_command_prints_counts_per_class_and_refuses_an_unknown_district(world, capsys):
    from django.core.management.base import CommandError

    closed_case(world, closed_on=date(2021, 3, 1))
    call_command("retention", "--dry-run", "--as-of", "01.01.2026", "--district", world.district.slug)
    out = capsys.readouterr().out
    assert "Falldaten des Case Managements: 1" in out and "Probelauf" in out
    with pytest.raises(CommandError, match="Kurznamen"):
        call_command("retention", "--district", "gibt-es-nicht")
    with pytest.raises(CommandError, match="kein Datum"):
        call_command("retention", "--as-of", "31.02.2026")


# ---------------------------------------------------------------- erasure


def test_only_the_lead_of_the_provider_asks_for_an_erasure(world):
    for outsider in (world.insider, world.other_provider_cm, world.coordination):
        with pytest.raises(PermissionDenied):
            erasure.request_erasure(outsider, world.participant, reason="Antrag", confirmation=world.participant.code)


def test_an_erasure_needs_a_reason_and_the_code_and_changes_nothing_without(world):
    with pytest.raises(ValidationError) as refused:
        erasure.request_erasure(world.lead, world.participant, reason=" ", confirmation="falsch")
    assert set(refused.value.message_dict) == {"reason", "confirmation"}
    with scopes_disabled():
        assert not Erasure.objects.exists()
    assert reload(world.participant).restricted_on is None


def test_an_erasure_freezes_the_record_and_can_be_cancelled_within_the_window(world):
    request = erasure.request_erasure(world.lead, world.participant, reason="Antrag vom 1.12.",
                                      confirmation=world.participant.code.lower())
    assert request.due_on == timezone.localdate() + timedelta(days=90)
    assert reload(world.participant).restricted_on == timezone.localdate()
    with pytest.raises(ValidationError):
        erasure.request_erasure(world.lead, world.participant, reason="nochmal", confirmation=world.participant.code)
    erasure.cancel_erasure(world.lead, request)
    assert reload(world.participant).restricted_on is None
    assert reload(request).status == Erasure.Status.CANCELLED
    with pytest.raises(ValidationError):
        erasure.cancel_erasure(world.lead, reload(request))


def test_an_erasure_is_carried_out_after_the_window_everywhere(world):
    from kim.casework.services import update_case, update_participant

    participant, case = world.participant, world.case
    update_participant(world.insider, participant, {"phone": "0171 2345"})
    update_case(world.insider, case, {"opened_on": case.opened_on})
    code, name = participant.code, participant.last_name
    request = erasure.request_erasure(world.lead, participant, reason="Antrag", confirmation=code)
    retention.run(world.district, request.due_on - timedelta(days=1))
    assert reload(participant).last_name == name
    retention.run(world.district, request.due_on)
    after = reload(participant)
    assert after.last_name == "" and after.code != code and reload(case).anonymised_on == request.due_on
    assert reload(case).closed_on == request.due_on  # the open case ends with the erasure
    done = reload(request)
    assert done.status == Erasure.Status.DONE and done.reason == ""
    with scopes_disabled():
        labels = set(AuditEntry.objects.filter(object_type__startswith="casework.", object_id__in=[
            str(participant.pk), str(case.pk)]).filter(redacted=True).values_list("object_label", flat=True))
    assert labels == {"gelöschte Person"}
    kinds = {(line["kind"], line["id"]) for line in erasure_log.entries()}
    assert ("participant", participant.pk) in kinds and ("case", case.pk) in kinds
    assert name not in erasure_log.path().read_text() and code not in erasure_log.path().read_text()


def test_an_erased_person_is_erased_again_after_a_restore(world, tmp_path):
    """dump → erase → restore the dump → replay → the person is gone again."""
    participant = world.participant
    name = participant.last_name
    dump = tmp_path / "sicherung.json"
    with scopes_disabled():
        call_command("dumpdata", "casework", "privacy", output=str(dump), verbosity=0)
    request = erasure.request_erasure(world.lead, participant, reason="Antrag", confirmation=participant.code)
    retention.run(world.district, request.due_on)
    assert reload(participant).last_name == ""
    with scopes_disabled():
        call_command("loaddata", str(dump), verbosity=0)  # the backup from before the erasure
        assert Participant.objects.get(pk=participant.pk).last_name == name
    lines = erasure_log.path().read_text()
    call_command("retention", "replay")
    assert reload(participant).last_name == ""
    assert reload(world.case).anonymised_on is not None
    assert erasure_log.path().read_text() == lines  # the replay adds nothing to the log it replays


def test_replay_carries_out_an_erasure_the_restored_database_shows_pending(world, tmp_path, capsys):
    """Attack A9: the backup was taken after the request and before the erasure was carried out."""
    participant = world.participant
    request = erasure.request_erasure(world.lead, participant, reason="Antrag", confirmation=participant.code)
    dump = tmp_path / "sicherung.json"
    with scopes_disabled():
        call_command("dumpdata", "casework", "privacy", output=str(dump), verbosity=0)
    retention.run(world.district, request.due_on)
    with scopes_disabled():
        call_command("loaddata", str(dump), verbosity=0)
        assert reload(request).status == Erasure.Status.PENDING and reload(participant).last_name
    capsys.readouterr()
    call_command("retention", "replay")
    assert "1 Löschungen" in capsys.readouterr().out
    assert reload(request).status == Erasure.Status.DONE and reload(participant).last_name == ""


def test_a_lead_typing_the_erasure_wording_as_reason_still_keeps_the_record(world):
    """Attack A10: the freeze of an erasure is told by the erasure, not by the reason's words."""
    from kim.privacy.restriction import RESTRICTED_FOR_ERASURE, restrict

    participant, case = closed_case(world, closed_on=date(2021, 3, 1))
    restrict(world.lead, participant, RESTRICTED_FOR_ERASURE)
    retention.run(world.district, date(2026, 1, 1))
    assert reload(case).anonymised_on is None


def test_replay_skips_a_torn_last_line(world, privacy_log):
    privacy_log.parent.mkdir(parents=True, exist_ok=True)
    privacy_log.write_text('{"kind": "case", "id": 1, "district": "x", "class": "case_data"}\n{"kind": "ca')
    assert [line["id"] for line in erasure_log.entries()] == [1]


def test_goals_and_appointments_of_an_open_case_of_someone_else_stay(world):
    other = CaseFactory(participant=ParticipantFactory(responsible=world.insider), opened_on=date(2025, 1, 1))
    goal = GoalFactory(case=other, text="bleibt")
    request = erasure.request_erasure(world.lead, world.participant, reason="Antrag", confirmation=world.participant.code)
    retention.run(world.district, request.due_on)
    assert reload(goal).text == "bleibt" and reload(other).anonymised_on is None
    with scopes_disabled():
        assert Goal.objects.filter(case=world.case).exclude(text="").count() == 0
        assert Appointment.objects.filter(case=world.case).exclude(note="").count() == 0


def test_a_run_killed_without_a_trace_is_marked_failed_by_the_next(world):
    with scopes_disabled():
        killed = RetentionRun.objects.create(district=world.district, as_of=date(2026, 1, 1),
                                             started_at=timezone.now() - timedelta(hours=1))
    retention.run(world.district, date(2026, 1, 1))
    assert reload(killed).status == RetentionRun.Status.FAILED


def test_the_worker_applies_the_periods_once_a_day(world):
    from kim.core import maintenance

    closed_case(world, closed_on=date(2021, 3, 1))
    first = maintenance.run_all()["Löschfristen anwenden"]
    assert any("Falldaten des Case Managements: 1" in line for line in first)
    assert maintenance.run_all()["Löschfristen anwenden"] == []


def test_a_restricted_record_is_kept_past_its_period(world):
    from kim.privacy.restriction import lift_restriction, restrict

    participant, case = closed_case(world, closed_on=date(2021, 3, 1), first_name="Rami")
    restrict(world.lead, participant, "Die Person braucht die Daten für ein Verfahren")
    retention.run(world.district, date(2026, 1, 1))
    assert reload(case).anonymised_on is None and reload(participant).first_name == "Rami"
    lift_restriction(world.lead, reload(participant))
    retention.run(world.district, date(2026, 1, 1))
    assert reload(case).anonymised_on is not None


def test_an_anonymised_record_cannot_be_changed(world):
    from kim.casework.services import add_goal, update_participant

    participant, case = closed_case(world, closed_on=date(2021, 3, 1))
    retention.run(world.district, date(2026, 1, 1))
    with pytest.raises(ValidationError, match="anonymisiert"):
        update_participant(world.insider, reload(participant), {"first_name": "Wieder"})
    with pytest.raises(ValidationError):
        add_goal(world.insider, reload(case), {"text": "neu", "agreed_on": date(2026, 1, 2)})


def test_a_consent_can_be_withdrawn_while_restricted(world):
    from kim.casework.services import withdraw_consent
    from kim.privacy.restriction import restrict

    consent = ConsentFactory(participant=world.participant, given_on=date(2025, 1, 1))
    restrict(world.lead, world.participant, "Richtigkeit wird geprüft")
    withdraw_consent(world.insider, consent, date(2025, 6, 1))
    assert reload(consent).withdrawn_on == date(2025, 6, 1)


def test_an_anonymised_person_has_no_case_number_entry_date_or_copy_left(world, client):
    from django.urls import reverse

    participant, case = closed_case(world, closed_on=date(2021, 3, 1))
    with scopes_disabled():
        Participant.objects.filter(pk=participant.pk).update(entry_date=date(2016, 8, 23))
    number = reload(case).number
    retention.run(world.district, date(2026, 1, 1))
    assert reload(participant).entry_date == date(2016, 7, 1)
    assert reload(case).number == "anonymisierter Fall"
    with scopes_disabled():
        assert not AuditEntry.objects.filter(object_label=number).exists()
    client.force_login(world.insider)
    for url in (reverse("exchange:subject-access", args=[participant.pk, "pdf"]),
                reverse("documents:participant", args=[participant.pk])):
        response = client.get(url)
        assert response.status_code == 410 and "keine personenbezogenen daten" in response.content.decode().lower()
    assert number not in client.get(reverse("casework:my-cases") + "?status=all").content.decode()


def test_a_day_outside_the_plausible_years_is_refused(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="zwischen 1990 und 2100"):
        call_command("retention", "--as-of", "0001-01-01")
    with scopes_disabled():
        assert not RetentionRun.objects.exists()


@pytest.mark.parametrize("forged", [
    {"object_label": "harmlos"},
    {"changes": {"Löschung ab": "2099-01-01"}},
    {"changes": {"note": "–", "forged": "–"}},
    {"changes": ["–"]},
])
def test_a_redaction_in_another_form_than_redact_writes_is_refused(world, forged):
    """Attack A4: redacted=1 with a label or values of one's choosing passed the trigger."""
    from django.db import DatabaseError, models, transaction

    from kim.core.audit import record

    with scopes_disabled():
        entry = record(world.insider, "update", world.case, changes={"note": ["a", "b"]})
        values = {"redacted": True, "object_label": "anonymisiert", "changes": {"note": "–"}, **forged}
        with pytest.raises(DatabaseError), transaction.atomic():
            models.QuerySet.update(AuditEntry.objects.filter(pk=entry.pk), **values)
        assert AuditEntry.objects.get(pk=entry.pk).changes == {"note": ["a", "b"]}


def test_a_recent_read_cannot_be_made_to_vanish(world):
    from django.db import DatabaseError, models, transaction

    from kim.core.audit import record

    with scopes_disabled():
        read = record(world.insider, "read", world.participant)
        retention.redact(AuditEntry.objects.filter(pk=read.pk), "anonymisiert")
        with pytest.raises(DatabaseError), transaction.atomic():
            models.QuerySet.delete(AuditEntry.objects.filter(pk=read.pk))
        assert AuditEntry.objects.filter(pk=read.pk).exists()
    retention.run(world.district, date(2035, 1, 1))  # a day far ahead does not reach it either
    with scopes_disabled():
        assert AuditEntry.objects.filter(pk=read.pk).exists()


def test_list_reads_that_named_the_person_are_redacted_too(world):
    """Attack A14: a list page's read named the code and the case number of everyone listed."""
    from kim.casework.reads import audit_read

    participant, case = closed_case(world, closed_on=date(2021, 3, 1))
    other = ParticipantFactory(responsible=world.insider)
    code, number = reload(participant).code, reload(case).number
    with scopes_disabled():
        audit_read(world.insider, [reload(participant), other])
        audit_read(world.insider, [reload(case)])
    retention.run(world.district, date(2026, 1, 1))
    with scopes_disabled():
        texts = [json.dumps(e.changes) + e.object_label for e in AuditEntry.objects.all()]
    assert not any(code in text or number in text for text in texts)


def test_a_second_run_of_a_district_waits_its_turn(world):
    """Attack A8: two runs at once cleared and counted the same module-3 procedures twice."""
    from django.core.management.base import CommandError

    with scopes_disabled():
        RetentionRun.objects.create(district=world.district, as_of=date(2026, 1, 1))  # running now
    with pytest.raises(CommandError, match="läuft bereits"):
        call_command("retention", "--as-of", "01.01.2026", "--district", world.district.slug)
    retention.run(world.district, date(2026, 1, 1), dry_run=True)  # counting is always allowed


def test_an_erasure_cancelled_while_the_run_lists_it_is_not_carried_out(world):
    """Attack A18: carry_out erased first and looked at the erasure's status afterwards."""
    request = erasure.request_erasure(world.lead, world.participant, reason="Antrag",
                                      confirmation=world.participant.code)
    listed = list(retention.due_erasures(world.district, request.due_on))
    erasure.cancel_erasure(world.lead, request)
    assert erasure.carry_out(listed[0], request.due_on) is False
    assert reload(world.participant).last_name and reload(request).status == Erasure.Status.CANCELLED


def test_an_erasure_clears_what_every_kept_import_run_read(world):
    """Attack A19, A16: a clean run kept its first rows; a waiting run is told why its file went."""
    from kim.exchange.models import ImportMapping, ImportRun

    with scopes_disabled():
        mapping = ImportMapping.objects.create(district=world.district, provider=world.provider, name="Standard")
        clean = ImportRun.objects.create(district=world.district, provider=world.provider, created_by=world.lead,
                                         filename="liste.xlsx", status=ImportRun.Status.DONE, mapping=mapping,
                                         sheets=[{"name": "Teilnehmende", "head": [["Qarawi", "0171 555"]]}])
        waiting = ImportRun.objects.create(district=world.district, provider=world.provider, created_by=world.insider,
                                           filename="neu.xlsx", status=ImportRun.Status.CHECKED, content=b"x",
                                           mapping=mapping)
    request = erasure.request_erasure(world.lead, world.participant, reason="Antrag",
                                      confirmation=world.participant.code)
    retention.run(world.district, request.due_on)
    with scopes_disabled():
        assert "0171 555" not in json.dumps(ImportRun.objects.get(pk=clean.pk).sheets)
        after = ImportRun.objects.get(pk=waiting.pk)
    assert after.content is None and "Art. 17" in after.message


def test_replay_can_be_dry_and_for_one_district_and_skips_lines_it_cannot_read(world, tmp_path, capsys,
                                                                               privacy_log):
    """Attack A15, A21: replay --dry-run anonymised; one unknown line stopped the whole replay."""
    from django.core.management.base import CommandError

    participant, case = closed_case(world, closed_on=date(2021, 3, 1))
    dump = tmp_path / "sicherung.json"
    with scopes_disabled():
        call_command("dumpdata", "casework", output=str(dump), verbosity=0)
    retention.run(world.district, date(2026, 1, 1))
    with scopes_disabled():
        call_command("loaddata", str(dump), verbosity=0)
    with privacy_log.open("r+") as log:
        lines = log.read()
        log.seek(0)
        log.write('{"at": "x", "district": "%s", "kind": "case", "id": 5, "class": "bogus"}\n' % world.district.slug
                  + lines)
    call_command("retention", "replay", "--dry-run")
    assert reload(participant).first_name and "Probelauf" in capsys.readouterr().out
    call_command("retention", "replay", "--dry-run", "--district", world.other_district.slug)
    assert "0 Löschungen, 0 Fälle" in capsys.readouterr().out
    with pytest.raises(CommandError, match="1 Zeilen"):
        call_command("retention", "replay")
    assert reload(participant).first_name == "" and reload(case).anonymised_on
    assert "unbekannte Löschklasse „bogus“" in capsys.readouterr().err


def test_a_real_run_takes_no_day_in_the_future(world):
    """Attack A22: --as-of 2030 anonymised what is not due and erased inside the review window."""
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="nur mit --dry-run"):
        call_command("retention", "--as-of", (timezone.localdate() + timedelta(days=1)).isoformat())
    call_command("retention", "--dry-run", "--as-of", "01.01.2030")


def test_the_restriction_and_its_reason_go_with_the_person(world):
    """Attack A23: a reason such as "Herr X bestreitet seine Adresse" stayed in the trace."""
    from kim.privacy.restriction import lift_restriction, restrict

    participant, case = closed_case(world, closed_on=date(2021, 3, 1))
    restrict(world.lead, participant, "Herr Qarawi bestreitet seine Adresse")
    request = erasure.request_erasure(world.lead, reload(participant), reason="Antrag",
                                      confirmation=reload(participant).code)
    retention.run(world.district, request.due_on)
    after = reload(participant)
    assert (after.restricted_on, after.restriction_reason) == (None, "")
    assert lift_restriction  # the record cannot be restricted or lifted any more: it is a trace
