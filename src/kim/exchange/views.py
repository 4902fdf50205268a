"""Data out: the standard workbook template, a provider's full export, data-subject access."""

import json
import tempfile

from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kim.casework.models import Participant
from kim.core.access import personal_data_view, roles_required, visible_or_404
from kim.core.audit import Action, record
from kim.core.models import Role

from .export import export_csv_zip, export_json, export_xlsx
from .subject_access import participant_record, record_pdf
from .template import template_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORTS = {
    "xlsx": (export_xlsx, XLSX),
    "zip": (export_csv_zip, "application/zip"),
    "json": (export_json, "application/json"),
}


@personal_data_view
def index(request):
    return render(request, "exchange/index.html", {"formats": list(EXPORTS)})


@personal_data_view
def template_download(request):
    response = HttpResponse(template_bytes(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="kim-standardmappe.xlsx"'
    return response


@require_POST
@roles_required(Role.PROVIDER_LEAD)
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
def subject_access(request, pk, fmt):
    participant = visible_or_404(Participant, request.user, pk=pk)
    data = participant_record(request.user, participant)
    record(request.user, Action.READ, participant, changes={"subject_access": [None, fmt]})
    if fmt == "json":
        response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json")
    elif fmt == "pdf":
        response = HttpResponse(record_pdf(data), content_type="application/pdf")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="auskunft-{participant.code}.{fmt}"'
    return response
