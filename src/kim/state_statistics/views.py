"""The Land's pages: the extracts it holds, the statewide reports with the districts side by
side, and the upload of an extract. They read the imported extracts only, never a district's rows."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from kim.core.access import permission_required
from kim.core.views import posted, render_form

from . import services
from .extract import COUNTED_REPORTS, STAFFING_REPORTS
from .forms import UploadForm, YearForm, last_year
from .models import Extract, RegisteredDistrict
from kim.reports.formatting import HIDDEN_MARK

from .statewide import LAND, state_table

REPORTS = COUNTED_REPORTS + STAFFING_REPORTS


def _year(request) -> int:
    form = YearForm(request.GET or None)
    if form.is_valid() and form.cleaned_data["year"]:
        return form.cleaned_data["year"]
    return last_year()


def _extracts(year):
    return list(Extract.objects.filter(year=year).select_related("source", "imported_by"))


# (extract id, digest) -> whether it passes today's checks: the same content is checked once per process.
_READABLE = {}


def _contents(request, extracts) -> list[dict]:
    """The extracts' content that passes today's checks; the others are named, not added up,
    so that one stored extract never breaks the Land's pages."""
    contents = []
    for extract in extracts:
        key = (extract.pk, extract.digest)
        if key not in _READABLE:
            _READABLE[key] = services.is_readable(extract.content)
        if _READABLE[key]:
            contents.append(extract.content)
        else:
            messages.warning(request, _(
                "The stored extract of %(district)s for %(year)d does not pass today's checks and is left out: "
                "ask the district for it again.") % {"district": extract.source.name, "year": extract.year})
    return contents


@permission_required("statistics.read_state")
def index(request):
    year = _year(request)
    extracts = _extracts(year)
    registered = list(RegisteredDistrict.objects.all())
    missing = [source for source in registered if source.pk not in {e.source_id for e in extracts}]
    contents = _contents(request, extracts)
    tables = [state_table(report_id, contents) for report_id in REPORTS] if contents else []
    return render_form(request, "statistics/index.html", {
        "year": year, "form": YearForm(initial={"year": year}), "extracts": extracts, "missing": missing,
        "summaries": [_summary(table) for table in tables],
    })


def cell_text(cell, k, column) -> str:
    """A cell as the district's report pages show it: "< k" for a small count, the mark for a
    hidden one, "–" where a district has no such row or the figure does not apply."""
    if cell.hidden:
        return f"< {k}" if cell.below_k else HIDDEN_MARK
    if cell.absent or cell.value is None:
        return "–"
    if isinstance(cell.value, str):
        return cell.value
    decimals = 0 if column["unit"] == "count" or float(cell.value).is_integer() else 2
    return number_format(cell.value, decimal_pos=decimals, force_grouping=True)


def _summary(table):
    """The Land's figure of the first row and column, for the list of reports."""
    if not table.rows or not table.columns:
        return {"table": table, "text": "–", "row": "", "column": ""}
    column = table.columns[0]
    return {"table": table, "text": cell_text(table.rows[0].cells[(column["key"], LAND)], table.k, column),
            "row": table.rows[0].label, "column": column["label"]}


@permission_required("statistics.read_state")
def report(request, report_id):
    report_id = report_id.upper()
    if report_id not in REPORTS:
        raise Http404
    year = _year(request)
    extracts = _extracts(year)
    table = state_table(report_id, _contents(request, extracts))
    measure = request.GET.get("measure")
    columns = [c for c in table.columns if c["key"] == measure] or table.columns
    ks = [table.k] + [d["k"] for d in table.districts]
    rows = [{"row": row, "cells": [
        cell_text(row.cells[(c["key"], column)], k, c) for c in columns
        for column, k in zip([LAND] + [d["slug"] for d in table.districts], ks, strict=True)]}
        for row in table.rows]
    return render_form(request, "statistics/report.html", {
        "year": year, "table": table, "columns": columns, "rows": rows, "all_columns": table.columns,
        "measure": measure if len(columns) == 1 and len(table.columns) > 1 else "",
        "extracts": extracts,
    })


@permission_required("statistics.import")
def upload(request):
    form = UploadForm(posted(request), request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            if upload_file.size > services.max_bytes():
                raise services.ExtractError(services.too_large())
            stored, replaced = services.import_extract(request.user, upload_file.read(), form.cleaned_data["year"])
        except services.ExtractError as exc:
            form.add_error("file", str(exc))
        else:
            text = (_("The extract of %(district)s for %(year)d has replaced the earlier one.") if replaced
                    else _("The extract of %(district)s for %(year)d has been imported."))
            messages.success(request, text % {"district": stored.source.name, "year": stored.year})
            return redirect(f"{reverse('statistics:index')}?year={stored.year}")
    return render_form(request, "statistics/upload.html", {"form": form})
