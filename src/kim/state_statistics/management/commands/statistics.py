"""kim statistics make-key|export|register|import|collect: the Land's statistics extract.

    kim statistics make-key --district SLUG [--replace]  district: the signing key, once (prints the secret)
    kim statistics export --district SLUG --year Y [-o FILE]   district: the signed extract
    kim statistics register --district SLUG --name NAME --secret-file FILE|-   Land: accept a district's extracts
    kim statistics import FILE [--year Y]              Land: read an extract (again: replaces it)
    kim statistics collect --year Y                    one installation of several districts: export and
                                                       import each district's extract in memory
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django_scopes import scopes_disabled

from kim.core.models import District
from kim.reports.framework import ParamError
from kim.reports.periods import PeriodError

from kim.state_statistics import services
from kim.state_statistics.models import DistrictKey, RegisteredDistrict


ACTIONS = {"make-key": "make_key", "export": "export", "register": "register", "import": "import_file",
           "collect": "collect"}


class Command(BaseCommand):
    help = "Statistik-Auszug für das Land: Schlüssel, Export, Registrierung, Import (docs/statistik-schnittstelle.md)."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        key = commands.add_parser("make-key", help="Signaturschlüssel des Kreises erzeugen (einmal)")
        key.add_argument("--district", required=True, help="Kurzname des Kreises")
        key.add_argument("--replace", action="store_true", help="einen verlorenen Schlüssel ersetzen")
        export = commands.add_parser("export", help="signierten Auszug eines Jahres schreiben")
        export.add_argument("--district", required=True, help="Kurzname des Kreises")
        export.add_argument("--year", required=True, type=int, help="abgeschlossenes Kalenderjahr")
        export.add_argument("-o", "--output", help="Datei; ohne Angabe die Standardausgabe")
        register = commands.add_parser("register", help="Land: Kreis mit seinem Schlüssel registrieren")
        register.add_argument("--district", required=True, help="Kurzname des Kreises")
        register.add_argument("--name", required=True, help="Name des Kreises")
        secret = register.add_mutually_exclusive_group(required=True)
        secret.add_argument("--secret-file", help="Datei mit dem Schlüssel (64 Hexadezimalzeichen) aus make-key; "
                                                  "„-“: von der Standardeingabe")
        secret.add_argument("--secret", help="der Schlüssel selbst (sichtbar in ps und der Shell-Historie: "
                                             "besser --secret-file)")
        load = commands.add_parser("import", help="Land: Auszug einlesen")
        load.add_argument("file", help="Datei des Auszugs")
        load.add_argument("--year", type=int, help="erwartetes Jahr (zur Kontrolle)")
        collect = commands.add_parser("collect", help="alle Kreise dieser Installation exportieren und einlesen")
        collect.add_argument("--year", required=True, type=int, help="abgeschlossenes Kalenderjahr")

    def handle(self, *args, **options):
        translation.activate("de")
        try:
            with scopes_disabled():
                getattr(self, ACTIONS[options["action"]])(options)
        except (services.ExtractError, ParamError, PeriodError) as exc:
            raise CommandError(str(exc)) from None

    def _district(self, slug) -> District:
        district = District.objects.filter(slug=slug).first()
        if district is None:
            raise CommandError(f"Kein Kreis mit dem Kurznamen „{slug}“.")
        return district

    def make_key(self, options):
        key = services.make_key(None, self._district(options["district"]), replace=options["replace"])
        self.stdout.write(f"Schlüssel {key.key_id} erzeugt. Dem Land auf sicherem Weg übergeben (wie ein Passwort):")
        self.stdout.write(key.secret)

    def export(self, options):
        content = services.export_file(self._district(options["district"]), options["year"])
        if options["output"]:
            Path(options["output"]).write_bytes(content)
            self.stderr.write(f"Auszug {options['district']} {options['year']} geschrieben: {options['output']}")
        else:
            sys.stdout.buffer.write(content)
            sys.stdout.flush()

    def register(self, options):
        source = services.register_district(None, options["district"], options["name"], self._secret(options))
        self.stdout.write(f"Kreis {source.slug} registriert (Schlüssel {source.key_id}).")

    def _secret(self, options) -> str:
        """The secret from a file or stdin: on the command line it would stand in ps and the history."""
        name = options["secret_file"]
        if name is None:
            return options["secret"]
        if name == "-":
            return sys.stdin.readline()
        path = Path(name)
        if not path.is_file():
            raise CommandError(f"Datei nicht gefunden: {path}")
        return path.read_text(encoding="utf-8").strip()

    def import_file(self, options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"Datei nicht gefunden: {path}")
        if path.stat().st_size > services.max_bytes():
            raise CommandError(services.too_large())
        stored, replaced = services.import_extract(None, path.read_bytes(), options["year"])
        verb = "ersetzt" if replaced else "eingelesen"
        self.stdout.write(f"Auszug {stored.source.slug} {stored.year} {verb}.")

    def collect(self, options):
        """A single installation of several districts: each district's extract through the same
        door as a file from outside (signed, checked, imported), so both give the same numbers."""
        for district in District.objects.order_by("slug"):
            key = DistrictKey.objects.filter(district=district).first() or services.make_key(None, district)
            source = RegisteredDistrict.objects.filter(slug=district.slug).first()
            if source is None or source.key_id != key.key_id:
                services.register_district(None, district.slug, district.name, key.secret)
            content = services.export_file(district, options["year"])
            stored, replaced = services.import_extract(None, content, options["year"])
            self.stdout.write(f"Auszug {stored.source.slug} {stored.year} {'ersetzt' if replaced else 'eingelesen'}.")
