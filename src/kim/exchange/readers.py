"""Reading uploaded tables safely: xlsx, xls, ods and csv, whatever the file's name claims.

A file is identified by its content, not its name. Before any parser sees it, the limits
are checked: upload size, the unpacked size of every zip member (counted while actually
unpacking, since a zip bomb lies in its headers), macros, encryption. Every refusal is a
`FileRefused` with a German message for the person who uploaded the file; nothing else
leaves this module as an error. The spreadsheet formats are parsed by calamine (Rust),
CSV by the standard library."""

import codecs
import csv
import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import python_calamine as calamine

MAX_UPLOAD_BYTES = 30 * 1024 * 1024
MAX_UNPACKED_BYTES = 150 * 1024 * 1024
MAX_ZIP_MEMBERS = 2000
MAX_ROWS = 200_000
MAX_COLUMNS = 200
MAX_CELL_CHARS = 5000

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


class FileRefused(Exception):
    """The file cannot be read; the message says why, in German."""


@dataclass
class SheetInfo:
    name: str
    visible: bool = True
    rows: int = 0
    merged: list = field(default_factory=list)  # [(first_row, last_row)] zero-based, of merged ranges


@dataclass
class Book:
    """An opened upload: its format, its sheets, and a way to read one sheet's rows."""

    format: str
    sheets: list[SheetInfo]
    _reader: object = None
    warnings: list[str] = field(default_factory=list)

    def sheet(self, name: str) -> SheetInfo:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise FileRefused(f"Die Datei hat kein Blatt „{name}“.")

    def rows(self, name: str) -> list[list]:
        """All rows of the sheet, cells as str, int, float, bool, date or None."""
        self.sheet(name)
        return self._reader(name)


def open_upload(data: bytes, filename: str) -> Book:
    if len(data) > MAX_UPLOAD_BYTES:
        raise FileRefused(f"Die Datei ist größer als {MAX_UPLOAD_BYTES // (1024 * 1024)} MB. "
                          "Bitte teilen Sie sie auf, z. B. nach Jahren.")
    if not data.strip():
        raise FileRefused("Die Datei ist leer.")
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if data.startswith(ZIP_MAGIC):
        return _open_zip_spreadsheet(data)
    if data.startswith(OLE_MAGIC):
        return _open_ole(data)
    if extension in ("xlsx", "xlsm", "xls", "ods"):
        raise FileRefused(
            f"Die Datei endet auf .{extension}, ist aber keine Tabelle in diesem Format. "
            "Bitte öffnen Sie sie in Excel oder LibreOffice und speichern Sie sie als .xlsx."
        )
    if extension not in ("csv", "txt", ""):
        raise FileRefused("Dieses Dateiformat wird nicht unterstützt. Möglich sind .xlsx, .xls, .ods und .csv.")
    return _open_csv(data)


# ---------------------------------------------------------------- zip formats (xlsx, ods)

def _open_zip_spreadsheet(data: bytes) -> Book:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileRefused("Die Datei ist beschädigt (kein gültiges Archiv).") from None
    names = {member.filename for member in members}
    if len(members) > MAX_ZIP_MEMBERS:
        raise FileRefused("Die Datei enthält ungewöhnlich viele Bestandteile und wird nicht geöffnet.")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise FileRefused("Die Arbeitsmappe enthält Makros. Bitte speichern Sie sie ohne Makros als .xlsx "
                          "(Datei → Speichern unter → Excel-Arbeitsmappe).")
    _check_unpacked_size(archive, members)
    if "mimetype" in names and archive.read("mimetype").strip() == ODS_MIMETYPE:
        fmt = "ods"
        _check_ods_extent(archive)
    elif "[Content_Types].xml" in names and any(name.startswith("xl/") for name in names):
        fmt = "xlsx"
        _check_xlsx_extent(archive, members)
    elif "mimetype" in names or "[Content_Types].xml" in names:
        raise FileRefused("Die Datei ist ein Office-Dokument, aber keine Tabelle (z. B. ein Text oder eine Präsentation).")
    else:
        raise FileRefused("Die Datei ist ein ZIP-Archiv, keine Tabelle. Bitte laden Sie die Tabelle selbst hoch.")
    book = _open_calamine(data, fmt)
    if fmt == "xlsx" and _has_formulas(archive, members):
        book.warnings.append(
            "Die Tabelle enthält Formeln. Übernommen wird der zuletzt in der Datei gespeicherte Wert; "
            "eine Formel, die nie berechnet wurde, ergibt eine leere Zelle."
        )
    return book


def _check_unpacked_size(archive, members):
    """Unpack every member into nothing, counting bytes: the declared sizes may lie."""
    total = 0
    limit_mb = MAX_UNPACKED_BYTES // (1024 * 1024)
    try:
        for member in members:
            with archive.open(member) as stream:
                while chunk := stream.read(1024 * 1024):
                    total += len(chunk)
                    if total > MAX_UNPACKED_BYTES:
                        raise FileRefused(
                            f"Die Datei ist entpackt größer als {limit_mb} MB (oder ein sogenanntes Zip-Bomben-Archiv). "
                            "Bitte teilen Sie sie auf, z. B. nach Jahren."
                        )
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError):
        # RuntimeError: a member encrypted with a zip password.
        raise FileRefused("Die Datei ist beschädigt oder verschlüsselt und kann nicht gelesen werden.") from None


# A parser reserves memory for the whole rectangle from A1 to the last used cell: one cell
# at XFD1048576 in a 5 KB file would ask for hundreds of GB. So the extent of every sheet is
# read from its XML first, and a sheet reaching too far is refused before any parser sees it.
# Only cells with a value count (as for the parser); a styled empty cell reserves nothing.
CELL_REFERENCE = re.compile(
    rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>/]*>'
    rb'(?:<(?:\w+:)?f\b[^>]*/>|<(?:\w+:)?f\b[^>]*>[^<]*</(?:\w+:)?f>)?<(?:\w+:)?(?:v|is)\b'
)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _refuse_extent(rows: int, columns: int):
    _check_row_count(rows)
    if columns > MAX_COLUMNS:
        raise FileRefused(f"Ein Blatt reicht bis Spalte {columns}; höchstens {MAX_COLUMNS} Spalten werden gelesen. "
                          "Bitte löschen Sie leere Spalten am rechten Rand oder kopieren Sie die Tabelle in eine neue Datei.")


def _check_xlsx_extent(archive, members):
    for member in members:
        if not (member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")):
            continue
        rows = columns = 0
        tail = b""
        with archive.open(member) as stream:
            while chunk := stream.read(1024 * 1024):
                text = tail + chunk
                for letters, number in CELL_REFERENCE.findall(text):
                    rows = max(rows, int(number))
                    columns = max(columns, _column_number(letters))
                tail = text[-300:]
        _refuse_extent(rows, columns)


def _check_ods_extent(archive):
    """Rows and columns in ODS may be repeated (number-rows-repeated); the extent is where the
    last cell with a value ends, counting the repetitions before it."""
    from xml.etree.ElementTree import iterparse  # content.xml is size-checked already

    table, office = "urn:oasis:names:tc:opendocument:xmlns:table:1.0", "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    rows_repeated, columns_repeated = f"{{{table}}}number-rows-repeated", f"{{{table}}}number-columns-repeated"
    value_type = f"{{{office}}}value-type"
    try:
        with archive.open("content.xml") as stream:
            row_count = max_row = max_column = 0
            for event, element in iterparse(stream, events=("start", "end")):
                tag = element.tag.rsplit("}", 1)[-1]
                if event == "start" and tag == "table":
                    row_count = 0
                elif event == "end" and tag == "table-row":
                    repeat = int(element.get(rows_repeated, "1"))
                    column = 0
                    for cell in element:
                        span = int(cell.get(columns_repeated, "1"))
                        column += span
                        if cell.get(value_type) or "".join(cell.itertext()).strip():
                            max_column = max(max_column, column)
                            max_row = max(max_row, row_count + repeat)
                    row_count += repeat
                    element.clear()
                    _refuse_extent(max_row, max_column)
    except (ValueError, SyntaxError):
        raise FileRefused("Die Tabelle ist beschädigt (ungültiges XML).") from None
    except KeyError:
        raise FileRefused("Die ODS-Datei enthält keine Tabelle (content.xml fehlt).") from None


def _has_formulas(archive, members) -> bool:
    for member in members:
        if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
            tail = b""
            with archive.open(member) as stream:
                while chunk := stream.read(1024 * 1024):
                    if b"<f>" in tail + chunk or b"<f " in tail + chunk:
                        return True
                    tail = chunk[-4:]
    return False


# ---------------------------------------------------------------- OLE (xls, encrypted xlsx)

def _open_ole(data: bytes) -> Book:
    # Excel stores a password-protected .xlsx as an OLE container with an encrypted package.
    if "EncryptedPackage".encode("utf-16-le") in data:
        raise FileRefused("Die Arbeitsmappe ist mit einem Kennwort geschützt. Bitte entfernen Sie den "
                          "Kennwortschutz (Datei → Informationen → Arbeitsmappe schützen) und laden Sie sie erneut hoch.")
    if "_VBA_PROJECT".encode("utf-16-le") in data:
        raise FileRefused("Die Arbeitsmappe enthält Makros. Bitte speichern Sie sie ohne Makros als .xlsx.")
    return _open_calamine(data, "xls")


# ---------------------------------------------------------------- calamine

def _open_calamine(data: bytes, fmt: str) -> Book:
    try:
        workbook = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets, loaded = [], {}
        for meta in workbook.sheets_metadata:
            if str(meta.typ).rsplit(".", 1)[-1].lower() != "worksheet":
                continue
            sheet = loaded[meta.name] = workbook.get_sheet_by_name(meta.name)
            merged = [(start[0], end[0]) for start, end in (sheet.merged_cell_ranges or [])]
            sheets.append(SheetInfo(
                name=meta.name, visible=str(meta.visible).rsplit(".", 1)[-1].lower() == "visible",
                rows=sheet.height, merged=merged,
            ))
    except calamine.PasswordError:
        raise FileRefused("Die Arbeitsmappe ist mit einem Kennwort geschützt. Bitte entfernen Sie den "
                          "Kennwortschutz und laden Sie sie erneut hoch.") from None
    except calamine.CalamineError as exc:
        raise FileRefused(f"Die Tabelle kann nicht gelesen werden ({_short(exc)}). "
                          "Bitte öffnen und speichern Sie sie erneut als .xlsx.") from None
    if not sheets:
        raise FileRefused("Die Datei enthält kein Tabellenblatt.")

    def read(name):
        info = next(s for s in sheets if s.name == name)
        _check_row_count(info.rows)
        try:
            rows = loaded[name].to_python(skip_empty_area=False)
        except calamine.CalamineError as exc:
            raise FileRefused(f"Das Blatt „{name}“ kann nicht gelesen werden ({_short(exc)}).") from None
        return [_clean_row(row) for row in rows]

    return Book(format=fmt, sheets=sheets, _reader=read)


def _short(exc) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__


def _check_row_count(rows: int):
    if rows > MAX_ROWS + 50:
        raise FileRefused(f"Das Blatt hat {_german(rows)} Zeilen; höchstens {_german(MAX_ROWS)} werden auf einmal "
                          "übernommen. Bitte teilen Sie die Datei auf, z. B. nach Jahren.")


def _german(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def _clean_row(row) -> list:
    if len(row) > MAX_COLUMNS:
        row = row[:MAX_COLUMNS]
    return [_clean_cell(value) for value in row]


def _clean_cell(value):
    if isinstance(value, str):
        value = value.strip()
        return value[:MAX_CELL_CHARS] if value else None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, (time, timedelta)):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# ---------------------------------------------------------------- CSV

def _open_csv(data: bytes) -> Book:
    text = _decode(data)
    sample = text[:20000]
    first_line = sample.splitlines()[0] if sample.splitlines() else ""
    delimiter = max(";,\t|", key=first_line.count)
    if first_line.count(delimiter) == 0 and len(sample.splitlines()) > 1:
        delimiter = ";"

    def read(name):
        rows = []
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            for row in reader:
                _check_row_count(len(rows) + 1)
                rows.append(_clean_row(row))
        except csv.Error as exc:
            raise FileRefused(f"Die CSV-Datei ist fehlerhaft in Zeile {reader.line_num}: {exc}.") from None
        return rows

    return Book(format="csv", sheets=[SheetInfo(name="CSV", rows=text.count("\n") + 1)], _reader=read)


def _decode(data: bytes) -> str:
    """UTF-8 and UTF-16 (with BOM), UTF-16 without BOM, UTF-8, then Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[3:], "utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16")
    head = data[:4000]
    if head.count(b"\x00") > len(head) // 4:
        return _strict(data, "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be")
    if b"\x00" in head:
        raise FileRefused("Die Datei ist keine Text- oder CSV-Datei.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise FileRefused(f"Die Datei ist nicht gültig als {encoding.upper()} kodiert.") from None


# ---------------------------------------------------------------- values

EXCEL_EPOCH = date(1899, 12, 30)
PLAUSIBLE_YEARS = (1900, 2100)


def parse_date(value) -> date:
    """A date from a date cell, an Excel serial number, or German, ISO or short German text.
    Raises ValueError with a German message."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValueError("kein Datum")
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit() and len(value) <= 5):
        serial = int(float(value))
        if 1 <= serial <= 73050:  # 1900-01-01 to 2099-12-31
            return EXCEL_EPOCH + timedelta(days=serial)
        raise ValueError(f"„{value}“ ist kein Datum")
    text = str(value).strip()
    for pattern in ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                    "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S"):
        try:
            parsed = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if not PLAUSIBLE_YEARS[0] <= parsed.year <= PLAUSIBLE_YEARS[1]:
            raise ValueError(f"„{text}“ liegt außerhalb von 1900 bis 2100")
        return parsed
    raise ValueError(f"„{text}“ ist kein Datum (erwartet z. B. 31.12.2023)")


def parse_number(value) -> float:
    """A number from a numeric cell or text with a German decimal comma ("1.234,5")."""
    if isinstance(value, bool):
        raise ValueError("keine Zahl")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(f"„{value}“ ist keine Zahl")
        return value
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        number = float(text)
    except (ValueError, OverflowError):
        raise ValueError(f"„{value}“ ist keine Zahl") from None
    if not math.isfinite(number):
        raise ValueError(f"„{value}“ ist keine Zahl")
    return number
