"""The background worker outlives a locked database, and `kim serve` restarts a worker that dies."""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def installation(tmp_path):
    """A migrated SQLite installation in a folder of its own, for processes started by the test.

    Whatever the leg, these processes run on their own SQLite file (the locking they are about
    is SQLite's), so the PostgreSQL leg would only repeat them: it says so and leaves them to the
    SQLite leg, which saves it minutes."""
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("runs on an SQLite installation of its own: the SQLite leg runs it")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("KIM_", "DATABASE_URL", "DJANGO_"))}
    environment.update({
        "KIM_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/kim.sqlite3",
        "KIM_SECRET_KEY": "test-" + "k" * 60, "KIM_SQLITE_BUSY_SECONDS": "1", "PYTHONUNBUFFERED": "1",
    })
    subprocess.run([sys.executable, "-m", "kim.cli", "migrate", "-v0"], env=environment, check=True, cwd=PROJECT)
    return environment, tmp_path


def enqueue_touch(environment, path):
    code = f"from tests.worker_tasks import touch; touch.enqueue({str(path)!r})"
    subprocess.run([sys.executable, "-m", "kim.cli", "shell", "-c", code], env=environment, check=True, cwd=PROJECT)


def wait_for(condition, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_the_worker_outlives_a_locked_database(installation):
    environment, folder = installation
    worker = subprocess.Popen([sys.executable, "-m", "kim.cli", "worker", "--no-startup-delay", "--interval", "0.2"],
                              env=environment, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(2)
        lock = sqlite3.connect(folder / "kim.sqlite3", isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")  # another process writing for longer than any busy timeout
        time.sleep(7)
        assert worker.poll() is None, "the worker died while the database was locked"
        lock.execute("COMMIT")
        lock.close()
        marker = folder / "ran.txt"
        enqueue_touch(environment, marker)
        assert wait_for(marker.exists), "the worker did not run a task after the lock was released"
        assert worker.poll() is None
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=30)[0]
    assert "pausiert" in output  # it noticed the lock, said so, and went on


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_kim_serve_restarts_a_worker_that_dies(installation):
    environment, folder = installation
    port = free_port()
    serve = subprocess.Popen([sys.executable, "-m", "kim.cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                             env=environment, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []

    def worker_pids():
        return [int(pid) for pid in re.findall(r"Hintergrunddienst läuft \(PID (\d+)\)", "".join(lines))]

    def read_until(pattern, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            line = serve.stdout.readline()
            if not line:
                break
            lines.append(line)
            if re.search(pattern, line):
                return True
        return False

    try:
        assert read_until(r"Listening at"), "".join(lines)
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10).read() == b"ok"
        first = worker_pids()[0]
        os.kill(first, signal.SIGKILL)
        assert read_until(r"Hintergrunddienst läuft", seconds=20), "".join(lines)
        second = worker_pids()[-1]
        assert second != first
        os.kill(second, 0)  # alive
        marker = folder / "ran.txt"
        enqueue_touch(environment, marker)
        assert wait_for(marker.exists), "the restarted worker does not run tasks"
    finally:
        serve.send_signal(signal.SIGTERM)
        rest = serve.communicate(timeout=60)[0]
    assert serve.returncode == 0, "".join(lines) + rest
    with pytest.raises(ProcessLookupError):
        os.kill(worker_pids()[-1], 0)
