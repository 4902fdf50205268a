"""Pages of a transfer ("Fall übergeben") and of a referral that hands data over. The case
comes through the sender's scope; the service re-checks everything in its transaction."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kim.casework.models import Case
from kim.casework.views import handle_form, opened
from kim.core.access import personal_data_view, visible_or_404
from kim.core.views import posted, render_form

from . import transfer as services
from .release import CATEGORIES
from .transfer_forms import HandoverReferralForm, TransferForm

def release_summary(case, receiver, on) -> dict:
    """What goes to `receiver` and what stays, as labels: for the confirmation."""
    released = services.categories_towards(case.participant, receiver, on)
    return {
        "released": [label for key, (label, _fields) in CATEGORIES.items() if key in released],
        "withheld": [label for key, (label, _fields) in CATEGORIES.items() if key not in released],
    }


@personal_data_view
@require_http_methods(["GET", "POST"])
def case_transfer(request, pk):
    user = request.user
    case = visible_or_404(Case, user, pk=pk)
    form = TransferForm(posted(request), case=case)
    context = {"case": case, "participant": case.participant, "back_url": reverse("casework:case", args=[pk])}
    # The confirmation page's button says "confirmed"; the form's own button does not.
    if request.method == "POST" and request.POST.get("confirmed") != "1" and form.is_valid():
        # First the user sees what goes and what stays; the same values come back confirmed.
        data = form.cleaned_data
        opened(request, case)
        confirm = TransferForm(initial={**data, "receiver": data["receiver"].pk,
                                        "case_manager": data["case_manager"].pk if data["case_manager"] else ""},
                               case=case)
        return render_form(request, "casework/case_transfer.html", {
            **context, "form": confirm, "confirming": True, "data": data,
            **release_summary(case, data["receiver"], data["transferred_on"]),
        })

    def save(data):
        transfer = services.transfer_case(user, case, receiver=data["receiver"], case_manager=data["case_manager"],
                                          transferred_on=data["transferred_on"], note=data["note"])
        messages.success(request, _("Case %(number)s has been handed over to %(provider)s and closed here.")
                         % {"number": case.number, "provider": transfer.receiver.name})
        return redirect("casework:case", pk=pk)

    return handle_form(request, form, save, "casework/case_transfer.html", context, shown=case)


@personal_data_view
@require_http_methods(["GET", "POST"])
def referral_new(request, pk):
    """A referral; to a partner that is a provider here, optionally with the released data."""
    user = request.user
    case = visible_or_404(Case, user, pk=pk)
    form = HandoverReferralForm(posted(request), case=case)

    def save(data):
        if data.get("hand_over"):
            transfer = services.refer_and_hand_over(user, case, form.referral_values(),
                                                    case_manager=data.get("case_manager"), kind=data.get("kind", ""))
            messages.success(request, _("The referral has been recorded and the released data handed over to "
                                        "%(provider)s.") % {"provider": transfer.receiver.name})
        else:
            from kim.casework.services import add_referral

            add_referral(user, case, form.referral_values())
            messages.success(request, _("The referral has been recorded."))
        return redirect("casework:case", pk=pk)

    return handle_form(request, form, save, "casework/form.html", {
        "title": _("Refer to a partner agency"), "participant": case.participant,
        "back_url": reverse("casework:case", args=[pk]),
    }, shown=case)
