"""Data completeness (R15) around a deadline: who has complete data, who confirmed it."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kim.casework.models import Case
from kim.core.models import Provider, Role

from .definitions import completeness_gaps
from .formatting import whole_percent
from .framework import ReportParams, build_table
from .models import DataConfirmation, ReportingDeadline
from .periods import Period
from .questions import year_question

GAP_LABELS = {
    "no_target_group": gettext_lazy("target group missing"),
    "no_referral_source": gettext_lazy("referral source missing"),
    "appointments_no_topic": gettext_lazy("counselling appointment without topic"),
    "goals_no_status": gettext_lazy("goal without status"),
    "reassessment_overdue": gettext_lazy("re-assessment overdue (over 6 months)"),
    "stale": gettext_lazy("no appointment for 90 days"),
}


def current_deadline():
    """The deadline providers confirm for now: the latest one not withdrawn."""
    return ReportingDeadline.objects.filter(withdrawn_at__isnull=True).order_by("-due_on", "-pk").first()


def deadline_for_year(year: int):
    """The latest deadline (not withdrawn) for the figures of `year`, or None."""
    return (ReportingDeadline.objects.filter(withdrawn_at__isnull=True, period_start__year=year)
            .order_by("-due_on", "-pk").first())


def deadline_params(deadline) -> ReportParams:
    """The figures of a deadline: its calendar year, re-assessments and stale cases as of the
    year's end (aggregate readers get whole years and 31 December only)."""
    return year_question(deadline.period_start.year, deadline.period_end)


def completeness_table(user, deadline):
    return build_table(user, "R15", deadline_params(deadline))


def provider_share(user, deadline) -> tuple[Decimal | None, int]:
    """(share of complete records, number of cases) of the lead's provider for the deadline."""
    table = completeness_table(user, deadline)
    total = next(row for row in table.rows if row.key == "total")
    return total.values.get("complete_share@0"), total.values.get("cases@0") or 0


def may_read_note(reader, provider_id) -> bool:
    """A lead's note on the confirmation is for the coordination and the provider's own lead."""
    return reader is not None and (reader.role == Role.COORDINATION or
                                   (reader.is_provider_lead and reader.provider_id == provider_id))


def confirmations(deadline, reader=None) -> list[dict]:
    """Per provider (the active ones and any that confirmed): its confirmation or None, and
    whether `reader` may read the note."""
    confirmed = {c.provider_id: c for c in DataConfirmation.objects.filter(deadline=deadline).select_related("confirmed_by")}
    providers = Provider.objects.filter(Q(active=True) | Q(pk__in=list(confirmed))).order_by("name")
    return [{"provider": p, "confirmation": confirmed.get(p.pk), "note_readable": may_read_note(reader, p.pk)}
            for p in providers]


def complete_share(user, deadline) -> Decimal | None:
    """The share of complete records around the deadline, as this reader may see it (None where
    it is hidden): R15's total, the costly part of the state of the data."""
    table = completeness_table(user, deadline)
    total = next(row for row in table.rows if row.key == "total")
    return total.values.get("complete_share@0")


def cached_complete_share(user, deadline) -> Decimal | None:
    """complete_share, kept for KIM_DATA_STATE_SECONDS per district, deadline and reader's scope:
    every report page shows it, and at a district of 30,000 participants it takes a second to
    compute (R15), which 50 readers at once would otherwise compute again and again. Within that
    time the page may show a share up to a minute old; downloads, the API and committee papers
    compute it anew."""
    seconds = settings.KIM_DATA_STATE_SECONDS
    if seconds <= 0:
        return complete_share(user, deadline)
    # What decides what the reader sees: the district's figures, or a provider's own, or a case
    # manager's own cases.
    scope_key = f"{user.role}:{user.provider_id or '-'}:{user.pk if user.is_case_manager else '-'}"
    key = f"kim:data-state:{user.district_id}:{deadline.pk}:{deadline.due_on}:{scope_key}"
    return cache.get_or_set(key, lambda: complete_share(user, deadline), seconds)


def data_state(user, deadline=None, cached=False) -> dict | None:
    """The state of completeness figures are computed on, for the committee: of `deadline`,
    or of the current one (with `cached`, the share of complete records may be a minute old)."""
    deadline = deadline or current_deadline()
    if deadline is None:
        return None
    share = (cached_complete_share if cached else complete_share)(user, deadline)
    rows = confirmations(deadline)
    state = {
        "deadline": deadline.title, "due_on": deadline.due_on.isoformat(),
        "complete_percent": whole_percent(share) if share is not None else None,
        "providers_confirmed": sum(1 for r in rows if r["confirmation"]), "providers": len(rows),
    }
    state["text"] = _(
        "%(deadline)s (deadline %(due)s): %(percent)s %% of records complete; %(confirmed)d of "
        "%(providers)d providers confirmed their data."
    ) % {
        "deadline": deadline.title, "due": f"{deadline.due_on:%d.%m.%Y}",
        "percent": state["complete_percent"] if share is not None else "–",
        "confirmed": state["providers_confirmed"], "providers": state["providers"],
    }
    return state


def gap_cases(user, params):
    cases = completeness_gaps(Case.objects.visible_to(user), params.period, params.reference_date)
    if user.is_case_manager:
        cases = cases.filter(case_manager=user)
    return cases.filter(is_complete=False)


def gaps_params(deadline):
    if deadline is not None:
        return deadline_params(deadline)
    today = timezone.localdate()  # no deadline yet: the last twelve months up to today
    return ReportParams(period=Period.custom(today - timedelta(days=365), today), reference_date=today)


def my_gaps(user, deadline):
    """The user's own cases with documentation gaps, for links to fix them (personal data:
    through the user's scope)."""
    params = gaps_params(deadline)
    gaps = gap_cases(user, params).select_related("participant").order_by("opened_on")[:200]
    return [
        {"case": case, "gaps": [label for key, label in GAP_LABELS.items() if getattr(case, f"gap_{key}")]}
        for case in gaps
    ]
