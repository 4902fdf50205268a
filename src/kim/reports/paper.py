"""Committee papers (*Sachstandsbericht*): chosen reports with text, as DOCX and PDF.

The DOCX comes from a Word template with Jinja placeholders (docxtpl). The district may
upload its own; the default below is built with python-docx and can be downloaded,
edited in Word and uploaded again. Placeholders:

    {{ titel }} {{ kreis }} {{ datenstand }} {{ einleitung }} {{ ausblick }} {{ erstellt_am }}
    {%p for b in berichte %} {{ b.titel }} {{ b.parameter }} {{p b.tabelle }}
    {{ b.diagramm }} {{ b.beschreibung }} {%p endfor %}
"""

import io

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from .framework import build_table
from .questions import year_question
from .renderers import add_docx_grid, chart_for, legend, to_pdf

def template_environment():
    """Uploaded templates are untrusted. They read the keys of the context's dictionaries
    and nothing else: no attribute and no method of any object (the tables and pictures are
    docxtpl objects whose methods read and write files). Text is escaped, so that
    "A & B <c>" stays text."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    class KeysOnlySandbox(SandboxedEnvironment):
        def is_safe_attribute(self, obj, attr, value):
            return False

        def is_safe_callable(self, obj):
            return False

    return KeysOnlySandbox(autoescape=True, undefined=StrictUndefined)


ALLOWED_PLACEHOLDERS = {"titel", "kreis", "datenstand", "einleitung", "ausblick", "erstellt_am", "berichte"}


def paper_tables(paper, user, progress=None):
    params = year_question(paper.year, paper.reference_date)
    tables = []
    for index, report_id in enumerate(paper.report_ids):
        tables.append(build_table(user, report_id, params))
        if progress:
            progress(index + 1, len(paper.report_ids))
    return tables


def default_template_bytes() -> bytes:
    """The Word template that ships: title page text, data state, reports, outlook."""
    from docx import Document

    document = Document()
    document.core_properties.language = "de-DE"
    document.core_properties.title = "Sachstandsbericht KIM"
    document.add_heading("{{ titel }}", level=0)
    document.add_paragraph("{{ kreis }} · Stand: {{ erstellt_am }}")
    document.add_paragraph("Datenstand: {{ datenstand }}")
    document.add_heading("Einleitung", level=1)
    document.add_paragraph("{{ einleitung }}")
    document.add_heading("Zahlen aus dem Case Management", level=1)
    document.add_paragraph("{%p for b in berichte %}")
    document.add_heading("{{ b.titel }}", level=2)
    document.add_paragraph("{{ b.parameter }}")
    document.add_paragraph("{{p b.tabelle }}")
    document.add_paragraph("{{ b.diagramm }}")
    document.add_paragraph("{{ b.beschreibung }}")
    document.add_paragraph("{%p endfor %}")
    document.add_heading("Ausblick", level=1)
    document.add_paragraph("{{ ausblick }}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def check_template_placeholders(content: bytes):
    from docxtpl import DocxTemplate

    try:
        template = DocxTemplate(io.BytesIO(content))
        names = template.get_undeclared_template_variables(template_environment())
    except Exception as exc:  # docxtpl reports Jinja syntax errors as various exceptions
        raise ValidationError(
            _("The template cannot be read: %(error)s") % {"error": str(exc)[:200]}
        ) from None
    unknown = sorted(set(names) - ALLOWED_PLACEHOLDERS)
    if unknown:
        raise ValidationError(_("Unknown placeholders in the template: %(names)s") % {"names": ", ".join(unknown)})


def render_docx(paper, tables, data_state_text: str, template_bytes: bytes | None = None) -> bytes:
    from docx.shared import Cm
    from docxtpl import DocxTemplate, InlineImage

    from .charts import svg_to_png

    template = DocxTemplate(io.BytesIO(template_bytes or default_template_bytes()))
    reports = []
    for index, table in enumerate(tables):
        grid = template.new_subdoc()
        add_docx_grid(grid, table)
        svg, alternative = chart_for(table, f"chart-{index}")
        image = InlineImage(template, io.BytesIO(svg_to_png(svg)), width=Cm(15)) if table.chart_data() else ""
        reports.append({
            "titel": f"{table.report.id} {table.report.title}",
            "parameter": " · ".join(f"{k}: {v}" for k, v in table.described.items()),
            "tabelle": grid, "diagramm": image, "beschreibung": " ".join(filter(None, [alternative, legend(table)])),
        })
    template.render(jinja_env=template_environment(), autoescape=True, context={
        "titel": paper.title, "kreis": paper.district.name, "datenstand": data_state_text,
        "einleitung": paper.introduction, "ausblick": paper.closing,
        "erstellt_am": f"{timezone.localdate():%d.%m.%Y}", "berichte": reports,
    })
    out = io.BytesIO()
    template.save(out)
    return out.getvalue()


def render_pdf(paper, tables, data_state_text: str) -> bytes:
    sections = [
        {"heading": _("Introduction"), "text": paper.introduction},
        {"heading": _("Outlook"), "text": paper.closing, "after": True},
    ]
    return to_pdf(tables, title=paper.title, sections=sections, data_state=data_state_text)

