"""German number formatting of report figures: 1.503 · 72 % · 13,3 · "< 5" for hidden counts."""

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_decimal

LOCALE = "de_DE"
HIDDEN_MARK = "×"  # a cell hidden so that a small count cannot be worked out


def whole_percent(share) -> int:
    """Shares are whole percent, rounded half up as committees expect (71,5 % → 72 %)."""
    return int((Decimal(share) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def format_number(value, decimals: int = 0) -> str:
    if value is None:
        return "–"
    if decimals:
        return format_decimal(Decimal(value), format="#,##0." + "0" * decimals, locale=LOCALE)
    return format_decimal(int(Decimal(value).quantize(Decimal("1"), rounding=ROUND_HALF_UP)), locale=LOCALE)


def format_cell(row, column, k: int) -> str:
    """The text of one cell as every format shows it."""
    if column.key in row.suppressed:
        return f"< {k}" if column.key in row.below_k else HIDDEN_MARK
    value = row.values.get(column.key)
    if value is None:
        return "" if column.is_share else "–"
    if column.measure.kind == "text":
        return str(value)
    if column.is_share or column.measure.percent:
        return f"{whole_percent(value)}\u00a0%"
    return format_number(value, column.measure.decimals)
