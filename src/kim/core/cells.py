"""Text cells that leave the application for a spreadsheet (exports, report downloads).

A spreadsheet runs a cell that begins with a formula sign as a formula: a catalogue label
`=HYPERLINK("http://x","y")` or a name `@SUM(A1)` would become a link or a calculation in
the reader's Excel. Every text cell written to CSV or XLSX goes through `neutralise`."""

# The signs that make Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP
# "CSV injection"): =, +, -, @, and tab or carriage return in front of them.
FORMULA_SIGNS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe
    (cells beginning with =, +, -, @, tab or carriage return); other values stay as they are."""
    if isinstance(value, str) and value[:1] in FORMULA_SIGNS:
        return "'" + value
    return value
