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
    monkeypatch.setattr(serve.os, "cpu_count", lambda: None)  # unknown: as for one core
    assert serve_arguments(monkeypatch).workers == 3


def test_the_operator_overrides_workers_and_threads(monkeypatch):
    args = serve_arguments(monkeypatch, KIM_WORKERS="3", KIM_THREADS="8")
    assert (args.workers, args.threads) == (3, 8)


@pytest.mark.parametrize("value", ["zwei", "0", "-1"])
def test_a_malformed_count_stops_the_start_with_a_german_message(monkeypatch, value):
    with pytest.raises(SystemExit, match="KIM_WORKERS muss eine ganze Zahl"):
        serve_arguments(monkeypatch, KIM_WORKERS=value)
