"""Who may create, change, switch off, unlock and set the password of which staff account.

The expectations are written out here by hand, not read from kim.core.permissions, so that a
change of the permission table that opens personal data fails these tests."""

import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from kim.core import services
from kim.core.models import AuditEntry, Role, User

from .factories import PASSWORD, UserFactory

NEW_PASSWORD = "ein-langes-passwort-2026"
PERSONAL = {Role.CASE_MANAGER, Role.PROVIDER_LEAD}
FIGURES_ONLY = {Role.COORDINATION, Role.STEERING, Role.MODULE3, Role.DISTRICT_ADMIN}
PROVIDERS = ["none", "own", "other", "foreign"]


def provider_of(world, which, actor):
    with scopes_disabled():
        return {
            "none": None,
            "own": actor.provider or world.provider,
            "other": world.other_provider,
            "foreign": world.other_district_cm.provider,
        }[which]


def creation_allowed(actor_name, role, which) -> bool:
    """By hand: the administrator creates figures-only accounts without a provider; a provider
    lead creates case managers and leads of the own provider; nobody else creates accounts."""
    if actor_name == "district_admin":
        return role in FIGURES_ONLY and which == "none"
    if actor_name == "lead":
        return role in PERSONAL and which == "own"
    return False


ACTORS = ["district_admin", "lead", "insider", "coordination", "steering", "other_provider"]


@pytest.mark.parametrize("actor_name,role,which", list(itertools.product(ACTORS, Role.values, PROVIDERS)))
def test_the_service_creates_only_accounts_the_actor_may_grant(world, actor_name, role, which):
    actor = world.personas()[actor_name]
    provider = provider_of(world, which, actor)
    with scope(district=world.district.pk):
        try:
            services.create_user(actor, district=world.district, username="neu", password=NEW_PASSWORD,
                                 role=role, provider=provider, first_name="Nadia", last_name="Koch")
        except (ValidationError, PermissionDenied):
            created = False
        else:
            created = True
    assert created == creation_allowed(actor_name, role, which)
    assert User.objects.filter(username="neu").exists() == created


@pytest.mark.parametrize("actor_name,role", list(itertools.product(ACTORS, Role.values)))
def test_the_new_account_page_creates_only_what_the_actor_may_grant(client, world, actor_name, role):
    """The page takes no provider: a lead's accounts belong to the lead's provider, the
    administrator's to none, whatever the request says."""
    actor = world.personas()[actor_name]
    client.force_login(actor)
    response = client.post(reverse("admin-user-new"), {
        "username": "neu", "first_name": "Nadia", "last_name": "Koch", "email": "", "role": role,
        "provider": world.other_provider.pk, "is_active": "on", "password": NEW_PASSWORD})
    expected = creation_allowed(actor_name, role, "own" if actor_name == "lead" else "none")
    if actor_name not in ("district_admin", "lead"):
        assert response.status_code == 403
    else:
        assert response.status_code == (302 if expected else 422)
    account = User.objects.filter(username="neu").first()
    assert (account is not None) == expected
    if account is not None:
        assert account.provider_id == actor.provider_id
        assert account.district_id == world.district.pk


@pytest.mark.parametrize("target_name", ["insider", "lead", "colleague", "other_provider", "coordination", "steering"])
@pytest.mark.parametrize("role,which", list(itertools.product(Role.values, PROVIDERS)))
def test_the_administrator_never_moves_an_account_into_personal_data(world, target_name, role, which):
    admin = world.district_admin
    target = world.personas()[target_name]
    provider = provider_of(world, which, admin)
    before = User.objects.values_list("role", "provider_id", "is_active").get(pk=target.pk)
    with scope(district=world.district.pk):
        try:
            services.update_user(admin, User.objects.get(pk=target.pk), {"role": role, "provider": provider})
        except (ValidationError, PermissionDenied):
            changed = False
        else:
            changed = True
    allowed = before[0] not in PERSONAL and role in FIGURES_ONLY and which == "none"
    assert changed == allowed
    after = User.objects.values_list("role", "provider_id", "is_active").get(pk=target.pk)
    assert after == ((role, None, before[2]) if allowed else before)


@pytest.mark.parametrize("target_name", ["insider", "colleague", "other_provider", "coordination"])
@pytest.mark.parametrize("role,which", list(itertools.product(Role.values, PROVIDERS)))
def test_a_lead_changes_only_the_own_providers_staff_within_the_provider(world, target_name, role, which):
    lead = world.lead
    target = world.personas()[target_name]
    provider = provider_of(world, which, lead)
    before = User.objects.values_list("role", "provider_id").get(pk=target.pk)
    with scope(district=world.district.pk):
        try:
            services.update_user(lead, User.objects.get(pk=target.pk), {"role": role, "provider": provider})
        except (ValidationError, PermissionDenied):
            changed = False
        else:
            changed = True
    allowed = target_name in ("insider", "colleague") and role in PERSONAL and which == "own"
    assert changed == allowed
    assert User.objects.values_list("role", "provider_id").get(pk=target.pk) == (
        (role, lead.provider_id) if allowed else before)


def test_the_administrator_sees_a_case_manager_but_cannot_edit_it(client, world):
    client.force_login(world.district_admin)
    page = client.get(reverse("admin-user-edit", args=[world.insider.pk]))
    assert page.status_code == 200 and "form" not in page.context
    assert "verwaltet die Leitung des Trägers" in page.content.decode()
    response = client.post(reverse("admin-user-edit", args=[world.insider.pk]), {
        "username": "insider", "first_name": "A", "last_name": "B", "role": Role.PROVIDER_LEAD,
        "is_active": "on"})
    assert response.status_code == 403
    assert User.objects.get(pk=world.insider.pk).role == Role.CASE_MANAGER


def test_the_administrator_cannot_promote_coordination_and_log_in_as_it(client, world):
    client.force_login(world.district_admin)
    response = client.post(reverse("admin-user-edit", args=[world.coordination.pk]), {
        "username": "coordination", "first_name": "A", "last_name": "B", "role": Role.PROVIDER_LEAD,
        "provider": world.provider.pk, "is_active": "on"})
    assert response.status_code == 422
    assert User.objects.values_list("role", "provider_id").get(pk=world.coordination.pk) == (Role.COORDINATION, None)
    client.force_login(User.objects.get(pk=world.coordination.pk))
    assert client.get(reverse("casework:participant", args=[world.participant.pk])).status_code == 403


@pytest.mark.parametrize("actor_name,target_name,allowed", [
    ("district_admin", "coordination", True), ("district_admin", "steering", True),
    ("district_admin", "insider", False), ("district_admin", "lead", False),
    ("lead", "insider", True), ("lead", "colleague", True),
    ("lead", "other_provider", False), ("lead", "coordination", False),
    ("coordination", "steering", False), ("insider", "colleague", False),
])
def test_passwords_are_set_only_by_whoever_manages_the_account(client, world, actor_name, target_name, allowed):
    actor, target = world.personas()[actor_name], world.personas()[target_name]
    client.force_login(actor)
    response = client.post(reverse("admin-user-password", args=[target.pk]),
                           {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert User.objects.get(pk=target.pk).check_password(NEW_PASSWORD) == allowed
    if allowed:
        assert response.status_code == 302
        with scopes_disabled():
            entry = AuditEntry.objects.filter(object_type="core.user", object_id=str(target.pk)).first()
        assert entry.actor_id == actor.pk and entry.changes == {"password": ["***", "***"]}
    else:
        assert response.status_code in (403, 404)


def test_a_new_password_that_differs_the_second_time_is_refused_with_a_message(client, world):
    client.force_login(world.lead)
    response = client.post(reverse("admin-user-password", args=[world.insider.pk]),
                           {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"})
    assert response.status_code == 422 and "Die beiden Passwörter sind nicht identisch" in response.content.decode()
    assert User.objects.get(pk=world.insider.pk).check_password(PASSWORD)


def test_the_administrator_switches_a_case_manager_off_but_never_on(client, world):
    client.force_login(world.district_admin)
    assert client.post(reverse("admin-user-deactivate", args=[world.insider.pk])).status_code == 302
    assert User.objects.get(pk=world.insider.pk).is_active is False
    with scope(district=world.district.pk), pytest.raises(PermissionDenied):
        services.update_user(world.district_admin, User.objects.get(pk=world.insider.pk), {"is_active": True})
    assert User.objects.get(pk=world.insider.pk).is_active is False
    client.force_login(world.lead)
    response = client.post(reverse("admin-user-edit", args=[world.insider.pk]), {
        "username": "insider", "first_name": "A", "last_name": "B", "role": Role.CASE_MANAGER,
        "is_active": "on"})
    assert response.status_code == 302 and User.objects.get(pk=world.insider.pk).is_active is True


def test_deactivating_asks_first_and_says_how_many_open_cases_stay_with_the_account(client, world):
    client.force_login(world.district_admin)
    page = client.get(reverse("admin-user-deactivate", args=[world.insider.pk]))
    assert page.status_code == 200 and page.context["open_cases"] == 1
    assert "1 offenen Fall" in page.content.decode()
    assert User.objects.get(pk=world.insider.pk).is_active is True  # asking changes nothing


def test_a_lead_sees_only_the_own_providers_staff(client, world):
    client.force_login(world.lead)
    page = client.get(reverse("admin-users"))
    names = {row["account"].username for row in page.context["rows"]}
    assert names == {"insider", "colleague", "lead"}
    assert client.get(reverse("admin-user-edit", args=[world.other_provider_cm.pk])).status_code == 404
    assert client.get(reverse("admin-user-edit", args=[world.coordination.pk])).status_code == 404


def test_a_role_change_is_audited_with_before_and_after(client, world):
    client.force_login(world.lead)
    client.post(reverse("admin-user-edit", args=[world.colleague.pk]), {
        "username": "colleague", "first_name": "Test", "last_name": "Kollegin", "role": Role.PROVIDER_LEAD,
        "is_active": "on"})
    with scopes_disabled():
        entry = AuditEntry.objects.filter(object_type="core.user", object_id=str(world.colleague.pk),
                                          action="update").first()
    assert entry.changes["role"] == [Role.CASE_MANAGER, Role.PROVIDER_LEAD]
    trail = client.get(reverse("audit-trail")).content.decode()
    assert "Rolle von Benutzer" in trail and "Case Manager*in → Trägerleitung" in trail


def test_a_locked_account_is_unlocked_by_the_administrator(client, world):
    for _ in range(5):
        client.post(reverse("login"), {"username": "steering", "password": "falsch"})
    assert client.post(reverse("login"), {"username": "steering", "password": PASSWORD}).status_code == 429
    client.force_login(world.district_admin)
    page = client.get(reverse("admin-user-edit", args=[world.steering.pk]))
    assert page.context["locked"] is True
    assert client.post(reverse("admin-user-unlock", args=[world.steering.pk])).status_code == 302
    client.logout()
    assert client.post(reverse("login"), {"username": "steering", "password": PASSWORD}).status_code == 302
    with scopes_disabled():
        assert AuditEntry.objects.filter(object_id=str(world.steering.pk), changes__has_key="login_lock").exists()


def test_the_unlock_entry_says_what_was_lifted(client, world):
    def unlock_entries():
        with scopes_disabled():
            return list(AuditEntry.objects.filter(object_id=str(world.steering.pk), changes__has_key="login_lock")
                        .values_list("changes", flat=True))

    client.force_login(world.district_admin)
    client.post(reverse("admin-user-unlock", args=[world.steering.pk]))
    assert unlock_entries() == []  # nothing to lift, nothing to record
    client.logout()
    for _ in range(2):
        client.post(reverse("login"), {"username": "steering", "password": "falsch"})
    client.force_login(world.district_admin)
    client.post(reverse("admin-user-unlock", args=[world.steering.pk]))
    assert unlock_entries() == [{"login_lock": [False, False], "failed_logins": [2, 0]}]


def test_switching_an_account_off_revokes_its_tokens_for_good(client, world):
    from kim.api.models import ApiToken
    from kim.api.services import create_token

    create_token(world.insider, world.insider, "Schnittstelle")
    client.force_login(world.lead)
    assert client.post(reverse("admin-user-deactivate", args=[world.insider.pk])).status_code == 302
    with scopes_disabled():
        assert ApiToken.objects.filter(user=world.insider, revoked_at__isnull=True).count() == 0
        changes = [e.changes for e in AuditEntry.objects.filter(object_id=str(world.insider.pk),
                                                                object_type="core.user").order_by("id")]
    assert changes[-2:] == [{"is_active": [True, False]}, {"api_tokens_revoked": [0, 1]}]
    User.objects.filter(pk=world.insider.pk).update(is_active=True)
    assert ApiToken.objects.active().filter(user=world.insider).count() == 0


def test_switching_an_account_off_in_its_form_revokes_its_tokens_too(client, world):
    """The account form's box 'active' is another way to switch an account off (attack)."""
    from kim.api.models import ApiToken
    from kim.api.services import create_token

    create_token(world.insider, world.insider, "Schnittstelle")
    client.force_login(world.lead)
    data = {"username": "insider", "first_name": "A", "last_name": "B", "role": Role.CASE_MANAGER}
    assert client.post(reverse("admin-user-edit", args=[world.insider.pk]), data).status_code == 302  # box unticked
    assert client.post(reverse("admin-user-edit", args=[world.insider.pk]), {**data, "is_active": "on"}).status_code == 302
    assert User.objects.get(pk=world.insider.pk).is_active
    assert ApiToken.objects.active().filter(user=world.insider).count() == 0


def test_fte_and_provider_are_not_offered_for_accounts(client, world):
    client.force_login(world.district_admin)
    form = client.get(reverse("admin-user-new")).context["form"]
    assert "fte" not in form.fields and "provider" not in form.fields
    assert {value for value, _label in form.fields["role"].choices} == FIGURES_ONLY


def test_a_figures_only_account_cannot_belong_to_a_provider(world):
    account = UserFactory.build(username="x", role=Role.COORDINATION, district=world.district, provider=world.provider)
    with scopes_disabled(), pytest.raises(ValidationError):
        account.full_clean(exclude=["password"])


@pytest.mark.parametrize("key", ["0", "-3", "500"])
def test_a_caseload_key_outside_its_bounds_is_refused(client, world, key):
    client.force_login(world.district_admin)
    response = client.post(reverse("admin-district-settings"), {"caseload_key": key, "suppression_k": 5})
    assert response.status_code == 422
    world.district.refresh_from_db()
    assert world.district.caseload_key == 27


