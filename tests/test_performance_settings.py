"""Settings and server choices made for speed: no JIT on PostgreSQL, gunicorn sized to the machine,
and the session written only when it changed or is due for its sliding timeout."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_postgresql_connections_run_without_jit():
    """The reports' grouped queries cost more to JIT-compile than to run (issue 13)."""
    if connection.vendor != "postgresql":
        pytest.skip("JIT is PostgreSQL's; the PostgreSQL leg runs this")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
