"""Pages of the system level: a case manager reports a need, coordination triages it."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from kim.casework.models import Case
from kim.casework.reads import audit_read
from kim.core.access import as_id, permission_required, visible_or_404
from kim.core.views import form_errors_from, posted, render_form

from . import chain, services
from .forms import NeedReportForm, ThemeForm, TriageForm
from .models import LegalDomain, NeedReport, Theme

report_need_view = permission_required("system.report_need")
coordination_view = permission_required("system.coordinate")


@report_need_view
@require_http_methods(["GET", "POST"])
def need_report_new(request):
    """A new report, on its own or from a case (?fall=<id>): the case is linked inside the
    provider only; showing its number here is a read of it."""
    case = None
    if request.GET.get("fall"):
        case = visible_or_404(Case, request.user, pk=as_id(request.GET["fall"]) or 0)
    form = NeedReportForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            report = services.send_need_report(request.user, dict(form.cleaned_data), cases=[case] if case else ())
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, _("The need report %(number)s has been sent to the coordination.")
                             % {"number": report.audit_label})
            return redirect("system:my-need-reports")
    if case is not None:
        audit_read(request.user, case)
    subtitle = _("From case %(number)s: the link stays with your provider; the coordination sees only that a "
                 "case stands behind the report.") % {"number": case.number} if case else ""
    return render_form(request, "casework/form.html", {"form": form, "title": _("Report a need"), "subtitle": subtitle})


@report_need_view
@require_safe
def my_need_reports(request):
    reports = NeedReport.objects.visible_to(request.user).select_related("topic", "theme")
    return render(request, "system/need_reports.html", {"reports": reports, "title": _("My need reports")})


@coordination_view
@require_safe
def inbox(request):
    reports = NeedReport.objects.visible_to(request.user).select_related("topic", "theme", "municipality")
    return render(request, "system/need_reports.html", {"reports": reports, "title": _("Need reports"),
                                                        "coordination": True})


@coordination_view
@require_http_methods(["GET", "POST"])
def need_report_detail(request, pk):
    report = get_object_or_404(NeedReport.objects.visible_to(request.user), pk=pk)
    form = TriageForm(posted(request), initial={"status": report.status, "theme": report.theme,
                                                    "response": report.response})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.triage_need_report(request.user, report, data["status"], data["response"], data["theme"])
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, _("The need report has been dealt with."))
            return redirect("system:inbox")
    return render_form(request, "system/need_report.html", {
        "form": form, "report": report, "linked_cases": services.linked_case_count(report),
        "legal_domain_choices": LegalDomain.choices,
        "title": _("Need report %(number)s") % {"number": report.audit_label},
    })


read_view = permission_required("system.read")


@read_view
@require_safe
def themes(request):
    items = Theme.objects.annotate(reports=Count("need_reports")).select_related("responsible")
    return render(request, "system/themes.html", {"themes": items})


@read_view
@require_safe
def theme_detail(request, pk):
    theme = get_object_or_404(Theme.objects.select_related("responsible"), pk=pk)
    return render(request, "system/theme.html", {"theme": theme, **chain.of_theme(request.user, theme)})


@coordination_view
@require_http_methods(["GET", "POST"])
def theme_edit(request, pk=None):
    theme = get_object_or_404(Theme.objects.all(), pk=pk) if pk else None
    form = ThemeForm(posted(request), instance=theme, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            if theme is None:
                theme = services.create_theme(request.user, dict(form.cleaned_data))
            else:
                theme = services.update_theme(request.user, theme, dict(form.cleaned_data))
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, _("The theme has been saved."))
            return redirect("system:theme", pk=theme.pk)
    title = _("Change the theme") if theme else _("New generative theme")
    return render_form(request, "casework/form.html", {"form": form, "title": title})


@read_view
@require_safe
def index(request):
    from .board import board
    from .records import KINDS

    kinds = [kind for kind in KINDS if not kind.parent]
    return render(request, "system/index.html", {"board": board(request.user), "kinds": kinds})
