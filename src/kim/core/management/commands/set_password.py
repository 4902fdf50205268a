"""kim set-password USERNAME: the operator sets a password (asked twice, never on the command
line), audited like every other password change, and lifts the lock after failed logins."""

import getpass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from kim.core.models import User
from kim.core.services import refuse_password_of_directory_account, set_password


class Command(BaseCommand):
    help = "Ein neues Passwort für ein Konto setzen (als Betrieb; die Sperre nach Fehlversuchen endet damit)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    @scopes_disabled()
    def handle(self, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"Kein Konto mit dem Namen {username}.")
        try:
            refuse_password_of_directory_account(user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        password = getpass.getpass("Neues Passwort: ")
        if password != getpass.getpass("Noch einmal: "):
            raise CommandError("Die beiden Eingaben stimmen nicht überein; nichts geändert.")
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        set_password(None, user, password)
        self.stdout.write(f"Neues Passwort für {username} gesetzt.")
