"""The Land's view: the districts' published tables side by side and their sum, with
suppression applied once more across the district dimension.

An extract carries what the district may publish: a hidden cell arrives without its value.
So the Land's total of a row is known only where every district's cell is; elsewhere it is
hidden too. Beyond that, `kim.reports.suppression.suppress` audits the Land's table with the
districts' cells as given (published elsewhere): Land = sum of the districts in every row, a
parent row = sum of its children in every column, and the report's sums of measures (R15).
Should any hidden district cell, or a hidden Land total, be worked out from the Land's
figures (other than as zero), further Land totals are hidden until none is.

The same function serves the Land's installation (extracts imported from files) and a single
installation with several districts (extracts built in memory, `local_extracts`), so both
give the same numbers."""

import math
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from kim.reports.framework import REGISTRY
from kim.reports.suppression import Constraint, suppress

from .extract import COUNTED_REPORTS, STAFFING_REPORTS, TOTAL_CUT, build_extract, expected_columns

LAND = "*"  # the column of the Land: the sum of the districts
# Figures that are the district's setting, not an amount: no Land total.
NOT_ADDED = {"key"}


@dataclass
class Cell:
    value: object = None
    hidden: bool = False  # hidden: by the district's suppression, or by the Land's
    below_k: bool = False  # of those, shown as "< k"
    absent: bool = False  # the district's table has no such row (a zero, shown as "–")
    unknown: bool = False  # the district withheld the whole table: nothing is known of the cell


@dataclass
class StateRow:
    key: str
    label: str
    level: int
    sums_children: bool
    parent: str | None
    cells: dict = field(default_factory=dict)  # (column key, district slug or LAND) -> Cell


@dataclass
class StateTable:
    report_id: str
    title: str
    description: str
    year: int
    columns: list  # [{key, label, measure, unit}] of the counts and figures
    districts: list  # [{slug, name, k}]
    rows: list
    suppressed: bool
    k: int
    withheld: bool = False

    def column(self, key):
        return next(c for c in self.columns if c["key"] == key)


def local_extracts(districts, year: int) -> list[dict]:
    """The extracts of this installation's districts, built in memory as an export builds them."""
    return [build_extract(district, year) for district in districts]


def state_table(report_id: str, extracts: list[dict]) -> StateTable:
    """The report `report_id` for the Land: one column per district and the Land's sum."""
    extracts = sorted(extracts, key=lambda e: e["district"]["slug"])
    years = {e["year"] for e in extracts}
    if len(years) > 1:
        raise ValueError(_("The extracts are of different years."))
    tables = {e["district"]["slug"]: e["reports"][report_id]["cuts"][TOTAL_CUT] for e in extracts}
    first = extracts[0]["reports"][report_id] if extracts else {"title": report_id, "description": ""}
    columns = _columns(report_id)
    districts = [{"slug": e["district"]["slug"], "name": e["district"]["name"], "k": e["district"]["suppression_k"]}
                 for e in extracts]
    rows = _rows(tables)
    suppressed = report_id in COUNTED_REPORTS and bool(first.get("suppressed"))
    table = StateTable(
        report_id=report_id, title=first["title"], description=first["description"],
        year=years.pop() if years else None, columns=columns, districts=districts, rows=rows, suppressed=suppressed,
        k=min((d["k"] for d in districts), default=5),
    )
    _fill_districts(table, tables)
    _add_up(table)
    if suppressed:
        _suppress_across_districts(table)
    return table


def state_tables(extracts: list[dict]) -> dict:
    return {report_id: state_table(report_id, extracts) for report_id in COUNTED_REPORTS + STAFFING_REPORTS}


def _columns(report_id) -> list:
    """The counted and the numeric columns of this installation's definition of the report (the
    import takes only extracts with exactly these), never those of whichever district comes first."""
    return [c for c in expected_columns(report_id) if c["unit"] in ("count", "number")]


def _rows(tables) -> list[StateRow]:
    """The union of the districts' rows; a row one district has alone (its own catalogue entry,
    provider or town) stands after the row it follows there."""
    order, rows = [], {}
    for table in tables.values():
        previous, parents = None, []
        for row in table["rows"]:
            level = row["level"]
            parents = [p for p in parents if p[0] < level]
            parent = parents[-1][1] if parents else None
            parents.append((level, row["key"]))
            if row["key"] not in rows:
                rows[row["key"]] = StateRow(row["key"], row["label"], level, row["sum_of_children"], parent)
                position = order.index(previous) + 1 if previous in order else len(order)
                order.insert(position, row["key"])
            previous = row["key"]
    return [rows[key] for key in order]


def _fill_districts(table: StateTable, tables: dict):
    for slug, district_table in tables.items():
        withheld = district_table["suppression"]["withheld"]
        by_key = {row["key"]: row for row in district_table["rows"]}
        for row in table.rows:
            published = by_key.get(row.key)
            for column in table.columns:
                key = column["key"]
                if published is None:
                    cell = Cell(0 if column["unit"] == "count" else None, absent=True)
                elif withheld and column["unit"] == "count":
                    cell = Cell(None, hidden=True, unknown=True)
                elif key in published["suppressed"]:
                    cell = Cell(None, hidden=True, below_k=key in published["below_k"])
                else:
                    cell = Cell(published["values"].get(key))
                row.cells[(key, slug)] = cell


def _add_up(table: StateTable):
    """The Land's column: the sum of the districts' cells where each is known."""
    for row in table.rows:
        for column in table.columns:
            key = column["key"]
            parts = [row.cells[(key, d["slug"])] for d in table.districts]
            if column["measure"] in NOT_ADDED:
                row.cells[(key, LAND)] = Cell(None)
            elif any(p.hidden for p in parts):
                row.cells[(key, LAND)] = Cell(None, hidden=True)
            elif column["unit"] == "count":
                row.cells[(key, LAND)] = Cell(sum(p.value or 0 for p in parts))
            else:
                known = [p.value for p in parts if p.value is not None]
                row.cells[(key, LAND)] = Cell(round(sum(known), 2) if known else None)


def _suppress_across_districts(table: StateTable):
    """Secondary suppression across districts (see the module's description)."""
    counted = [c["key"] for c in table.columns if c["unit"] == "count"]
    slugs = {d["slug"]: d["k"] for d in table.districts}
    values, given = {}, {}
    for row in table.rows:
        for key in counted:
            land = row.cells[(key, LAND)]
            if land.hidden:
                given[(row.key, key, LAND)] = (0, math.inf)
            else:
                values[(row.key, key, LAND)] = land.value
            for slug, k in slugs.items():
                cell = row.cells[(key, slug)]
                if not cell.hidden:
                    given[(row.key, key, slug)] = (cell.value, cell.value)
                elif cell.unknown:
                    given[(row.key, key, slug)] = (0, math.inf)
                elif cell.below_k:
                    given[(row.key, key, slug)] = (0, k - 1)
                else:
                    given[(row.key, key, slug)] = (k, math.inf)
    result = suppress(values, _constraints(table, counted, [*slugs, LAND]), table.k, given=given)
    if result.withheld:
        table.withheld = True
    for row in table.rows:
        for key in counted:
            if (row.key, key, LAND) in result.hidden or table.withheld:
                land = row.cells[(key, LAND)]
                land.hidden, land.value = True, None
                land.below_k = (row.key, key, LAND) in result.primary and not table.withheld


def _constraints(table, counted, columns) -> list[Constraint]:
    slugs = [c for c in columns if c != LAND]
    constraints = []
    children = {}
    for row in table.rows:
        children.setdefault(row.parent, []).append(row.key)
    measure_keys = {c["key"]: c["measure"] for c in table.columns}
    report = REGISTRY.get(table.report_id)
    sums = getattr(report, "measure_sums", ()) if report else ()
    for row in table.rows:
        for key in counted:
            constraints.append(Constraint((row.key, key, LAND), tuple((row.key, key, s) for s in slugs)))
            if row.sums_children and children.get(row.key):
                for column in columns:
                    constraints.append(Constraint((row.key, key, column),
                                                  tuple((child, key, column) for child in children[row.key])))
        for total, parts in sums:
            column_of = {measure: key for key, measure in measure_keys.items()}
            if total in column_of and all(p in column_of for p in parts):
                for column in columns:
                    constraints.append(Constraint((row.key, column_of[total], column),
                                                  tuple((row.key, column_of[p], column) for p in parts)))
    return constraints
