"""The local login (user name and password) of Django's ModelBackend, with two changes: the
user's district and provider come with the user from the session, in one query, instead of one
query each on every request (kim.core.middleware reads both); and an account linked to a
directory (kim.identity DirectoryAccount) never logs in with a password stored in KIM, since
only the directory may decide whether that person still has access."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.utils.translation import gettext_lazy as _

DIRECTORY_ONLY = _("This account logs in through the directory (single sign-on) only, never with a password "
                   "stored in the KIM database. Use the directory login.")


def directory_linked(user) -> bool:
    """Whether the account stands for a directory identity (no query where the account was read
    with select_related("directory_account"))."""
    from kim.identity.models import DirectoryAccount

    try:
        return user.directory_account is not None
    except DirectoryAccount.DoesNotExist:
        return False


class ModelBackend(DjangoModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and request is not None and username:
            self.explain_refusal(request, username)
        return user

    def explain_refusal(self, request, username):
        """The login page says why, where the reason is not a wrong password: a directory
        account was given a password (it must use the directory login); a local account's
        failure is its own, whatever an unreachable directory said before."""
        from kim.identity.backends import REFUSAL, UNREACHABLE_AT_LOGIN

        model = get_user_model()
        user = model._default_manager.select_related("directory_account").filter(
            **{model.USERNAME_FIELD: username}).first()
        if user is None:
            return
        if not directory_linked(user):
            if getattr(request, UNREACHABLE_AT_LOGIN, False):
                setattr(request, UNREACHABLE_AT_LOGIN, False)
                setattr(request, REFUSAL, None)
        elif not getattr(request, REFUSAL, None) and not self.form_is_its_directory_login(user):
            setattr(request, REFUSAL, DIRECTORY_ONLY)

    @staticmethod
    def form_is_its_directory_login(user) -> bool:
        """An LDAP account logs in on this very form (its password checked by the directory),
        so a failure there is a wrong password; an OIDC account, or an LDAP one while LDAP is
        off, must be told to use the directory's login."""
        from django.conf import settings

        from kim.identity.config import LDAP_BACKEND

        return user.directory_account.source == "ldap" and LDAP_BACKEND in settings.AUTHENTICATION_BACKENDS

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not directory_linked(user)

    def get_user(self, user_id):
        model = get_user_model()
        try:
            user = model._default_manager.select_related("district", "provider", "directory_account").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
