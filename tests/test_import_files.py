"""Hostile and broken files: each gets a clear German message and changes nothing; the
formats (xlsx, xls, ods, csv in three encodings) are read by content, not by name."""

import io
import resource
import zipfile
from datetime import date

import pytest
import xlwt
from django_scopes import scope, scopes_disabled
from openpyxl import Workbook

from kim.casework.models import Appointment
from kim.exchange import checks, readers, writer
from kim.exchange.mapping import Table, parse_date, parse_number
from kim.exchange.models import ImportRun
from kim.exchange.readers import FileRefused, read_sheets, survey
from kim.exchange.services import run_import, start_import

HEADER = ["Fall-Kennung", "Datum", "Art", "komplex", "Dauer (Minuten)", "Themen", "Sprachmittlung"]


def xlsx(rows, title="Termine", **kwargs):
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for action in kwargs.values():
        action(book, sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def appointment_rows(world, n=2):
    day = world.case.opened_on
    return [HEADER] + [[world.case.number, day, "Beratung", "ja", 30 + i, "Wohnen", None] for i in range(n)]


def refused(data, filename, match):
    with pytest.raises(FileRefused, match=match):
        survey(data, filename)


def rows_of(data, filename, sheet):
    return read_sheets(data, filename, [sheet])[sheet].rows


def test_a_pdf_behind_an_xlsx_name_is_refused():
    refused(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 binary", "akten.xlsx", "endet auf .xlsx, ist aber keine Tabelle")


def test_an_empty_file_and_an_unknown_type_are_refused():
    refused(b"   ", "akten.csv", "leer")
    refused(b"hello", "akten.docx", "nicht unterstützt")


def test_a_word_document_is_not_a_table():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    refused(out.getvalue(), "akten.xlsx", "keine Tabelle")


def test_a_macro_workbook_is_refused():
    data = xlsx([["Datum"]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("xl/vbaProject.bin", b"\x00" * 100)
    refused(out.getvalue(), "akten.xlsm", "Makros")


def test_a_password_protected_workbook_is_refused():
    # What Excel writes for a workbook with a password: an OLE container with an encrypted package.
    data = readers.OLE_MAGIC + b"\x00" * 512 + "EncryptedInfo".encode("utf-16-le") + "EncryptedPackage".encode("utf-16-le")
    refused(data, "akten.xlsx", "Kennwort")


def test_a_zip_bomb_is_refused_by_its_real_unpacked_size():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (readers.MAX_UNPACKED_BYTES + 1024 * 1024))
    assert len(out.getvalue()) < 500_000
    refused(out.getvalue(), "bombe.xlsx", "entpackt größer")


def test_a_zip_bomb_that_lies_about_its_size_is_still_caught():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (readers.MAX_UNPACKED_BYTES + 1024 * 1024))
    data = bytearray(out.getvalue())
    # Patch the declared uncompressed size (local header and central directory) to 1 KB.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            name_length = int.from_bytes(data[start + (26 if signature == b"PK\x03\x04" else 28):][:2], "little")
            name = data[start + (30 if signature == b"PK\x03\x04" else 46):][:name_length]
            if name == b"xl/worksheets/sheet1.xml":
                data[start + offset:start + offset + 4] = (1024).to_bytes(4, "little")
            start += 4
    refused(bytes(data), "bombe.xlsx", "entpackt größer|beschädigt")


def test_too_many_rows_are_refused_before_they_are_held(monkeypatch):
    """In this process, with the limit made small (the child would not see the patched limit)."""
    monkeypatch.setattr(readers, "MAX_ROWS", 1000)
    with pytest.raises(FileRefused, match="reicht mindestens bis Zeile 1.051"):
        readers.survey_in_child(xlsx([["Datum"]] + [[i] for i in range(1200)]), "viel.xlsx")


@pytest.mark.parametrize("cell, match", [("XFD1048576", "bis Zeile 1.048.576"), ("XFD20", "bis Spalte 16.384")])
def test_one_far_away_cell_is_refused_before_a_parser_reserves_the_rectangle(cell, match):
    """A 5 KB file with one value at XFD1048576 would make the parser ask for hundreds of GB."""
    def far(book, sheet):
        sheet[cell] = "x"

    data = xlsx([HEADER], far=far)
    assert len(data) < 10_000
    refused(data, "klein.xlsx", match)


def test_styled_empty_cells_far_away_do_not_count():
    def styled(book, sheet):
        from openpyxl.styles import Font

        sheet["XFD300000"].font = Font(bold=True)  # formatting only, no value

    assert rows_of(xlsx([HEADER, ["F-1", "01.02.2024"]], styled=styled), "formatiert.xlsx", "Termine")[1][:2] == [
        "F-1", "01.02.2024"]


def test_repeated_rows_in_ods_are_counted_before_parsing():
    rows = [HEADER, ["F-1", date(2024, 2, 1), "Beratung", "ja", 30, "Wohnen", None]]
    data = ods_bytes(rows, lambda c: c.replace(
        '<table:table-row><table:table-cell office:value-type="string"><text:p>F-1',
        '<table:table-row table:number-rows-repeated="900000"><table:table-cell/></table:table-row>'
        '<table:table-row><table:table-cell office:value-type="string"><text:p>F-1'))
    assert b"900000" in data
    refused(data, "lang.ods", "bis Zeile 900.002")
    # Trailing empty repetitions, as LibreOffice writes them, are fine.
    tail = ods_bytes(rows, lambda c: c.replace("</table:table>", '<table:table-row table:number-rows-repeated="1048000">'
                                                                 '<table:table-cell table:number-columns-repeated="1024"/>'
                                                                 "</table:table-row></table:table>"))
    assert rows_of(tail, "libre.ods", "Termine")[1][0] == "F-1"


@pytest.mark.parametrize("value", ["1e999", "nan", "inf"])
def test_numbers_that_are_not_numbers_are_a_problem_not_a_crash(value):
    with pytest.raises(ValueError, match="keine Zahl"):
        parse_number(value)


def test_a_million_csv_rows_are_refused_with_bounded_memory():
    # Short rows, so that the file stays under the upload limit and the row limit is what stops it.
    data = ("Fall-Kennung;Datum;Dauer (Minuten)\r\n" + "F1;45000;30\r\n" * 1_000_000).encode()
    assert len(data) < readers.MAX_UPLOAD_BYTES
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(FileRefused, match="höchstens 200.000"):
        rows_of(data, "million.csv", "CSV")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 400, grown_mb


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_csv_in_the_usual_encodings_reads_umlauts(encoding):
    text = "Kennung;Vorname;Nachname\r\nP1;Jürgen;Öztürk-Weiß\r\n"
    assert rows_of(text.encode(encoding), "personen.csv", "CSV")[1] == ["P1", "Jürgen", "Öztürk-Weiß"]


def test_csv_with_commas_and_quotes():
    assert rows_of('Kennung,Vorname\r\n"P1","Anna, Maria"\r\n'.encode(), "p.csv", "CSV")[1] == ["P1", "Anna, Maria"]


def test_dates_and_numbers_in_every_usual_spelling():
    assert parse_date("31.12.2023") == parse_date("2023-12-31") == parse_date(45291) == parse_date("45291") == date(2023, 12, 31)
    assert parse_date("31.12.23") == date(2023, 12, 31)
    assert parse_date(date(2023, 12, 31)) == date(2023, 12, 31)
    for bad in ("31.02.2023", "gestern", "1.1.1800", 9_999_999, True):
        with pytest.raises(ValueError):
            parse_date(bad)
    assert parse_number("45,5") == 45.5 and parse_number("1.234,5") == 1234.5 and parse_number(30) == 30
    with pytest.raises(ValueError, match="keine Zahl"):
        parse_number("dreißig")


def test_hidden_sheets_are_listed_as_hidden_and_not_suggested(world):
    def hide(book, sheet):
        hidden = book.create_sheet("Termine alt")
        for row in appointment_rows(world):
            hidden.append(row)
        hidden.sheet_state = "hidden"

    data = xlsx(appointment_rows(world), title="Tabelle1", hide=hide)
    book = survey(data, "a.xlsx")
    assert [(s.name, s.visible) for s in book.sheets] == [("Tabelle1", True), ("Termine alt", False)]
    with scope(district=world.district.pk):
        run = start_import(world.insider, filename="a.xlsx", data=data)
    assert run.assignments["Termine"]["sheet"] == "Tabelle1"


def test_merged_cells_in_the_data_are_reported_per_row(world):
    def merge(book, sheet):
        sheet.merge_cells("E3:E4")

    data = xlsx([["Termine von Frau Muster"]] + appointment_rows(world, 3), merge=merge)
    with scope(district=world.district.pk):
        run = start_import(world.insider, filename="a.xlsx", data=data)
        run = run_import(run, commit=True)
    messages = [(p["row"], p["message"].split(".")[0]) for p in run.problems]
    assert messages == [(3, "Die Zeile enthält verbundene Zellen"), (4, "Die Zeile enthält verbundene Zellen")]
    assert run.status == ImportRun.Status.CHECKED


def test_formulas_are_read_as_their_values_with_a_warning(world):
    rows = appointment_rows(world, 1)
    rows[1][4] = "=20+25"  # written by openpyxl without a cached value: Excel would show 45
    data = xlsx(rows)
    with scope(district=world.district.pk):
        run = start_import(world.insider, filename="a.xlsx", data=data)
        assert any("Formeln" in w for w in run.warnings)
        run = run_import(run, commit=False)
    assert [(p["row"], p["column"], p["message"]) for p in run.problems] == [(2, "Dauer (Minuten)", "Pflichtangabe fehlt.")]


def test_empty_rows_between_records_are_skipped(world):
    rows = appointment_rows(world, 2)
    rows.insert(2, [None] * 7)
    rows.append([None] * 7)
    with scope(district=world.district.pk):
        run = run_import(start_import(world.insider, filename="a.xlsx", data=xlsx(rows)), commit=True)
    assert run.status == ImportRun.Status.DONE and run.summary["Termine"] == {"neu": 2}


def test_xls_and_ods_are_read_like_xlsx(world):
    rows = appointment_rows(world, 2)
    book = xlwt.Workbook()
    sheet = book.add_sheet("Termine")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, date):
                sheet.write(r, c, value, xlwt.easyxf(num_format_str="DD.MM.YYYY"))
            elif value is not None:
                sheet.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    assert survey(out.getvalue(), "alt.xls").format == "xls"
    assert rows_of(out.getvalue(), "alt.xls", "Termine")[1][:5] == [world.case.number, rows[1][1], "Beratung", "ja", 30]
    assert survey(ods_bytes(rows), "libre.ods").format == "ods"
    assert rows_of(ods_bytes(rows), "libre.ods", "Termine")[2][:5] == [world.case.number, rows[1][1], "Beratung", "ja", 31]


def ods_bytes(rows, transform=lambda content: content) -> bytes:
    """A minimal OpenDocument spreadsheet, as LibreOffice writes it (dates as office:date-value)."""
    def cell(value):
        if value is None:
            return "<table:table-cell/>"
        if isinstance(value, date):
            return (f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
                    f"<text:p>{value:%d.%m.%Y}</text:p></table:table-cell>")
        if isinstance(value, int):
            return f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}</text:p></table:table-cell>'
        return f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'

    body = "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in rows)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="Termine">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", transform(content))
        archive.writestr("META-INF/manifest.xml", manifest)
    return out.getvalue()


def test_a_csv_with_decimal_commas_imports(world):
    day = world.case.opened_on
    text = f"Fall-Kennung;Datum;Dauer (Minuten);Themen\r\n{world.case.number};{day:%d.%m.%Y};45,0;Wohnen; Familie\r\n"
    with scope(district=world.district.pk):
        run = start_import(world.insider, filename="t.csv", data=text.encode("cp1252"))
        run = run_import(run, commit=True)
        assert run.status == ImportRun.Status.DONE, run.problems
        assert world.case.appointments.filter(duration_minutes=45).exists()


def test_an_error_while_writing_rolls_everything_back(world, monkeypatch):
    """All or nothing: a failure after some rows are written leaves no row and no audit entry."""
    from kim.core.models import AuditEntry

    def broken(self):  # the last step, after every record is written
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer._Writer, "flush_audit", broken)
    rows = appointment_rows(world, 3)
    with scope(district=world.district.pk):
        before = (Appointment.objects.count(), AuditEntry.objects.count())
        table = Table(kind="Termine", sheet="Termine", rows=rows, header_row=0,
                      columns={h: i for i, h in enumerate(HEADER)})
        plan = checks.check(world.insider, world.insider, {"Termine": table})
        assert plan.ok, plan.problems
        with pytest.raises(RuntimeError):
            writer.write(plan, world.insider, world.insider, label="x")
        assert (Appointment.objects.count(), AuditEntry.objects.count()) == before


def test_the_background_task_turns_an_internal_error_into_a_message(world, monkeypatch):
    from kim.exchange import services, tasks

    monkeypatch.setattr(services.checks, "check", lambda *a, **k: 1 / 0)
    with scope(district=world.district.pk):
        run = start_import(world.insider, filename="a.xlsx", data=xlsx(appointment_rows(world)))
        services.request_check(world.insider, run)
    tasks._run(run.pk, commit=False)
    with scopes_disabled():
        run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED and "nichts übernommen" in run.message
