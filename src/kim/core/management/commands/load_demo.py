from django.core.management.base import BaseCommand
from django_scopes import scopes_disabled

from kim.core.models import District, User
from kim.demo import DEMO_PASSWORD, build_demo_district


class Command(BaseCommand):
    help = "Create the demo district (seeded, repeatable) and print the demo logins per role."

    def add_arguments(self, parser):
        parser.add_argument("--size", type=float, default=1.0, help="1.0 = about 300 participants")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--slug", default="demo")
        parser.add_argument("--name", default="Kreis Mettmann (Demo)")

    @scopes_disabled()
    def handle(self, size, seed, slug, name, **options):
        if District.objects.filter(slug=slug).exists():
            self.stdout.write(f"Demo-Kreis „{slug}“ ist bereits vorhanden.")
            logins = [(user.get_role_display(), user.username)
                      for user in User.objects.filter(district__slug=slug).order_by("role", "username")
                      if user.username in {"cm-caritas-1", "leitung-caritas", "koordination",
                                           "lenkungsgruppe", "abh", "verwaltung"}]
        else:
            result = build_demo_district(name=name, slug=slug, size=size, seed=seed)
            logins = result.logins
            counts = ", ".join(f"{k}: {v}" for k, v in result.counts.items())
            self.stdout.write(f"Demo-Kreis „{result.district.name}“ angelegt ({counts}).")
        self.stdout.write(f"\nAnmeldungen (Passwort für alle: {DEMO_PASSWORD}):")
        for label, username in logins:
            self.stdout.write(f"  {label:<55} {username}")
