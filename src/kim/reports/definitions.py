"""The reports the districts publish (shared/design/reports.md). One class per report.

Each `counts` runs a fixed number of grouped queries whatever the amount of data; the
loops below run over the groups the database returns, never over records."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, Min, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kim.casework.models import (
    Appointment,
    AppointmentTopic,
    Assessment,
    CaseKind,
    Goal,
    GoalStatus,
    reassessment_due_before,
    stale_before,
)
from kim.core.models import (
    GoalCategory,
    ReferralSource,
    ReferralTarget,
    Role,
    TargetGroup,
    ThematicOffer,
    Topic,
    User,
)
from kim.privacy.models import Transfer

from .framework import MUNICIPALITY, TOTAL, Measure, Report, RowSpec, register

NONE_KEY = "none"


def grouped(queryset, row_field, split_field, count="pk", distinct=False) -> dict:
    """{row value: {member: count}} from one GROUP BY query."""
    return grouped_by_splits(queryset, row_field, {None: split_field}, count, distinct)[None]


def grouped_by_splits(queryset, row_field, split_fields: dict, count="pk", distinct=False) -> dict:
    """{split: {row value: {member: count}}} for several splits from one GROUP BY query: grouped
    by the row and every split's field together, then added up per split in Python. One scan of
    the records instead of one per split, on every database (what GROUPING SETS would do). Exact
    as long as each counted record lies in one group, which holds for records and, with
    `distinct`, for cases counted by their own fields (a case has one municipality, one provider)."""
    fields = list(dict.fromkeys(split_fields.values()))
    rows = queryset.values(row_field, *fields).annotate(n=Count(count, distinct=distinct)).order_by()
    result = {split: defaultdict(dict) for split in split_fields}
    for item in rows:
        key = item[row_field] if item[row_field] is not None else NONE_KEY
        for split, field in split_fields.items():
            members = result[split][key]
            members[item[field]] = members.get(item[field], 0) + item["n"]
    return result


def case_split(split: str, prefix: str = "") -> str:
    """The field of a case (reached through `prefix`) that a split groups by."""
    return f"{prefix}{'municipality' if split == MUNICIPALITY else 'provider'}_id"


def appointment_split(split: str) -> str:
    """An appointment counts in its case's municipality and for its own provider."""
    return case_split(split, "case__") if split == MUNICIPALITY else "provider_id"


def add_up(*parts: dict) -> dict:
    total = defaultdict(int)
    for part in parts:
        for member, value in part.items():
            total[member] += value
    return dict(total)


def catalogue_rows(model, total_label, none_label=None) -> list[RowSpec]:
    """A total row and one row per catalogue entry (and one for "not recorded")."""
    rows = [RowSpec("total", total_label, 0, sums_children=True)]
    rows += [RowSpec(entry.pk, entry.label, 1, parent="total") for entry in model.objects.all()]
    if none_label:
        rows.append(RowSpec(NONE_KEY, none_label, 1, parent="total"))
    return rows


def with_total(per_row: dict) -> dict:
    per_row = dict(per_row)
    per_row["total"] = add_up(*per_row.values())
    return per_row


def active_on(cases, day):
    """Cases open on `day`: opened on or before it and not closed before it."""
    return cases.filter(Q(closed_on__isnull=True) | Q(closed_on__gte=day), opened_on__lte=day)


def active_during(cases, period):
    return cases.filter(Q(closed_on__isnull=True) | Q(closed_on__gte=period.start), opened_on__lte=period.end)


@register
class AppointmentsReport(Report):
    id = "R1"
    title = gettext_lazy("Appointments of case management")
    description = gettext_lazy(
        "All appointments; of them individual counselling and other work; counselling split into "
        "one-off and complex appointments; cases with at least one counselling appointment."
    )

    def row_specs(self, context, params):
        return [
            RowSpec("all", _("All appointments"), 0, sums_children=True),
            RowSpec("counselling", _("Individual counselling with the target group"), 1, "all", sums_children=True),
            RowSpec("one_off", _("One-off counselling"), 2, "counselling"),
            RowSpec("complex", _("Complex appointments in the sense of case management"), 2, "counselling"),
            RowSpec("other", _("Other work appointments"), 1, "all"),
            RowSpec("cases", _("Cases recorded with counselling appointments"), 0, show_share=False),
        ]

    def counts(self, context, period, params, split):
        return self.counts_by_split(context, period, params, (split,))[split]

    def counts_by_split(self, context, period, params, splits):
        """Two queries for all splits: appointments by kind, cases with counselling."""
        appointments = context.appointments().filter(date__range=(period.start, period.end))
        split_fields = {split: appointment_split(split) for split in splits}
        by_kind = {split: defaultdict(dict) for split in splits}
        fields = list(dict.fromkeys(split_fields.values()))
        rows = appointments.values("kind", "complexity", *fields).annotate(n=Count("pk")).order_by()
        for item in rows:
            key = item["complexity"] if item["kind"] == Appointment.Kind.COUNSELLING else "other"
            # The services require the complexity of counselling; should an imported record
            # lack it, it counts as one-off so that the parts still add up to the whole.
            key = key or "one_off"
            for split, field in split_fields.items():
                members = by_kind[split][key]
                members[item[field]] = members.get(item[field], 0) + item["n"]
        with_counselling = Appointment.objects.filter(
            case=OuterRef("pk"), kind=Appointment.Kind.COUNSELLING, date__range=(period.start, period.end),
            handed_over=False,  # work done at another provider, counted there
        )
        cases = context.cases().filter(Exists(with_counselling), kind=CaseKind.CASE_MANAGEMENT)
        case_counts = grouped_by_splits(cases, "kind", {split: case_split(split) for split in splits})
        result = {}
        for split in splits:
            kinds = by_kind[split]
            counselling = add_up(kinds["one_off"], kinds["complex"])
            result[split] = {"n": {
                "all": add_up(counselling, kinds["other"]), "counselling": counselling,
                "one_off": kinds["one_off"], "complex": kinds["complex"], "other": kinds["other"],
                "cases": case_counts[split].get(CaseKind.CASE_MANAGEMENT, {}),
            }}
        return result


@register
class TopicsReport(Report):
    id = "R2"
    title = gettext_lazy("Top topics of counselling")
    description = gettext_lazy(
        "Each topic's share of all topic mentions on counselling appointments (an appointment "
        "may carry several topics); the most frequent topics first."
    )
    uses_top = True

    def row_specs(self, context, params):
        if params.unit == "cases":
            # A case with several topics counts in each: the topics do not add up to the total.
            rows = [RowSpec("total", _("Cases with counselling on a topic"), 0)]
            return rows + [RowSpec(t.pk, t.label, 1, parent="total") for t in Topic.objects.all()]
        return catalogue_rows(Topic, _("All topic mentions"))

    def counts(self, context, period, params, split):
        return self.counts_by_split(context, period, params, (split,))[split]

    def counts_by_split(self, context, period, params, splits):
        if params.unit == "cases":
            return {split: self._case_counts(context, period, split) for split in splits}
        # The links carry their appointment's district and date (casework.AppointmentTopic): the
        # same condition on them lets the database read only this district-year's links.
        appointments = context.appointments().filter(
            kind=Appointment.Kind.COUNSELLING, date__range=(period.start, period.end),
            **self._links(context, period, "topic_links__"),
        )
        per_split = grouped_by_splits(appointments, "topic_links__topic",
                                      {split: appointment_split(split) for split in splits})
        return {split: {"n": with_total(per_split[split])} for split in splits}

    @staticmethod
    def _links(context, period, path):
        return {f"{path}district": context.district.pk, f"{path}date__range": (period.start, period.end)}

    def _case_counts(self, context, period, split):
        cases = context.cases().filter(
            appointments__kind=Appointment.Kind.COUNSELLING,
            appointments__date__range=(period.start, period.end),
            appointments__handed_over=False,
            **self._links(context, period, "appointments__topic_links__"),
        )
        per_topic = grouped(cases, "appointments__topic_links__topic", case_split(split), distinct=True)
        totals = cases.values(case_split(split)).annotate(n=Count("pk", distinct=True)).order_by()
        per_topic["total"] = {item[case_split(split)]: item["n"] for item in totals}
        return {"n": dict(per_topic)}

    def choose_rows(self, rows, values, params):
        total = [r for r in rows if r.key == "total"]
        topics = [r for r in rows if r.key != "total"]
        # Hidden values count as zero for the ranking, so the order reveals nothing of them.
        topics.sort(key=lambda r: -(values.get((r.key, "n@0")) or 0))
        return total + topics[: params.top]


class CatalogueReport(Report):
    """Records counted by one catalogue (target group, referral source, ...), with a total
    row and a row for records where the catalogue value was not recorded."""

    catalogue = None
    group_field = ""
    case_path = ""  # from the counted record to its case, e.g. "case__" for goals
    total_label = ""
    none_label = None

    def records(self, context, period, params):
        raise NotImplementedError

    def row_specs(self, context, params):
        return catalogue_rows(self.catalogue, str(self.total_label), self.none_label and str(self.none_label))

    def counts(self, context, period, params, split):
        return self.counts_by_split(context, period, params, (split,))[split]

    def counts_by_split(self, context, period, params, splits):
        records = self.records(context, period, params)
        per_split = grouped_by_splits(records, self.group_field,
                                      {split: case_split(split, self.case_path) for split in splits})
        return {split: {"n": with_total(per_split[split])} for split in splits}


@register
class ActiveCasesReport(CatalogueReport):
    id = "R3"
    title = gettext_lazy("Active cases by target group")
    description = gettext_lazy("Case-management cases open on the reference date, by target group.")
    uses_period = False
    uses_reference_date = True
    catalogue, group_field = TargetGroup, "target_group"
    total_label, none_label = gettext_lazy("Active cases"), gettext_lazy("target group not recorded")

    def records(self, context, period, params):
        return active_on(context.cases().filter(kind=CaseKind.CASE_MANAGEMENT), params.reference_date)


@register
class ReferralSourcesReport(CatalogueReport):
    id = "R4"
    title = gettext_lazy("Referral sources")
    description = gettext_lazy("Case-management cases opened in the period, by referral source.")
    catalogue, group_field = ReferralSource, "referral_source"
    total_label, none_label = gettext_lazy("New cases"), gettext_lazy("referral source not recorded")

    def records(self, context, period, params):
        return context.cases().filter(kind=CaseKind.CASE_MANAGEMENT, opened_on__range=(period.start, period.end))


@register
class GoalsAchievedReport(CatalogueReport):
    id = "R5"
    title = gettext_lazy("Goals achieved")
    description = gettext_lazy(
        "Goals whose status became achieved in the period, by goal category (several per case)."
    )
    catalogue, group_field, case_path = GoalCategory, "category", "case__"
    total_label = gettext_lazy("Goals achieved")

    def records(self, context, period, params):
        return context.goals().filter(status=GoalStatus.ACHIEVED, status_changed_on__range=(period.start, period.end))


@register
class ScreeningReport(CatalogueReport):
    id = "R6"
    title = gettext_lazy("Screening at issue of §104c titles")
    description = gettext_lazy("Screening cases in the period, by the agency referred to (\"no need\" included).")
    catalogue, group_field = ReferralTarget, "screening_outcome"
    total_label, none_label = gettext_lazy("Persons screened"), gettext_lazy("outcome not recorded")

    def records(self, context, period, params):
        return context.cases().filter(kind=CaseKind.SCREENING, opened_on__range=(period.start, period.end))


@register
class ShortAndReferralReport(Report):
    id = "R7"
    title = gettext_lazy("Short and referral counselling")
    description = gettext_lazy(
        "Persons with a short-counselling case and persons with a referral-counselling case in "
        "the period. A person counts once per kind, where their first such case was."
    )
    measures = (Measure("n", gettext_lazy("Persons"), share=False),)

    def row_specs(self, context, params):
        return [
            RowSpec(CaseKind.SHORT_COUNSELLING.value, _("Persons in short counselling"), show_share=False),
            RowSpec(CaseKind.REFERRAL.value, _("Persons in referral counselling"), show_share=False),
        ]

    def counts(self, context, period, params, split):
        kinds = (CaseKind.SHORT_COUNSELLING, CaseKind.REFERRAL)
        # Each person once per kind: only the first (lowest-numbered) of their cases of that
        # kind in the period counts, one uncorrelated GROUP BY subquery for all of them.
        first_cases = (
            active_during(context.cases().filter(kind__in=kinds, participant__isnull=False), period)
            .values("participant", "kind").annotate(first=Min("pk")).values("first")
        )
        candidates = active_during(context.cases().filter(kind__in=kinds), period)
        # A person whose case went to another provider (kim.privacy.transfer) has a new
        # participant record there: where the reader counts both cases, the person counts once.
        carried_on = Transfer.objects.filter(
            target_case=OuterRef("pk"), source_case__kind=OuterRef("kind"), source_case__in=candidates.values("pk"))
        cases = candidates.filter(Q(participant__isnull=True) | Q(pk__in=first_cases)).exclude(Exists(carried_on))
        return {"n": dict(grouped(cases, "kind", case_split(split)))}


class StaffReport(Report):
    """Rows per provider and case manager (names of staff, never of participants): the
    case managers the reader's scope covers, active ones only."""

    def per_case_manager(self, context) -> bool:
        return not (context.suppressed and self.per_provider_for_aggregate_readers)

    def case_managers(self, context):
        cached = getattr(self, "_staff", None)
        if cached is not None and cached[0] is context:
            return cached[1]
        staff = User.objects.filter(district=context.district, role=Role.CASE_MANAGER, is_active=True)
        if context.user.is_case_manager:
            staff = staff.filter(pk=context.user.pk)
        elif context.user.sees_personal_data or context.provider_filter:
            staff = staff.filter(provider_id=context.provider_filter or context.user.provider_id)
        staff = list(staff.select_related("provider").order_by("provider__name", "last_name", "first_name"))
        self._staff = (context, staff)
        return staff

    def row_specs(self, context, params):
        by_person = self.per_case_manager(context)
        rows = [RowSpec("total", _("All case managers"), 0, sums_children=True)]
        providers = set()
        for user in self.case_managers(context):
            if user.provider_id not in providers:
                providers.add(user.provider_id)
                rows.append(RowSpec(f"p:{user.provider_id}", str(user.provider), 1, "total", sums_children=by_person))
            if by_person:
                rows.append(RowSpec(f"u:{user.pk}", str(user), 2, f"p:{user.provider_id}"))
        return rows

    def roll_up(self, context, per_user: dict) -> dict:
        """{row key: {member: n}} for case managers, their providers and the total, from
        {user id: {member: n}}; without the case managers' rows where the reader gets none."""
        result = {f"u:{user_id}": members for user_id, members in per_user.items()}
        providers = defaultdict(list)
        for user in self.case_managers(context):
            providers[f"p:{user.provider_id}"].append(result.get(f"u:{user.pk}", {}))
        for key, parts in providers.items():
            result[key] = add_up(*parts)
        result["total"] = add_up(*(result[key] for key in providers))
        if not self.per_case_manager(context):
            result = {key: members for key, members in result.items() if not key.startswith("u:")}
        return result


@register
class CaseloadReport(StaffReport):
    id = "R10"
    title = gettext_lazy("Caseload")
    description = gettext_lazy(
        "Active case-management cases per case manager on the reference date, per case-management "
        "full-time equivalent (FTE) the person fills on that day (staffing), against the district's key; "
        "for one municipality, the cases there per FTE of the posts there."
    )
    # A figure about the workload of staff. Aggregate readers see FTE and key only: counts,
    # ratios or even bands of utilisation would narrow cells that R3 hides.
    suppressible = False
    aggregate_note = gettext_lazy(
        "The district sees the filled FTE and the key. Cases per case manager and the utilisation "
        "are figures about another employer's staff: the provider's lead sees them."
    )
    uses_period = False
    uses_reference_date = True
    # Names of staff with their FTE are for the roles that manage staff (the lead; coordination
    # finds them in R8): the district's other readers get the FTE per provider.
    per_provider_for_aggregate_readers = True
    measures = (
        Measure("n", gettext_lazy("Active cases"), share=False, private=True),
        Measure("fte", gettext_lazy("FTE"), kind="number", share=False, decimals=2),
        Measure("per_fte", gettext_lazy("Cases per FTE"), kind="derived", share=False, decimals=1, private=True),
        Measure("key", gettext_lazy("Key"), kind="number", share=False),
        Measure("load", gettext_lazy("Utilisation of the key"), kind="derived", share=False, percent=True,
                private=True),
        Measure("band", gettext_lazy("Utilisation band"), kind="text", share=False, private=True),
    )

    def row_specs(self, context, params):
        from kim.staffing.figures import person_fte_by_town_on  # staffing builds on reports
        from kim.staffing.models import CASELOAD_FUNCTIONS

        # FTE per row and town (TOTAL: the whole district), read by `derive` for this build:
        # a post belongs to a town or to none (across towns), so a town's FTE is that of its posts.
        self._fte = defaultdict(lambda: Decimal(0))
        self._provider_of = {}
        filled = person_fte_by_town_on(params.reference_date, CASELOAD_FUNCTIONS)
        people = {user.pk: user for user in self.case_managers(context)}
        for (person, town), fte in filled.items():
            user = people.get(person)
            if user is None:
                continue
            for key in (f"u:{user.pk}", f"p:{user.provider_id}", "total"):
                self._fte[(key, TOTAL)] += fte
                self._fte[(key, town)] += fte
        for user in people.values():
            self._provider_of[f"u:{user.pk}"] = self._provider_of[f"p:{user.provider_id}"] = user.provider_id
        self._params = params
        self._key = context.district.caseload_key
        return super().row_specs(context, params)

    def _row_fte(self, row, member):
        """The FTE of a row in the published column: the district, one town or one provider."""
        if member is None:
            return self._fte[(row.key, TOTAL)]
        if self._params.municipality_id:
            return self._fte[(row.key, member)]
        if row.key == "total":
            return self._fte[(f"p:{member}", TOTAL)]
        return self._fte[(row.key, TOTAL)] if self._provider_of.get(row.key) == member else Decimal(0)

    def counts(self, context, period, params, split):
        cases = active_on(context.cases().filter(kind=CaseKind.CASE_MANAGEMENT), params.reference_date)
        return {"n": self.roll_up(context, grouped(cases, "case_manager", case_split(split)))}

    def derive(self, values, row, context, member):
        fte = self._row_fte(row, member)
        cases = values.get("n") or 0
        per_fte = (Decimal(cases) / fte) if fte else None
        load = (per_fte / self._key) if per_fte is not None and self._key else None
        return {"fte": fte, "key": self._key, "per_fte": per_fte, "load": load, "band": utilisation_band(load, fte)}


# Bands of utilisation of the key; wide enough that no count can be worked out from them.
BANDS = ((Decimal("0.5"), gettext_lazy("under 50 %")), (Decimal("0.8"), gettext_lazy("50 to 79 %")),
         (Decimal("1.0001"), gettext_lazy("80 to 100 %")))


def utilisation_band(load, fte) -> str:
    """The band of a case manager's (or a group's) utilisation; none below half a position,
    where a band would be as narrow as a count."""
    if load is None or fte is None or fte < Decimal("0.5"):
        return "–"
    for upper, label in BANDS:
        if load < upper:
            return str(label)
    return str(gettext_lazy("over 100 %"))


@register
class ThematicOffersReport(Report):
    id = "R14"
    title = gettext_lazy("Thematic offers")
    description = gettext_lazy(
        "Sessions of thematic case management (e.g. MuKi-S): individual and group sessions and "
        "trainings, by audience (participants, professionals, parents)."
    )

    def row_specs(self, context, params):
        formats = [("", _("format not recorded"))] + list(Appointment.SessionFormat.choices)
        audiences = list(Appointment.Audience.choices) + [("", _("audience not recorded"))]
        rows = [RowSpec("total", _("All sessions of thematic offers"), 0, sums_children=True)]
        for offer in ThematicOffer.objects.all():
            rows.append(RowSpec(f"o:{offer.pk}", offer.label, 1, "total", sums_children=True))
            for fmt, fmt_label in formats:
                rows.append(RowSpec(f"f:{offer.pk}:{fmt}", fmt_label, 2, f"o:{offer.pk}", sums_children=True))
                for audience, audience_label in audiences:
                    rows.append(RowSpec(f"a:{offer.pk}:{fmt}:{audience}", audience_label, 3, f"f:{offer.pk}:{fmt}"))
        return rows

    def counts(self, context, period, params, split):
        sessions = context.appointments().filter(
            thematic_offer__isnull=False, date__range=(period.start, period.end)
        )
        split_field = case_split(split, "case__") if split == MUNICIPALITY else "provider_id"
        result = defaultdict(dict)
        rows = sessions.values("thematic_offer", "session_format", "audience", split_field).annotate(n=Count("pk"))
        for item in rows.order_by():
            key = f"a:{item['thematic_offer']}:{item['session_format']}:{item['audience']}"
            result[key][item[split_field]] = item["n"]
        for spec in self.row_specs(context, params)[::-1]:  # deepest rows first
            if spec.parent is not None:
                result[spec.parent] = add_up(result.get(spec.parent, {}), result.get(spec.key, {}))
        return {"n": dict(result)}

    def choose_rows(self, rows, values, params):
        # Rows shown as zero in every column are left out: a shown zero is no secret. A hidden
        # cell arrives here as None, so its row stays, whatever its value.
        by_row = defaultdict(list)
        for (row_key, column_key), value in values.items():
            if "%" not in column_key:
                by_row[row_key].append(value)
        return [r for r in rows if r.key == "total" or any(v != 0 for v in by_row[r.key])]


@register
class CompletenessReport(StaffReport):
    id = "R15"
    title = gettext_lazy("Data completeness")
    description = gettext_lazy(
        "Cases worked on in the period, the share of complete records and what is missing: for "
        "the provider per case manager, for the district per provider with small counts hidden."
    )
    uses_reference_date = True
    # Gaps are counts of cases, that is of participants: "one case without target group in
    # Hilden, at Ms X's" singles a person out as much as any other small count. And a figure per
    # named case manager is a judgement of another employer's staff. So the district sees each
    # provider's completeness with the suppression of every report; the provider's lead, who
    # employs the case managers and can have the gaps closed, sees them per case manager.
    per_provider_for_aggregate_readers = True
    aggregate_note = gettext_lazy("District figures per provider; the provider's lead sees the figures per case manager.")
    chart_measure = "complete"
    # Every gap is at most the number of incomplete cases, which is cases minus complete ones:
    # that number is a count like the others, hidden when small, and with it complete or
    # cases, so that "fewer than 5 without target group" is not narrowed down by the rest.
    measure_sums = (("cases", ("complete", "incomplete")),)
    measures = (
        Measure("cases", gettext_lazy("Cases"), share=False),
        Measure("complete", gettext_lazy("Complete records"), share=False),
        Measure("incomplete", gettext_lazy("Incomplete records"), share=False),
        Measure("complete_share", gettext_lazy("Share complete"), kind="derived", share=False, percent=True,
                inputs=("cases", "complete")),
        Measure("no_target_group", gettext_lazy("Without target group"), share=False),
        Measure("no_referral_source", gettext_lazy("Without referral source"), share=False),
        Measure("appointments_no_topic", gettext_lazy("Counselling without topic"), share=False),
        Measure("goals_no_status", gettext_lazy("Goals without status"), share=False),
        Measure("reassessment_overdue", gettext_lazy("Re-assessment overdue"), share=False),
        Measure("stale", gettext_lazy("No appointment for 90 days"), share=False),
    )

    def counts(self, context, period, params, split):
        gaps = completeness_gaps(context.cases(), period, params.reference_date)
        split_field = case_split(split)
        result = {}
        for measure in self.measures:
            if measure.kind != "count" or measure.key == "incomplete":
                continue  # incomplete: below, cases minus complete ones, the sum suppression knows
            if measure.key == "cases":
                queryset = gaps
            elif measure.key == "complete":
                queryset = gaps.filter(is_complete=True)
            else:
                queryset = gaps.filter(**{f"gap_{measure.key}": True})
            rows = self.roll_up(context, grouped(queryset, "case_manager", split_field))
            result[measure.key] = rows
        result["incomplete"] = {
            row: {member: n - result["complete"].get(row, {}).get(member, 0) for member, n in members.items()}
            for row, members in result["cases"].items()
        }
        return result

    def derive(self, values, row, context, member):
        cases = values.get("cases") or 0
        return {"complete_share": Decimal(values.get("complete") or 0) / cases if cases else None}


def completeness_gaps(cases, period, reference_date):
    """Cases worked on in the period, each annotated with its documentation gaps.

    Gaps: a case-management case without target group or referral source; a counselling
    appointment in the period without topic; a goal without status; an open case-management
    case not assessed for six months; an open case without appointment for 90 days."""
    cases = active_during(cases, period)
    is_cm = Q(kind=CaseKind.CASE_MANAGEMENT)
    # The subqueries below are tied to the outer case (`case=OuterRef("pk")`), which the
    # caller has scoped; they never reach records of other cases. Except the first: the cases
    # with a counselling appointment without topic are found once for all (the appointments are
    # scoped like the cases), and a link's copies of its appointment's district and date
    # (casework.AppointmentTopic), always equal to the appointment's, let the database read this
    # district-year's links instead of every link there is.
    topic_link = AppointmentTopic.objects.filter(
        appointment=OuterRef("pk"), district=OuterRef("district"), date__range=(period.start, period.end),
    )
    untopiced_cases = Appointment.objects.filter(
        kind=Appointment.Kind.COUNSELLING, date__range=(period.start, period.end), case__isnull=False,
    ).exclude(Exists(topic_link)).values("case_id")
    recent_assessment = Assessment.objects.filter(
        case=OuterRef("pk"), assessed_on__gte=reassessment_due_before(reference_date),
        assessed_on__lte=reference_date,
    )
    recent_appointment = Appointment.objects.filter(
        case=OuterRef("pk"), date__gte=stale_before(reference_date), date__lte=reference_date
    )
    statusless = Goal.objects.filter(case=OuterRef("pk"), status="")
    open_on_reference = Q(opened_on__lte=reference_date) & (Q(closed_on__isnull=True) | Q(closed_on__gte=reference_date))
    gaps = {
        "no_target_group": is_cm & Q(target_group__isnull=True),
        "no_referral_source": is_cm & Q(referral_source__isnull=True),
        "appointments_no_topic": Q(pk__in=untopiced_cases),
        "goals_no_status": Q(Exists(statusless)),
        "reassessment_overdue": is_cm & open_on_reference
        & Q(opened_on__lt=reassessment_due_before(reference_date)) & ~Q(Exists(recent_assessment)),
        "stale": open_on_reference & Q(opened_on__lt=stale_before(reference_date)) & ~Q(Exists(recent_appointment)),
    }
    any_gap = Q()
    for condition in gaps.values():
        any_gap |= condition
    return cases.annotate(
        **{f"gap_{name}": ExpressionWrapper(condition, output_field=BooleanField()) for name, condition in gaps.items()},
        is_complete=ExpressionWrapper(~any_gap, output_field=BooleanField()),
    )

