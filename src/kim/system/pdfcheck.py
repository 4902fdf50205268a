"""What an uploaded PDF may not contain, found in its bytes (no PDF library, no Django).

An agreement's document is opened by the steering group in whatever reader they have, so
the check does not rely on one parser's view of the file: it looks through every byte of
the file and of every stream it can decode, and refuses a name that stands for something
dangerous wherever it appears, after #-escapes are undone (/J#61vaScript). Names are
compared as readers compare them, by exact case; a name ends at white space or a delimiter
(/AAPL:Keywords, which macOS writes, is not /AA). What is refused, by reason:

- "scripts": JavaScript, launch actions, embedded files and media, form submission and
  import, XFA forms (whose scripts carry no PDF name), actions that open another file
  (/GoToR, /GoToE: also UNC paths \\\\host\\share, which leak the reader's login);
- "actions": what a document does by itself: additional actions (/AA) and an /OpenAction
  that is an action (a dictionary, e.g. /S /URI) rather than the page the reader opens on
  (LibreOffice writes `/OpenAction [3 0 R /XYZ null null 0]`: fine);
- "encrypted": /Encrypt – the check cannot read an encrypted file's streams;
- "unreadable": an object stream (its dictionary names /ObjStm or a /First offset) the
  check cannot decode: a filter it cannot undo (LZW, RunLength, Crypt, unknown ones), an
  image filter, parameters in another object; and any stream with a filter it does not
  know (image filters DCT, JPX, CCITTFax, JBIG2 are fine outside object streams);
- "size": more than MAX_INFLATED_BYTES decoded in all (a bomb, or too much to look through).

Streams are decoded through ASCIIHex, ASCII85 and Flate in the order the dictionary chains
them, with PNG/TIFF predictors for object streams. A decoder starts at the stream's data,
whatever the line end after `stream` (LF, CRLF or CR), and stops where its encoding ends,
not at the first "endstream" (data may contain that word); Flate output before a corrupt
byte is kept, as a lenient reader keeps it. The bytes a Flate stream consumed are looked
through in their decoded form only (compressed data is noise).

Nothing here bounds time: the caller runs `scan` in `kim.core.sandbox`."""

import base64
import binascii
import re
import zlib

MAX_INFLATED_BYTES = 50 * 1024 * 1024

_END = rb"(?=[\x00\t\n\x0c\r ()<>\[\]{}/%]|$)"  # where a name ends
_WS = rb"(?:[\x00\t\n\x0c\r ]|%[^\r\n]*)*"  # white space and comments
_REF = rb"\d+" + _WS + rb"\d+" + _WS + rb"R\b"
# Refused wherever they appear. /JS and /AA are short: they count with a value after them
# (a string or a reference; a dictionary or a reference), so that a few bytes of image data
# are not taken for them.
SCRIPT = re.compile(
    rb"/(?:JavaScript|Launch|EmbeddedFiles?|RichMedia|RichMediaExecute|SubmitForm|ImportData|XFA|GoToR|GoToE"
    rb"|Rendition|Movie|Sound)" + _END + rb"|/JS" + _WS + rb"(?:[(<]|" + _REF + rb")")
ACTION = re.compile(rb"/AA" + _WS + rb"(?:<<|" + _REF + rb")")
ENCRYPT = re.compile(rb"/Encrypt" + _END)
OPEN_ACTION = re.compile(rb"/OpenAction" + _END + _WS + rb"(?:(<<|\[|\()|(\d+)" + _WS + rb"(\d+)" + _WS + rb"R\b)?")
NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# `stream` (not the end of `endstream`), the blanks a lenient reader skips, then LF, CRLF or CR.
STREAM = re.compile(rb"(?<!end)stream[\x00\t\x0c ]*(?:\r\n|\r|\n)?")
_NAME_CHARS = rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]"
FILTER = re.compile(rb"/Filter" + _END + _WS + rb"(\[[^\]]*\]|/" + _NAME_CHARS + rb"*|" + _REF + rb")")
NAME = re.compile(rb"/(" + _NAME_CHARS + rb"+)")
FILTERS = {b"ASCIIHexDecode": "hex", b"AHx": "hex", b"ASCII85Decode": "a85", b"A85": "a85",
           b"FlateDecode": "flate", b"Fl": "flate"}
IMAGE_FILTERS = {b"DCTDecode", b"DCT", b"JPXDecode", b"CCITTFaxDecode", b"CCF", b"JBIG2Decode"}
# An object stream's offset of its first object is a number (an outline's /First is a reference).
FIRST = re.compile(rb"/First" + _WS + rb"(\d+)(?!\d|" + _WS + rb"\d+" + _WS + rb"R\b)")
OBJECT_STREAM = re.compile(rb"/ObjStm" + _END + rb"|" + FIRST.pattern)
# In a stream's own dictionary, /N and /First (also by reference) make it an object stream,
# whatever its /Type says: a reader takes it so.
OWN_N = re.compile(rb"/N" + _WS + rb"\d")
OWN_FIRST = re.compile(rb"/First" + _END)
IMAGE = re.compile(rb"/Subtype" + _WS + rb"/Image" + _END)
CHUNK = 64 * 1024


class Refused(Exception):
    """Why a document is refused, as one of the module's reason codes."""


def scan(content: bytes) -> str:
    """The reason `content` is refused ("scripts", "actions", "encrypted", "unreadable",
    "size"), or "" for a PDF without any of it."""
    try:
        _scan(content)
    except Refused as refusal:
        return str(refusal)
    return ""


def _unescaped(data) -> bytes:
    return NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), bytes(data))


def _scan(content: bytes):
    budget = [MAX_INFLATED_BYTES]
    view = memoryview(content)
    decoded, object_streams, consumed = [], [], []
    window_start = 0
    for match in STREAM.finditer(content):
        window = _unescaped(content[window_start:match.start()])
        window_start = match.end()
        result = _decode(view, match.end(), window, budget)
        if result is None:
            continue
        data, used = result
        if used:
            consumed.append((match.end(), match.end() + used))
        decoded.append(_unescaped(data))
        if OBJECT_STREAM.search(window):
            object_streams.append((window, bytes(data)))
    # The file itself, less what Flate streams consumed (seen decoded instead).
    pieces, position = [], 0
    for start, end in consumed:
        if start >= position:
            pieces.append(content[position:start])
            position = end
    pieces.append(content[position:])
    texts = [_unescaped(b" ".join(pieces)), *decoded]
    for text in texts:
        if ENCRYPT.search(text):
            raise Refused("encrypted")
    for text in texts:
        if SCRIPT.search(text):
            raise Refused("scripts")
    for text in texts:
        if ACTION.search(text):
            raise Refused("actions")
        for opening in OPEN_ACTION.finditer(text):
            if not _opens_a_page(opening, texts, object_streams):
                raise Refused("actions")


def _decode(view, start: int, window: bytes, budget):
    """(decoded data, bytes Flate consumed of the file) of the stream whose data starts at
    `start`, or None where there is nothing to decode (no filter: its bytes are read as they
    are; an image). `window` is the file since the previous stream, ending with this
    stream's dictionary: generous, so that a string in the dictionary cannot hide a key."""
    own = window[window.rfind(b"obj"):]  # the stream's own dictionary (and what follows its `obj`)
    holds_objects = bool(OBJECT_STREAM.search(window) or (OWN_N.search(own) and OWN_FIRST.search(own)))
    values = set(FILTER.findall(window))
    if not values:
        return None
    if any(re.fullmatch(_REF, value) for value in values):
        raise Refused("unreadable")  # the filter stands in another object: not looked up, so not trusted
    if len(values) > 1:
        if holds_objects:
            raise Refused("unreadable")  # which filter applies cannot be told
        return None
    chain = []
    for name in NAME.findall(next(iter(values))):
        if name in IMAGE_FILTERS:
            if holds_objects:
                raise Refused("unreadable")
            return None  # an image's data: nothing in it is read as PDF objects
        if name not in FILTERS:
            raise Refused("unreadable")  # LZW, RunLength, Crypt, unknown: cannot be looked into
        chain.append(FILTERS[name])
    if not chain or IMAGE.search(window) and not holds_objects:
        return None
    predictor = _predictor(window, chain) if holds_objects else None
    end = {"hex": b">", "a85": b"~>"}.get(chain[0])
    end = view.obj.find(end, start) if end else -1
    data, used = (view[start:end] if end >= 0 else view[start:]), 0
    for index, name in enumerate(chain):
        if name == "hex":
            data = _ascii_hex(data)
        elif name == "a85":
            data = _ascii85(data)
        else:
            data, consumed = _inflate(data, budget)
            used = consumed if index == 0 else used
            if predictor:
                data = _unpredict(data, *predictor)
        budget[0] -= len(data)
        if budget[0] < 0:
            raise Refused("size")
    return data, used


def _parameter(window: bytes, key: bytes, default: int) -> int:
    values = set(re.findall(rb"/" + key + _END + _WS + rb"(\S+?)" + _END, window))
    if not values:
        return default
    found = next(iter(values))
    if len(values) > 1 or not found.isdigit() or re.search(rb"/" + key + _END + _WS + _REF, window):
        raise Refused("unreadable")  # ambiguous, or in another object
    return int(found)


def _predictor(window: bytes, chain: list):
    """(predictor, colours, bits per component, columns) of an object stream's Flate
    filter, or None without one."""
    if not re.search(rb"/DecodeParms" + _END, window):
        return None
    if re.search(rb"/DecodeParms" + _WS + _REF, window):
        raise Refused("unreadable")
    predictor = _parameter(window, b"Predictor", 1)
    if predictor <= 1:
        return None
    colours, bits = _parameter(window, b"Colors", 1), _parameter(window, b"BitsPerComponent", 8)
    columns = _parameter(window, b"Columns", 1)
    if (chain.count("flate") != 1 or predictor not in (2, 10, 11, 12, 13, 14, 15) or not 1 <= colours <= 32
            or bits not in (1, 2, 4, 8, 16) or not 1 <= columns <= 1 << 20 or predictor == 2 and bits != 8):
        raise Refused("unreadable")
    return predictor, colours, bits, columns


def _ascii_hex(data) -> bytes:
    data = bytes(data)
    end = data.find(b">")
    digits = re.sub(rb"[^0-9A-Fa-f]", b"", data if end < 0 else data[:end])
    return binascii.unhexlify(digits + b"0" * (len(digits) % 2))


def _ascii85(data) -> bytes:
    data = bytes(data)
    end = data.find(b"~>")
    data = re.sub(rb"[\x00\t\n\x0c\r ]", b"", data if end < 0 else data[:end]).removeprefix(b"<~")
    try:
        return base64.a85decode(data)
    except ValueError:  # decoded as far as it is valid, as a lenient reader does
        return _ascii85_prefix(data)


def _ascii85_prefix(data: bytes) -> bytes:
    out, group = bytearray(), []
    for byte in data:
        if byte == 0x7A and not group:  # z: four zero bytes
            out += bytes(4)
            continue
        if not 0x21 <= byte <= 0x75:
            break
        group.append(byte - 33)
        if len(group) == 5:
            value = 0
            for digit in group:
                value = value * 85 + digit
            if value > 0xFFFFFFFF:
                break
            out += value.to_bytes(4, "big")
            group = []
    return bytes(out)


def _inflate(data, budget):
    """(inflated data, bytes consumed): up to the end of the Flate data (its own end, not
    the dictionary's /Length), at most what is left of the budget. The bytes consumed are
    counted only for complete zlib data (header to end): only those bytes are left out of
    the look through the file itself."""
    data = memoryview(data)
    if len(data) >= 2 and ((data[0] & 0x0F) != 8 or (data[0] * 256 + data[1]) % 31):
        inflater, raw = zlib.decompressobj(-15), True  # no zlib header: some readers inflate raw data
    else:
        inflater, raw = zlib.decompressobj(), False
    out, left, position, failed = [], budget[0], 0, False
    while position < len(data) and not inflater.eof and not failed:
        chunk = data[position:position + CHUNK]
        saved = inflater.copy()
        try:
            pieces = [inflater.decompress(chunk, left + 1)]
            position += len(chunk)
        except zlib.error:  # again byte by byte, keeping what comes before the error
            inflater, pieces, failed = saved, [], True
            for index in range(len(chunk)):
                try:
                    pieces.append(inflater.decompress(chunk[index:index + 1], left + 1))
                except zlib.error:
                    break
                position += 1
                if inflater.eof:
                    break
        out.extend(pieces)
        left -= sum(len(piece) for piece in pieces)
        if left < 0 or inflater.unconsumed_tail:
            raise Refused("size")
    used = position - len(inflater.unused_data) if inflater.eof and not raw else 0
    return b"".join(out), used


def _unpredict(data: bytes, predictor: int, colours: int, bits: int, columns: int) -> bytes:
    """Undo a PNG predictor (10–15: a filter byte per row) or the TIFF one (2, 8 bits)."""
    pixel = max(1, colours * bits // 8)
    row = (colours * bits * columns + 7) // 8
    if predictor == 2:
        out = bytearray(data)
        for start in range(0, len(out), row):
            for i in range(start + pixel, min(start + row, len(out))):
                out[i] = (out[i] + out[i - pixel]) & 0xFF
        return bytes(out)
    out, previous = bytearray(), bytearray(row)
    for start in range(0, len(data), row + 1):
        kind, line = data[start], bytearray(data[start + 1:start + 1 + row].ljust(row, b"\0"))
        if kind > 4:
            raise Refused("unreadable")
        for i in range(row if kind else 0):
            left = line[i - pixel] if i >= pixel else 0
            up = previous[i]
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            else:
                corner = previous[i - pixel] if i >= pixel else 0
                guess = left + up - corner
                a, b, c = abs(guess - left), abs(guess - up), abs(guess - corner)
                line[i] = (line[i] + (left if a <= b and a <= c else up if b <= c else corner)) & 0xFF
        out.extend(line)
        previous = line
    return bytes(out)


def _opens_a_page(opening, texts, object_streams) -> bool:
    """Whether an /OpenAction names the page to open on (a destination array or a named
    destination), directly or through an indirect object that is one wherever it is
    defined. Anything else (an action dictionary, an object not found) is not."""
    value = opening.group(1)
    if value is not None:
        return value in (b"[", b"(")
    if opening.group(2) is None:
        return False
    number, generation = int(opening.group(2)), opening.group(3)
    definition = re.compile(rb"(?<!\d)0*" + str(number).encode() + _WS + rb"0*" + str(int(generation)).encode()
                            + _WS + rb"obj" + _WS + rb"(.)", re.S)
    starts = [found.group(1) for text in texts for found in definition.finditer(text)]
    for window, data in object_streams:
        first = FIRST.findall(window)
        if len(first) != 1:
            continue
        offset = int(first[0])
        pairs = re.findall(rb"\d+", data[:offset])
        for index in range(0, len(pairs) - 1, 2):
            if int(pairs[index]) == number:
                rest = data[offset + int(pairs[index + 1]):].lstrip(b"\x00\t\n\x0c\r ")
                starts.append(rest[:1])
    return bool(starts) and all(start in (b"[", b"(") for start in starts)
