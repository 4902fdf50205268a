from django import forms
from django.utils.translation import gettext_lazy as _

from kim.core.forms import KernForm, KernModelForm

from .models import LegalDomain, NeedReport, Theme
from .indicators import indicator_choices
from .services import TRIAGE, coordinators_of


class NeedReportForm(KernModelForm):
    legal_domains = forms.MultipleChoiceField(label=_("legal domains"), choices=LegalDomain.choices, required=False,
                                              widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = NeedReport
        fields = ["challenge", "legal_domains", "institutions", "topic", "municipality", "frequency"]
        widgets = {"challenge": forms.Textarea(attrs={"rows": 5}), "institutions": forms.CheckboxSelectMultiple}


class TriageForm(KernForm):
    status = forms.ChoiceField(label=_("How the report is dealt with"),
                               choices=[(s.value, s.label) for s in NeedReport.Status if s in TRIAGE])
    theme = forms.ModelChoiceField(label=_("generative theme"), queryset=Theme.objects.none(), required=False,
                                   help_text=_("Needed when the report is merged into a theme."))
    response = forms.CharField(label=_("approach / solution"), required=False, max_length=3000,
                               widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].queryset = Theme.objects.all()


class ThemeForm(KernModelForm):
    class Meta:
        model = Theme
        fields = ["title", "description", "status", "failure_reason", "planned_year", "planned_quarter", "responsible",
                  "evidence_figure"]
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Accounts are not scoped by district: the district's own coordination only.
        self.fields["responsible"].queryset = coordinators_of(user.district_id)
        self.fields["evidence_figure"] = forms.ChoiceField(
            label=_("report figure as evidence"), required=False, choices=[("", "–")] + indicator_choices(user),
            help_text=_("A figure of the reports that shows the problem; the theme page shows it for the last "
                        "whole year."))
        self.style_fields()

