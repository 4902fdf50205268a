"""Hand-written xlsx files for the reader tests: a workbook whose worksheet XML, shared strings
and sheet list are given as text, so that a test controls every byte a parser sees.
Importable without Django (the sandbox child imports it too)."""

import io
import zipfile

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def xlsx_from_xml(sheets: dict[str, str], shared_strings: list[str] | None = None,
                  hidden: tuple = (), parts: dict[int, tuple[str, str]] | None = None) -> bytes:
    """An xlsx with one worksheet per entry {sheet name: the worksheet's whole XML}. `parts`:
    {sheet number: (the relation's Target, the zip member it is stored as)} where not the usual."""
    names = list(sheets)
    parts = {i: parts.get(i) if parts else None for i in range(1, len(names) + 1)}
    parts = {i: given or (f"worksheets/sheet{i}.xml", f"xl/worksheets/sheet{i}.xml") for i, given in parts.items()}
    workbook = (
        f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}"><sheets>'
        + "".join(f'<sheet name="{name}" sheetId="{i}" state="{"hidden" if name in hidden else "visible"}" '
                  f'r:id="rId{i}"/>' for i, name in enumerate(names, start=1))
        + "</sheets></workbook>"
    )
    relations = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(f'<Relationship Id="rId{i}" Type="{RELATIONSHIPS}/worksheet" Target="{parts[i][0]}"/>'
                  for i in range(1, len(names) + 1))
        + (f'<Relationship Id="rIdS" Type="{RELATIONSHIPS}/sharedStrings" Target="sharedStrings.xml"/>'
           if shared_strings is not None else "")
        + "</Relationships>"
    )
    types = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                  'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                  for i in range(1, len(names) + 1))
        + ('<Override PartName="/xl/sharedStrings.xml" '
           'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
           if shared_strings is not None else "")
        + "</Types>"
    )
    package_relations = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", package_relations)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", relations)
        for i, name in enumerate(names, start=1):
            archive.writestr(parts[i][1], sheets[name])
        if shared_strings is not None:
            archive.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}" count="{len(shared_strings)}">'
                             + "".join(f"<si><t>{text}</t></si>" for text in shared_strings) + "</sst>")
    return out.getvalue()


def worksheet(rows_xml: str) -> str:
    return f'<worksheet xmlns="{MAIN}"><sheetData>{rows_xml}</sheetData></worksheet>'


def dense_sheet(rows: int, columns: int) -> str:
    """`rows` × `columns` cells, each the first shared string, without cell references (the
    parser places them by position): the most cells the unpacked-size limit leaves room for."""
    row = "<row>" + '<c t="s"><v>0</v></c>' * columns + "</row>"
    return worksheet(row * rows)


def repeated_long_string(rows: int, columns: int, length: int, name="Termine") -> bytes:
    """One shared string of `length` characters in rows × columns cells: a parser copies it
    into every cell, so a file of a few hundred KB asks for rows × columns × length bytes."""
    return xlsx_from_xml({name: dense_sheet(rows, columns)}, shared_strings=["x" * length])
