"""R11 (problems reported and responses) and R12 (generative themes and decisions): the system
level in the report registry, so that page, downloads, API and committee paper show them."""

from collections import defaultdict

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kim.core.models import Topic
from kim.reports.framework import MUNICIPALITY, Measure, Report, RowSpec, register

from .models import Decision, LegalDomain, NeedReport, Theme

NONE = "none"


def need_reports(context, period):
    reports = NeedReport.objects.visible_to(context.user).filter(sent_at__date__range=(period.start, period.end))
    if context.provider_filter:
        reports = reports.filter(provider_id=context.provider_filter)
    return reports


@register
class ReportedProblemsReport(Report):
    id = "R11"
    title = gettext_lazy("Problems reported and responses")
    description = gettext_lazy(
        "Need reports from case work in the period by topic, legal domain and how far they are dealt with, "
        "and the problems reported with the coordination's approach or solution."
    )
    permission = "system.read_need_figures"
    aggregate_note = gettext_lazy(
        "The list of problems is the district's whole list, without town or provider, and only where it holds "
        "at least as many reports as the smallest count shown."
    )
    measures = (
        Measure("n", gettext_lazy("Need reports")),
        Measure("status", gettext_lazy("status"), kind="text", share=False),
        Measure("response", gettext_lazy("approach / solution"), kind="text", share=False),
    )

    def row_specs(self, context, params):
        rows = [RowSpec("total", _("All need reports"), 0, sums_children=True)]
        rows += [RowSpec(f"t:{topic.pk}", topic.label, 1, "total") for topic in Topic.objects.all()]
        rows.append(RowSpec(f"t:{NONE}", _("no topic given"), 1, "total"))
        rows.append(RowSpec("by_status", _("By how far they are dealt with"), 0, sums_children=True))
        rows += [RowSpec(f"s:{status.value}", status.label, 1, "by_status") for status in NeedReport.Status]
        rows.append(RowSpec("domains", _("By legal domain (several possible)"), 0, counted=False))
        rows += [RowSpec(f"d:{domain.value}", domain.label, 1, "domains", show_share=False)
                 for domain in LegalDomain]
        rows.append(RowSpec("problems", _("Problems reported and the approach taken"), 0, counted=False))
        self._texts = {}
        listed = list(need_reports(context, params.period).exclude(status=NeedReport.Status.SENT)
                      .select_related("theme").order_by("sent_at", "pk"))
        if context.suppressed and len(listed) < context.k:
            rows.append(RowSpec("few", _("Fewer than %(k)d reports dealt with: the list is not shown.")
                                % {"k": context.k}, 1, "problems", counted=False))
            return rows
        for report in listed:
            key = f"r:{report.pk}"
            status = report.get_status_display() + (f": {report.theme}" if report.theme_id else "")
            self._texts[key] = {"status": status, "response": report.response or "–"}
            rows.append(RowSpec(key, report.challenge, 1, "problems", counted=False))
        return rows

    def counts(self, context, period, params, split):
        reports = need_reports(context, period)
        field = "municipality_id" if split == MUNICIPALITY else "provider_id"
        per_row = defaultdict(dict)
        for topic, member, n in reports.values_list("topic_id", field).annotate(n=Count("pk")).order_by():
            per_row[f"t:{topic or NONE}"][member] = n
        for status, member, n in reports.values_list("status", field).annotate(n=Count("pk")).order_by():
            per_row[f"s:{status}"][member] = n
        # Legal domains are a list on the report: counted here, over the (few) reports of a period.
        for domains, member in reports.values_list("legal_domains", field):
            for domain in set(domains or ()):
                per_row[f"d:{domain}"][member] = per_row[f"d:{domain}"].get(member, 0) + 1
        for total, prefix in (("total", "t:"), ("by_status", "s:")):
            for key, members in list(per_row.items()):
                if key.startswith(prefix):
                    for member, n in members.items():
                        per_row[total][member] = per_row[total].get(member, 0) + n
        return {"n": dict(per_row)}

    def derive(self, values, row, context, member):
        return self._texts.get(row.key, {})


@register
class ThemesReport(Report):
    id = "R12"
    title = gettext_lazy("Generative themes and steering-group decisions")
    description = gettext_lazy(
        "The themes planned for the period or decided in it: quarter, status, the steering group's decision "
        "and the result (groups, measures, agreements, or why the theme did not come about)."
    )
    permission = "system.read"
    suppressible = False  # themes and decisions are the district's own work, no counts of people
    chart_measure = ""
    measures = (
        Measure("quarter", gettext_lazy("planned quarter"), kind="text", share=False),
        Measure("status", gettext_lazy("status"), kind="text", share=False),
        Measure("decision", gettext_lazy("decision"), kind="text", share=False),
        Measure("result", gettext_lazy("result"), kind="text", share=False),
    )

    def themes(self, period):
        decided = Decision.objects.filter(meeting__held_on__range=(period.start, period.end)).values("theme")
        planned = Q(planned_year__gte=period.start.year, planned_year__lte=period.end.year)
        unplanned = Q(planned_year__isnull=True, created_at__date__range=(period.start, period.end))
        return (Theme.objects.filter(planned | unplanned | Q(pk__in=decided))
                .prefetch_related("decisions__meeting", "groups", "measures", "agreements")
                .order_by("planned_year", "planned_quarter", "title"))

    def row_specs(self, context, params):
        self._texts = {}
        rows = []
        for theme in self.themes(params.period):
            key = f"th:{theme.pk}"
            self._texts[key] = {"quarter": theme.quarter_label or "–", "status": theme.get_status_display(),
                                "decision": self._decisions(theme), "result": self._result(theme)}
            rows.append(RowSpec(key, theme.title, 0, counted=False))
        return rows

    @staticmethod
    def _decisions(theme):
        texts = [f"{d.meeting.held_on:%d.%m.%Y}: {d.text}" for d in theme.decisions.all()]
        return " / ".join(texts) or "–"

    @staticmethod
    def _result(theme):
        if theme.status == Theme.Status.FAILED:
            return _("did not come about: %(reason)s") % {"reason": theme.failure_reason}
        parts = [f"{group.name} ({group.get_status_display()})" + (f": {group.results}" if group.results else "")
                 for group in theme.groups.all()]
        parts += [f"{measure.title} ({measure.get_status_display()})" for measure in theme.measures.all()]
        parts += [f"{agreement.title} ({agreement.get_status_display()})" for agreement in theme.agreements.all()]
        return " / ".join(parts) or "–"

    def counts(self, context, period, params, split):
        return {}

    def derive(self, values, row, context, member):
        return self._texts.get(row.key, {})


class MeetingDecisionsReport(Report):
    """The decisions of one steering-group meeting, for a committee paper (not in the registry:
    it is asked for by its meeting, not by a period)."""

    id = "R12"
    permission = "system.read"
    suppressible = False
    uses_period = False
    chart_measure = ""
    measures = (
        Measure("theme", gettext_lazy("generative theme"), kind="text", share=False),
        Measure("mode", gettext_lazy("decided by"), kind="text", share=False),
        Measure("follow_up", gettext_lazy("what follows"), kind="text", share=False),
    )

    def __init__(self, meeting):
        self.meeting = meeting
        self.title = _("Decisions of the steering group on %(date)s") % {"date": f"{meeting.held_on:%d.%m.%Y}"}
        self.description = self.title

    def row_specs(self, context, params):
        self._texts, rows = {}, []
        for decision in Decision.objects.filter(meeting=self.meeting).select_related("theme").prefetch_related(
                "groups", "measures", "agreements"):
            key = f"b:{decision.pk}"
            mode = decision.get_mode_display()
            if decision.mode == Decision.Mode.VOTE:
                mode += " " + _("(%(a)s for, %(b)s against, %(c)s abstentions)") % {
                    "a": decision.votes_for, "b": decision.votes_against or 0, "c": decision.abstentions or 0}
            follows = [decision.get_follow_up_display()] + [str(item) for item in (
                *decision.groups.all(), *decision.measures.all(), *decision.agreements.all())]
            if decision.standard:
                follows.append(decision.standard)
            self._texts[key] = {"theme": str(decision.theme or "–"), "mode": mode, "follow_up": ": ".join(
                [follows[0], ", ".join(follows[1:])]) if len(follows) > 1 else follows[0]}
            rows.append(RowSpec(key, decision.text, 0, counted=False))
        return rows

    def counts(self, context, period, params, split):
        return {}

    def derive(self, values, row, context, member):
        return self._texts.get(row.key, {})
