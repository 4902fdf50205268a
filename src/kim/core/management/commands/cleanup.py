"""kim cleanup [--dry-run]: run the maintenance jobs now (the worker runs them every few minutes)."""

from django.core.management.base import BaseCommand

from kim.core import maintenance


class Command(BaseCommand):
    help = ("Aufräumen: unterbrochene Importe und Berichte zurücksetzen, hochgeladene und nicht übernommene "
            "Dateien nach einigen Tagen löschen. Mit --dry-run nur anzeigen, was geschähe.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="nur anzeigen, nichts ändern")

    def handle(self, *args, dry_run=False, **options):
        for name, lines in maintenance.run_all(dry_run=dry_run).items():
            self.stdout.write(f"{name}: {len(lines)}" + (" (Probelauf)" if dry_run else ""))
            for line in lines:
                self.stdout.write(f"  {line}")
