"""Changes of the district's retention settings (one transaction, one audit entry)."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from kim.core.audit import Action, record

from .models import RetentionPeriod
from .registry import CLASSES


def current_periods(district) -> dict[str, int]:
    own = dict(RetentionPeriod.objects.filter(district=district).values_list("deletion_class", "period"))
    return {key: own.get(key, deletion_class.default) for key, deletion_class in CLASSES.items()}


def set_periods(user, district, values: dict[str, int]) -> dict:
    """The district's periods (validated by the form against each class's bounds)."""
    if not (user.has_perm("privacy.manage_retention") and user.district_id == district.pk):
        raise PermissionDenied
    with transaction.atomic():
        before = current_periods(district)
        changes = {}
        for key, value in values.items():
            deletion_class = CLASSES[key]
            if not deletion_class.minimum <= value <= deletion_class.maximum:
                raise ValueError(key)  # the form checked it; a caller that did not is a bug
            if before[key] != value:
                RetentionPeriod.objects.update_or_create(district=district, deletion_class=key,
                                                         defaults={"period": value, "changed_at": timezone.now()})
                changes[key] = [before[key], value]
        if changes:
            record(user, Action.UPDATE, district, changes={"Löschfristen": changes})
    return changes
