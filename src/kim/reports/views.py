"""Reports, completeness and committee papers. Aggregates only: no view here lists a
participant, except "my gaps", which goes through the case manager's own scope."""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kim.core.access import roles_required
from kim.core.forms import DateInput, KernForm
from kim.core.models import Role
from kim.core.views import form_errors_from, render_form

from . import services
from .completeness import current_deadline, data_state
from .forms import ReportParamsForm
from .framework import ParamError, build_table, default_params, get_report, registered_reports
from .models import CommitteePaper, DocumentTemplate, RenderJob
from .paper import default_template_bytes
from .renderers import FORMATS, cell_texts, chart_for, filename, legend
from .renderers import render as render_file

ALL_ROLES = tuple(Role.values)
report_view = roles_required(*ALL_ROLES)
coordination_view = roles_required(Role.COORDINATION)
paper_readers = roles_required(Role.COORDINATION, Role.STEERING)


@report_view
def index(request):
    return render(request, "reports/index.html", {"reports": registered_reports()})


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
        "panels": panels, "data_state": data_state(user), "reports": registered_reports(), "params": params,
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
        "data_state": data_state(request.user) if table.suppressed_for_reader else None,
    })
    return render(request, "reports/report.html", context)


def _form_messages(form) -> list[str]:
    """Every error of a form as one line each, the field's label in front."""
    messages = list(form.non_field_errors())
    for field in form:
        messages += [f"{field.label}: {error}" for error in field.errors]
    return messages


# ---------------------------------------------------------------- committee papers


class PaperForm(KernForm):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    year = forms.IntegerField(label=gettext_lazy("Year of the figures"), min_value=1990, max_value=2100)
    reference_date = forms.DateField(label=gettext_lazy("Reference date"), widget=DateInput())
    report_ids = forms.MultipleChoiceField(label=gettext_lazy("Reports"), widget=forms.CheckboxSelectMultiple)
    introduction = forms.CharField(label=gettext_lazy("Introduction"), widget=forms.Textarea, required=False)
    closing = forms.CharField(label=gettext_lazy("Outlook"), widget=forms.Textarea, required=False)
    template = forms.ModelChoiceField(
        label=gettext_lazy("Word template"), queryset=DocumentTemplate.objects.none(), required=False,
        empty_label=gettext_lazy("Default template"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["report_ids"].choices = [(r.id, f"{r.id} {r.title}") for r in registered_reports()]
        self.fields["template"].queryset = DocumentTemplate.objects.all()
        self.style_fields()


@paper_readers
def papers(request):
    return render(request, "reports/papers.html", {
        "papers": CommitteePaper.objects.all()[:50], "templates": DocumentTemplate.objects.all()[:20],
    })


@coordination_view
def paper_new(request):
    form = PaperForm(request.POST or None, initial={"report_ids": ["R1", "R2", "R3", "R4", "R5", "R6", "R7"]})
    if request.method == "POST" and form.is_valid():
        try:
            paper = services.create_paper(request.user, deadline=current_deadline(), **form.cleaned_data)
            return redirect("reports:paper", pk=paper.pk)
        except ValidationError as exc:
            form_errors_from(exc, form)
    return render_form(request, "reports/form.html", {"form": form, "title": _("New status report")})


@paper_readers
def paper_detail(request, pk):
    paper = get_object_or_404(CommitteePaper.objects.all(), pk=pk)
    return render(request, "reports/paper.html", {"paper": paper, "jobs": paper.jobs.all()[:10]})


@paper_readers
def paper_render(request, pk, fmt):
    paper = get_object_or_404(CommitteePaper.objects.all(), pk=pk)
    if request.method != "POST":
        return redirect("reports:paper", pk=pk)
    try:
        job = services.request_render(request.user, paper, fmt)
    except ValidationError as exc:
        return render(request, "reports/message.html", {"message": " ".join(exc.messages)}, status=422)
    return redirect("reports:job", pk=job.pk)


def _own_job(request, pk):
    job = get_object_or_404(RenderJob.objects.select_related("paper"), pk=pk)
    if job.requested_by_id != request.user.pk:
        raise PermissionDenied
    return job


@paper_readers
def job_status(request, pk):
    job = _own_job(request, pk)
    template = "reports/_job.html" if request.htmx else "reports/job.html"
    return render(request, template, {"job": job})


@paper_readers
def job_download(request, pk):
    job = _own_job(request, pk)
    if job.status != RenderJob.Status.DONE or job.result is None:
        raise Http404
    response = HttpResponse(bytes(job.result), content_type=FORMATS[job.format])
    response["Content-Disposition"] = f'attachment; filename="{job.filename}"'
    return response


class TemplateForm(KernForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    file = forms.FileField(label=gettext_lazy("Word file (.docx)"))


@coordination_view
def templates_page(request):
    form = TemplateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            upload = form.cleaned_data["file"]
            if upload.size > services.MAX_TEMPLATE_BYTES:
                raise ValidationError({"file": _("The template is larger than 5 MB.")})
            services.upload_template(request.user, form.cleaned_data["name"], upload.read())
            return redirect("reports:papers")
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                exc = ValidationError({"file": exc.messages})
            form_errors_from(exc, form)
    return render_form(request, "reports/templates.html", {"form": form})


@paper_readers
def default_template(request):
    response = HttpResponse(default_template_bytes(), content_type=FORMATS["docx"])
    response["Content-Disposition"] = 'attachment; filename="kim-sachstandsbericht-vorlage.docx"'
    return response
