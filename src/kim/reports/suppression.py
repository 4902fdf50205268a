"""Small-count suppression for readers outside the provider that owns the data.

Primary suppression shows every count below k as "< k" (zero included, so that "< k" means
0..k-1 and nothing more). Complementary suppression then hides further counts, all of at
least k, until no hidden value can be worked out exactly, nor a small one narrowed to less
than half its range, from the published ones.

A published table is a set of cells tied by sums: a parent row is the sum of its children,
the district column is the sum of the municipality columns (and of the provider columns).
The audit below is what an attacker does with those sums: it narrows each hidden cell to
an interval, knowing that "< k" lies in 0..k-1 and a hidden cell without range is at least
k. While some hidden cell's interval is a single value other than zero, the smallest
visible cell of a sum it takes part in is hidden as well; so it is while a small count's
interval is narrowed to less than half of 0..k-1 (other than an exact zero). Should nothing
be left to hide, the table is withheld as a whole.
"""

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

# An open upper bound: a hidden count of at least k has no known maximum.
UNBOUNDED = math.inf


@dataclass(frozen=True)
class Constraint:
    total: Hashable
    parts: tuple


@dataclass
class Suppression:
    primary: set
    complementary: set
    withheld: bool = False

    @property
    def hidden(self) -> set:
        return self.primary | self.complementary


def suppress(values: dict, constraints: Iterable[Constraint], k: int, given: dict | None = None) -> Suppression:
    """Cells of `values` to hide so that none of them can be recomputed from the rest.

    `primary` are the cells shown as "< k": every count from 0 to k-1, so that "< k" tells
    an attacker no more than 0..k-1. `complementary` are counts of at least k, shown as
    hidden: every visible count is at least k, so an attacker knows that much of them.
    `withheld` is set when no choice of cells protects the small ones; then nothing of the
    table is published.

    `given` are cells published elsewhere, with what an attacker knows of them: (low, high),
    e.g. a district's cells in the Land's view (kim.state_statistics): a value (v, v), "< k" (0, k-1),
    hidden (k, inf), unknown (0, inf). They are never hidden here (they are published already),
    but their sums are audited: a given hidden cell must not be worked out, nor a given small
    one narrowed, from the cells of `values`, which alone may be hidden further."""
    given = given or {}
    constraints = [c for c in constraints if c.parts]
    cells = set(values)
    for constraint in constraints:
        cells.update((constraint.total, *constraint.parts))
    cells -= set(given)
    primary = {cell for cell in cells if values.get(cell, 0) < k}
    complementary: set = set()
    involving = defaultdict(list)
    for constraint in constraints:
        involving[constraint.total].append(constraint)
        for part in constraint.parts:
            involving[part].append(constraint)

    given_hidden = {cell for cell, (low, high) in given.items() if low != high}
    given_small = {cell: high for cell, (low, high) in given.items() if low == 0 and high not in (0, UNBOUNDED)}
    while True:
        bounds = audit(values, primary, complementary, constraints, k, given)
        exposed = sorted((c for c in primary | complementary if _exposed(c, bounds[c], primary, k)), key=repr)
        exposed += sorted((c for c in given_hidden if _given_exposed(bounds[c], given_small.get(c))), key=repr)
        if not exposed:
            return Suppression(primary, complementary)
        changed = False
        for cell in exposed:
            candidate = _nearest_visible(cell, involving, values, primary | complementary | set(given))
            if candidate is not None:
                complementary.add(candidate)
                changed = True
        if not changed:
            return Suppression(set(), cells, withheld=True)


def _exposed(cell, bounds, primary, k) -> bool:
    """Whether the published cells tell too much of `cell`: any hidden count worked out
    exactly, or a small count ("< k": 0 to k-1) narrowed to less than half of that range
    ("at most 1" for k = 5: the second attack found such cells in R15). A cell worked out as
    zero tells nothing that a small count would hide. Some narrowing is in the marks
    themselves and cannot be hidden away: a small part of a hidden sum of at least k, beside
    a small sibling, is at least 1."""
    low, high = bounds
    if low == high:
        return low != 0
    return cell in primary and 0 < high < (k - 1) / 2


def _given_exposed(bounds, small_high) -> bool:
    """Like `_exposed`, for a cell published elsewhere: worked out (other than as zero), or a
    small one (0..small_high) narrowed to less than half of its range."""
    low, high = bounds
    if low == high:
        return low != 0
    return small_high is not None and 0 < high < small_high / 2


def _nearest_visible(cell, involving, values, hidden):
    """The cheapest visible cell in a sum with `cell`; where all of those are hidden already,
    the cheapest one in a sum with those hidden cells, and so on outwards: a hidden cell is
    worked out through its hidden neighbours too, so the protection may have to lie further
    out than the cell's own sums."""
    seen, frontier = {cell}, [cell]
    while frontier:
        candidates = [c for c in (_cheapest_visible(f, involving, values, hidden) for f in frontier) if c is not None]
        if candidates:
            return min(candidates, key=lambda c: (values.get(c, 0), repr(c)))
        neighbours = []
        for hidden_cell in frontier:
            for constraint in involving[hidden_cell]:
                for other in (constraint.total, *constraint.parts):
                    if other not in seen:
                        seen.add(other)
                        neighbours.append(other)
        frontier = neighbours
    return None


def _cheapest_visible(cell, involving, values, hidden):
    """The visible cell sharing a sum with `cell` whose hiding costs least: the smallest
    part, then the total (every visible cell is a count of at least k)."""
    best = None
    for constraint in involving[cell]:
        for candidate, is_total in [(p, False) for p in constraint.parts] + [(constraint.total, True)]:
            if candidate in hidden or candidate == cell:
                continue
            value = values.get(candidate, 0)
            rank = (is_total, value, repr(candidate))
            if best is None or rank < best[0]:
                best = (rank, candidate)
    return best[1] if best else None


def audit(values: dict, primary: set, complementary: set, constraints: list, k: int, given: dict | None = None) -> dict:
    """Interval of each cell that an attacker can derive from the published cells (and from
    what is `given` of cells published elsewhere, see `suppress`)."""
    given = given or {}
    cells = set(values)
    for constraint in constraints:
        cells.update((constraint.total, *constraint.parts))
    bounds = {}
    for cell in cells:  # a cell absent from `values` is a zero
        if cell in given:
            bounds[cell] = list(given[cell])
        elif cell in primary:
            bounds[cell] = [0, k - 1]
        elif cell in complementary:
            bounds[cell] = [k, UNBOUNDED]
        else:
            value = values.get(cell, 0)
            bounds[cell] = [value, value]
    for _round in range(200):
        changed = False
        for constraint in constraints:
            changed |= _tighten(bounds, constraint)
        if not changed:
            break
    return {cell: tuple(b) for cell, b in bounds.items()}


def _tighten(bounds: dict, constraint: Constraint) -> bool:
    """total = sum(parts): narrow the total from the parts and each part from the rest."""
    total = bounds[constraint.total]
    parts = [bounds[p] for p in constraint.parts]
    low_sum = sum(b[0] for b in parts)
    open_ended = sum(1 for b in parts if b[1] == UNBOUNDED)
    finite_high = sum(b[1] for b in parts if b[1] != UNBOUNDED)
    high_sum = UNBOUNDED if open_ended else finite_high
    changed = False
    if low_sum > total[0]:
        total[0], changed = low_sum, True
    if high_sum < total[1]:
        total[1], changed = high_sum, True
    for b in parts:
        if b[1] == UNBOUNDED:
            others_high = UNBOUNDED if open_ended > 1 else finite_high
        else:
            others_high = UNBOUNDED if open_ended else finite_high - b[1]
        new_low = b[0] if others_high == UNBOUNDED else max(b[0], total[0] - others_high)
        new_high = b[1] if total[1] == UNBOUNDED else min(b[1], total[1] - (low_sum - b[0]))
        if new_low != b[0] or new_high != b[1]:
            b[0], b[1], changed = new_low, new_high, True
    return changed
