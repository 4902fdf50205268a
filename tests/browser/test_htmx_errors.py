"""The unhappy path of every htmx request of the product, in Chromium.

htmx 2 swaps no 4xx answer by default, so a form the server answered with 422 and German
messages used to do nothing visible. Here every htmx form and every polling region meets
what goes wrong in real life: input the server refuses, a refusal, a missing record, a
server error, an ended session, no network. Each time the German message must be visible,
announced (role=alert; focus moved there after a submission), the input still in the form,
and nothing saved.

The htmx requests of the product (`grep -rn "hx-" src/kim/templates`): the quick entry of an
appointment on the case page (a form), the import status, the committee paper's render job and
the check of an uploaded Word template (polling regions). A test below fails when a new one appears untested."""

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from kim.casework.models import Appointment
from kim.core.models import Role

from ..factories import CaseFactory, ConsentFactory, ParticipantFactory, UserFactory
from .test_case_flow import case_manager, log_in  # noqa: F401 - the fixture is used by name

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "kim" / "templates"
TESTED_HTMX_TEMPLATES = {"casework/_appointments.html", "exchange/_import_status.html", "reports/_job.html",
                         "reports/_templates.html", "reports/_data_state_slot.html"}
NOTHING_SAVED = "Es wurde nichts gespeichert; Ihre Eingaben stehen noch im Formular."


def test_every_htmx_request_of_the_product_is_covered_here():
    using_htmx = {str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
                  if re.search(r"\bhx-(get|post|put|patch|delete)=", path.read_text())}
    assert using_htmx == TESTED_HTMX_TEMPLATES


@pytest.fixture
def open_case(case_manager):  # noqa: F811 - the fixture of test_case_flow
    participant = ParticipantFactory(responsible=case_manager, first_name="Amira", last_name="Nasser")
    ConsentFactory(participant=participant, given_on=timezone.localdate() - timedelta(days=60))
    return CaseFactory(participant=participant, opened_on=timezone.localdate() - timedelta(days=30))


def open_quick_entry(page, case):
    page.goto(f"/fallarbeit/fall/{case.pk}/")
    page.locator("#appointments").get_by_text("Termin erfassen").click()
    return page.locator("#appointments form")


def fill_appointment(form, *, day, minutes, topic="Wohnen", note="Gespräch mit der Vermieterin"):
    form.get_by_label("Datum").fill(day.isoformat())
    form.get_by_label("Dauer (Minuten)").fill(str(minutes))
    if topic:
        form.get_by_label(topic).check()
    form.get_by_label("Bemerkung").fill(note)


def expect_input_kept(form, *, day, minutes, topic="Wohnen", note="Gespräch mit der Vermieterin"):
    expect(form.get_by_label("Datum")).to_have_value(day.isoformat())
    expect(form.get_by_label("Dauer (Minuten)")).to_have_value(str(minutes))
    expect(form.get_by_label("Bemerkung")).to_have_value(note)
    if topic:
        expect(form.get_by_label(topic)).to_be_checked()


def expect_announced(page, alert):
    expect(alert).to_be_visible()
    expect(alert).to_have_attribute("role", "alert")
    assert page.evaluate("document.activeElement.getAttribute('role')") == "alert"
    assert alert.evaluate("node => node === document.activeElement")


def appointments_of(case):
    with scopes_disabled():
        return Appointment.objects.filter(case=case).count()


def test_input_the_server_refuses_shows_the_german_messages_and_keeps_the_input(page, auditor, open_case):
    today = timezone.localdate()
    log_in(page, "fallmanagerin")
    form = open_quick_entry(page, open_case)
    fill_appointment(form, day=today, minutes=0, topic=None)
    form.get_by_role("button", name="Termin speichern").click()

    errors = page.locator("#form-errors")
    expect(errors).to_contain_text("Wählen Sie mindestens ein Thema der Beratung.")
    expect(errors).to_contain_text("Dauer (Minuten)")
    expect_announced(page, errors)
    form = page.locator("#appointments form")
    expect_input_kept(form, day=today, minutes=0, topic=None)
    auditor.visit("appointment-refused-by-form")

    before_opening = open_case.opened_on - timedelta(days=3)
    fill_appointment(form, day=before_opening, minutes=45)
    form.get_by_role("button", name="Termin speichern").click()
    expect(page.locator("#form-errors")).to_contain_text("Der Termin kann nicht vor dem Beginn des Falls liegen.")
    expect_announced(page, page.locator("#form-errors"))
    expect_input_kept(page.locator("#appointments form"), day=before_opening, minutes=45)
    assert appointments_of(open_case) == 0

    form = page.locator("#appointments form")
    form.get_by_label("Datum").fill(today.isoformat())
    form.get_by_role("button", name="Termin speichern").click()
    expect(page.locator("#appointments .kern-alert--success")).to_contain_text("Der Termin wurde erfasst.")
    assert appointments_of(open_case) == 1


def take_away_the_role(case):
    with scopes_disabled():
        case.case_manager.role = Role.COORDINATION
        case.case_manager.provider = None
        case.case_manager.save()


def give_the_case_to_a_colleague(case):
    colleague = UserFactory(username="kollegin", role=Role.CASE_MANAGER, district=case.district,
                            provider=case.provider)
    with scopes_disabled():
        case.case_manager = colleague
        case.save()
        case.participant.responsible = colleague
        case.participant.save()


class DatabaseRefusesAppointments:
    """A real server error: the database itself refuses to store an appointment."""

    def __init__(self):
        self.table = Appointment._meta.db_table

    def __enter__(self):
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(f"CREATE TRIGGER kim_test_refuse BEFORE INSERT ON {self.table} "
                               "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
            else:
                cursor.execute("CREATE FUNCTION kim_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                               "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$")
                cursor.execute(f"CREATE TRIGGER kim_test_refuse BEFORE INSERT ON {self.table} "
                               "FOR EACH ROW EXECUTE FUNCTION kim_test_refuse()")
        return self

    def __exit__(self, *exc):
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("DROP TRIGGER kim_test_refuse")
            else:
                cursor.execute(f"DROP TRIGGER kim_test_refuse ON {self.table}")
                cursor.execute("DROP FUNCTION kim_test_refuse()")


@pytest.mark.parametrize("failure, message", [
    ("forbidden", "Der Server hat die Aktion abgelehnt"),
    ("not_found", "Der Datensatz existiert nicht mehr oder ist für Sie nicht mehr sichtbar."),
    ("server_error", "Der Server konnte die Anfrage nicht bearbeiten."),
    ("busy", "Die Datenbank ist gerade mit einem großen Import beschäftigt."),
    ("session_ended", "Ihre Sitzung ist beendet."),
    ("offline", "Es besteht keine Verbindung zum Server."),
])
def test_a_failed_appointment_request_says_why_in_german_and_keeps_the_input(page, auditor, open_case,
                                                                             failure, message):
    today = timezone.localdate()
    log_in(page, "fallmanagerin")
    form = open_quick_entry(page, open_case)
    fill_appointment(form, day=today, minutes=50)
    failing = {"server_error": DatabaseRefusesAppointments, "busy": DatabaseBusy}.get(failure, _nothing)
    with failing():
        if failure == "forbidden":
            take_away_the_role(open_case)
        elif failure == "not_found":
            give_the_case_to_a_colleague(open_case)
        elif failure == "session_ended":
            page.context.clear_cookies()
        elif failure == "offline":
            page.context.set_offline(True)
        form.get_by_role("button", name="Termin speichern").click()
        alert = page.locator("#appointments form .kim-request-error")
        expect(alert).to_contain_text(message)
        expect(alert).to_contain_text(NOTHING_SAVED)
        expect_announced(page, alert)
        expect_input_kept(page.locator("#appointments form"), day=today, minutes=50)
        page.context.set_offline(False)
    assert appointments_of(open_case) == 0
    expect(page.get_by_role("heading", level=1)).to_contain_text("Case Management F-")  # no page swapped in
    auditor.visit(f"appointment-{failure}")


class DatabaseBusy:
    """SQLite's lock held by a large import: the write waits and fails as Django reports it."""

    def __enter__(self):
        from django.db import OperationalError

        from kim.casework import services

        def wait_in_vain(*_args, **_kwargs):
            raise OperationalError("database is locked")

        self.services, self.original = services, services.record_appointment
        services.record_appointment = wait_in_vain
        return self

    def __exit__(self, *exc):
        self.services.record_appointment = self.original
        return False


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def render_job_page(case_manager):  # noqa: F811
    """The committee paper's render job, queued (no worker runs here): its region polls."""
    from kim.reports.services import create_paper, request_render

    coordination = UserFactory(username="koordination", role=Role.COORDINATION, district=case_manager.district)
    with scope(district=case_manager.district.pk):
        paper = create_paper(coordination, title="Sachstand", year=timezone.localdate().year - 1,
                             reference_date=timezone.localdate().replace(month=6, day=30), report_ids=["R1"])
        job = request_render(coordination, paper, "pdf")
    return "koordination", f"/berichte/sachstandsbericht/auftrag/{job.pk}/", "#job"


@pytest.fixture
def import_status_page(case_manager):  # noqa: F811
    """An upload being checked (no worker runs here): its status region polls."""
    from kim.exchange.services import request_check, start_import

    content = "Kennung;Vorname;Nachname;Geburtsdatum;Kommune\n1;Oksana;Kovalenko;12.03.1988;Hilden\n"
    with scope(district=case_manager.district.pk):
        run = start_import(case_manager, filename="personen.csv", data=content.encode())
        request_check(case_manager, run)
    return "fallmanagerin", f"/daten/import/{run.pk}/", "#import-status"


@pytest.fixture
def template_check_page(case_manager):  # noqa: F811
    """A Word template being checked (no worker runs here): the template list polls."""
    from kim.reports.paper import default_template_bytes
    from kim.reports.services import upload_template

    coordination = UserFactory(username="koordination", role=Role.COORDINATION, district=case_manager.district)
    with scope(district=case_manager.district.pk):
        upload_template(coordination, "Vorlage des Kreises", default_template_bytes())
    return "koordination", "/berichte/vorlagen/", "#template-list"


@pytest.mark.parametrize("region", ["render_job_page", "import_status_page", "template_check_page"])
@pytest.mark.parametrize("failure, message", [
    ("session_ended", "Ihre Sitzung ist beendet."),
    ("offline", "Es besteht keine Verbindung zum Server."),
])
def test_a_polling_region_says_when_it_cannot_update(page, auditor, request, region, failure, message):
    username, url, selector = request.getfixturevalue(region)
    log_in(page, username)
    page.goto(url)
    expect(page.locator(selector)).to_be_visible()
    if failure == "session_ended":
        page.context.clear_cookies()
    else:
        page.context.set_offline(True)
    alert = page.locator(".kim-request-error")
    expect(alert).to_contain_text(message, timeout=5000)  # the region polls every second
    expect(alert).to_contain_text("Die Anzeige ist nicht aktuell")
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_have_count(1)  # said once, not once a second
    page.wait_for_timeout(2500)
    expect(alert).to_have_count(1)
    expect(page.locator(selector)).to_be_visible()  # the login page was not swapped in
    page.context.set_offline(False)
    auditor.visit(f"{region}-{failure}")


@pytest.mark.parametrize("failure, message", [
    ("server", "Der Server konnte die Anfrage nicht bearbeiten."),
    ("offline", "Es besteht keine Verbindung zum Server."),
])
def test_the_state_of_the_data_says_when_it_cannot_be_loaded(page, auditor, case_manager, failure, message):  # noqa: F811
    """The report page loads the state of the data (R15 around the deadline) after the page: when
    that request fails, the reader is told so where the state would stand, and the table stays."""
    UserFactory(username="koordination", role=Role.COORDINATION, district=case_manager.district)
    log_in(page, "koordination")
    page.wait_for_url("**/berichte/uebersicht/")
    if failure == "server":
        page.route("**/berichte/datenstand/**", lambda route: route.fulfill(status=500, body="Server Error"))
    else:
        page.route("**/berichte/datenstand/**", lambda route: route.abort("internetdisconnected"))
    page.goto("/berichte/R1/")
    alert = page.locator(".kim-request-error")
    expect(alert).to_contain_text(message)
    expect(alert).to_have_attribute("role", "alert")
    expect(page.locator("table.kim-report-table")).to_be_visible()
    auditor.visit(f"data-state-{failure}")


# ---------------------------------------------------------------- a second click sends nothing twice
# (htmx drops a request of an element while one is on its way; the browser replaces a plain
# form's submission; the goal form's service refuses the same goal twice in any case)


def test_a_double_click_records_an_appointment_and_a_person_once(page, open_case, monkeypatch):
    log_in(page, "fallmanagerin")
    form = open_quick_entry(page, open_case)
    fill_appointment(form, day=timezone.localdate(), minutes=50)
    form.get_by_role("button", name="Termin speichern").dblclick()
    expect(page.locator("#appointments .kern-alert--success")).to_contain_text("Der Termin wurde erfasst.")
    page.wait_for_timeout(500)  # a second request would have arrived by now
    assert appointments_of(open_case) == 1

    page.goto("/fallarbeit/")
    page.get_by_role("link", name="Neue*r Teilnehmende*r").click()
    page.get_by_label("Vorname").fill("Doppel")
    page.get_by_label("Nachname").fill("Klick")
    page.get_by_label("Geburtsdatum").fill("1990-01-01")
    page.get_by_label("Kommune").select_option(label="Hilden")

    # A slow server: the second click lands while the first submission is being worked on.
    from kim.casework import views

    create = views.create_participant_from_form

    def slowly(*args, **kwargs):
        time.sleep(1)
        return create(*args, **kwargs)

    monkeypatch.setattr(views, "create_participant_from_form", slowly)
    # Two clicks 0.3 s apart, from inside the page (Playwright would wait for the navigation).
    page.get_by_role("button", name="Speichern").evaluate("button => { button.click(); setTimeout(() => button.click(), 300); }")
    expect(page.get_by_role("heading", level=1)).to_have_text("Doppel Klick")
    with scopes_disabled():
        from kim.casework.models import Participant

        assert Participant.objects.filter(last_name="Klick").count() == 1
