"""Committee papers (*Sachstandsbericht*): chosen reports with text, as DOCX and PDF.

The DOCX comes from a Word template with Jinja placeholders (docxtpl). The district may
upload its own; the default (`word.default_template`) can be downloaded, edited in Word and
uploaded again. Placeholders:

    {{ titel }} {{ kreis }} {{ datenstand }} {{ einleitung }} {{ ausblick }} {{ erstellt_am }}
    {%p for b in berichte %} {{ b.titel }} {{ b.parameter }} {{p b.tabelle }}
    {{ b.diagramm }} {{ b.beschreibung }} {%p endfor %}

Templates are checked (after upload, in the background) and rendered in a bounded child
process (`word.py` through `kim.core.sandbox`); here the figures are prepared as plain data
and the child's answer is turned into a German message.
"""

from dataclasses import replace

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from kim.core.sandbox import BoundedWorkFailed, run_bounded

from . import word
from .completeness import data_state, deadline_for_year
from .framework import build_table
from .questions import year_question
from .renderers import chart_for, is_wide, legend, table_grids, to_pdf


class TemplateRefused(Exception):
    """A Word template that cannot be used; the message is German and for the user."""


def limits(work: str) -> dict:
    """Memory and CPU time of the child for a template check or a render (settings may
    change them: KIM_TEMPLATE_CHECK_MB / _SECONDS, KIM_TEMPLATE_RENDER_MB / _SECONDS)."""
    defaults = {"check": (512, 20), "render": (1024, 120)}[work]
    name = work.upper()
    return {"memory_mb": getattr(settings, f"KIM_TEMPLATE_{name}_MB", defaults[0]),
            "cpu_seconds": getattr(settings, f"KIM_TEMPLATE_{name}_SECONDS", defaults[1])}


def default_template_bytes() -> bytes:
    return word.default_template()


# ---------------------------------------------------------------- figures of a paper

def paper_data_state(paper, user) -> str:
    """The state of the data the paper's figures stand on: the deadline of the paper's year
    (not whichever deadline is current: a 2025 paper reports the 2025 deadline)."""
    state = data_state(user, deadline_for_year(paper.year))
    if state is None:
        return _("No deadline has been set for the figures of %(year)s.") % {"year": paper.year}
    return state["text"]


def paper_tables(paper, user, progress=None):
    params = replace(year_question(paper.year, paper.reference_date), published=True)
    tables = []
    for index, report_id in enumerate(paper.report_ids):
        tables.append(build_table(user, report_id, params))
        if progress:
            progress(index + 1, len(paper.report_ids))
    if paper.meeting_id:
        from kim.system.reports import MeetingDecisionsReport

        tables.append(build_table(user, MeetingDecisionsReport(paper.meeting), params))
    return tables


def report_context(table, index: int) -> dict:
    """One report as plain data for a Word template: texts, table grids, chart as PNG."""
    from .charts import svg_to_png

    svg, alternative = chart_for(table, f"chart-{index}")
    return {
        "titel": f"{table.report.id} {table.report.title}",
        "parameter": " · ".join(f"{k}: {v}" for k, v in table.described.items()),
        "grids": table_grids(table), "wide": is_wide(table),
        "png": svg_to_png(svg) if table.chart_data() else None,
        "beschreibung": " ".join(filter(None, [alternative, legend(table)])),
    }


# ---------------------------------------------------------------- Word, in the bounded child

def sample_context() -> dict:
    """What a template is tried with when it is checked: every placeholder, one report."""
    grid = {"header": ["Zeile", "Anzahl"], "rows": [{"label": "Alle Termine", "level": 0, "total": True,
                                                    "cells": ["1.234"]}]}
    return {
        "titel": "Sachstandsbericht", "kreis": "Kreis", "datenstand": "Stichtag", "einleitung": "Einleitung",
        "ausblick": "Ausblick", "erstellt_am": "01.01.2026",
        "berichte": [{"titel": "R1 Termine", "parameter": "Zeitraum: 2025", "grids": [grid], "wide": False,
                      "png": None, "beschreibung": "Beschreibung"}],
    }


def check_template(content: bytes):
    """Refuse (TemplateRefused) a template that does not render the sample context within
    the bounds: wrong placeholders, broken Jinja, forbidden access, too much work."""
    answer = _bounded("check", content, sample_context())
    if answer.get("problem"):
        raise TemplateRefused(problem_message(answer))


def render_docx(paper, tables, data_state_text: str, template_bytes: bytes | None = None) -> bytes:
    context = {
        "titel": paper.title, "kreis": paper.district.name, "datenstand": data_state_text,
        "einleitung": paper.introduction, "ausblick": paper.closing,
        "erstellt_am": f"{timezone.localdate():%d.%m.%Y}",
        "berichte": [report_context(table, index) for index, table in enumerate(tables)],
    }
    answer = _bounded("render", template_bytes or default_template_bytes(), context)
    if answer.get("problem"):
        raise TemplateRefused(problem_message(answer))
    return answer["document"]


def _bounded(work: str, content: bytes, context: dict) -> dict:
    try:
        return run_bounded(f"kim.reports.word:{work}", content, context, **limits(work))
    except BoundedWorkFailed as failure:
        raise TemplateRefused(bounds_message(failure)) from failure


def bounds_message(failure: BoundedWorkFailed) -> str:
    if failure.reason == "memory":
        return _("The template needs too much memory: it may compute or repeat too much (for example "
                 "{{ \"x\" * 300000000 }}). Remove such expressions; placeholders are all a template needs.")
    if failure.reason == "time":
        return _("The template takes too long: it may compute too much (for example {{ 9**(9**8) }}). "
                 "Remove such expressions; placeholders are all a template needs.")
    return _("The template cannot be processed. Start again from the default template.")


def problem_message(answer: dict) -> str:
    """The child's answer about a template, in German."""
    problem = answer["problem"]
    if problem == "unknown_placeholders":
        return _("Unknown placeholders in the template: %(names)s") % {"names": ", ".join(answer["names"])}
    if problem == "syntax":
        reason = {
            "unclosed": _("a block is not closed (for example {%p for b in berichte %} without {%p endfor %})"),
            "unknown_tag": _("a command in {% … %} is unknown"),
        }.get(answer["kind"], _("a placeholder is not written correctly; check the braces {{ … }} and {% … %}"))
        message = _("The template cannot be read: %(reason)s.") % {"reason": reason}
        if answer.get("excerpt"):
            message += " " + _("Look at: “%(text)s”") % {"text": answer["excerpt"]}
        return message
    if problem == "arithmetic":
        return _("The template computes with numbers or texts that are too large. Placeholders are all a "
                 "template needs.")
    if problem == "forbidden":
        return _("The template reaches for something templates may not use (an attribute or a method). "
                 "Only the placeholders of the default template are allowed.")
    if problem == "unreadable":
        return _("The file is not a Word document (.docx).")
    return _("The template cannot be processed. Start again from the default template.")


def render_pdf(paper, tables, data_state_text: str) -> bytes:
    sections = [
        {"heading": _("Introduction"), "text": paper.introduction},
        {"heading": _("Outlook"), "text": paper.closing, "after": True},
    ]
    return to_pdf(tables, title=paper.title, sections=sections, data_state=data_state_text)
