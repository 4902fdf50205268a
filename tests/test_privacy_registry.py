"""Every field of every model has a retention rule: a field added later without one fails here."""

from django.apps import apps

from kim.privacy.registry import ACTIONS, CLASSES, EVENTS, REGISTRY


def model_fields():
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.auto_created and not field.concrete:
                continue  # reverse relations: the other model's field has the rule
            if field.primary_key and field.auto_created:
                continue  # the row's own number
            yield model._meta.label_lower, field.name


def test_every_field_of_every_model_has_a_rule():
    missing = sorted(f"{label}.{name}" for label, name in model_fields() if name not in REGISTRY.get(label, {}))
    assert missing == [], "Felder ohne Aufbewahrungsregel (kim.privacy.registry): " + ", ".join(missing)


def test_no_rule_names_a_field_that_does_not_exist():
    existing = set(model_fields())
    stale = sorted(f"{label}.{name}" for label, rules in REGISTRY.items() for name in rules
                   if (label, name) not in existing)
    assert stale == []


def test_every_rule_names_a_known_class_and_action():
    for label, rules in REGISTRY.items():
        for name, rule in rules.items():
            assert rule.deletion_class in CLASSES, f"{label}.{name}"
            assert rule.action in ACTIONS, f"{label}.{name}"


def test_every_class_has_a_known_event_and_a_default_within_its_bounds():
    for deletion_class in CLASSES.values():
        assert deletion_class.event in EVENTS
        if deletion_class.minimum is not None:
            assert deletion_class.minimum <= deletion_class.default <= deletion_class.maximum


def test_a_new_field_without_a_rule_is_found(monkeypatch):
    from kim.casework.models import Participant
    from django.db import models

    field = models.CharField(max_length=10, blank=True)
    field.set_attributes_from_name("nickname")
    monkeypatch.setattr(Participant._meta, "_get_fields_cache", {})
    Participant._meta.local_fields.append(field)
    try:
        Participant._meta._expire_cache()
        assert ("casework.participant", "nickname") in set(model_fields())
        assert "nickname" not in REGISTRY["casework.participant"]
    finally:
        Participant._meta.local_fields.remove(field)
        Participant._meta._expire_cache()
