from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy

from kim.core.forms import KernForm


def last_year() -> int:
    return timezone.localdate().year - 1


class UploadForm(KernForm):
    file = forms.FileField(label=gettext_lazy("Extract file (.json)"),
                           help_text=gettext_lazy("The signed file the district wrote with “kim statistics export”."))
    year = forms.IntegerField(label=gettext_lazy("Year of the figures"), min_value=1990, max_value=2100,
                              initial=last_year,
                              help_text=gettext_lazy("A file of another year is refused."))


class YearForm(KernForm):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=1990, max_value=2100, required=False)
