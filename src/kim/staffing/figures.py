"""What the staffing records say on a day or over a year: FTE approved, filled and not yet
filled, FTE-months, and the grant by the year's rates. Everything is computed from the
records of one district in a few queries; the loops run over positions, not over people."""

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum

from .models import LUMP_SUMS, MODULE_OF, PER_FTE, Filling, Module, Position, Rate, Vacancy, running_on

ZERO = Decimal(0)
CENT = Decimal("0.01")


def positions_on(day):
    return Position.objects.filter(running_on(day, "approved_from", "approved_until"))


def filled_on(day) -> dict:
    """{position id: FTE filled on `day`}."""
    rows = Filling.objects.filter(running_on(day)).values("position").annotate(fte=Sum("fte")).order_by()
    return {row["position"]: row["fte"] for row in rows}


def holders_on(day) -> dict:
    """{position id: the holders of the fillings running on `day`}: an account's id, a name as
    written, or None for a filling without a name (an imported table says FTE, not people)."""
    result = defaultdict(set)
    for position, person, holder in Filling.objects.filter(running_on(day)).values_list("position", "person", "holder"):
        result[position].add(("account", person) if person else (("name", holder.strip().casefold())
                                                                  if holder.strip() else None))
    return dict(result)


def vacant_on(day) -> dict:
    """{position id: FTE advertised and not yet filled on `day`}."""
    rows = Vacancy.objects.filter(running_on(day)).values("position").annotate(fte=Sum("fte")).order_by()
    return {row["position"]: row["fte"] for row in rows}


def person_fte_by_town_on(day, functions, person=None) -> dict:
    """{(user id, municipality id or None): FTE} of the posts of `functions` people fill on
    `day` (R10's FTE), of everyone or of one `person`."""
    fillings = Filling.objects.filter(person=person) if person is not None else Filling.objects.all()
    rows = (fillings.filter(running_on(day), person__isnull=False, position__function__in=functions)
            .filter(running_on(day, "position__approved_from", "position__approved_until"))
            .values("person", "position__municipality").annotate(fte=Sum("fte")).order_by())
    return {(row["person"], row["position__municipality"]): row["fte"] for row in rows}


# ---------------------------------------------------------------- months of a year

def month_shares(start, end, year) -> list[Decimal]:
    """For each month of `year`, the share of its days inside [start, end] (end None: open)."""
    shares = []
    for month in range(1, 13):
        days = calendar.monthrange(year, month)[1]
        first, last = date(year, month, 1), date(year, month, days)
        lo, hi = max(first, start), min(last, end or last)
        shares.append(Decimal((hi - lo).days + 1) / days if lo <= hi else ZERO)
    return shares


# ---------------------------------------------------------------- rates

def rates_for(district, year) -> dict:
    """{(expense, function): (amount, source, own)} for `year`: the district's own rate where it
    has one, the statewide default otherwise."""
    result = {}
    for rate in Rate.objects.filter(year=year, district__isnull=True):
        result[(rate.expense, rate.function)] = (rate.amount, rate.source, False)
    for rate in Rate.objects.filter(year=year, district=district):
        result[(rate.expense, rate.function)] = (rate.amount, rate.source, True)
    return result


def per_fte_rate(rates, function) -> Decimal:
    return sum((rates.get((expense, function), (ZERO,))[0] for expense in PER_FTE), ZERO)


# ---------------------------------------------------------------- the grant of a year

@dataclass
class PositionFunds:
    position: Position
    fte_months: Decimal  # approved FTE × months of the year it is approved
    filled_months: Decimal  # filled FTE × months, at most the approved FTE in any month
    granted: Decimal
    spent: Decimal


@dataclass
class Grant:
    year: int
    positions: list = field(default_factory=list)
    lump_sums: dict = field(default_factory=dict)  # {expense: amount}
    rates: dict = field(default_factory=dict)

    def by_function(self) -> dict:
        """{function: {"fte", "granted", "spent"}}, FTE as the average approved over the year."""
        result = defaultdict(lambda: {"fte": ZERO, "granted": ZERO, "spent": ZERO})
        for item in self.positions:
            entry = result[item.position.function]
            entry["fte"] += item.fte_months / 12
            entry["granted"] += item.granted
            entry["spent"] += item.spent
        return dict(result)

    def by_module(self) -> dict:
        result = defaultdict(lambda: {"fte": ZERO, "granted": ZERO, "spent": ZERO})
        for function, entry in self.by_function().items():
            for key in entry:
                result[MODULE_OF[function]][key] += entry[key]
        return dict(result)

    @property
    def positions_total(self) -> Decimal:
        return sum((item.granted for item in self.positions), ZERO)

    @property
    def total(self) -> Decimal:
        return self.positions_total + sum(self.lump_sums.values(), ZERO)

    @property
    def spent(self) -> Decimal:
        return sum((item.spent for item in self.positions), ZERO)

    def passed_on(self) -> dict:
        """{provider: amount} of the positions whose funds go on to a town or provider."""
        result = defaultdict(lambda: ZERO)
        for item in self.positions:
            if item.position.passed_on_to_id:
                result[item.position.passed_on_to] += item.granted
        return dict(result)


def euros(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def grant(district, year: int) -> Grant:
    """Approved positions × the year's rates, pro rata by the days of each month a position is
    approved, plus the lump sums where module 1 is funded; beside it what was spent: filled
    FTE-months (never more than approved in a month) × the same rates."""
    rates = rates_for(district, year)
    first, last = date(year, 1, 1), date(year, 12, 31)
    positions = list(Position.objects.filter(approved_from__lte=last).exclude(approved_until__lt=first)
                     .select_related("municipality", "employer", "passed_on_to"))
    fillings = defaultdict(list)
    for filling in Filling.objects.filter(position__in=positions, starts_on__lte=last).exclude(ends_on__lt=first):
        fillings[filling.position_id].append(filling)
    result = Grant(year=year, rates=rates)
    for position in positions:
        approved = [position.fte_approved * share for share in
                    month_shares(position.approved_from, position.approved_until, year)]
        filled = [ZERO] * 12
        for filling in fillings[position.pk]:
            for index, share in enumerate(month_shares(filling.starts_on, filling.ends_on, year)):
                filled[index] += filling.fte * share
        filled = [min(f, a) for f, a in zip(filled, approved, strict=True)]
        rate = per_fte_rate(rates, position.function)
        fte_months, filled_months = sum(approved, ZERO), sum(filled, ZERO)
        result.positions.append(PositionFunds(position, fte_months, filled_months,
                                              euros(rate * fte_months / 12), euros(rate * filled_months / 12)))
    if any(item.position.module == Module.STRATEGIC and item.fte_months for item in result.positions):
        result.lump_sums = {expense: rates.get((expense, ""), (ZERO,))[0] for expense in LUMP_SUMS}
    return result


# ---------------------------------------------------------------- staffing on a day

@dataclass
class StaffingRow:
    position: Position
    approved: Decimal
    filled: Decimal
    vacant: Decimal
    holders: frozenset = frozenset()


def staffing_on(day) -> list[StaffingRow]:
    """Every position approved on `day` with its FTE approved, filled and not yet filled."""
    filled, vacant, holders = filled_on(day), vacant_on(day), holders_on(day)
    return [StaffingRow(position, position.fte_approved, filled.get(position.pk, ZERO), vacant.get(position.pk, ZERO),
                        frozenset(holders.get(position.pk, ())))
            for position in positions_on(day).select_related("municipality", "employer", "passed_on_to")]

