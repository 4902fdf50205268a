"""The report pages: list, key figures, one report with its downloads. Aggregates only: no
view here lists a participant. Completeness and deadlines: deadline_views; committee papers
and Word templates: paper_views."""

from django.http import Http404, HttpResponse
from django.shortcuts import render

from kim.core.access import permission_required

from kim.system.board import board as system_board

from .completeness import data_state
from .forms import ReportParamsForm
from .framework import ParamError, build_table, default_params, get_report, registered_reports
from .renderers import FORMATS, cell_texts, chart_for, filename, legend
from .renderers import render as render_file

report_view = permission_required("reports.read")


@report_view
def index(request):
    return render(request, "reports/index.html", {"reports": registered_reports(request.user)})


@report_view
def dashboard(request):
    """Figures at a glance: the provider's own (leads) or the district's, suppressed."""
    user = request.user
    params = default_params(user)
    panels = []
    for report_id in ("R1", "R3", "R4"):
        table = build_table(user, report_id, params)
        svg, alternative = chart_for(table, f"chart-{report_id}")
        panels.append({"table": table, "lines": cell_texts(table), "svg": svg if table.chart_data() else "",
                       "alternative": alternative, "legend": legend(table)})
    return render(request, "reports/dashboard.html", {
        "panels": panels, "reports": registered_reports(user), "params": params, "board": system_board(user),
    })


@report_view
def data_state_fragment(request):
    """The state of the data (R15 around the current deadline) as a fragment, which the report
    page and the key figures load after themselves: it costs about as much as a report, and the
    page should not wait for it."""
    return render(request, "reports/_data_state.html", {
        "data_state": data_state(request.user, cached=True), "on_dashboard": request.GET.get("on") == "dashboard",
    })


@report_view
def report(request, report_id):
    try:
        definition = get_report(report_id)
    except ParamError:
        raise Http404 from None
    form = ReportParamsForm(request.GET or None, report=definition, user=request.user)
    context = {"report": definition, "form": form, "formats": list(FORMATS)}
    try:
        if form.is_bound and not form.is_valid():
            raise ParamError(" ".join(_form_messages(form)))
        params = form.params or default_params(request.user, definition)
        table = build_table(request.user, definition, params)
    except ParamError as exc:
        context["error"] = str(exc)
        return render(request, "reports/report.html", context, status=422)
    fmt = request.GET.get("format")
    if fmt:
        if fmt not in FORMATS:
            raise Http404
        table.data_state = data_state(request.user) if table.suppressed_for_reader else None
        response = HttpResponse(render_file(table, fmt), content_type=FORMATS[fmt])
        response["Content-Disposition"] = f'attachment; filename="{filename(table, fmt)}"'
        return response
    svg, alternative = chart_for(table)
    query = request.GET.copy()
    query.pop("format", None)
    context.update({
        "table": table, "svg": svg if table.chart_data() else "", "alternative": alternative,
        "legend": legend(table), "lines": cell_texts(table), "query": query.urlencode(),
        # Loaded after the page (data_state_fragment): for aggregate readers only, as before.
        "shows_data_state": table.suppressed_for_reader,
    })
    return render(request, "reports/report.html", context)


def _form_messages(form) -> list[str]:
    """Every error of a form as one line each, the field's label in front."""
    messages = list(form.non_field_errors())
    for field in form:
        messages += [f"{field.label}: {error}" for error in field.errors]
    return messages
