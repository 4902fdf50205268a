"""Forms of module 3; the services check the rules again (kim.residence.services)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kim.core.forms import KernModelForm
from kim.core.models import Municipality, ReferralTarget

from . import services
from .models import MonthlyTally, Office, Procedure


def own_offices(user):
    return Office.objects.filter(staff=user, district_id=user.district_id, active=True)


class OfficeChoiceMixin:
    def limit_offices(self, user):
        self.fields["office"].queryset = own_offices(user)
        if self.fields["office"].queryset.count() == 1 and not self.instance.pk:
            self.fields["office"].initial = self.fields["office"].queryset.first().pk


class ProcedureForm(OfficeChoiceMixin, KernModelForm):
    participant_code = forms.CharField(
        label=_("KIM participant code"), required=False, max_length=16,
        help_text=_("Only where the participant released this office from confidentiality towards KIM, "
                    "e.g. TN-AB12CD34."))

    class Meta:
        model = Procedure
        fields = ["office", "kind", "reference", "received_on", "complete_on", "decided_on", "outcome",
                  "by_kim_staff", "from_104c"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_offices(user)
        self.fields["from_104c"].help_text = ""  # the label says it; a checkbox's hint wraps badly
        if self.instance.pk and self.instance.participant_id:
            self.fields["participant_code"].initial = self.instance.participant.code
        self.style_fields()

    def clean(self):
        data = super().clean()
        for field, message in services.procedure_problems(data).items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, message)
        return data


class TallyForm(OfficeChoiceMixin, KernModelForm):
    class Meta:
        model = MonthlyTally
        fields = ["office", "month", "kind", "received", "granted", "refused", "withdrawn", "by_kim_staff",
                  "open_under_3", "open_3_6", "open_6_12", "open_over_12"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_offices(user)
        self.fields["month"].help_text = _("Any day of the month; the figures are kept for the whole month.")
        self.style_fields()

    def clean(self):
        data = super().clean()
        for field, message in services.tally_problems(data).items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, message)
        return data


class OfficeForm(KernModelForm):
    class Meta:
        model = Office
        fields = ["name", "kind", "municipality", "release_target", "staff", "active"]
        widgets = {"staff": forms.CheckboxSelectMultiple}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = Municipality.objects.filter(district_id=user.district_id)
        self.fields["release_target"].queryset = ReferralTarget.objects.filter(district_id=user.district_id,
                                                                               active=True)
        self.fields["release_target"].required = False
        self.fields["release_target"].help_text = _(
            "Empty: “Ausländerbehörde” or “Einbürgerungsbehörde” by the kind of office.")
        self.fields["staff"].queryset = services.module3_staff(user.district_id)
        self.style_fields()
