"""R13 naturalisations and residence procedures, in the report registry: procedures recorded
one by one and monthly tallies counted the same way (the shape of seed 000: "563 of 1,947
completed naturalisations 2022–2023 by additional KIM staff")."""

import math
import statistics
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kim.casework.models import add_months
from kim.core.models import Role
from kim.reports.framework import MUNICIPALITY, TOTAL, Measure, ParamError, Report, RowSpec, register

from .models import MonthlyTally, Outcome, Procedure, ProcedureKind

# Age of an open procedure at the period's end, in full months: (key, lowest month, label).
AGE_BANDS = (
    ("open_under_3", 0, gettext_lazy("open: less than 3 months")),
    ("open_3_6", 3, gettext_lazy("open: 3 to 6 months")),
    ("open_6_12", 6, gettext_lazy("open: 6 to 12 months")),
    ("open_over_12", 12, gettext_lazy("open: more than 12 months")),
)
OUTCOME_MEASURES = {Outcome.GRANTED: "granted", Outcome.REFUSED: "refused", Outcome.WITHDRAWN: "withdrawn"}


def full_months(earlier, later) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month - (later.day < earlier.day)


def age_band(received_on, day) -> str:
    months = full_months(received_on, day)
    return next(key for key, lowest, _label in reversed(AGE_BANDS) if months >= lowest)


def median_days(durations):
    return Decimal(str(statistics.median(durations))) if durations else None


def percentile_90_days(durations):
    """The nearest-rank 90th percentile: the smallest duration at least 90 % of them do not exceed."""
    if not durations:
        return None
    ordered = sorted(durations)
    return Decimal(ordered[math.ceil(0.9 * len(ordered)) - 1])


def tally_months(period):
    """The months a tally counts in: those lying wholly within the period; and the month whose
    end is the last month end on or before the period's end (for the backlog)."""
    first = period.start if period.start.day == 1 else add_months(period.start.replace(day=1), 1)
    after_last = (period.end + timedelta(days=1)).replace(day=1)  # first month not wholly inside
    return first, after_last, add_months(after_last, -1)


@register
class ProceduresReport(Report):
    id = "R13"
    title = gettext_lazy("Naturalisations and residence procedures")
    description = gettext_lazy(
        "Procedures of the foreigners' and naturalisation offices by kind: received and completed (decided) in "
        "the period, by outcome, of them handled by KIM staff; the median and the 90th percentile of the days "
        "from receipt to decision; procedures still open at the end of the period by age. Single procedures and "
        "monthly figures are counted alike; durations come from single procedures only, since monthly figures "
        "have none. Monthly figures count in the months lying wholly within the period, their backlog is that "
        "of the last month ending by the period's end."
    )
    permission = "residence.read_figures"
    owner_roles = frozenset({Role.MODULE3})
    aggregate_note = gettext_lazy(
        "The figures of all the district's offices together, with small counts hidden; a duration is shown only "
        "where it stems from at least as many procedures as the smallest count shown."
    )
    chart_measure = "completed"
    measures = (
        Measure("received", gettext_lazy("received"), share=False),
        Measure("completed", gettext_lazy("completed"), share=True),
        Measure("granted", gettext_lazy("granted"), share=False),
        Measure("refused", gettext_lazy("refused"), share=False),
        Measure("withdrawn", gettext_lazy("withdrawn or ended otherwise"), share=False),
        Measure("by_kim", gettext_lazy("completed by KIM staff"), share=False),
        Measure("median", gettext_lazy("median days to decision"), kind="derived", share=False,
                inputs=("completed",)),
        Measure("p90", gettext_lazy("90th percentile of days"), kind="derived", share=False, inputs=("completed",)),
        Measure("open", gettext_lazy("open at period end"), share=False),
        *(Measure(key, label, share=False) for key, _lowest, label in AGE_BANDS),
    )
    measure_sums = (("completed", ("granted", "refused", "withdrawn")),
                    ("open", tuple(key for key, _lowest, _label in AGE_BANDS)))

    cuts = ("municipality",)

    def check_params(self, params):
        if params.provider_id:
            raise ParamError(_("Procedures belong to offices, not to providers: R13 has no figures per provider."),
                             "provider")

    def row_specs(self, context, params):
        rows = [RowSpec("total", _("All procedures"), 0, sums_children=True)]
        rows += [RowSpec(kind.value, kind.label, 1, "total") for kind in ProcedureKind]
        self._durations = {}
        return rows

    def counts(self, context, period, params, split):
        per = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))  # measure -> row -> member -> n
        durations = defaultdict(list)
        if params.provider_id:  # offices are no providers: nothing of a provider is counted here
            return {}
        member_field = "office__municipality_id" if split == MUNICIPALITY else None
        procedures = Procedure.objects.for_statistics(context.user)
        tallies = MonthlyTally.objects.for_statistics(context.user)

        def rows(queryset, *fields):
            names = [*fields, member_field] if member_field else list(fields)
            for values in queryset.values_list(*names):
                yield (*values, None) if not member_field else values

        start, end = period.start, period.end
        for kind, member in rows(procedures.filter(received_on__range=(start, end)), "kind"):
            per["received"][kind][member] += 1
        for kind, outcome, by_kim, received, decided, member in rows(
                procedures.filter(decided_on__range=(start, end)),
                "kind", "outcome", "by_kim_staff", "received_on", "decided_on"):
            per["completed"][kind][member] += 1
            per[OUTCOME_MEASURES[outcome]][kind][member] += 1
            per["by_kim"][kind][member] += int(by_kim)
            durations[(kind, member)].append((decided - received).days)
        for kind, received, member in rows(
                procedures.filter(received_on__lte=end).filter(Q(decided_on__isnull=True) | Q(decided_on__gt=end)),
                "kind", "received_on"):
            per["open"][kind][member] += 1
            per[age_band(received, end)][kind][member] += 1
        first, after_last, backlog_month = tally_months(period)
        for (kind, month, received, granted, refused, withdrawn, by_kim, *bands, member) in rows(
                tallies.filter(Q(month__gte=first, month__lt=after_last) | Q(month=backlog_month)),
                "kind", "month", "received", "granted", "refused", "withdrawn", "by_kim_staff",
                *(key for key, _lowest, _label in AGE_BANDS)):
            if first <= month < after_last:
                per["received"][kind][member] += received
                per["completed"][kind][member] += granted + refused + withdrawn
                per["granted"][kind][member] += granted
                per["refused"][kind][member] += refused
                per["withdrawn"][kind][member] += withdrawn
                per["by_kim"][kind][member] += by_kim
            if month == backlog_month:
                for (key, _lowest, _label), n in zip(AGE_BANDS, bands, strict=True):
                    per[key][kind][member] += n
                    per["open"][kind][member] += n
        for measure in list(per):
            for kind in list(per[measure]):
                for member, n in per[measure][kind].items():
                    per[measure]["total"][member] += n
        if split == MUNICIPALITY:  # the published split: its durations are the ones derived
            self._durations = {}
            for (kind, member), days in durations.items():
                for row in (kind, "total"):
                    for key in (member, TOTAL):
                        self._durations.setdefault((row, key), []).extend(days)
        return {measure: {row: dict(members) for row, members in by_row.items()} for measure, by_row in per.items()}

    def derive(self, values, row, context, member):
        days = self._durations.get((row.key, TOTAL if member is None else member), [])
        if context.suppressed and len(days) < context.k:
            days = []  # a duration of a handful of procedures tells of persons
        return {"median": median_days(days), "p90": percentile_90_days(days)}
