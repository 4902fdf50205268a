"""docs/loeschkonzept.md and docs/verarbeitungsverzeichnis.md are what the registry says."""

from pathlib import Path

from kim.privacy.concept import ACTIVITIES, loeschkonzept, verarbeitungsverzeichnis
from kim.privacy.registry import CLASSES, REGISTRY

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_the_deletion_concept_in_the_repository_is_the_generated_one():
    assert (DOCS / "loeschkonzept.md").read_text(encoding="utf-8") == loeschkonzept(), (
        "docs/loeschkonzept.md weicht von der Registry ab: `kim privacy-docs` ausführen und einchecken")


def test_the_record_of_processing_in_the_repository_is_the_generated_one():
    assert (DOCS / "verarbeitungsverzeichnis.md").read_text(encoding="utf-8") == verarbeitungsverzeichnis(), (
        "docs/verarbeitungsverzeichnis.md weicht von der Registry ab: `kim privacy-docs` ausführen und einchecken")


def test_the_concept_names_every_class_and_every_field_with_personal_data():
    text = loeschkonzept()
    assert all(c.title in text for c in CLASSES.values())
    for label, rules in REGISTRY.items():
        if any(rule.deletion_class != "aggregate" for rule in rules.values()):
            assert all(f"(`{name}`)" in text for name in rules), label


def test_every_model_with_personal_data_belongs_to_a_processing_activity():
    listed = {label for activity in ACTIVITIES for label in activity["models"]}
    personal = {label for label, rules in REGISTRY.items()
                if any(rule.deletion_class not in ("aggregate",) for rule in rules.values())}
    assert personal - listed == set()
