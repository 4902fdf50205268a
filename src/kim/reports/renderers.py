"""Turn report tables into files: CSV, JSON, XLSX, PDF and DOCX. HTML is the template
`reports/report.html`; the PDF is that same markup printed by WeasyPrint."""

import csv
import io
import json
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from kim.core.cells import neutralise

from .charts import bar_chart_svg, svg_to_png, text_alternative
from .formatting import HIDDEN_MARK, format_cell, whole_percent

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def filename(table, fmt: str) -> str:
    return f"kim-{table.report.id.lower()}-{table.params.period.label.replace('/', '-').replace(' ', '-')}.{fmt}"


def render(tables, fmt: str) -> bytes:
    tables = tables if isinstance(tables, list) else [tables]
    return {"csv": to_csv, "json": to_json, "xlsx": to_xlsx, "pdf": to_pdf, "docx": to_docx}[fmt](tables)


def column_heading(column) -> str:
    return column.heading or str(column.label)


def legend(table) -> str:
    """What the reader should know to read the table: how small counts are hidden, and what an
    aggregate reader does not see of it (the report's note). Every renderer prints it."""
    return " ".join(text for text in (_suppression_legend(table), table.note) if text)


def _suppression_legend(table) -> str:
    if not table.suppressed_for_reader:
        return ""
    if table.withheld:
        return _("Too few cases: this table is not published for the district, so that small counts "
                 "cannot be worked out.")
    return _(
        "Small counts: '< %(k)d' stands for 0 to %(below)d; '%(mark)s' is a count of %(k)d or more, "
        "hidden so that small counts cannot be worked out from totals."
    ) % {"k": table.k, "below": table.k - 1, "mark": HIDDEN_MARK}


def chart_for(table, chart_id="chart"):
    data = table.chart_data()
    return bar_chart_svg(str(table.report.title), data, chart_id), text_alternative(str(table.report.title), data)


# ---------------------------------------------------------------- CSV and JSON


class _NeutralWriter:
    """A CSV writer whose every cell has been through `neutralise`: labels of catalogues,
    names of staff and parameters come from users and must not run as formulas in Excel."""

    def __init__(self, out):
        self._writer = csv.writer(out, delimiter=";", lineterminator="\r\n")

    def writerow(self, cells):
        self._writer.writerow([neutralise(cell) for cell in cells])


def to_csv(tables) -> bytes:
    """UTF-8 with BOM and semicolons, as German Excel opens it; numbers without thousands
    separators and with a decimal comma, shares in whole percent."""
    out = io.StringIO()
    writer = _NeutralWriter(out)
    for table in tables:
        writer.writerow([f"{table.report.id} {table.report.title}"])
        for key, value in table.described.items():
            writer.writerow([key, value])
        writer.writerow([_("Row"), _("Level")] + [
            column_heading(c) + (" (%)" if c.is_share or c.measure.percent else "") for c in table.columns
        ])
        for row in table.rows:
            writer.writerow([row.label, row.level] + [_csv_value(row, c, table.k) for c in table.columns])
        if legend(table):
            writer.writerow([legend(table)])
        writer.writerow([])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_value(row, column, k):
    value = row.values.get(column.key)
    if column.key in row.suppressed or value is None:
        return format_cell(row, column, k) if column.key in row.suppressed else ""
    if column.measure.kind == "text":
        return str(value)
    if column.is_share or column.measure.percent:
        return str(whole_percent(value))
    if column.measure.decimals:
        return f"{Decimal(value):.{column.measure.decimals}f}".replace(".", ",")
    return str(int(value))


def table_as_dict(table) -> dict:
    def number(row, column):
        value = row.values.get(column.key)
        if column.key in row.suppressed or value is None:
            return None
        if column.measure.kind == "text":
            return str(value)
        if column.is_share or column.measure.percent:
            return whole_percent(value)
        return float(value) if column.measure.decimals else int(value)

    return {
        "report": table.report.id,
        "title": str(table.report.title),
        "parameters": {
            "period_start": table.params.period.start.isoformat(),
            "period_end": table.params.period.end.isoformat(),
            "period": table.params.period.label,
            "reference_date": table.params.reference_date.isoformat(),
            "municipality": table.params.municipality_id,
            "provider": table.params.provider_id,
            "compare": table.params.compare,
            "described": table.described,
        },
        "columns": [
            {
                "key": c.key, "label": column_heading(c), "measure": c.measure.key,
                "unit": "percent" if c.is_share or c.measure.percent else (
                    "count" if c.measure.kind == "count" else "text" if c.measure.kind == "text" else "number"),
                "period_start": c.period.start.isoformat() if c.period else None,
                "period_end": c.period.end.isoformat() if c.period else None,
            }
            for c in table.columns
        ],
        "rows": [
            {
                "key": str(row.key), "label": row.label, "level": row.level, "total": row.is_total,
                "sum_of_children": row.sums_children,
                "values": {c.key: number(row, c) for c in table.columns},
                "suppressed": sorted(row.suppressed),
                "below_k": sorted(row.below_k),
            }
            for row in table.rows
        ],
        "suppression": {"applied": table.suppressed_for_reader, "k": table.k, "withheld": table.withheld},
        "data_state": getattr(table, "data_state", None),
        "generated_at": table.generated_at.isoformat(),
    }


def to_json(tables) -> bytes:
    payload = [table_as_dict(t) for t in tables]
    return json.dumps(payload[0] if len(payload) == 1 else payload, ensure_ascii=False, indent=2).encode("utf-8")


# ---------------------------------------------------------------- XLSX


def to_xlsx(tables) -> bytes:
    """One sheet per report; numbers are numbers with German-looking formats, shares are
    fractions formatted as percent, the header row is frozen, the chart sits beside."""
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(table.report.id)

        def append(cells, sheet=sheet):
            # openpyxl stores a text beginning with "=" as a formula: every text is neutralised.
            sheet.append([neutralise(cell) for cell in cells])

        append([f"{table.report.id} {table.report.title}"])
        sheet["A1"].font = Font(bold=True, size=13)
        for key, value in table.described.items():
            append([key, value])
        append([])
        header_row = sheet.max_row + 1
        append([_("Row")] + [column_heading(c) for c in table.columns])
        for cell in sheet[header_row]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in table.rows:
            append([row.label] + [_xlsx_value(row, c, table.k) for c in table.columns])
            current = sheet.max_row
            sheet.cell(current, 1).alignment = Alignment(indent=row.level)
            if row.is_total:
                for cell in sheet[current]:
                    cell.font = Font(bold=True)
            for index, column in enumerate(table.columns, start=2):
                cell = sheet.cell(current, index)
                if isinstance(cell.value, (int, float)):
                    cell.number_format = _xlsx_format(column)
                else:
                    cell.alignment = Alignment(horizontal="right")
        if legend(table):
            append([])
            append([legend(table)])
        sheet.freeze_panes = sheet.cell(header_row + 1, 2)
        sheet.column_dimensions["A"].width = 55
        for index in range(len(table.columns)):
            sheet.column_dimensions[get_column_letter(index + 2)].width = 14
        svg, alternative = chart_for(table)
        if table.chart_data():
            image = Image(io.BytesIO(svg_to_png(svg, scale=1.0)))
            sheet.add_image(image, f"{get_column_letter(len(table.columns) + 3)}{header_row}")
            sheet.cell(header_row - 1, len(table.columns) + 3, neutralise(alternative))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()



def _xlsx_value(row, column, k):
    if column.key in row.suppressed:
        return format_cell(row, column, k)
    value = row.values.get(column.key)
    if value is None:
        return None
    if column.measure.kind == "text":
        return str(value)
    if column.is_share or column.measure.percent:
        return whole_percent(value) / 100
    return float(value) if column.measure.decimals else int(value)


def _xlsx_format(column) -> str:
    if column.is_share or column.measure.percent:
        return "0 %"
    if column.measure.decimals:
        return "#,##0." + "0" * column.measure.decimals
    return "#,##0"


# ---------------------------------------------------------------- PDF and DOCX


# Figure columns that fit beside the row labels: on an A4 page upright, and turned.
PORTRAIT_COLUMNS, LANDSCAPE_COLUMNS = 7, 10


def is_wide(table) -> bool:
    """A table with more figure columns than an upright page holds (R15, comparisons)."""
    return len(table.columns) > PORTRAIT_COLUMNS


def column_groups(count: int) -> list[range]:
    """The figure columns split into parts that each fit a landscape page, as even as can be
    (a comparison of two periods splits into one part per period)."""
    parts = -(-count // LANDSCAPE_COLUMNS) or 1
    size = -(-count // parts) or 1
    return [range(start, min(start + size, count)) for start in range(0, count, size)] or [range(0)]


def table_grids(table) -> list[dict]:
    """The table as plain text grids for print and Word, one per column group; each repeats
    the row labels. Plain data, so that the bounded child can write it into a template."""
    lines = cell_texts(table)
    grids = []
    for group in column_groups(len(table.columns)):
        grids.append({
            "header": [_("Row")] + [column_heading(table.columns[i]) for i in group],
            "rows": [{"label": line["row"].label, "level": line["row"].level, "total": line["row"].is_total,
                      "cells": [line["cells"][i] for i in group]} for line in lines],
        })
    return grids


def print_html(tables, title=None, sections=None, data_state=None) -> str:
    blocks = []
    for index, table in enumerate(tables):
        svg, alternative = chart_for(table, f"chart-{index}")
        blocks.append({"table": table, "svg": svg if table.chart_data() else "", "alternative": alternative,
                       "legend": legend(table), "grids": table_grids(table), "wide": is_wide(table)})
    return render_to_string("reports/print.html", {
        "title": title or (f"{tables[0].report.id} {tables[0].report.title}" if tables else ""),
        "blocks": blocks, "sections": sections or [], "data_state": data_state,
        "all_wide": bool(blocks) and not sections and all(b["wide"] for b in blocks),
    })


def cell_texts(table):
    return [
        {"row": row, "cells": [format_cell(row, c, table.k) for c in table.columns]} for row in table.rows
    ]


def to_pdf(tables, **kwargs) -> bytes:
    from weasyprint import HTML

    return HTML(string=print_html(tables, **kwargs)).write_pdf()


def add_table_to_docx(document, table, chart_index=0):
    """A report as Word content: heading, parameters, table, chart with its text alternative."""
    from docx.shared import Cm

    document.add_heading(f"{table.report.id} {table.report.title}", level=2)
    document.add_paragraph(" · ".join(f"{k}: {v}" for k, v in table.described.items()))
    add_docx_grid(document, table)
    if legend(table):
        document.add_paragraph(legend(table))
    svg, alternative = chart_for(table, f"chart-{chart_index}")
    if table.chart_data():
        document.add_picture(io.BytesIO(svg_to_png(svg)), width=Cm(15))
        picture = document.inline_shapes[-1]
        picture._inline.docPr.set("descr", alternative)
        document.add_paragraph(alternative)


def add_docx_grid(document, table):
    """The table of a report in Word, in column groups that fit the page (see table_grids)."""
    from .word import write_grid

    return [write_grid(document, grid, small=is_wide(table)) for grid in table_grids(table)]


def to_docx(tables) -> bytes:
    from .word import new_document

    document = new_document()
    for index, table in enumerate(tables):
        add_table_to_docx(document, table, index)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
