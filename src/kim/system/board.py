"""The "Systemebene" board on coordination's (and the steering group's) start page: what is
new, what is due, what comes next."""

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from .models import REVIEW_NOTICE_DAYS, Agreement, Measure, Meeting, NeedReport, Theme


def board(user) -> dict | None:
    if not user.has_perm("system.read"):
        return None
    today = timezone.localdate()
    by_status = dict(Theme.objects.values_list("status").annotate(n=Count("pk")).order_by())
    next_meeting = Meeting.objects.filter(held_on__gte=today).order_by("held_on").first()
    return {
        "new_reports": (NeedReport.objects.visible_to(user).filter(status=NeedReport.Status.SENT)
                        .select_related("topic")[:5] if user.has_perm("system.coordinate") else None),
        "new_report_count": (NeedReport.objects.visible_to(user).filter(status=NeedReport.Status.SENT).count()
                             if user.has_perm("system.coordinate") else 0),
        "themes": [(status, by_status.get(status.value, 0)) for status in Theme.Status],
        "next_meeting": next_meeting,
        "next_agenda": next_meeting.agenda.select_related("theme") if next_meeting else (),
        "due_reviews": Agreement.objects.filter(
            ~Q(status=Agreement.Status.ENDED), review_on__lte=today + timedelta(days=REVIEW_NOTICE_DAYS)),
        "overdue_measures": Measure.objects.visible_to(user).filter(
            due_on__lt=today, status__in=[Measure.Status.PLANNED, Measure.Status.RUNNING]),
    }
