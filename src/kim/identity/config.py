"""The settings of single sign-on, from environment variables (read by kim.settings, and by the
tests with a directory they started). Nothing here is on unless its variables are set."""

from django.core.exceptions import ImproperlyConfigured

LDAP_BACKEND = "kim.identity.backends.LDAPBackend"
OIDC_BACKEND = "kim.identity.backends.OIDCBackend"
# Second factors an OIDC provider may report in the `amr` claim (RFC 8176): with one of them the
# district's local second factor is not asked again.
DEFAULT_MFA_AMR = "mfa,otp,hwk,sc,swk,pop"


def _list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _required(env, name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} is required when single sign-on through it is configured.")
    return value


def _secret(env, name: str) -> str:
    """NAME, or the content of the file NAME_FILE (so that the secret need not stand in a unit file)."""
    path = env.get(f"{name}_FILE", "").strip()
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE names {path}, which cannot be read: {exc}") from exc
    return env.get(name, "")


def _seconds(env, name: str, default: int) -> int:
    raw = env.get(name, str(default))
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, not {raw!r}.") from exc
    if value < 0:
        raise ImproperlyConfigured(f"{name} must not be negative.")
    return value


def ldap_settings(env) -> dict:
    """django-auth-ldap's settings from KIM_LDAP_*; {} without KIM_LDAP_SERVER_URI."""
    uri = env.get("KIM_LDAP_SERVER_URI", "").strip()
    if not uri:
        return {}
    import ldap
    from django_auth_ldap.config import (
        GroupOfNamesType,
        GroupOfUniqueNamesType,
        LDAPSearch,
        NestedActiveDirectoryGroupType,
    )

    group_types = {
        "groupOfNames": (GroupOfNamesType, "(objectClass=groupOfNames)"),
        "groupOfUniqueNames": (GroupOfUniqueNamesType, "(objectClass=groupOfUniqueNames)"),
        "activeDirectory": (NestedActiveDirectoryGroupType, "(objectClass=group)"),
    }
    kind = env.get("KIM_LDAP_GROUP_TYPE", "groupOfNames")
    if kind not in group_types:
        raise ImproperlyConfigured(f"KIM_LDAP_GROUP_TYPE must be one of {', '.join(group_types)}, not {kind!r}.")
    group_type, group_filter = group_types[kind]
    return {
        "AUTH_LDAP_SERVER_URI": uri,
        "AUTH_LDAP_START_TLS": env.get("KIM_LDAP_START_TLS", "0").lower() in {"1", "true", "yes", "on"},
        "AUTH_LDAP_BIND_DN": env.get("KIM_LDAP_BIND_DN", ""),
        "AUTH_LDAP_BIND_PASSWORD": _secret(env, "KIM_LDAP_BIND_PASSWORD"),
        # A user disabled in the directory is excluded by the filter (Active Directory:
        # (!(userAccountControl:1.2.840.113556.1.4.803:=2))), so that both the login and the
        # re-check of every session find no such user.
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(_required(env, "KIM_LDAP_USER_BASE"), ldap.SCOPE_SUBTREE,
                                            env.get("KIM_LDAP_USER_FILTER", "(uid=%(user)s)")),
        "AUTH_LDAP_GROUP_SEARCH": LDAPSearch(_required(env, "KIM_LDAP_GROUP_BASE"), ldap.SCOPE_SUBTREE,
                                             env.get("KIM_LDAP_GROUP_FILTER", group_filter)),
        "AUTH_LDAP_GROUP_TYPE": group_type(),
        "AUTH_LDAP_USER_ATTR_MAP": {"first_name": "givenName", "last_name": "sn", "email": "mail"},
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        "AUTH_LDAP_MIRROR_GROUPS": False,
        "AUTH_LDAP_FIND_GROUP_PERMS": False,
        "AUTH_LDAP_CACHE_TIMEOUT": 0,
        # A directory that does not answer must not hang the login page; AD's referrals are not followed.
        "AUTH_LDAP_CONNECTION_OPTIONS": {ldap.OPT_NETWORK_TIMEOUT: 5, ldap.OPT_TIMEOUT: 10, ldap.OPT_REFERRALS: 0},
        # 0: every request asks the directory whether the account still has its access.
        "KIM_LDAP_RECHECK_SECONDS": _seconds(env, "KIM_LDAP_RECHECK_SECONDS", 0),
    }


def oidc_settings(env) -> dict:
    """mozilla-django-oidc's settings from KIM_OIDC_*; {} without KIM_OIDC_CLIENT_ID."""
    client_id = env.get("KIM_OIDC_CLIENT_ID", "").strip()
    if not client_id:
        return {}
    return {
        "OIDC_RP_CLIENT_ID": client_id,
        "OIDC_RP_CLIENT_SECRET": _secret(env, "KIM_OIDC_CLIENT_SECRET"),
        "OIDC_OP_AUTHORIZATION_ENDPOINT": _required(env, "KIM_OIDC_AUTHORIZATION_ENDPOINT"),
        "OIDC_OP_TOKEN_ENDPOINT": _required(env, "KIM_OIDC_TOKEN_ENDPOINT"),
        "OIDC_OP_USER_ENDPOINT": _required(env, "KIM_OIDC_USERINFO_ENDPOINT"),
        "OIDC_OP_JWKS_ENDPOINT": _required(env, "KIM_OIDC_JWKS_ENDPOINT"),
        "OIDC_RP_SIGN_ALGO": env.get("KIM_OIDC_SIGN_ALGO", "RS256"),
        "OIDC_RP_SCOPES": env.get("KIM_OIDC_SCOPES", "openid email profile"),
        "OIDC_USE_NONCE": True,
        "OIDC_USE_PKCE": True,
        # The access token stays in the session, so that the session can ask the provider's
        # userinfo endpoint whether the account still has its access (kim.identity.middleware).
        "OIDC_STORE_ACCESS_TOKEN": True,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc-callback",
        "LOGIN_REDIRECT_URL_FAILURE": "/anmelden/",
        "OIDC_TIMEOUT": 10,
        # A provider with a single signing key may leave out its key id (kid).
        "OIDC_VERIFY_KID": env.get("KIM_OIDC_VERIFY_KID", "1").lower() not in {"0", "false", "no", "off"},
        "KIM_OIDC_GROUPS_CLAIM": env.get("KIM_OIDC_GROUPS_CLAIM", "groups"),
        "KIM_OIDC_USERNAME_CLAIM": env.get("KIM_OIDC_USERNAME_CLAIM", "preferred_username"),
        "KIM_OIDC_MFA_AMR": _list(env.get("KIM_OIDC_MFA_AMR", DEFAULT_MFA_AMR)),
        "KIM_OIDC_MFA_ACR": _list(env.get("KIM_OIDC_MFA_ACR", "")),
        "KIM_OIDC_RECHECK_SECONDS": _seconds(env, "KIM_OIDC_RECHECK_SECONDS", 300),
        # Entra ID names the groups in the ID token only, never at userinfo: with this on, the
        # groups count at login (from the ID token) and the re-check asks only whether the
        # provider still accepts the session's token for the same `sub`.
        "KIM_OIDC_GROUPS_FROM_ID_TOKEN": env.get("KIM_OIDC_GROUPS_FROM_ID_TOKEN", "0").lower()
        in {"1", "true", "yes", "on"},
    }


def backends(ldap: dict, oidc: dict) -> list[str]:
    """The directory backends to add before Django's ModelBackend (local accounts stay)."""
    return ([LDAP_BACKEND] if ldap else []) + ([OIDC_BACKEND] if oidc else [])
