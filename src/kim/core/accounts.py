"""Staff accounts: the district administrator manages the accounts that see figures only, a
provider lead the accounts of their own provider (kim.core.permissions says who may do what).
Both use the same pages; what a page offers follows from the actor."""


from axes.models import AccessAttempt
from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST


from . import services
from .access import permission_required
from .backends import directory_linked
from .forms import AccountForm, AccountPasswordForm, NewAccountForm
from .models import Role, User
from .views import form_errors_from, posted, render_form

staff_view = permission_required("core.manage_staff")


def accounts_of(actor):
    """The accounts `actor` sees on these pages: the whole district for its administrator,
    the own provider's staff for a provider lead."""
    accounts = User.objects.filter(district_id=actor.district_id).select_related("provider")
    if actor.role == Role.PROVIDER_LEAD:
        accounts = accounts.filter(provider_id=actor.provider_id)
    return accounts


def locked_usernames(usernames) -> set[str]:
    """User names locked after too many failed logins (django-axes), as of now."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return set(AccessAttempt.objects.filter(
        username__in=list(usernames), failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since,
    ).values_list("username", flat=True))


@staff_view
def account_list(request):
    accounts = accounts_of(request.user).order_by("last_name", "first_name", "username")
    role = request.GET.get("role")
    if role in Role.values:
        accounts = accounts.filter(role=role)
    accounts = list(accounts)
    locked = locked_usernames(a.username for a in accounts)
    rows = [{"account": a, "locked": a.username in locked,
             "may_change": request.user.has_perm("core.change_account", a)} for a in accounts]
    return render(request, "core/admin_users.html", {
        "rows": rows, "roles": Role.choices, "role": role,
        "for_provider": request.user.role == Role.PROVIDER_LEAD,
    })


@staff_view
@require_http_methods(["GET", "POST"])
def account_new(request):
    form = NewAccountForm(posted(request), actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_user(request.user, district=request.user.district,
                                 password=form.cleaned_data["password"], **form.account_values())
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, _("The user has been saved."))
            return redirect("admin-users")
    return render_form(request, "core/admin_form.html", {
        "form": form, "title": _("New user"), "back": "admin-users", "hint": new_account_hint(request.user),
    })


def new_account_hint(actor) -> str:
    if actor.role == Role.PROVIDER_LEAD:
        return _("The account belongs to your provider and sees its participants' data as its role allows.")
    return _("Accounts of case managers and provider leads are created by the lead of their provider; the "
             "first lead of a new provider is created by the operator (kim create-user). Here you create "
             "the accounts that see figures only.")


@staff_view
@require_http_methods(["GET", "POST"])
def account_edit(request, pk):
    account = get_object_or_404(accounts_of(request.user), pk=pk)
    if not request.user.has_perm("core.change_account", account):
        return account_summary(request, account)
    form = AccountForm(posted(request), instance=account, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_user(request.user, account, form.account_values())
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, _("The user has been saved."))
            return redirect("admin-users")
    return render_form(request, "core/account_form.html", {
        "form": form, "title": _("Edit user"), "back": "admin-users", "account": account,
        "locked": account.username in locked_usernames([account.username]),
        **account_actions(request.user, account),
    })


def account_summary(request, account):
    """An account the actor may not change (the administrator's view of a case manager):
    who it is and who manages it, with the actions the actor may still take."""
    if request.method != "GET":
        raise PermissionDenied
    return render(request, "core/account_summary.html", {
        "account": account, "locked": account.username in locked_usernames([account.username]),
        **account_actions(request.user, account),
    })


def account_actions(actor, account) -> dict:
    return {
        "may_set_password": actor.has_perm("core.set_password", account) and account.pk != actor.pk
        and not directory_linked(account),
        # An account the directory switched off may still be switched off by the district, so
        # that it stays off when the directory grants it again.
        "may_deactivate": actor.has_perm("core.deactivate", account) and account.pk != actor.pk
        and (account.is_active or switched_off_by_directory(account)),
        "may_unlock": actor.has_perm("core.unlock", account),
    }


@staff_view
@require_http_methods(["GET", "POST"])
def account_password(request, pk):
    account = get_object_or_404(accounts_of(request.user), pk=pk)
    if not request.user.has_perm("core.set_password", account) or account.pk == request.user.pk:
        raise PermissionDenied
    if directory_linked(account):
        messages.error(request, services.DIRECTORY_PASSWORD)
        return redirect("admin-user-edit", pk=account.pk)
    form = AccountPasswordForm(account, posted(request))
    if request.method == "POST" and form.is_valid():
        services.set_password(request.user, account, form.cleaned_data["new_password1"])
        messages.success(request, _("The new password has been set. Tell it to the user in person or by "
                                    "telephone, never by e-mail."))
        return redirect("admin-user-edit", pk=account.pk)
    return render_form(request, "core/admin_form.html", {
        "form": form, "title": _("New password for %(name)s") % {"name": account.get_full_name() or account.username},
        "back_url": f"/verwaltung/benutzer/{account.pk}/",
    })


@staff_view
@require_http_methods(["GET", "POST"])
def account_deactivate(request, pk):
    """Asks first, saying how many open cases the account holds (they stay with it until the
    provider lead hands them over), then switches the account off."""
    account = get_object_or_404(accounts_of(request.user), pk=pk)
    if account.pk == request.user.pk or not request.user.has_perm("core.deactivate", account):
        raise PermissionDenied
    if request.method == "GET":
        return render(request, "core/account_deactivate.html", {
            "account": account, "open_cases": open_cases_of(account),
        })
    services.deactivate_user(request.user, account)
    messages.success(request, _("The account has been deactivated: it can no longer log in, and its API "
                                "tokens no longer work."))
    return redirect("admin-user-edit", pk=account.pk)


def switched_off_by_directory(account) -> bool:
    from kim.identity.models import DirectoryAccount

    return DirectoryAccount.objects.filter(user_id=account.pk, suspended_by_directory=True).exists()


def open_cases_of(account) -> int:
    """How many open cases the account is case manager of: a count, no personal data. (Case
    work builds on this app; the model is looked up by name so that core imports none of it.)"""
    case_model = apps.get_model("casework", "Case")
    return case_model.objects.filter(case_manager=account, closed_on__isnull=True).count()


@staff_view
@require_POST
def account_unlock(request, pk):
    account = get_object_or_404(accounts_of(request.user), pk=pk)
    services.unlock_user(request.user, account)
    messages.success(request, _("The lock after failed logins has been lifted."))
    return redirect("admin-user-edit", pk=account.pk)
