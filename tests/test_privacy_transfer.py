"""Transfer of a case to another provider, and a referral that hands data over: only with a
release from confidentiality towards the receiver, exactly what the release covers, audited
once on each side; the sender keeps its closed case, the figures count a person once.

Personas: the sender (insider, Caritas Aue), the receiver (Diakonie Aue, a case manager and
its lead), a third provider (AWO Aue), coordination, a case manager of another district."""

import json
import threading
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connections, transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from kim.casework.models import (
    Appointment,
    Assessment,
    AssessmentItem,
    Case,
    CaseKind,
    Goal,
    GoalStatus,
    Participant,
    Phase,
    PlanAction,
    Referral,
)
from kim.core.defaults import TRANSFER_CLOSURE_KEY
from kim.core.models import AuditEntry, LifeDomain, ReferralTarget, Role
from kim.core.services import add_catalogue_entry, update_catalogue_entry
from kim.privacy import transfer as services
from kim.privacy.models import Transfer
from kim.reports.framework import ReportParams, build_table
from kim.reports.periods import Period

from .factories import (

    AppointmentFactory,
    CaseFactory,
    ConsentFactory,
    ParticipantFactory,
    ProviderFactory,
    UserFactory,
)

TODAY = timezone.localdate


@pytest.fixture
def parties(world):
    """The receiver is a referral target the participant released the insider towards, for
    identity, the case's course and the assessment, not for contact data or appointments."""
    third = ProviderFactory(district=world.district, name="AWO Aue", slug="awo-aue")
    with scopes_disabled():
        target = ReferralTarget.objects.create(district=world.district, label="Diakonie Aue (KIM)",
                                               provider=world.other_provider)
        consent = world.participant.consents.get()
        consent.released_to.add(target)
        consent.released_categories = ["identity", "case", "assessment"]
        consent.save()
        participant = world.participant
        participant.phone, participant.address, participant.nationalities = "0171 5550123", "Am Bach 3", "syrisch"
        participant.save()
        case = world.case
        case.phase = Phase.IMPLEMENTATION
        case.save()
        assessment = Assessment.objects.create(case=case, assessed_on=case.opened_on + timedelta(days=3),
                                               summary="Wohnung fehlt", author=world.insider)
        AssessmentItem.objects.create(assessment=assessment, life_domain=LifeDomain.objects.filter(
            district=world.district).first(), situation="Notunterkunft", need=3)
        PlanAction.objects.create(case=case, goal=world.goal, description="Kurs anmelden", responsible="TN")
    return {
        "target": target, "receiver": world.other_provider, "receiving_cm": world.other_provider_cm,
        "receiving_lead": UserFactory(username="lead-diakonie", role=Role.PROVIDER_LEAD, district=world.district,
                                      provider=world.other_provider),
        "third_cm": UserFactory(username="awo-cm", role=Role.CASE_MANAGER, district=world.district, provider=third),
    }


def transfer(world, parties, **overrides):
    values = {"receiver": parties["receiver"], "case_manager": parties["receiving_cm"], "transferred_on": TODAY(),
              "note": "Bitte Termin vereinbaren"}
    values.update(overrides)
    with scope(district=world.district.pk):
        return services.transfer_case(overrides.pop("actor", world.insider), world.case,
                                      **{k: v for k, v in values.items() if k != "actor"})


def counts():
    with scopes_disabled():
        return (Participant.objects.count(), Case.objects.count(), Transfer.objects.count(),
                AuditEntry.objects.count())


# ---------------------------------------------------------------- the happy path

def test_the_receiver_gets_exactly_the_released_fields(world, parties):
    done = transfer(world, parties)
    with scopes_disabled():
        new_case = done.target_case
        copy = new_case.participant
        assert (copy.provider, copy.responsible) == (parties["receiver"], parties["receiving_cm"])
        assert (copy.first_name, copy.last_name, copy.birth_date) == ("Zarifa", "Qasimova", world.participant.birth_date)
        assert (copy.phone, copy.address, copy.email) == ("", "", "")  # "contact" not released
        assert copy.nationalities == ""  # "background" not released
        assert copy.code != world.participant.code and copy.household is None
        assert not copy.consents.exists()  # the receiver asks for its own consent
        assert (new_case.provider, new_case.case_manager, new_case.kind) == (
            parties["receiver"], parties["receiving_cm"], CaseKind.CASE_MANAGEMENT)
        assert new_case.opened_on == TODAY() and new_case.phase == Phase.IMPLEMENTATION
        assert new_case.target_group == world.case.target_group
        assert [g.text for g in new_case.goals.all()] == [world.goal.text]
        assert new_case.actions.get().goal == new_case.goals.get()
        assert new_case.assessments.get().items.get().situation == "Notunterkunft"
        assert not new_case.appointments.exists()  # "appointments" not released
        assert done.categories == ["assessment", "case", "identity"] and done.neutral_fields == []


def test_the_sender_keeps_its_case_closed_with_the_transfer_reason(world, parties):
    transfer(world, parties)
    with scopes_disabled():
        case = Case.objects.get(pk=world.case.pk)
        assert (case.closed_on, case.phase, case.closure_reason.key) == (TODAY(), Phase.CLOSED, TRANSFER_CLOSURE_KEY)
        assert case.participant.phone == "0171 5550123"  # nothing deleted now: retention decides later
        assert case.appointments.count() == 1 and case.goals.get().status == GoalStatus.OPEN


def test_required_fields_not_released_get_a_neutral_value_and_say_so(world, parties):
    with scopes_disabled():
        consent = world.participant.consents.get()
        consent.released_categories = ["contact", "appointments"]
        consent.save()
    done = transfer(world, parties)
    with scopes_disabled():
        copy = done.target_case.participant
        assert done.neutral_fields == ["first_name", "last_name", "birth_date"]
        assert (copy.first_name, copy.last_name, copy.birth_date) == ("–", copy.code, services.NEUTRAL_BIRTH_DATE)
        assert copy.phone == "0171 5550123"
        assert done.target_case.target_group is None and done.target_case.phase == Phase.INTAKE
        assert not done.target_case.goals.exists() and not done.target_case.assessments.exists()
        appointment = done.target_case.appointments.get()
        assert appointment.handed_over and appointment.case_manager == parties["receiving_cm"]


def test_without_a_chosen_case_manager_the_case_goes_to_the_receivers_lead(world, parties):
    done = transfer(world, parties, case_manager=None)
    with scopes_disabled():
        assert done.target_case.case_manager == parties["receiving_lead"]


def test_each_side_gets_one_audit_entry_without_personal_values(world, parties):
    with scopes_disabled():
        before = AuditEntry.objects.count()
    done = transfer(world, parties)
    with scopes_disabled():
        entries = list(AuditEntry.objects.order_by("pk")[before:])
    assert [(e.provider_id, e.action) for e in entries] == [
        (world.provider.pk, "update"), (parties["receiver"].pk, "create")]
    text = json.dumps([e.changes for e in entries] + [e.object_label for e in entries])
    for personal in ("Zarifa", "Qasimova", "0171", "Am Bach", "Wohnung", "Bitte Termin"):
        assert personal not in text
    assert done.target_case.participant.code in text and world.case.number in text


# ---------------------------------------------------------------- refused, nothing changes

@pytest.mark.parametrize("breakage, message", [
    ("no_release", "nicht von der Schweigepflicht"),
    ("withdrawn", "nicht von der Schweigepflicht"),
    ("own_provider", "schon bei Ihrem Träger"),
    ("foreign_case_manager", "arbeitet nicht für Diakonie Aue"),
    ("restricted", "eingeschränkt"),
    ("closed", "abgeschlossen"),
])
def test_a_refused_transfer_says_why_in_german_and_changes_nothing(world, parties, breakage, message):
    overrides = {}
    with scopes_disabled():
        consent = world.participant.consents.get()
        if breakage == "no_release":
            consent.released_to.clear()
        elif breakage == "withdrawn":
            consent.withdrawn_on = TODAY() - timedelta(days=1)
            consent.save()
        elif breakage == "own_provider":
            overrides = {"receiver": world.provider, "case_manager": world.colleague}
        elif breakage == "foreign_case_manager":
            overrides = {"case_manager": parties["third_cm"]}
        elif breakage == "restricted":
            Participant.objects.filter(pk=world.participant.pk).update(restricted_on=TODAY(), restriction_reason="Art. 18")
        elif breakage == "closed":
            Case.objects.filter(pk=world.case.pk).update(closed_on=TODAY(), phase=Phase.CLOSED)
    before = counts()
    with pytest.raises(ValidationError) as refused:
        transfer(world, parties, **overrides)
    assert message in " ".join(refused.value.messages)
    assert counts() == before


def test_two_transfers_of_one_case_make_one_copy(world, parties):
    transfer(world, parties)
    before = counts()
    with pytest.raises(ValidationError, match="abgeschlossen"):
        transfer(world, parties)
    assert counts() == before
    with scopes_disabled():
        done = Transfer.objects.get()
        second = CaseFactory(participant=done.target_case.participant)
        with pytest.raises(IntegrityError), transaction.atomic():
            # The constraint behind the lock: a case is transferred once, whoever races.
            Transfer.objects.create(district=world.district, kind="transfer", sender=world.provider,
                                    receiver=parties["receiver"], source_case=world.case, target_case=second,
                                    transferred_on=TODAY(), created_by=world.insider)


def test_only_who_sees_the_case_may_transfer_it(world, parties):
    for outsider in (world.other_provider_cm, world.coordination, parties["third_cm"]):
        with pytest.raises(PermissionDenied):
            transfer(world, parties, actor=outsider)
    with scopes_disabled():
        assert Case.objects.get(pk=world.case.pk).is_open


# ---------------------------------------------------------------- pages

def log_in(client, user):
    client.force_login(user)
    return client


def test_the_sender_confirms_and_the_receiver_finds_the_case_in_my_cases(world, parties, client):
    log_in(client, world.insider)
    url = reverse("casework:case-transfer", args=[world.case.pk])
    assert "Diakonie Aue" in client.get(url).content.decode()
    values = {"receiver": parties["receiver"].pk, "case_manager": parties["receiving_cm"].pk,
              "transferred_on": TODAY().isoformat(), "note": "Bitte melden"}
    confirmation = client.post(url, values)
    assert confirmation.status_code == 200 and "Fall jetzt übergeben" in confirmation.content.decode()
    assert "Adresse, Telefon und E-Mail" in confirmation.content.decode()  # what is not handed over
    with scopes_disabled():
        assert not Transfer.objects.exists()
    assert client.post(url, {**values, "confirmed": "1"}).status_code == 302
    with scopes_disabled():
        new_case = Transfer.objects.get().target_case
    client.logout()
    log_in(client, parties["receiving_cm"])
    assert new_case.number in client.get(reverse("casework:my-cases")).content.decode()
    page = client.get(reverse("casework:case", args=[new_case.pk])).content.decode()
    assert "Übernommen von Caritas Aue" in page and "Bitte melden" in page


def test_a_refused_confirmation_shows_the_message_on_the_form(world, parties, client):
    log_in(client, world.insider)
    url = reverse("casework:case-transfer", args=[world.case.pk])
    with scopes_disabled():
        world.participant.consents.update(released_categories=[])  # the partner is named, no data released
    response = client.post(url, {"receiver": parties["receiver"].pk, "transferred_on": TODAY().isoformat(),
                                 "confirmed": "1"})
    assert response.status_code == 422
    page = response.content.decode()
    # A release of nothing offers no receiver: the page says why instead of the form.
    assert 'role="alert"' in page and "Keine Schweigepflichtentbindung gegenüber einem anderen Träger" in page
    with scopes_disabled():
        assert not Transfer.objects.exists() and Case.objects.get(pk=world.case.pk).is_open


def test_a_release_withdrawn_before_the_confirmation_is_refused_on_the_page(world, parties, client):
    log_in(client, world.insider)
    with scopes_disabled():
        world.participant.consents.update(withdrawn_on=TODAY())
    response = client.post(reverse("casework:case-transfer", args=[world.case.pk]), {
        "receiver": parties["receiver"].pk, "transferred_on": TODAY().isoformat(), "confirmed": "1"})
    assert response.status_code == 422
    assert "Keine Schweigepflichtentbindung gegenüber einem anderen Träger" in response.content.decode()
    with scopes_disabled():
        assert not Transfer.objects.exists()


def test_without_a_release_the_page_says_so(world, parties, client):
    with scopes_disabled():
        world.participant.consents.get().released_to.clear()
    log_in(client, world.insider)
    page = client.get(reverse("casework:case-transfer", args=[world.case.pk])).content.decode()
    assert "Keine Schweigepflichtentbindung gegenüber einem anderen Träger" in page


@pytest.mark.parametrize("persona, status", [("third", 404), ("other_district", 404), ("coordination", 403)])
def test_outsiders_see_neither_case(world, parties, client, persona, status):
    done = transfer(world, parties)
    user = {"third": parties["third_cm"], "other_district": world.other_district_cm,
            "coordination": world.coordination}[persona]
    log_in(client, user)
    for pk in (world.case.pk, done.target_case_id):
        assert client.get(reverse("casework:case", args=[pk])).status_code == status
        assert client.get(reverse("casework:case-transfer", args=[pk])).status_code == status


def test_the_receiver_cannot_open_the_senders_case(world, parties, client):
    transfer(world, parties)
    log_in(client, parties["receiving_lead"])
    assert client.get(reverse("casework:case", args=[world.case.pk])).status_code == 404


# ---------------------------------------------------------------- referral with handover

def test_a_referral_hands_the_released_data_over_and_the_case_stays_open(world, parties):
    with scopes_disabled():
        before = AuditEntry.objects.count()
    with scope(district=world.district.pk):
        done = services.refer_and_hand_over(
            world.insider, world.case, {"target": parties["target"], "referred_on": TODAY(), "note": ""},
            case_manager=parties["receiving_cm"], kind=CaseKind.SHORT_COUNSELLING)
    with scopes_disabled():
        assert Case.objects.get(pk=world.case.pk).is_open
        assert Referral.objects.get(case=world.case).target == parties["target"]
        assert (done.kind, done.target_case.kind) == ("handover", CaseKind.SHORT_COUNSELLING)
        assert done.target_case.phase == Phase.INTAKE and done.target_case.participant.first_name == "Zarifa"
        entries = list(AuditEntry.objects.order_by("pk")[before:])
    assert [(e.provider_id, e.object_type) for e in entries] == [
        (world.provider.pk, "casework.referral"), (parties["receiver"].pk, "casework.case")]
    assert entries[0].changes["to_case"] == [None, done.target_case.number]


def test_a_referral_page_hands_over_when_asked(world, parties, client):
    log_in(client, world.insider)
    response = client.post(reverse("casework:referral-new", args=[world.case.pk]), {
        "target": parties["target"].pk, "referred_on": TODAY().isoformat(), "hand_over": "on",
        "case_manager": parties["receiving_cm"].pk, "kind": ""})
    assert response.status_code == 302
    with scopes_disabled():
        assert Transfer.objects.get().target_case.kind == world.case.kind


def test_a_referral_to_a_partner_outside_the_product_cannot_hand_over(world, parties):
    with scopes_disabled():
        target = ReferralTarget.objects.filter(district=world.district, provider__isnull=True,
                                               means_no_need=False).first()
        world.participant.consents.get().released_to.add(target)
    before = counts()
    with scope(district=world.district.pk), pytest.raises(ValidationError, match="kein Träger"):
        services.refer_and_hand_over(world.insider, world.case, {"target": target, "referred_on": TODAY()},
                                     case_manager=None)
    assert counts() == before


# ---------------------------------------------------------------- catalogue

def test_the_district_administrator_links_a_referral_target_to_a_provider(world, client):
    log_in(client, world.district_admin)
    with scopes_disabled():
        target = ReferralTarget.objects.filter(district=world.district, key="jmd").get()
    url = reverse("admin-catalogue-edit", args=["referral-targets", target.pk])
    assert "Träger in der KIM-Fachdatenbank" in client.get(url).content.decode()
    response = client.post(url, {"label": target.label, "sort_order": 10, "active": "on",
                                 "provider": world.other_provider.pk})
    assert response.status_code == 302
    with scopes_disabled():
        target.refresh_from_db()
    assert target.provider == world.other_provider


def test_a_provider_of_another_district_is_refused_in_german(world):
    with scopes_disabled():
        foreign = world.other_district_cm.provider
        target = ReferralTarget.objects.filter(district=world.district, key="jmd").get()
        with pytest.raises(ValidationError, match="anderen Kreis"):
            update_catalogue_entry(world.district_admin, target, {"provider": foreign})
        with pytest.raises(ValidationError, match="anderen Kreis"):
            add_catalogue_entry(world.district_admin, ReferralTarget, world.district, "AWO Berg", provider=foreign)
        target.refresh_from_db()
        assert target.provider is None


def test_the_form_offers_only_providers_of_the_district(world, client):
    log_in(client, world.district_admin)
    response = client.post(reverse("admin-catalogue-new", args=["referral-targets"]),
                           {"label": "AWO Berg", "sort_order": 10, "active": "on",
                            "provider": world.other_district_cm.provider_id})
    assert response.status_code == 422
    with scopes_disabled():
        assert not ReferralTarget.objects.filter(label="AWO Berg").exists()


# ---------------------------------------------------------------- figures

YEAR = TODAY().year - 1  # a closed year: the district's figures of the running year are not shown


def table(user, report_id):
    params = ReportParams(period=Period.of("year", YEAR), reference_date=date(YEAR, 12, 31), top=50, unit="mentions")
    with scope(district=user.district_id):
        return {row.key: row.values.get("n@0") for row in build_table(user, report_id, params).rows}


@pytest.fixture
def five_short_cases(world, parties):
    """Five persons in short counselling at the sender last year, released towards the receiver."""
    start = date(YEAR, 3, 2)
    cases = []
    for _n in range(5):
        participant = ParticipantFactory(responsible=world.insider, municipality=world.participant.municipality)
        consent = ConsentFactory(participant=participant, given_on=start)
        with scopes_disabled():
            consent.released_to.add(parties["target"])
            consent.released_categories = ["identity", "appointments"]
            consent.save()
        case = CaseFactory(participant=participant, kind=CaseKind.SHORT_COUNSELLING, opened_on=start)
        AppointmentFactory(case=case, date=start, complexity=Appointment.Complexity.ONE_OFF)
        cases.append(case)
    return cases


def test_a_transferred_person_counts_once_in_the_district_and_once_at_each_provider(world, parties, five_short_cases):
    coordination_before = table(world.coordination, "R7")
    appointments_before = table(world.coordination, "R1")
    with scope(district=world.district.pk):
        for case in five_short_cases:
            services.transfer_case(world.insider, case, receiver=parties["receiver"], case_manager=None,
                                   transferred_on=date(YEAR, 6, 1))
    assert table(world.coordination, "R7") == coordination_before  # persons once, not twice
    assert table(world.coordination, "R1") == appointments_before  # handed-over work not counted again
    assert table(world.lead, "R7")[CaseKind.SHORT_COUNSELLING.value] == 5
    assert table(parties["receiving_lead"], "R7")[CaseKind.SHORT_COUNSELLING.value] == 5  # the receiver's own figure
    assert table(parties["receiving_lead"], "R1")["all"] in (0, None)  # the sender's work is not the receiver's


def test_a_goal_reached_before_the_transfer_is_not_counted_again(world, parties):
    with scopes_disabled():
        Case.objects.filter(pk=world.case.pk).update(opened_on=date(YEAR, 2, 1))
        world.participant.consents.update(given_on=date(YEAR, 1, 15))
        Appointment.objects.filter(case=world.case).update(date=date(YEAR, 2, 10))
        Goal.objects.filter(pk=world.goal.pk).update(agreed_on=date(YEAR, 2, 1), status=GoalStatus.ACHIEVED,
                                                     status_changed_on=date(YEAR, 5, 1))
        world.case.refresh_from_db()
    before = table(world.lead, "R5")
    assert before["total"] == 1
    done = transfer(world, parties, transferred_on=date(YEAR, 6, 1))
    with scopes_disabled():
        assert done.target_case.goals.get().handed_over
    assert table(world.lead, "R5") == before
    assert not any(table(parties["receiving_lead"], "R5").values())


@pytest.mark.django_db(transaction=True)
def test_two_transfers_at_the_same_moment_make_one_copy(world, parties):
    """Two requests transfer the same case at once: the lock on the case lets one through, the
    other finds the case closed. Exactly one copy, one transfer, one closure."""
    from django.db import connection

    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memorydb"):
        pytest.skip("an in-memory SQLite database shared by threads locks tables instead of waiting")
    barrier, outcomes = threading.Barrier(2), []

    def attempt():
        try:
            barrier.wait()
            transfer(world, parties)
            outcomes.append("done")
        except ValidationError as refused:
            outcomes.append(" ".join(refused.messages))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 2 and outcomes.count("done") == 1, outcomes
    assert "abgeschlossen" in next(outcome for outcome in outcomes if outcome != "done")
    with scopes_disabled():
        assert Transfer.objects.count() == 1
        assert Case.objects.filter(provider=parties["receiver"]).count() == 1


def test_each_lead_reads_its_side_of_the_transfer_in_the_audit_trail(world, parties, client):
    done = transfer(world, parties)
    log_in(client, world.lead)
    sender_trail = client.get(reverse("audit-trail")).content.decode()
    assert "an einen anderen Träger übergeben" in sender_trail and "Diakonie Aue" in sender_trail
    assert "von einem anderen Träger übernommen" not in sender_trail  # the receiver's side is the receiver's
    assert done.target_case.number in sender_trail  # the new case's number, never its person
    client.logout()
    log_in(client, parties["receiving_lead"])
    receiver_trail = client.get(reverse("audit-trail")).content.decode()
    assert "von einem anderen Träger übernommen" in receiver_trail and "Caritas Aue" in receiver_trail
    assert "an einen anderen Träger übergeben" not in receiver_trail


def test_the_note_of_a_transfer_goes_when_the_receivers_case_is_anonymised(world, parties):
    from kim.privacy.retention import anonymise_case

    done = transfer(world, parties)
    with scopes_disabled():
        anonymise_case(done.target_case_id, TODAY(), "case_data")
        done.refresh_from_db()
        assert done.note == "" and done.categories == ["assessment", "case", "identity"]
        assert Case.objects.get(pk=world.case.pk).anonymised_on is None  # the sender's case has its own period


def test_both_sides_find_the_transfer_in_the_persons_copy(world, parties):
    from kim.exchange.subject_access import participant_record

    done = transfer(world, parties)
    with scope(district=world.district.pk):
        sent = participant_record(world.lead, world.participant)["Übergaben an andere Träger"]
        received = participant_record(parties["receiving_lead"], done.target_case.participant)[
            "Übergaben an andere Träger"]
    assert [(t["von"], t["an"]) for t in sent] == [(str(world.provider), str(parties["receiver"]))]
    assert received[0]["übergebene Daten"] == sent[0]["übergebene Daten"] != []


def test_a_release_that_covers_no_data_offers_nobody(world, parties, client):
    with scopes_disabled():
        consent = world.participant.consents.get()
        consent.released_categories = []
        consent.save()
    log_in(client, world.insider)
    page = client.get(reverse("casework:case-transfer", args=[world.case.pk])).content.decode()
    assert "Keine Schweigepflichtentbindung gegenüber einem anderen Träger" in page
    assert str(parties["receiver"]) not in page.split("<main")[1]


def test_a_second_handover_to_the_same_receiver_says_when_the_first_was(world, parties):
    """Attack A20: it was refused forever as "just handed over"."""
    values = {"target": parties["target"], "referred_on": TODAY(), "note": ""}
    with scope(district=world.district.pk):
        first = services.refer_and_hand_over(world.insider, world.case, values, case_manager=parties["receiving_cm"])
        with pytest.raises(ValidationError) as refused:
            services.refer_and_hand_over(world.insider, Case.objects.get(pk=world.case.pk), values,
                                         case_manager=parties["receiving_cm"])
    message = " ".join(refused.value.messages)
    assert f"am {TODAY():%d.%m.%Y} bereits" in message and first.target_case.number in message
