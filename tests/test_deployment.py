"""Deployment settings: HTTPS, the secret key, and no caching of what the application answers."""

import os
import subprocess
import sys

import pytest
from django.urls import reverse

PRODUCTION = {"KIM_PRODUCTION": "1", "KIM_ALLOWED_HOSTS": "kim.kreis-beispiel.de",
              "KIM_SECRET_KEY": "x7Qp2-" + "kL9vR3mZ8wT1yB6nC4dF0gH5jS" * 3}


def run_kim(tmp_path, *args, **env):
    """`kim ARGS` in a fresh process with only the given configuration (no key file around)."""
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith("KIM_") and k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    environment.update({"KIM_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/kim.sqlite3", **env})
    return subprocess.run([sys.executable, "-m", "kim.cli", *args], env=environment, capture_output=True, text=True)


def test_production_settings_pass_the_deployment_check(tmp_path):
    result = run_kim(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_deployment_without_https_settings_is_reported(tmp_path):
    result = run_kim(tmp_path, "check", "--deploy", "--fail-level", "WARNING",
                     **{**PRODUCTION, "KIM_PRODUCTION": "0"})
    assert result.returncode != 0
    assert "W004" in result.stderr + result.stdout and "W008" in result.stderr + result.stdout


def test_it_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_kim(tmp_path, "check")
    assert result.returncode != 0 and "No secret key" in result.stderr


@pytest.mark.parametrize("debug", ["0", ""])
def test_it_refuses_the_development_key_without_debug(tmp_path, debug):
    from kim.settings import DEVELOPMENT_SECRET_KEY

    environment = {"KIM_SECRET_KEY": DEVELOPMENT_SECRET_KEY, **({"KIM_DEBUG": debug} if debug else {})}
    result = run_kim(tmp_path, "check", **environment)
    assert result.returncode != 0 and "development key" in result.stderr


def test_debug_may_use_the_development_key(tmp_path):
    assert run_kim(tmp_path, "check", KIM_DEBUG="1").returncode == 0


def test_secret_key_creates_a_private_key_file_once(tmp_path):
    key_file = tmp_path / "secret-key"
    assert run_kim(tmp_path, "secret-key", "--file", str(key_file)).returncode == 0
    first = key_file.read_text()
    assert len(first.strip()) >= 50 and oct(key_file.stat().st_mode)[-3:] == "600"
    run_kim(tmp_path, "secret-key", "--file", str(key_file))
    assert key_file.read_text() == first
    assert run_kim(tmp_path, "check", KIM_SECRET_KEY_FILE=str(key_file)).returncode == 0


def test_the_proxy_header_marks_requests_as_https(tmp_path):
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.SECURE_PROXY_SSL_HEADER, settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS)")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env={**os.environ, **PRODUCTION, "KIM_VAR_DIR": str(tmp_path), "KIM_PROXY_SSL_HEADER": "X-Forwarded-Proto",
             "DJANGO_SETTINGS_MODULE": "kim.settings"},
    )
    assert result.stdout.split() == ["('HTTP_X_FORWARDED_PROTO',", "'https')", "True", "31536000"], result.stderr


def personal_data_urls(world):
    return [
        reverse("casework:my-cases"), reverse("casework:participant", args=[world.participant.pk]),
        reverse("casework:case", args=[world.case.pk]),
        reverse("exchange:subject-access", args=[world.participant.pk, "json"]),
        reverse("exchange:subject-access", args=[world.participant.pk, "pdf"]),
        reverse("reports:report", args=["R1"]),
    ]


def test_no_answer_with_personal_data_may_be_cached(client, world):
    client.force_login(world.insider)
    for url in personal_data_urls(world):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"], url


def test_no_api_answer_may_be_cached(client, world):
    from kim.api.models import ApiToken, hash_token

    key = ApiToken.new_key()
    ApiToken.objects.create(user=world.insider, name="t", prefix=key[4:12], key_hash=hash_token(key))
    for url in ("/api/v1/participants/", f"/api/v1/participants/{world.participant.pk}/", "/api/v1/reports/R1/"):
        response = client.get(url, HTTP_AUTHORIZATION=f"Token {key}")
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url


def test_static_files_stay_cacheable(client, db):
    response = client.get("/static/kim/kim.css")
    response.close()
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


@pytest.mark.django_db
def test_the_deployment_check_sees_the_audit_triggers_and_the_role():
    """`kim check --deploy --database default`: a missing trigger is an error; on PostgreSQL a
    connection that could drop it (the suite's superuser `postgres`) a warning."""
    from django.db import connection

    from kim.core.checks import audit_log_is_append_only

    expected_role = ["kim.W001"] if connection.vendor == "postgresql" else []
    assert [p.id for p in audit_log_is_append_only(databases=["default"])] == expected_role
    assert audit_log_is_append_only(databases=None) == []  # without --database nothing is asked
    trigger = "core_auditentry_append_only ON core_auditentry" if connection.vendor == "postgresql" \
        else "core_auditentry_no_update"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {trigger}")  # undone with the test's transaction
    problems = audit_log_is_append_only(databases=["default"])
    assert [p.id for p in problems] == [*expected_role, "kim.E001"]
    assert "not append-only" in problems[-1].msg


@pytest.mark.django_db
def test_a_disabled_trigger_counts_as_missing():
    from django.db import connection, transaction

    from kim.core.checks import audit_log_is_append_only

    if connection.vendor != "postgresql":
        pytest.skip("SQLite cannot disable a trigger; the PostgreSQL leg runs this")
    for disabling in ("ALTER TABLE core_auditentry DISABLE TRIGGER core_auditentry_append_only",
                      "ALTER TABLE core_auditentry ENABLE REPLICA TRIGGER core_auditentry_append_only",
                      "CREATE OR REPLACE FUNCTION kim_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                      "$$ BEGIN RETURN OLD; END $$"):
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(disabling)
            assert "kim.E001" in [p.id for p in audit_log_is_append_only(databases=["default"])], disabling
            transaction.set_rollback(True)
    assert "kim.E001" not in [p.id for p in audit_log_is_append_only(databases=["default"])]
