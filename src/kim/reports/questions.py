"""What a reader may ask of a report: the question (`ReportParams`), how it is read from a
query string or the command line (`parse_params`), what is asked when nothing is said
(`default_params`), and the rules that decide whether this reader may ask it
(`check_question`).

This is the one door. The report page, the API, `kim report` and the committee paper all
build their tables through `framework.build_table`, which asks `check_question` first; the
page's form and the paper's service ask it as well, so that the refusal stands beside the
field. No entry point has rules of its own.

Readers who own the data (case managers, provider leads) may ask anything of their records.
Aggregate readers (coordination, steering group, module 3) see the district's figures with
small counts hidden. From two answers that differ a little, a hidden count comes back by
subtraction; so what they may ask is limited to questions that do not overlap:

    what                            aggregate readers may ask     because
    period                          a whole calendar year that    half-years, quarters, months, custom
                                    has ended                     days, or a running year asked on two
                                                                  days, differ by a few records
    reference date                  30 June or 31 December, once  two neighbouring days differ by the
                                    the day has passed            cases opened or closed in between
    municipality and provider       one of them, not both         the cell of one provider in one town
                                                                  is a handful of people
    R2 topics                       counted by mention            counted by case, topics overlap

For everyone: years from 1990 to 2100, and a municipality or provider of the district.
R15 (completeness) is shown to aggregate readers per provider only, with suppression, never
per case manager (see `definitions.CompletenessReport`).
"""

from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from kim.core.models import PERSONAL_DATA_ROLES, Municipality, Provider, Role

from .periods import Period, PeriodError

# Reference dates (month, day) open to aggregate readers.
AGGREGATE_REFERENCE_DAYS = ((6, 30), (12, 31))
MUNICIPALITY, PROVIDER = "municipality", "provider"
# The names of the parameters, as the page, the API and the command line spell them.
PARAMETER_NAMES = ("period", "year", "number", "start", "end", "reference_date", "municipality", "provider",
                   "compare", "top", "unit")


class ParamError(ValueError):
    """Parameters this reader may not use; the message is for the user, `field` names the
    parameter it is about (None: the question as a whole)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ReportParams:
    period: Period
    reference_date: date
    municipality_id: int | None = None
    provider_id: int | None = None
    compare: bool = False
    top: int = 5
    # R2: count topic mentions on appointments, or cases that had the topic.
    unit: str = "mentions"
    # For a document that others read (a committee paper): no rows a report shows only to
    # some readers, such as the names of staff in R8, whoever renders it.
    published: bool = False

    def describe(self, report, context) -> dict:
        """The parameters as shown on every rendering, in German."""
        described = {}
        if report.uses_period:
            described[_("Period")] = self.period.label
        if report.uses_reference_date:
            described[_("Reference date")] = f"{self.reference_date:%d.%m.%Y}"
        described[_("District")] = context.district.name
        if self.municipality_id:
            described[_("Municipality")] = context.member_label(MUNICIPALITY, self.municipality_id)
        if self.provider_id:
            described[_("Provider")] = context.member_label(PROVIDER, self.provider_id)
        if self.compare:
            described[_("Comparison")] = _("same period one year earlier")
        if report.uses_top and self.unit == "cases":
            described[_("Counted")] = _("cases, not appointments")
        return described


# ---------------------------------------------------------------- who asks

# The roles that read the district's figures only, with small counts hidden: coordination,
# steering group, module 3, administration. They also read the district's committee papers.
AGGREGATE_READER_ROLES = tuple(role for role in Role.values if role not in PERSONAL_DATA_ROLES)


def is_aggregate_reader(user) -> bool:
    """Readers outside the provider that owns the data: figures with small counts hidden."""
    return user is not None and not user.sees_personal_data


# ---------------------------------------------------------------- what is asked when nothing is said

def default_year(user, today: date | None = None) -> int:
    """The running year where its figures are open to the reader; for aggregate readers the
    last year that has ended (a running year is not theirs to ask, see the table above)."""
    today = today or timezone.localdate()
    return today.year - 1 if is_aggregate_reader(user) else today.year


def default_reference_date(user, report=None, period: Period | None = None, today: date | None = None) -> date:
    """Owners: today, or the end of the period if it has ended. Aggregate readers: the end of
    the period for a report that counts one; else the last 30 June or 31 December before today."""
    today = today or timezone.localdate()
    if not is_aggregate_reader(user):
        return min(today, period.end) if period else today
    if period is not None and (report is None or report.uses_period):
        return period.end
    passed = [date(year, month, day) for year in (today.year - 1, today.year)
              for month, day in AGGREGATE_REFERENCE_DAYS if date(year, month, day) < today]
    return max(passed)


def default_params(user=None, report=None, today: date | None = None) -> ReportParams:
    today = today or timezone.localdate()
    period = Period.of("year", default_year(user, today))
    return ReportParams(period=period, reference_date=default_reference_date(user, report, period, today))


def year_question(year: int, reference_date: date) -> ReportParams:
    """The question of a committee paper or a deadline: one calendar year, one reference date."""
    return ReportParams(period=Period.of("year", year), reference_date=reference_date)


# ---------------------------------------------------------------- reading a question from strings

def parse_params(data, user=None, report=None, today: date | None = None) -> ReportParams:
    """ReportParams from strings (a query string or the command line); German errors. What is
    not given is the reader's default."""
    today = today or timezone.localdate()
    try:
        kind = data.get("period") or "year"
        year = _integer(data.get("year"), "year") if data.get("year") else default_year(user, today)
        if kind == "custom":
            period = Period.custom(_day(data.get("start"), "start"), _day(data.get("end"), "end"))
        else:
            number = _integer(data.get("number"), "number") if data.get("number") else None
            period = Period.of(kind, year, number)
    except PeriodError as exc:
        raise ParamError(str(exc)) from None
    reference = (_day(data.get("reference_date"), "reference_date") if data.get("reference_date")
                 else default_reference_date(user, report, period, today))
    municipality = _integer(data.get("municipality"), "municipality") if data.get("municipality") else None
    provider = _integer(data.get("provider"), "provider") if data.get("provider") else None
    top = _integer(data.get("top"), "top") if data.get("top") else 5
    if not 1 <= top <= 50:
        raise ParamError(_("Show between 1 and 50 topics."), "top")
    unit = data.get("unit") or "mentions"
    if unit not in ("mentions", "cases"):
        raise ParamError(_("Count topic mentions or cases."), "unit")
    return ReportParams(
        period=period, reference_date=reference, municipality_id=municipality, provider_id=provider,
        compare=str(data.get("compare", "")).lower() in {"1", "true", "on", "ja", "yes"}, top=top, unit=unit,
    )


def _not_valid(field):
    return ParamError(_("The report parameters are not valid (dates as YYYY-MM-DD, numbers as digits)."), field)


def _integer(text, field) -> int:
    try:
        value = int(str(text))
    except ValueError:
        raise _not_valid(field) from None
    if not -10**9 < value < 10**9:
        raise _not_valid(field)
    return value


def _day(text, field) -> date:
    if not text:
        raise _not_valid(field)
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise _not_valid(field) from None


# ---------------------------------------------------------------- the rules

def check_question(user, report, params: ReportParams, today: date | None = None):
    """Refuse (ParamError with a German message) a question this reader may not ask."""
    today = today or timezone.localdate()
    if not user.has_perm(report.permission):
        raise ParamError(_("This report is not open to your role."))
    report.check_params(params)
    for day in (params.period.start, params.period.end, params.reference_date):
        if not 1990 <= day.year <= 2100:
            raise ParamError(_("The year must lie between 1990 and 2100."), "year")
    if is_aggregate_reader(user) and report.counts_people and user.role not in report.owner_roles:
        _check_aggregate_question(report, params, today)
    for split, member in ((MUNICIPALITY, params.municipality_id), (PROVIDER, params.provider_id)):
        model = Municipality if split == MUNICIPALITY else Provider
        if member and not model.objects.filter(pk=member).exists():
            raise ParamError(_("The chosen municipality or provider does not exist in this district."), split)


def _check_aggregate_question(report, params, today):
    if report.uses_period:
        if not params.period.is_calendar_year:
            raise ParamError(_(
                "District figures are published for whole calendar years only: from half-years, "
                "quarters or months, hidden small numbers could be worked out."
            ), "period")
        if params.period.end >= today:
            raise ParamError(_(
                "District figures for %(year)d are published once the year has ended: the figures of "
                "a running year change from day to day, and from two days hidden small numbers could "
                "be worked out."
            ) % {"year": params.period.start.year}, "year")
    if report.uses_reference_date:
        if (params.reference_date.month, params.reference_date.day) not in AGGREGATE_REFERENCE_DAYS:
            raise ParamError(_(
                "District figures on a reference date are published for 30 June and 31 December only: "
                "from two neighbouring days, hidden small numbers could be worked out."
            ), "reference_date")
        if params.reference_date >= today:
            raise ParamError(_(
                "District figures on a reference date are published once the day has passed."
            ), "reference_date")
    if report.uses_top and params.unit == "cases":
        raise ParamError(_(
            "District figures count topic mentions: counted by case, topics overlap, and hidden small "
            "numbers could be worked out."
        ), "unit")
    if params.municipality_id and params.provider_id:
        raise ParamError(_("Choose a municipality or a provider, not both."), "provider")
    if params.municipality_id and report.per_provider_for_aggregate_readers:
        # Its rows are the providers: per municipality they would be provider-in-town cells.
        raise ParamError(_(
            "This report shows the district one row per provider; per municipality it would show each "
            "provider's figures in one town, from which hidden small numbers could be narrowed down."
        ), "municipality")
