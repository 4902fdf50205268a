"""Single sign-on in a real browser: the OIDC button on the login page leads to the provider
(oidc-provider-mock) and back into KIM; a person the claims grant nothing reads a German
message on the login page; an LDAP login (real slapd) with a wrong password shows its message.
axe-core on the login pages."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from kim.core.models import Role, User
from kim.identity import services
from kim.identity.config import LDAP_BACKEND, OIDC_BACKEND
from kim.identity.models import Source

from ..directories import GROUPS, group, person, with_directory_backend
from ..factories import ProviderFactory, make_district

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Browser-Passwort-2026"


@pytest.fixture
def district():
    district = make_district("Kreis Aue")
    provider = ProviderFactory(district=district, name="Caritas Aue", slug="caritas")
    return district, provider


def test_the_oidc_login_goes_to_the_provider_and_back(page, auditor, district, oidc_provider, settings):
    district, provider = district
    for name, value in oidc_provider.settings().items():
        setattr(settings, name, value)
    settings.KIM_OIDC_ENABLED = True
    settings.AUTHENTICATION_BACKENDS = with_directory_backend(settings.AUTHENTICATION_BACKENDS, OIDC_BACKEND)
    with scopes_disabled():
        services.add_group(None, source=Source.OIDC, group="/kim/fachkraft", district=district,
                           role=Role.CASE_MANAGER, provider=provider)
    oidc_provider.put_user("browser-ulla", {"preferred_username": "ulla", "given_name": "Ulla", "family_name": "Uhl",
                                            "groups": ["/kim/fachkraft"]})
    oidc_provider.put_user("browser-udo", {"preferred_username": "udo", "groups": ["/kantine"]})

    page.goto("/anmelden/")
    auditor.visit("sso-login-page")
    page.get_by_role("link", name="Mit dem Konto Ihrer Verwaltung anmelden").click()
    page.get_by_placeholder("sub").fill("browser-udo")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_text("hat keinen Zugang zur KIM-Fachdatenbank")).to_be_visible()
    assert "/anmelden/" in page.url
    auditor.visit("sso-login-refused")

    page.get_by_role("link", name="Mit dem Konto Ihrer Verwaltung anmelden").click()
    page.get_by_placeholder("sub").fill("browser-ulla")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("heading", name="Meine Fälle")).to_be_visible()
    with scopes_disabled():
        ulla = User.objects.get(username="ulla")
    assert (ulla.role, ulla.provider_id) == (Role.CASE_MANAGER, provider.pk)


def test_an_ldap_login_with_a_wrong_password_shows_its_message(page, auditor, district, slapd, settings):
    district, provider = district
    slapd.add(person("vera", "Vera", "Vogt", PASSWORD) + group("kim-browser", ["vera"]))
    for name, value in slapd.settings().items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = with_directory_backend(settings.AUTHENTICATION_BACKENDS, LDAP_BACKEND)
    with scopes_disabled():
        services.add_group(None, source=Source.LDAP, group=f"cn=kim-browser,{GROUPS}", district=district,
                           role=Role.COORDINATION)
    page.goto("/anmelden/")
    page.get_by_label("Benutzername").fill("vera")
    page.get_by_label("Passwort").fill("falsch")
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("alert")).to_contain_text("Groß-/Kleinschreibung")
    auditor.visit("sso-ldap-wrong-password")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
    with scopes_disabled():
        assert User.objects.get(username="vera").role == Role.COORDINATION
