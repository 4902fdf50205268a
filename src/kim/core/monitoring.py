"""What the operator's monitoring asks: is the application up (/healthz), is the background worker
working (/healthz/worker), and how is it doing (/metrics, Prometheus' text format).

No answer carries personal data or a figure per district: the metrics count requests by view
and the task queue as a whole, so that a monitoring system may store them without the rules of
small-number suppression.

Request times are kept by prometheus_client. gunicorn runs several worker processes; each keeps
its own counters, and a scrape reaches only one of them. With PROMETHEUS_MULTIPROC_DIR set (the
systemd unit deploy/systemd/kim-web.service does that) every process writes its counters to a
file there, and /metrics adds them all up. Without it (e.g. `kim serve` by hand) /metrics shows
the answering process only, which is said in the output (kim_metrics_multiprocess 0)."""

import hmac
import ipaddress
import os
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Max, Min
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

REQUEST_SECONDS = Histogram(
    "kim_request_duration_seconds", "Time to answer a request, by view name and status class",
    ["view", "status"],
    buckets=(0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0),
)
# How often the retention job runs: once a day, on the first housekeeping round after midnight.
HOUSEKEEPING_DAY = timedelta(hours=26)


# ------------------------------------------------------------------ request times

class RequestTimeMiddleware:
    """Times every request the application answers (static files are answered before, by
    WhiteNoise). The label is the view's name, never the path, which may hold a record's number."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match is not None else "unresolved"
        REQUEST_SECONDS.labels(view=view, status=f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started)
        return response


# ------------------------------------------------------------------ the worker's state

def worker_state(now=None) -> dict:
    """The task queue and the worker's last successes, from the database (no district, no person)."""
    from django_scopes import scopes_disabled
    from django_tasks_db.models import DBTaskResult

    from kim.privacy.models import RetentionRun

    now = now or timezone.now()
    tasks = DBTaskResult.objects.all()
    with scopes_disabled():
        housekeeping = RetentionRun.objects.filter(
            district__isnull=True, dry_run=False, status=RetentionRun.Status.DONE).aggregate(last=Max("finished_at"))
    oldest_waiting = tasks.ready().aggregate(oldest=Min("enqueued_at"))["oldest"]
    return {
        "waiting": tasks.ready().count(),
        "running": tasks.running().count(),
        "failed": tasks.failed().count(),
        "oldest_waiting_seconds": (now - oldest_waiting).total_seconds() if oldest_waiting else 0.0,
        "last_task_success": tasks.successful().aggregate(last=Max("finished_at"))["last"],
        "last_housekeeping": housekeeping["last"],
    }


def worker_problems(state: dict, now=None) -> list[str]:
    """Why the worker is not doing its work, in German; empty when it is."""
    now = now or timezone.now()
    problems = []
    stale_minutes = settings.KIM_WORKER_STALE_MINUTES
    if state["oldest_waiting_seconds"] > stale_minutes * 60:
        problems.append(_("A task has been waiting for more than %(minutes)d minutes.") % {"minutes": stale_minutes})
    if state["last_housekeeping"] is None:
        problems.append(_("The daily housekeeping (retention periods) has never run."))
    elif now - state["last_housekeeping"] > HOUSEKEEPING_DAY:
        problems.append(_("The daily housekeeping (retention periods) last ran more than a day ago."))
    return problems


# ------------------------------------------------------------------ health

def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def plain(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text + "\n", content_type="text/plain; charset=utf-8", status=status)


@require_GET
def healthz(request):
    """For the load balancer: the web application answers and reaches its database. The worker
    is asked apart (/healthz/worker), so that a stalled worker does not take the pages offline."""
    if not database_answers():
        return plain(_("The database is not reachable."), status=503)
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def healthz_worker(request):
    """For the monitoring: 200 while the worker takes tasks in time and did the daily housekeeping."""
    if not database_answers():
        return plain(_("The database is not reachable."), status=503)
    problems = worker_problems(worker_state())
    if problems:
        return plain("\n".join(problems), status=503)
    return plain("ok")


# ------------------------------------------------------------------ metrics

class WorkerCollector:
    """The queue and the worker's last successes, read when the monitoring asks."""

    def collect(self):
        state = worker_state()
        gauges = {
            "kim_tasks_waiting": ("Background tasks waiting to run", state["waiting"]),
            "kim_tasks_running": ("Background tasks running now", state["running"]),
            "kim_tasks_failed": ("Failed background tasks still kept (until retention removes them)",
                                 state["failed"]),
            "kim_tasks_oldest_waiting_seconds": ("Age of the oldest waiting task", state["oldest_waiting_seconds"]),
            "kim_worker_last_task_success_timestamp_seconds": (
                "When a background task last ended successfully (Unix time, 0: never)",
                timestamp(state["last_task_success"])),
            "kim_worker_last_housekeeping_timestamp_seconds": (
                "When the daily housekeeping (retention) last ended successfully (Unix time, 0: never)",
                timestamp(state["last_housekeeping"])),
        }
        for name, (documentation, value) in gauges.items():
            yield GaugeMetricFamily(name, documentation, value=value)


def timestamp(moment) -> float:
    return moment.timestamp() if moment is not None else 0.0


def multiprocess_mode() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def registry() -> CollectorRegistry:
    if multiprocess_mode():
        collected = CollectorRegistry()
        multiprocess.MultiProcessCollector(collected)
    else:
        collected = CollectorRegistry()
        collected.register(ProcessLocal())
    collected.register(WorkerCollector())
    collected.register(ModeCollector())
    return collected


class ProcessLocal:
    """The answering process's own metrics (request times, the process itself)."""

    def collect(self):
        yield from REGISTRY.collect()


class ModeCollector:
    def collect(self):
        yield GaugeMetricFamily("kim_metrics_multiprocess",
                                "1: request times summed over all web processes; 0: only the answering process",
                                value=1 if multiprocess_mode() else 0)


def is_direct_loopback(request) -> bool:
    """A request from this machine that came through no proxy: the monitoring agent beside the
    application. Through nginx every request comes from 127.0.0.1, but with X-Forwarded-For."""
    if "X-Forwarded-For" in request.headers or "X-Real-IP" in request.headers:
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def has_metrics_token(request) -> bool:
    token = settings.KIM_METRICS_TOKEN
    if not token:
        return False
    return hmac.compare_digest(request.headers.get("Authorization", "").encode(), f"Bearer {token}".encode())


@require_GET
def metrics(request):
    """Prometheus' text format, for the monitoring only: from loopback or with KIM_METRICS_TOKEN."""
    if not (has_metrics_token(request) or is_direct_loopback(request)):
        return plain(_("The metrics are only available from this machine or with the metrics token."), status=403)
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
