"""What the API returns (read-only model serializers), and the request bodies of writes.

Request bodies are derived from the very forms the pages use (`form_serializer`), so the
OpenAPI schema says what the form accepts; the form then validates the data as it would
on the page, and the same service function writes it."""

from django import forms
from rest_framework import serializers

from kim.casework.models import Appointment, Case, Consent, Goal, Participant

MAX_ID = 2**31 - 1  # ids are 32-bit in the database; larger numbers name no record


def record_id(**kwargs):
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def form_serializer(form_class, name: str, extra: dict | None = None, exclude=(), optional=False, optional_fields=()):
    """A DRF serializer with one field per field of `form_class`, for schema and type checks;
    `optional` for PATCH bodies, where every field may be left out."""
    fields = {}
    for field_name, field in form_class.base_fields.items():
        if field_name in exclude:
            continue
        fields[field_name] = _serializer_field(field, optional or field_name in optional_fields)
    fields.update(extra or {})
    return type(name, (serializers.Serializer,), fields)


def _serializer_field(field, optional=False):
    common = {"required": field.required and not optional, "help_text": str(field.help_text or field.label or "")}
    if isinstance(field, forms.ModelMultipleChoiceField):
        return serializers.ListField(child=record_id(), required=False, max_length=100)
    if isinstance(field, forms.ModelChoiceField):
        return record_id(allow_null=not field.required, **common)
    if isinstance(field, forms.MultipleChoiceField):
        choices = [(value, label) for value, label in field.choices if value != ""]
        return serializers.MultipleChoiceField(choices=choices, required=False, help_text=common["help_text"])
    if isinstance(field, forms.TypedChoiceField) or isinstance(field, forms.ChoiceField):
        choices = [(value, label) for value, label in field.choices if value != ""]
        return serializers.ChoiceField(choices=choices, allow_blank=not field.required, **common)
    if isinstance(field, forms.BooleanField):
        return serializers.BooleanField(required=False, help_text=common["help_text"])
    if isinstance(field, forms.DateField):
        return serializers.DateField(allow_null=not field.required, **common)
    if isinstance(field, forms.IntegerField):
        return serializers.IntegerField(min_value=field.min_value, max_value=field.max_value, **common)
    if isinstance(field, forms.EmailField):
        return serializers.EmailField(allow_blank=not field.required, **common)
    return serializers.CharField(max_length=getattr(field, "max_length", None), allow_blank=not field.required, **common)


def optional_choice(choices):
    """A read-only choice that may be empty: said explicitly, as read-only model fields lose it."""
    return serializers.ChoiceField(choices=choices, allow_blank=True, read_only=True)


class ConsentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Consent
        fields = ["id", "participant", "given_on", "covers_processing", "released_to", "released_categories",
                  "withdrawn_on", "note", "document_language", "document_versions"]
        read_only_fields = fields


class ParticipantSerializer(serializers.ModelSerializer):
    residence_status = optional_choice(Participant.ResidenceStatus.choices)
    email = serializers.CharField(read_only=True, help_text="E-Mail-Adresse oder leer")
    class Meta:
        model = Participant
        fields = [
            "id", "code", "first_name", "last_name", "birth_date", "gender", "nationalities", "languages",
            "municipality", "entry_date", "residence_status", "phone", "email", "address", "household",
            "responsible", "external_id", "created_at",
        ]
        read_only_fields = fields


class ParticipantSummarySerializer(serializers.ModelSerializer):
    """The list shows what the participant list page shows; the whole record (contact data)
    comes one at a time, and that read is audited."""

    class Meta:
        model = Participant
        fields = ["id", "code", "first_name", "last_name", "birth_date", "municipality", "responsible"]
        read_only_fields = fields


class CaseSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)

    class Meta:
        model = Case
        fields = [
            "id", "number", "participant", "kind", "phase", "case_manager", "municipality", "target_group",
            "referral_source", "opened_on", "closed_on", "closure_reason", "screening_outcome", "external_id",
        ]
        read_only_fields = fields


class GoalSerializer(serializers.ModelSerializer):
    class Meta:
        model = Goal
        fields = ["id", "case", "category", "text", "agreed_on", "due_on", "status", "status_changed_on"]
        read_only_fields = fields


class AppointmentSerializer(serializers.ModelSerializer):
    complexity = optional_choice(Appointment.Complexity.choices)
    other_kind = optional_choice(Appointment.OtherKind.choices)
    session_format = optional_choice(Appointment.SessionFormat.choices)
    audience = optional_choice(Appointment.Audience.choices)
    class Meta:
        model = Appointment
        fields = [
            "id", "case", "case_manager", "date", "duration_minutes", "kind", "complexity", "other_kind", "topics",
            "language_support", "place", "thematic_offer", "session_format", "audience", "note",
        ]
        read_only_fields = fields


class CatalogueEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    label = serializers.CharField()
    active = serializers.BooleanField()


class ReportSummarySerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
