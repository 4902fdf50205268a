"""Schemathesis against the served OpenAPI schema, on whichever database the suite runs:
generated requests to every operation must never get a 5xx, and every documented response
must conform to the schema. Run as a case manager (personal data) and as coordination
(reports with suppression, and refusals everywhere else).

Schemathesis' own pytest plugin does not work with pytest 9 yet, so the operations are
driven here with Hypothesis directly: one strategy per operation of the loaded schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from kim.wsgi import application

from .test_api import make_token

FAST = settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
                database=None)


def operations():
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 20, [op.label for op in found]
    return found


def exercise(operation, token):
    @given(case=operation.as_strategy())
    @FAST
    def run(case):
        case.call_and_validate(headers={"Authorization": f"Token {token}"},
                               checks=[not_a_server_error, response_schema_conformance])

    run()


@pytest.fixture
def keep_connection():
    """The WSGI application closes the database connection after each request; in a test that
    runs in one transaction (PostgreSQL) that would end it. Django's test client does the same."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("persona", ["insider", "coordination"])
def test_generated_requests_never_fail_the_server_or_the_schema(world, persona, keep_connection):
    token = make_token(world.personas()[persona])
    for operation in operations():
        exercise(operation, token)
