"""Reporting periods: calendar year, half-year, quarter, month or a custom range."""

import calendar
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PERIOD_KINDS = {
    "year": gettext_lazy("Year"),
    "half": gettext_lazy("Half-year"),
    "quarter": gettext_lazy("Quarter"),
    "month": gettext_lazy("Month"),
    "custom": gettext_lazy("Custom range"),
}
# How many parts a year has, per kind of period.
PARTS_PER_YEAR = {"half": 2, "quarter": 4, "month": 12}


class PeriodError(ValueError):
    """A period that cannot exist; the message is for the user."""


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date

    @classmethod
    def of(cls, kind: str, year: int, number: int | None = None) -> "Period":
        if not 1990 <= year <= 2100:
            raise PeriodError(_("The year must lie between 1990 and 2100."))
        if kind == "year":
            return cls("year", date(year, 1, 1), date(year, 12, 31))
        if kind not in PARTS_PER_YEAR:
            raise PeriodError(_("Unknown kind of period."))
        parts = PARTS_PER_YEAR[kind]
        if number is None or not 1 <= number <= parts:
            raise PeriodError(_("Choose a number from 1 to %(parts)d.") % {"parts": parts})
        months = 12 // parts
        first_month = (number - 1) * months + 1
        last_month = first_month + months - 1
        last_day = calendar.monthrange(year, last_month)[1]
        return cls(kind, date(year, first_month, 1), date(year, last_month, last_day))

    @classmethod
    def custom(cls, start: date, end: date) -> "Period":
        if end < start:
            raise PeriodError(_("The end of the period lies before its start."))
        if (end - start).days > 366 * 5:
            raise PeriodError(_("A period may span at most five years."))
        return cls("custom", start, end)

    @property
    def is_calendar_year(self) -> bool:
        return self.kind == "year"

    @property
    def label(self) -> str:
        year = self.start.year
        if self.kind == "year":
            return str(year)
        if self.kind == "half":
            return _("%(n)d. half-year %(year)d") % {"n": (self.start.month + 5) // 6, "year": year}
        if self.kind == "quarter":
            return _("Q%(n)d %(year)d") % {"n": (self.start.month + 2) // 3, "year": year}
        if self.kind == "month":
            return f"{self.start.month:02d}/{year}"
        return f"{self.start:%d.%m.%Y}–{self.end:%d.%m.%Y}"

    def year_before(self) -> "Period":
        """The same period one year earlier, for year-on-year columns."""
        return Period(self.kind, _minus_year(self.start), _minus_year(self.end))


def _minus_year(day: date) -> date:
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)
