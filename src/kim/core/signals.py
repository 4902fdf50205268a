from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django_scopes import scopes_disabled

from .audit import Action, record
from .models import AuditEntry


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    record(user, Action.LOGIN, user)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        record(user, Action.LOGOUT, user)


@receiver(user_login_failed)
def audit_login_failure(sender, credentials, request=None, **kwargs):
    with scopes_disabled():
        AuditEntry.objects.create(
            action=Action.LOGIN_FAILED, object_type="core.user",
            # A directory login refused after the directory's own check names the person on
            # the request (kim.identity.backends), since no user name was posted.
            object_label=str(credentials.get("username") or getattr(request, "kim_login_refused_name", ""))[:120],
        )
