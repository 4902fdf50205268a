"""Settings and server choices made for speed: no JIT on PostgreSQL, gunicorn sized to the machine,
and the session written only when it changed or is due for its sliding timeout."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_postgresql_connections_run_without_jit():
    """The reports' grouped queries cost more to JIT-compile than to run (issue 13)."""
    if connection.vendor != "postgresql":
        pytest.skip("JIT is PostgreSQL's; the PostgreSQL leg runs this")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def serve_arguments(monkeypatch, **environment):
    from kim import serve

    for name in ("KIM_WORKERS", "KIM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return serve.parse([])


def test_kim_serve_sizes_gunicorn_to_the_cores(monkeypatch):
    from kim import serve

    monkeypatch.setattr(serve.os, "cpu_count", lambda: 4)
    args = serve_arguments(monkeypatch)
    assert (args.workers, args.threads) == (9, serve.DEFAULT_THREADS)
    command = serve.Supervisor(args).web_command()
    assert command[command.index("--worker-class") + 1] == "gthread"
    assert command[command.index("--workers") + 1] == "9"
    assert command[command.index("--threads") + 1] == str(serve.DEFAULT_THREADS)
    assert int(command[command.index("--keep-alive") + 1]) > 60  # longer than nginx's idle upstream connections
    monkeypatch.setattr(serve.os, "cpu_count", lambda: None)  # unknown: as for one core
    assert serve_arguments(monkeypatch).workers == 3


def test_the_operator_overrides_workers_and_threads(monkeypatch):
    args = serve_arguments(monkeypatch, KIM_WORKERS="3", KIM_THREADS="8")
    assert (args.workers, args.threads) == (3, 8)


@pytest.mark.parametrize("value", ["zwei", "0", "-1"])
def test_a_malformed_count_stops_the_start_with_a_german_message(monkeypatch, value):
    with pytest.raises(SystemExit, match="KIM_WORKERS muss eine ganze Zahl"):
        serve_arguments(monkeypatch, KIM_WORKERS=value)


# ---------------------------------------------------------------- sessions


def session_writes(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries
            if "django_session" in q["sql"] and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))]


def stored_session(client):
    from django.contrib.sessions.models import Session

    return Session.objects.get(session_key=client.session.session_key)


def age_the_session(client, seconds):
    """As if the last write of the session was `seconds` ago: its refresh mark and its expiry."""
    from datetime import timedelta

    from django.contrib.sessions.backends.db import SessionStore

    from kim.core.middleware import SessionRefreshMiddleware

    store = SessionStore(session_key=client.session.session_key)
    store[SessionRefreshMiddleware.KEY] -= seconds
    store.save()
    stored = stored_session(client)
    stored.expire_date -= timedelta(seconds=seconds)
    stored.save()
    return stored.expire_date


def test_a_plain_page_view_does_not_write_the_session(client, world):
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client.force_login(world.insider)
    client.get(reverse("casework:my-cases"))  # the first request after the login marks the session
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("casework:my-cases")).status_code == 200
        assert session_writes(queries) == []


def test_an_active_session_slides_once_a_minute(client, world, settings):
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client.force_login(world.insider)
    client.get(reverse("casework:my-cases"))
    before = age_the_session(client, settings.KIM_SESSION_REFRESH_SECONDS)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("casework:my-cases")).status_code == 200
    assert len(session_writes(queries)) == 1
    after = stored_session(client).expire_date
    assert (after - before).total_seconds() >= settings.KIM_SESSION_REFRESH_SECONDS


def test_an_idle_session_still_ends(client, world, settings):
    from django.urls import reverse

    client.force_login(world.insider)
    client.get(reverse("casework:my-cases"))
    age_the_session(client, settings.SESSION_COOKIE_AGE + 1)  # 30 minutes and a second without a request
    response = client.get(reverse("casework:my-cases"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_an_anonymous_visitor_gets_no_session(client, db):
    from django.contrib.sessions.models import Session
    from django.urls import reverse

    client.get(reverse("login"))
    assert Session.objects.count() == 0
