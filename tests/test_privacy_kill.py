"""kill -9 in the middle of `kim retention`: every case is either anonymised whole or not at
all, and the next run finishes the job."""

import json
import signal
import sqlite3
import subprocess
import sys
import time

from .test_worker import PROJECT, installation  # noqa: F401 - the fixture


SETUP = """
from django_scopes import scopes_disabled
from kim.casework.models import Appointment
from kim.core.models import District
from kim.privacy.models import RetentionPeriod
with scopes_disabled():
    RetentionPeriod.objects.create(district=District.objects.get(), deletion_class="short_counselling", period=0)
    Appointment.objects.update(note="Notiz zum Termin")
"""


def kim(environment, *args, **kwargs):
    return subprocess.run([sys.executable, "-m", "kim.cli", *args], env=environment, cwd=PROJECT, check=True,
                          capture_output=True, text=True, **kwargs)


def half_done(database):
    """Cases whose state disagrees with their texts, and people emptied without being marked."""
    with sqlite3.connect(database) as db:
        cases = db.execute(
            "SELECT count(*) FROM casework_case c WHERE "
            "(c.anonymised_on IS NULL AND EXISTS (SELECT 1 FROM casework_appointment a WHERE a.case_id = c.id "
            "AND a.note = ''))"
            " OR (c.anonymised_on IS NOT NULL AND EXISTS (SELECT 1 FROM casework_appointment a WHERE a.case_id = c.id "
            "AND a.note <> ''))").fetchone()[0]
        people = db.execute("SELECT count(*) FROM casework_participant WHERE "
                            "(anonymised_on IS NULL AND first_name = '') OR "
                            "(anonymised_on IS NOT NULL AND first_name <> '')").fetchone()[0]
        done = db.execute("SELECT count(*) FROM casework_case WHERE anonymised_on IS NOT NULL").fetchone()[0]
    return cases, people, done


def test_a_run_killed_halfway_leaves_nothing_half_anonymised(installation):  # noqa: F811
    environment, folder = installation
    database = folder / "kim.sqlite3"
    environment["KIM_PRIVACY_LOG"] = str(folder / "geloescht.jsonl")
    kim(environment, "load-demo", "--size", "2")
    # Today's demo has nothing due; with a period of 0 months the short contacts closed before
    # this year are (a real run takes no day in the future).
    kim(environment, "shell", "-c", SETUP)
    title = "Kurzberatung, Verweisberatung und Screening: "
    due = int(kim(environment, "retention", "--dry-run").stdout.split(title)[1].split()[0])
    run = subprocess.Popen([sys.executable, "-m", "kim.cli", "retention"],
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

    kim(environment, "retention")
    cases, people, finished = half_done(database)
    assert (cases, people) == (0, 0) and finished == due > done
    again = kim(environment, "retention", "--dry-run").stdout
    assert f"{title}0" in again
    with sqlite3.connect(database) as db:
        states = dict(db.execute("SELECT status, count(*) FROM privacy_retentionrun WHERE district_id IS NOT NULL "
                                 "AND dry_run = 0 GROUP BY status").fetchall())
    assert states == {"done": 1, "failed": 1}  # the killed one: its process is gone
