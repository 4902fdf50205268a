"""Report downloads never carry a formula: labels of catalogues, names of staff, providers and
municipalities come from users, and a spreadsheet would run `=HYPERLINK(...)` as a link."""

import csv
import io
import subprocess
from datetime import date

import pytest
from django_scopes import scope, scopes_disabled

from kim.core.cells import FORMULA_SIGNS
from kim.core.models import Role, TargetGroup, Topic
from kim.reports.framework import ReportParams, build_table
from kim.reports.periods import Period
from kim.reports.renderers import render

from .factories import (
    AppointmentFactory,
    CaseFactory,
    MunicipalityFactory,
    ParticipantFactory,
    ProviderFactory,
    UserFactory,
    make_district,
)

YEAR = 2023
HOSTILE = {
    "target group": '=HYPERLINK("http://x","y")',
    "staff": "+1",
    "colleague": "@SUM(A1)",
    "provider": "-2",
    "municipality": "\t=1+1",
    "topic": "\r=2+2",
}


@pytest.fixture
def hostile_district(db):
    district = make_district("Kreis Formel")
    provider = ProviderFactory(district=district, name=HOSTILE["provider"])
    town = MunicipalityFactory(district=district, name=HOSTILE["municipality"])
    manager = UserFactory(district=district, provider=provider, role=Role.CASE_MANAGER,
                          first_name=HOSTILE["staff"], last_name="")
    UserFactory(district=district, provider=provider, role=Role.CASE_MANAGER,
                first_name=HOSTILE["colleague"], last_name="")
    lead = UserFactory(district=district, provider=provider, role=Role.PROVIDER_LEAD)
    with scopes_disabled():
        group = TargetGroup.objects.filter(district=district).first()
        group.label = HOSTILE["target group"]
        group.save()
        topic = Topic.objects.filter(district=district).first()
        topic.label = HOSTILE["topic"]
        topic.save()
    participant = ParticipantFactory(responsible=manager, municipality=town)
    case = CaseFactory(participant=participant, target_group=group, municipality=town, opened_on=date(YEAR, 2, 1))
    appointment = AppointmentFactory(case=case, date=date(YEAR, 3, 1))
    with scopes_disabled():
        appointment.topics.set([topic])
    return lead, town


def tables(lead, town):
    params = ReportParams(Period.of("year", YEAR), date(YEAR, 6, 30), municipality_id=town.pk)
    with scope(district=lead.district_id):
        return [build_table(lead, report_id, params) for report_id in ("R2", "R3", "R10", "R15")]


def every_text(values):
    return [v for v in values if isinstance(v, str) and v]


def test_no_csv_cell_begins_with_a_formula_sign(hostile_district):
    content = render(tables(*hostile_district), "csv").decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(content), delimiter=";") for cell in row]
    for text in HOSTILE.values():
        assert "'" + text in cells, f"{text!r} should be in the CSV, neutralised"
    assert not [c for c in every_text(cells) if c.startswith(FORMULA_SIGNS)]


def test_no_xlsx_cell_is_a_formula_or_begins_with_a_formula_sign(hostile_district):
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(render(tables(*hostile_district), "xlsx")))
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = every_text(c.value for c in cells)
    for text in HOSTILE.values():
        assert "'" + text in texts, f"{text!r} should be in the XLSX, neutralised"
    assert not [t for t in texts if t.startswith(FORMULA_SIGNS)]


def test_word_and_pdf_keep_the_labels_as_plain_text(hostile_district):
    """No spreadsheet reads DOCX or PDF: the text stays as it was entered, escaped, not run."""
    from docx import Document

    result = tables(*hostile_district)
    document = Document(io.BytesIO(render(result, "docx")))
    word_cells = {cell.text.strip() for table in document.tables for row in table.rows for cell in row.cells}
    assert HOSTILE["target group"] in word_cells and HOSTILE["provider"] in word_cells
    pdf = subprocess.run(["pdftotext", "-", "-"], input=render(result, "pdf"), capture_output=True, check=True)
    assert 'HYPERLINK("http://x","y")' in pdf.stdout.decode()
