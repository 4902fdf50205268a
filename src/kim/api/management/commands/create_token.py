"""kim create-token USERNAME --name "Jobcenter-Schnittstelle" | kim create-token --revoke PREFIX"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from kim.core.audit import Action, record
from kim.core.models import User

from ...models import ApiToken, hash_token


class Command(BaseCommand):
    help = "Ein API-Token für eine Person anlegen (es handelt mit deren Rolle und Rechten) oder widerrufen."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?")
        parser.add_argument("--name", default="API", help="wofür das Token ist, z. B. Jobcenter-Schnittstelle")
        parser.add_argument("--revoke", metavar="PREFIX", help="das Token mit diesem Anfang widerrufen")

    @transaction.atomic
    def handle(self, *args, **options):
        if options["revoke"]:
            token = ApiToken.objects.active().filter(prefix=options["revoke"].removeprefix("kim_")[:8]).first()
            if token is None:
                raise CommandError("Kein gültiges Token mit diesem Anfang.")
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record(None, Action.UPDATE, token, changes={"revoked_at": [None, token.revoked_at.isoformat()]},
                   provider_id=token.user.provider_id)
            self.stdout.write("Token widerrufen.")
            return
        user = User.objects.filter(username=options["username"] or "", is_active=True).first()
        if user is None or user.district_id is None:
            raise CommandError("Keine aktive Person dieses Namens in einem Kreis.")
        key = ApiToken.new_key()
        token = ApiToken.objects.create(user=user, name=options["name"], prefix=key[4:12], key_hash=hash_token(key))
        record(None, Action.CREATE, token, changes={"user": [None, user.pk], "name": [None, token.name]},
               provider_id=user.provider_id)
        self.stdout.write(key)
        self.stderr.write("Das Token wird nur dieses eine Mal angezeigt. Es handelt mit den Rechten von "
                          f"{user.username}.")
