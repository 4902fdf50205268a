"""Health checks and metrics for the operator's monitoring (kim.core.monitoring, docs/betrieb.md)."""

import os
import re
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from tests.test_worker import free_port, installation  # noqa: F401 - the fixture of a SQLite installation
from tests.worker_tasks import touch

PROJECT = Path(__file__).resolve().parents[1]


def metric(text: str, name: str, **labels) -> float | None:
    """The value of one sample in Prometheus' text format (labels in any order)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        sample, value = line.rsplit(" ", 1)
        found = dict(re.findall(r'(\w+)="([^"]*)"', sample))
        if sample.split("{")[0] == name and found == labels:
            return float(value)
    return None


def housekeeping_done():
    from kim.privacy.retention import run_everywhere

    run_everywhere()


# ---------------------------------------------------------------- /healthz


def test_health_answers_ok_when_the_database_answers(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"


def test_health_fails_with_a_german_message_when_the_database_is_gone(tmp_path):
    """A real unreachable server (nothing listens on the port), not a stand-in."""
    code = "from django.test import Client; r = Client(HTTP_HOST='localhost').get('/healthz'); print(r.status_code, r.content.decode())"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("KIM_", "DATABASE_URL"))}
    environment.update({"KIM_VAR_DIR": str(tmp_path), "KIM_SECRET_KEY": "test-" + "k" * 60,
                        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/nothing"})
    result = subprocess.run([sys.executable, "-m", "kim.cli", "shell", "-c", code], env=environment,
                            capture_output=True, text=True, cwd=PROJECT, check=False)
    assert result.stdout.strip().splitlines()[-1] == "503 Die Datenbank ist nicht erreichbar.", result.stdout + result.stderr


# ---------------------------------------------------------------- /healthz/worker


def test_the_worker_check_fails_until_the_housekeeping_has_run(client, db):
    response = client.get("/healthz/worker")
    assert response.status_code == 503
    assert "nie gelaufen" in response.content.decode()
    housekeeping_done()
    response = client.get("/healthz/worker")
    assert response.status_code == 200, response.content.decode()


def test_the_worker_check_fails_when_a_task_waits_too_long(client, db):
    from django_tasks_db.models import DBTaskResult

    housekeeping_done()
    touch.enqueue("/nonexistent/never-run")
    assert client.get("/healthz/worker").status_code == 200  # just queued: in time
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(minutes=16))
    response = client.get("/healthz/worker")
    assert response.status_code == 503
    assert "seit mehr als 15 Minuten" in response.content.decode()


def test_the_worker_check_fails_when_the_housekeeping_is_a_day_old(client, db):
    from django_scopes import scopes_disabled

    from kim.privacy.models import RetentionRun

    housekeeping_done()
    with scopes_disabled():
        RetentionRun.objects.update(finished_at=timezone.now() - timedelta(hours=27))
    response = client.get("/healthz/worker")
    assert response.status_code == 503 and "vor mehr als einem Tag" in response.content.decode()


# ---------------------------------------------------------------- /metrics


def test_metrics_show_request_times_queue_and_last_worker_runs(client, db):
    from django_tasks_db.models import DBTaskResult

    before = metric(client.get("/metrics").content.decode(), "kim_request_duration_seconds_count",
                    view="healthz", status="2xx") or 0
    for _ in range(3):
        client.get("/healthz")
    touch.enqueue("/nonexistent/a")
    touch.enqueue("/nonexistent/b")
    DBTaskResult.objects.filter(pk=DBTaskResult.objects.order_by("enqueued_at").first().pk).update(
        enqueued_at=timezone.now() - timedelta(seconds=90))
    housekeeping_done()
    response = client.get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    assert metric(text, "kim_request_duration_seconds_count", view="healthz", status="2xx") == before + 3
    assert metric(text, "kim_request_duration_seconds_bucket", view="healthz", status="2xx", le="+Inf") == before + 3
    assert metric(text, "kim_tasks_waiting") == 2
    assert metric(text, "kim_tasks_running") == 0
    assert 90 <= metric(text, "kim_tasks_oldest_waiting_seconds") < 150
    assert metric(text, "kim_worker_last_task_success_timestamp_seconds") == 0  # none ran yet
    assert abs(metric(text, "kim_worker_last_housekeeping_timestamp_seconds") - time.time()) < 60
    assert metric(text, "kim_metrics_multiprocess") == 0


def test_metrics_hold_no_district_and_no_person(client, world):
    client.force_login(world.insider)
    assert client.get(reverse("casework:participant", args=[world.participant.pk])).status_code == 200
    client.logout()
    text = client.get("/metrics").content.decode()
    for secret in (world.district.name, world.district.slug, world.participant.last_name, world.insider.username,
                   f"/{world.participant.pk}/"):
        assert secret not in text, secret
    assert all(name in {"view", "status", "le"} for name in re.findall(r'(\w+)="', text.split("\n# HELP kim_tasks")[0])
               if not name.startswith(("quantile", "generation", "implementation", "major", "minor", "patchlevel",
                                       "version")))


def test_metrics_refuse_requests_through_the_proxy_and_from_elsewhere(client, db):
    for headers in ({"HTTP_X_FORWARDED_FOR": "203.0.113.9"}, {"REMOTE_ADDR": "192.0.2.10"}):
        response = client.get("/metrics", **headers)
        assert response.status_code == 403, headers
        assert "nur von diesem Rechner" in response.content.decode()
        assert "kim_" not in response.content.decode()


@override_settings(KIM_METRICS_TOKEN="s3cret-metrics-token-for-the-test")
def test_metrics_accept_the_token_from_elsewhere(client, db):
    elsewhere = {"REMOTE_ADDR": "192.0.2.10", "HTTP_X_FORWARDED_FOR": "192.0.2.10"}
    assert client.get("/metrics", **elsewhere, HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", **elsewhere, HTTP_AUTHORIZATION="s3cret-metrics-token-for-the-test").status_code == 403
    response = client.get("/metrics", **elsewhere, HTTP_AUTHORIZATION="Bearer s3cret-metrics-token-for-the-test")
    assert response.status_code == 200 and "kim_tasks_waiting" in response.content.decode()


def test_metrics_only_answer_get(client, db):
    assert client.post("/metrics").status_code == 405


def test_gunicorn_workers_add_up_their_request_times(installation, tmp_path):  # noqa: F811
    """With PROMETHEUS_MULTIPROC_DIR (as the systemd unit sets it) every web process counts, so
    that /metrics shows all requests, whichever process answers the scrape."""
    environment, _folder = installation
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "kim.cli", "serve", "--no-task-worker", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env={**environment, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}, cwd=PROJECT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and "Booting worker" not in (line := serve.stdout.readline()):
            assert line, "kim serve ended before it listened"
        time.sleep(2)  # both workers up
        with ThreadPoolExecutor(8) as pool:  # at once, so that both processes answer some
            answers = list(pool.map(lambda _: urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                                                     timeout=10).read(), range(20)))
        assert answers == [b"ok"] * 20
        scrapes = [urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
                   for _ in range(4)]
    finally:
        serve.terminate()
        serve.communicate(timeout=60)
    assert len(list(metrics_dir.glob("histogram_*.db"))) == 2, "both processes answered and wrote their counters"
    for text in scrapes:
        assert metric(text, "kim_metrics_multiprocess") == 1
        assert metric(text, "kim_request_duration_seconds_count", view="healthz", status="2xx") == 20


def test_a_short_metrics_token_is_a_warning_of_the_deployment_check(settings):
    from kim.core.checks import metrics_token_is_long_enough

    settings.KIM_METRICS_TOKEN = "abc"
    assert [warning.id for warning in metrics_token_is_long_enough()] == ["kim.W003"]
    settings.KIM_METRICS_TOKEN = "x" * 43
    assert metrics_token_is_long_enough() == []
    settings.KIM_METRICS_TOKEN = ""  # no token: the metrics are for loopback only
    assert metrics_token_is_long_enough() == []
