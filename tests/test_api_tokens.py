"""API tokens: they expire, they respect the district's mandatory second factor, and their
owner lists, makes and revokes them on a page; every change is audited."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from kim.api import services
from kim.api.models import ApiToken
from kim.core.models import AuditEntry


def api_get(key, path="participants/"):
    return Client().get(f"/api/v1/{path}", HTTP_AUTHORIZATION=f"Token {key}")


def test_a_new_token_is_valid_for_90_days_and_stops_after(world):
    _token, key = services.create_token(None, world.insider, "Test")
    token = ApiToken.objects.get()
    assert abs(token.expires_at - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)
    assert api_get(key).status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api_get(key)
    assert response.status_code == 401 and "abgelaufen" in response.json()["detail"]


def test_a_token_does_not_skip_the_mandatory_second_factor(world):
    _token, key = services.create_token(None, world.insider, "Test")
    world.district.require_two_factor = True
    world.district.save()
    response = api_get(key)
    assert response.status_code == 401 and "zweiten Faktor" in response.json()["detail"]
    TOTPDevice.objects.create(user=world.insider, name="KIM", confirmed=False)
    assert api_get(key).status_code == 401  # an unconfirmed device is no second factor
    TOTPDevice.objects.filter(user=world.insider).update(confirmed=True)
    assert api_get(key).status_code == 200


def test_a_deactivated_account_loses_its_tokens(world):
    _token, key = services.create_token(None, world.insider, "Test")
    world.insider.is_active = False
    world.insider.save()
    assert api_get(key).status_code == 401


def test_the_owner_makes_sees_and_revokes_tokens_on_a_page(client, world):
    client.force_login(world.insider)
    response = client.post(reverse("api-tokens"), {"name": "Jobcenter-Schnittstelle", "days": "30"})
    assert response.status_code == 200
    key = response.context["new_key"]
    assert key.startswith("kim_") and key in response.content.decode()
    assert api_get(key).status_code == 200
    page = client.get(reverse("api-tokens"))
    assert key not in page.content.decode() and "Jobcenter-Schnittstelle" in page.content.decode()
    token = ApiToken.objects.get()
    assert token.expires_at.date() == (timezone.now() + timedelta(days=30)).date()
    assert client.post(reverse("api-token-revoke", args=[token.pk])).status_code == 302
    assert api_get(key).status_code == 401
    with scopes_disabled():
        actions = list(AuditEntry.objects.filter(object_type="api.apitoken").values_list("action", flat=True))
    assert sorted(actions) == ["create", "update"]


@pytest.mark.parametrize("days", ["0", "366", "-5", "viele"])
def test_a_validity_outside_1_to_365_days_is_refused_with_a_message(client, world, days):
    client.force_login(world.insider)
    response = client.post(reverse("api-tokens"), {"name": "x", "days": days})
    assert response.status_code == 422 and response.context["new_key"] is None
    assert "kern-alert--danger" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_nobody_sees_or_revokes_the_tokens_of_another(client, world):
    token, key = services.create_token(None, world.insider, "Fremd")
    for persona in ("colleague", "lead", "district_admin", "coordination"):
        client.force_login(world.personas()[persona])
        assert "Fremd" not in client.get(reverse("api-tokens")).content.decode()
        assert client.post(reverse("api-token-revoke", args=[token.pk])).status_code == 404
    assert api_get(key).status_code == 200


def test_the_command_line_makes_a_token_with_its_validity(world, capsys):
    call_command("create_token", "insider", "--name", "Skript", "--days", "7")
    key = capsys.readouterr().out.strip()
    assert api_get(key).status_code == 200
    assert ApiToken.objects.get().expires_at.date() == (timezone.now() + timedelta(days=7)).date()


def test_an_account_without_a_role_holds_no_token(world):
    from django.core.exceptions import ValidationError

    with scopes_disabled():
        world.coordination.role = ""
        world.coordination.save()
    with pytest.raises(ValidationError) as refused:
        services.create_token(None, world.coordination, "Test")
    assert refused.value.messages == [_("Only an account with a role can have a token.")]
