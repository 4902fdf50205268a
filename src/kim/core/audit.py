"""Writing the append-only audit log. Every service function calls `record` once."""

from django.db import models

from .models import AuditEntry

Action = AuditEntry.Action


def _plain(value):
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (list, tuple, set)):
        return sorted(_plain(v) for v in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def snapshot(obj: models.Model, fields: list[str]) -> dict:
    """The values of `fields` on `obj`, JSON-ready; many-to-many fields as sorted ids."""
    values = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            values[name] = sorted(obj.pk and getattr(obj, name).values_list("pk", flat=True) or [])
        else:
            values[name] = _plain(getattr(obj, field.attname))
    return values


def diff(before: dict, after: dict) -> dict:
    """{field: [before, after]} for every field whose value changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def record(actor, action: str, obj: models.Model, *, changes: dict | None = None, provider_id=None) -> AuditEntry:
    """Append one audit entry for `obj`. District and provider come from the object, so
    that each provider's lead sees the trail of exactly its own records."""
    district_id = getattr(obj, "district_id", None) or getattr(actor, "district_id", None)
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        district_id=district_id,
        provider_id=provider_id or getattr(obj, "provider_id", None),
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk or ""),
        object_label=getattr(obj, "audit_label", "") or str(obj.pk or ""),
        changes=changes or {},
    )
