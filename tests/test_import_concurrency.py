"""Imports beside other work on one SQLite file (issue 9, item 11): an upload is read outside
any transaction, so that the background worker, busy with another import, is not locked out."""

import json
import sqlite3
import subprocess
import sys

from .crafted_files import dense_sheet, xlsx_from_xml
from .test_worker import PROJECT, installation, wait_for  # noqa: F401 - installation is a fixture

ROWS = 200_000


def step(environment, call: str) -> str:
    """Run one function of tests/import_steps.py in a process of its own; its last line."""
    code = f"from tests.import_steps import *; {call}"
    done = subprocess.run([sys.executable, "-m", "kim.cli", "shell", "-c", code], env=environment, cwd=PROJECT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def run_state(folder, run_id: int) -> tuple[str, int]:
    with sqlite3.connect(folder / "kim.sqlite3", timeout=30) as connection:
        return connection.execute("SELECT status, progress FROM exchange_importrun WHERE id = ?", (run_id,)).fetchone()


def start_worker(environment):
    return subprocess.Popen([sys.executable, "-m", "kim.cli", "worker", "--no-startup-delay", "--interval", "0.2"],
                            env=environment, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def tasks_running(folder) -> int:
    with sqlite3.connect(folder / "kim.sqlite3", timeout=30) as connection:
        return connection.execute("SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'RUNNING'").fetchone()[0]


def test_a_concurrent_upload_while_the_worker_runs_a_check(installation):  # noqa: F811
    """The worker checks a file of 200,000 rows while a large upload is read (a sheet of 4
    million cells, read for some seconds). Reading inside a transaction held SQLite's write lock
    for all that time, and the worker's next write failed after the busy timeout."""
    environment, folder = installation
    step(environment, "set_up()")
    checked, uploaded = folder / "termine.xlsx", folder / "gross.xlsx"
    step(environment, f"write_file({str(checked)!r}, {ROWS})")
    uploaded.write_bytes(xlsx_from_xml({"Termine": dense_sheet(200_000, 20)}, shared_strings=["Sonstiger Termin"]))
    first = json.loads(step(environment, f"upload({str(checked)!r}, 'check')"))["run"]
    worker = start_worker(environment)
    upload = None
    try:
        assert wait_for(lambda: tasks_running(folder) == 1, seconds=60), "the worker did not take the check"
        code = f"from tests.import_steps import *; upload({str(uploaded)!r})"
        upload = subprocess.Popen([sys.executable, "-m", "kim.cli", "shell", "-c", code], env=environment, cwd=PROJECT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert wait_for(lambda: run_state(folder, first)[1] > 0, seconds=120), "the worker did not get to checking"
        assert upload.poll() is None, "the upload ended before the worker wrote: the test proves nothing"
        out, err = upload.communicate(timeout=300)
        assert upload.returncode == 0, err[-3000:]
        assert run_state(folder, json.loads(out.strip().splitlines()[-1])["run"])[0] == "uploaded"
        assert wait_for(lambda: run_state(folder, first)[0] != "checking", seconds=180)
        assert run_state(folder, first) == ("checked", 100)
        assert worker.poll() is None
    finally:
        if upload is not None and upload.poll() is None:
            upload.kill()
        worker.terminate()
        output = worker.communicate(timeout=60)[0]
    assert "database is locked" not in output, output[-3000:]
