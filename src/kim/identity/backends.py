"""Login backends for the directories. Both find the local account by the directory's own key,
take the role and provider from the person's groups (kim.identity.grants) and refuse, with a
German message, whoever the groups grant nothing. A refusal is noted on the request, so that
the login page shows it and the failed login is audited with the name given."""

import ldap
from django.contrib import messages
from django.db import transaction
from django.dispatch import receiver
from django_auth_ldap.backend import LDAPBackend as BaseLDAPBackend
from django_auth_ldap.backend import ldap_error
from django_scopes import scopes_disabled
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from . import services
from .grants import UNREACHABLE_LOGIN, Refused, resolve
from .models import Source

REFUSAL = "kim_login_refusal"          # request attribute: the German message of a refusal
REFUSED_NAME = "kim_login_refused_name"  # request attribute: the name the refused person gave
DIRECTORY_MFA = "kim_directory_mfa"    # session key: the OIDC provider did the second factor
UNREACHABLE_AT_LOGIN = "kim_directory_unreachable"  # request attribute: the LDAP server did not answer


def note_refusal(request, refusal: Refused, username: str) -> None:
    if request is not None:
        setattr(request, REFUSAL, refusal.message)
        setattr(request, REFUSED_NAME, username)


@receiver(ldap_error)
def note_unreachable_directory(sender, context, request=None, exception=None, **kwargs):
    """A login the LDAP server could not check (down, timed out) is no failure of the person:
    the login page says that the directory cannot be reached, and django-axes does not count
    it (not_a_failed_login). kim.core.backends.ModelBackend undoes this for a local account."""
    if context in ("authenticate", "search_for_user_dn") and request is not None and isinstance(exception, (ldap.SERVER_DOWN, ldap.TIMEOUT)):
        setattr(request, UNREACHABLE_AT_LOGIN, True)
        setattr(request, REFUSAL, UNREACHABLE_LOGIN)


def not_a_failed_login(request, credentials) -> bool:
    """settings.AXES_WHITELIST_CALLABLE: True for a login the directory could not check."""
    return bool(getattr(request, UNREACHABLE_AT_LOGIN, False))


class LDAPBackend(BaseLDAPBackend):
    """django-auth-ldap, with KIM's accounts: the bind checks the password (a wrong one is a
    failed login that django-axes counts); the groups decide the rest."""

    def authenticate_ldap_user(self, ldap_user, password):
        with scopes_disabled(), transaction.atomic():
            user = super().authenticate_ldap_user(ldap_user, password)
            grant = getattr(ldap_user, "kim_grant", None)
            if user is None or grant is None:
                return None
            services.provision(user, grant, source=Source.LDAP, subject=ldap_user.dn.lower(),
                               created=ldap_user.kim_created, names={})
            return user

    def get_or_build_user(self, username, ldap_user):
        """Called after a successful bind: refuses (as a failed login) whoever the groups grant
        nothing, and whoever would take over a local account of the same name."""
        try:
            ldap_user.kim_grant = resolve(Source.LDAP, ldap_user.group_dns)
            user, created = services.local_account(Source.LDAP, ldap_user.dn.lower(), username)
        except Refused as refusal:
            note_refusal(ldap_user._request, refusal, username)
            raise ldap_user.AuthenticationFailed(refusal.message) from refusal
        ldap_user.kim_created = created
        return user, created


class OIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc, with KIM's accounts, found by the provider's `sub` claim."""

    def get_or_create_user(self, access_token, id_token, payload):
        from django.conf import settings

        userinfo = self.get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload.get("sub"):  # OpenID Connect Core 5.3.2: never another person's answer
            return None
        claims = {**userinfo, **payload}
        groups = (payload if settings.KIM_OIDC_GROUPS_FROM_ID_TOKEN else claims).get(settings.KIM_OIDC_GROUPS_CLAIM)
        username = str(claims.get(settings.KIM_OIDC_USERNAME_CLAIM) or claims.get("email") or claims["sub"])[:150]
        try:
            with scopes_disabled(), transaction.atomic():
                grant = resolve(Source.OIDC, groups)
                user, created = services.local_account(Source.OIDC, claims["sub"], username)
                services.provision(user, grant, source=Source.OIDC, subject=claims["sub"], created=created, names={
                    "first_name": claims.get("given_name"), "last_name": claims.get("family_name"),
                    "email": claims.get("email")})
        except Refused as refusal:
            note_refusal(self.request, refusal, username)
            messages.error(self.request, refusal.message)
            return None
        self.request.session[DIRECTORY_MFA] = provider_did_second_factor(claims)
        return user

    def verify_claims(self, claims):
        return "sub" in claims


def provider_did_second_factor(claims: dict) -> bool:
    """The ID token says the provider checked a second factor (`amr`, RFC 8176, or an `acr`
    the operator names in KIM_OIDC_MFA_ACR)."""
    from django.conf import settings

    amr = claims.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    return bool(set(amr) & set(settings.KIM_OIDC_MFA_AMR)) or \
        (bool(claims.get("acr")) and str(claims["acr"]) in settings.KIM_OIDC_MFA_ACR)
