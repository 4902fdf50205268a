"""Mapping the cells of a file onto the standard workbook: values of cells (dates, numbers)."""

import math
from datetime import date, datetime, timedelta

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
