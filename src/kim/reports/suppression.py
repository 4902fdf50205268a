"""Small-count suppression for readers outside the provider that owns the data.

Primary suppression hides every count from 1 to k-1. Complementary suppression then hides
further cells until no hidden value can be worked out exactly from the published ones.

A published table is a set of cells tied by sums: a parent row is the sum of its children,
the district column is the sum of the municipality columns (and of the provider columns).
The audit below is what an attacker does with those sums: it narrows each hidden cell to
an interval, knowing that a cell shown as "< k" lies in 1..k-1 and that any other hidden
cell is a count of at least k (only non-zero cells are ever hidden, and every non-zero
count below k is already primary). While some hidden cell's interval is a single value,
the smallest visible non-zero cell of a sum it takes part in is hidden as well.
"""

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

# Larger than any count; an open upper bound without float arithmetic.
UNBOUNDED = 10**12


@dataclass(frozen=True)
class Constraint:
    total: Hashable
    parts: tuple


@dataclass
class Suppression:
    primary: set
    complementary: set

    @property
    def hidden(self) -> set:
        return self.primary | self.complementary


def suppress(values: dict, constraints: Iterable[Constraint], k: int) -> Suppression:
    """Cells of `values` to hide so that none of them can be recomputed from the rest."""
    constraints = [c for c in constraints if c.parts]
    primary = {cell for cell, value in values.items() if 0 < value < k}
    complementary: set = set()
    involving = defaultdict(list)
    for constraint in constraints:
        involving[constraint.total].append(constraint)
        for part in constraint.parts:
            involving[part].append(constraint)

    while True:
        bounds = audit(values, primary, complementary, constraints, k)
        exposed = sorted((c for c in primary | complementary if bounds[c][0] == bounds[c][1]), key=repr)
        if not exposed:
            return Suppression(primary, complementary)
        added = False
        for cell in exposed:
            candidate = _cheapest_visible(cell, involving, values, primary | complementary)
            if candidate is not None:
                complementary.add(candidate)
                added = True
        if not added:  # everything around is hidden already; nothing more can be done
            return Suppression(primary, complementary)


def _cheapest_visible(cell, involving, values, hidden):
    """The smallest visible non-zero cell sharing a sum with `cell`; parts before totals."""
    best = None
    for constraint in involving[cell]:
        for candidate, is_total in [(p, False) for p in constraint.parts] + [(constraint.total, True)]:
            if candidate in hidden or candidate == cell or values.get(candidate, 0) == 0:
                continue
            rank = (is_total, values[candidate], repr(candidate))
            if best is None or rank < best[0]:
                best = (rank, candidate)
    return best[1] if best else None


def audit(values: dict, primary: set, complementary: set, constraints: list, k: int) -> dict:
    """Interval of each cell that an attacker can derive from the published cells."""
    bounds = {}
    for cell, value in values.items():
        if cell in primary:
            bounds[cell] = [1, k - 1]
        elif cell in complementary:
            bounds[cell] = [k, UNBOUNDED]
        else:
            bounds[cell] = [value, value]
    for constraint in constraints:
        for cell in (constraint.total, *constraint.parts):
            bounds.setdefault(cell, [0, 0])  # absent cells are published zeros
    for _round in range(200):
        changed = False
        for constraint in constraints:
            changed |= _tighten(bounds, constraint)
        if not changed:
            break
    return {cell: tuple(b) for cell, b in bounds.items()}


def _tighten(bounds: dict, constraint: Constraint) -> bool:
    total = bounds[constraint.total]
    parts = [bounds[p] for p in constraint.parts]
    low_sum = sum(b[0] for b in parts)
    high_sum = min(sum(b[1] for b in parts), UNBOUNDED)
    changed = False
    if low_sum > total[0]:
        total[0], changed = low_sum, True
    if high_sum < total[1]:
        total[1], changed = high_sum, True
    for b in parts:
        others_low = low_sum - b[0]
        others_high = sum(o[1] for o in parts if o is not b) if b[1] >= UNBOUNDED else high_sum - b[1]
        new_low = max(b[0], total[0] - min(others_high, UNBOUNDED))
        new_high = min(b[1], total[1] - others_low)
        if new_low != b[0] or new_high != b[1]:
            b[0], b[1], changed = new_low, new_high, True
    return changed
