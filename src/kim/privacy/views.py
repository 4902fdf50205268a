"""Pages of the data-subject rights: the provider lead restricts a record's processing
(Art. 18 GDPR) and lifts the restriction, on the participant's page."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kim.casework.models import Participant
from kim.core.access import personal_data_view, visible_or_404
from kim.core.forms import KernForm
from kim.core.views import form_errors_from

from .restriction import REASON_MAX_LENGTH, lift_restriction, may_restrict, restrict


class RestrictionForm(KernForm):
    reason = forms.CharField(
        label=gettext_lazy("Reason for the restriction"), max_length=REASON_MAX_LENGTH,
        help_text=gettext_lazy("E.g. the person contests the accuracy of the data, or needs them kept for a legal "
                               "claim. The person's record can then be read but not changed or exported."),
        error_messages={"required": gettext_lazy("Give the reason for the restriction.")},
    )


@personal_data_view
@require_POST
def participant_restrict(request, pk):
    participant = visible_or_404(Participant, request.user, pk=pk)
    if not may_restrict(request.user, participant):
        raise PermissionDenied
    form = RestrictionForm(request.POST, prefix="restriction")
    if form.is_valid():
        try:
            restrict(request.user, participant, form.cleaned_data["reason"])
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, _("Processing of the record is restricted from today."))
            return redirect("casework:participant", pk=pk)
    from kim.casework.views import opened, participant_context  # the page the form sits on

    opened(request, participant)
    return render(request, "casework/participant_detail.html",
                  participant_context(request, participant, restriction_form=form), status=422)


@personal_data_view
@require_POST
def participant_lift(request, pk):
    participant = visible_or_404(Participant, request.user, pk=pk)
    if not may_restrict(request.user, participant):
        raise PermissionDenied
    try:
        lift_restriction(request.user, participant)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The restriction has been lifted: the record can be changed again."))
    return redirect("casework:participant", pk=pk)
