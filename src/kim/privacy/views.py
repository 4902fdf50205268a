"""Pages of data protection: the provider lead's erasure requests and restrictions of
processing, the district administrator's retention periods with what is due and the last runs."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kim.casework.models import Participant
from kim.casework.reads import audit_read
from kim.casework.views import handle_form
from kim.core.access import permission_required, visible_or_404
from kim.core.views import form_errors_from, posted, render_form

from . import erasure as erasures
from . import retention, services
from .forms import ErasureForm, RestrictionForm, RetentionPeriodsForm, adjustable_classes
from .models import Erasure, RetentionRun
from .registry import CLASSES
from .restriction import lift_restriction, may_restrict, restrict


@permission_required("privacy.overview")
@require_safe
def index(request):
    user = request.user
    context = {}
    if user.is_provider_lead:
        erasures = list(Erasure.objects.visible_to(user).select_related("participant", "requested_by",
                                                                        "decided_by")[:100])
        # Pending ones are listed by the person's code: a read of their records.
        audit_read(user, [e.participant for e in erasures if e.status == Erasure.Status.PENDING])
        context["erasures"] = erasures
    if user.has_perm("privacy.manage_retention"):
        context.update(_retention_context(user))
    return render(request, "privacy/index.html", context)


def _retention_context(user, form=None):
    district = user.district
    current = services.current_periods(district)
    due = retention.plan(district, timezone.localdate())
    return {
        "form": form or RetentionPeriodsForm(current=current),
        "classes": [{"class": c, "period": c.format_period(current[c.key]), "due": due.get(c.key)}
                    for c in CLASSES.values()],
        "runs": RetentionRun.objects.filter(district=district)[:10],
    }


@permission_required("privacy.manage_retention")
@require_http_methods(["POST"])
def periods(request):
    user = request.user
    form = RetentionPeriodsForm(posted(request), current=services.current_periods(user.district))
    if form.is_valid():
        changes = services.set_periods(user, user.district, {c.key: form.cleaned_data[c.key]
                                                             for c in adjustable_classes()})
        messages.success(request, _("The retention periods have been saved.") if changes
                         else _("Nothing was changed."))
        return redirect("privacy:index")
    return render_form(request, "privacy/index.html", _retention_context(user, form))


@permission_required("privacy.request_erasure")
@require_http_methods(["GET", "POST"])
def erasure_new(request, pk):
    user = request.user
    participant = visible_or_404(Participant, user, pk=pk)
    form = ErasureForm(posted(request), participant=participant)

    def save(data):
        erasure = erasures.request_erasure(user, participant, reason=data["reason"],
                                           confirmation=data["confirmation"])
        messages.success(request, _("The erasure has been requested. The record is frozen and will be erased on "
                                    "%(day)s unless the erasure is cancelled before.") % {
            "day": date_format(erasure.due_on, "DATE_FORMAT")})
        return redirect("casework:participant", pk=participant.pk)

    return handle_form(request, form, save, "privacy/erasure_form.html", {"participant": participant},
                       shown=participant)


@permission_required("privacy.request_erasure")
@require_POST
def erasure_cancel(request, pk):
    user = request.user
    erasure = visible_or_404(Erasure, user, pk=pk)
    try:
        erasures.cancel_erasure(user, erasure)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
    else:
        messages.success(request, _("The erasure has been cancelled; the record can be edited again."))
    return redirect("casework:participant", pk=erasure.participant_id)


# ---------------------------------------------------------------- restriction (Art. 18)

@permission_required("privacy.restrict")
@require_POST
def participant_restrict(request, pk):
    participant = visible_or_404(Participant, request.user, pk=pk)
    if not may_restrict(request.user, participant):
        raise PermissionDenied
    if participant.is_restricted:
        # The page shows the lift button instead of this form: say it where the user looks.
        messages.error(request, _("Processing of this record is already restricted."))
        return redirect("casework:participant", pk=pk)
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


@permission_required("privacy.restrict")
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
