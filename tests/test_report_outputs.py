"""Report files are opened and read back; the pages, the command line, completeness and
the committee paper work for the roles that use them."""

import csv
import io
import json
import random
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from kim.core.models import AuditEntry
from kim.reports.framework import ReportParams, build_table
from kim.reports.models import DataConfirmation, RenderJob, ReportingDeadline
from kim.reports.periods import Period
from kim.reports.renderers import render

from .factories import make_district
from .report_data import make_org, random_records

YEAR = 2023


@pytest.fixture
def filled(db):
    org = make_org(make_district("Kreis Datei"), municipalities=3, providers=2)
    random_records(org, random.Random(21), YEAR, 80)
    return org


def table_for(user, report_id="R1", **extra):
    params = ReportParams(Period.of("year", YEAR), date(YEAR, 6, 30), compare=True, **extra)
    with scope(district=user.district_id):
        return build_table(user, report_id, params)


def visible_counts(table, index=0):
    return {row.label: row.values[f"n@{index}"] for row in table.rows if f"n@{index}" not in row.suppressed}


def test_xlsx_holds_numbers_with_formats_and_a_frozen_header(filled):
    from openpyxl import load_workbook

    lead = filled.leads[filled.providers[0].pk]
    tables = [table_for(lead, "R1"), table_for(lead, "R4")]
    workbook = load_workbook(io.BytesIO(render(tables, "xlsx")))
    assert workbook.sheetnames == ["R1", "R4"]
    sheet = workbook["R1"]
    labels = {sheet.cell(r, 1).value: r for r in range(1, sheet.max_row + 1)}
    for label, value in visible_counts(tables[0]).items():
        cell = sheet.cell(labels[label], 2)
        assert cell.value == value and cell.number_format == "#,##0"
    share = sheet.cell(labels[tables[0].rows[1].label], 3)
    assert isinstance(share.value, float) and share.number_format == "0 %"
    assert sheet.freeze_panes is not None and sheet.freeze_panes.startswith("B")
    assert sheet._images, "the chart is embedded as a picture"


def test_xlsx_opens_in_libreoffice_when_installed(filled, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed here: the XLSX is checked with openpyxl only")
    path = tmp_path / "r1.xlsx"
    path.write_bytes(render([table_for(filled.coordination)], "xlsx"))
    result = subprocess.run([soffice, "--headless", "--convert-to", "csv", "--outdir", str(tmp_path), str(path)],
                            capture_output=True, timeout=120)
    assert result.returncode == 0 and (tmp_path / "r1.csv").exists()


def test_docx_contains_the_table_and_the_chart_text(filled):
    from docx import Document

    lead = filled.leads[filled.providers[0].pk]
    table = table_for(lead, "R3")
    document = Document(io.BytesIO(render(table, "docx")))
    grid = document.tables[0]
    read = {grid.cell(r, 0).text.strip(): grid.cell(r, 1).text for r in range(1, len(grid.rows))}
    for label, value in visible_counts(table).items():
        assert read[label] == f"{value:,}".replace(",", ".")
    assert any("Bar chart" in p.text or "Balkendiagramm" in p.text for p in document.paragraphs)
    assert len(document.inline_shapes) == 1


def test_pdf_text_carries_the_figures(filled):
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is needed; `make test` installs it")
    table = table_for(filled.coordination, "R1")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=render(table, "pdf"),
                          capture_output=True, check=True).stdout.decode()
    first = next(line for line in text.splitlines() if table.rows[0].label in line)
    assert f"{table.rows[0].values['n@0']:,}".replace(",", ".") in first
    numbers = set(text.replace("\u00a0", " ").split())
    for value in visible_counts(table).values():
        assert f"{value:,}".replace(",", ".") in numbers


def test_csv_is_semicolon_separated_utf8_with_bom(filled):
    table = table_for(filled.leads[filled.providers[0].pk], "R4")
    content = render(table, "csv")
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    header = next(r for r in rows if len(r) > 2)
    data = {r[0]: r for r in rows[rows.index(header) + 1:] if len(r) == len(header)}
    for label, value in visible_counts(table).items():
        assert data[label][2] == str(value)


def test_json_gives_numbers_levels_and_suppressed_cells_as_null(filled):
    table = table_for(filled.coordination, "R3")
    payload = json.loads(render(table, "json"))
    assert payload["report"] == "R3" and payload["suppression"] == {"applied": True, "k": 5, "withheld": False}
    assert {c["key"] for c in payload["columns"]} >= {"n@0", "n%@0"}
    for row in payload["rows"]:
        assert isinstance(row["level"], int)
        for column in row["suppressed"]:
            assert row["values"][column] is None
        for value in row["values"].values():
            assert value is None or isinstance(value, (int, float))


# ---------------------------------------------------------------- pages and command line


@pytest.mark.parametrize("persona", ["insider", "lead", "coordination", "steering", "district_admin"])
def test_every_report_page_opens_for_every_role(client, world, persona):
    client.force_login(world.personas()[persona])
    for report_id in ["R1", "R2", "R3", "R4", "R5", "R6", "R7", "R10", "R14", "R15"]:
        response = client.get(reverse("reports:report", args=[report_id]))
        assert response.status_code == 200, (report_id, response.content[:200])
    assert client.get(reverse("reports:index")).status_code == 200


def test_a_bad_period_gets_a_german_message_not_an_error(client, world):
    client.force_login(world.coordination)
    response = client.get(reverse("reports:report", args=["R1"]), {"period": "quarter", "number": "2", "year": "2023"},
                          HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422
    assert "ganze Kalenderjahre" in response.content.decode()
    response = client.get(reverse("reports:report", args=["R1"]), {"year": "1700"})
    assert response.status_code == 422
    assert "Jahr" in response.content.decode()


@pytest.mark.parametrize("report_id, query", [
    ("R3", {"reference_date": "0001-01-01"}), ("R15", {"reference_date": "0001-01-01"}),
    ("R3", {"reference_date": "2023-02-30"}), ("R1", {"year": "abc"}), ("R1", {"municipality": "999999"}),
    ("R2", {"top": "1000"}), ("R2", {"unit": "x"}), ("R1", {"period": "custom", "start": "2023-01-01", "end": "9999-12-31"}),
])
def test_odd_parameters_answer_422_with_a_message(client, world, report_id, query):
    client.force_login(world.lead)
    response = client.get(reverse("reports:report", args=[report_id]), query)
    assert response.status_code == 422
    assert 'role="alert"' in response.content.decode()


def test_reports_never_list_a_participant(client, world):
    client.force_login(world.coordination)
    for report_id in ["R1", "R3", "R10", "R15"]:
        content = client.get(reverse("reports:report", args=[report_id])).content.decode()
        assert world.participant.last_name not in content


def test_the_command_line_lists_and_renders_reports(filled, capsysbinary):
    call_command("report", list=True)
    listed = capsysbinary.readouterr().out.decode()
    assert "R1\t" in listed and "R15\t" in listed
    call_command("report", "R3", district=filled.district.slug, username=filled.coordination.username,
                 year="2023", format="json")
    payload = json.loads(capsysbinary.readouterr().out)
    assert payload["report"] == "R3" and payload["suppression"]["applied"] is True
    with pytest.raises(CommandError, match="Kalenderjahre"):
        call_command("report", "R1", district=filled.district.slug, username=filled.coordination.username,
                     year="2023", period="quarter", number="1")
    with pytest.raises(CommandError):
        call_command("report", "R1", district="anderswo", username=filled.coordination.username)


# ---------------------------------------------------------------- completeness and deadline


def test_coordination_sets_a_deadline_and_the_lead_confirms(client, world):
    client.force_login(world.coordination)
    today = timezone.localdate()
    response = client.post(reverse("reports:deadline-new"), {
        "title": "Lenkungsgruppe 12/2026", "due_on": (today + timedelta(days=20)).isoformat(), "year": today.year - 1,
    })
    assert response.status_code == 302
    with scopes_disabled():
        deadline = ReportingDeadline.objects.get()
    page = client.get(reverse("reports:completeness")).content.decode()
    assert "Lenkungsgruppe 12/2026" in page and world.provider.name in page
    # The district sees completeness per provider, never per case manager (R15, questions.py).
    assert str(world.insider.last_name) not in page and world.participant.last_name not in page

    client.force_login(world.lead)
    assert str(world.insider.last_name) in client.get(reverse("reports:completeness")).content.decode()
    assert client.post(reverse("reports:confirm", args=[deadline.pk]), {"note": "vollständig"}).status_code == 302
    assert client.post(reverse("reports:confirm", args=[deadline.pk])).status_code == 422  # only once
    with scopes_disabled():
        confirmation = DataConfirmation.objects.get()
        assert confirmation.provider == world.provider
        assert AuditEntry.objects.filter(object_type="reports.dataconfirmation").count() == 1

    client.force_login(world.coordination)
    assert client.post(reverse("reports:confirm", args=[deadline.pk])).status_code == 403


def test_a_case_manager_sees_own_gaps_with_links(client, world):
    with scopes_disabled():
        world.case.target_group = None
        world.case.save()
    client.force_login(world.insider)
    page = client.get(reverse("reports:completeness")).content.decode()
    assert reverse("casework:case", args=[world.case.pk]) in page
    client.force_login(world.other_provider_cm)
    assert reverse("casework:case", args=[world.case.pk]) not in client.get(reverse("reports:completeness")).content.decode()


# ---------------------------------------------------------------- committee paper


def run_worker(monkeypatch):
    """The real task worker, in batch mode. It would recycle the database connection, which
    inside the test's transaction (PostgreSQL) would close it: that one call is disabled."""
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    call_command("db_worker", batch=True, verbosity=0)


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_coordination_makes_a_committee_paper_in_the_background(client, world, fmt, django_capture_on_commit_callbacks,
                                                                monkeypatch):
    client.force_login(world.coordination)
    response = client.post(reverse("reports:paper-new"), {
        "title": "Sachstandsbericht KIM 2025", "year": 2025, "reference_date": "2025-12-31",
        "report_ids": ["R1", "R3"], "introduction": "Das KIM im Kreis Aue.", "closing": "Ausblick 2026.",
    })
    assert response.status_code == 302, response.context["form"].errors.as_data()
    paper_url = response["Location"]
    paper_id = int(paper_url.rstrip("/").split("/")[-1])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:paper-render", args=[paper_id, fmt]))
    assert response.status_code == 302
    with scopes_disabled():
        job = RenderJob.objects.get()
    assert job.status == RenderJob.Status.QUEUED
    run_worker(monkeypatch)
    job.refresh_from_db()
    assert job.status == RenderJob.Status.DONE, job.message
    status = client.get(reverse("reports:job", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "100" in status and reverse("reports:job-download", args=[job.pk]) in status
    content = client.get(reverse("reports:job-download", args=[job.pk])).content
    if fmt == "docx":
        from docx import Document

        document = Document(io.BytesIO(content))
        text = "\n".join(p.text for p in document.paragraphs)
        assert "Sachstandsbericht KIM 2025" in text and "Das KIM im Kreis Aue." in text
        assert len(document.tables) == 2
    else:
        text = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()
        assert "Sachstandsbericht KIM 2025" in text and "Ausblick 2026." in text
    # The rendered paper belongs to the district: every aggregate reader downloads it.
    client.force_login(world.steering)
    assert client.get(reverse("reports:job-download", args=[job.pk])).content == content
    assert reverse("reports:job-download", args=[job.pk]) in client.get(paper_url).content.decode()
    client.force_login(world.lead)
    assert client.get(reverse("reports:job-download", args=[job.pk])).status_code == 403


def test_a_bad_word_template_is_refused_with_a_message(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world.coordination)
    response = client.post(reverse("reports:templates"), {
        "name": "Kaputt", "file": SimpleUploadedFile("x.docx", b"not a zip at all"),
    }, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422
    assert "Word" in response.content.decode()


def test_an_edited_default_template_is_checked_in_the_background_and_then_offered(
        client, world, django_capture_on_commit_callbacks, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kim.reports.models import DocumentTemplate

    client.force_login(world.coordination)
    template = client.get(reverse("reports:default-template")).content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:templates"), {
            "name": "Vorlage mit Wappen", "file": SimpleUploadedFile("vorlage.docx", template),
        })
    assert response.status_code == 302
    with scopes_disabled():
        uploaded = DocumentTemplate.objects.get()
    assert uploaded.status == DocumentTemplate.Status.CHECKING
    assert "Vorlage mit Wappen" not in client.get(reverse("reports:paper-new")).content.decode()  # not yet offered
    run_worker(monkeypatch)
    uploaded.refresh_from_db()
    assert uploaded.status == DocumentTemplate.Status.READY, uploaded.message
    assert "Vorlage mit Wappen" in client.get(reverse("reports:paper-new")).content.decode()


def test_word_templates_render_in_a_sandbox_and_keep_special_characters(world):
    """Templates read the context's keys only: no attribute or method of any object."""
    from docx import Document

    from kim.reports.models import CommitteePaper
    from kim.reports.paper import TemplateRefused, render_docx

    with scopes_disabled():
        paper = CommitteePaper(district=world.district, title="Bericht", year=2025, reference_date=date(2025, 12, 31),
                               introduction="Jobcenter & ABH <gemeinsam>", created_by=world.coordination)
    document = Document(io.BytesIO(render_docx(paper, [], "Stand")))
    assert "Jobcenter & ABH <gemeinsam>" in "\n".join(p.text for p in document.paragraphs)

    for attack in ["{{ titel.__class__.__mro__[1].__subclasses__()|length }}",
                   "{% for b in berichte %}{{ b.tabelle.tpl }}{% endfor %}",
                   "{% for b in berichte %}{{ b.tabelle.subdocx.save('/tmp/kim-attack.docx') }}{% endfor %}"]:
        hostile = Document()
        hostile.add_paragraph(attack)
        buffer = io.BytesIO()
        hostile.save(buffer)
        with pytest.raises(TemplateRefused, match="nicht verwenden dürfen"):
            render_docx(paper, [table_for(world.lead, "R3")], "Stand", buffer.getvalue())
