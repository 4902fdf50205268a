"""kim create-token USERNAME --name "Jobcenter-Schnittstelle" [--days 90] | kim create-token --revoke PREFIX"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from kim.core.models import User

from ...models import DEFAULT_VALIDITY_DAYS, ApiToken
from ...services import create_token, revoke_token


class Command(BaseCommand):
    help = "Ein API-Token für eine Person anlegen (es handelt mit deren Rolle und Rechten) oder widerrufen."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?")
        parser.add_argument("--name", default="API", help="wofür das Token ist, z. B. Jobcenter-Schnittstelle")
        parser.add_argument("--days", type=int, default=DEFAULT_VALIDITY_DAYS,
                            help=f"wie viele Tage es gilt (Vorgabe {DEFAULT_VALIDITY_DAYS}, höchstens 365)")
        parser.add_argument("--revoke", metavar="PREFIX", help="das Token mit diesem Anfang widerrufen")

    @scopes_disabled()
    def handle(self, *args, **options):
        if options["revoke"]:
            token = ApiToken.objects.active().filter(prefix=options["revoke"].removeprefix("kim_")[:8]).first()
            if token is None:
                raise CommandError("Kein gültiges Token mit diesem Anfang.")
            revoke_token(None, token)
            self.stdout.write("Token widerrufen.")
            return
        user = User.objects.filter(username=options["username"] or "", is_active=True).first()
        if user is None or user.district_id is None:
            raise CommandError("Keine aktive Person dieses Namens in einem Kreis.")
        try:
            token, key = create_token(None, user, options["name"], options["days"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(key)
        self.stderr.write("Das Token wird nur dieses eine Mal angezeigt. Es handelt mit den Rechten von "
                          f"{user.username} und gilt bis {token.expires_at:%d.%m.%Y}.")
        if user.district.require_two_factor and not has_second_factor(user):
            self.stderr.write("Achtung: Der Kreis verlangt einen zweiten Faktor. Das Token gilt erst, wenn "
                              f"{user.username} ihn im Browser eingerichtet hat.")


def has_second_factor(user) -> bool:
    from kim.core.middleware import has_device

    return has_device(user)
