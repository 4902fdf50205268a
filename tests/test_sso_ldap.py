"""Login through LDAP against a real slapd (tests/directories.py): the password is checked by
the directory, the groups grant role and provider, and an account the directory takes away is
logged out at its next request and switched off."""

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ValidationError
from django.test import Client
from django_scopes import scopes_disabled

from kim.api import services as api_services
from kim.core import services as core_services
from kim.core.models import AuditEntry, Role, User
from kim.identity import services
from kim.identity.config import LDAP_BACKEND
from kim.identity.models import DirectoryAccount, Source

from .directories import GROUPS, PEOPLE, free_port, group, person, with_directory_backend

PASSWORD = "Aue-Passwort-2026"
CARITAS_GROUP = f"cn=kim-caritas-fachkraft,{GROUPS}"
COORDINATION_GROUP = f"cn=kim-koordination,{GROUPS}"
OTHER_GROUP = f"cn=kantine,{GROUPS}"
PEOPLE_NAMES = {
    "anna": ("Anna", "Adler"), "bernd": ("Bernd", "Berger"), "clara": ("Clara", "Claus"),
    "dora": ("Dora", "Dorn"), "emil": ("Emil", "Ernst"), "fritz": ("Fritz", "Frey"), "greta": ("Greta", "Gold"),
    "hanna": ("Hanna", "Horn"), "ida": ("Ida", "Imhof"), "jonas": ("Jonas", "Jung"), "karl": ("Karl", "Kern"),
    "lena": ("Lena", "Lang"),
}
MEMBERS = {
    "kim-caritas-fachkraft": ["anna", "dora", "fritz", "greta", "hanna", "ida", "karl", "lena"],
    "kim-koordination": ["bernd", "emil", "fritz", "jonas"],
    "kantine": ["clara"],
}


@pytest.fixture(scope="module")
def directory(slapd):
    """The people and groups of this module, loaded once into the session's slapd."""
    slapd.add("".join(person(uid, *names, PASSWORD) for uid, names in PEOPLE_NAMES.items())
              + "".join(group(cn, members) for cn, members in MEMBERS.items()))
    return slapd


@pytest.fixture
def ldap(directory, settings, world):
    """This district logs in through the directory: the settings as from KIM_LDAP_*, the
    groups mapped by the operator's service."""
    for name, value in directory.settings().items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = with_directory_backend(settings.AUTHENTICATION_BACKENDS, LDAP_BACKEND)
    with scopes_disabled():
        services.add_group(None, source=Source.LDAP, group=CARITAS_GROUP, district=world.district,
                           role=Role.CASE_MANAGER, provider=world.provider)
        services.add_group(None, source=Source.LDAP, group=COORDINATION_GROUP, district=world.district,
                           role=Role.COORDINATION)
    return directory


def log_in(client, username, password=PASSWORD):
    return client.post("/anmelden/", {"username": username, "password": password})


def account(username):
    with scopes_disabled():
        return User.objects.select_related("directory_account").get(username=username)


def test_a_directory_user_logs_in_with_the_role_and_provider_of_the_group(client, ldap, world):
    response = log_in(client, "anna")
    assert response.status_code == 302, response.content.decode()
    anna = account("anna")
    assert (anna.district, anna.role, anna.provider) == (world.district, Role.CASE_MANAGER, world.provider)
    assert (anna.first_name, anna.last_name, anna.email) == ("Anna", "Adler", "anna@kreis-aue.de")
    assert not anna.has_usable_password()  # the directory checks the password, never KIM
    assert anna.directory_account.subject == f"uid=anna,{PEOPLE}".lower()
    with scopes_disabled():
        actions = list(AuditEntry.objects.filter(object_id=str(anna.pk)).order_by("id").values_list("action", flat=True))
        created = AuditEntry.objects.get(object_id=str(anna.pk), action="create")
    assert actions == ["create", "login"]
    assert created.changes["role"] == [None, Role.CASE_MANAGER] and created.changes["directory"] == [None, "ldap"]
    assert client.get("/", follow=True).status_code == 200
    coordination = Client()
    assert log_in(coordination, "bernd").status_code == 302
    assert account("bernd").role == Role.COORDINATION and account("bernd").provider is None


def test_a_second_login_finds_the_same_account_and_audits_no_change(client, ldap):
    log_in(client, "anna")
    first = account("anna")
    log_in(Client(), "anna")
    assert account("anna").pk == first.pk
    with scopes_disabled():
        assert AuditEntry.objects.filter(object_id=str(first.pk), action="update").count() == 0
        assert AuditEntry.objects.filter(object_id=str(first.pk), action="login").count() == 2


def test_a_wrong_password_is_refused_audited_and_counted(client, ldap, settings):
    response = log_in(client, "anna", "falsch-falsch")
    assert response.status_code in (200, 422)
    assert "Groß-/Kleinschreibung" in response.content.decode()
    with scopes_disabled():
        failed = AuditEntry.objects.get(action="login_failed")
        assert failed.object_label == "anna"
        assert not User.objects.filter(username="anna").exists()
    assert AccessAttempt.objects.get(username="anna").failures_since_start == 1
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "anna", "falsch-falsch")
    locked = log_in(client, "anna")  # now even the right password is refused
    assert locked.status_code == 429 and "_auth_user_id" not in client.session


@pytest.mark.parametrize("username, message", [
    ("clara", "hat keinen Zugang zur KIM-Fachdatenbank"),           # only in an unmapped group
    ("fritz", "mehr als eine Rolle"),                               # two groups, two roles
])
def test_a_directory_user_the_groups_grant_nothing_is_refused_with_a_german_message(client, ldap, username, message):
    response = log_in(client, username)
    assert response.status_code in (200, 422) and message in response.content.decode()
    with scopes_disabled():
        assert not User.objects.filter(username=username).exists()
        assert AuditEntry.objects.get(action="login_failed").object_label == username


def test_a_local_account_of_the_same_name_is_never_taken_over(client, ldap, world):
    with scopes_disabled():
        local = User.objects.create_user("hanna", password="lokales-Passwort-77", district=world.district,
                                         role=Role.STEERING)
    response = log_in(client, "hanna")
    assert "lokales Konto dieses Benutzernamens" in response.content.decode()
    assert log_in(client, "hanna", "lokales-Passwort-77").status_code == 302  # the local password still works
    local.refresh_from_db()
    assert local.role == Role.STEERING and not DirectoryAccount.objects.filter(user=local).exists()


def test_removed_from_the_group_is_logged_out_at_the_next_request_and_switched_off(client, ldap):
    assert log_in(client, "dora").status_code == 302
    assert client.get("/fallarbeit/").status_code in (200, 302)
    dora = account("dora")
    _token, key = api_services.create_token(dora, dora, "Test")
    assert Client().get("/api/v1/participants/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    ldap.modify(f"dn: {CARITAS_GROUP}\nchangetype: modify\ndelete: member\nmember: uid=dora,{PEOPLE}\n")
    try:
        response = client.get("/fallarbeit/", follow=True)
        assert response.redirect_chain[-1][0].startswith("/anmelden/")
        assert "hat keinen Zugang mehr" in response.content.decode()
        dora = account("dora")
        assert not dora.is_active and dora.directory_account.suspended_by_directory
        assert Client().get("/api/v1/participants/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
        with scopes_disabled():
            assert AuditEntry.objects.filter(object_id=str(dora.pk), action="update",
                                             changes__is_active=[True, False]).exists()
        assert "hat keinen Zugang zur KIM-Fachdatenbank" in log_in(Client(), "dora").content.decode()
    finally:
        ldap.modify(f"dn: {CARITAS_GROUP}\nchangetype: modify\nadd: member\nmember: uid=dora,{PEOPLE}\n")
    # Back in the group: the directory switches on what it had switched off.
    assert log_in(Client(), "dora").status_code == 302
    dora = account("dora")
    assert dora.is_active and not dora.directory_account.suspended_by_directory


def test_deleted_from_the_directory_is_logged_out_at_the_next_request(client, ldap):
    assert log_in(client, "emil").status_code == 302
    ldap.delete(f"uid=emil,{PEOPLE}")
    response = client.get("/berichte/", follow=True)
    assert "hat keinen Zugang mehr" in response.content.decode() and "_auth_user_id" not in client.session
    assert not account("emil").is_active


def test_an_account_disabled_in_the_directory_is_logged_out_at_the_next_request(client, ldap, settings):
    """Disabled by an attribute that the operator's filter excludes (Active Directory's
    userAccountControl in a real district; employeeType here)."""
    disabled_out = ldap.settings(KIM_LDAP_USER_FILTER="(&(uid=%(user)s)(!(employeeType=gesperrt)))")
    settings.AUTH_LDAP_USER_SEARCH = disabled_out["AUTH_LDAP_USER_SEARCH"]
    assert log_in(client, "lena").status_code == 302
    ldap.modify(f"dn: uid=lena,{PEOPLE}\nchangetype: modify\nadd: employeeType\nemployeeType: gesperrt\n")
    try:
        response = client.get("/fallarbeit/", follow=True)
        assert "hat keinen Zugang mehr" in response.content.decode() and "_auth_user_id" not in client.session
        assert not account("lena").is_active
        assert log_in(Client(), "lena").status_code != 302
    finally:
        ldap.modify(f"dn: uid=lena,{PEOPLE}\nchangetype: modify\ndelete: employeeType\n")


def test_a_locally_deactivated_directory_account_stays_off(client, ldap):
    assert log_in(client, "jonas").status_code == 302
    with scopes_disabled():
        User.objects.filter(username="jonas").update(is_active=False)
    response = log_in(Client(), "jonas")
    assert "wurde in der KIM-Fachdatenbank deaktiviert" in response.content.decode()
    assert not account("jonas").is_active


def test_a_directory_that_does_not_answer_ends_the_session_but_switches_nothing_off(client, ldap, settings):
    assert log_in(client, "ida").status_code == 302
    settings.AUTH_LDAP_SERVER_URI = f"ldap://127.0.0.1:{free_port()}/"
    response = client.get("/", follow=True)
    assert "Verzeichnis ist nicht erreichbar" in response.content.decode()
    assert account("ida").is_active


def test_the_recheck_interval_spares_the_directory_between_checks(client, ldap, settings):
    settings.KIM_LDAP_RECHECK_SECONDS = 3600
    assert log_in(client, "karl").status_code == 302
    client.get("/")  # the first request asks the directory and notes when
    settings.AUTH_LDAP_SERVER_URI = f"ldap://127.0.0.1:{free_port()}/"
    assert client.get("/fallarbeit/").status_code == 200  # not asked again within the hour


def test_the_local_second_factor_is_asked_where_the_district_requires_it(client, ldap, world):
    world.district.require_two_factor = True
    world.district.save()
    assert log_in(client, "greta").status_code == 302
    assert client.get("/fallarbeit/")["Location"].startswith("/zweiter-faktor/")


def test_the_token_of_a_directory_account_asks_the_directory_at_every_request(ldap):
    assert log_in(Client(), "anna").status_code == 302
    anna = account("anna")
    _token, key = api_services.create_token(anna, anna, "Test")
    assert Client().get("/api/v1/participants/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    ldap.modify(f"dn: {CARITAS_GROUP}\nchangetype: modify\ndelete: member\nmember: uid=anna,{PEOPLE}\n")
    try:
        response = Client().get("/api/v1/participants/", HTTP_AUTHORIZATION=f"Token {key}")
        assert response.status_code == 401 and "keinen Zugang mehr" in response.json()["detail"]
        assert not account("anna").is_active
    finally:
        ldap.modify(f"dn: {CARITAS_GROUP}\nchangetype: modify\nadd: member\nmember: uid=anna,{PEOPLE}\n")


def drop_from_group(ldap, uid):
    ldap.modify(f"dn: {CARITAS_GROUP}\nchangetype: modify\ndelete: member\nmember: uid={uid},{PEOPLE}\n")


def add_to_group(ldap, uid):
    ldap.modify(f"dn: {CARITAS_GROUP}\nchangetype: modify\nadd: member\nmember: uid={uid},{PEOPLE}\n")


def test_a_directory_account_is_never_given_a_password_in_kim(ldap, world):
    assert log_in(Client(), "hanna").status_code == 302
    hanna = account("hanna")
    with scopes_disabled(), pytest.raises(ValidationError) as refused:
        core_services.set_password(world.lead, hanna, "Lokal-Passwort-2026!")
    assert "Verzeichnis" in " ".join(refused.value.messages)
    lead = Client()
    lead.force_login(world.lead)
    assert "may_set_password" not in lead.get(f"/verwaltung/benutzer/{hanna.pk}/").content.decode()
    response = lead.post(f"/verwaltung/benutzer/{hanna.pk}/passwort/",
                         {"new_password1": "Lokal-Passwort-2026!", "new_password2": "Lokal-Passwort-2026!"}, follow=True)
    assert response.status_code == 200
    assert "sein Passwort wird im Verzeichnis festgelegt" in response.content.decode()
    assert not account("hanna").has_usable_password()


def test_a_password_a_directory_account_got_before_opens_no_login_and_no_session(ldap):
    """A password set before the rule (or by hand): the local login refuses the account, and a
    session of the local backend is re-checked by the directory like any of its sessions."""
    assert log_in(Client(), "hanna").status_code == 302
    with scopes_disabled():
        hanna = User.objects.get(username="hanna")
        hanna.set_password("Lokal-Passwort-2026!")
        hanna.save(update_fields=["password"])
    local_session = Client()
    local_session.force_login(hanna, backend=LDAP_BACKEND)
    drop_from_group(ldap, "hanna")
    try:
        # Not the directory's password: to this form, the LDAP login, it is a wrong password.
        response = log_in(Client(), "hanna", "Lokal-Passwort-2026!")
        assert response.status_code != 302 and "Groß-/Kleinschreibung" in response.content.decode()
        assert "_auth_user_id" not in local_session.get("/", follow=True).wsgi_request.session
    finally:
        add_to_group(ldap, "hanna")
    with scopes_disabled():
        hanna = User.objects.get(username="hanna")
    model_session = Client()
    model_session.force_login(hanna, backend="kim.core.backends.ModelBackend")
    response = model_session.get("/", follow=True)  # the local backend does not accept the account
    assert response.redirect_chain[-1][0].startswith("/anmelden/")
    assert not response.wsgi_request.user.is_authenticated


def test_the_districts_deactivation_of_an_account_the_directory_switched_off_stays_when_the_directory_grants_again(
        ldap, world):
    browser = Client()
    assert log_in(browser, "greta").status_code == 302
    drop_from_group(ldap, "greta")
    try:
        browser.get("/")  # the re-check switches the account off
        greta = account("greta")
        assert not greta.is_active and greta.directory_account.suspended_by_directory
        lead = Client()
        lead.force_login(world.lead)
        assert lead.post(f"/verwaltung/benutzer/{greta.pk}/deaktivieren/").status_code == 302
    finally:
        add_to_group(ldap, "greta")
    response = log_in(Client(), "greta")
    assert "wurde in der KIM-Fachdatenbank deaktiviert" in response.content.decode()
    greta = account("greta")
    assert not greta.is_active and not greta.directory_account.suspended_by_directory
    with scopes_disabled():
        assert AuditEntry.objects.filter(object_id=str(greta.pk), actor=world.lead,
                                         changes__switched_off_by=["directory", "district"]).exists()


def test_a_directory_outage_at_login_says_so_and_locks_nobody_out(ldap, settings, world):
    settings.AUTH_LDAP_SERVER_URI = f"ldap://127.0.0.1:{free_port()}/"
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        response = log_in(Client(), "ida")
        assert response.status_code in (200, 422)
        assert "Verzeichnis ist nicht erreichbar" in response.content.decode()
    assert not AccessAttempt.objects.filter(username="ida").exists()
    # A local account's wrong password still counts, whatever the directory said.
    with scopes_disabled():
        User.objects.create_user("lokal", password="lokales-Passwort-77", district=world.district, role=Role.STEERING)
    wrong = log_in(Client(), "lokal", "falsch-falsch")
    assert "Groß-/Kleinschreibung" in wrong.content.decode()
    assert AccessAttempt.objects.get(username="lokal").failures_since_start == 1
    assert log_in(Client(), "lokal", "lokales-Passwort-77").status_code == 302


def test_a_session_whose_user_name_now_finds_another_dn_ends_and_switches_the_account_off(client, ldap):
    """The account stands for the DN it was linked to: a user name that now leads to another
    entry (the person moved, or a new person got the name) is not that person."""
    assert log_in(client, "karl").status_code == 302
    DirectoryAccount.objects.filter(user__username="karl").update(subject=f"uid=karl,ou=ehemalige,{PEOPLE}".lower())
    response = client.get("/fallarbeit/", follow=True)
    assert "hat keinen Zugang mehr" in response.content.decode() and "_auth_user_id" not in client.session
    assert not account("karl").is_active
