"""Pages of the organisation area: start page, second factor, district administration, audit."""

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import services
from .access import district_admin_view, permission_required
from .backends import directory_linked
from .audit_display import readable
from .forms import (
    CatalogueEntryForm,
    DistrictSettingsForm,
    KernForm,
    KernFormMixin,
    MunicipalityForm,
    ProviderForm,
)
from .models import CATALOGUE_MODELS, AuditEntry, Municipality, Provider, Role


def form_errors_from(exc: ValidationError, form):
    """Show a service's ValidationError on the form it came from, field by field."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def posted(request):
    """A form's data: bound on every POST, also an empty one, which then answers 422 (an unbound
    form would show itself again with 200 and no message)."""
    return request.POST if request.method == "POST" else None


def render_form(request, template, context):
    """Render a form page; a form with errors answers 422 so that clients and tests see it."""
    form = context.get("form")
    return render(request, template, context, status=422 if form is not None and form.errors else 200)


class LoginForm(KernFormMixin, AuthenticationForm):
    def get_invalid_login_error(self):
        # The directory knew the person but grants them nothing (kim.identity.backends): say so.
        refusal = getattr(self.request, "kim_login_refusal", None)
        if refusal:
            return forms.ValidationError(refusal, code="directory_refusal")
        return super().get_invalid_login_error()


class PasswordForm(KernFormMixin, PasswordChangeForm):
    pass


@require_http_methods(["GET", "POST"])
def password_change(request):
    """Every user changes their own password; the change goes through the audited service.
    A directory account's password is the directory's."""
    if directory_linked(request.user):
        messages.error(request, services.DIRECTORY_PASSWORD)
        return redirect("home")
    form = PasswordForm(request.user, posted(request))
    if request.method == "POST" and form.is_valid():
        services.set_password(request.user, request.user, form.cleaned_data["new_password1"])
        update_session_auth_hash(request, request.user)
        messages.success(request, _("Your password has been changed."))
        return redirect("home")
    if request.method == "POST" and "old_password" in form.errors:
        # A wrong current password counts as a failed login: whoever found an open session
        # cannot guess the password here without end. At the limit the session ends and
        # django-axes answers with its lock-out page (request.axes_locked_out).
        user_login_failed.send(sender=__name__, credentials={"username": request.user.username}, request=request)
        if getattr(request, "axes_locked_out", False):
            logout(request)
            return HttpResponse(status=429)
    return render_form(request, "core/admin_form.html", {
        "form": form, "title": _("Change password"), "back": "home",
    })


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "password_reset_by_mail": settings.KIM_PASSWORD_RESET_BY_MAIL,
                "oidc_enabled": settings.KIM_OIDC_ENABLED}


def home(request):
    user = request.user
    if user.sees_personal_data:
        return redirect("casework:my-cases")
    if user.role in (Role.COORDINATION, Role.STEERING, Role.MODULE3):
        return redirect("reports:dashboard")
    if user.role == Role.STATE:
        return redirect("statistics:index")
    context = {"district": user.district}
    if user.is_district_admin:
        context["counts"] = {
            "users": user.district.users.filter(is_active=True).count(),
            "providers": Provider.objects.filter(active=True).count(),
            "municipalities": Municipality.objects.filter(active=True).count(),
        }
    return render(request, "core/home.html", context)


# ---------------------------------------------------------------- second factor

class TokenForm(KernForm):
    token = forms.CharField(
        label=gettext_lazy("Six-digit code from your authenticator app"), max_length=6, min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


SETUP_DEVICE = "kim_otp_setup_device"  # session key: the unconfirmed device this session shows


def setup_device(request):
    """The unconfirmed authenticator this session set up. Its secret is shown to this session
    only: a second session (someone else who knows the password, say) starts a new device and
    ends the first one, so nobody can confirm a secret that was shown to another browser."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False,
                                       pk=request.session.get(SETUP_DEVICE)).first()
    if device is None:
        TOTPDevice.objects.filter(user=request.user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=request.user, name="KIM", confirmed=False)
        request.session[SETUP_DEVICE] = device.pk
    return device


@require_http_methods(["GET", "POST"])
def otp_setup(request):
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect("otp-verify")
    shown = request.session.get(SETUP_DEVICE)
    device = setup_device(request)
    form = TokenForm(posted(request))
    if request.method == "POST" and shown != device.pk:
        form.is_valid()
        form.add_error(None, _("The setup was started again, in this or another browser. Scan the new QR code."))
    elif request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            services.confirm_second_factor(request.user, device)
            del request.session[SETUP_DEVICE]
            otp_login(request, device)
            messages.success(request, _("The second factor is set up."))
            return redirect("home")
        form.add_error("token", _("The code is not correct. Check the time on your phone."))
    qr_svg = segno.make(device.config_url).svg_inline(scale=5, title=_("QR code for the authenticator app"))
    return render_form(request, "core/otp_setup.html", {"form": form, "qr_svg": qr_svg, "device": device})


@require_http_methods(["GET", "POST"])
def otp_verify(request):
    form = TokenForm(posted(request))
    if request.method == "POST" and form.is_valid():
        for device in TOTPDevice.objects.filter(user=request.user, confirmed=True):
            if device.verify_token(form.cleaned_data["token"]):
                otp_login(request, device)
                return redirect("home")
        form.add_error("token", _("The code is not correct."))
    return render(request, "core/otp_verify.html", {"form": form})


# ---------------------------------------------------------------- district administration

@district_admin_view
def admin_organisation(request):
    return render(request, "core/admin_organisation.html", {
        "municipalities": Municipality.objects.all(),
        "providers": Provider.objects.annotate(staff=Count("users", filter=Q(users__is_active=True))),
    })


@district_admin_view
@require_http_methods(["GET", "POST"])
def admin_district_settings(request):
    district = request.user.district
    form = DistrictSettingsForm(posted(request), instance=district)
    if request.method == "POST" and form.is_valid():
        services.update_organisation_unit(request.user, district, form.cleaned_data)
        messages.success(request, _("The district settings have been saved."))
        return redirect("admin-organisation")
    return render_form(request, "core/admin_form.html", {
        "form": form, "title": _("Settings of the district"), "back": "admin-organisation",
    })


ORGANISATION_UNITS = {
    "municipality": (Municipality, MunicipalityForm, services.create_municipality),
    "provider": (Provider, ProviderForm, services.create_provider),
}


@district_admin_view
@require_http_methods(["GET", "POST"])
def admin_unit_edit(request, unit, pk=None):
    if unit not in ORGANISATION_UNITS:
        raise Http404
    model, form_class, create = ORGANISATION_UNITS[unit]
    obj = get_object_or_404(model.objects.all(), pk=pk) if pk else None
    form = form_class(posted(request), instance=obj)
    if obj is None:
        form.instance.district = request.user.district
    if request.method == "POST" and form.is_valid():
        values = {f: form.cleaned_data[f] for f in form_class.Meta.fields}
        try:
            if obj:
                services.update_organisation_unit(request.user, obj, values)
            else:
                values.pop("active", None)
                create(request.user, request.user.district, **values)
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, _("Saved."))
            return redirect("admin-organisation")
    return render_form(request, "core/admin_form.html", {
        "form": form, "title": model._meta.verbose_name, "back": "admin-organisation",
    })


@district_admin_view
def admin_catalogues(request, kind="target-groups"):
    if kind not in CATALOGUE_MODELS:
        raise Http404
    model = CATALOGUE_MODELS[kind]
    return render(request, "core/admin_catalogues.html", {
        "kinds": [(slug, m._meta.verbose_name_plural) for slug, m in CATALOGUE_MODELS.items()],
        "kind": kind, "model_name": model._meta.verbose_name_plural,
        "entries": model.objects.all(),
    })


@district_admin_view
@require_http_methods(["GET", "POST"])
def admin_catalogue_edit(request, kind, pk=None):
    if kind not in CATALOGUE_MODELS:
        raise Http404
    model = CATALOGUE_MODELS[kind]
    entry = get_object_or_404(model.objects.all(), pk=pk) if pk else None
    initial = {"label": entry.label, "sort_order": entry.sort_order, "active": entry.active} if entry else None
    if entry and hasattr(entry, "provider_id"):
        initial["provider"] = entry.provider_id
    form = CatalogueEntryForm(posted(request), initial=initial, model=model)
    if request.method == "POST" and form.is_valid():
        try:
            if entry:
                services.update_catalogue_entry(request.user, entry, form.cleaned_data)
            else:
                extra = {"provider": form.cleaned_data["provider"]} if "provider" in form.cleaned_data else {}
                services.add_catalogue_entry(
                    request.user, model, request.user.district,
                    form.cleaned_data["label"], form.cleaned_data["sort_order"], **extra,
                )
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, _("The catalogue has been saved."))
            return redirect("admin-catalogues", kind=kind)
    return render_form(request, "core/admin_form.html", {
        "form": form, "title": model._meta.verbose_name, "back_url": f"/verwaltung/kataloge/{kind}/",
        "hint": _("Entries in use are never deleted: deactivate them instead. "
                  "Deactivated entries stay in old records and reports but cannot be chosen anymore."),
    })


# ---------------------------------------------------------------- audit

@permission_required("core.read_audit_trail")
def audit_trail(request):
    entries = AuditEntry.objects.visible_to(request.user).select_related("actor")
    query = request.GET.get("q", "").strip()
    if query:
        entries = entries.filter(Q(object_label__iexact=query) | Q(actor__username__iexact=query))
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit_trail.html", {
        "page": page, "q": query, "entries": readable(page.object_list, request.user),
    })
