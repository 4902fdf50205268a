"""Pages of module 3. Procedures and tallies: module-3 staff of the office only, fetched
through `visible_to(user)` (another office's record answers 404); the §104c pipeline: counts
for module 3, coordination and the steering group; offices: the district administrator."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from kim.core.access import permission_required, visible_or_404
from kim.casework.reads import audit_read
from kim.core.views import form_errors_from, posted, render_form

from . import services
from .forms import OfficeForm, ProcedureForm, TallyForm, own_offices
from .models import MonthlyTally, Office, Procedure
from .pipeline import pipeline

record_view = permission_required("residence.record")
figures_view = permission_required("residence.read_figures")
offices_view = permission_required("residence.manage_offices")


def _form_page(request, form, save, title, back):
    if request.method == "POST" and form.is_valid():
        try:
            save(dict(form.cleaned_data))
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, _("Saved."))
            return redirect(back)
    return render_form(request, "casework/form.html", {"form": form, "title": title, "back_url": back})


@record_view
@require_safe
def procedures(request):
    items = Procedure.objects.visible_to(request.user).select_related("office", "participant")
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    audit_read(request.user, page.object_list)
    return render(request, "residence/procedures.html", {"page": page, "offices": own_offices(request.user)})


@record_view
@require_http_methods(["GET", "POST"])
def procedure_edit(request, pk=None):
    user = request.user
    procedure = visible_or_404(Procedure, user, pk=pk) if pk else None
    form = ProcedureForm(posted(request), instance=procedure, user=user)

    def save(data):
        services.save_procedure(user, data, procedure)

    title = _("Procedure %(number)s") % {"number": procedure.number} if procedure else _("Record a procedure")
    response = _form_page(request, form, save, title, reverse("residence:procedures"))
    if procedure is not None and response.status_code != 302:
        audit_read(user, procedure)  # the form shows the record, also again after a refused change
    return response


@record_view
@require_safe
def tallies(request):
    items = MonthlyTally.objects.visible_to(request.user).select_related("office")
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(request, "residence/tallies.html", {"page": page})


@record_view
@require_http_methods(["GET", "POST"])
def tally_edit(request, pk=None):
    user = request.user
    tally = visible_or_404(MonthlyTally, user, pk=pk) if pk else None
    form = TallyForm(posted(request), instance=tally, user=user)

    def save(data):
        services.save_tally(user, data, tally)

    title = _("Change the monthly figures") if tally else _("Record monthly figures")
    return _form_page(request, form, save, title, reverse("residence:tallies"))


@figures_view
@require_safe
def pipeline_page(request):
    return render(request, "residence/pipeline.html", pipeline(request.user))


@offices_view
@require_safe
def offices(request):
    items = Office.objects.filter(district_id=request.user.district_id).select_related(
        "municipality", "release_target").prefetch_related("staff")
    return render(request, "residence/offices.html", {"offices": items})


@offices_view
@require_http_methods(["GET", "POST"])
def office_edit(request, pk=None):
    user = request.user
    office = get_object_or_404(Office.objects.filter(district_id=user.district_id), pk=pk) if pk else None
    form = OfficeForm(posted(request), instance=office, user=user)

    def save(data):
        services.save_office(user, data, office)

    title = _("Change: %(office)s") % {"office": office} if office else _("New office")
    return _form_page(request, form, save, title, reverse("residence:offices"))
