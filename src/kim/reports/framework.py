"""The report framework: a registry of report classes, their parameters, and the one place
that turns a report's grouped counts into a table for a reader, suppression included.

A report class only says which rows it has and how to count them in the database
(`row_specs` and `counts`). Everything else (periods, filters, shares, year-on-year
columns, totals, suppression for aggregate readers) happens here, the same for all."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kim.casework.models import Appointment, Case, Goal
from kim.core.models import Municipality, Provider

from .periods import Period
from .questions import (  # noqa: F401 - the question's names, also imported from here
    MUNICIPALITY,
    PROVIDER,
    ParamError,
    ReportParams,
    check_question,
    default_params,
    parse_params,
)
from .suppression import Constraint, suppress

REGISTRY: dict[str, type["Report"]] = {}
TOTAL = "*"  # the member of a split that stands for all members together


def register(report_class):
    """Class decorator: adding a report is one class with this decorator."""
    if report_class.id in REGISTRY:
        raise ValueError(f"report {report_class.id} is registered twice")
    REGISTRY[report_class.id] = report_class
    return report_class


def get_report(report_id: str) -> "Report":
    try:
        return REGISTRY[report_id.upper()]()
    except KeyError:
        raise ParamError(_("There is no report %(id)s.") % {"id": report_id}) from None


def registered_reports(user=None) -> list["Report"]:
    """Every report, or those `user` may read (the module 1 reports are not for every role)."""
    reports = [cls() for _key, cls in sorted(REGISTRY.items(), key=lambda item: int(item[0][1:]))]
    return [report for report in reports if user is None or user.has_perm(report.permission)]


# ---------------------------------------------------------------- report classes


@dataclass(frozen=True)
class RowSpec:
    key: object
    label: str
    level: int = 0
    # The row whose figure this row is a part of; shares are of the parent.
    parent: object = None
    # Whether this row's figure is the sum of its children's (a published sum).
    sums_children: bool = False
    show_share: bool = True
    # False for a row of text only (R11's reported problems): it has no counts to show or hide.
    counted: bool = True


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    # count: a number of records, suppressed for aggregate readers; number: a figure about
    # staff such as FTE, never suppressed; derived: computed from other measures; text: a
    # category such as a utilisation band.
    kind: str = "count"
    share: bool = True
    decimals: int = 0
    percent: bool = False
    # Shown only to readers who own the data; hidden for aggregate readers.
    private: bool = False
    # For a derived measure: the counted measures it is computed from (default: all); it is
    # hidden wherever one of them is.
    inputs: tuple = ()


class Report:
    id = ""
    title = ""
    description = ""
    # Who may read it (kim.core.permissions); checked with every question.
    permission = "reports.read"
    # The cuts a reader may ask for (R9 is the district's grant: none; R13 counts offices: no provider).
    cuts = ("municipality", "provider")
    # Whether a column of the same period one year earlier can be added.
    comparable = True
    uses_period = True
    uses_reference_date = False
    uses_top = False
    # False only for a report that shows aggregate readers no count at all (R10: FTE and key).
    suppressible = True
    # False for a report of no records about people (R8 staffing, R9 funding): the rules that
    # keep small counts from being worked out (whole ended years, two reference days) do not apply.
    counts_people = True
    # Said to aggregate readers with the table (page, every download): what they do not see.
    aggregate_note = ""
    # Rows per provider only for aggregate readers (R15): no rows per case manager, no cut by
    # municipality (reports/questions.py).
    per_provider_for_aggregate_readers = False
    # Roles that own this report's records within their own scope (R13: module 3 for the offices
    # it belongs to): like case managers, they read it without suppression and for any period.
    owner_roles: frozenset = frozenset()
    measures = (Measure("n", gettext_lazy("Number")),)
    chart_measure = "n"
    # Counted measures that add up to another in every cell: (total, (parts...)). Suppression
    # knows these sums too, so that a hidden part cannot be worked out as total minus the rest.
    measure_sums: tuple = ()

    def row_specs(self, context: "Context", params: ReportParams) -> list[RowSpec]:
        raise NotImplementedError

    def counts(self, context: "Context", period: Period, params: ReportParams, split: str) -> dict:
        """{measure key: {row key: {member: number}}} from grouped queries, where member is
        the municipality or provider id (None where a record has none)."""
        raise NotImplementedError

    def counts_by_split(self, context: "Context", period: Period, params: ReportParams, splits: tuple) -> dict:
        """{split: counts(...)} for each split the table needs (suppression needs both). A report
        may answer them all from one grouped query instead of one per split (definitions.grouped)."""
        return {split: self.counts(context, period, params, split) for split in splits}

    def check_params(self, params: ReportParams):
        """Refuse (ParamError) a question this report cannot answer, e.g. R9 for half a year."""

    def derive(self, values: dict, row: RowSpec, context: "Context", member) -> dict:
        """Measures computed from the counted ones, e.g. cases per FTE (R10)."""
        return {}

    def choose_rows(self, rows: list[RowSpec], values: dict, params: ReportParams) -> list[RowSpec]:
        """The rows to publish, e.g. the top five topics (R2). Default: all of them."""
        return rows


# ---------------------------------------------------------------- context


class Context:
    """Who reads, in which district, and the record sets they may count.

    The querysets come from `for_statistics`, the aggregate-only door of each personal-data
    manager: owners of the data count what they may see, aggregate readers the district."""

    def __init__(self, user, params: ReportParams | None = None, report: "Report | None" = None):
        if user.district_id is None or not user.is_active:
            raise ParamError(_("Reports need a user of a district."))
        self.user = user
        self.district = user.district
        self.suppressed = not user.sees_personal_data and not (report and user.role in report.owner_roles)
        self.k = max(3, self.district.suppression_k)
        self.provider_filter = None
        if params and params.provider_id and not self.suppressed:
            self.provider_filter = params.provider_id
        self._labels = {}

    def _narrow(self, queryset, provider_path):
        if self.provider_filter:
            queryset = queryset.filter(**{provider_path: self.provider_filter})
        return queryset

    def cases(self):
        return self._narrow(Case.objects.for_statistics(self.user), "provider_id")

    def appointments(self):
        return self._narrow(Appointment.objects.for_statistics(self.user), "provider_id")

    def goals(self):
        return self._narrow(Goal.objects.for_statistics(self.user), "case__provider_id")

    def member_label(self, split: str, member) -> str:
        if member is None:
            return _("not assigned")
        if split not in self._labels:
            model = Municipality if split == MUNICIPALITY else Provider
            self._labels[split] = dict(model.objects.values_list("pk", "name"))
        return self._labels[split].get(member, str(member))


# ---------------------------------------------------------------- result


@dataclass
class Column:
    key: str
    label: str
    measure: Measure
    period: Period | None
    is_share: bool = False
    # The label with the period when a table compares periods; the period stands in the
    # parameters line otherwise.
    heading: str = ""


@dataclass
class Row:
    key: object
    label: str
    level: int
    values: dict = field(default_factory=dict)  # column key -> number or None
    suppressed: set = field(default_factory=set)  # column keys hidden by suppression
    below_k: set = field(default_factory=set)  # of those, the cells shown as "< k"
    is_total: bool = False
    sums_children: bool = False  # the figure is the sum of the rows one level below


@dataclass
class Table:
    report: Report
    params: ReportParams
    described: dict
    columns: list[Column]
    rows: list[Row]
    suppressed_for_reader: bool
    k: int
    # No choice of hidden cells protected the small counts: nothing is published.
    withheld: bool = False
    generated_at: object = field(default_factory=timezone.now)
    # What this reader does not see and why (Report.aggregate_note, for aggregate readers).
    note: str = ""

    def chart_data(self):
        """(label, value) of the chart: first period's chart measure, top level rows under
        the total, suppressed values left out (the chart never shows more than the table)."""
        if not self.report.chart_measure:
            return []  # a report without a chart (R8, R9, R12)
        key = f"{self.report.chart_measure}@0"
        totals = [r for r in self.rows if r.is_total]
        rows = [r for r in self.rows if not r.is_total]
        level = totals[0].level + 1 if totals else min((r.level for r in rows), default=0)
        return [(r.label, r.values.get(key)) for r in rows if r.level == level and key not in r.suppressed]


# ---------------------------------------------------------------- building a table


def build_table(user, report: Report | str, params: ReportParams) -> Table:
    """The report for this reader: scoped, filtered and, for aggregate readers, suppressed."""
    if isinstance(report, str):
        report = get_report(report)
    context = Context(user, params, report)
    check_question(user, report, params)
    suppressing = context.suppressed and report.suppressible
    periods = [params.period] + ([params.period.year_before()] if params.compare else [])
    if not report.uses_period:
        periods = [params.period]
    specs = report.row_specs(context, params)
    columns, cells, hidden, below, withheld = [], {}, set(), set(), False
    member, split = _published_member(context, params)
    for index, period in enumerate(periods):
        # Suppression always sees both splits, in the same order whatever the filter, so
        # that every table cut from the same records hides the same cells.
        needed = (MUNICIPALITY, PROVIDER) if suppressing else (split,)
        by_split = report.counts_by_split(context, period, params, needed)
        period_cells, period_hidden, period_below, period_withheld = _cells_for_member(
            report, specs, by_split, split, member, context, suppressing
        )
        withheld |= period_withheld
        for measure in report.measures:
            if measure.private and context.suppressed:
                continue  # not shown to aggregate readers at all
            label = measure.label or report.title
            columns.append(Column(f"{measure.key}@{index}", label, measure, period if report.uses_period else None))
            if measure.share:
                columns.append(Column(f"{measure.key}%@{index}", _("Share"), measure, period, is_share=True))
        for (row_key, measure_key), value in period_cells.items():
            cells[(row_key, f"{measure_key}@{index}")] = value
        hidden |= {(r, f"{m}@{index}") for r, m in period_hidden}
        below |= {(r, f"{m}@{index}") for r, m in period_below}
    for column in columns:
        column.heading = str(column.label) + (f" {column.period.label}" if len(periods) > 1 and column.period else "")
    # Rows are chosen (ranked, left out) from what the reader may see, never from hidden values.
    visible = {key: (None if key in hidden else value) for key, value in cells.items()}
    chosen = report.choose_rows(specs, visible, params)
    rows = _rows(chosen, specs, columns, cells, hidden, below)
    return Table(
        report=report, params=params, described=params.describe(report, context), columns=columns,
        rows=rows, suppressed_for_reader=suppressing, k=context.k, withheld=withheld,
        note=str(report.aggregate_note) if context.suppressed else "",
    )


def _published_member(context: Context, params: ReportParams):
    if params.provider_id and context.suppressed:
        return params.provider_id, PROVIDER
    return (params.municipality_id or TOTAL), MUNICIPALITY


def _cells_for_member(report, all_specs, by_split, split, member, context, suppressing):
    """Values of the published column, and which of them are hidden."""
    count_measures = [m for m in report.measures if m.kind == "count"]
    values = {}
    specs = [spec for spec in all_specs if spec.counted]
    for split_name, counted in by_split.items():
        for measure in count_measures:
            per_row = counted.get(measure.key, {})
            for spec in specs:
                members = per_row.get(spec.key, {})
                for m, value in members.items():
                    values[(measure.key, spec.key, split_name, m)] = value
                values[(measure.key, spec.key, TOTAL)] = sum(members.values())
    hidden = below = set()
    withheld = False
    if suppressing:
        result = suppress(values, _constraints(report, specs, by_split, count_measures), context.k)
        hidden, below, withheld = result.hidden, result.primary, result.withheld

    def cell_key(measure_key, row_key):
        if member == TOTAL:
            return (measure_key, row_key, TOTAL)
        return (measure_key, row_key, split, member)

    cells, hidden_cells, below_cells = {}, set(), set()
    for measure in report.measures:
        if measure.kind != "count":
            continue
        for spec in specs:
            key = cell_key(measure.key, spec.key)
            value = cells[(spec.key, measure.key)] = values.get(key, 0)
            if key in hidden or (suppressing and value < context.k):
                hidden_cells.add((spec.key, measure.key))
            if not withheld and (key in below or (suppressing and value < context.k)):
                below_cells.add((spec.key, measure.key))
    specs = all_specs
    for spec in specs:
        row_values = {m: cells.get((spec.key, m)) for m in [x.key for x in count_measures]}
        for key, value in report.derive(row_values, spec, context, None if member == TOTAL else member).items():
            cells[(spec.key, key)] = value
            measure = next(m for m in report.measures if m.key == key)
            inputs = measure.inputs or [m.key for m in count_measures]
            if measure.kind == "derived" and any((spec.key, name) in hidden_cells for name in inputs):
                hidden_cells.add((spec.key, key))
    if context.suppressed:
        for measure in report.measures:
            if measure.private:
                hidden_cells |= {(spec.key, measure.key) for spec in specs}
    for spec in specs:
        for measure in report.measures:
            if not measure.share:
                continue
            share_key = f"{measure.key}%"
            parent = spec.parent
            if parent is None or not spec.show_share:
                cells[(spec.key, share_key)] = None
                continue
            numerator, denominator = cells.get((spec.key, measure.key)), cells.get((parent, measure.key))
            cells[(spec.key, share_key)] = (
                Decimal(numerator) / Decimal(denominator) if numerator is not None and denominator else None
            )
            if (spec.key, measure.key) in hidden_cells or (parent, measure.key) in hidden_cells:
                hidden_cells.add((spec.key, share_key))
    return cells, hidden_cells, below_cells, withheld


def _constraints(report, specs, by_split, count_measures):
    children = {}
    for spec in specs:
        children.setdefault(spec.parent, []).append(spec.key)
    summing = [s for s in specs if s.sums_children and children.get(s.key)]
    constraints = []
    for split_name, counted in by_split.items():
        for measure in count_measures:
            per_row = counted.get(measure.key, {})
            members = set()
            for spec in specs:
                members |= set(per_row.get(spec.key, {}))
            for spec in specs:
                constraints.append(Constraint(
                    (measure.key, spec.key, TOTAL),
                    tuple((measure.key, spec.key, split_name, m) for m in sorted(members, key=repr)),
                ))
            for parent in summing:
                constraints.append(Constraint(
                    (measure.key, parent.key, TOTAL),
                    tuple((measure.key, c, TOTAL) for c in children[parent.key]),
                ))
                for m in members:
                    constraints.append(Constraint(
                        (measure.key, parent.key, split_name, m),
                        tuple((measure.key, c, split_name, m) for c in children[parent.key]),
                    ))
        constraints += _measure_sum_constraints(report, specs, counted, split_name)
    return constraints


def _measure_sum_constraints(report, specs, counted, split_name):
    """Each cell of a total measure is the sum of its parts' cells in the same row and column."""
    constraints = []
    for total, parts in report.measure_sums:
        members = set()
        for measure_key in (total, *parts):
            for spec in specs:
                members |= set(counted.get(measure_key, {}).get(spec.key, {}))
        for spec in specs:
            for column in [(TOTAL,), *((split_name, m) for m in sorted(members, key=repr))]:
                constraints.append(Constraint((total, spec.key, *column),
                                              tuple((part, spec.key, *column) for part in parts)))
    return constraints


def _rows(chosen, specs, columns, cells, hidden, below):
    total_keys = {s.key for s in specs if s.parent is None and (s.sums_children or s.key == "total")}
    rows = []
    for spec in chosen:
        row = Row(key=spec.key, label=str(spec.label), level=spec.level, is_total=spec.key in total_keys,
                  sums_children=spec.sums_children)
        for column in columns:
            row.values[column.key] = cells.get((spec.key, column.key))
            if (spec.key, column.key) in hidden:
                row.suppressed.add(column.key)
                row.values[column.key] = None
            if (spec.key, column.key) in below:
                row.below_k.add(column.key)
        rows.append(row)
    return rows
