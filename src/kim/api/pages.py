"""The owner's page of their API tokens: list, make one (shown once), revoke."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kim.core.access import permission_required
from kim.core.forms import KernForm
from kim.core.middleware import has_device
from kim.core.views import form_errors_from, posted, render_form

from . import services
from .models import DEFAULT_VALIDITY_DAYS, MAX_VALIDITY_DAYS, ApiToken

api_user_view = permission_required("api.use")


class TokenForm(KernForm):
    name = forms.CharField(label=gettext_lazy("What it is for"), max_length=120,
                           help_text=gettext_lazy("E.g. “Jobcenter interface”, so that you recognise it later."))
    days = forms.IntegerField(label=gettext_lazy("Valid for (days)"), min_value=1, max_value=MAX_VALIDITY_DAYS,
                              initial=DEFAULT_VALIDITY_DAYS)


@api_user_view
@require_http_methods(["GET", "POST"])
def tokens(request):
    form = TokenForm(posted(request))
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_key = services.create_token(request.user, request.user, form.cleaned_data["name"],
                                                    form.cleaned_data["days"])
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            form = TokenForm()
    district = request.user.district
    return render_form(request, "api/tokens.html", {
        "form": form, "new_key": new_key,
        "tokens": ApiToken.objects.filter(user=request.user).order_by("-created_at"),
        "needs_second_factor": district.require_two_factor and not has_device(request.user),
    })


@api_user_view
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=pk)
    services.revoke_token(request.user, token)
    messages.success(request, _("The token has been revoked. It no longer works."))
    return redirect("api-tokens")
