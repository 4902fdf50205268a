"""The retention job in the worker's housekeeping: once a day, for every district."""

from django.utils import timezone
from django_scopes import scopes_disabled

from kim.core import maintenance
from kim.core.models import District

from . import retention
from .models import RetentionRun
from .registry import CLASSES


@maintenance.job("Löschfristen anwenden")
def apply_retention(dry_run: bool) -> list[str]:
    today = timezone.localdate()
    with scopes_disabled():
        if RetentionRun.objects.filter(as_of=today, dry_run=False, status=RetentionRun.Status.DONE,
                                       district__isnull=True).exists():
            return []  # done today already
        if dry_run:
            return [f"{district}: {CLASSES[key].title}: {count}"
                    for district in District.objects.all()
                    for key, count in retention.plan(district, today).items() if count]
    runs = retention.run_everywhere(today)
    return [f"{run.district or 'Anmeldung, Sitzungen, Aufträge'}: {title}: {count}"
            for run in runs for title, count in run.counts_by_title()]
