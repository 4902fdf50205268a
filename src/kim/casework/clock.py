"""The §104c clock: the opportunity residence title (§104c AufenthG) runs for 18 months and
cannot be extended; by then the holder must meet §25a or §25b. "Meine Fälle" and the case page
warn 6, 3 and 1 month before it runs out, with the open steps: the case's goals of the category
"Erhalt Aufenthalt nach §25a/b" and their status."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Prefetch
from django.utils import timezone

from .models import Case, Goal, GoalStatus, Participant, add_months

# Warnings begin this many months before expiry, in these steps.
WARN_MONTHS = (6, 3, 1)
STEP_CATEGORY_KEY = "aufenthalt-25ab"
DONE = (GoalStatus.ACHIEVED,)


@dataclass
class TitleWarning:
    case: Case
    expires_on: date
    # 6, 3 or 1: the nearest step reached; 0 once the title has run out.
    months: int
    days_left: int
    steps: list = field(default_factory=list)  # goals of the §25a/b category, achieved ones included

    @property
    def expired(self) -> bool:
        return self.months == 0

    @property
    def open_steps(self) -> list:
        return [goal for goal in self.steps if goal.status not in DONE]

    @property
    def level(self) -> str:
        """The KERN alert it is shown as."""
        return "danger" if self.months <= 1 else "warning"


def warning_step(expires_on: date, today: date) -> int | None:
    """6, 3 or 1 where `today` lies within that many months before `expires_on`, 0 after it,
    None while more than 6 months are left."""
    if today > expires_on:
        return 0
    reached = [months for months in WARN_MONTHS if today >= add_months(expires_on, -months)]
    return min(reached) if reached else None


def _steps(case):
    goals = getattr(case, "title_steps", None)
    if goals is None:
        goals = case.goals.filter(category__key=STEP_CATEGORY_KEY).select_related("category")
    return list(goals)


def title_warning(case: Case, today: date | None = None) -> TitleWarning | None:
    """The warning of an open case whose participant still holds a §104c title, or None."""
    today = today or timezone.localdate()
    participant = case.participant
    if (not case.is_open or case.title_104c_expires_on is None or participant is None
            or participant.residence_status != Participant.ResidenceStatus.PERMIT_104C):
        return None
    months = warning_step(case.title_104c_expires_on, today)
    if months is None:
        return None
    return TitleWarning(case=case, expires_on=case.title_104c_expires_on, months=months,
                        days_left=(case.title_104c_expires_on - today).days, steps=_steps(case))


def title_warnings(cases, today: date | None = None) -> list[TitleWarning]:
    """Warnings for a queryset of cases the user sees (`Case.objects.visible_to(user)`): the
    titles that run out within 6 months or have run out, the soonest first; three queries."""
    today = today or timezone.localdate()
    due = cases.filter(
        closed_on__isnull=True, title_104c_expires_on__lte=add_months(today, WARN_MONTHS[0]),
        participant__residence_status=Participant.ResidenceStatus.PERMIT_104C,
    ).select_related("participant").prefetch_related(Prefetch(
        "goals", Goal.objects.filter(category__key=STEP_CATEGORY_KEY).select_related("category"),
        to_attr="title_steps",
    )).order_by("title_104c_expires_on", "pk")
    return [warning for warning in (title_warning(case, today) for case in due) if warning is not None]
