"""Files made to exhaust the process that reads them (issue 9, items 9 and 10).

The extent of every sheet is read with an XML parser, so that no way of writing the XML hides
a far cell; rows × columns of all sheets together are bounded before a parser reserves memory;
a sheet that is not imported is never loaded; and whatever still explodes inside the parser
ends in a bounded child process, never in the web or worker process."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kim.core.sandbox import run_bounded_measured
from kim.exchange import readers
from kim.exchange.models import ImportRun
from kim.exchange.readers import FileRefused, read_sheets, survey

from .crafted_files import MAIN, dense_sheet, repeated_long_string, worksheet, xlsx_from_xml

HEADER_ROW = '<row r="1"><c r="A1" t="inlineStr"><is><t>Datum</t></is></c></row>'
FAR_ROW, FAR_COLUMN = 1_048_576, 16_384  # XFD1048576, the last cell Excel has


def in_namespace(rows_xml: str, prefix: str) -> str:
    """A worksheet of `rows_xml`, written with `{p}` where an element's prefix goes: none (the
    default namespace) or "x:" (a prefix bound to the same namespace, as some tools write it)."""
    rows_xml = rows_xml.replace("{p}", prefix)
    if not prefix:
        return worksheet(rows_xml)
    name = prefix.rstrip(":")
    return f'<{prefix}worksheet xmlns:{name}="{MAIN}"><{prefix}sheetData>{rows_xml}</{prefix}sheetData></{prefix}worksheet>'


P_HEADER_ROW = '<{p}row r="1"><{p}c r="A1" t="inlineStr"><{p}is><{p}t>Datum</{p}t></{p}is></{p}c></{p}row>'

# ---------------------------------------------------------------- item 9: the extent, however written

VARIANTS = {
    "newline before the value": f'<{{p}}row r="{FAR_ROW}"><{{p}}c r="XFD{FAR_ROW}"\n t="n">\n<{{p}}v>1</{{p}}v></{{p}}c></{{p}}row>',
    "single quotes": f"<{{p}}row r='{FAR_ROW}'><{{p}}c r='XFD{FAR_ROW}'><{{p}}v>1</{{p}}v></{{p}}c></{{p}}row>",
    "spaces around the equals sign":
        f'<{{p}}row r = "{FAR_ROW}" ><{{p}}c  s = "0"   r = "XFD{FAR_ROW}" ><{{p}}v>1</{{p}}v></{{p}}c></{{p}}row>',
    "lower case reference": f'<{{p}}row r="{FAR_ROW}"><{{p}}c r="xfd{FAR_ROW}"><{{p}}v>1</{{p}}v></{{p}}c></{{p}}row>',
    "inline string": f'<{{p}}row r="{FAR_ROW}"><{{p}}c r="XFD{FAR_ROW}" t="inlineStr"><{{p}}is><{{p}}t>x</{{p}}t>'
                     '</{p}is></{p}c></{p}row>',
    "formula without value": f'<{{p}}row r="{FAR_ROW}"><{{p}}c r="XFD{FAR_ROW}"><{{p}}f>1+1</{{p}}f></{{p}}c></{{p}}row>',
    "comment before the value":
        f'<{{p}}row r="{FAR_ROW}"><{{p}}c r="XFD{FAR_ROW}"><!-- x --><{{p}}v>1</{{p}}v></{{p}}c></{{p}}row>',
    "value in CDATA": f'<{{p}}row r="{FAR_ROW}"><{{p}}c r="XFD{FAR_ROW}"><{{p}}v><![CDATA[1]]></{{p}}v></{{p}}c></{{p}}row>',
    "row reference only": f'<{{p}}row r="{FAR_ROW}"><{{p}}c><{{p}}v>1</{{p}}v></{{p}}c></{{p}}row>',
    "far column in the first row": '<{p}row r="1"><{p}c r="XFD1"><{p}v>1</{p}v></{p}c></{p}row>',
    "cell reference without a row reference": f'<{{p}}row><{{p}}c r="XFD{FAR_ROW}"><{{p}}v>1</{{p}}v></{{p}}c></{{p}}row>',
    "prefixed attribute":
        f'<{{p}}row r="{FAR_ROW}"><{{p}}c y:r="XFD{FAR_ROW}" xmlns:y="urn:y"><{{p}}v>1</{{p}}v></{{p}}c></{{p}}row>',
}


@pytest.mark.parametrize("rows_xml", VARIANTS.values(), ids=VARIANTS.keys())
@pytest.mark.parametrize("prefix", ["", "x:"], ids=["default namespace", "namespace prefix"])
def test_one_far_cell_in_a_tiny_file_is_refused_however_its_xml_is_written(rows_xml, prefix):
    data = xlsx_from_xml({"Termine": in_namespace(P_HEADER_ROW + rows_xml, prefix)})
    assert len(data) < 2000
    with pytest.raises(FileRefused, match="reicht mindestens bis (Zeile 1.048.576|Spalte 16.384)"):
        survey(data, "klein.xlsx")


QUOTES = st.sampled_from(['"', "'"])
GAPS = st.sampled_from(["", " ", "\n", "\t", "\r\n  "])
VALUES = st.sampled_from(["<{p}v>7</{p}v>", "<{p}is><{p}t>x</{p}t></{p}is>", "<{p}f>1+1</{p}f>",
                          "<{p}f>1+1</{p}f><{p}v>2</{p}v>", "<{p}v>\n7\n</{p}v>"])


@st.composite
def sheet_with_one_cell(draw, rows, columns, positional=True):
    """A worksheet with a header and one value at a generated (row, column), written in one of
    many ways: quotes, line breaks, attribute order, reference case, value kind, prefix, and
    (near A1 only) with the position given by preceding cells and rows instead of a reference."""
    row, column = draw(rows), draw(columns)
    quote, gap = draw(QUOTES), draw(GAPS)
    letters = readers_letters(column)
    if draw(st.booleans()):
        letters = letters.lower()
    extra = draw(st.lists(st.sampled_from(["s=Q0Q", "t=QnQ", "customFormat=Q1Q"]), max_size=2, unique=True))
    attributes = [attribute.replace("Q", quote) for attribute in extra]
    by_position = positional and draw(st.booleans())
    before = ""
    if by_position:  # no reference: the cell's place is its position
        before = "<{p}c/>" * (column - 1)
    else:
        attributes.append(f"r={quote}{letters}{row}{quote}")
        draw(st.randoms()).shuffle(attributes)
    opening = "<{p}c" + "".join(f"{gap} {attribute}" for attribute in attributes) + f"{gap}>"
    cell = f"{opening}{gap}{draw(VALUES)}{gap}</{{p}}c>"
    row_reference = "" if by_position and draw(st.booleans()) else f" r={quote}{row}{quote}"
    filler = "<{p}row/>" * (row - 2) if not row_reference else ""
    rows_xml = P_HEADER_ROW + filler + f"<{{p}}row{row_reference}>{before}{cell}</{{p}}row>"
    return in_namespace(rows_xml, draw(st.sampled_from(["", "x:"])))


def readers_letters(column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def extents_of(data: bytes):
    archive = zipfile.ZipFile(io.BytesIO(data))
    return readers._xlsx_extents(archive, set(archive.namelist()))[0]


FAR_ROWS = st.integers(readers.MAX_ROWS + 51, FAR_ROW)
FAR_COLUMNS = st.integers(readers.MAX_COLUMNS + 1, FAR_COLUMN)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(sheet_with_one_cell(FAR_ROWS, st.integers(1, 30), positional=False),
                 sheet_with_one_cell(st.integers(2, 30), FAR_COLUMNS, positional=False)))
def test_generated_far_cells_are_always_refused_before_any_parser_sees_them(sheet):
    """Only the extent check runs here (no parser): a far cell that slipped through would
    make the parser in this process ask for gigabytes."""
    with pytest.raises(FileRefused, match="reicht mindestens bis"):
        extents_of(xlsx_from_xml({"Termine": sheet}))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheet_with_one_cell(st.integers(2, 40), st.integers(1, 40)))
def test_the_extent_is_never_smaller_than_what_the_parser_reads(sheet):
    """Near A1 the parser may run here: whatever it reads must lie inside the extent the
    check found, or the check would let a far cell through."""
    import python_calamine as calamine

    data = xlsx_from_xml({"Termine": sheet})
    extent = extents_of(data)["Termine"]
    try:
        rows = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("Termine").to_python(
            skip_empty_area=False)
    except calamine.CalamineError:
        return  # the parser refuses the file: nothing is reserved
    filled = [(r, c) for r, row in enumerate(rows, 1) for c, value in enumerate(row, 1) if value not in ("", None)]
    assert all(r <= extent.rows and c <= extent.columns for r, c in filled), (extent, filled)


def test_a_small_file_that_makes_the_parser_ask_for_gigabytes_is_refused_and_this_process_lives_on():
    """Within every limit of rows, columns and unpacked size: one shared string of 5,000
    characters in 400,000 cells, which the parser copies into each (2 GB)."""
    data = repeated_long_string(200_000, 2, 5000)
    assert len(data) < 50_000
    with pytest.raises(FileRefused, match="mehr als 1.024 MB Arbeitsspeicher"):
        survey(data, "klein.xlsx")
    with pytest.raises(FileRefused, match="mehr als 1.024 MB Arbeitsspeicher"):
        read_sheets(data, "klein.xlsx", ["Termine"])


def test_such_an_upload_gets_a_german_message_on_the_page_and_leaves_no_run(client, world):
    client.force_login(world.insider)
    response = client.post(reverse("exchange:imports"), {
        "file": SimpleUploadedFile("akten.xlsx", repeated_long_string(200_000, 2, 5000)),
        "case_manager": world.insider.pk, "mapping_name": "Standard"})
    assert response.status_code == 422
    assert "Arbeitsspeicher" in response.content.decode()
    with scopes_disabled():
        assert not ImportRun.objects.exists()


def test_a_sheet_that_is_not_imported_is_never_loaded():
    """A hidden sheet that would need gigabytes: the file is surveyed and its other sheet read."""
    data = xlsx_from_xml(
        {"Termine": worksheet(HEADER_ROW + '<row r="2"><c r="A2"><v>45000</v></c></row>'),
         "Alt": dense_sheet(200_000, 2)},
        shared_strings=["x" * 5000], hidden=("Alt",))
    found = survey(data, "zwei.xlsx")
    assert [(s.name, s.visible, bool(s.head)) for s in found.sheets] == [("Termine", True, True), ("Alt", False, False)]
    assert read_sheets(data, "zwei.xlsx", ["Termine"])["Termine"].rows == [["Datum"], [45000]]


# ---------------------------------------------------------------- item 10: rows × columns × sheets

def far_value(row: int, column: int) -> str:
    return worksheet(HEADER_ROW + f'<row r="{row}"><c r="{readers_letters(column)}{row}"><v>1</v></c></row>')


def test_a_tiny_sheet_within_the_row_and_column_limits_is_refused_when_its_rectangle_is_too_large():
    """One value at row 200,000 and column 200 is within both limits, but the parser would
    reserve 40 million cells (2 GB) for it."""
    data = xlsx_from_xml({"Termine": far_value(readers.MAX_ROWS, readers.MAX_COLUMNS)})
    assert len(data) < 1600
    with pytest.raises(FileRefused, match="mehr als 4.000.000 Zellen"):
        survey(data, "klein.xlsx")


def test_sheets_are_bounded_together_not_one_by_one():
    rows = readers.MAX_ROWS
    columns = readers.MAX_CELLS // (10 * rows)  # ten such sheets fill the limit exactly
    ten = {f"Blatt {i}": far_value(rows, columns) for i in range(10)}
    assert [s.name for s in survey(xlsx_from_xml(ten), "zehn.xlsx").sheets] == list(ten)
    with pytest.raises(FileRefused, match="mehr als 4.000.000 Zellen"):
        survey(xlsx_from_xml({**ten, "Blatt 10": far_value(rows, columns)}), "elf.xlsx")


def test_a_csv_with_too_many_cells_is_refused():
    data = ("Datum" + ";" * 149 + "\r\n" + ";" * 150 + "\r\n") * 15_000
    with pytest.raises(FileRefused, match="mehr als 4.000.000 Zellen"):
        read_sheets(data.encode(), "viele.csv", ["CSV"])


PARSER_CEILING_MB = readers.READ_MEMORY_MB
HOLDING_CEILING_MB = 300  # README, "Data in and out"


def test_the_largest_file_the_limits_admit_is_read_within_the_stated_memory():
    """200,000 rows × 20 columns of distinct numbers: the most objects the limits allow. The
    parser's child stays under its limit (so the file is read, not refused), and the
    importing process holds the rows in less than the README says."""
    rows = "".join("<row>" + "".join(f"<c><v>{1_000_000 + r * 20 + c}.5</v></c>" for c in range(20)) + "</row>"
                   for r in range(readers.MAX_ROWS))
    data = xlsx_from_xml({"Termine": worksheet(rows)})
    assert len(data) < readers.MAX_UPLOAD_BYTES
    parser = run_bounded_measured("kim.exchange.readers:read_in_child", data, "gross.xlsx", ["Termine"],
                                  memory_mb=PARSER_CEILING_MB, cpu_seconds=readers.READ_CPU_SECONDS)
    assert parser.peak_mb < PARSER_CEILING_MB
    holding = run_bounded_measured("tests.sandbox_targets:read_upload", data, "gross.xlsx", ["Termine"],
                                   memory_mb=4096, cpu_seconds=readers.READ_CPU_SECONDS * 2)
    baseline = run_bounded_measured("tests.sandbox_targets:import_readers", memory_mb=4096, cpu_seconds=30)
    assert holding.value == {"Termine": readers.MAX_ROWS}
    assert holding.peak_mb - baseline.peak_mb < HOLDING_CEILING_MB, (holding.peak_mb, baseline.peak_mb)


# ---------------------------------------------------------------- attack findings: targets, empty cells, NUL

def far_sheet() -> str:
    return worksheet(HEADER_ROW + f'<row r="{FAR_ROW}"><c r="XFD{FAR_ROW}"><v>1</v></c></row>')


@pytest.mark.parametrize("target, member", [
    ("foo/../worksheets/x.xml", "xl/foo/../worksheets/x.xml"),  # calamine reads the literal member
    ("/xl/worksheets/../worksheets/x.xml", "xl/worksheets/../worksheets/x.xml"),
    ("Worksheets/X.xml", "xl/worksheets/x.xml"),
    ("elsewhere/sheet.xml", "xl/elsewhere/sheet.xml"),
], ids=["dot-dot segment", "absolute with dot-dot", "other case", "outside worksheets"])
def test_a_far_cell_is_found_wherever_the_relation_points(target, member):
    data = xlsx_from_xml({"Termine": far_sheet()}, parts={1: (target, member)})
    with pytest.raises(FileRefused, match="reicht mindestens bis"):
        survey(data, "umweg.xlsx")


def test_a_sheet_whose_target_is_missing_is_refused():
    data = xlsx_from_xml({"Termine": worksheet(HEADER_ROW)}, parts={1: ("worksheets/fehlt.xml", "xl/anders.xml")})
    with pytest.raises(FileRefused, match="das in der Datei fehlt"):
        survey(data, "fehlt.xlsx")


def test_millions_of_empty_cells_are_refused_without_parsing_them_all():
    """Empty <c/> reserve nothing, but 37 million of them kept a request busy for 45 seconds."""
    import time

    data = xlsx_from_xml({"Termine": worksheet(HEADER_ROW + "<row>" + "<c/>" * 20_000_000 + "</row>")})
    assert len(data) < readers.MAX_UPLOAD_BYTES
    began = time.process_time()
    with pytest.raises(FileRefused, match="mehr als 4.000.000 Zellen oder Zeilen"):
        survey(data, "leer.xlsx")
    assert time.process_time() - began < 20  # the limit stops it after 4 million, not at the end


@pytest.mark.parametrize("data", [
    "Kennung;Vorname\r\nP1;An\x00na\r\n".encode("utf-16"),
    "Kennung;Vorname\r\nP1;Anna\r\n".encode("utf-32"),
    ("Kennung;Vorname\r\n" + "P1;Anna\r\n" * 1000 + "P2;\x00\r\n").encode("utf-8"),
], ids=["NUL in UTF-16", "UTF-32", "NUL after the first 4000 bytes"])
def test_csv_with_nul_characters_is_refused_or_read_right(data):
    try:
        rows = read_sheets(data, "nul.csv", ["CSV"])["CSV"].rows
    except FileRefused as refused:
        assert "Nullzeichen" in str(refused)
    else:
        assert rows[1] == ["P1", "Anna"] and not any("\x00" in str(cell) for row in rows for cell in row)
