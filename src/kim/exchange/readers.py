"""Reading uploaded tables safely: xlsx, xls, ods and csv, whatever the file's name claims.

The first step of the import (read → map → check → write). Two doors, and both parse the
file in a child process whose memory and CPU time are bounded (`kim.core.sandbox`), so that
no file can abort the web or worker process that received it:

- `survey(data, filename)`: the format, the sheets (name, visibility, extent, first rows)
  and warnings, for suggesting which sheet and column holds what;
- `read_sheets(data, filename, names)`: every row of the sheets that are to be imported.

Before a parser sees a file, its limits are checked: the upload size, the unpacked size of
every zip member (counted while actually unpacking, since a zip bomb lies in its headers),
macros, encryption, and the extent of every sheet, read from the sheet's XML with a
streaming XML parser: a parser reserves memory for the whole rectangle from A1 to the last
cell with a value, so one far cell in a small file would ask for hundreds of gigabytes.
No sheet may reach beyond `MAX_ROWS` or `MAX_COLUMNS`, and all sheets together may not hold
more than `MAX_CELLS` cells (rows × columns). Only the sheets that are read are loaded, one
at a time. Whatever still goes wrong inside the parser (a shared string repeated a million
times, say) ends at the child's memory limit `READ_MEMORY_MB`.

Every refusal is a `FileRefused` with a German message for the person who uploaded the file;
nothing else leaves this module as an error. This module does not use Django: it runs in
the child as it is."""

import codecs
import csv
import io
import logging
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from xml.parsers import expat

from kim.core.sandbox import BoundedWorkFailed, run_bounded

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 30 * 1024 * 1024
MAX_UNPACKED_BYTES = 150 * 1024 * 1024
MAX_ZIP_MEMBERS = 2000
MAX_SHEETS = 100
MAX_ROWS = 200_000
MAX_COLUMNS = 200
MAX_CELLS = 4_000_000  # rows × columns, over all sheets of the file
MAX_CELL_CHARS = 5000
MAX_TEXT_CHARS = 50_000_000  # text in all cells that are read, after cutting each to MAX_CELL_CHARS
HEAD_ROWS = 25  # first rows of each sheet kept for suggesting header row and columns
HEAD_CELL_CHARS = 200
SURVEYED_SHEETS = 12  # visible sheets whose first rows are read for suggestions
READ_MEMORY_MB = 1024  # the child that parses; see README, "Data in and out"
READ_CPU_SECONDS = 120

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
    columns: int = 0
    head: list = field(default_factory=list)  # first rows as text (or None), for suggestions and preview


@dataclass
class Survey:
    format: str
    sheets: list[SheetInfo]
    warnings: list[str] = field(default_factory=list)

    def sheet(self, name: str) -> SheetInfo:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise FileRefused(f"Die Datei hat kein Blatt „{name}“.")


@dataclass
class SheetRows:
    """All rows of one sheet (cells as str, int, float, bool, date or None) and the row
    ranges of its merged cells [(first, last)], zero-based."""

    rows: list
    merged: list = field(default_factory=list)


# ---------------------------------------------------------------- the doors (parent side)

def survey(data: bytes, filename: str, heads_of: list[str] | None = None) -> Survey:
    """Format, sheets with their extent and first rows, and warnings; refuses a file it
    cannot read safely (FileRefused). The first rows are read of the first visible sheets,
    or of the sheets named in `heads_of`."""
    _check_upload(data)
    plain = _bounded("survey_in_child", data, filename, heads_of)
    return Survey(format=plain["format"], warnings=plain["warnings"],
                  sheets=[SheetInfo(**sheet) for sheet in plain["sheets"]])


def read_sheets(data: bytes, filename: str, names: list[str], surveyed: bool = False) -> dict[str, SheetRows]:
    """Every row of the named sheets (and nothing of the others). `surveyed`: these bytes
    passed `survey` (an upload kept in the database), so their extent is not read again."""
    _check_upload(data)
    plain = _bounded("read_in_child", data, filename, list(names), surveyed)
    return {name: SheetRows(rows=sheet["rows"], merged=sheet["merged"]) for name, sheet in plain.items()}


def _bounded(function: str, *args):
    try:
        return run_bounded(f"kim.exchange.readers:{function}", *args, memory_mb=READ_MEMORY_MB,
                           cpu_seconds=READ_CPU_SECONDS, expected=(FileRefused,))
    except BoundedWorkFailed as failure:
        log.warning("reading an upload stopped: %s", failure)
        if failure.reason == "memory":
            raise FileRefused(
                f"Die Datei braucht beim Lesen mehr als {_german(READ_MEMORY_MB)} MB Arbeitsspeicher und wird nicht geöffnet. "
                "Bitte teilen Sie sie auf, z. B. nach Jahren, oder speichern Sie sie neu als .xlsx."
            ) from None
        if failure.reason == "time":
            raise FileRefused("Das Lesen der Datei dauert zu lange und wurde abgebrochen. "
                              "Bitte teilen Sie sie auf, z. B. nach Jahren.") from None
        raise FileRefused("Die Datei kann nicht gelesen werden. Bitte öffnen und speichern Sie sie "
                          "erneut als .xlsx.") from None


def _check_upload(data: bytes):
    if len(data) > MAX_UPLOAD_BYTES:
        raise FileRefused(f"Die Datei ist größer als {MAX_UPLOAD_BYTES // (1024 * 1024)} MB. "
                          "Bitte teilen Sie sie auf, z. B. nach Jahren.")
    if not data.strip():
        raise FileRefused("Die Datei ist leer.")


# ---------------------------------------------------------------- the work (child side)

def survey_in_child(data: bytes, filename: str, heads_of: list[str] | None = None) -> dict:
    book = _open(data, filename)
    sheets, surveyed = [], 0
    for sheet in book.sheets:
        head = []
        if sheet.name in heads_of if heads_of is not None else sheet.visible and surveyed < SURVEYED_SHEETS:
            surveyed += 1
            head = [[header_text(cell) for cell in row] for row in book.load(sheet.name, HEAD_ROWS).rows]
        sheets.append({"name": sheet.name, "visible": sheet.visible, "rows": sheet.rows,
                       "columns": sheet.columns, "head": head})
    return {"format": book.format, "warnings": book.warnings, "sheets": sheets}


def read_in_child(data: bytes, filename: str, names: list[str], surveyed: bool = False) -> dict:
    book = _open(data, filename, surveyed)
    result, text = {}, 0
    for name in dict.fromkeys(names):
        book.sheet(name)
        sheet = book.load(name)
        text += sum(len(cell) for row in sheet.rows for cell in row if isinstance(cell, str))
        if text > MAX_TEXT_CHARS:
            raise FileRefused("Die Blätter enthalten zusammen mehr Text, als auf einmal übernommen wird "
                              f"({_german(MAX_TEXT_CHARS)} Zeichen). Bitte teilen Sie die Datei auf.")
        result[name] = {"rows": sheet.rows, "merged": sheet.merged}
    return result


def header_text(value) -> str | None:
    """A cell as the first rows of a sheet keep it: text, dates as 31.12.2023."""
    if value is None:
        return None
    if isinstance(value, date):
        return f"{value:%d.%m.%Y}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)[:HEAD_CELL_CHARS]


@dataclass
class _Book:
    """An opened upload inside the child: its sheets, and a way to load one."""

    format: str
    sheets: list[SheetInfo]
    loader: object
    warnings: list[str] = field(default_factory=list)

    def sheet(self, name):
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise FileRefused(f"Die Datei hat kein Blatt „{name}“.")

    def load(self, name, first_rows: int | None = None) -> SheetRows:
        """The sheet's rows (only the first ones, if given)."""
        return self.loader(name, first_rows)


def _open(data: bytes, filename: str, surveyed: bool = False) -> _Book:
    _check_upload(data)
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if data.startswith(ZIP_MAGIC):
        return _open_zip_spreadsheet(data, surveyed)
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

def _open_zip_spreadsheet(data: bytes, surveyed: bool = False) -> _Book:
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
    warnings = []
    if "mimetype" in names and archive.read("mimetype").strip() == ODS_MIMETYPE:
        fmt, extents = "ods", {} if surveyed else _ods_extents(archive)
    elif "[Content_Types].xml" in names and any(name.startswith("xl/") for name in names):
        fmt = "xlsx"
        extents, formulas = ({}, False) if surveyed else _xlsx_extents(archive, names)
        if formulas:
            warnings.append(
                "Die Tabelle enthält Formeln. Übernommen wird der zuletzt in der Datei gespeicherte Wert; "
                "eine Formel, die nie berechnet wurde, ergibt eine leere Zelle."
            )
    elif "mimetype" in names or "[Content_Types].xml" in names:
        raise FileRefused("Die Datei ist ein Office-Dokument, aber keine Tabelle (z. B. ein Text oder eine Präsentation).")
    else:
        raise FileRefused("Die Datei ist ein ZIP-Archiv, keine Tabelle. Bitte laden Sie die Tabelle selbst hoch.")
    if len(extents) > MAX_SHEETS:
        raise FileRefused(f"Die Datei hat mehr als {MAX_SHEETS} Blätter. Bitte löschen Sie nicht benötigte Blätter.")
    book = _open_calamine(data, fmt, extents)
    book.warnings += warnings
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


# ---------------------------------------------------------------- extents, read with an XML parser

@dataclass
class Extent:
    """How far a sheet reaches: the last row and column holding a value (1-based)."""

    rows: int = 0
    columns: int = 0


def _local(name: str) -> str:
    """The local part of an element or attribute name, whatever its prefix. Names are matched
    by their local part only, as the parser reads them."""
    return name.rsplit(":", 1)[-1]


def _parse_xml(stream, start=None, end=None, text=None):
    """Stream `stream` through expat, calling `start(name, attributes)`, `end(name)` and
    `text(data)`. No tree is built (a sheet may hold millions of cells). A document type
    declaration is refused: spreadsheets have none, and without one there are no entities to
    expand (billion laughs) and no external files to fetch."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse_doctype(*_args):
        raise FileRefused("Die Tabelle enthält eine Dokumenttyp-Deklaration und wird nicht geöffnet.")

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_doctype
    if start:
        parser.StartElementHandler = start
    if end:
        parser.EndElementHandler = end
    if text:
        parser.CharacterDataHandler = text
    try:
        parser.ParseFile(stream)
    except expat.ExpatError:
        raise FileRefused("Die Tabelle ist beschädigt (ungültiges XML).") from None


def _attribute(attributes: dict, name: str):
    """An attribute by its local name (a crafted file may give it a prefix)."""
    value = attributes.get(name)
    if value is None:
        suffix = ":" + name
        for key in attributes:
            if key.endswith(suffix):
                return attributes[key]
    return value


CELL_REFERENCE = re.compile(r"\s*([A-Za-z]{1,7})\s*([0-9]{1,12})\s*")


def _cell_reference(value: str) -> tuple[int, int]:
    """(row, column) of a reference such as XFD1048576, also in lower case or with spaces."""
    match = CELL_REFERENCE.fullmatch(value)
    if match is None:
        raise FileRefused(f"Die Tabelle ist beschädigt (ungültiger Zellbezug „{value[:20]}“).")
    column = 0
    for letter in match.group(1).upper():
        column = column * 26 + ord(letter) - 64
    return int(match.group(2)), column


def _number(value: str | None, default: int, what: str) -> int:
    if value is None:
        return default
    if not (value.strip().isascii() and value.strip().isdigit()):
        raise FileRefused(f"Die Tabelle ist beschädigt (ungültige {what}).")
    return int(value)


class _ExtentCount:
    """The extents of a file's sheets while they are read, refused as soon as one sheet reaches
    too far or all of them together hold too many cells."""

    def __init__(self):
        self.extents: dict[str, Extent] = {}
        self.cells_before = 0
        self.current = Extent()
        self.name = ""

    def sheet(self, name: str):
        self.cells_before += self.current.rows * self.current.columns
        self.current = self.extents[name] = Extent()
        self.name = name

    def include(self, row: int, column: int):
        extent = self.current
        if row <= extent.rows and column <= extent.columns:
            return
        extent.rows, extent.columns = max(extent.rows, row), max(extent.columns, column)
        _refuse_extent(self.name, extent)
        _check_cells(self.cells_before + extent.rows * extent.columns)


def _worksheet_parts(archive, names) -> dict[str, str]:
    """{zip member: sheet name} of every member a parser might read as a worksheet: each member
    under xl/worksheets/ (named by its file), and for each sheet the workbook lists, every
    member its relation's target could name — as written, resolved, or differing in case or
    slashes, since parsers resolve targets differently (calamine takes "xl/" + target as it
    stands, so "foo/../worksheets/x.xml" is a member of that literal name). A listed sheet whose
    target names no member is refused: there is nothing to measure."""
    parts = {name: posixpath.basename(name) for name in names
             if name.startswith("xl/worksheets/") and name.endswith(".xml")}
    by_folded_name = {}
    for name in names:
        by_folded_name.setdefault(name.replace("\\", "/").lower(), []).append(name)
    targets, listed = {}, []

    def relation(name, attributes):
        if _local(name) == "Relationship":
            targets[attributes.get("Id")] = attributes.get("Target", "")

    def sheet(name, attributes):
        if _local(name) == "sheet":
            listed.append((_attribute(attributes, "id"), attributes.get("name", "")))

    for part, handler in (("xl/_rels/workbook.xml.rels", relation), ("xl/workbook.xml", sheet)):
        if part in names:
            with archive.open(part) as stream:
                _parse_xml(stream, start=handler)
    for relation_id, sheet_name in listed:
        members = [member for candidate in _target_candidates(targets.get(relation_id, ""))
                   for member in by_folded_name.get(candidate, [])]
        if not members:
            raise FileRefused(f"Die Arbeitsmappe nennt das Blatt „{sheet_name[:40]}“, das in der Datei fehlt. "
                              "Bitte öffnen und speichern Sie die Datei in Excel oder LibreOffice neu.")
        for member in members:
            parts[member] = sheet_name
    return parts


def _target_candidates(target: str) -> set[str]:
    """The members (folded: lower case, forward slashes) a relation's target may name."""
    target = target.replace("\\", "/").lower()
    written = {target.lstrip("/"), "xl/" + target.lstrip("/")}
    return written | {posixpath.normpath(name) for name in written}


def _xlsx_extents(archive, names) -> tuple[dict[str, Extent], bool]:
    """The extent of every worksheet, and whether any cell holds a formula.

    Cells are read as an XML parser sees them, so that quoting, line breaks, namespace
    prefixes or the order of attributes change nothing. A cell counts when it holds a value
    (<v>, an inline string <is>, or a formula <f>); a cell with formatting only reserves
    nothing. Where a row or cell has no reference, its position counts, as for the parser;
    where both exist, the farther one."""
    count = _ExtentCount()
    local_names = {}  # the handler runs for every element of millions: names are split once
    row = column = 0
    cell = None
    formulas = False

    cells = rows = 0  # elements, empty or not: parsing 37 million empty <c/> takes a minute

    def start(name, attributes):
        nonlocal row, column, cell, formulas, cells, rows
        tag = local_names.get(name) or local_names.setdefault(name, _local(name))
        if tag == "c":
            cells += 1
            if cells > MAX_CELLS:
                _refuse_elements()
            reference = _attribute(attributes, "r") if attributes else None
            cell_row, cell_column = _cell_reference(reference) if reference is not None else (0, 0)
            column = max(column + 1, cell_column)
            cell = (max(row, cell_row), column)
        elif tag == "v" or tag == "is" or tag == "f":
            if cell is not None and (cell[0] > count.current.rows or cell[1] > count.current.columns):
                count.include(*cell)
            formulas = formulas or tag == "f"
        elif tag == "row":
            rows += 1
            if rows > MAX_CELLS:
                _refuse_elements()
            row = max(row + 1, _number(_attribute(attributes, "r"), 0, "Zeilennummer"))
            column, cell = 0, None

    for part, sheet_name in _worksheet_parts(archive, names).items():
        count.sheet(sheet_name)
        row = column = 0
        cell = None
        with archive.open(part) as stream:
            _parse_xml(stream, start=start)
    return count.extents, formulas


def _refuse_elements():
    """More cell (or row) elements than cells are admitted: even empty ones take the parser time."""
    raise FileRefused(f"Die Blätter der Datei enthalten zusammen mehr als {_german(MAX_CELLS)} Zellen oder Zeilen, "
                      "auch leere (z. B. nur formatierte). Bitte kopieren Sie nur die benötigten Zeilen und Spalten "
                      "in eine neue Datei.")


def _ods_extents(archive) -> dict[str, Extent]:
    """Rows and columns in ODS may be repeated (number-rows-repeated); the extent is where the
    last cell with a value ends, counting the repetitions before it."""
    count = _ExtentCount()
    state = {"rows": 0, "repeat": 1, "column": 0, "in_cell": False}
    elements = {"table-cell": 0, "covered-table-cell": 0, "table-row": 0}

    def start(name, attributes):
        tag = _local(name)
        if tag in elements:
            elements[tag] += 1
            if elements[tag] > MAX_CELLS:
                _refuse_elements()
        if tag in ("table-cell", "covered-table-cell"):
            state["column"] += _number(_attribute(attributes, "number-columns-repeated"), 1, "Wiederholungsangabe")
            state["in_cell"] = True
            if _attribute(attributes, "value-type"):
                count.include(state["rows"] + state["repeat"], state["column"])
        elif tag == "table-row":
            state["repeat"] = _number(_attribute(attributes, "number-rows-repeated"), 1, "Wiederholungsangabe")
            state["column"] = 0
        elif tag == "table":
            count.sheet(_attribute(attributes, "name") or "")
            state.update(rows=0, repeat=1, column=0)

    def end(name):
        tag = _local(name)
        if tag in ("table-cell", "covered-table-cell"):
            state["in_cell"] = False
        elif tag == "table-row":
            state["rows"] += state["repeat"]

    def text(data):
        if state["in_cell"] and data.strip():  # text without a value type still counts
            count.include(state["rows"] + state["repeat"], state["column"])

    try:
        stream = archive.open("content.xml")
    except KeyError:
        raise FileRefused("Die ODS-Datei enthält keine Tabelle (content.xml fehlt).") from None
    with stream:
        _parse_xml(stream, start=start, end=end, text=text)
    return count.extents


def _refuse_extent(sheet_name: str, extent: Extent):
    where = f"Das Blatt „{sheet_name}“" if sheet_name else "Ein Blatt"
    if extent.rows > MAX_ROWS + 50:
        raise FileRefused(f"{where} reicht mindestens bis Zeile {_german(extent.rows)}; höchstens {_german(MAX_ROWS)} "
                          "Zeilen werden auf einmal übernommen. Bitte teilen Sie die Datei auf, z. B. nach Jahren, "
                          "oder löschen Sie leere Zeilen am unteren Rand.")
    if extent.columns > MAX_COLUMNS:
        raise FileRefused(f"{where} reicht mindestens bis Spalte {_german(extent.columns)}; höchstens {MAX_COLUMNS} "
                          "Spalten werden gelesen. Bitte löschen Sie leere Spalten am rechten Rand oder kopieren Sie "
                          "die Tabelle in eine neue Datei.")


def _check_cells(cells: int):
    if cells > MAX_CELLS:
        raise FileRefused(
            f"Die Blätter der Datei umfassen zusammen mehr als {_german(MAX_CELLS)} Zellen (Zeilen × Spalten bis "
            "zur letzten gefüllten Zelle), mehr als auf einmal gelesen werden. Bitte löschen Sie nicht benötigte "
            "Blätter und leere Bereiche, oder teilen Sie die Datei auf."
        )


# ---------------------------------------------------------------- OLE (xls, encrypted xlsx)

def _open_ole(data: bytes) -> _Book:
    # Excel stores a password-protected .xlsx as an OLE container with an encrypted package.
    if "EncryptedPackage".encode("utf-16-le") in data:
        raise FileRefused("Die Arbeitsmappe ist mit einem Kennwort geschützt. Bitte entfernen Sie den "
                          "Kennwortschutz (Datei → Informationen → Arbeitsmappe schützen) und laden Sie sie erneut hoch.")
    if "_VBA_PROJECT".encode("utf-16-le") in data:
        raise FileRefused("Die Arbeitsmappe enthält Makros. Bitte speichern Sie sie ohne Makros als .xlsx.")
    # An xls sheet cannot reach beyond 65,536 × 256 cells; its extent is known once loaded.
    return _open_calamine(data, "xls", extents=None)


# ---------------------------------------------------------------- calamine

def _open_calamine(data: bytes, fmt: str, extents: dict[str, Extent] | None) -> _Book:
    import python_calamine as calamine  # in the child only

    try:
        workbook = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = []
        for meta in workbook.sheets_metadata:
            if str(meta.typ).rsplit(".", 1)[-1].lower() != "worksheet":
                continue
            extent = (extents or {}).get(meta.name, Extent())
            sheets.append(SheetInfo(name=meta.name, visible=str(meta.visible).rsplit(".", 1)[-1].lower() == "visible",
                                    rows=extent.rows, columns=extent.columns))
    except calamine.PasswordError:
        raise FileRefused("Die Arbeitsmappe ist mit einem Kennwort geschützt. Bitte entfernen Sie den "
                          "Kennwortschutz und laden Sie sie erneut hoch.") from None
    except calamine.CalamineError as exc:
        raise FileRefused(f"Die Tabelle kann nicht gelesen werden ({_short(exc)}). "
                          "Bitte öffnen und speichern Sie sie erneut als .xlsx.") from None
    if not sheets:
        raise FileRefused("Die Datei enthält kein Tabellenblatt.")
    if len(sheets) > MAX_SHEETS:
        raise FileRefused(f"Die Datei hat mehr als {MAX_SHEETS} Blätter. Bitte löschen Sie nicht benötigte Blätter.")
    loaded_cells = {}

    def load(name, first_rows=None) -> SheetRows:
        try:
            sheet = workbook.get_sheet_by_name(name)
            if extents is None:  # xls: the extent is known now; refuse before converting
                loaded_cells[name] = sheet.height * sheet.width
                _refuse_extent(name, Extent(sheet.height, sheet.width))
                _check_cells(sum(loaded_cells.values()))
            merged = [(start[0], end[0]) for start, end in (sheet.merged_cell_ranges or [])]
            info = next(info for info in sheets if info.name == name)
            info.rows = info.rows or sheet.height  # xls: known now
            # From A1 (not from the first filled cell), so that row numbers are the file's.
            rows = sheet.to_python(skip_empty_area=False, nrows=first_rows)
        except calamine.CalamineError as exc:
            raise FileRefused(f"Das Blatt „{name}“ kann nicht gelesen werden ({_short(exc)}).") from None
        except BaseException as exc:
            # The binding turns a Python object it could not allocate into a panic, which is
            # no Exception; at the memory limit it means just that.
            if type(exc).__name__ == "PanicException":
                raise MemoryError from None
            raise
        del sheet  # the parser's copy, before the cleaned one is made row by row
        clean = _Cleaner()
        for index, row in enumerate(rows):
            rows[index] = clean(row)
        _check_row_count(name, len(rows))
        return SheetRows(rows=rows, merged=merged)

    return _Book(format=fmt, sheets=sheets, loader=load)


def _short(exc) -> str:
    """The reading library's own words (English) for the operators, marked as such."""
    detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
    return f"Meldung des Leseprogramms für den Betrieb: {detail}"


def _check_row_count(name: str, rows: int):
    if rows > MAX_ROWS + 50:
        raise FileRefused(f"Das Blatt „{name}“ hat {_german(rows)} Zeilen; höchstens {_german(MAX_ROWS)} werden auf "
                          "einmal übernommen. Bitte teilen Sie die Datei auf, z. B. nach Jahren.")


def _german(number: int) -> str:
    return f"{number:,}".replace(",", ".")


class _Cleaner:
    """Cells as the import reads them: text stripped and cut, dates without time, whole
    numbers as int, trailing empty cells dropped. Equal texts and dates become one object, so
    that the result is sent once and held once by the importing process (a file repeats its
    labels and dates thousands of times)."""

    def __init__(self):
        self.shared = {}

    def __call__(self, row) -> list:
        cells = [_clean_cell(value) for value in row[:MAX_COLUMNS]]
        while cells and cells[-1] is None:
            cells.pop()
        shared = self.shared
        return [shared.setdefault(cell, cell) if isinstance(cell, (str, date)) else cell for cell in cells]


def _clean_cell(value):
    if isinstance(value, str):
        if "\x00" in value:  # an old binary workbook may hold one; nobody typed it, PostgreSQL refuses it
            value = value.replace("\x00", "")
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

CSV_NAME = "CSV"


def _open_csv(data: bytes) -> _Book:
    text = _decode(data)
    sample = text[:20000]
    first_line = sample.splitlines()[0] if sample.splitlines() else ""
    delimiter = max(";,\t|", key=first_line.count)
    if first_line.count(delimiter) == 0 and len(sample.splitlines()) > 1:
        delimiter = ";"

    def load(name, first_rows=None) -> SheetRows:
        rows, cells, clean = [], 0, _Cleaner()
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            for row in reader:
                if first_rows is not None and len(rows) >= first_rows:
                    break
                _check_row_count(CSV_NAME, len(rows) + 1)
                cells += max(len(row), 1)
                if cells > MAX_CELLS:
                    _check_cells(cells)
                rows.append(clean(row))
        except csv.Error as exc:
            raise FileRefused(f"Die CSV-Datei ist fehlerhaft in Zeile {reader.line_num}: {exc}.") from None
        return SheetRows(rows=rows)

    sheet = SheetInfo(name=CSV_NAME, rows=text.count("\n") + 1)
    return _Book(format="csv", sheets=[sheet], loader=load)


def _decode(data: bytes) -> str:
    """The text of a CSV file, which holds no NUL character (no spreadsheet writes one, and
    PostgreSQL cannot store it): a NUL left after decoding means a wrong guess or no text."""
    text = _decoded(data)
    if "\x00" in text:
        raise FileRefused("Die Datei enthält Nullzeichen: Sie ist keine Text- oder CSV-Datei oder ungewöhnlich "
                          "kodiert. Bitte speichern Sie sie als „CSV UTF-8“.")
    return text


def _decoded(data: bytes) -> str:
    """UTF-8, UTF-16 and UTF-32 (with BOM), UTF-16 without BOM, UTF-8, then Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[3:], "utf-8")
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: FF FE starts both
        return _strict(data, "utf-32")
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
