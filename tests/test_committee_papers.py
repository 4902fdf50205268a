"""Committee papers (Sachstandsbericht): validated on the form by the render's rules, changed
and deleted with an audit entry, printed with the data state of their own year, wide tables
on the page, and the district's papers readable by every aggregate reader."""

import io
import random
import subprocess
import xml.etree.ElementTree as ElementTree
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from kim.core.models import AuditEntry, Role
from kim.reports.framework import ReportParams, build_table
from kim.reports.models import CommitteePaper, RenderJob, ReportingDeadline
from kim.reports.periods import Period
from kim.reports.renderers import render

from .factories import UserFactory, make_district
from .report_data import make_org, random_records
from .test_report_outputs import run_worker

TODAY = timezone.localdate()
LAST_YEAR = TODAY.year - 1


def new_paper(client, user, **values):
    client.force_login(user)
    data = {"title": "Sachstandsbericht", "year": LAST_YEAR, "reference_date": f"{LAST_YEAR}-12-31",
            "report_ids": ["R1", "R3"], "introduction": "Einleitung"}
    data.update(values)
    return client.post(reverse("reports:paper-new"), data, HTTP_ACCEPT_LANGUAGE="de")


def only_paper():
    with scopes_disabled():
        return CommitteePaper.objects.get()


def test_the_form_refuses_what_the_render_would_refuse_and_keeps_the_input(client, world):
    response = new_paper(client, world.coordination, title="Bericht Mitte März", reference_date=f"{LAST_YEAR}-03-15")
    assert response.status_code == 422
    content = response.content.decode()
    assert "30.06. und 31.12." in content and 'value="Bericht Mitte März"' in content
    assert 'id="id_reference_date_error"' in content  # beside the field it is about
    with scopes_disabled():
        assert not CommitteePaper.objects.exists()


def test_the_coordination_changes_and_deletes_a_paper_audited(client, world, monkeypatch,
                                                              django_capture_on_commit_callbacks):
    assert new_paper(client, world.coordination).status_code == 302
    paper = only_paper()
    edit = reverse("reports:paper-edit", args=[paper.pk])
    assert 'value="Sachstandsbericht"' in client.get(edit).content.decode()
    response = client.post(edit, {"title": "Sachstandsbericht, 2. Fassung", "year": LAST_YEAR - 1,
                                  "reference_date": f"{LAST_YEAR - 1}-06-30", "report_ids": ["R3"]},
                           HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 302
    paper.refresh_from_db()
    assert (paper.title, paper.year, paper.report_ids) == ("Sachstandsbericht, 2. Fassung", LAST_YEAR - 1, ["R3"])
    refused = client.post(edit, {"title": "x", "year": TODAY.year, "reference_date": f"{LAST_YEAR}-12-31",
                                 "report_ids": ["R1"]}, HTTP_ACCEPT_LANGUAGE="de")
    assert refused.status_code == 422 and "abgeschlossen" in refused.content.decode()
    paper.refresh_from_db()
    assert paper.year == LAST_YEAR - 1

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:paper-render", args=[paper.pk, "pdf"]))
    run_worker(monkeypatch)
    client.force_login(world.steering)
    assert client.post(reverse("reports:paper-delete", args=[paper.pk])).status_code == 403
    client.force_login(world.coordination)
    assert "Löschen" in client.get(reverse("reports:paper-delete", args=[paper.pk])).content.decode()
    assert client.post(reverse("reports:paper-delete", args=[paper.pk])).status_code == 302
    with scopes_disabled():
        assert not CommitteePaper.objects.exists() and not RenderJob.objects.exists()
        entries = AuditEntry.objects.filter(object_type="reports.committeepaper").order_by("pk")
        actions = [e.action for e in entries]
        changed = entries.filter(action=AuditEntry.Action.UPDATE).get().changes
        deleted = entries.filter(action=AuditEntry.Action.DELETE).get().changes
    assert actions == [AuditEntry.Action.CREATE, AuditEntry.Action.UPDATE, AuditEntry.Action.DELETE]
    assert changed["title"] == ["Sachstandsbericht", "Sachstandsbericht, 2. Fassung"]
    assert deleted["title"] == ["Sachstandsbericht, 2. Fassung", None] and deleted["renderings"] == [1, 0]


def test_a_paper_prints_the_data_state_of_its_own_year(client, world, monkeypatch, django_capture_on_commit_callbacks):
    with scopes_disabled():
        for title, year, days in (("Lenkungsgruppe Vorvorjahr", LAST_YEAR - 1, 10), ("Lenkungsgruppe Vorjahr",
                                                                                      LAST_YEAR, 40)):
            ReportingDeadline.objects.create(
                district=world.district, title=title, due_on=TODAY + timedelta(days=days),
                period_start=date(year, 1, 1), period_end=date(year, 12, 31), created_by=world.coordination)
    new_paper(client, world.coordination, year=LAST_YEAR - 1, reference_date=f"{LAST_YEAR - 1}-12-31")
    paper = only_paper()
    page = client.get(reverse("reports:paper", args=[paper.pk])).content.decode()
    assert "Lenkungsgruppe Vorvorjahr" in page and "Lenkungsgruppe Vorjahr " not in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:paper-render", args=[paper.pk, "pdf"]))
    run_worker(monkeypatch)
    with scopes_disabled():
        job = RenderJob.objects.get()
    assert job.status == RenderJob.Status.DONE, job.message
    text = pdf_text(bytes(job.result))
    assert "Lenkungsgruppe Vorvorjahr" in text and "Lenkungsgruppe Vorjahr " not in text


def test_every_aggregate_reader_lists_and_downloads_the_districts_papers(client, world, monkeypatch,
                                                                        django_capture_on_commit_callbacks):
    new_paper(client, world.coordination)
    paper = only_paper()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:paper-render", args=[paper.pk, "docx"]))
    run_worker(monkeypatch)
    with scopes_disabled():
        job = RenderJob.objects.get()
    module3 = UserFactory(district=world.district, role=Role.MODULE3)
    for reader in (world.steering, module3, world.district_admin):
        client.force_login(reader)
        assert paper.title in client.get(reverse("reports:papers")).content.decode()
        assert reverse("reports:job-download", args=[job.pk]) in client.get(reverse("reports:paper", args=[paper.pk])).content.decode()
        assert client.get(reverse("reports:job-download", args=[job.pk])).status_code == 200
        # Reading is not rendering: the versions in the list are the coordination's.
        assert reverse("reports:paper-render", args=[paper.pk, "pdf"]) not in client.get(
            reverse("reports:paper", args=[paper.pk])).content.decode()
        assert client.post(reverse("reports:paper-render", args=[paper.pk, "pdf"])).status_code == 403
    with scopes_disabled():
        assert RenderJob.objects.count() == 1
    for outsider in (world.insider, world.lead):
        client.force_login(outsider)
        assert client.get(reverse("reports:job-download", args=[job.pk])).status_code == 403
    foreign = UserFactory(district=world.other_district, role=Role.COORDINATION)
    client.force_login(foreign)
    assert client.get(reverse("reports:job-download", args=[job.pk])).status_code == 404


def test_the_link_to_an_earlier_rendering_says_open_as_a_verb(client, world, django_capture_on_commit_callbacks):
    new_paper(client, world.coordination)
    paper = only_paper()
    client.post(reverse("reports:paper-render", args=[paper.pk, "pdf"]))  # queued, not yet rendered
    page = client.get(reverse("reports:paper", args=[paper.pk]), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert ">öffnen<span" in page and ">offen<" not in page


def test_asking_again_while_a_rendering_waits_answers_with_the_same_job(client, world):
    """A double click, a second tab or a script: one active rendering per paper and format."""
    new_paper(client, world.coordination)
    paper = only_paper()
    first = client.post(reverse("reports:paper-render", args=[paper.pk, "pdf"]))
    for _ in range(5):
        assert client.post(reverse("reports:paper-render", args=[paper.pk, "pdf"])).url == first.url
    client.post(reverse("reports:paper-render", args=[paper.pk, "docx"]))
    with scopes_disabled():
        assert sorted(RenderJob.objects.values_list("format", flat=True)) == ["docx", "pdf"]
        # a rendering whose worker was stopped half an hour ago blocks nothing: it is given up
        RenderJob.objects.filter(format="pdf").update(status=RenderJob.Status.RUNNING,
                                                       created_at=timezone.now() - timedelta(minutes=31))
    again = client.post(reverse("reports:paper-render", args=[paper.pk, "pdf"]))
    assert again.url != first.url
    with scopes_disabled():
        lost = RenderJob.objects.filter(format="pdf").order_by("created_at").first()
        assert lost.status == RenderJob.Status.FAILED and "30 Minuten" in lost.message
        assert AuditEntry.objects.filter(object_type="reports.renderjob", object_id=str(lost.pk),
                                         changes__status=["running", "failed"]).exists()


# ---------------------------------------------------------------- wide tables on the page


def pdf_text(content: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()


def words_beyond_the_page(content: bytes) -> list[str]:
    """Words whose right edge lies outside their page (cut off in print), from pdftotext -bbox."""
    xhtml = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=content, capture_output=True, check=True).stdout
    root = ElementTree.fromstring(xhtml)
    namespace = {"x": "http://www.w3.org/1999/xhtml"}
    beyond = []
    for page in root.iter("{http://www.w3.org/1999/xhtml}page"):
        width = float(page.get("width"))
        beyond += [w.text for w in page.findall("x:word", namespace) if float(w.get("xMax")) > width - 18]
    return beyond


@pytest.fixture
def staffed(db):
    org = make_org(make_district("Kreis Breit"), municipalities=3, providers=2, managers_per_provider=3)
    random_records(org, random.Random(8), 2023, 60)
    return org


@pytest.mark.parametrize("reader, compare", [("lead", True), ("lead", False), ("coordination", False)])
def test_wide_tables_fit_the_pdf_page(staffed, reader, compare):
    user = staffed.leads[staffed.providers[0].pk] if reader == "lead" else staffed.coordination
    with scope(district=staffed.district.pk):
        tables = [build_table(user, "R15", ReportParams(Period.of("year", 2023), date(2023, 12, 31), compare=compare)),
                  build_table(user, "R1", ReportParams(Period.of("year", 2023), date(2023, 12, 31)))]
    content = render(tables, "pdf")
    assert words_beyond_the_page(content) == []
    text = " ".join(pdf_text(content).split())
    for heading in ("Fälle", "Anteil", "Ziele ohne Status", "90 Tage ohne Termin"):
        assert heading.split()[0] in text
    assert "Termin" in text and text.count("Zeile") >= (3 if compare else 2)


def test_wide_tables_are_split_into_parts_in_word_too(staffed):
    from docx import Document

    lead = staffed.leads[staffed.providers[0].pk]
    with scope(district=staffed.district.pk):
        table = build_table(lead, "R15", ReportParams(Period.of("year", 2023), date(2023, 12, 31), compare=True))
    document = Document(io.BytesIO(render([table], "docx")))
    assert len(document.tables) == 2 and all(len(t.columns) <= 11 for t in document.tables)


def test_word_documents_are_a4(staffed):
    """python-docx starts from US Letter: the paper's template and every report download are A4."""
    from docx import Document

    from kim.reports.word import default_template

    lead = staffed.leads[staffed.providers[0].pk]
    with scope(district=staffed.district.pk):
        table = build_table(lead, "R1", ReportParams(Period.of("year", 2023), date(2023, 12, 31)))
    for content in (default_template(), render([table], "docx")):
        section = Document(io.BytesIO(content)).sections[0]
        assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
