"""Forms of a transfer and of a referral's handover: the providers offered are those the
participant released the sender towards, the case managers those of these providers."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kim.casework.forms import ReferralForm, plausible_record_date
from kim.casework.models import CaseKind
from kim.core.forms import DateInput, KernForm
from kim.core.models import Provider, User

from .transfer import receiving_providers, receiving_staff


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return f"{user.get_full_name() or user.username} ({user.provider.name}, {user.get_role_display()})"


def _receiving_fields(form, case):
    providers = receiving_providers(case.participant, case.provider_id) if case.participant else Provider.objects.none()
    form.receivers = providers
    form.fields["case_manager"].queryset = receiving_staff(providers)
    return providers


class TransferForm(KernForm):
    receiver = forms.ModelChoiceField(label=_("Receiving provider"), queryset=Provider.objects.none(),
                                      help_text=_("Only providers the participant released you towards."))
    case_manager = StaffChoiceField(
        label=_("Receiving case manager"), queryset=User.objects.none(), required=False,
        help_text=_("A case manager of the receiving provider; left empty, the case goes to its provider lead."))
    transferred_on = forms.DateField(label=_("Date of the transfer"), widget=DateInput(), initial=timezone.localdate)
    note = forms.CharField(label=_("Note to the receiver"), max_length=300, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("No more than the release covers: the note goes to the receiving provider."))

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receiver"].queryset = _receiving_fields(self, case)
        self.style_fields()

    def clean_transferred_on(self):
        return plausible_record_date(self.cleaned_data["transferred_on"])

    def clean(self):
        data = super().clean()
        manager, receiver = data.get("case_manager"), data.get("receiver")
        if manager and receiver and manager.provider_id != receiver.pk:
            self.add_error("case_manager", _("The receiving case manager does not work for %(provider)s.")
                           % {"provider": receiver.name})
        return data


class HandoverReferralForm(ReferralForm):
    """A referral; to a partner that is a provider here it can hand the released data over."""

    hand_over = forms.BooleanField(
        label=_("Hand the data over"), required=False,
        help_text=_("Only for a partner that is a provider in the KIM-Fachdatenbank: it receives a new case with "
                    "the data the release covers. Your case stays open."))
    case_manager = StaffChoiceField(
        label=_("Receiving case manager"), queryset=User.objects.none(), required=False,
        help_text=_("Left empty, the case goes to the receiving provider's lead."))
    kind = forms.ChoiceField(label=_("Kind of the new case"), required=False,
                             choices=[("", _("the same kind"))] + CaseKind.choices)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        if not _receiving_fields(self, case).exists():
            for name in ("hand_over", "case_manager", "kind"):
                del self.fields[name]
        self.style_fields()

    def referral_values(self) -> dict:
        return {name: self.cleaned_data[name] for name in ReferralForm.Meta.fields}
