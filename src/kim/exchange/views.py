"""Data out: the standard workbook template, a provider's full export, data-subject access."""

import tempfile

from django import forms
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kim.core.views import posted
from kim.casework.models import Participant
from kim.casework.reads import audit_read
from kim.core.access import permission_required, personal_data_view, visible_or_404
from kim.core.audit import Action, record
from kim.core.forms import KernForm
from kim.core.models import User

from .export import export_csv_zip, export_json, export_xlsx
from .mapping import headers_of, load_value_lists
from .models import ImportMapping, ImportRun
from .readers import MAX_UPLOAD_BYTES, FileRefused
from .services import (
    assign_sheets,
    importable_case_managers,
    map_columns,
    map_values,
    request_check,
    request_commit,
    reset_interrupted,
    start_import,
)
from .subject_access import as_json, participant_record, record_pdf
from .template import template_bytes
from .workbook import CASE_SHEETS, SHEETS, SPECS, STAFFING_SHEETS, kinds_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORTS = {
    "xlsx": (export_xlsx, XLSX),
    "zip": (export_csv_zip, "application/zip"),
    "json": (export_json, "application/json"),
}


@personal_data_view
@require_safe
def index(request):
    return render(request, "exchange/index.html", {"formats": list(EXPORTS)})


import_view = permission_required("exchange.import")


@import_view
@require_safe
def template_download(request):
    """The empty workbook with the parts the user may import: case data, or (coordination) the
    sheet "Stellen"."""
    staffing = kinds_for(request.user) == STAFFING_SHEETS
    response = HttpResponse(template_bytes(STAFFING_SHEETS if staffing else CASE_SHEETS, request.user.district), content_type=XLSX)
    name = "kim-stellen" if staffing else "kim-standardmappe"
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


@require_POST
@permission_required("exchange.export_provider")
def provider_export(request, fmt):
    """Everything of the lead's provider; written to a temporary file, then streamed."""
    if fmt not in EXPORTS:
        raise Http404
    writer, content_type = EXPORTS[fmt]
    target = tempfile.TemporaryFile()
    counts = writer(request.user, target)
    record(request.user, Action.READ, request.user.provider, provider_id=request.user.provider_id,
           changes={"export": [None, {"format": fmt, "rows": counts}]})
    target.seek(0)
    name = f"kim-{request.user.provider.slug}-{timezone.localdate():%Y%m%d}.{fmt}"
    return FileResponse(target, content_type=content_type, as_attachment=True, filename=name)


@personal_data_view
@require_safe  # a download: no other method answers with the record
def subject_access(request, pk, fmt):
    if fmt not in ("json", "pdf"):
        raise Http404  # before the record is read: an unknown format shows nothing
    participant = visible_or_404(Participant, request.user, pk=pk)
    if participant.anonymised_on:
        return render(request, "privacy/anonymised.html", {"anonymised_on": participant.anonymised_on}, status=410)
    data = participant_record(request.user, participant)
    record(request.user, Action.READ, participant, changes={"subject_access": [None, fmt]})
    if fmt == "json":
        response = HttpResponse(as_json(data), content_type="application/json")
    elif fmt == "pdf":
        response = HttpResponse(record_pdf(data), content_type="application/pdf")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="auskunft-{participant.code}.{fmt}"'
    return response


# ---------------------------------------------------------------- import

class UploadForm(KernForm):
    file = forms.FileField(label=gettext_lazy("File (xlsx, xls, ods or csv)"),
                           help_text=gettext_lazy("At most 30 MB and 200,000 rows per sheet."))
    case_manager = forms.ModelChoiceField(label=gettext_lazy("Whose cases are these?"), queryset=User.objects.none())
    mapping_name = forms.CharField(
        label=gettext_lazy("Saved mapping"), max_length=80, initial="Standard",
        help_text=gettext_lazy("Column and value mappings are saved under this name for your provider's next file."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if kinds_for(user) == STAFFING_SHEETS:  # the district's positions: nobody's cases
            del self.fields["case_manager"]
            self.fields["mapping_name"].help_text = gettext_lazy(
                "Column and value mappings are saved under this name for coordination's next file.")
            return
        self.fields["case_manager"].queryset = importable_case_managers(user)
        self.fields["case_manager"].initial = user.pk
        self.fields["case_manager"].label_from_instance = lambda u: u.get_full_name() or u.username


@import_view
@require_http_methods(["GET", "POST"])
def imports(request):
    form = UploadForm(posted(request), request.FILES or None, user=request.user)
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > MAX_UPLOAD_BYTES:
                raise FileRefused(_("The file is larger than 30 MB. Please split it, e.g. by year."))
            run = start_import(request.user, filename=upload.name, data=upload.read(),
                               case_manager=form.cleaned_data.get("case_manager"),
                               mapping_name=form.cleaned_data["mapping_name"])
        except FileRefused as exc:
            form.add_error("file", str(exc))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("exchange:import-run", run.pk)
    if form.errors:
        status = 422
    runs = ImportRun.objects.visible_to(request.user).select_related("created_by", "case_manager")[:30]
    staffing = kinds_for(request.user) == STAFFING_SHEETS
    mappings = ImportMapping.objects.filter(district_id=request.user.district_id,
                                            provider_id=None if staffing else request.user.provider_id)
    return render(request, "exchange/imports.html", {"form": form, "runs": runs, "mappings": mappings,
                                                     "staffing": staffing}, status=status)


def _own_run(request, pk):
    return get_object_or_404(ImportRun.objects.visible_to(request.user).select_related("mapping"), pk=pk)


@import_view
@require_http_methods(["GET", "HEAD", "POST"])
def import_run(request, pk):
    run = _own_run(request, pk)
    error = None
    if request.method == "POST":
        try:
            _import_action(request, run)
        except (ValidationError, FileRefused) as exc:
            error = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        else:
            return redirect("exchange:import-run", run.pk)
    _audit_people_shown(request.user, run)
    if request.htmx and request.GET.get("status"):
        response = render(request, "exchange/_import_status.html", {"run": run})
        if not run.is_busy or run.is_stale:
            response["HX-Refresh"] = "true"  # the finished (or interrupted) check changes the whole page
        return response
    context = {"run": run, "error": error, "kinds": list(kinds_for(request.user)), "columns": _column_forms(run)}
    return render(request, "exchange/import_run.html", context, status=422 if error else 200)


def _audit_people_shown(user, run):
    """The dry run lists people on record with their stored name or birth date (the ones the file
    would change): only those the reader may see now (a deputyship may have ended since the
    check), and showing them is a read of their records, audited as a list."""
    codes = {change["code"] for change in run.identity_changes}
    people = list(Participant.objects.visible_to(user).filter(code__in=codes).order_by("code")) if codes else []
    visible = {person.code for person in people}
    run.shown_identity_changes = [change for change in run.identity_changes if change["code"] in visible]
    if people:
        audit_read(user, people)


def _import_action(request, run):
    action = request.POST.get("action")
    if action == "sheets":  # every part of the workbook: one the user may not import is refused
        assign_sheets(request.user, run, {kind: request.POST.get(f"sheet-{kind}", "") for kind in SHEETS})
    elif action == "columns":
        for kind in run.assignments:
            columns = {column: request.POST.get(f"col-{kind}-{index}", "") for index, column in enumerate(SHEETS[kind])}
            run = map_columns(request.user, run, kind, columns)
        request_check(request.user, run)
    elif action == "values":
        choices = {}
        for index, unknown in enumerate(run.unknown_values):
            choices[(unknown["list"], unknown["value"])] = request.POST.get(f"value-{index}", "")
        map_values(request.user, run, choices)
        request_check(request.user, run)
    elif action == "check":
        request_check(request.user, run)
    elif action == "commit":
        request_commit(request.user, run)
    elif action == "reset":
        reset_interrupted(request.user, run)
    else:
        raise ValidationError(_("Unknown action."))


def _column_forms(run):
    """Per mapped sheet: the standard columns with the file's headers to choose from, and a
    preview, from the first rows kept at upload (the file is not read again for a page)."""
    if run.content is None or run.status == ImportRun.Status.DONE or run.is_busy:
        return []
    heads = {sheet["name"]: sheet["head"] for sheet in run.sheets}
    forms_ = []
    value_lists = load_value_lists(run.created_by)
    for kind, assignment in run.assignments.items():
        rows = heads.get(assignment["sheet"]) or []
        header_row = assignment["header_row"]
        all_headers = headers_of(rows, header_row)
        headers = [h for h in all_headers if h]
        chosen = assignment["columns"]
        spec = {c.header: c for c in SPECS[kind]}
        preview = [[_preview_cell(row, all_headers, chosen.get(column)) for column in SHEETS[kind]]
                   for row in rows[header_row + 1:header_row + 6]]
        forms_.append({
            "kind": kind, "sheet": assignment["sheet"], "header_row": header_row + 1,
            "columns": [{"index": i, "name": column, "chosen": chosen.get(column, ""), "required": spec[column].required}
                        for i, column in enumerate(SHEETS[kind])],
            "headers": headers, "preview": preview,
        })
    for unknown in run.unknown_values:
        unknown["options"] = value_lists[unknown["list"]].labels if unknown["list"] in value_lists else []
    return forms_


def _preview_cell(row, headers, header):
    if not header or header not in headers:
        return ""
    position = headers.index(header)
    value = row[position] if position < len(row) else None
    return "" if value is None else value
