"""Committee papers (*Sachstandsbericht*) and the district's Word templates.

A paper and its renderings belong to the district: every aggregate reader (coordination,
steering group, module 3, administration) lists and downloads them; the coordination writes,
changes and deletes them."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kim.core.access import permission_required
from kim.core.forms import DateInput, KernForm
from kim.core.views import form_errors_from, posted, render_form
from kim.system.models import Meeting

from . import services
from .completeness import deadline_for_year
from .framework import registered_reports
from .models import CommitteePaper, DocumentTemplate, RenderJob
from .paper import default_template_bytes
from .renderers import FORMATS

coordination_view = permission_required("reports.coordinate")
paper_readers = permission_required("reports.read_papers")
PAPER_FIELDS = ("title", "year", "reference_date", "report_ids", "meeting", "introduction", "closing", "template")


class PaperForm(KernForm):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    year = forms.IntegerField(label=gettext_lazy("Year of the figures"), min_value=1990, max_value=2100,
                              help_text=gettext_lazy("A year that has ended."))
    reference_date = forms.DateField(label=gettext_lazy("Reference date"), widget=DateInput(),
                                     help_text=gettext_lazy("District figures: 30 June or 31 December."))
    report_ids = forms.MultipleChoiceField(label=gettext_lazy("Reports"), widget=forms.CheckboxSelectMultiple)
    meeting = forms.ModelChoiceField(
        label=gettext_lazy("Decisions of a steering-group meeting"), queryset=Meeting.objects.none(), required=False,
        empty_label=gettext_lazy("none"),
        help_text=gettext_lazy("The decisions of the meeting follow the reports."))
    introduction = forms.CharField(label=gettext_lazy("Introduction"), widget=forms.Textarea, required=False)
    closing = forms.CharField(label=gettext_lazy("Outlook"), widget=forms.Textarea, required=False)
    template = forms.ModelChoiceField(
        label=gettext_lazy("Word template"), queryset=DocumentTemplate.objects.none(), required=False,
        empty_label=gettext_lazy("Default template"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["report_ids"].choices = [(r.id, f"{r.id} {r.title}") for r in registered_reports()]
        self.fields["template"].queryset = DocumentTemplate.objects.filter(status=DocumentTemplate.Status.READY)
        self.fields["meeting"].queryset = Meeting.objects.all()
        self.style_fields()


def open_to(user, paper) -> bool:
    """A paper is read by those who may read everything in it: each of its reports (R8/R9, R11,
    R12 are not for every aggregate reader) and, where it shows a meeting's decisions, the
    system level."""
    return may_read(user, paper.report_ids, paper.meeting_id is not None)


def may_read(user, report_ids, shows_meeting) -> bool:
    from .framework import REGISTRY

    reports = [REGISTRY[report_id] for report_id in report_ids if report_id in REGISTRY]
    return all(user.has_perm(report.permission) for report in reports) and (
        not shows_meeting or user.has_perm("system.read"))


def _open_paper(request, pk):
    paper = get_object_or_404(CommitteePaper.objects.all(), pk=pk)
    if not open_to(request.user, paper):
        raise Http404
    return paper


@paper_readers
def papers(request):
    shown = [paper for paper in CommitteePaper.objects.all() if open_to(request.user, paper)]
    return render(request, "reports/papers.html", {
        "papers": shown[:50], "templates": DocumentTemplate.objects.all()[:20],
    })


@coordination_view
def paper_new(request):
    form = PaperForm(posted(request), initial={"report_ids": ["R1", "R2", "R3", "R4", "R5", "R6", "R7"]})
    if request.method == "POST" and form.is_valid():
        try:
            paper = services.create_paper(request.user, **form.cleaned_data)
            return redirect("reports:paper", pk=paper.pk)
        except ValidationError as exc:
            form_errors_from(exc, form)
    return render_form(request, "reports/form.html", {"form": form, "title": _("New status report")})


@coordination_view
def paper_edit(request, pk):
    paper = get_object_or_404(CommitteePaper.objects.all(), pk=pk)
    form = PaperForm(posted(request), initial={name: getattr(paper, name) for name in PAPER_FIELDS})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_paper(request.user, paper, form.cleaned_data)
            return redirect("reports:paper", pk=paper.pk)
        except ValidationError as exc:
            form_errors_from(exc, form)
    return render_form(request, "reports/form.html", {"form": form, "title": _("Change the status report")})


@coordination_view
def paper_delete(request, pk):
    paper = get_object_or_404(CommitteePaper.objects.all(), pk=pk)
    if request.method == "POST":
        services.delete_paper(request.user, paper)
        messages.success(request, _("The status report “%(title)s” has been deleted.") % {"title": paper.title})
        return redirect("reports:papers")
    return render(request, "reports/confirm_action.html", {
        "title": _("Delete the status report"), "object": paper,
        "question": _("Delete the status report “%(title)s” with all its renderings?") % {"title": paper.title},
        "button": _("Delete"), "back_url": reverse("reports:paper", args=[paper.pk]),
    })


@paper_readers
def paper_detail(request, pk):
    paper = _open_paper(request, pk)
    return render(request, "reports/paper.html", {
        "paper": paper, "jobs": [job for job in paper.jobs.select_related("requested_by")[:20]
                                 if may_read(request.user, job.report_ids, job.shows_meeting)],
        "deadline": deadline_for_year(paper.year),
    })


@coordination_view
def paper_render(request, pk, fmt):
    paper = get_object_or_404(CommitteePaper.objects.all(), pk=pk)
    if request.method != "POST":
        return redirect("reports:paper", pk=pk)
    try:
        job = services.request_render(request.user, paper, fmt)
    except ValidationError as exc:
        return render(request, "reports/message.html", {"message": " ".join(exc.messages)}, status=422)
    return redirect("reports:job", pk=job.pk)


def _district_job(request, pk):
    """A rendering of one of the district's papers (the scope keeps other districts out) that
    this reader may read."""
    job = get_object_or_404(RenderJob.objects.select_related("paper"), pk=pk)
    # Today's paper and what the rendering showed when it was made, both.
    if not (open_to(request.user, job.paper) and may_read(request.user, job.report_ids, job.shows_meeting)):
        raise Http404
    return job


@paper_readers
def job_status(request, pk):
    job = _district_job(request, pk)
    template = "reports/_job.html" if request.htmx else "reports/job.html"
    return render(request, template, {"job": job})


@paper_readers
def job_download(request, pk):
    job = _district_job(request, pk)
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
    """Upload a template; the list below shows each template's check as it runs (htmx)."""
    form = TemplateForm(posted(request), request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            upload = form.cleaned_data["file"]
            if upload.size > services.MAX_TEMPLATE_BYTES:
                raise ValidationError({"file": _("The template is larger than 5 MB.")})
            services.upload_template(request.user, form.cleaned_data["name"], upload.read())
            messages.success(request, _("The template has been uploaded and is being checked; the list below "
                                        "shows the outcome."))
            return redirect("reports:templates")
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                exc = ValidationError({"file": exc.messages})
            form_errors_from(exc, form)
    templates = list(DocumentTemplate.objects.select_related("uploaded_by")[:50])
    context = {"form": form, "templates": templates,
               "checking": any(t.status == DocumentTemplate.Status.CHECKING for t in templates)}
    if request.htmx and request.method == "GET":
        return render(request, "reports/_templates.html", context)
    return render_form(request, "reports/templates.html", context)


@coordination_view
def template_delete(request, pk):
    template = get_object_or_404(DocumentTemplate.objects.all(), pk=pk)
    if request.method == "POST":
        try:
            services.delete_template(request.user, template)
        except ValidationError as exc:
            return render(request, "reports/message.html", {"message": " ".join(exc.messages)}, status=422)
        messages.success(request, _("The template “%(name)s” has been deleted.") % {"name": template.name})
        return redirect("reports:templates")
    return render(request, "reports/confirm_action.html", {
        "title": _("Delete the template"), "object": template,
        "question": _("Delete the Word template “%(name)s”?") % {"name": template.name},
        "button": _("Delete"), "back_url": reverse("reports:templates"),
    })


@paper_readers
def default_template(request):
    response = HttpResponse(default_template_bytes(), content_type=FORMATS["docx"])
    response["Content-Disposition"] = 'attachment; filename="kim-sachstandsbericht-vorlage.docx"'
    return response
