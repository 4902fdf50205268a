"""kim directory-groups list | add --source ldap --group DN --district SLUG --role ROLE [--provider SLUG]
| remove --source ldap --group DN: which directory group grants which role in which district."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django_scopes import scopes_disabled

from kim.core.models import District, Provider, Role

from ... import services
from ...grants import normalised
from ...models import DirectoryGroup, Source


class Command(BaseCommand):
    help = ("Verzeichnisgruppen (LDAP-Gruppe oder OIDC-Gruppenangabe) einer Rolle und, für Fallarbeit, einem "
            "Träger eines Kreises zuordnen; auflisten oder entfernen.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "add", "remove"], help="auflisten, hinzufügen, entfernen")
        parser.add_argument("--source", choices=Source.values, help="ldap oder oidc")
        parser.add_argument("--group", help="DN der LDAP-Gruppe oder Wert der OIDC-Gruppenangabe")
        parser.add_argument("--district", help="Kurzname des Kreises")
        parser.add_argument("--role", choices=Role.values, help="die Rolle, die die Gruppe gewährt")
        parser.add_argument("--provider", help="Kurzname des Trägers (nur Fachkraft und Trägerleitung)")

    @scopes_disabled()
    def handle(self, *args, **options):
        translation.activate("de")
        getattr(self, options["action"])(options)

    def list(self, options):
        mappings = DirectoryGroup.objects.select_related("district", "provider")
        if options["district"]:
            mappings = mappings.filter(district__slug=options["district"])
        for m in mappings:
            provider = f" / {m.provider.slug}" if m.provider else ""
            self.stdout.write(f"{m.source}\t{m.group}\t{m.district.slug}\t{m.role}{provider}")
        if not mappings:
            self.stdout.write("Keine Gruppe zugeordnet.")

    def add(self, options):
        for name in ("source", "group", "district", "role"):
            if not options[name]:
                raise CommandError(f"--{name} fehlt.")
        district = District.objects.filter(slug=options["district"]).first()
        if district is None:
            raise CommandError("Kein Kreis mit diesem Kurznamen.")
        provider = None
        if options["provider"]:
            # Looked up in every district: one of another district is refused by the rule, with its message.
            provider = (Provider.objects.filter(district=district, slug=options["provider"]).first()
                        or Provider.objects.filter(slug=options["provider"]).first())
            if provider is None:
                raise CommandError("Kein Träger mit diesem Kurznamen.")
        try:
            mapping = services.add_group(None, source=options["source"], group=options["group"], district=district,
                                         role=options["role"], provider=provider)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"Gruppe {mapping.group} gewährt im Kreis {district.slug} die Rolle "
                          f"{Role(mapping.role).label}{f' beim Träger {provider.slug}' if provider else ''}.")

    def remove(self, options):
        if not options["source"] or not options["group"]:
            raise CommandError("--source und --group sind nötig.")
        mapping = DirectoryGroup.objects.filter(source=options["source"],
                                                group=normalised(options["source"], options["group"])).first()
        if mapping is None:
            raise CommandError("Diese Gruppe ist keiner Rolle zugeordnet.")
        services.remove_group(None, mapping)
        self.stdout.write("Zuordnung entfernt. Wer nur durch sie Zugang hatte, wird bei der nächsten Anfrage "
                          "abgemeldet.")
