"""The audit trail reads as sentences: records by their human name, fields by their labels,
catalogue entries and people by name, dates in German, never model names, ids or dicts."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from kim.casework import services
from kim.casework.models import CaseKind, Phase
from kim.casework.reads import audit_read
from kim.core import services as core_services
from kim.core.audit_display import readable
from kim.core.models import (
    AuditEntry,
    GoalCategory,
    LifeDomain,
    ReferralTarget,
    Role,
    TargetGroup,
    Topic,
)

from .staffing_data import give_post

TODAY = timezone.localdate
RAW = re.compile(r"\b(casework|core|exchange|reports)\.\w+|\{|\}|\[|\]|_id\b|\b[a-z]+_[a-z_]+\b")


@pytest.fixture
def history(world, in_scope):
    """A realistic day of case work by the insider, audited as the services do it."""
    lead_view_before = AuditEntry.objects.count()
    person = services.create_participant(world.insider, {
        "first_name": "Amira", "last_name": "Nasser", "birth_date": TODAY() - timedelta(days=30 * 365),
        "municipality": world.participant.municipality,
    }, consent={"given_on": TODAY() - timedelta(days=40), "covers_processing": True,
                "released_to": list(ReferralTarget.objects.filter(means_no_need=False)[:2])})
    audit_read(world.insider, person)
    audit_read(world.insider, [person])  # a list showing the person
    groups = list(TargetGroup.objects.all()[:2])
    case = services.open_case(world.insider, person, {
        "kind": CaseKind.CASE_MANAGEMENT, "municipality": person.municipality, "target_group": groups[0],
        "referral_source": world.case.referral_source, "opened_on": TODAY() - timedelta(days=30)})
    services.update_case(world.insider, case, {"target_group": groups[1]})
    services.advance_phase(world.insider, case, Phase.ASSESSMENT)
    services.record_assessment(world.insider, case, TODAY() - timedelta(days=20), "",
                               [{"life_domain": LifeDomain.objects.first(), "need": 3}])
    goal = services.add_goal(world.insider, case, {"category": GoalCategory.objects.first(), "text": "Wohnung",
                                                   "agreed_on": TODAY() - timedelta(days=20)})
    services.add_plan_action(world.insider, case, {"description": "WBS beantragen", "responsible": "Teilnehmerin",
                                                   "goal": goal})
    services.record_appointment(world.insider, {
        "date": TODAY() - timedelta(days=2), "duration_minutes": 45, "kind": "counselling", "complexity": "complex",
        "topics": list(Topic.objects.all()[:2]), "place": "office"}, case=case)
    services.add_referral(world.insider, case, {"target": person.consents.first().released_to.first(),
                                                "referred_on": TODAY() - timedelta(days=1), "note": ""})
    return AuditEntry.objects.visible_to(world.lead)[: AuditEntry.objects.count() - lead_view_before]


def all_texts(entries):
    for item in entries:
        yield item.sentence
        for change in item.changes:
            yield from (change.label, change.before, change.after, change.text)


def test_the_lead_reads_sentences_not_model_names(client, world, history):
    client.force_login(world.lead)
    page = client.get(reverse("audit-trail")).content.decode()
    with translation.override("de"):
        number = history[0].object_label if history[0].object_type == "casework.case" else None
    assert "casework." not in page and "core." not in page
    assert "geändert" in page and "geöffnet" in page
    assert number is None or number in page
    target_groups = list(TargetGroup.objects.all()[:2])
    assert f"Zielgruppe: {target_groups[0].label} → {target_groups[1].label}" in page


def test_every_entry_of_a_day_of_case_work_is_readable(world, history):
    with translation.override("de"):
        entries = readable(history, world.lead)
    assert len(entries) >= 10
    for text in all_texts(entries):
        assert not RAW.search(text or ""), text
    sentences = " | ".join(item.sentence for item in entries)
    assert "Fall F-" in sentences and "Teilnehmende*r TN-" in sentences and "Ziel in Fall F-" in sentences


def test_catalogue_entries_and_dates_are_named(world, history):
    with translation.override("de"):
        entries = readable(history, world.lead)
    topics = {t.label for t in Topic.objects.all()[:2]}
    appointment = next(e for e in entries if e.entry.object_type == "casework.appointment")
    shown = {c.label: c.after for c in appointment.changes}
    assert set(shown["Themen"].split(", ")) == topics
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4}", shown["Datum"])
    assert shown["Beratung"] == "komplex (im Sinne des Case Managements)"


def test_the_district_admin_reads_changes_of_accounts_by_name(client, world):
    with translation.override("de"):
        user = core_services.create_user(world.district_admin, district=world.district, username="neu",
                                         first_name="Nadia", last_name="Koch", role=Role.STEERING, password=None)
        core_services.update_user(world.district_admin, user, {"role": Role.MODULE3})
        core_services.set_password(world.district_admin, user, "ein-langes-passwort-2026")
    client.force_login(world.district_admin)
    page = client.get(reverse("audit-trail")).content.decode()
    assert "Nadia Koch (neu)" in page
    assert "Passwort von" in page and "nicht angezeigt" in page and "***" not in page
    assert "Rolle: Lenkungsgruppe" in page or "Rolle: Mitglied der Lenkungsgruppe" in page
    assert "core.user" not in page


def test_ids_of_records_the_reader_may_not_see_stay_numbers(world, in_scope):
    entry = AuditEntry(action=AuditEntry.Action.UPDATE, object_type="casework.case", object_id="1",
                       object_label="F-00001", changes={"participant": [None, world.participant.pk]},
                       at=timezone.now())
    with translation.override("de"):
        [seen_by_lead] = readable([entry], world.lead)
        [seen_by_other] = readable([entry], world.other_provider_cm)
    assert seen_by_lead.changes[0].after == world.participant.code
    assert seen_by_other.changes[0].after == f"#{world.participant.pk}"


def test_every_field_of_every_record_has_a_translated_label():
    """The trail names fields by their labels: a field without a verbose name of its own would
    show its English name ("Revoked at"); a relation without one shows the related kind."""
    from django.apps import apps
    from django.utils.functional import Promise

    untranslated = []
    for model in apps.get_models():
        if not model.__module__.startswith("kim."):
            continue
        for model_field in model._meta.get_fields():
            if model_field.auto_created or not model_field.concrete:
                continue
            source = model_field.verbose_name
            if model_field.is_relation and str(source) == model_field.name.replace("_", " "):
                source = model_field.related_model._meta.verbose_name
            if not isinstance(source, Promise):
                untranslated.append(f"{model._meta.label}.{model_field.name}")
    assert untranslated == []


def test_values_are_shown_in_german_whatever_record_or_key_they_belong_to(world, history, in_scope):
    """Choices by their labels also where an entry's key is named like a key of another kind
    of entry (a goal's status), keys that are a field of another record (the case's phase
    after an assessment), numbers with a decimal comma, catalogue entries by their label, and
    relations without a label of their own by the kind they point to."""
    from kim.casework.models import Goal, GoalStatus

    goal = Goal.objects.filter(case__participant__first_name="Amira").get()
    services.set_goal_status(world.insider, goal, GoalStatus.DROPPED, TODAY())
    filling = give_post(world.colleague)
    core_services.update_object(world.lead, filling, {"fte": Decimal("0.75")})
    topic = Topic.objects.first()
    core_services.update_catalogue_entry(world.district_admin, topic, {"label": "Wohnen und Umzug"})
    with translation.override("de"):
        entries = readable(AuditEntry.objects.all(), world.district_admin) + readable(
            AuditEntry.objects.visible_to(world.lead), world.lead)
    changes = {(e.entry.object_type, c.label): (c.before, c.after) for e in entries for c in e.changes}
    texts = " | ".join(list(e.sentence for e in entries) + [f"{k[1]}: {v}" for k, v in changes.items()])
    assert changes[("casework.goal", "Status")] == ("offen", "nicht weiterverfolgt")
    assert ("casework.assessment", "Phase") in changes and "agreement" not in texts and "assessment" not in texts
    assert changes[("staffing.filling", "VZÄ besetzt")] == ("1", "0,75")
    assert "Thema Wohnen und Umzug geändert" in texts
    for english in ("District", "Provider", "Participant", "Revoked at", "Confirmed by"):
        assert english not in texts
