"""R8 (staffing), R9 (funding) and R16 (time split of case managers) in the report registry, so
that page, downloads, API and committee paper show them like every other report."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kim.casework.models import Appointment
from kim.reports.definitions import StaffReport, grouped
from kim.reports.framework import MUNICIPALITY, PROVIDER, Measure, ParamError, Report, RowSpec, register

from . import figures
from .models import LUMP_SUMS, MODULE_OF, Expense, Filling, Function, Module, running_on

ZERO = Decimal(0)
FTE = {"kind": "number", "share": False, "decimals": 2}
EUR = {"kind": "number", "share": False, "decimals": 2}


def functions_of(module):
    return [function for function in Function if MODULE_OF[function] == module]


def module_rows(prefix=""):
    """Total → module → function, the shape of the papers' staffing and funding tables."""
    rows = []
    for module in Module:
        rows.append(RowSpec(f"m:{module.value}", module.label, 1, "total", sums_children=True))
        rows += [RowSpec(f"f:{function.value}", function.label, 2, f"m:{module.value}") for function in functions_of(module)]
    return rows


@register
class StaffingReport(Report):
    id = "R8"
    title = gettext_lazy("Staffing")
    description = gettext_lazy(
        "Positions by module and function on the reference date: FTE approved, filled and not yet filled "
        "(advertised, vacant); by municipality and by employer."
    )
    permission = "staffing.read"
    suppressible = False
    counts_people = False
    uses_period = False
    uses_reference_date = True
    chart_measure = ""  # the table is the figure: its sections do not add up to one chart
    measures = (
        Measure("approved", gettext_lazy("FTE approved"), **FTE),
        Measure("filled", gettext_lazy("FTE filled"), **FTE),
        Measure("vacant", gettext_lazy("FTE not yet filled"), **FTE),
        # Seed 001 says how many people fill a module's FTE ("2,5 VZÄ KIM Koordination (3 Personen)"):
        # distinct accounts and names; unknown where a filling names nobody (an imported table).
        Measure("people", gettext_lazy("persons"), kind="number", share=False),
    )

    def row_specs(self, context, params):
        items = figures.staffing_on(params.reference_date)
        if params.municipality_id:
            items = [item for item in items if item.position.municipality_id == params.municipality_id]
        if params.provider_id:
            items = [item for item in items if item.position.employer_id == params.provider_id]
        groups = defaultdict(list)
        for item in items:
            position = item.position
            for key in ("total", f"m:{position.module}", f"f:{position.function}",
                        f"k:{position.municipality_id or 'none'}", f"e:{position.employer_id or 'none'}"):
                groups[key].append(item)
        self._groups = groups
        rows = [RowSpec("total", _("All positions"), 0, sums_children=True)] + module_rows()
        rows.append(RowSpec("towns", _("By municipality"), 0, counted=False))
        towns = sorted({(str(i.position.municipality or ""), i.position.municipality_id) for i in items})
        rows += [RowSpec(f"k:{pk or 'none'}", name or _("across municipalities"), 1, "towns") for name, pk in towns]
        rows.append(RowSpec("employers", _("By employer"), 0, counted=False))
        employers = sorted({(str(i.position.employer or ""), i.position.employer_id) for i in items})
        rows += [RowSpec(f"e:{pk or 'none'}", name or _("district administration"), 1, "employers")
                 for name, pk in employers]
        if context.user.has_perm("staffing.read_names") and not params.published:
            rows += self._people(params.reference_date, items)
        return rows

    def _people(self, day, items):
        """Who fills how much (for the roles that manage staff only)."""
        positions = {item.position.pk: item.position for item in items}
        rows = [RowSpec("people", _("By person"), 0, counted=False)]
        fillings = (Filling.objects.filter(running_on(day), position__in=list(positions))
                    .select_related("person").order_by("position__function", "pk"))
        for filling in fillings:
            position = positions[filling.position_id]
            key = f"p:{filling.pk}"
            self._groups[key] = [figures.StaffingRow(position, ZERO, filling.fte, ZERO)]
            rows.append(RowSpec(key, f"{filling.holder_name()} ({position.audit_label})", 1, "people"))
        return rows

    def counts(self, context, period, params, split):
        return {}

    def derive(self, values, row, context, member):
        items = self._groups.get(row.key, [])
        if row.key in ("towns", "employers", "people"):
            return {}
        person = row.key.startswith("p:")
        return {"approved": None if person else sum((i.approved for i in items), ZERO),
                "filled": sum((i.filled for i in items), ZERO),
                "vacant": None if person else sum((i.vacant for i in items), ZERO),
                "people": None if person else _people(items)}


def _people(items):
    """How many people fill the rows' posts; unknown ("–") where a filling names nobody."""
    holders = set().union(*(item.holders for item in items)) if items else set()
    return None if None in holders else len(holders)


@register
class FundingReport(Report):
    id = "R9"
    title = gettext_lazy("Funding")
    description = gettext_lazy(
        "The year's grant by module: approved positions by the year's rates, pro rata for part years, and the lump "
        "sums; beside it what the filled positions spent and what is left to pay back; what is passed on to whom."
    )
    permission = "staffing.read"
    suppressible = False
    counts_people = False
    chart_measure = ""  # the table is the figure: its sections do not add up to one chart
    aggregate_note = ""
    cuts = ()
    comparable = False  # the rows are this year's grant
    measures = (
        Measure("fte", gettext_lazy("FTE approved (year's average)"), **FTE),
        Measure("granted", gettext_lazy("grant (EUR)"), **EUR),
        Measure("spent", gettext_lazy("spent on filled positions (EUR)"), **EUR),
        Measure("repay", gettext_lazy("not spent (EUR)"), **EUR),
    )

    def check_params(self, params):
        if not params.period.is_calendar_year:
            raise ParamError(_("Funding is granted per calendar year: choose a whole year."), "period")
        if params.compare:
            raise ParamError(_("R9 shows one year's grant; compare two years side by side by asking for each."),
                             "compare")
        if params.municipality_id or params.provider_id:
            raise ParamError(_("The grant is the district's: R9 has no figures per municipality or provider (see the "
                               "positions by town and employer in R8)."), "municipality" if params.municipality_id
                             else "provider")

    def row_specs(self, context, params):
        grant = self._grant = figures.grant(context.district, params.period.start.year)
        rows = [RowSpec("total", _("Total grant"), 0, sums_children=True)] + module_rows()
        rows.append(RowSpec("lump", _("Lump sums"), 1, "total", sums_children=True))
        rows += [RowSpec(f"l:{expense.value}", expense.label, 2, "lump") for expense in LUMP_SUMS]
        passed = grant.passed_on()
        if passed:
            rows.append(RowSpec("passed", _("Of the grant, passed on to"), 0, counted=False))
            rows += [RowSpec(f"w:{provider.pk}", provider.name, 1, "passed")
                     for provider in sorted(passed, key=lambda p: p.name)]
        return rows

    def counts(self, context, period, params, split):
        return {}

    def derive(self, values, row, context, member):
        grant, key = self._grant, row.key
        if key.startswith("l:") or key == "lump":
            expenses = [Expense(key[2:])] if key.startswith("l:") else LUMP_SUMS
            amount = sum((grant.lump_sums.get(expense, ZERO) for expense in expenses), ZERO)
            return {"fte": None, "granted": amount, "spent": None, "repay": None}
        if key.startswith("w:"):
            amount = next(v for p, v in grant.passed_on().items() if f"w:{p.pk}" == key)
            return {"fte": None, "granted": amount, "spent": None, "repay": None}
        if key == "passed":
            return {}
        if key == "total":
            entry = {"fte": sum((e["fte"] for e in grant.by_module().values()), ZERO),
                     "granted": grant.total, "spent": grant.spent}
            return {**entry, "repay": grant.positions_total - grant.spent}
        source = grant.by_module() if key.startswith("m:") else grant.by_function()
        entry = source.get(key[2:], {"fte": ZERO, "granted": ZERO, "spent": ZERO})
        return {**entry, "repay": entry["granted"] - entry["spent"]}


COUNSELLING_TARGET = Decimal("0.6")


@register
class TimeSplitReport(StaffReport):
    id = "R16"
    title = gettext_lazy("Time split of case management")
    description = gettext_lazy(
        "Hours of the case managers' appointments in the period: individual counselling against other work (working "
        "groups, case reconstructions, forums, networks), against the target of 60 per cent case work and 40 per cent system level."
    )
    per_provider_for_aggregate_readers = True
    aggregate_note = gettext_lazy(
        "The district sees the share per provider; the hours of each case manager are seen by the provider's lead."
    )
    measures = (
        Measure("n", gettext_lazy("Appointments")),
        Measure("counselling", gettext_lazy("hours of individual counselling"), kind="number", share=False,
                decimals=1, private=True),
        Measure("other", gettext_lazy("hours of other work"), kind="number", share=False, decimals=1, private=True),
        Measure("share", gettext_lazy("share of individual counselling"), kind="derived", share=False, percent=True,
                inputs=("n",)),
        Measure("target", gettext_lazy("target"), kind="text", share=False),
    )

    def row_specs(self, context, params):
        self._params, self._minutes = params, {}
        return super().row_specs(context, params)

    def counts(self, context, period, params, split):
        appointments = context.appointments().filter(date__range=(period.start, period.end))
        member = "case__municipality_id" if split == MUNICIPALITY else "provider_id"
        minutes = defaultdict(lambda: defaultdict(dict))
        rows = appointments.values("case_manager", "kind", member).annotate(m=Sum("duration_minutes")).order_by()
        for item in rows:
            minutes[item["kind"]][item["case_manager"]][item[member]] = item["m"]
        self._minutes[split] = {kind: self.roll_up(context, per_user) for kind, per_user in minutes.items()}
        return {"n": self.roll_up(context, grouped(appointments, "case_manager", member))}

    def derive(self, values, row, context, member):
        split = MUNICIPALITY if self._params.municipality_id else PROVIDER

        def hours(kind):
            per_member = self._minutes.get(split, {}).get(kind, {}).get(row.key, {})
            total = per_member.get(member, 0) if member is not None else sum(per_member.values())
            return Decimal(total) / 60
        counselling, other = hours(Appointment.Kind.COUNSELLING), hours(Appointment.Kind.OTHER)
        share = counselling / (counselling + other) if counselling + other else None
        return {"counselling": counselling, "other": other, "share": share, "target": _("60 % / 40 %")}


def own_time_split(user, start, end) -> dict | None:
    """A case manager's own split between counselling and other work from `start` to `end`
    ("Meine Fälle"): hours and the share of counselling, or None without appointments."""
    rows = (Appointment.objects.visible_to(user).filter(case_manager=user, date__range=(start, end),
                                                        handed_over=False)  # another provider's work
            .values("kind").annotate(m=Sum("duration_minutes"), n=Count("pk")).order_by())
    minutes = {row["kind"]: row["m"] for row in rows}
    counselling, other = minutes.get(Appointment.Kind.COUNSELLING, 0), minutes.get(Appointment.Kind.OTHER, 0)
    if not counselling + other:
        return None
    share = round(100 * counselling / (counselling + other))
    return {"counselling_hours": round(counselling / 60, 1), "other_hours": round(other / 60, 1),
            "share": share, "other_share": 100 - share, "target": int(COUNSELLING_TARGET * 100),
            "below_target": share < COUNSELLING_TARGET * 100 - 10, "above_target": share > COUNSELLING_TARGET * 100 + 10}
