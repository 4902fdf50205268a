"""The chain of one theme, as its page and the committee paper show it: evidence → the steering
group's decisions → groups and measures → agreements → effect."""

from django.db.models import Count
from django.utils import timezone

from . import indicators
from .models import AgendaItem, Agreement, Decision, Measure, NeedReport, WorkingGroup


def of_theme(user, theme) -> dict:
    measures = list(Measure.objects.visible_to(user).filter(theme=theme).select_related("group", "decision__meeting"))
    figure = None
    if theme.evidence_figure:
        year = timezone.localdate().year - 1
        figure = (indicators.indicator_label(user, theme.evidence_figure),
                  indicators.read(user, theme.evidence_figure, year))
    return {
        "evidence": (NeedReport.objects.visible_to(user).filter(theme=theme)
                     .select_related("topic", "municipality").annotate(case_count=Count("cases"))),
        "reconstructions": theme.reconstructions.all(),
        "forums": theme.forums.select_related("municipality"),
        "figure": figure,
        "agenda": AgendaItem.objects.filter(theme=theme).select_related("meeting").order_by("meeting__held_on"),
        "decisions": Decision.objects.filter(theme=theme).select_related("meeting"),
        "groups": WorkingGroup.objects.visible_to(user).filter(theme=theme),
        "measures": [(measure, indicators.before_and_after(user, measure),
                      indicators.indicator_label(user, measure.indicator)) for measure in measures],
        "agreements": Agreement.objects.filter(theme=theme),
    }
