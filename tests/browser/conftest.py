"""Browser tests: Playwright drives Debian's Chromium against the live test server.

No browser is downloaded: the tests use /usr/bin/chromium. Without it the tests are
skipped with a reason, unless KIM_REQUIRE_BROWSER=1 (CI), where its absence fails the run."""

import json
import os
import shutil
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
AXE_JS = PROJECT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("KIM_SCREENSHOT_DIR", PROJECT / "test-artifacts" / "screenshots"))
CHROMIUM = os.environ.get("KIM_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")

# Playwright's sync API keeps an event loop in the test thread; the ORM calls the tests make
# there are synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    missing = [p for p in (CHROMIUM, AXE_JS) if not Path(p).exists()]
    if not missing:
        return
    reason = f"browser tests need {', '.join(map(str, missing))} (apt-get install chromium; npm ci)"
    if os.environ.get("KIM_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"Browser leg is mandatory but cannot run: {reason}")
    print(f"\nSKIPPING browser tests: {reason}")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    # bypass_csp lets the test inject axe-core; the pages themselves keep their strict CSP.
    context = browser.new_context(bypass_csp=True, locale="de-DE", viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


class Auditor:
    """Runs axe-core on a page and keeps serious and critical violations."""

    def __init__(self, page):
        self.page = page
        self.results = {}

    def check(self, name):
        self.page.add_script_tag(path=str(AXE_JS))
        result = self.page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        serious = [
            {"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")
        ]
        self.results[name] = {"violations": len(result["violations"]), "serious_or_critical": serious}
        return serious

    def screenshot(self, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def visit(self, name):
        """Screenshot and axe check of the current page; fails on serious violations."""
        self.screenshot(name)
        serious = self.check(name)
        assert not serious, f"axe on {name}: {json.dumps(serious, ensure_ascii=False, indent=1)}"
        # The window's title is plain text: markup in it is a template that lost its way.
        title = self.page.title()
        assert "<" not in title and "{%" not in title and len(title) < 200, f"title of {name}: {title!r}"

    def write_report(self):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / "axe-report.json").write_text(json.dumps(self.results, indent=1, ensure_ascii=False))


@pytest.fixture
def auditor(page):
    auditor = Auditor(page)
    yield auditor
    auditor.write_report()
