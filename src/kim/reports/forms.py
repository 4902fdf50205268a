"""The parameter form of a report page (GET); the same names as `parse_params` reads."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kim.core.forms import DateInput, KernForm
from kim.core.models import Municipality, Provider

from .periods import PERIOD_KINDS


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
        self.fields["municipality"].queryset = Municipality.objects.all()
        self.fields["provider"].queryset = Provider.objects.all()
        self.fields["year"].initial = timezone.localdate().year - 1
        if not user.sees_personal_data:
            # Aggregate readers get whole calendar years only (see framework.check_params).
            self.fields["period"].choices = [("year", PERIOD_KINDS["year"])]
            for name in ("number", "start", "end"):
                del self.fields[name]
            self.fields["reference_date"].help_text = _("District figures: 30 June or 31 December.")
        elif user.is_case_manager:
            del self.fields["provider"]
        if not report.uses_period:
            for name in ("period", "year", "number", "start", "end", "compare"):
                self.fields.pop(name, None)
        if not report.uses_reference_date:
            del self.fields["reference_date"]
        if not report.uses_top:
            del self.fields["top"]
            del self.fields["unit"]
        self.style_fields()

    def as_params_dict(self) -> dict:
        """The query parameters as strings for `parse_params`."""
        data = {}
        for name in self.fields:
            value = self.data.get(name)
            if value not in (None, ""):
                data[name] = value
        return data
