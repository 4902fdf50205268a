"""Login through OpenID Connect against a real provider (oidc-provider-mock, its own process on
loopback, tests/directories.py): the browser's way there and back with the test client, claims
that grant role and provider, refusals in German, the provider's second factor, and a session
the provider ends or whose groups it takes away."""

from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from kim.api import services as api_services
from kim.core.models import AuditEntry, Role, User
from kim.identity import services
from kim.identity.config import OIDC_BACKEND
from kim.identity.models import Source

from .directories import with_directory_backend

CASE_WORK = "/kim/caritas-fachkraft"
COORDINATION = "/kim/koordination"


@pytest.fixture
def oidc(oidc_provider, settings, world):
    for name, value in oidc_provider.settings(KIM_OIDC_RECHECK_SECONDS="0").items():
        setattr(settings, name, value)
    settings.KIM_OIDC_ENABLED = True
    settings.AUTHENTICATION_BACKENDS = with_directory_backend(settings.AUTHENTICATION_BACKENDS, OIDC_BACKEND)
    with scopes_disabled():
        services.add_group(None, source=Source.OIDC, group=CASE_WORK, district=world.district,
                           role=Role.CASE_MANAGER, provider=world.provider)
        services.add_group(None, source=Source.OIDC, group=COORDINATION, district=world.district,
                           role=Role.COORDINATION)
    return oidc_provider


def person(provider, sub, groups, **claims):
    provider.put_user(sub, {"preferred_username": sub, "given_name": sub.title(), "family_name": "Beispiel",
                            "email": f"{sub}@kreis-aue.de", "groups": groups, **claims})


def log_in(client, sub, next_path="/"):
    """The browser's way: KIM sends it to the provider, the person picks `sub` on the provider's
    form, the provider sends it back with a code, which KIM exchanges at the provider."""
    start = client.get(f"/anmelden/oidc/?next={next_path}")
    assert start.status_code == 302, start
    authorize = start["Location"]
    assert authorize.startswith("http://127.0.0.1:")
    form = requests.get(authorize, timeout=10)
    assert form.status_code == 200 and 'name="sub"' in form.text
    answer = requests.post(authorize, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.path == "/anmelden/oidc/zurueck/"
    return client.get(f"{back.path}?{back.query}", follow=True)


def account(username):
    with scopes_disabled():
        return User.objects.select_related("directory_account").get(username=username)


def test_the_claims_grant_role_and_provider_and_the_login_is_audited(client, oidc, world):
    person(oidc, "anke", [CASE_WORK, "/andere/gruppe"])
    response = log_in(client, "anke", "/fallarbeit/")
    assert response.status_code == 200 and response.redirect_chain[-1][0].startswith("/fallarbeit/")
    anke = account("anke")
    assert (anke.district, anke.role, anke.provider) == (world.district, Role.CASE_MANAGER, world.provider)
    assert (anke.first_name, anke.email, anke.directory_account.subject) == ("Anke", "anke@kreis-aue.de", "anke")
    assert not anke.has_usable_password()
    with scopes_disabled():
        assert list(AuditEntry.objects.filter(object_id=str(anke.pk)).order_by("id")
                    .values_list("action", flat=True)) == ["create", "login"]
    # Again: the same account, found by the provider's subject.
    log_in(Client(), "anke")
    with scopes_disabled():
        assert User.objects.filter(username="anke").count() == 1


def test_coordination_by_claim_belongs_to_no_provider(client, oidc):
    person(oidc, "bert", [COORDINATION])
    log_in(client, "bert")
    assert (account("bert").role, account("bert").provider) == (Role.COORDINATION, None)


@pytest.mark.parametrize("groups, message", [
    ([], "hat keinen Zugang zur KIM-Fachdatenbank"),
    (["/kim/unbekannt"], "hat keinen Zugang zur KIM-Fachdatenbank"),
    ([CASE_WORK, COORDINATION], "mehr als eine Rolle"),
])
def test_an_unmapped_user_is_refused_with_a_german_message(client, oidc, groups, message):
    person(oidc, "carl", groups)
    response = log_in(client, "carl")
    assert response.redirect_chain[-1][0].startswith("/anmelden/")
    assert message in response.content.decode()
    assert "_auth_user_id" not in client.session
    with scopes_disabled():
        assert not User.objects.filter(username="carl").exists()
        assert AuditEntry.objects.get(action="login_failed").object_label == "carl"


def test_refusals_do_not_lock_out_the_next_person(client, oidc, settings):
    """django-axes counts password guesses; the provider checked the password, and a refused
    person posts no user name, so refusals must not add up to a lock for everyone."""
    person(oidc, "dirk", [])
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        log_in(Client(), "dirk")
    person(oidc, "dana", [COORDINATION])
    log_in(client, "dana")
    assert client.session.get("_auth_user_id") == str(account("dana").pk)


def test_a_local_account_of_the_same_name_is_never_taken_over(client, oidc, world):
    with scopes_disabled():
        local = User.objects.create_user("emma", password="lokales-Passwort-77", district=world.district,
                                         role=Role.STEERING)
    person(oidc, "emma", [CASE_WORK])
    response = log_in(client, "emma")
    assert "lokales Konto dieses Benutzernamens" in response.content.decode()
    local.refresh_from_db()
    assert local.role == Role.STEERING and local.provider is None


def test_the_providers_second_factor_replaces_the_local_one(oidc, world):
    world.district.require_two_factor = True
    world.district.save()
    person(oidc, "finn", [CASE_WORK], amr=["pwd", "otp"])
    with_mfa = Client()
    assert log_in(with_mfa, "finn", "/fallarbeit/").redirect_chain[-1][0].startswith("/fallarbeit/")
    person(oidc, "frida", [CASE_WORK], amr=["pwd"])
    without = Client()
    assert log_in(without, "frida", "/fallarbeit/").redirect_chain[-1][0].startswith("/zweiter-faktor/")
    assert not TOTPDevice.objects.filter(user=account("finn")).exists()


def test_a_session_the_provider_ends_is_logged_out_at_the_next_request(client, oidc):
    person(oidc, "gabi", [CASE_WORK])
    log_in(client, "gabi")
    assert client.get("/fallarbeit/").status_code == 200
    oidc.revoke_tokens("gabi")
    response = client.get("/fallarbeit/", follow=True)
    assert "Sitzung der Einmalanmeldung ist beendet" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert account("gabi").is_active  # the provider may only have ended the session: nothing switched off


def test_groups_the_provider_takes_away_log_out_and_switch_off(client, oidc):
    person(oidc, "hans", [CASE_WORK])
    log_in(client, "hans")
    person(oidc, "hans", ["/andere/gruppe"])
    response = client.get("/fallarbeit/", follow=True)
    assert "hat keinen Zugang mehr" in response.content.decode()
    assert not account("hans").is_active
    person(oidc, "hans", [CASE_WORK])  # back in the group: the next login switches it on again
    log_in(Client(), "hans")
    assert account("hans").is_active


def test_a_role_changed_at_the_provider_asks_for_a_new_login(client, oidc):
    person(oidc, "ines", [CASE_WORK])
    log_in(client, "ines")
    person(oidc, "ines", [COORDINATION])
    assert "Rolle im Verzeichnis hat sich geändert" in client.get("/", follow=True).content.decode()
    log_in(client, "ines")
    assert account("ines").role == Role.COORDINATION and account("ines").provider is None


def test_an_oidc_account_holds_no_api_token(client, oidc):
    person(oidc, "jana", [CASE_WORK])
    log_in(client, "jana")
    jana = account("jana")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="OpenID Connect"):
        api_services.create_token(jana, jana, "Test")


def test_without_configuration_there_is_no_single_sign_on(client, world, settings):
    settings.KIM_OIDC_ENABLED = False
    assert client.get("/anmelden/oidc/").status_code == 404
    assert client.get("/anmelden/oidc/zurueck/?code=x&state=y").status_code == 404
    assert "Einmalanmeldung" not in client.get("/anmelden/").content.decode()


def test_with_configuration_the_login_page_offers_it(client, oidc):
    assert "Mit dem Konto Ihrer Verwaltung anmelden" in client.get("/anmelden/").content.decode()


@pytest.mark.parametrize("groups", [5, True, 3.5, {CASE_WORK: False}, [[CASE_WORK]], [None], [CASE_WORK, 5]])
def test_a_groups_claim_that_is_no_list_of_names_is_refused_in_german(client, oidc, groups):
    """Only a list of strings (or one string) names groups: an object never grants by its keys,
    a number is no 500."""
    person(oidc, "seltsam", groups)
    response = log_in(Client(raise_request_exception=False), "seltsam")
    assert response.status_code == 200
    assert "falsch eingerichtet" in response.content.decode()
    with scopes_disabled():
        assert not User.objects.filter(username="seltsam").exists()


def test_an_oidc_account_never_logs_in_with_a_password_stored_in_kim(client, oidc):
    person(oidc, "paula", [CASE_WORK])
    log_in(Client(), "paula")
    with scopes_disabled():
        paula = User.objects.get(username="paula")
        paula.set_password("Lokal-Passwort-2026!")  # set before the rule, or by hand
        paula.save(update_fields=["password"])
    response = client.post("/anmelden/", {"username": "paula", "password": "Lokal-Passwort-2026!"})
    assert response.status_code != 302 and "_auth_user_id" not in client.session
    assert "nur über das Verzeichnis" in response.content.decode()


def test_with_groups_from_the_id_token_a_userinfo_without_groups_keeps_the_session(client, oidc, settings):
    """Entra ID names the groups in the ID token only: the groups count at login, and the
    re-check asks only whether the provider still accepts the session for the same person."""
    settings.KIM_OIDC_GROUPS_FROM_ID_TOKEN = True
    person(oidc, "erika", [CASE_WORK])
    log_in(client, "erika")
    assert account("erika").role == Role.CASE_MANAGER
    oidc.put_user("erika", {"preferred_username": "erika", "email": "erika@kreis-aue.de"})  # userinfo: no groups
    assert client.get("/fallarbeit/").status_code == 200
    assert account("erika").is_active
    oidc.revoke_tokens("erika")
    response = client.get("/fallarbeit/", follow=True)
    assert "Sitzung der Einmalanmeldung ist beendet" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_without_groups_from_the_id_token_a_userinfo_without_groups_switches_off(client, oidc):
    person(oidc, "franz", [CASE_WORK])
    log_in(client, "franz")
    oidc.put_user("franz", {"preferred_username": "franz", "email": "franz@kreis-aue.de"})
    response = client.get("/fallarbeit/", follow=True)
    assert "hat keinen Zugang mehr" in response.content.decode()
    assert not account("franz").is_active
