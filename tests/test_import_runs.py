"""Runs that stop half-way (issue 9, item 12): an import's data and its outcome are one
transaction; a run whose worker or command was killed is seen as interrupted and reset, by its
uploader on the page or by the maintenance job; files not imported are deleted after
KIM_UPLOAD_RETENTION_DAYS. The kill -9 tests run real processes on an SQLite file."""

import json
import signal
import sqlite3
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from kim.casework.models import Appointment
from kim.core.models import AuditEntry
from kim.exchange import services, tasks
from kim.exchange.models import ImportRun

from .import_steps import other_work_file
from .test_import_concurrency import run_state, start_worker, step
from .test_worker import PROJECT, installation, wait_for  # noqa: F401 - installation is a fixture

ROWS = 40_000


def appointments_in(folder) -> int:
    with sqlite3.connect(folder / "kim.sqlite3", timeout=30) as connection:
        return connection.execute("SELECT count(*) FROM casework_appointment").fetchone()[0]


def message_of(folder, run_id) -> str:
    with sqlite3.connect(folder / "kim.sqlite3", timeout=30) as connection:
        return connection.execute("SELECT message FROM exchange_importrun WHERE id = ?", (run_id,)).fetchone()[0]


def kim(environment, *args) -> str:
    done = subprocess.run([sys.executable, "-m", "kim.cli", *args], env=environment, cwd=PROJECT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def kill(process):
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)  # reaped (its process id is gone), its output closed


def test_a_worker_killed_while_writing_leaves_nothing_and_its_run_is_reset_and_imported_again(installation):  # noqa: F811
    environment, folder = installation
    step(environment, "set_up()")
    path = folder / "termine.xlsx"
    step(environment, f"write_file({str(path)!r}, {ROWS})")
    run_id = json.loads(step(environment, f"upload({str(path)!r}, 'commit')"))["run"]
    worker = start_worker(environment)
    try:
        assert wait_for(lambda: run_state(folder, run_id)[1] >= 90, seconds=180), "the worker did not start writing"
        kill(worker)
    finally:
        if worker.poll() is None:
            kill(worker)
    assert run_state(folder, run_id)[0] == "importing"
    assert appointments_in(folder) == 0  # the write was one transaction, never committed
    assert "zurückgesetzt" in kim(environment, "cleanup")
    assert run_state(folder, run_id) == ("checked", 0)
    assert "unterbrochen" in message_of(folder, run_id)
    step(environment, f"commit_again({run_id})")
    worker = start_worker(environment)
    try:
        assert wait_for(lambda: run_state(folder, run_id)[0] == "done", seconds=240)
    finally:
        worker.terminate()
        worker.communicate(timeout=60)
    assert appointments_in(folder) == ROWS


def test_a_killed_command_line_import_is_reset_and_its_file_deleted_after_the_retention_days(installation):  # noqa: F811
    environment, folder = installation
    step(environment, "set_up()")
    path = folder / "termine.xlsx"
    step(environment, f"write_file({str(path)!r}, {ROWS})")
    command = subprocess.Popen([sys.executable, "-m", "kim.cli", "import", str(path), "--district", "nebenlaeufig",
                                "--provider", "traeger", "--case-manager", "cm-nebenlaeufig"],
                               env=environment, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: _first_run(folder) and run_state(folder, _first_run(folder))[1] >= 90, seconds=180)
        kill(command)
    finally:
        if command.poll() is None:
            kill(command)
    run_id = _first_run(folder)
    assert run_state(folder, run_id)[0] == "importing" and appointments_in(folder) == 0
    kim(environment, "cleanup")
    assert run_state(folder, run_id)[0] == "uploaded"  # its check was never stored
    with sqlite3.connect(folder / "kim.sqlite3") as connection:
        connection.execute("UPDATE exchange_importrun SET created_at = datetime('now', '-4 days')")
    assert "Datei gelöscht" in kim(environment, "cleanup")
    with sqlite3.connect(folder / "kim.sqlite3") as connection:
        status, content, sheets = connection.execute(
            "SELECT status, content, sheets FROM exchange_importrun WHERE id = ?", (run_id,)).fetchone()
    assert (status, content) == ("expired", None)
    assert all(not sheet["head"] for sheet in json.loads(sheets))  # the first rows were personal data too


def _first_run(folder):
    with sqlite3.connect(folder / "kim.sqlite3", timeout=30) as connection:
        row = connection.execute("SELECT min(id) FROM exchange_importrun").fetchone()
    return row[0]


# ---------------------------------------------------------------- in one process

@pytest.fixture
def upload(world):
    with scope(district=world.district.pk):
        return services.start_import(world.insider, filename="termine.xlsx", data=other_work_file(3))


def gone_process() -> str:
    """A worker name whose process has ended."""
    from kim.exchange.models import this_process

    ended = subprocess.Popen(["true"])
    ended.wait()
    return f"{this_process().rpartition(':')[0]}:{ended.pid}"


def test_the_data_and_the_outcome_of_an_import_are_written_together(world, upload, monkeypatch):
    """A failure after the data is written and before the run says "imported" leaves neither."""
    finish = services._finish

    def failing_finish(run, status, message=""):
        if status == ImportRun.Status.DONE:
            raise RuntimeError("the process ends here")
        return finish(run, status, message)

    monkeypatch.setattr(services, "_finish", failing_finish)
    with scope(district=world.district.pk):
        before = Appointment.objects.count()
        with pytest.raises(RuntimeError):
            services.run_import(upload, commit=True)
        assert Appointment.objects.count() == before
        assert not AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).exists()


def test_the_uploader_resets_an_interrupted_run_on_the_page(client, world, upload):
    with scopes_disabled():
        ImportRun.objects.filter(pk=upload.pk).update(status=ImportRun.Status.CHECKING, worker=gone_process())
    url = reverse("exchange:import-run", args=[upload.pk])
    client.force_login(world.lead)  # may look at it, not reset it
    page = client.get(url).content.decode()
    assert "wurde unterbrochen" in page and "Zurücksetzen und neu starten" not in page
    assert client.post(url, {"action": "reset"}).status_code == 403
    client.force_login(world.insider)
    assert "Zurücksetzen und neu starten" in client.get(url).content.decode()
    assert client.post(url, {"action": "reset"}).status_code == 302
    with scopes_disabled():
        upload.refresh_from_db()
        entry = AuditEntry.objects.filter(object_type="exchange.importrun", object_id=str(upload.pk)).latest("pk")
    assert upload.status == ImportRun.Status.UPLOADED and "unterbrochen" in upload.message
    assert entry.actor == world.insider and entry.changes["status"] == ["checking", "uploaded"]
    assert "Die Verarbeitung wurde unterbrochen" in client.get(url).content.decode()


def test_a_run_whose_process_lives_is_not_reset(client, world, upload):
    from kim.exchange.models import this_process

    with scopes_disabled():
        ImportRun.objects.filter(pk=upload.pk).update(status=ImportRun.Status.IMPORTING, worker=this_process(),
                                                      heartbeat_at=timezone.now())
    client.force_login(world.insider)
    response = client.post(reverse("exchange:import-run", args=[upload.pk]), {"action": "reset"})
    assert response.status_code == 422 and "wird gerade bearbeitet" in response.content.decode()
    call_command("cleanup")
    with scopes_disabled():
        assert ImportRun.objects.get(pk=upload.pk).status == ImportRun.Status.IMPORTING


def test_a_queued_run_no_worker_took_is_stale_after_the_set_minutes(world, upload, settings):
    with scopes_disabled():
        ImportRun.objects.filter(pk=upload.pk).update(
            status=ImportRun.Status.CHECKING, worker="",
            heartbeat_at=timezone.now() - timedelta(minutes=settings.KIM_STALE_RUN_MINUTES + 1))
        assert ImportRun.objects.get(pk=upload.pk).is_stale
        ImportRun.objects.filter(pk=upload.pk).update(heartbeat_at=timezone.now())
        assert not ImportRun.objects.get(pk=upload.pk).is_stale


def test_a_task_of_a_run_reset_meanwhile_does_nothing(world, upload):
    with scope(district=world.district.pk):
        services.request_check(world.insider, upload)
    with scopes_disabled():
        ImportRun.objects.filter(pk=upload.pk).update(worker=gone_process())
        services.reset_interrupted(world.insider, ImportRun.objects.get(pk=upload.pk))
    tasks._run(upload.pk, commit=False)  # the task queued before the reset
    with scopes_disabled():
        assert ImportRun.objects.get(pk=upload.pk).status == ImportRun.Status.UPLOADED


def test_cleanup_deletes_files_not_imported_after_the_retention_days(world, upload, settings, capsys):
    with scope(district=world.district.pk):
        recent = services.start_import(world.insider, filename="neu.xlsx", data=other_work_file(3))
    old = timezone.now() - timedelta(days=settings.KIM_UPLOAD_RETENTION_DAYS, hours=1)
    with scopes_disabled():
        ImportRun.objects.filter(pk=upload.pk).update(created_at=old)
    call_command("cleanup", "--dry-run")
    assert "termine.xlsx" in capsys.readouterr().out
    with scopes_disabled():
        assert ImportRun.objects.get(pk=upload.pk).content is not None
    call_command("cleanup")
    with scopes_disabled():
        expired, kept = ImportRun.objects.get(pk=upload.pk), ImportRun.objects.get(pk=recent.pk)
        entry = AuditEntry.objects.get(action=AuditEntry.Action.DELETE, object_type="exchange.importrun")
    assert (expired.status, expired.content, expired.problems) == (ImportRun.Status.EXPIRED, None, [])
    assert all(not sheet["head"] for sheet in expired.sheets)
    assert kept.content is not None and kept.status == ImportRun.Status.UPLOADED
    assert entry.object_id == str(upload.pk) and entry.actor is None
