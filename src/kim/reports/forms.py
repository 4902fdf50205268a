"""The parameter form of a report page (GET); the same names as `parse_params` reads.

The form offers what the reader may ask; whether a question may be asked is decided by
`questions.check_question` alone, for a hand-made address as for the form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kim.core.forms import DateInput, KernForm
from kim.core.models import Municipality, Provider

from .periods import PERIOD_KINDS
from .questions import (
    PARAMETER_NAMES,
    ParamError,
    check_question,
    default_params,
    is_aggregate_reader,
    parse_params,
)


class ReportParamsForm(KernForm):
    is_filter = True
    period = forms.ChoiceField(label=_("Period"), choices=list(PERIOD_KINDS.items()), required=False)
    year = forms.IntegerField(label=_("Year"), min_value=1990, max_value=2100, required=False)
    number = forms.IntegerField(
        label=_("Half-year, quarter or month"), min_value=1, max_value=12, required=False,
        help_text=_("1–2 for a half-year, 1–4 for a quarter, 1–12 for a month."),
    )
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("Until"), required=False, widget=DateInput())
    reference_date = forms.DateField(label=_("Reference date"), required=False, widget=DateInput())
    municipality = forms.ModelChoiceField(label=_("Municipality"), queryset=Municipality.objects.none(), required=False)
    provider = forms.ModelChoiceField(label=_("Provider"), queryset=Provider.objects.none(), required=False)
    compare = forms.BooleanField(label=_("Compare with the same period one year earlier"), required=False)
    top = forms.IntegerField(label=_("Number of topics"), min_value=1, max_value=50, required=False)
    unit = forms.ChoiceField(
        label=_("Count"), required=False,
        choices=[("mentions", _("topic mentions on appointments")), ("cases", _("cases"))],
    )

    def __init__(self, *args, report, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.report, self.user, self.params = report, user, None
        self.fields["municipality"].queryset = Municipality.objects.all()
        self.fields["provider"].queryset = Provider.objects.all()
        defaults = default_params(user, report)
        self.fields["year"].initial = defaults.period.start.year
        self.fields["reference_date"].initial = defaults.reference_date
        if is_aggregate_reader(user):
            # Offered: whole calendar years (see questions.py). Only the widget's choices are
            # narrowed, so that a quarter asked by address reaches check_question and gets its reason.
            self.fields["period"].widget.choices = [("year", PERIOD_KINDS["year"])]
            for name in ("number", "start", "end"):
                del self.fields[name]
            if report.counts_people:
                self.fields["reference_date"].help_text = _("District figures: 30 June or 31 December.")
        elif user.is_case_manager:
            del self.fields["provider"]
        if not report.uses_period:
            for name in ("period", "year", "number", "start", "end", "compare"):
                self.fields.pop(name, None)
        for name in {"municipality", "provider"} - set(report.cuts):
            self.fields.pop(name, None)
        if not report.comparable:
            self.fields.pop("compare", None)
        if not report.uses_reference_date:
            del self.fields["reference_date"]
        if not report.uses_top:
            del self.fields["top"]
            del self.fields["unit"]
        self.style_fields()

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                self.params = parse_params(self.as_params_dict(), user=self.user, report=self.report)
                check_question(self.user, self.report, self.params)
            except ParamError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, str(exc))
        return cleaned

    def as_params_dict(self) -> dict:
        """Every parameter the request carries as strings for `parse_params`, offered on the
        form or not: a question is answered as asked or refused, never silently changed."""
        return {name: self.data[name] for name in PARAMETER_NAMES if self.data.get(name) not in (None, "")}
