"""The unhappy path of every form of reports, deadlines, committee papers and Word templates,
in a real browser: wrong input gets a German message where the user looks, announced to
screen readers (role=alert, or a live region for the background check), with the input kept;
axe-core on every page on the way, the new ones included."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from kim.reports import services
from kim.reports.completeness import current_deadline, provider_share
from kim.reports.models import ReportingDeadline

from .test_case_flow import log_in
from .test_reports_flow import district_with_figures, run_worker  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = timezone.localdate()
LAST_YEAR = TODAY.year - 1


def alert_text(page):
    alert = page.get_by_role("alert").first
    alert.wait_for()
    return alert.inner_text()


def broken_template() -> bytes:
    from docx import Document

    document = Document()
    document.add_paragraph("{{ titel }")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_coordination_sees_every_refusal_where_it_looks(page, auditor, district_with_figures, monkeypatch, tmp_path):  # noqa: F811
    log_in(page, "koordination")
    page.wait_for_url("**/berichte/uebersicht/")

    # Report parameters: a reference date the district may not ask for.
    page.goto("/berichte/R3/")
    page.get_by_label("Stichtag").fill(f"{LAST_YEAR}-03-15")
    page.get_by_role("button", name="Anzeigen").click()
    assert "30.06. und 31.12." in alert_text(page)
    assert page.get_by_label("Stichtag").input_value() == f"{LAST_YEAR}-03-15"
    assert page.get_by_label("Stichtag").get_attribute("aria-invalid") == "true"
    auditor.visit("report-refused")

    # A deadline in the past.
    page.goto("/berichte/vollstaendigkeit/stichtag/neu/")
    page.get_by_label("Anlass").fill("Lenkungsgruppe Frühjahr")
    page.get_by_label("Stichtag").fill(f"{TODAY - timedelta(days=1):%Y-%m-%d}")
    page.get_by_label("Jahr der Zahlen").fill(str(LAST_YEAR))
    page.get_by_role("button", name="Speichern").click()
    assert "in der Vergangenheit" in alert_text(page)
    assert page.get_by_label("Anlass").input_value() == "Lenkungsgruppe Frühjahr"
    auditor.visit("deadline-refused")
    page.get_by_label("Stichtag").fill(f"{TODAY + timedelta(days=30):%Y-%m-%d}")
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_url("**/berichte/vollstaendigkeit/")

    # The history and the deadline's page; a year not ended on the edit form.
    page.get_by_role("link", name="Alle Stichtage, auch frühere").click()
    auditor.visit("deadlines")
    page.get_by_role("link", name="Lenkungsgruppe Frühjahr").click()
    auditor.visit("deadline")
    page.get_by_role("link", name="Ändern", exact=True).click()
    page.get_by_label("Jahr der Zahlen").fill(str(TODAY.year))
    page.get_by_role("button", name="Speichern").click()
    assert "abgeschlossenen Jahres" in alert_text(page)
    assert page.get_by_label("Jahr der Zahlen").input_value() == str(TODAY.year)
    auditor.visit("deadline-edit-refused")
    page.goto(page.url.replace("bearbeiten/", "widerrufen/"))
    auditor.visit("deadline-withdraw")

    # A committee paper with a reference date that its render would refuse.
    page.goto("/berichte/sachstandsbericht/neu/")
    page.get_by_label("Titel").fill("Sachstandsbericht Frühjahr")
    page.get_by_label("Jahr der Zahlen").fill(str(LAST_YEAR))
    page.get_by_label("Stichtag").fill(f"{LAST_YEAR}-03-15")
    page.get_by_role("button", name="Speichern").click()
    assert "30.06. und 31.12." in alert_text(page)
    assert page.get_by_label("Titel").input_value() == "Sachstandsbericht Frühjahr"
    auditor.visit("paper-refused")
    page.get_by_label("Stichtag").fill(f"{LAST_YEAR}-12-31")
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_url("**/sachstandsbericht/*/")
    page.get_by_role("link", name="Ändern", exact=True).click()
    page.get_by_label("Jahr der Zahlen").fill(str(TODAY.year))
    page.get_by_role("button", name="Speichern").click()
    assert "abgeschlossen" in alert_text(page)
    auditor.visit("paper-edit-refused")
    page.goto(page.url.replace("bearbeiten/", "loeschen/"))
    auditor.visit("paper-delete")

    # Word templates: a file that is no Word document, then one whose placeholder is broken.
    page.goto("/berichte/vorlagen/")
    not_word = tmp_path / "vorlage.docx"
    not_word.write_bytes(b"kein Word")
    page.get_by_label("Name").fill("Kreisvorlage")
    page.get_by_label("Word-Datei (.docx)").set_input_files(str(not_word))
    page.get_by_role("button", name="Hochladen").click()
    assert "kein Word-Dokument" in alert_text(page)
    assert page.get_by_label("Name").input_value() == "Kreisvorlage"
    auditor.visit("template-refused-at-once")
    broken = tmp_path / "kaputt.docx"
    broken.write_bytes(broken_template())
    page.get_by_label("Word-Datei (.docx)").set_input_files(str(broken))
    page.get_by_role("button", name="Hochladen").click()
    page.wait_for_url("**/berichte/vorlagen/")
    live = page.locator("#template-list[aria-live=polite]")
    assert "wird geprüft" in live.inner_text()
    run_worker(monkeypatch)
    message = live.get_by_role("alert")
    message.wait_for(timeout=15000)  # htmx polls every two seconds and swaps the list
    assert "nicht richtig geschrieben" in message.inner_text() and "{{ titel }" in message.inner_text()
    auditor.visit("templates-checked")


def test_the_lead_sees_why_a_confirmation_failed_with_the_note_kept(page, auditor, district_with_figures):  # noqa: F811
    org = district_with_figures
    with scopes_disabled():
        ReportingDeadline.objects.create(
            district=org.district, title="Lenkungsgruppe", due_on=TODAY + timedelta(days=20),
            period_start=TODAY.replace(year=LAST_YEAR, month=1, day=1),
            period_end=TODAY.replace(year=LAST_YEAR, month=12, day=31), created_by=org.coordination)
    log_in(page, "leitung")
    page.goto("/berichte/vollstaendigkeit/")
    page.get_by_label("Bemerkung").fill("Zwei Fälle von Frau K. folgen im Januar.")
    # Meanwhile a colleague with the same role confirms in another window.
    lead = org.leads[org.providers[0].pk]
    with scope(district=org.district.pk):
        deadline = current_deadline()
        share, cases = provider_share(lead, deadline)
        services.confirm_data(lead, deadline, share, cases, note="")
    page.get_by_role("button", name="Daten für diesen Stichtag bestätigen").click()
    assert "bereits bestätigt" in alert_text(page)
    assert page.get_by_label("Bemerkung").input_value() == "Zwei Fälle von Frau K. folgen im Januar."
    auditor.visit("confirmation-refused")
    page.get_by_role("button", name="Bemerkung berichtigen").click()
    page.wait_for_url("**/berichte/vollstaendigkeit/")
    assert page.get_by_text("Zwei Fälle von Frau K. folgen im Januar.").first.is_visible()
    auditor.visit("completeness-lead-note")
