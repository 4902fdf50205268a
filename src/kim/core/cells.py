"""Text cells that leave the application for a spreadsheet (exports, report downloads).

A spreadsheet runs a cell that begins with a formula sign as a formula: a catalogue label
`=HYPERLINK("http://x","y")` or a name `@SUM(A1)` would become a link or a calculation in
the reader's Excel. Every text cell written to CSV or XLSX goes through `neutralise`."""

# The signs that make Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP
# "CSV injection"): =, +, -, @, and tab or carriage return in front of them.
import re

FORMULA_SIGNS = ("=", "+", "-", "@", "\t", "\r")
# A telephone number in international form (+49 2104 99000, +49 (0)2104/99-000) has a sign in
# front but no letter, reference or call: a spreadsheet can compute nothing from it, and an
# apostrophe in front would spoil it for the machines that read the file (Integreat).
PHONE = re.compile(r"\+[0-9][0-9 ()/.\-]{4,30}")


def neutralise(value):
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe
    (cells beginning with =, +, -, @, tab or carriage return); other values stay as they are."""
    if isinstance(value, str) and value[:1] in FORMULA_SIGNS and not PHONE.fullmatch(value):
        return "'" + value
    return value
