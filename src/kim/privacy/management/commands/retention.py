"""kim retention [--dry-run] [--as-of DATE] [--district SLUG] | kim retention replay

Anonymises and deletes what is due under the retention registry (the worker runs it once a
day); `replay` re-applies the erasure log after a backup was restored."""

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_scopes import scopes_disabled

from kim.core.models import District
from kim.privacy import erasure, retention
from kim.privacy.registry import CLASSES

PARTICIPANTS = "Personen ohne verbleibenden Fall (ihr Datensatz anonymisiert)"


def german_date(text: str) -> date:
    for parse in (date.fromisoformat, lambda value: date(*reversed([int(p) for p in value.split(".")]))):
        try:
            return parse(text)
        except (ValueError, TypeError):
            continue
    raise CommandError(f"„{text}“ ist kein Datum (TT.MM.JJJJ oder JJJJ-MM-TT).")


def plausible(day: date) -> date:
    # The same bounds as every date the product accepts (kim.core.services.refuse_implausible_dates).
    if not 1990 <= day.year <= 2100:
        raise CommandError(f"Der Stichtag {day:%d.%m.%Y} liegt nicht zwischen 1990 und 2100.")
    return day


class Command(BaseCommand):
    help = ("Löschfristen anwenden: fällige Fälle anonymisieren, beantragte Löschungen nach der Prüffrist "
            "ausführen, alte Lesezugriffe und Anmeldespuren löschen. „replay“ wendet nach einer "
            "Wiederherstellung die Liste der gelöschten Schlüssel erneut an.")

    def add_arguments(self, parser):
        parser.add_argument("action", nargs="?", choices=["run", "replay"], default="run")
        parser.add_argument("--dry-run", action="store_true", help="nur zählen, was fällig ist, nichts ändern")
        parser.add_argument("--as-of", help="Stichtag (Standard: heute)")
        parser.add_argument("--district", help="nur dieser Kreis (Kurzname)")

    def handle(self, *args, action="run", dry_run=False, as_of=None, district=None, **options):
        day = plausible(german_date(as_of)) if as_of else None
        if day and day > timezone.localdate() and not dry_run:
            # Anonymising is for good: what is not due yet, or an erasure inside its review
            # window, must not go because of a typing error. A forecast is a dry run.
            raise CommandError(f"Der Stichtag {day:%d.%m.%Y} liegt in der Zukunft: nur mit --dry-run.")
        if district:
            with scopes_disabled():
                if not District.objects.filter(slug=district).exists():
                    raise CommandError(f"Einen Kreis mit dem Kurznamen „{district}“ gibt es nicht.")
        if action == "replay":
            return self.replay(day, district, dry_run)
        started = time.monotonic()
        try:
            runs = retention.run_everywhere(day, slug=district, dry_run=dry_run)
        except retention.RetentionBusy as busy:
            raise CommandError(str(busy)) from None
        for run in runs:
            name = str(run.district) if run.district_id else "Anmeldung, Sitzungen, Aufträge"
            self.stdout.write(f"{name} (Stichtag {run.as_of:%d.%m.%Y}){' – Probelauf' if dry_run else ''}:")
            for key, count in run.counts.items():
                title = CLASSES[key].title if key in CLASSES else PARTICIPANTS if key == "participants" else key
                self.stdout.write(f"  {title}: {count}")
        self.stdout.write(f"Dauer: {time.monotonic() - started:.1f} s")

    def replay(self, day, district, dry_run):
        counts = erasure.replay(day, slug=district, dry_run=dry_run)
        verb = "Wieder anzuwenden (Probelauf)" if dry_run else "Wieder angewandt"
        self.stdout.write(f"{verb}: {counts['erased']} Löschungen, {counts['case']} Fälle, "
                          f"{counts['participant']} Teilnehmende anonymisiert.")
        for line in counts["skipped"]:
            self.stderr.write(f"Übersprungen: {line}")
        if counts["skipped"] and not dry_run:
            raise CommandError(f"{len(counts['skipped'])} Zeilen der Löschliste konnten nicht angewandt werden "
                               "(siehe oben); alle anderen wurden angewandt.")
