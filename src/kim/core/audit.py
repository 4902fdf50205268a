"""Writing the append-only audit log. Every service function calls `record` once."""

from decimal import Decimal

from django.db import models

from .models import AuditEntry

Action = AuditEntry.Action


def plain(value):
    """A value as it is stored in an audit entry's changes (JSON-ready)."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (list, tuple, set)):
        return sorted(plain(v) for v in value)
    if isinstance(value, dict):  # a JSON field's object (a consent's {document: version}) stays one
        return {str(k): plain(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        # 0.50 from the database and 0.5 from a form are one value: written without trailing zeros.
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    return str(value)


def snapshot(obj: models.Model, fields: list[str]) -> dict:
    """The values of `fields` on `obj`, JSON-ready; many-to-many fields as sorted ids."""
    values = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            values[name] = sorted(obj.pk and getattr(obj, name).values_list("pk", flat=True) or [])
        else:
            values[name] = plain(getattr(obj, field.attname))
    return values


def diff(before: dict, after: dict) -> dict:
    """{field: [before, after]} for every field whose value changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def entry(actor, action: str, obj: models.Model, *, changes: dict | None = None, provider_id=None,
          district_id=None, label=None) -> AuditEntry:
    """The audit entry for `obj`, not yet saved. District and provider come from the object
    (or are given, where reading them would cost a query), so that each provider's lead sees
    the trail of exactly its own records."""
    return AuditEntry(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        district_id=district_id or getattr(obj, "district_id", None) or getattr(actor, "district_id", None),
        provider_id=provider_id or getattr(obj, "provider_id", None),
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk or ""),
        object_label=(label or getattr(obj, "audit_label", "") or str(obj.pk or ""))[:120],
        changes=changes or {},
    )


def record(actor, action: str, obj: models.Model, *, changes: dict | None = None, provider_id=None) -> AuditEntry:
    """Append one audit entry for `obj`."""
    audit_entry = entry(actor, action, obj, changes=changes, provider_id=provider_id)
    audit_entry.save()
    return audit_entry


# The labels a redacted entry may carry: the database allows these and no others (migration 0014).
REDACTED_LABELS = ("anonymisiert", "gelöschte Person")


def redact(entries, label: str) -> int:
    """Blacken the personal values of `entries` (an AuditEntry queryset) once: the label becomes
    `label`, each changed value "–"; who did what to which object, and when, stays. The
    database allows this one change (core migration 0011) and refuses every other."""
    if label not in REDACTED_LABELS:
        raise ValueError(f"a redacted entry is labelled {REDACTED_LABELS}, not {label!r}")
    pending = entries.filter(redacted=False)
    by_keys: dict[tuple, list[int]] = {}
    for pk, changes in pending.values_list("pk", "changes"):
        by_keys.setdefault(tuple(sorted(changes or {})), []).append(pk)
    for keys, pks in by_keys.items():
        for start in range(0, len(pks), 500):
            # AuditQuerySet refuses update(); this is the one place that may make this change.
            models.QuerySet.update(
                AuditEntry.objects.filter(pk__in=pks[start:start + 500]),
                redacted=True, object_label=label[:120], changes={key: "–" for key in keys},
            )
    return sum(len(pks) for pks in by_keys.values())
