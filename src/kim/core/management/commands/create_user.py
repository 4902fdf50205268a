from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from kim.core.models import District, Provider, Role
from kim.core.services import create_user


class Command(BaseCommand):
    help = "Create a user of a district, e.g. the first district administrator (the Land's: --role state, no district)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--district", help="district slug (none for the Land's role state)")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--provider", help="provider slug (case managers and provider leads)")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="initial password; without it the user cannot log in yet")

    @scopes_disabled()
    def handle(self, username, district, role, provider, first_name, last_name, email, password, **options):
        if not district and role != Role.STATE:
            raise CommandError("Bitte --district angeben (nur die Rolle state des Landes hat keinen Kreis).")
        try:
            district_obj = District.objects.get(slug=district) if district else None
            provider_obj = Provider.objects.get(district=district_obj, slug=provider) if provider else None
            user = create_user(
                None, district=district_obj, username=username, password=password, role=role,
                provider=provider_obj, first_name=first_name, last_name=last_name, email=email,
            )
        except (District.DoesNotExist, Provider.DoesNotExist) as exc:
            raise CommandError(f"Unknown district or provider: {exc}") from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(user.username)
