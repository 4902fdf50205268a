"""The §104c pipeline in aggregate: per month, the opportunity residence titles that run out
(from the cases that record them), the transitions to §25a/b applied for by §104c holders, and
those granted and refused (from the procedures of all the district's offices). Counts only, no
person: every reader sees it with small counts hidden by kim.reports.suppression (the counts
come from case work of every provider, which no reader of this page owns)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kim.casework.models import Case, add_months
from kim.reports.suppression import Constraint, suppress

from .models import TRANSITION_KINDS, Outcome, Procedure

MEASURES = (
    ("expiring", _("titles running out")),
    ("applied", _("transitions to §25a/b applied for")),
    ("granted", _("granted")),
    ("refused", _("refused")),
)
TOTAL = "total"
# Last year to the year after next, whole years: a title issued today (18 months) ends inside.
YEARS_BACK, YEARS_AHEAD = 1, 2


@dataclass
class Cell:
    value: int | None  # None where hidden
    below_k: bool = False
    hidden: bool = False


def months_shown(today: date) -> list[date]:
    """Whole calendar years (YEARS_BACK before to YEARS_AHEAD after this one): the window moves
    once a year. A window that slid month by month would let the totals of two months' pages be
    subtracted to give the hidden count of the month that dropped out."""
    first = date(today.year - YEARS_BACK, 1, 1)
    return [add_months(first, n) for n in range(12 * (YEARS_BACK + 1 + YEARS_AHEAD))]


def counts(user, months: list[date]) -> dict:
    """{(measure, month): n} for the months shown; queries through the aggregate-only doors."""
    start, end = months[0], add_months(months[-1], 1)
    values = defaultdict(int)
    # Titles: one per participant and month (a person may have a screening and a case-management
    # case that both record the title); cases whose person was anonymised count one each.
    titles = (Case.objects.for_statistics(user).filter(title_104c_expires_on__gte=start, title_104c_expires_on__lt=end)
              .annotate(m=TruncMonth("title_104c_expires_on")).values("m")
              .annotate(people=Count("participant", distinct=True)).order_by())
    for row in titles:
        values[("expiring", _as_date(row["m"]))] += row["people"]
    anonymous = (Case.objects.for_statistics(user).filter(title_104c_expires_on__gte=start, title_104c_expires_on__lt=end,
                                                          participant__isnull=True)
                 .annotate(m=TruncMonth("title_104c_expires_on")).values("m").annotate(n=Count("pk")).order_by())
    for row in anonymous:
        values[("expiring", _as_date(row["m"]))] += row["n"]
    procedures = Procedure.objects.district_figures(user).filter(kind__in=TRANSITION_KINDS, from_104c=True)
    for row in (procedures.filter(received_on__gte=start, received_on__lt=end).annotate(m=TruncMonth("received_on"))
                .values("m").annotate(n=Count("pk")).order_by()):
        values[("applied", _as_date(row["m"]))] += row["n"]
    for row in (procedures.filter(decided_on__gte=start, decided_on__lt=end,
                                  outcome__in=[Outcome.GRANTED, Outcome.REFUSED])
                .annotate(m=TruncMonth("decided_on")).values("m", "outcome").annotate(n=Count("pk")).order_by()):
        values[(row["outcome"], _as_date(row["m"]))] += row["n"]
    return dict(values)


def _as_date(value):
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def pipeline(user, today: date | None = None) -> dict:
    """Rows per month and a total row, every count below k shown as "< k" and what would let
    one be worked out from the totals hidden as well."""
    today = today or timezone.localdate()
    months = months_shown(today)
    k = max(3, user.district.suppression_k)
    raw = counts(user, months)
    values = {}
    for measure, _label in MEASURES:
        for month in months:
            values[(measure, month)] = raw.get((measure, month), 0)
        values[(measure, TOTAL)] = sum(values[(measure, month)] for month in months)
    constraints = [Constraint((measure, TOTAL), tuple((measure, month) for month in months)) for measure, _ in MEASURES]
    result = suppress(values, constraints, k)
    hidden = result.hidden

    def cell(key):
        if key in hidden:
            return Cell(None, below_k=key in result.primary and not result.withheld, hidden=True)
        return Cell(values[key])

    rows = [{"month": month, "current": month == today.replace(day=1),
             "cells": [cell((measure, month)) for measure, _label in MEASURES]} for month in months]
    total = {"cells": [cell((measure, TOTAL)) for measure, _label in MEASURES]}
    return {"rows": rows, "total": total, "measures": [label for _key, label in MEASURES], "k": k,
            "withheld": result.withheld}
