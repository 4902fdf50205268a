"""Pages of staffing and funding: the positions on a day, one position with its history, the
year's grant, and the rates. Coordination edits; the steering group and the district
administration read; staff names only for the roles that manage staff."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kim.core.access import permission_required
from kim.core.views import form_errors_from, posted, render_form

from . import figures, services
from .forms import DayForm, FillingForm, PositionForm, RateForm, VacancyForm, YearForm
from .models import MODULE_OF, Expense, Filling, Function, Module, Position, Rate, Vacancy

reading_view = permission_required("staffing.read")
managing_view = permission_required("staffing.manage")


def _day(request):
    today = timezone.localdate()
    form = DayForm(request.GET or None, initial={"day": today})
    return (form.cleaned_data["day"] if form.is_valid() else today), form


def _year(request):
    this_year = timezone.localdate().year
    form = YearForm(request.GET or None, initial={"year": this_year})
    return (form.cleaned_data["year"] if form.is_valid() else this_year), form


@reading_view
@require_safe
def index(request):
    day, form = _day(request)
    rows = figures.staffing_on(day)
    modules = []
    for module in Module:
        items = [row for row in rows if MODULE_OF[row.position.function] == module]
        modules.append({"module": module, "rows": items, **_sums(items)})
    return render(request, "staffing/index.html", {
        "day": day, "form": form, "modules": modules, "total": _sums(rows),
        "later": Position.objects.filter(approved_from__gt=day).count(),
    })


def _sums(rows):
    return {"approved": sum(r.approved for r in rows), "filled": sum(r.filled for r in rows),
            "vacant": sum(r.vacant for r in rows)}


@reading_view
@require_safe
def position_detail(request, pk):
    position = get_object_or_404(Position.objects.select_related("municipality", "employer", "passed_on_to"), pk=pk)
    day = timezone.localdate()
    return render(request, "staffing/position.html", {
        "position": position, "day": day,
        "fillings": position.fillings.select_related("person"),
        "vacancies": position.vacancies.all(),
        "names": request.user.has_perm("staffing.read_names"),
        "filled": figures.filled_on(day).get(position.pk, 0), "vacant": figures.vacant_on(day).get(position.pk, 0),
    })


@managing_view
@require_http_methods(["GET", "POST"])
def position_edit(request, pk=None):
    position = get_object_or_404(Position.objects.all(), pk=pk) if pk else None
    form = PositionForm(posted(request), instance=position)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_position(request.user, form.cleaned_data, position)
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, _("Saved."))
            return redirect("staffing:position", saved.pk)
    back = reverse("staffing:position", args=[pk]) if pk else reverse("staffing:index")
    title = _("Change position") if position else _("New position")
    return render_form(request, "casework/form.html", {"form": form, "title": title, "back_url": back})


PARTS = {"besetzung": (Filling, FillingForm, services.save_filling, _("New filling"), _("Change filling")),
         "ausschreibung": (Vacancy, VacancyForm, services.save_vacancy, _("New vacancy"), _("Change vacancy"))}


def _part_kind(kind):
    if kind not in PARTS:
        raise Http404
    return PARTS[kind]


@managing_view
@require_http_methods(["GET", "POST"])
def part_edit(request, kind, position_pk=None, pk=None):
    """A filling or vacancy of a position: new (from the position's page) or changed."""
    model, form_class, save, new_title, change_title = _part_kind(kind)
    part = get_object_or_404(model.objects.select_related("position"), pk=pk) if pk else None
    position = part.position if part else get_object_or_404(Position.objects.all(), pk=position_pk)
    extra = {"district_id": request.user.district_id} if model is Filling else {}
    form = form_class(posted(request), instance=part, **extra)
    if request.method == "POST" and form.is_valid():
        try:
            save(request.user, position, form.cleaned_data, part)
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, _("Saved."))
            return redirect("staffing:position", position.pk)
    return render_form(request, "casework/form.html", {
        "form": form, "title": change_title if part else new_title, "subtitle": str(position),
        "back_url": reverse("staffing:position", args=[position.pk])})


@managing_view
@require_POST
def part_delete(request, kind, pk):
    model = _part_kind(kind)[0]
    part = get_object_or_404(model.objects.all(), pk=pk)
    services.delete_part(request.user, part)
    messages.success(request, _("Removed."))
    return redirect("staffing:position", part.position_id)


@reading_view
@require_safe
def funding(request):
    year, form = _year(request)
    grant = figures.grant(request.user.district, year)
    return render(request, "staffing/funding.html", {
        "year": year, "form": form, "grant": grant, "modules": _module_funds(grant),
        "lump_sums": [(expense.label, amount) for expense, amount in grant.lump_sums.items()],
        "passed_on": sorted(grant.passed_on().items(), key=lambda item: item[0].name),
        "rates": _rate_rows(grant.rates),
    })


def _module_funds(grant):
    modules = []
    for module in Module:
        items = [item for item in grant.positions if item.position.module == module]
        modules.append({"module": module, "items": items,
                        "fte": sum(i.fte_months for i in items) / 12 if items else 0,
                        "granted": sum(i.granted for i in items), "spent": sum(i.spent for i in items)})
    return modules


def _rate_rows(rates):
    rows = []
    order = {value: index for index, value in enumerate([*Expense.values, "", *Function.values])}
    for (expense, function), (amount, source, own) in sorted(rates.items(), key=lambda item: (
            order[item[0][0]], order[item[0][1]])):
        label = Expense(expense).label + (f": {Function(function).label}" if function else "")
        rows.append({"label": label, "amount": amount, "source": source, "own": own})
    return rows


@reading_view
@require_safe
def rates(request):
    year, form = _year(request)
    own = Rate.objects.filter(district=request.user.district).order_by("-year", "expense", "function")
    return render(request, "staffing/rates.html", {
        "year": year, "form": form, "rates": _rate_rows(figures.rates_for(request.user.district, year)), "own": own})


@managing_view
@require_http_methods(["GET", "POST"])
def rate_edit(request, pk=None):
    rate = get_object_or_404(Rate.objects.filter(district=request.user.district), pk=pk) if pk else None
    initial = {"year": timezone.localdate().year} if rate is None else None
    form = RateForm(posted(request), instance=rate, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_rate(request.user, form.cleaned_data, rate)
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, _("Saved."))
            return redirect(reverse("staffing:rates") + f"?year={form.cleaned_data['year']}")
    title = _("Change the district's rate") if rate else _("New rate of the district")
    return render_form(request, "casework/form.html", {
        "form": form, "title": title, "back_url": reverse("staffing:rates"),
        "subtitle": _("A rate of the district's own notice of grant replaces the statewide default for that year.")})


@managing_view
@require_POST
def rate_delete(request, pk):
    rate = get_object_or_404(Rate.objects.filter(district=request.user.district), pk=pk)
    services.delete_rate(request.user, rate)
    messages.success(request, _("The statewide default applies again."))
    return redirect(reverse("staffing:rates") + f"?year={rate.year}")

