"""kim report R1 --district SLUG --year 2023 --format json --as USERNAME"""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django_scopes import scope, scopes_disabled

from kim.core.models import User
from kim.reports.framework import (
    ParamError,
    build_table,
    get_report,
    parse_params,
    registered_reports,
)
from kim.reports.renderers import FORMATS, render


class Command(BaseCommand):
    help = "Ein Bericht als JSON, CSV, XLSX, PDF oder DOCX; die Rolle von --as bestimmt Umfang und Geheimhaltung."

    def add_arguments(self, parser):
        parser.add_argument("report", nargs="?", help="Kennung des Berichts, z. B. R1")
        parser.add_argument("--list", action="store_true", help="die Berichte mit Kennung und Titel auflisten")
        parser.add_argument("--district", help="Kurzname des Kreises")
        parser.add_argument("--as", dest="username", help="Benutzername; dessen Rolle entscheidet")
        parser.add_argument("--format", default="json", choices=sorted(FORMATS))
        parser.add_argument("--year", help="Kalenderjahr")
        parser.add_argument("--period", choices=["year", "half", "quarter", "month", "custom"], default="year")
        parser.add_argument("--number", help="Nummer des Halbjahrs, Quartals oder Monats")
        parser.add_argument("--start", help="Beginn eines freien Zeitraums (JJJJ-MM-TT)")
        parser.add_argument("--end", help="Ende eines freien Zeitraums (JJJJ-MM-TT)")
        parser.add_argument("--reference-date", help="Stichtag (JJJJ-MM-TT)")
        parser.add_argument("--municipality", help="Kennung der Kommune")
        parser.add_argument("--provider", help="Kennung des Trägers")
        parser.add_argument("--compare", action="store_true", help="mit dem Vorjahreszeitraum vergleichen")
        parser.add_argument("--top", help="Anzahl der Themen (R2)")
        parser.add_argument("--unit", choices=["mentions", "cases"], help="R2: Themennennungen oder Fälle zählen")
        parser.add_argument("--output", "-o", help="Datei; ohne Angabe die Standardausgabe")

    def handle(self, *args, **options):
        translation.activate("de")
        if options["list"]:
            for report in registered_reports():
                self.stdout.write(f"{report.id}\t{report.title}")
            return
        if not options["report"] or not options["district"] or not options["username"]:
            raise CommandError("Bitte Bericht, --district und --as angeben (oder --list).")
        with scopes_disabled():
            user = User.objects.filter(username=options["username"], is_active=True).select_related("district").first()
        if user is None or user.district is None or user.district.slug != options["district"]:
            raise CommandError("Benutzer*in nicht gefunden oder nicht im angegebenen Kreis.")
        raw = {key: options[key] for key in ("year", "period", "number", "start", "end", "municipality", "provider", "top", "unit")}
        raw["reference_date"] = options["reference_date"]
        raw["compare"] = "1" if options["compare"] else ""
        try:
            with scope(district=user.district_id):
                report = get_report(options["report"])
                table = build_table(user, report, parse_params(raw, user=user, report=report))
                content = render(table, options["format"])
        except ParamError as exc:
            raise CommandError(str(exc)) from None
        if options["output"]:
            with open(options["output"], "wb") as out:
                out.write(content)
        else:
            sys.stdout.buffer.write(content)
            sys.stdout.flush()
