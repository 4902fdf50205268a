"""Effect indicators of measures: a row of a report the product already computes (R2's topic
"Kinderbetreuung", R4's referrals from the foreigners' office), read for the whole calendar
year before a measure starts and the first whole year after, through the reports' own door,
so the reader sees what the report shows them: the same figures, the same suppression."""

from dataclasses import dataclass, replace
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from kim.reports.formatting import HIDDEN_MARK, format_number, whole_percent
from kim.reports.periods import PeriodError
from kim.reports.framework import Context, ParamError, build_table, get_report, registered_reports
from kim.reports.questions import year_question

# Reports whose rows make sense as the effect of a measure: counts over a period.
INDICATOR_REPORTS = ("R1", "R2", "R3", "R4", "R5", "R6", "R7", "R14")
ALL_ROWS = 50  # R2 shows its top rows only (at most 50); an indicator needs its row whatever its rank


@dataclass(frozen=True)
class Reading:
    year: int
    value: object = None  # the count, None where hidden or not yet published
    share: object = None
    note: str = ""  # why there is no figure

    @property
    def value_text(self):
        return self.note or format_number(self.value)

    @property
    def share_text(self):
        return f"{whole_percent(self.share)}\u00a0%" if self.share is not None and not self.note else ""


def indicator_choices(user) -> list[tuple[str, str]]:
    """[(key, label)] of every row of the indicator reports, as this district has them."""
    context = Context(user)
    choices = []
    for report in registered_reports():
        if report.id not in INDICATOR_REPORTS:
            continue
        params = _params(user, report, timezone.localdate().year - 1)
        for spec in report.row_specs(context, params):
            choices.append((f"{report.id}|{spec.key}", f"{report.id} {report.title}: {spec.label}"))
    return choices


def indicator_label(user, key: str) -> str:
    return dict(indicator_choices(user)).get(key, key) if key else ""


def _params(user, report, year):
    return replace(year_question(year, date(year, 12, 31)), top=ALL_ROWS)


def read(user, key: str, year: int) -> Reading:
    """The indicator's figure in one calendar year, as `user` may see it."""
    report_id, _sep, row_key = key.partition("|")
    try:
        report = get_report(report_id)
        table = build_table(user, report, _params(user, report, year))
    except (ParamError, PeriodError) as exc:  # a year the reports cannot ask for
        return Reading(year, note=str(exc))
    row = next((r for r in table.rows if str(r.key) == row_key), None)
    if row is None:
        return Reading(year, note=_("The row no longer exists."))
    value_key, share_key = table.columns[0].key, next((c.key for c in table.columns if c.is_share), None)
    if value_key in row.suppressed:
        return Reading(year, note=f"< {table.k}" if value_key in row.below_k else HIDDEN_MARK)
    return Reading(year, value=row.values.get(value_key), share=row.values.get(share_key) if share_key else None)


def before_and_after(user, measure) -> tuple[Reading, Reading] | None:
    """The indicator in the calendar year before the measure starts and the first whole year
    after its start (not yet there while that year runs)."""
    if not measure.indicator:
        return None
    start = measure.starts_on.year
    after = start + 1
    if after >= timezone.localdate().year:
        later = Reading(after, note=_("from %(date)s") % {"date": f"01.01.{after + 1}"})
    else:
        later = read(user, measure.indicator, after)
    return read(user, measure.indicator, start - 1), later
