"""Charts, drawn once as SVG and used in every format (HTML inline, PDF, and as PNG in
XLSX and DOCX). Each chart carries a title and a text alternative; the report's table is
its data table. Suppressed values never appear in a chart."""

from xml.sax.saxutils import escape

from django.utils.translation import gettext as _

from .formatting import format_number

BAR_COLOUR = "#004B76"  # KERN primary blue; contrast 9.7:1 on white
WIDTH, LABEL_WIDTH, BAR_HEIGHT, GAP = 680, 300, 22, 8


def text_alternative(title: str, data: list[tuple[str, object]]) -> str:
    if not data:
        return _("%(title)s: no figures to show.") % {"title": title}
    parts = [f"{label} {format_number(value)}" for label, value in data]
    return _("Bar chart %(title)s: %(values)s.") % {"title": title, "values": "; ".join(parts)}


def bar_chart_svg(title: str, data: list[tuple[str, object]], chart_id: str = "chart") -> str:
    """A horizontal bar chart; `data` is (label, number) with hidden values left out."""
    data = [(label, value or 0) for label, value in data if value is not None]
    height = max(1, len(data)) * (BAR_HEIGHT + GAP) + GAP + 24
    largest = max((float(v) for _l, v in data), default=0) or 1
    bar_space = WIDTH - LABEL_WIDTH - 70
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" aria-labelledby="{title_id} {desc_id}" '
        f'font-family="Fira Sans, DejaVu Sans, Arial, sans-serif" font-size="12">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(text_alternative(title, data))}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    for index, (label, value) in enumerate(data):
        y = GAP + index * (BAR_HEIGHT + GAP)
        length = max(1.0, bar_space * float(value) / largest) if value else 0
        short = label if len(label) <= 40 else label[:38] + "…"
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end" fill="#1B1B1B">{escape(short)}</text>'
        )
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" fill="{BAR_COLOUR}"/>')
        parts.append(
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 16}" fill="#1B1B1B">{escape(format_number(value))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_to_png(svg: str, scale: float = 2.0) -> bytes:
    import cairosvg

    return cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=scale)
