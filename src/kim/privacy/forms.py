from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kim.core.forms import KernForm

from .registry import CLASSES
from .restriction import REASON_MAX_LENGTH


class ErasureForm(KernForm):
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("E.g. \"Request of the participant of 1 December 2026\". Do not name the person."),
    )
    confirmation = forms.CharField(
        label=_("Participant code, as confirmation"), max_length=20,
        help_text=_("The record will be erased everywhere after the review window of 90 days; until then "
                    "the erasure can be cancelled."),
    )

    def __init__(self, *args, participant, **kwargs):
        super().__init__(*args, **kwargs)
        self.participant = participant

    def clean_confirmation(self):
        # Checked here as well as in the service, so that a missing reason and a wrong code show together.
        typed = self.cleaned_data["confirmation"].strip().upper()
        if typed != self.participant.code:
            raise forms.ValidationError(_("Type the participant's code %(code)s to confirm."),
                                        params={"code": self.participant.code})
        return typed


def adjustable_classes():
    return [c for c in CLASSES.values() if c.minimum is not None and c.minimum != c.maximum]


class RetentionPeriodsForm(KernForm):
    """One field per deletion class the district may set, within the class's bounds."""

    def __init__(self, *args, current: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for deletion_class in adjustable_classes():
            unit = pgettext_lazy("period unit", "months") if deletion_class.unit == "months" else pgettext_lazy(
                "period unit", "days")
            self.fields[deletion_class.key] = forms.IntegerField(
                label=f"{deletion_class.title} ({unit})", min_value=deletion_class.minimum,
                max_value=deletion_class.maximum, initial=current[deletion_class.key],
                help_text=_("Default %(default)s; allowed %(bounds)s.") % {
                    "default": deletion_class.period_text, "bounds": deletion_class.bounds_text},
            )
        self.style_fields()


class RestrictionForm(KernForm):
    """The lead's reason for restricting a record's processing (Art. 18 GDPR)."""

    reason = forms.CharField(
        label=_("Reason for the restriction"), max_length=REASON_MAX_LENGTH,
        help_text=_("E.g. the person contests the accuracy of the data, or needs them kept for a legal "
                    "claim. The person's record can then be read but not changed or exported."),
        error_messages={"required": _("Give the reason for the restriction.")},
    )
