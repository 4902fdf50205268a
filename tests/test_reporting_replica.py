"""Reports read from a replica when KIM_REPORTING_DATABASE_URL names one (kim.core.routers). The
replica here is a second connection to the same database, as a streaming replica would be."""

import pytest
from django.db import connections
from django.db.utils import load_backend
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled

from kim.core.routers import REPORTING, ReportingRouter, reading_reports


@pytest.fixture
def replica(transactional_db, settings):
    """The alias `reporting`, as the settings make it from KIM_REPORTING_DATABASE_URL, pointing
    at this test's database: committed rows only, as on a real replica, hence transactional
    tests. (A connection made here, after the test database is set up, which refuses aliases
    named in the settings but not in the test.)"""
    settings.KIM_REPORTING_REPLICA = True
    primary = connections["default"].settings_dict
    connections[REPORTING] = load_backend(primary["ENGINE"]).DatabaseWrapper({**primary}, alias=REPORTING)
    try:
        yield connections[REPORTING]
    finally:
        connections[REPORTING].close()
        del connections[REPORTING]


def test_without_a_replica_everything_stays_on_the_primary():
    from kim.casework.models import Appointment

    with reading_reports():
        assert ReportingRouter().db_for_read(Appointment) is None
    assert ReportingRouter().db_for_write(Appointment) == "default"


def test_only_report_data_is_read_from_the_replica(replica):
    from django.contrib.sessions.models import Session

    from kim.casework.models import Appointment
    from kim.core.models import AuditEntry, Municipality, User

    router = ReportingRouter()
    assert router.db_for_read(Appointment) is None  # outside a report request
    with reading_reports():
        assert router.db_for_read(Appointment) == REPORTING
        assert router.db_for_read(Municipality) == REPORTING
        for primary_only in (User, AuditEntry, Session):
            assert router.db_for_read(primary_only) is None, primary_only
        assert router.db_for_write(Appointment) == "default"
    assert router.allow_migrate(REPORTING, "casework") is False
    assert router.allow_migrate("default", "casework") is True


@pytest.mark.django_db(transaction=True)
def test_a_report_page_reads_its_figures_from_the_replica(client, world, replica):
    client.force_login(world.coordination)
    url = reverse("reports:report", args=["R1"])
    with CaptureQueriesContext(replica) as on_replica, CaptureQueriesContext(connections["default"]) as on_primary:
        response = client.get(url)
    assert response.status_code == 200
    read_there = " ".join(query["sql"] for query in on_replica.captured_queries)
    assert "casework_appointment" in read_there
    read_here = " ".join(query["sql"] for query in on_primary.captured_queries)
    assert "casework_appointment" not in read_here
    assert "django_session" in read_here and "core_user" in read_here  # the login stays on the primary
    client.force_login(world.insider)
    with CaptureQueriesContext(replica) as elsewhere:
        assert client.get(reverse("casework:my-cases")).status_code == 200
    assert elsewhere.captured_queries == []  # other pages never read the replica


def test_a_check_inside_a_write_transaction_reads_the_primary(replica):
    from django.db import transaction

    from kim.casework.models import Appointment

    with reading_reports():
        assert ReportingRouter().db_for_read(Appointment) == REPORTING
        with transaction.atomic():
            assert ReportingRouter().db_for_read(Appointment) is None


@pytest.mark.django_db(transaction=True)
def test_a_form_sent_under_the_reports_reads_nothing_from_the_replica(client, world, replica):
    client.force_login(world.coordination)
    with CaptureQueriesContext(replica) as on_replica:
        response = client.post(reverse("reports:deadline-new"), {"due_on": "31.01.2027"})
    assert response.status_code in (302, 422)
    assert on_replica.captured_queries == []


@pytest.mark.django_db(transaction=True)
def test_the_replica_gives_the_primary_figures(client, world, replica, settings):
    """The same page with and without the replica: the same table (the replica holds the same rows)."""
    client.force_login(world.coordination)
    url = reverse("reports:report", args=["R1"])
    with scopes_disabled():
        from_replica = client.get(url).content.decode()
    settings.KIM_REPORTING_REPLICA = False  # as without KIM_REPORTING_DATABASE_URL
    from_primary = client.get(url).content.decode()
    strip = lambda page: page.split("<main", 1)[1].split("</main>", 1)[0]  # the table, not the CSRF token
    assert strip(from_replica) == strip(from_primary)


def test_the_setting_makes_the_replica_alias(tmp_path):
    import os
    import subprocess
    import sys

    code = ("import django; django.setup(); from django.conf import settings as s; "
            "r = s.DATABASES['reporting']; print(s.KIM_REPORTING_REPLICA, r['NAME'], r['HOST'], r['TEST']['MIRROR'])")
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "kim.settings", "KIM_VAR_DIR": str(tmp_path),
                   "KIM_SECRET_KEY": "test-" + "k" * 60,
                   "KIM_REPORTING_DATABASE_URL": "postgres://kim_app@replica.kreis-beispiel.de:5432/kim"}
    result = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=False)
    assert result.stdout.split() == ["True", "kim", "replica.kreis-beispiel.de", "default"], \
        result.stderr
