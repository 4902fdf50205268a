"""Word templates are untrusted: they are checked in the background, in a child process with
bounded memory and CPU time, and a template that computes too much, or is broken, is refused
with a German message while the worker (here: this test process) goes on."""

import io
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django_scopes import scopes_disabled

from kim.reports import paper
from kim.reports.models import DocumentTemplate

from . import crafted_files
from .test_report_outputs import run_worker
from .test_worker import installation, wait_for  # noqa: F401 - the fixture of a separate installation

PROJECT = Path(__file__).resolve().parents[1]


def word_file(*paragraphs) -> bytes:
    from docx import Document

    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def upload(client, user, content, name="Vorlage", capture=None):
    client.force_login(user)
    with capture(execute=True):
        response = client.post(reverse("reports:templates"), {
            "name": name, "file": SimpleUploadedFile("vorlage.docx", content),
        }, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 302, response.content.decode()[-1500:]
    with scopes_disabled():
        return DocumentTemplate.objects.get(name=name)


@pytest.fixture
def short_limits(settings):
    # The checks' own bounds, shortened so that a template that computes for ever is stopped soon.
    settings.KIM_TEMPLATE_CHECK_SECONDS = 3
    settings.KIM_TEMPLATE_CHECK_MB = 384


@pytest.mark.parametrize("expression, message", [
    ("{{ 9**(9**8) }}", "zu großen Zahlen"),
    ('{{ "x" * 300000000 }}', "zu großen Zahlen"),
    # Not caught by the environment's arithmetic check: the child's bounds stop them.
    ('{{ "x"|center(400000000) }}', "zu viel Arbeitsspeicher"),
    ('{% for a in "x" * 99999 %}{% for b in "x" * 99999 %}{% endfor %}{% endfor %}', "zu lange"),
])
def test_a_template_that_computes_too_much_is_refused_and_the_worker_goes_on(
        client, world, expression, message, short_limits, django_capture_on_commit_callbacks, monkeypatch):
    started = time.monotonic()
    bomb = upload(client, world.coordination, word_file("{{ titel }}", expression), "Bombe",
                  django_capture_on_commit_callbacks)
    good = upload(client, world.coordination, paper.default_template_bytes(), "Gut", django_capture_on_commit_callbacks)
    assert bomb.status == good.status == DocumentTemplate.Status.CHECKING  # nothing checked in the request
    run_worker(monkeypatch)  # this process is the worker: it must come back
    bomb.refresh_from_db()
    good.refresh_from_db()
    assert bomb.status == DocumentTemplate.Status.REFUSED and message in bomb.message, bomb.message
    assert good.status == DocumentTemplate.Status.READY, good.message  # the worker went on to the next task
    assert time.monotonic() - started < 30
    page = client.get(reverse("reports:templates")).content.decode()
    assert message in page and 'role="alert"' in page


@pytest.mark.parametrize("paragraphs, words", [
    (["{{ titel }", "Text"], ["Platzhalter ist nicht richtig geschrieben", "„{{ titel }“"]),
    (["{%p for b in berichte %}", "{{ b.titel }}"], ["Block ist nicht geschlossen"]),
    (["{% wiederhole b %}"], ["Befehl in {% … %} ist unbekannt"]),
    (["{{ kreiss }}"], ["Unbekannte Platzhalter in der Vorlage: kreiss"]),
])
def test_a_broken_template_gets_a_german_message_not_jinjas(client, world, paragraphs, words,
                                                             django_capture_on_commit_callbacks, monkeypatch):
    template = upload(client, world.coordination, word_file(*paragraphs), capture=django_capture_on_commit_callbacks)
    run_worker(monkeypatch)
    template.refresh_from_db()
    assert template.status == DocumentTemplate.Status.REFUSED
    for word in words:
        assert word in template.message, template.message
    for english in ("unexpected", "Encountered", "expected token", "tag"):
        assert english not in template.message


@pytest.mark.parametrize("name", sorted(crafted_files.HOSTILE_WORD_FILES))
def test_a_template_with_macros_objects_or_external_content_is_refused_on_upload(client, world, name):
    """Issue 10, F9: the quick look at an uploaded template refuses what Word would run or
    load by itself, before anything is stored (the same check as for agreement documents)."""
    client.force_login(world.coordination)
    response = client.post(reverse("reports:templates"), {
        "name": "Feindlich", "file": SimpleUploadedFile("vorlage.docx", crafted_files.HOSTILE_WORD_FILES[name]()),
    }, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422
    assert any(words in response.content.decode() for words in ("werden nicht angenommen", "kein Word-Dokument"))
    with scopes_disabled():
        assert not DocumentTemplate.objects.filter(name="Feindlich").exists()


def test_a_template_with_a_hyperlink_is_checked_as_usual(client, world, django_capture_on_commit_callbacks,
                                                         monkeypatch):
    from docx import Document
    from docx.opc.constants import RELATIONSHIP_TYPE

    document = Document(io.BytesIO(paper.default_template_bytes()))
    document.part.relate_to("https://www.kreis.example/kim", RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    out = io.BytesIO()
    document.save(out)
    template = upload(client, world.coordination, out.getvalue(), "Mit Link", django_capture_on_commit_callbacks)
    run_worker(monkeypatch)
    template.refresh_from_db()
    assert template.status == DocumentTemplate.Status.READY, template.message


@pytest.mark.django_db(transaction=True)
def test_the_check_runs_outside_the_request_and_outside_any_transaction(client, world, monkeypatch,
                                                                       django_capture_on_commit_callbacks):
    """A transaction held while a file is parsed keeps SQLite's write lock (issue 9.11)."""
    seen = []
    bounded = paper.run_bounded

    def watched(*args, **kwargs):
        seen.append(connection.in_atomic_block)
        return bounded(*args, **kwargs)

    monkeypatch.setattr(paper, "run_bounded", watched)
    template = upload(client, world.coordination, paper.default_template_bytes(),
                      capture=django_capture_on_commit_callbacks)
    assert seen == []  # the request stored the file and queued the check
    with scopes_disabled():
        from kim.reports.services import run_template_check

        run_template_check(template)
    template.refresh_from_db()
    assert template.status == DocumentTemplate.Status.READY
    assert seen == [False], "the bounded check ran inside a transaction"


def test_a_template_not_yet_checked_is_neither_offered_nor_rendered(client, world, django_capture_on_commit_callbacks):
    template = upload(client, world.coordination, paper.default_template_bytes(),
                      capture=django_capture_on_commit_callbacks)
    client.force_login(world.coordination)
    response = client.post(reverse("reports:paper-new"), {
        "title": "Bericht", "year": 2023, "reference_date": "2023-12-31", "report_ids": ["R1"],
        "template": template.pk,
    }, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422 and "gültige Auswahl" in response.content.decode()


def shell(environment, code, timeout=60):
    return subprocess.run([sys.executable, "-m", "kim.cli", "shell", "-c", code], env=environment, cwd=PROJECT,
                          capture_output=True, text=True, timeout=timeout, check=True)


UPLOAD = """
from django_scopes import scopes_disabled
from kim.core.models import District, Role, User
from kim.reports.services import upload_template
from kim.reports.word import default_template
with scopes_disabled():
    user = User.objects.get(username="koordination")
    {body}
"""


def test_the_real_worker_survives_a_template_bomb_while_another_upload_goes_through(installation):  # noqa: F811
    environment, folder = installation
    environment = {**environment, "DJANGO_SETTINGS_MODULE": "tests.settings_short_template_limits"}
    shell(environment, """
from kim.core.services import create_district, create_user
from kim.core.models import Role
from django_scopes import scopes_disabled
with scopes_disabled():
    district = create_district(None, "Kreis Test")
    create_user(None, district=district, username="koordination", role=Role.COORDINATION, first_name="K", last_name="O")
""")
    bomb = '{% for a in "x" * 99999 %}{% for b in "x" * 99999 %}{% endfor %}{% endfor %}'
    worker = subprocess.Popen([sys.executable, "-m", "kim.cli", "worker", "--no-startup-delay", "--interval", "0.2"],
                              env=environment, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    database = sqlite3.connect(folder / "kim.sqlite3", timeout=1)

    def statuses():
        return dict(database.execute("SELECT name, status FROM reports_documenttemplate").fetchall())

    try:
        shell(environment, UPLOAD.format(body=(
            "from docx import Document; import io; d = Document(); d.add_paragraph(%r); b = io.BytesIO(); d.save(b)\n"
            "    upload_template(user, 'Bombe', b.getvalue())" % bomb)))
        assert wait_for(lambda: _task_running(database)), "the worker did not start the check"
        started = time.monotonic()
        shell(environment, UPLOAD.format(body="upload_template(user, 'Gut', default_template())"), timeout=20)
        assert time.monotonic() - started < 15, "the upload waited for the worker's check"
        assert wait_for(lambda: statuses() == {"Bombe": "refused", "Gut": "ready"}, seconds=60), statuses()
        assert worker.poll() is None, "the worker died"
        message = database.execute("SELECT message FROM reports_documenttemplate WHERE name='Bombe'").fetchone()[0]
    finally:
        database.close()
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=30)[0]
    assert "zu lange" in message, output


def _task_running(database) -> bool:
    rows = database.execute("SELECT status FROM django_tasks_database_dbtaskresult").fetchall()
    return any(status == "RUNNING" for (status,) in rows)

