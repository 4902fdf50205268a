"""Single sign-on is configured by environment variables only, off without them, and a
malformed configuration stops the start with a message instead of being ignored."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from kim.identity.config import LDAP_BACKEND, OIDC_BACKEND, backends, ldap_settings, oidc_settings

LDAP_ENV = {"KIM_LDAP_SERVER_URI": "ldap://127.0.0.1:1/", "KIM_LDAP_USER_BASE": "ou=p,dc=x",
            "KIM_LDAP_GROUP_BASE": "ou=g,dc=x"}
OIDC_ENV = {"KIM_OIDC_CLIENT_ID": "kim", **{f"KIM_OIDC_{name}_ENDPOINT": f"https://sso.example/{name.lower()}"
                                             for name in ("AUTHORIZATION", "TOKEN", "USERINFO", "JWKS")}}


def test_nothing_is_on_without_its_variables():
    assert ldap_settings({}) == {} and oidc_settings({}) == {} and backends({}, {}) == []


@pytest.mark.parametrize("missing", ["KIM_LDAP_USER_BASE", "KIM_LDAP_GROUP_BASE"])
def test_ldap_without_its_search_bases_stops_the_start(missing):
    with pytest.raises(ImproperlyConfigured, match=missing):
        ldap_settings({k: v for k, v in LDAP_ENV.items() if k != missing})


def test_malformed_values_stop_the_start(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="KIM_LDAP_GROUP_TYPE"):
        ldap_settings({**LDAP_ENV, "KIM_LDAP_GROUP_TYPE": "posix"})
    with pytest.raises(ImproperlyConfigured, match="KIM_LDAP_RECHECK_SECONDS"):
        ldap_settings({**LDAP_ENV, "KIM_LDAP_RECHECK_SECONDS": "bald"})
    with pytest.raises(ImproperlyConfigured, match="KIM_OIDC_TOKEN_ENDPOINT"):
        oidc_settings({k: v for k, v in OIDC_ENV.items() if k != "KIM_OIDC_TOKEN_ENDPOINT"})
    with pytest.raises(ImproperlyConfigured, match="KIM_OIDC_CLIENT_SECRET_FILE"):
        oidc_settings({**OIDC_ENV, "KIM_OIDC_CLIENT_SECRET_FILE": str(tmp_path / "fehlt")})


def test_secrets_are_read_from_files(tmp_path):
    (tmp_path / "ldap").write_text("dienst-geheim\n")
    (tmp_path / "oidc").write_text("client-geheim\n")
    assert ldap_settings({**LDAP_ENV, "KIM_LDAP_BIND_PASSWORD_FILE": str(tmp_path / "ldap")})[
        "AUTH_LDAP_BIND_PASSWORD"] == "dienst-geheim"
    assert oidc_settings({**OIDC_ENV, "KIM_OIDC_CLIENT_SECRET_FILE": str(tmp_path / "oidc")})[
        "OIDC_RP_CLIENT_SECRET"] == "client-geheim"


def test_the_settings_put_the_directories_before_the_local_accounts():
    """The settings module itself, started with the variables: both backends, local accounts last."""
    code = "from django.conf import settings; print('|'.join(settings.AUTHENTICATION_BACKENDS))"
    env = {**os.environ, **LDAP_ENV, **OIDC_ENV, "DJANGO_SETTINGS_MODULE": "kim.settings"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    order = done.stdout.strip().split("|")
    assert order[-3:] == [LDAP_BACKEND, OIDC_BACKEND, "kim.core.backends.ModelBackend"]
    assert order[0] == "axes.backends.AxesStandaloneBackend"  # the lock-out is checked first, for all


def test_groups_from_the_id_token_are_off_unless_switched_on():
    assert oidc_settings(OIDC_ENV)["KIM_OIDC_GROUPS_FROM_ID_TOKEN"] is False
    assert oidc_settings({**OIDC_ENV, "KIM_OIDC_GROUPS_FROM_ID_TOKEN": "1"})["KIM_OIDC_GROUPS_FROM_ID_TOKEN"] is True
