"""Writes docs/beispiele/warendorf-2022-stellen.xlsx: Kreis Warendorf's staffing of 2022
(Sachstandsbericht 2022, seed 003) as the sheet "Stellen" of the standard workbook, the way a
district's own table looks (a title row, "Modul 1" and "1", "Verwaltung", "Case
Management-KIM", a decimal comma in text). Imported by coordination it gives R8 approved 21,00,
filled 13,87, not yet filled 2,88 on 31.12.2022 and R9 1.222.800,00 EUR for 2022
(tests/test_staffing_import.py).

    .venv/bin/python tools/warendorf_stellen.py [TARGET]
"""

import sys
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

TARGET = Path(__file__).resolve().parents[1] / "docs" / "beispiele" / "warendorf-2022-stellen.xlsx"
HEADERS = ["Modul", "Funktion", "Kommune", "Träger", "VZÄ bewilligt", "VZÄ besetzt", "VZÄ noch nicht besetzt",
           "Stichtag", "Bemerkung"]
DAY = date(2022, 12, 31)
ROWS = [
    ["Modul 1", "Koordination", "kommunenübergreifend", "Kreis Warendorf", 3.5, 3.5, 0, DAY, ""],
    ["1", "Verwaltung", "kommunenübergreifend", "Kreis Warendorf", 0.5, 0.5, None, DAY, ""],
    ["Modul 2", "Case Management-KIM", "kommunenübergreifend", "Kreis Warendorf", "14,00", "7,62", "2,88", DAY,
     "Rest der Bewilligung noch nicht eingerichtet"],
    ["Modul 3", "Ausländerbehörde", None, None, 1, 0.75, None, DAY, ""],
    ["3", "Einbürgerungsbehörde", None, None, 2, 1.5, None, DAY, ""],
]


def build(target: Path = TARGET) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "Stellen"
    sheet.append(["Kreis Warendorf – Kommunales Integrationsmanagement, Stellen zum 31.12.2022"])
    sheet["A1"].font = Font(bold=True)
    sheet.append(HEADERS)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in ROWS:
        sheet.append(row)
        sheet.cell(sheet.max_row, 8).number_format = "DD.MM.YYYY"
    for letter, width in zip("ABCDEFGHI", (10, 24, 22, 18, 14, 12, 22, 12, 44), strict=True):
        sheet.column_dimensions[letter].width = width
    # Fixed metadata: the same bytes each time the script runs (the file is committed).
    book.properties.creator = "KIM-Fachdatenbank"
    book.properties.created = book.properties.modified = datetime(2023, 1, 15, 12, 0, 0)
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET))
