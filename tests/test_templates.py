"""Template rules that no browser test would see on every page."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "kim" / "templates"
BUTTON = re.compile(r'<(button|a)\b[^>]*class="[^"]*kern-btn[^"]*"[^>]*>(.*?)</\1>', re.S)


def test_no_button_with_a_visible_label_holds_kerns_screen_reader_text():
    """KERN makes a button that holds `kern-sr-only` an icon-only button 32 px wide, so that its
    visible label runs over its frame and the next element ("als erledigt markieren" over the
    step of the plan). Text for screen readers in a labelled button is `kim-sr-only`."""
    offending = []
    for path in TEMPLATES.rglob("*.html"):
        for match in BUTTON.finditer(path.read_text(encoding="utf-8")):
            inner = match.group(2)
            visible = re.sub(r'<span class="kern-sr-only">.*?</span>', "", inner, flags=re.S)
            if "kern-sr-only" in inner and re.search(r'class="kern-label"', visible):
                offending.append(f"{path.relative_to(TEMPLATES)}: {match.group(0)[:80]}")
    assert offending == []
