"""Module 1, second part: reconstructions, forums, the steering group, groups, measures with
their effect, agreements, the service directory, R11/R12 and the committee paper. Who reads
what follows the personas; every change is a service with its audit entry."""

import base64
import csv
import io
import json
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django_scopes import scope, scopes_disabled

from kim.core.models import AuditEntry, ReferralSource, Topic
from kim.reports.framework import build_table
from kim.reports.word import default_template
from kim.reports.questions import year_question
from kim.reports.renderers import render
from kim.system import directory, indicators, services
from kim.system.models import (
    AgendaItem,
    Agreement,
    CaseReconstruction,
    Decision,
    Measure,
    Meeting,
    NeedReport,
    Service,
    Theme,
    WorkingGroup,
)

from . import crafted_files
from .factories import UserFactory

LAST_YEAR = timezone.localdate().year - 1


def save(world, model, values, record=None, **parent):
    with scope(district=world.district.pk):
        return services.save_record(world.coordination, model, values, record, **parent)


@pytest.fixture
def module3(world):
    return UserFactory(username="abh-aue", role="module3", district=world.district)


@pytest.fixture
def chain(world):
    """A theme on a meeting's agenda, decided, with a group and a measure."""
    with scope(district=world.district.pk):
        theme = services.create_theme(world.coordination, {"title": "Sprachförderung"})
        meeting = services.save_record(world.coordination, Meeting, {"held_on": date(LAST_YEAR, 3, 1)})
        services.save_record(world.coordination, AgendaItem, {"position": 1, "theme": theme}, meeting=meeting)
        decision = services.save_record(world.coordination, Decision, {
            "theme": theme, "text": "Projektgruppe DELFIN 4 wird eingerichtet.", "follow_up": "group"},
            meeting=meeting)
        group = services.save_record(world.coordination, WorkingGroup, {
            "name": "DELFIN 4", "mandate": decision, "theme": None, "members": [world.insider]})
        measure = services.save_record(world.coordination, Measure, {
            "title": "Sprachförderkräfte", "decision": decision, "group": group, "theme": None, "owner": "Jugendamt",
            "starts_on": date(LAST_YEAR - 1, 5, 1), "due_on": date(LAST_YEAR - 1, 12, 31)})
    return theme, meeting, decision, group, measure


# ---------------------------------------------------------------- services


def test_the_chain_moves_the_theme_forward_and_follows_its_theme(world, chain):
    theme, meeting, decision, group, measure = chain
    with scopes_disabled():
        theme.refresh_from_db()
        assert theme.status == Theme.Status.DECIDED  # presented by the agenda, decided by the decision
        assert group.theme == theme and measure.theme == theme  # from the decision they follow
        kinds = set(AuditEntry.objects.filter(district=world.district, action="create")
                    .values_list("object_type", flat=True))
    assert {"system.meeting", "system.agendaitem", "system.decision", "system.workinggroup",
            "system.measure"} <= kinds
    # A later agenda item does not move a decided theme back.
    save(world, AgendaItem, {"position": 2, "theme": theme}, meeting=meeting)
    with scopes_disabled():
        assert Theme.objects.get(pk=theme.pk).status == Theme.Status.DECIDED


def test_only_coordination_writes_the_system_level(world):
    for user in (world.steering, world.insider, world.lead, world.district_admin):
        with scope(district=world.district.pk), pytest.raises(PermissionDenied):
            services.save_record(user, Meeting, {"held_on": date(2026, 1, 1)})


def test_a_vignette_naming_someone_is_refused_and_nothing_is_stored(world):
    for text in ("Frau Nasser kam mit drei Kindern.", "geb. 03.04.1987, seit 2019 hier", "siehe F-00042"):
        with pytest.raises(ValidationError) as refused:
            save(world, CaseReconstruction, {"held_on": date(2026, 1, 5), "focus": "Südosteuropa", "vignette": text})
        assert "vignette" in refused.value.error_dict
    with scopes_disabled():
        assert not CaseReconstruction.objects.exists()
    save(world, CaseReconstruction, {"held_on": date(2026, 1, 5), "focus": "Südosteuropa",
                                     "vignette": "Frau A. und ihre drei Kinder warten auf Kitaplätze."})


def test_a_reconstructions_focus_is_guarded_like_its_vignette(world):
    """The focus is shown in the list the steering group reads (issue 10, F5)."""
    with pytest.raises(ValidationError) as refused:
        save(world, CaseReconstruction, {"held_on": date(2026, 1, 5), "vignette": "Eine Familie wartet.",
                                         "focus": "Frau Nasser, geb. 03.04.1985, TN-AB12CD34, F-00042"})
    message = " ".join(refused.value.message_dict["focus"])
    assert all(f"„{words}“" in message for words in ("Frau Nasser", "03.04.1985", "TN-AB12CD34", "F-00042"))
    with scopes_disabled():
        assert not CaseReconstruction.objects.exists()


def test_a_decision_by_vote_records_the_votes_and_a_standard_is_named(world):
    meeting = save(world, Meeting, {"held_on": date(2026, 2, 1)})
    with pytest.raises(ValidationError, match="Stimmen|votes"):
        save(world, Decision, {"text": "Beschluss", "mode": "vote"}, meeting=meeting)
    with pytest.raises(ValidationError):
        save(world, Decision, {"text": "Beschluss", "follow_up": "standard", "standard": ""}, meeting=meeting)
    with scopes_disabled():
        assert not Decision.objects.exists()


def test_group_members_are_the_districts_own_staff(world):
    with pytest.raises(ValidationError):
        save(world, WorkingGroup, {"name": "AG", "members": [world.other_district_cm]})
    with pytest.raises(ValidationError):
        save(world, WorkingGroup, {"name": "AG", "members": [world.coordination]})


def test_the_effect_indicator_reads_the_report_before_and_after(world, chain):
    *_rest, measure = chain
    with scopes_disabled():
        topic = Topic.objects.filter(district=world.district).first()
    key = f"R2|{topic.pk}"
    save(world, Measure, {"indicator": key}, measure)
    with scope(district=world.district.pk):
        measure.refresh_from_db()
        before, after = indicators.before_and_after(world.coordination, measure)
        assert (before.year, after.year) == (LAST_YEAR - 2, LAST_YEAR)
        for reading in (before, after):
            table = build_table(world.coordination, "R2", year_question(reading.year, date(reading.year, 12, 31)))
            row = next(r for r in table.rows if str(r.key) == str(topic.pk))
            assert reading.value == (None if "n@0" in row.suppressed else row.values["n@0"])
        assert key in dict(indicators.indicator_choices(world.coordination))


def test_a_running_year_is_not_shown_as_after(world, chain):
    *_rest, measure = chain
    with scope(district=world.district.pk):
        measure.starts_on = timezone.localdate()
        measure.indicator = "R1|all"
        before, after = indicators.before_and_after(world.coordination, measure)
    assert after.value is None and after.note


def pdf_bytes(extra=b""):
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + extra + b"\n%%EOF\n"


PDF_MESSAGES = {"scripts": "Skripten", "actions": "beim Öffnen von selbst", "encrypted": "ohne Kennwortschutz",
                "unreadable": "nicht prüfen lassen", "size": "unplausiblen Größe"}
HOSTILE_PDF_REASONS = {
    "objstm_hex.pdf": "scripts", "objstm_a85_flate.pdf": "scripts", "objstm_flate_cr.pdf": "scripts",
    "objstm_predictor.pdf": "scripts", "objstm_endstream_in_data.pdf": "scripts", "objstm_lzw.pdf": "unreadable",
    "objstm_untyped_filter_by_reference.pdf": "unreadable", "objstm_untyped_predictor.pdf": "scripts",
    "objstm_jpx.pdf": "unreadable", "stream_runlength.pdf": "unreadable", "uri_openaction.pdf": "actions",
    "uri_openaction_inline.pdf": "actions", "uri_openaction_in_object_stream.pdf": "actions", "page_aa.pdf": "actions", "gotor_unc.pdf": "scripts",
    "gotoe.pdf": "scripts", "xfa.pdf": "scripts", "encrypted.pdf": "encrypted", "escaped_names.pdf": "scripts",
    "flate_bomb.pdf": "size",
}
WORD_MESSAGES = {"remote_template.docx": "nachladen", "unc_template.docx": "nachladen", "external_ole.docx": "Makros",
                 "external_frame.docx": "nachladen", "embedded_ole.docx": "eingebetteten Objekten",
                 "ole_signature.docx": "eingebetteten Objekten", "macro_renamed.docx": "Makros",
                 "macro_content_type.docx": "Makros", "activex.docx": "ActiveX", "doctype.docx": "kein Word-Dokument",
                 "includepicture.docx": "nachladen", "includetext_unc.docx": "nachladen", "ddeauto.docx": "Makros",
                 "ddeauto_simple.docx": "Makros"}
assert set(HOSTILE_PDF_REASONS) == set(crafted_files.HOSTILE_PDFS)
assert set(WORD_MESSAGES) == set(crafted_files.HOSTILE_WORD_FILES)


@pytest.mark.parametrize(("content", "name", "message"), [
    (pdf_bytes(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"), "v.pdf", "Skripten"),
    (pdf_bytes(b"/OpenAction << /S /J#61vaScript >>"), "v.pdf", "Skripten"),
    (pdf_bytes(b"1 0 obj << /Filter /FlateDecode >> stream\n" + __import__("zlib").compress(b"/Launch /F (cmd.exe)")
               + b"\nendstream"), "v.pdf", "Skripten"),
    (b"MZ\x90\x00 not a pdf", "v.pdf", "kein PDF"),
    (b"PK\x03\x04 broken zip", "v.docx", "Word"),
    (b"plain text", "v.txt", "PDF (.pdf) oder"),
    (b"", "v.pdf", "leer"),
    # Issue 10, F7 and F8: object streams in other filters, automatic actions, links to other
    # files, XFA, encryption; F9: Word files with remote templates, OLE objects, macros.
    *[pytest.param(make, name, PDF_MESSAGES[HOSTILE_PDF_REASONS[name]], id=name)
      for name, make in crafted_files.HOSTILE_PDFS.items()],
    *[pytest.param(make, name, WORD_MESSAGES[name], id=name) for name, make in crafted_files.HOSTILE_WORD_FILES.items()],
])
def test_a_bad_agreement_document_is_refused_and_nothing_changes(client, world, content, name, message):
    content = content() if callable(content) else content
    agreement = save(world, Agreement, {"title": "ABH und Beratung", "partners": "ABH"})
    client.force_login(world.coordination)
    answer = client.post(reverse("system:record-edit", args=["vereinbarungen", agreement.pk]), {
        "title": "Geändert", "partners": "ABH", "form": "written", "status": "draft",
        "upload": SimpleUploadedFile(name, content)})
    assert answer.status_code == 422 and message in answer.content.decode()
    with scopes_disabled():
        agreement.refresh_from_db()
    assert agreement.title == "ABH und Beratung" and agreement.document is None


def weasyprint_pdf() -> bytes:
    """A PDF as a real producer writes it: object streams, links to a web page and within
    the document, an outline, a PNG image."""
    from weasyprint import HTML

    image = base64.b64encode(PNG_PIXEL).decode()
    return HTML(string=f"""<h1>Vereinbarung</h1><p>Siehe <a href="https://www.kreis.example/kim">Kreis</a>
        und <a href="#s2">Abschnitt 2</a>.</p><img src="data:image/png;base64,{image}" width="40">
        <h2 id="s2">Abschnitt 2</h2>""").write_pdf()


PNG_PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.mark.parametrize("make, name", [
    (crafted_files.ordinary_pdf, "Vereinbarung.pdf"),
    (lambda: crafted_files.pdf_open_action_in_object_stream(b"[3 0 R /Fit]"), "Vereinbarung.pdf"),
    (weasyprint_pdf, "Vereinbarung.pdf"),
    (crafted_files.ordinary_docx, "Vereinbarung.docx"),
    (lambda: default_template(), "Vorlage.docx"),
])
def test_an_ordinary_document_with_links_and_images_is_stored(client, world, make, name):
    content = make()
    with translation.override("de"):
        services.check_document(content, name)  # raises nothing
    agreement = save(world, Agreement, {"title": "ABH und Beratung", "partners": "ABH"})
    client.force_login(world.coordination)
    answer = client.post(reverse("system:record-edit", args=["vereinbarungen", agreement.pk]), {
        "title": "ABH und Beratung", "partners": "ABH", "form": "written", "status": "draft",
        "upload": SimpleUploadedFile(name, content)})
    assert answer.status_code == 302, answer.content.decode()[-800:]
    with scopes_disabled():
        agreement.refresh_from_db()
    assert bytes(agreement.document) == content and agreement.document_name == name


def test_a_pdf_that_takes_too_long_to_check_is_refused(monkeypatch):
    monkeypatch.setattr(services, "PDF_CHECK_CPU_SECONDS", 1)
    # Many ASCII85 streams without an end: each is decoded to the end of the file.
    content = b"%PDF-1.4\n" + b"<< /Filter /A85 /First 1 >> stream\n" * 60000
    with translation.override("de"), pytest.raises(ValidationError, match="dauert zu lange"):
        services.check_document(content[:services.MAX_DOCUMENT_BYTES], "v.pdf")


def test_an_agreement_document_is_stored_and_read_by_the_steering_group(client, world):
    agreement = save(world, Agreement, {"title": "ABH und Beratung", "partners": "ABH"})
    client.force_login(world.coordination)
    answer = client.post(reverse("system:record-edit", args=["vereinbarungen", agreement.pk]), {
        "title": "ABH und Beratung", "partners": "ABH", "form": "written", "status": "in_force",
        "review_on": (timezone.localdate() + timedelta(days=10)).isoformat(),
        "upload": SimpleUploadedFile("Vereinbarung ABH.pdf", pdf_bytes())})
    assert answer.status_code == 302, answer.content.decode()[:500]
    with scopes_disabled():
        entry = AuditEntry.objects.filter(object_type="system.agreement", action="update").order_by("pk").last()
    assert entry.changes["document_name"] == [None, "Vereinbarung ABH.pdf"] and "document" not in entry.changes
    for user, status in ((world.steering, 200), (world.insider, 403), (world.district_admin, 403)):
        client.force_login(user)
        assert client.get(reverse("system:agreement-document", args=[agreement.pk])).status_code == status
    client.force_login(world.steering)
    assert client.get(reverse("system:agreement-document", args=[agreement.pk])).content == pdf_bytes()
    client.force_login(world.coordination)
    assert "ABH und Beratung" in client.get(reverse("reports:dashboard")).content.decode()  # review due


# ---------------------------------------------------------------- who reads what


def test_who_reads_the_system_level(client, world, chain, module3):
    theme, meeting, decision, group, measure = chain
    pages = {
        "meetings": reverse("system:records", args=["sitzungen"]),
        "meeting": reverse("system:record", args=["sitzungen", meeting.pk]),
        "theme": reverse("system:theme", args=[theme.pk]),
        "group": reverse("system:record", args=["arbeitsgruppen", group.pk]),
        "measure": reverse("system:record", args=["massnahmen", measure.pk]),
        "directory": reverse("system:directory"),
        "index": reverse("system:index"),
    }
    expected = {  # persona -> pages answering 200; everything else 403 or 404
        "coordination": set(pages), "steering": set(pages),
        "insider": {"group", "measure", "directory"},  # a member of the group
        "colleague": {"directory"}, "lead": {"directory"}, "other_provider": {"directory"},
        "other_district": {"directory"}, "module3": {"directory"}, "district_admin": set(), "state": set(),
    }
    personas = {**world.personas(), "module3": module3}
    for name, user in personas.items():
        client.force_login(user)
        opened = {page for page, url in pages.items() if client.get(url).status_code == 200}
        assert opened == expected[name], name
    # Another district's coordination does not find this district's records.
    other = UserFactory(username="koord-berg", role="coordination", district=world.other_district)
    client.force_login(other)
    assert client.get(pages["meeting"]).status_code == 404
    assert "DELFIN" not in client.get(reverse("system:records", args=["arbeitsgruppen"])).content.decode()


def test_a_member_lists_only_their_groups(client, world, chain, module3):
    save(world, WorkingGroup, {"name": "Projektgruppe Träger", "members": [module3]})
    client.force_login(module3)
    page = client.get(reverse("system:groups")).content.decode()
    assert "Projektgruppe Träger" in page and "DELFIN 4" not in page


# ---------------------------------------------------------------- the service directory


def service(world, **values):
    defaults = {"name": "Migrationsberatung", "provider_name": "Caritas", "opening_hours": "Mo–Do 9–12 Uhr, Fr 9–13 Uhr",
                "phone": "02104 99 01", "street": "Markt 1", "postcode": "40822", "city": "Mettmann"}
    return save(world, Service, {**defaults, **values})


def test_the_directory_is_searched_from_the_case_page(client, world):
    with scopes_disabled():
        topic = Topic.objects.filter(district=world.district).first()
    current = service(world, name="Kita-Lotsen", municipality=world.case.municipality, topics=[topic])
    service(world, name="Alte Beratung", valid_from=date(2020, 1, 1), valid_to=date(2021, 1, 1))
    client.force_login(world.insider)
    case_page = client.get(reverse("casework:case", args=[world.case.pk])).content.decode()
    assert reverse("system:directory") + f"?gemeinde={world.case.municipality_id}" in case_page
    found = client.get(reverse("system:directory"), {"gemeinde": world.case.municipality_id, "thema": topic.pk})
    text = found.content.decode()
    assert "Kita-Lotsen" in text and "Alte Beratung" not in text
    assert "Alte Beratung" in client.get(reverse("system:directory"), {"alle": "1"}).content.decode()
    assert "Kita-Lotsen" not in client.get(reverse("system:directory"), {"q": "Schuldner"}).content.decode()
    assert current.pk


def test_the_directory_exports_csv_json_and_the_integreat_import(client, world):
    service(world, name="=HYPERLINK(\"x\")", description="Beratung")
    service(world, name="Offene Sprechstunde", opening_hours="nach Vereinbarung")
    client.force_login(world.insider)
    rows = list(csv.reader(io.StringIO(client.get(reverse("system:directory-csv")).content.decode("utf-8-sig")),
                           delimiter=";"))
    assert rows[0][0] == "name" and {"'=HYPERLINK(\"x\")", "Offene Sprechstunde"} <= {r[0] for r in rows[1:]}
    document = json.loads(client.get(reverse("system:directory-json")).content)
    assert document["schema"] == "kim-angebote" and document["version"] == 1
    assert {s["name"] for s in document["services"]} == {"=HYPERLINK(\"x\")", "Offene Sprechstunde"}
    assert document["services"][0]["address"]["postcode"] == "40822"
    integreat = list(csv.DictReader(io.StringIO(client.get(reverse("system:directory-integreat")).content.decode())))
    by_name = {row["name"]: row for row in integreat}
    regular = by_name["Offene Sprechstunde"]
    assert regular["monday_closed"] == "yes" and regular["phone_number"] == "0210499 01".replace(" ", "")
    hyperlink = by_name["'=HYPERLINK(\"x\")"]
    assert (hyperlink["monday_start"], hyperlink["monday_end"], hyperlink["friday_end"]) == ("09:00", "12:00", "13:00")
    assert hyperlink["saturday_closed"] == "yes" and hyperlink["location_on_map"] == "no"
    printable = client.get(reverse("system:directory-print")).content.decode()
    assert "Offene Sprechstunde" in printable


@pytest.mark.parametrize(("text", "hours"), [
    ("Mo–Do 9–12 Uhr, Fr 9:30–13 Uhr", {0: ("09:00", "12:00"), 3: ("09:00", "12:00"), 4: ("09:30", "13:00")}),
    ("Di 14-17", {1: ("14:00", "17:00")}),
    ("", {}),
    ("nach Vereinbarung", None),
    ("Mo 9–12 Uhr, Mo 14–16 Uhr", None),  # Integreat takes one slot per day
    ("Mo 12–9 Uhr", None),
])
def test_opening_hours_for_integreat(text, hours):
    parsed = directory.weekly_hours(text)
    assert parsed == hours if hours is None else {k: parsed[k] for k in hours} == hours


def test_a_service_with_a_bad_postcode_keeps_the_input(client, world):
    client.force_login(world.coordination)
    answer = client.post(reverse("system:record-new", args=["angebote"]),
                         {"name": "Beratung", "provider_name": "AWO", "postcode": "4082"})
    assert answer.status_code == 422 and "fünf Ziffern" in answer.content.decode()
    with scopes_disabled():
        assert not Service.objects.exists()


# ---------------------------------------------------------------- R11, R12, committee paper


def reported(world, count, status="answered"):
    with scope(district=world.district.pk):
        for index in range(count):
            report = services.send_need_report(world.insider, {
                "challenge": f"Problem Nummer {index}", "frequency": "once", "legal_domains": ["sgb2"]})
            services.triage_need_report(world.coordination, report, status, response=f"Lösung {index}")
    with scopes_disabled():
        NeedReport.objects.update(sent_at=timezone.make_aware(timezone.datetime(LAST_YEAR, 5, 1, 10)))


def r11(user):
    with scope(district=user.district_id):
        return build_table(user, "R11", year_question(LAST_YEAR, date(LAST_YEAR, 12, 31)))


def test_r11_counts_and_lists_problems_with_their_answers(world):
    reported(world, 6)
    table = r11(world.coordination)
    rows = {row.key: row for row in table.rows}
    assert rows["total"].values["n@0"] == 6 and rows["s:answered"].values["n@0"] == 6
    assert rows["d:sgb2"].values["n@0"] == 6
    problems = [row for row in table.rows if str(row.key).startswith("r:")]
    assert [row.label for row in problems] == [f"Problem Nummer {i}" for i in range(6)]
    assert problems[0].values["response@0"] == "Lösung 0"


def test_r11_withholds_the_list_when_it_would_show_a_small_count(world):
    reported(world, 2)
    table = r11(world.steering)
    assert not any(str(row.key).startswith("r:") for row in table.rows)
    assert any(row.key == "few" for row in table.rows)
    assert "total" in {row.key for row in table.rows if "n@0" in row.suppressed}
    assert any(str(row.key).startswith("r:") for row in r11(world.insider).rows)  # the author's own


@pytest.mark.parametrize("fmt", ["xlsx", "docx", "pdf", "csv", "json"])
def test_r11_and_r12_are_read_back_in_every_format(world, chain, fmt):
    reported(world, 6)
    for report_id, expected in (("R11", "Problem Nummer 3"), ("R12", "Projektgruppe DELFIN 4 wird eingerichtet.")):
        with scope(district=world.district.pk):
            table = build_table(world.coordination, report_id, year_question(LAST_YEAR, date(LAST_YEAR, 12, 31)))
            content = render(table, fmt)
        assert expected in read_back(content, fmt), (report_id, fmt)


def read_back(content, fmt) -> str:
    if fmt == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(content))
        return "\n".join(str(cell.value) for sheet in book for row in sheet.iter_rows() for cell in row if cell.value)
    if fmt == "docx":
        from docx import Document

        document = Document(io.BytesIO(content))
        return "\n".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)
    if fmt == "pdf":
        if shutil.which("pdftotext") is None:
            pytest.fail("pdftotext (poppler-utils) is needed; `make test` installs it")
        text = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()
        return " ".join(text.replace("-\n", "").split())  # a cell's text wraps in the PDF
    return content.decode("utf-8-sig")


def test_r12_is_for_coordination_and_steering_only(client, world, chain):
    for user, status in ((world.steering, 200), (world.insider, 422), (world.district_admin, 422)):
        client.force_login(user)
        assert client.get(reverse("reports:report", args=["R12"])).status_code == status
    client.force_login(world.district_admin)
    assert "R12" not in client.get(reverse("reports:index")).content.decode()


def test_a_committee_paper_shows_a_meetings_decisions(world, chain):
    from kim.reports import services as report_services
    from kim.reports.paper import paper_tables, render_docx

    _theme, meeting, *_rest = chain
    with scope(district=world.district.pk):
        paper = report_services.create_paper(world.coordination, title="Sachstand", year=LAST_YEAR,
                                             reference_date=date(LAST_YEAR, 12, 31), report_ids=["R12"],
                                             meeting=meeting, introduction="", closing="", template=None)
        tables = paper_tables(paper, world.coordination)
        content = render_docx(paper, tables, "Datenstand")
    from docx import Document

    text = "\n".join(cell.text for t in Document(io.BytesIO(content)).tables for r in t.rows for cell in r.cells)
    assert text.count("Projektgruppe DELFIN 4 wird eingerichtet.") == 2  # R12 and the meeting's decisions
    assert "DELFIN 4" in text


# ---------------------------------------------------------------- the board and the demo


def test_the_board_shows_what_is_new_and_due(client, world, chain):
    theme, meeting, decision, group, measure = chain
    with scope(district=world.district.pk):
        services.send_need_report(world.insider, {"challenge": "Keine Kitaplätze", "frequency": "once"})
    save(world, Meeting, {"held_on": timezone.localdate() + timedelta(days=7), "location": "Kreishaus"})
    client.force_login(world.coordination)
    page = client.get(reverse("reports:dashboard")).content.decode()
    assert "1 neue Bedarfsmeldung" in page and "Kreishaus" in page and "Sprachförderkräfte" in page  # overdue
    client.force_login(world.steering)
    page = client.get(reverse("reports:dashboard")).content.decode()
    assert "Kreishaus" in page and "Keine Kitaplätze" not in page
    client.force_login(world.lead)
    assert "Systemebene" not in client.get(reverse("reports:dashboard")).content.decode()


def test_the_demo_has_a_system_level(db):
    from kim.demo import build_demo_district

    result = build_demo_district(slug="demo-system", size=0.1, seed=3)
    assert result.counts["need_reports"] >= 20 and result.counts["services"] >= 40
    with scopes_disabled():
        themes = Theme.objects.filter(district=result.district)
        assert {t.status for t in themes} == set(Theme.Status.values)
        assert Meeting.objects.filter(district=result.district).count() == 4
        assert Measure.objects.filter(district=result.district).exclude(indicator="").count() == 5
        assert ReferralSource.objects.filter(district=result.district).exists()


# ---------------------------------------------------------------- what the outside attack found


@pytest.mark.parametrize("url, persona", [
    ("/systemebene/angebote/?gemeinde=99999999999999999999", "coordination"),
    ("/systemebene/angebote/?thema=%C2%B2", "insider"),
    ("/systemebene/angebote/export.csv?gemeinde=99999999999999999999", "steering"),
    ("/systemebene/angebote/integreat.csv?thema=99999999999999999999", "coordination"),
    ("/systemebene/angebote/druck/?gemeinde=%C2%B2", "coordination"),
    ("/systemebene/bedarfe/neu/?fall=%C2%B2", "insider"),
    ("/fallarbeit/?q=F-%C2%B2", "insider"),
])
def test_an_id_that_is_no_id_is_ignored_or_not_found_never_a_500(client, world, url, persona):
    client.force_login(world.personas()[persona])
    assert client.get(url).status_code in (200, 404)


@pytest.mark.parametrize("slug, data", [
    ("arbeitsgruppen", {"name": "X", "status": "active", "members": ["99999999999999999999"]}),
    ("arbeitsgruppen", {"name": "X", "status": "active", "members": ["²"]}),
    ("fallrekonstruktionen", {"held_on": "2025-01-01", "focus": "X", "vignette": "Y", "themes": ["99999999999999999999"]}),
    ("angebote", {"name": "X", "provider_name": "Y", "topics": ["99999999999999999999"]}),
])
def test_a_choice_of_records_with_a_malformed_id_is_refused(client, world, slug, data):
    client.force_login(world.coordination)
    response = client.post(reverse("system:record-new", args=[slug]), data, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422 and "gültig" in response.content.decode()


@pytest.mark.parametrize("slug, data, words", [
    ("massnahmen", {"title": "M", "owner": "X", "status": "planned", "starts_on": "1025-02-01"}, "zwischen 1990 und 2100"),
    ("massnahmen", {"title": "M", "owner": "X", "status": "planned", "starts_on": "2025-02-01",
                    "due_on": "2024-01-01"}, "vor dem Beginn"),
    ("sitzungen", {"held_on": "9999-12-31"}, "zwischen 1990 und 2100"),
    ("vereinbarungen", {"title": "V", "partners": "P", "form": "written", "status": "in_force",
                        "concluded_on": "2025-01-01", "review_on": "2024-01-01"}, "Überprüfung"),
])
def test_implausible_dates_are_refused(client, world, slug, data, words):
    client.force_login(world.coordination)
    response = client.post(reverse("system:record-new", args=[slug]), data, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422 and words in response.content.decode(), response.content.decode()[-3000:]
    with scopes_disabled():
        assert not Measure.objects.exists() and not Meeting.objects.exists()


def test_votes_are_plausible(world, chain):
    _theme, meeting, *_rest = chain
    with scope(district=world.district.pk), translation.override("de"):
        for values, words in (({"mode": "consensus", "votes_against": 2}, "Konsens"),
                              ({"mode": "vote", "votes_for": 40000}, "Höchstens 999")):
            with pytest.raises(ValidationError) as refused:
                services.save_record(world.coordination, Decision, {"text": "B", "follow_up": "none", **values},
                                     meeting=meeting)
            assert words in str(refused.value)


def test_a_measure_with_a_year_the_reports_cannot_ask_keeps_its_pages(client, world, chain):
    theme, _meeting, _decision, _group, measure = chain
    with scopes_disabled():
        Measure.objects.filter(pk=measure.pk).update(starts_on=date(1025, 2, 1), indicator="R2|total")
    client.force_login(world.coordination)
    assert client.get(reverse("system:record", args=["massnahmen", measure.pk])).status_code == 200
    assert client.get(reverse("system:theme", args=[theme.pk])).status_code == 200


def test_an_item_sent_twice_is_added_once(client, world, chain):
    _theme, meeting, *_rest = chain
    client.force_login(world.coordination)
    url = reverse("system:item-new", args=["tagesordnung", meeting.pk])
    data = {"position": "5", "title": "Bericht der Arbeitsgruppe"}
    assert client.post(url, data).status_code == 302
    second = client.post(url, data, HTTP_ACCEPT_LANGUAGE="de")
    assert second.status_code == 422 and "schon" in second.content.decode()
    with scopes_disabled():
        assert AgendaItem.objects.filter(meeting=meeting, position=5).count() == 1


def test_a_paper_with_the_system_level_is_read_only_by_who_reads_the_system_level(client, world, chain, module3):
    from kim.reports import services as report_services
    from kim.reports.models import RenderJob

    _theme, meeting, *_rest = chain
    with scope(district=world.district.pk):
        inner = report_services.create_paper(world.coordination, title="Systemebene", year=LAST_YEAR,
                                             reference_date=date(LAST_YEAR, 12, 31), report_ids=["R1", "R11"],
                                             meeting=meeting, introduction="", closing="", template=None)
        plain = report_services.create_paper(world.coordination, title="Fallarbeit", year=LAST_YEAR,
                                             reference_date=date(LAST_YEAR, 12, 31), report_ids=["R1"],
                                             meeting=None, introduction="", closing="", template=None)
    with scopes_disabled():
        job = RenderJob.objects.create(district=world.district, paper=inner, format="docx", requested_by=world.coordination,
                                       status=RenderJob.Status.DONE, result=b"x", report_ids=["R1", "R11"],
                                       shows_meeting=True)
    for user, sees in ((world.coordination, True), (world.steering, True), (world.district_admin, False),
                       (module3, False)):
        client.force_login(user)
        listed = client.get(reverse("reports:papers")).content.decode()
        assert ("Systemebene" in listed) is sees and "Fallarbeit" in listed, user
        assert client.get(reverse("reports:paper", args=[inner.pk])).status_code == (200 if sees else 404)
        assert client.get(reverse("reports:job-download", args=[job.pk])).status_code == (200 if sees else 404)
        assert client.get(reverse("reports:paper", args=[plain.pk])).status_code == 200
    # The paper changed to case work only after it was rendered: the rendering still shows R11.
    with scope(district=world.district.pk):
        report_services.update_paper(world.coordination, inner, {"report_ids": ["R1"], "meeting": None})
    client.force_login(world.district_admin)
    assert client.get(reverse("reports:paper", args=[inner.pk])).status_code == 200
    assert client.get(reverse("reports:job-download", args=[job.pk])).status_code == 404
    assert f"/auftrag/{job.pk}/" not in client.get(reverse("reports:paper", args=[inner.pk])).content.decode()


def test_a_phone_number_stays_a_phone_number_and_a_formula_does_not(world):
    from kim.core.cells import neutralise

    assert neutralise("+49 2104 99000") == "+49 2104 99000"
    assert neutralise("+49 (0)2104/99-000") == "+49 (0)2104/99-000"
    for formula in ("+1+2", "+SUM(A1)", "+49 2104;=1", "=1", "-2+3", "@A1", "+cmd|' /C calc'!A0"):
        assert neutralise(formula).startswith("'"), formula


def test_a_need_report_sent_twice_is_received_once(world):
    values = {"challenge": "Kinder finden  vor der Einschulung keinen Sprachkurs.", "legal_domains": ["sgb8"]}
    with scope(district=world.district.pk), translation.override("de"):
        services.send_need_report(world.insider, dict(values))
        with pytest.raises(ValidationError) as refused:
            services.send_need_report(world.insider, {**values, "challenge": " Kinder finden vor der Einschulung "
                                                                             "keinen Sprachkurs."})
        assert "schon gesendet" in str(refused.value)
        assert NeedReport.objects.filter(author=world.insider).count() == 1


def test_a_web_address_that_closes_an_attribute_is_refused(client, world):
    client.force_login(world.coordination)
    response = client.post(reverse("system:record-new", args=["angebote"]), {
        "name": "Beratung", "provider_name": "Träger", "website": 'https://example.org/"><script>alert(4)</script>'},
        HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422
    with scopes_disabled():
        assert not Service.objects.exists()


def test_r13_has_no_figures_per_provider(client, world):
    client.force_login(world.coordination)
    response = client.get(reverse("reports:report", args=["R13"]), {"year": str(LAST_YEAR),
                                                                     "provider": world.provider.pk},
                          HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422 and "nicht zu Trägern" in response.content.decode()
