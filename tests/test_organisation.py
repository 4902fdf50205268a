"""District administration, login protection, second factor, demo data and command line."""


import pytest
from django.core.management import call_command
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scope, scopes_disabled

from kim.casework.models import Appointment, Case, CaseKind, Goal, GoalStatus, Participant, Phase
from kim.cli import main as kim
from kim.core.models import AuditEntry, Role, TargetGroup, Topic, User

from .factories import PASSWORD


def test_catalogue_entries_are_deactivated_not_deleted(client, world):
    with scope(district=world.district.pk):
        group = TargetGroup.objects.first()
    client.force_login(world.district_admin)
    response = client.post(reverse("admin-catalogue-edit", args=["target-groups", group.pk]),
                           {"label": group.label, "sort_order": 10})
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.active is False
    client.force_login(world.insider)
    form = client.get(reverse("casework:case-new", args=[world.participant.pk])).context["form"]
    with scope(district=world.district.pk):
        assert group not in form.fields["target_group"].queryset
        assert form.fields["target_group"].queryset.exists()


def test_a_district_extends_a_catalogue(client, world):
    client.force_login(world.district_admin)
    client.post(reverse("admin-catalogue-new", args=["topics"]), {"label": "Digitale Teilhabe", "sort_order": 5,
                                                                   "active": "on"})
    with scopes_disabled():
        assert list(Topic.objects.filter(label="Digitale Teilhabe").values_list("district_id", flat=True)) == [
            world.district.pk]


@pytest.mark.parametrize("url, data, message", [
    (("admin-catalogue-new", ["topics"]), {"label": "Digitale Teilhabe", "sort_order": 5, "active": "on"},
     "Die Liste des Kreises hat schon einen Eintrag mit dieser Bezeichnung."),
    (("admin-unit-new", ["municipality"]), {"name": "Neustadt", "active": "on"},
     "Eine Kommune dieses Namens gibt es im Kreis schon."),
])
def test_a_second_entry_of_the_same_name_is_refused_in_german(client, world, url, data, message):
    client.force_login(world.district_admin)
    assert client.post(reverse(url[0], args=url[1]), data).status_code == 302
    again = client.post(reverse(url[0], args=url[1]), data, HTTP_ACCEPT_LANGUAGE="de")
    assert again.status_code == 422
    text = again.content.decode()
    assert message in text and "District" not in text


def test_login_is_locked_after_five_failures(client, world):
    for _ in range(5):
        client.post(reverse("login"), {"username": "insider", "password": "falsch"})
    response = client.post(reverse("login"), {"username": "insider", "password": PASSWORD})
    assert response.status_code == 429
    assert "gesperrt" in response.content.decode()
    with scopes_disabled():
        assert AuditEntry.objects.filter(action="login_failed", object_label="insider").count() >= 5


def test_a_successful_login_is_audited(client, world):
    response = client.post(reverse("login"), {"username": "insider", "password": PASSWORD})
    assert response.status_code == 302
    with scopes_disabled():
        assert AuditEntry.objects.filter(action="login", actor=world.insider).exists()


def test_mandatory_second_factor(client, world, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no waiting after the deliberate wrong code
    world.district.require_two_factor = True
    world.district.save()
    client.post(reverse("login"), {"username": "insider", "password": PASSWORD})
    response = client.get(reverse("casework:my-cases"))
    assert response.status_code == 302 and response.url == reverse("otp-setup")
    client.get(reverse("otp-setup"))
    device = TOTPDevice.objects.get(user=world.insider)
    token = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    wrong_token = f"{(int(token) + 1) % 1_000_000:06d}"
    wrong = client.post(reverse("otp-setup"), {"token": wrong_token})
    assert wrong.status_code == 422 and "nicht korrekt" in wrong.content.decode()
    assert client.post(reverse("otp-setup"), {"token": token}).status_code == 302
    assert client.get(reverse("casework:my-cases")).status_code == 200
    with scopes_disabled():
        entry = AuditEntry.objects.get(object_type="core.user", action="update", actor=world.insider)
    assert entry.changes == {"second_factor": [False, True]}


def test_users_change_their_own_password_and_it_is_audited(client, world):
    client.force_login(world.insider)
    response = client.post(reverse("password-change"), {
        "old_password": "falsch", "new_password1": "neues-langes-passwort-26", "new_password2": "neues-langes-passwort-26"})
    assert response.status_code == 422
    response = client.post(reverse("password-change"), {
        "old_password": PASSWORD, "new_password1": "neues-langes-passwort-26", "new_password2": "neues-langes-passwort-26"})
    assert response.status_code == 302
    world.insider.refresh_from_db()
    assert world.insider.check_password("neues-langes-passwort-26")
    assert client.get(reverse("casework:my-cases")).status_code == 200  # still logged in
    with scopes_disabled():
        assert AuditEntry.objects.get(actor=world.insider, action="update").changes == {"password": ["***", "***"]}


def test_sessions_expire_after_inactivity(settings):
    """Sliding: kim.core.middleware.SessionRefreshMiddleware moves the expiry at most once a minute
    (tests/test_performance_settings.py)."""
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.KIM_SESSION_REFRESH_SECONDS == 60
    assert "kim.core.middleware.SessionRefreshMiddleware" in settings.MIDDLEWARE


def test_responses_carry_a_content_security_policy(client, world):
    client.force_login(world.insider)
    policy = client.get(reverse("casework:my-cases")).headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


@pytest.mark.django_db
def test_demo_data_is_repeatable_and_complete():
    from datetime import date

    from kim.demo import build_demo_district

    first = build_demo_district(slug="demo-a", name="Demo A", size=0.3, seed=7, today=date(2026, 6, 30))
    second = build_demo_district(slug="demo-b", name="Demo B", size=0.3, seed=7, today=date(2026, 6, 30))
    assert first.counts == second.counts
    with scopes_disabled():
        names = [list(Participant.objects.filter(district=d.district).order_by("pk")
                      .values_list("last_name", "birth_date")) for d in (first, second)]
        assert names[0] == names[1]
        cases = Case.objects.filter(district=first.district)
        assert set(cases.values_list("kind", flat=True)) == set(CaseKind.values)
        assert set(cases.filter(kind=CaseKind.CASE_MANAGEMENT).values_list("phase", flat=True)) == set(Phase.values)
        assert set(Goal.objects.filter(case__district=first.district).values_list("status", flat=True)) == set(
            GoalStatus.values)
        assert Participant.objects.filter(district=first.district, household__isnull=False).exists()
        dates = Appointment.objects.filter(district=first.district).values_list("date", flat=True)
        assert (max(dates) - min(dates)).days > 600
        roles = set(User.objects.filter(district=first.district).values_list("role", flat=True))
        assert roles == set(Role.values) - {Role.STATE}  # every district role; the Land's has no district


def test_kim_command_line(capsys, db):
    """`kim` maps its friendly names onto management commands. (Running them through
    execute_from_command_line would close the test's database connection, so the mapped
    commands are called directly.)"""
    from django.core.management.base import CommandError

    from kim.cli import ALIASES

    assert kim(["--help"]) == 0
    assert "load-demo" in capsys.readouterr().out
    call_command(ALIASES["create-district"], "Kreis Lippe")
    assert capsys.readouterr().out.strip() == "kreis-lippe"
    call_command(ALIASES["create-user"], "admin-lippe", district="kreis-lippe", role="district_admin")
    assert User.objects.get(username="admin-lippe").role == Role.DISTRICT_ADMIN
    with pytest.raises(CommandError):
        call_command(ALIASES["create-user"], "x", district="nowhere", role="district_admin")


def test_english_is_the_second_language(client, world):
    client.force_login(world.insider)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/fallarbeit/"}, follow=True)
    assert "My cases" in response.content.decode()
    response = client.post(reverse("set_language"), {"language": "de", "next": "/fallarbeit/"}, follow=True)
    assert "Meine Fälle" in response.content.decode()


def test_district_admin_makes_the_second_factor_mandatory(client, world):
    client.force_login(world.district_admin)
    response = client.post(reverse("admin-district-settings"), {"require_two_factor": "on", "caseload_key": 25, "suppression_k": 5})
    assert response.status_code == 302
    world.district.refresh_from_db()
    assert world.district.require_two_factor and world.district.caseload_key == 25
    with scopes_disabled():
        assert AuditEntry.objects.filter(object_type="core.district", action="update").exists()
    client.force_login(world.insider)  # now has to set up the second factor first
    assert client.get(reverse("casework:my-cases")).url == reverse("otp-setup")


def test_only_district_administrators_change_district_settings(client, world):
    client.force_login(world.insider)
    assert client.post(reverse("admin-district-settings"), {"caseload_key": 5}).status_code == 403


def test_opening_the_second_factor_setup_again_keeps_one_unconfirmed_device(client, world):
    """The QR code shown stays the same secret: reloading the page must not make a new device
    (one would pile up per visit, and a code scanned before the reload would stop working)."""
    world.district.require_two_factor = True
    world.district.save()
    client.force_login(world.insider)
    first = client.get(reverse("otp-setup")).context["device"]
    for _ in range(3):
        again = client.get(reverse("otp-setup")).context["device"]
    assert TOTPDevice.objects.filter(user=world.insider).count() == 1
    assert again.pk == first.pk and again.key == first.key


def test_a_second_factor_secret_shown_to_another_session_cannot_be_confirmed(client, world, settings):
    """Someone who knows the password opens the setup too: the secret the first browser shows
    is void from then on, and what the second browser sees ends when the first one confirms."""
    from django.test import Client

    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    world.district.require_two_factor = True
    world.district.save()
    owner, intruder = client, Client()
    owner.force_login(world.insider)
    intruder.force_login(world.insider)
    seen_by_owner = owner.get(reverse("otp-setup")).context["device"]
    seen_by_intruder = intruder.get(reverse("otp-setup")).context["device"]
    assert seen_by_intruder.key != seen_by_owner.key
    assert not TOTPDevice.objects.filter(pk=seen_by_owner.pk).exists()

    def code(device):
        return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"

    refused = owner.post(reverse("otp-setup"), {"token": code(seen_by_owner)})
    assert refused.status_code == 422 and "neuen QR-Code" in refused.content.decode()
    fresh = refused.context["device"]
    assert owner.post(reverse("otp-setup"), {"token": code(fresh)}).status_code == 302
    assert list(TOTPDevice.objects.filter(user=world.insider).values_list("pk", "confirmed")) == [(fresh.pk, True)]
    # the intruder's secret is gone: its code confirms nothing, the page asks for the second factor
    assert intruder.post(reverse("otp-setup"), {"token": code(seen_by_intruder)}).url == reverse("otp-verify")


def test_guessing_the_current_password_ends_the_session_and_locks_the_account(client, world):
    client.force_login(world.insider)
    for _ in range(4):
        response = client.post(reverse("password-change"), {
            "old_password": "geraten", "new_password1": "neues-langes-passwort-26",
            "new_password2": "neues-langes-passwort-26"})
        assert response.status_code == 422
    response = client.post(reverse("password-change"), {
        "old_password": "geraten", "new_password1": "neues-langes-passwort-26", "new_password2": "neues-langes-passwort-26"})
    assert response.status_code == 429 and "gesperrt" in response.content.decode()
    assert client.get(reverse("casework:my-cases")).status_code == 302  # logged out
    assert client.post(reverse("login"), {"username": "insider", "password": PASSWORD}).status_code == 429
    world.insider.refresh_from_db()
    assert world.insider.check_password(PASSWORD)


@pytest.mark.parametrize("k, accepted", [(2, False), (3, True), (20, True), (21, False), (32000, False)])
def test_the_smallest_count_shown_lies_between_3_and_20(client, world, k, accepted):
    """Below 3 small counts show; far above 20 every district table would be withheld."""
    client.force_login(world.district_admin)
    answer = client.post(reverse("admin-district-settings"), {"caseload_key": 27, "suppression_k": k})
    world.district.refresh_from_db()
    assert (answer.status_code == 302) is accepted
    assert (world.district.suppression_k == k) is accepted
    if not accepted:
        assert answer.status_code == 422 and ("größer" in answer.content.decode() or "kleiner" in answer.content.decode())
