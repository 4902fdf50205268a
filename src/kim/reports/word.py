"""Word templates of committee papers, checked and rendered in a bounded child process.

An uploaded template is untrusted: Jinja placeholders can compute (`{{ 9**(9**8) }}` holds
a processor for a minute, `{{ "x" * 300000000 }}` takes a gigabyte) and docxtpl objects have
methods that write files. So checks and renders run in `kim.core.sandbox.run_bounded`, a
child with bounded memory and CPU time, through the two functions `check` and `render`.
This module is what the child imports: it does not use Django (no settings, no database, no
translations). It gets plain data and returns plain data; problems come back as codes that
`paper.py` turns into German messages.

The Jinja environment reads the keys of the context's dictionaries and nothing else: no
attribute and no method of any object. Powers with large exponents and repetitions of text
beyond a page are refused before they are computed; whatever else a template finds to
compute is bounded by the child's limits.
"""

import io
import re

ALLOWED_PLACEHOLDERS = {"titel", "kreis", "datenstand", "einleitung", "ausblick", "erstellt_am", "berichte"}
MAX_EXPONENT = 100
MAX_REPEAT = 100_000  # characters or items of a repeated text or list
SMALL_FONT_PT, FONT_PT = 7, 9


def environment():
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment, SecurityError

    class ArithmeticRefused(SecurityError):
        pass

    class KeysOnlySandbox(SandboxedEnvironment):
        # Intercepted operators are not folded at compile time either, so a template cannot
        # make the compiler compute 9**(9**8).
        intercepted_binops = frozenset({"*", "**"})

        def is_safe_attribute(self, obj, attr, value):
            return False

        def is_safe_callable(self, obj):
            return False

        def call_binop(self, context, operator, left, right):
            if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
                raise ArithmeticRefused("exponent")
            if operator == "*" and _repeated_length(left, right) > MAX_REPEAT:
                raise ArithmeticRefused("repetition")
            return super().call_binop(context, operator, left, right)

    return KeysOnlySandbox(autoescape=True, undefined=StrictUndefined)


def _repeated_length(left, right) -> int:
    for sequence, times in ((left, right), (right, left)):
        if isinstance(sequence, (str, list, tuple)) and isinstance(times, int):
            return len(sequence) * times
    return 0


# ---------------------------------------------------------------- the two entry points of the child

def check(content: bytes, sample: dict) -> dict:
    """{"problem": None} for a template that reads only known placeholders and renders the
    sample context; else {"problem": code, ...details}."""
    from docxtpl import DocxTemplate

    unreadable = _unreadable(content)
    if unreadable:
        return unreadable
    try:
        names = DocxTemplate(io.BytesIO(content)).get_undeclared_template_variables(environment())
    except Exception as exc:  # noqa: BLE001 - any error of parsing is the template's
        return _problem(exc, content)
    unknown = sorted(set(names) - ALLOWED_PLACEHOLDERS)
    if unknown:
        return {"problem": "unknown_placeholders", "names": unknown}
    outcome = render(content, sample)
    outcome.pop("document", None)
    return outcome if outcome.get("problem") else {"problem": None}


def render(content: bytes, context: dict) -> dict:
    """{"document": bytes} of the template rendered with `context` (plain data: texts, and per
    report its grids and chart as PNG), or {"problem": code, ...}."""
    from docx.shared import Cm
    from docxtpl import DocxTemplate, InlineImage

    unreadable = _unreadable(content)
    if unreadable:
        return unreadable
    try:
        template = DocxTemplate(io.BytesIO(content))
        reports = []
        for report in context.get("berichte", []):
            grid = template.new_subdoc()
            for part in report["grids"]:
                write_grid(grid, part, small=report.get("wide", False))
            image = InlineImage(template, io.BytesIO(report["png"]), width=Cm(15)) if report.get("png") else ""
            reports.append({"titel": report["titel"], "parameter": report["parameter"], "tabelle": grid,
                            "diagramm": image, "beschreibung": report["beschreibung"]})
        template.render(jinja_env=environment(), autoescape=True, context={**context, "berichte": reports})
        out = io.BytesIO()
        template.save(out)
    except MemoryError:
        raise  # the sandbox reports it as such
    except Exception as exc:  # noqa: BLE001 - any error of rendering is the template's
        return _problem(exc, content)
    return {"document": out.getvalue()}


# ---------------------------------------------------------------- tables in Word

def write_grid(document, grid: dict, small: bool = False):
    """One table of a report: a header row, labels indented by level, figures right-aligned.
    `grid` is plain data ({"header": [...], "rows": [{"label", "level", "total", "cells"}]})."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    table = document.add_table(rows=1, cols=len(grid["header"]))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, grid["header"], strict=True):
        cell.text = text
    for row in grid["rows"]:
        cells = table.add_row().cells
        cells[0].text = ("    " * row["level"]) + row["label"]
        for cell, text in zip(cells[1:], row["cells"], strict=True):
            cell.text = text
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    size = Pt(SMALL_FONT_PT if small else FONT_PT)
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = size
    return table


# ---------------------------------------------------------------- what went wrong

def _unreadable(content: bytes) -> dict | None:
    from docx import Document

    try:
        Document(io.BytesIO(content))
    except Exception as exc:  # noqa: BLE001 - python-docx and lxml raise many kinds
        return {"problem": "unreadable", "detail": f"{type(exc).__name__}: {exc}"[:300]}
    return None


def _problem(exc, content) -> dict:
    from jinja2 import TemplateSyntaxError
    from jinja2.sandbox import SecurityError

    if isinstance(exc, TemplateSyntaxError):
        message = str(exc.message or "")
        lowered = message.lower()
        kind = ("unclosed" if "unexpected end of template" in lowered
                else "unknown_tag" if "unknown tag" in lowered else "other")
        return {"problem": "syntax", "kind": kind, "excerpt": _suspicious_paragraph(content, message)}
    if isinstance(exc, SecurityError):
        return {"problem": "arithmetic" if type(exc).__name__ == "ArithmeticRefused" else "forbidden"}
    return {"problem": "failed", "detail": f"{type(exc).__name__}: {exc}"[:300]}


def _suspicious_paragraph(content: bytes, message: str) -> str:
    """The text of the first paragraph whose braces do not pair up, or that holds the word the
    parser stumbled over: so the user knows where to look in Word."""
    from docx import Document

    try:
        document = Document(io.BytesIO(content))
    except Exception:  # noqa: BLE001 - without a document there is nothing to point at
        return ""
    texts = [p.text for p in document.paragraphs]
    texts += [p.text for t in document.tables for row in t.rows for cell in row.cells for p in cell.paragraphs]
    for text in texts:
        if text.count("{{") != text.count("}}") or text.count("{%") != text.count("%}"):
            return text.strip()[:120]
    quoted = re.findall(r"'([^']+)'", message)
    for text in texts:
        if ("{{" in text or "{%" in text) and any(word in text for word in quoted):
            return text.strip()[:120]
    return ""


def new_document():
    """An empty German Word document on A4 (python-docx starts from US Letter)."""
    from docx import Document
    from docx.shared import Mm

    document = Document()
    for section in document.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.left_margin = section.right_margin = Mm(20)
        section.top_margin = section.bottom_margin = Mm(20)
    document.core_properties.language = "de-DE"
    return document


def default_template() -> bytes:
    """The Word template that ships: title page text, data state, reports, outlook."""
    document = new_document()
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
