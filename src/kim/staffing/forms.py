"""Forms of staffing and funding: plain ModelForms with the district's own choices."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kim.core.forms import KernForm, KernModelForm
from kim.core.models import Municipality, Provider

from .models import Filling, Position, Rate, Vacancy
from .services import holder_candidates


class PositionForm(KernModelForm):
    class Meta:
        model = Position
        fields = ["function", "title", "municipality", "employer", "fte_approved", "approved_from", "approved_until",
                  "passed_on_to", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = Municipality.objects.all()
        self.fields["municipality"].empty_label = _("across municipalities")
        for name in ("employer", "passed_on_to"):
            self.fields[name].queryset = Provider.objects.all()
        self.fields["employer"].empty_label = _("district administration")
        self.fields["passed_on_to"].empty_label = _("not passed on")


class FillingForm(KernModelForm):
    class Meta:
        model = Filling
        fields = ["person", "holder", "fte", "starts_on", "ends_on"]

    def __init__(self, *args, district_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = (holder_candidates(district_id).select_related("provider")
                                          .order_by("last_name", "first_name"))
        # Namesakes are told apart by employer and role.
        self.fields["person"].label_from_instance = lambda user: "{} ({})".format(
            user.get_full_name() or user.username, ", ".join(filter(None, [str(user.provider or ""),
                                                                            user.get_role_display()])))
        self.fields["person"].empty_label = _("no account (name below, or not named)")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("person") and cleaned.get("holder"):
            self.add_error("holder", _("Either choose an account or write a name, not both."))
        return cleaned


class VacancyForm(KernModelForm):
    class Meta:
        model = Vacancy
        fields = ["fte", "starts_on", "ends_on"]


class RateForm(KernModelForm):
    class Meta:
        model = Rate
        fields = ["year", "expense", "function", "amount", "source"]
        help_texts = {"source": _("For example the notice of grant (Zuwendungsbescheid) with its date."),
                      "function": _("For rates per FTE; empty for a lump sum.")}


class YearForm(KernForm):
    year = forms.IntegerField(label=_("year"), min_value=2020, max_value=2100)


class DayForm(KernForm):
    day = forms.DateField(label=_("reference date"))
