"""kim import FILE --district SLUG --provider SLUG [--dry-run] [--mapping NAME] [--case-manager USERNAME]"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django_scopes import scope, scopes_disabled

from kim.core.models import District, Provider, Role, User
from kim.exchange.readers import MAX_UPLOAD_BYTES, FileRefused
from kim.exchange.services import run_in_this_process, start_import
from kim.exchange.workbook import SHEETS


class Command(BaseCommand):
    help = ("Eine Tabelle (xlsx, xls, ods, csv) in der Form der Standardmappe in die Akten eines Trägers übernehmen. "
            "Gleiche Prüfung wie im Browser; bei Fehlern wird nichts übernommen und der Rückgabewert ist 1.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--district", required=True, help="Kurzname des Kreises")
        parser.add_argument("--provider", required=True, help="Kurzname des Trägers")
        parser.add_argument("--dry-run", action="store_true", help="nur prüfen, nichts übernehmen")
        parser.add_argument("--mapping", default="Standard", help="Name der gespeicherten Zuordnung des Trägers")
        parser.add_argument("--case-manager", help="Benutzername der Fachkraft, deren Fälle es sind "
                                                   "(ohne Angabe: die einzige Fachkraft des Trägers)")
        parser.add_argument("--sheet", action="append", default=[], metavar="TEIL=BLATT",
                            help="Blatt für einen Teil der Standardmappe, z. B. Termine=Tabelle1 (mehrfach möglich)")

    def handle(self, *args, **options):
        translation.activate("de")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"Die Datei {path} gibt es nicht.")
        if path.stat().st_size > MAX_UPLOAD_BYTES:
            raise CommandError(f"Die Datei ist größer als {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
        with scopes_disabled():
            district = District.objects.filter(slug=options["district"]).first()
            provider = district and Provider.objects.filter(district=district, slug=options["provider"]).first()
            if provider is None:
                raise CommandError("Kreis oder Träger nicht gefunden.")
            actor, case_manager = self._people(provider, options["case_manager"])
        with scope(district=district.pk):
            try:
                run = start_import(actor, filename=path.name, data=path.read_bytes(), case_manager=case_manager,
                                   mapping_name=options["mapping"])
            except FileRefused as exc:
                raise CommandError(str(exc)) from None
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            self._choose_sheets(run, options["sheet"])
            self._report_mapping(run)
            run = run_in_this_process(run.created_by, run, commit=not options["dry_run"])
            return self._report(run, options["dry_run"])

    def _people(self, provider, username):
        staff = User.objects.filter(provider=provider, is_active=True)
        if username:
            case_manager = staff.filter(username=username).first()
            if case_manager is None:
                raise CommandError(f"{username} arbeitet nicht (aktiv) beim Träger {provider.slug}.")
        else:
            managers = list(staff.filter(role=Role.CASE_MANAGER)[:2])
            if len(managers) != 1:
                raise CommandError("Bitte mit --case-manager angeben, in wessen Fälle importiert wird.")
            case_manager = managers[0]
        # Audited as the provider's lead where there is one: the operator acts on the lead's behalf.
        lead = staff.filter(role=Role.PROVIDER_LEAD).order_by("pk").first()
        return (lead or case_manager), case_manager

    def _choose_sheets(self, run, choices):
        for choice in choices:
            kind, _, sheet = choice.partition("=")
            if kind not in SHEETS or not sheet:
                raise CommandError(f"--sheet {choice}: erwartet z. B. Termine=Tabelle1 (Teile: {', '.join(SHEETS)}).")
        if choices:
            from kim.exchange.services import assign_sheets

            try:
                assign_sheets(run.created_by, run, dict(c.partition("=")[::2] for c in choices))
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None

    def _report_mapping(self, run):
        if not run.assignments:
            raise CommandError("Kein Blatt der Datei sieht aus wie ein Teil der Standardmappe. Bitte mit --sheet angeben.")
        for kind, assignment in run.assignments.items():
            mapped = ", ".join(f"{c} ← {h}" for c, h in assignment["columns"].items())
            self.stdout.write(f"{kind}: Blatt „{assignment['sheet']}“, Kopfzeile {assignment['header_row'] + 1}: {mapped}")
        for warning in run.warnings:
            self.stdout.write(f"Hinweis: {warning}")

    def _report(self, run, dry_run):
        if run.status == run.Status.FAILED:
            raise CommandError(run.message)
        if run.problem_count:
            self.stderr.write(f"{run.problem_count} Fehler, nichts wurde übernommen:")
            for problem in run.problems:
                where = f"{problem['sheet']}, Zeile {problem['row']}" if problem["row"] else problem["sheet"]
                column = f", Spalte „{problem['column']}“" if problem["column"] else ""
                self.stderr.write(f"  {where}{column}: {problem['message']}")
            if run.problem_count > len(run.problems):
                self.stderr.write(f"  … und {run.problem_count - len(run.problems)} weitere")
            raise SystemExit(1)
        for kind, counts in run.summary.items():
            self.stdout.write(f"{kind}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        self.stdout.write("Prüfung ohne Fehler; nichts übernommen (--dry-run)." if dry_run else "Import abgeschlossen.")
