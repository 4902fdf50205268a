from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from kim.core.services import create_district


class Command(BaseCommand):
    help = "Create a district (tenant) with the statewide catalogue defaults."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--slug")
        parser.add_argument("--require-two-factor", action="store_true")

    def handle(self, name, slug, require_two_factor, **options):
        try:
            district = create_district(None, name, slug)
        except IntegrityError as exc:
            raise CommandError(f"District already exists: {exc}") from exc
        if require_two_factor:
            district.require_two_factor = True
            district.save(update_fields=["require_two_factor"])
        self.stdout.write(f"{district.slug}")
