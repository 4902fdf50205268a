"""kill -9 in the middle of `kim retention`: every case is either anonymised whole or not at
all, and the next run finishes the job."""

import json
import signal
import sqlite3
import subprocess
import sys
import time

from .test_worker import PROJECT, installation  # noqa: F401 - the fixture


def kim(environment, *args, **kwargs):
    return subprocess.run([sys.executable, "-m", "kim.cli", *args], env=environment, cwd=PROJECT, check=True,
                          capture_output=True, text=True, **kwargs)


def half_done(database):
    """Cases whose state disagrees with their texts, and people emptied without being marked."""
    with sqlite3.connect(database) as db:
        cases = db.execute(
            "SELECT count(*) FROM casework_case c WHERE "
            "(c.anonymised_on IS NULL AND EXISTS (SELECT 1 FROM casework_goal g WHERE g.case_id = c.id AND g.text = ''))"
            " OR (c.anonymised_on IS NOT NULL AND EXISTS (SELECT 1 FROM casework_goal g WHERE g.case_id = c.id "
            "AND g.text <> ''))").fetchone()[0]
        people = db.execute("SELECT count(*) FROM casework_participant WHERE "
                            "(anonymised_on IS NULL AND first_name = '') OR "
                            "(anonymised_on IS NOT NULL AND first_name <> '')").fetchone()[0]
        done = db.execute("SELECT count(*) FROM casework_case WHERE anonymised_on IS NOT NULL").fetchone()[0]
    return cases, people, done


def test_a_run_killed_halfway_leaves_nothing_half_anonymised(installation):  # noqa: F811
    environment, folder = installation
    database = folder / "kim.sqlite3"
    environment["KIM_PRIVACY_LOG"] = str(folder / "geloescht.jsonl")
    kim(environment, "load-demo", "--size", "1")
    due = int(kim(environment, "retention", "--dry-run", "--as-of", "01.01.2030").stdout.split(
        "Falldaten des Case Managements: ")[1].split()[0])
    run = subprocess.Popen([sys.executable, "-m", "kim.cli", "retention", "--as-of", "01.01.2030"],
                           env=environment, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and half_done(database)[2] < 20:
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait()
    cases, people, done = half_done(database)
    assert (cases, people) == (0, 0)
    assert 0 < done, "the run should have been killed after its first cases"
    logged = {(line["kind"], line["id"]) for line in map(json.loads,
                                                          (folder / "geloescht.jsonl").read_text().splitlines())}
    assert len([kind for kind, _ in logged if kind == "case"]) >= done  # nothing done that the log does not list

    kim(environment, "retention", "--as-of", "01.01.2030")
    cases, people, finished = half_done(database)
    assert (cases, people) == (0, 0) and finished > done
    again = kim(environment, "retention", "--dry-run", "--as-of", "01.01.2030").stdout
    assert "Falldaten des Case Managements: 0" in again and due > 0
    with sqlite3.connect(database) as db:
        states = dict(db.execute("SELECT status, count(*) FROM privacy_retentionrun WHERE district_id IS NOT NULL "
                                 "AND dry_run = 0 GROUP BY status").fetchall())
    assert states == {"done": 1, "failed": 1}  # the killed one: its process is gone
