"""kim privacy-docs: write docs/loeschkonzept.md and docs/verarbeitungsverzeichnis.md from the registry."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from kim.privacy.concept import write


class Command(BaseCommand):
    help = "Löschkonzept und Verzeichnis der Verarbeitungstätigkeiten aus der Registry der Löschfristen schreiben."

    def add_arguments(self, parser):
        parser.add_argument("--directory", default=str(Path(settings.PROJECT_DIR) / "docs"))

    def handle(self, *args, directory, **options):
        for path in write(Path(directory)):
            self.stdout.write(f"geschrieben: {path}")
