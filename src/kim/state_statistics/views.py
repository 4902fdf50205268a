"""The Land's pages: the extracts it holds, the statewide reports with the districts side by
side, and the upload of an extract. They read the imported extracts only, never a district's rows."""

from collections import OrderedDict

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
    """The year's extracts without their content (some MB each): the tables come from the cache."""
    return list(Extract.objects.filter(year=year).select_related("source", "imported_by").defer("content"))


# The Land's tables of the last sets of extracts, per worker process: a set of extracts is named by
# the ids and checksums of its extracts, so an import (new checksum) is a new set. Computing them
# for 50 districts takes seconds; a reload of /land/ should not.
_TABLES = OrderedDict()
CACHED_SETS = 8


def _tables(request, extracts, report_ids) -> dict:
    """{report id: StateTable} of the extracts that pass today's checks; the others are named in a
    message, not added up, so that one stored extract never breaks the Land's pages."""
    name = tuple(sorted((e.pk, e.digest) for e in extracts))
    entry = _TABLES.get(name)
    if entry is None:
        contents = dict(Extract.objects.filter(pk__in=[e.pk for e in extracts]).values_list("pk", "content"))
        readable = {pk: content for pk, content in contents.items() if services.is_readable(content)}
        entry = {"contents": list(readable.values()), "left_out": [e for e in extracts if e.pk not in readable],
                 "tables": {}}
        _TABLES[name] = entry
        while len(_TABLES) > CACHED_SETS:
            _TABLES.popitem(last=False)
    _TABLES.move_to_end(name)
    for extract in entry["left_out"]:
        messages.warning(request, _(
            "The stored extract of %(district)s for %(year)d does not pass today's checks and is left out: "
            "ask the district for it again.") % {"district": extract.source.name, "year": extract.year})
    for report_id in report_ids:
        if report_id not in entry["tables"]:
            entry["tables"][report_id] = state_table(report_id, entry["contents"])
    return {report_id: entry["tables"][report_id] for report_id in report_ids}


@permission_required("statistics.read_state")
def index(request):
    year = _year(request)
    extracts = _extracts(year)
    registered = list(RegisteredDistrict.objects.all())
    missing = [source for source in registered if source.pk not in {e.source_id for e in extracts}]
    tables = list(_tables(request, extracts, REPORTS).values()) if extracts else []
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
    table = _tables(request, extracts, [report_id])[report_id]
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
