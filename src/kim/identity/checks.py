"""Does the directory still grant an account what it holds? Asked by every session of a
directory account (kim.identity.middleware) and by every API request of an LDAP account's token."""

import ldap
import requests
from django.conf import settings
from django.core.cache import cache
from django_auth_ldap.backend import _LDAPUser

from . import services
from .backends import LDAPBackend
from .grants import CHANGED, NO_LONGER, SESSION_ENDED, UNREACHABLE, Refused, resolve
from .models import DirectoryAccount, Source


def directory_source(user) -> str | None:
    """"ldap" or "oidc" for an account the directory provisioned, None for a local one (no query
    where the account was read with select_related("directory_account"))."""
    try:
        return user.directory_account.source
    except DirectoryAccount.DoesNotExist:
        return None


def token_refusal(user):
    """None, or why the API token of `user` may not act now: an LDAP account's token asks the
    directory like a session does (every KIM_LDAP_RECHECK_SECONDS, remembered in the cache);
    an OIDC account holds no token (kim.api.services.create_token), one made before stops."""
    source = directory_source(user)
    if source is None:
        return None
    if source == Source.OIDC:
        return SESSION_ENDED
    if not getattr(settings, "AUTH_LDAP_SERVER_URI", ""):
        return UNREACHABLE
    key = f"kim-directory-ok-{user.pk}"
    if settings.KIM_LDAP_RECHECK_SECONDS and cache.get(key):
        return None
    refusal = ldap_refusal(user)
    if refusal is None and settings.KIM_LDAP_RECHECK_SECONDS:
        cache.set(key, True, settings.KIM_LDAP_RECHECK_SECONDS)
    return refusal


def ldap_refusal(user):
    """None, or the German reason the account may no longer act. The search runs with the
    login's filter, so a user deleted, disabled (by the filter) or taken out of every KIM group is
    switched off; a directory that does not answer ends the session but switches nothing off."""
    backend = LDAPBackend()
    # _LDAPUser is django-auth-ldap's lookup of one user (DN and groups) with the service
    # account, the same the login uses; reading it does not save the account.
    ldap_user = _LDAPUser(backend, username=user.username)
    if ldap_user.dn is None:
        if not directory_answers():
            return UNREACHABLE
        services.suspend(user, "not found")
        return NO_LONGER
    if not same_identity(user, ldap_user.dn):
        services.suspend(user, "another DN")
        return NO_LONGER
    return refusal_for(user, Source.LDAP, ldap_user.group_dns)


def same_identity(user, dn: str) -> bool:
    """The account is linked to a DN: whoever the user name finds now under another DN (moved,
    or a new person with the name of one who left) is not the person the account stands for."""
    return dn.lower() == user.directory_account.subject


def oidc_refusal(user, access_token):
    """None, or why not: the provider's userinfo endpoint refuses the session's access token
    (revoked, expired, user disabled) or its groups no longer grant what the account holds."""
    if not access_token:
        return SESSION_ENDED
    try:
        response = requests.get(settings.OIDC_OP_USER_ENDPOINT, headers={"Authorization": f"Bearer {access_token}"},
                                timeout=settings.OIDC_TIMEOUT)
    except requests.RequestException:
        return UNREACHABLE
    if response.status_code != 200:
        return SESSION_ENDED
    try:
        answer = response.json()
    except ValueError:
        return SESSION_ENDED
    if not isinstance(answer, dict) or answer.get("sub") != user.directory_account.subject:
        return SESSION_ENDED  # never another person's answer (OpenID Connect Core 5.3.2)
    if settings.KIM_OIDC_GROUPS_FROM_ID_TOKEN:
        return None  # the groups were those of the login's ID token; userinfo names none
    return refusal_for(user, Source.OIDC, answer.get(settings.KIM_OIDC_GROUPS_CLAIM))


def refusal_for(user, source, groups):
    try:
        grant = resolve(source, groups)
    except Refused:
        services.suspend(user, "no group")
        return NO_LONGER
    return None if grant.held_by(user) else CHANGED


def directory_answers() -> bool:
    """Whether the LDAP server accepts the service account's bind right now."""
    connection = ldap.initialize(settings.AUTH_LDAP_SERVER_URI)
    try:
        for option, value in settings.AUTH_LDAP_CONNECTION_OPTIONS.items():
            connection.set_option(option, value)
        if settings.AUTH_LDAP_START_TLS:
            connection.start_tls_s()
        connection.simple_bind_s(settings.AUTH_LDAP_BIND_DN, settings.AUTH_LDAP_BIND_PASSWORD)
        return True
    except ldap.LDAPError:
        return False
    finally:
        try:
            connection.unbind_s()
        except ldap.LDAPError:
            pass
