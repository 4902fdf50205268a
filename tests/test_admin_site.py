"""The Django admin, the operators' tool: only a superuser with a verified second factor gets
in, and every save, password change and deletion there is audited like any other change."""

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from kim.core.models import AuditEntry, Municipality, Role, User

PASSWORD = "betrieb-geheim-2026"


@pytest.fixture
def operator(world):
    with scopes_disabled():
        return User.objects.create_superuser("betrieb", "betrieb@example.org", PASSWORD)


def verify(client, user):
    device = TOTPDevice.objects.create(user=user, name="KIM", confirmed=True)
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    assert client.post(reverse("otp-verify"), {"token": code}).status_code == 302


def trail(object_type):
    with scopes_disabled():
        return list(AuditEntry.objects.filter(object_type=object_type).order_by("id"))


def test_the_admin_asks_a_superuser_for_the_second_factor(client, operator):
    client.force_login(operator)
    assert client.get("/admin/").url == reverse("otp-setup")
    verify(client, operator)
    assert client.get("/admin/").status_code == 200


def test_a_district_administrator_never_reaches_the_admin(client, world):
    client.force_login(world.district_admin)
    assert client.get("/admin/").url == reverse("home")


@pytest.fixture
def admin_client(client, operator):
    client.force_login(operator)
    verify(client, operator)
    return client


def test_changing_an_account_in_the_admin_is_audited_with_before_and_after(admin_client, world, operator):
    user = world.coordination
    url = reverse("admin:core_user_change", args=[user.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update({"role": Role.CASE_MANAGER, "provider": world.provider.pk, "date_joined_0": "2026-01-01",
                 "date_joined_1": "09:00:00", "last_login_0": "", "last_login_1": "", "groups": [],
                 "user_permissions": []})
    data = {k: v for k, v in data.items() if k not in {"date_joined", "last_login"}}
    answer = admin_client.post(url, data)
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    [changed] = [e for e in trail("core.user") if e.object_id == str(user.pk)]
    assert changed.actor_id == operator.pk and changed.action == "update"
    assert changed.changes["role"] == [Role.COORDINATION, Role.CASE_MANAGER]
    assert changed.changes["provider"] == [None, world.provider.pk]


def test_switching_an_account_off_in_the_admin_revokes_its_tokens(admin_client, world):
    from kim.api.models import ApiToken
    from kim.api.services import create_token

    create_token(world.insider, world.insider, "Schnittstelle")
    url = reverse("admin:core_user_change", args=[world.insider.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items()
            if value is not None and name not in {"password", "date_joined", "last_login", "is_active"}}
    data.update({"provider": world.provider.pk, "date_joined_0": "2026-01-01", "date_joined_1": "09:00:00",
                 "last_login_0": "", "last_login_1": "", "groups": [], "user_permissions": []})
    answer = admin_client.post(url, data)
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    with scopes_disabled():
        assert not User.objects.get(pk=world.insider.pk).is_active
        assert ApiToken.objects.filter(user=world.insider, revoked_at__isnull=True).count() == 0


def test_a_password_set_in_the_admin_is_audited_without_the_password(admin_client, world, operator):
    url = reverse("admin:auth_user_password_change", args=[world.insider.pk])
    answer = admin_client.post(url, {"password1": "ganz-neues-passwort-26", "password2": "ganz-neues-passwort-26",
                                     "usable_password": "true"})
    assert answer.status_code == 302
    [changed] = [e for e in trail("core.user") if e.object_id == str(world.insider.pk)]
    assert changed.actor_id == operator.pk and changed.changes == {"password": ["***", "***"]}


def test_creating_and_deleting_in_the_admin_is_audited(admin_client, world, operator):
    answer = admin_client.post(reverse("admin:core_municipality_add"),
                               {"name": "Neustadt", "district": world.district.pk, "active": "on"})
    assert answer.status_code == 302
    with scopes_disabled():
        town = Municipality.objects.get(name="Neustadt")
    answer = admin_client.post(reverse("admin:core_municipality_delete", args=[town.pk]), {"post": "yes"})
    assert answer.status_code == 302
    entries = [(e.action, e.changes.get("name")) for e in trail("core.municipality") if e.object_id == str(town.pk)]
    assert entries == [("create", [None, "Neustadt"]), ("delete", None)]
