"""The permission table (kim.core.permissions) is the only place that says who may do what:
every page declares the permission it needs, and the table itself is pinned here by hand, so
that opening an area to another role is a deliberate change of two files, never an accident."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from kim.core import permissions
from kim.core.middleware import API_PREFIX, PUBLIC_PREFIXES
from kim.core.models import Role

CM, LEAD, COORD, STEER, M3, ADMIN = (Role.CASE_MANAGER, Role.PROVIDER_LEAD, Role.COORDINATION, Role.STEERING,
                                     Role.MODULE3, Role.DISTRICT_ADMIN)
STATE = Role.STATE
EVERYONE = {CM, LEAD, COORD, STEER, M3, ADMIN}  # every district's role; the Land's reads extracts only

# Written out by hand. Personal data: case managers and provider leads, nobody else.
EXPECTED = {
    "casework.personal_data": {CM, LEAD},
    "casework.lead_provider": {LEAD},
    "exchange.use": {CM, LEAD},
    "exchange.import": {CM, LEAD, COORD},
    "exchange.export_provider": {LEAD},
    "reports.read": EVERYONE,
    "reports.coordinate": {COORD},
    "reports.confirm_data": {LEAD},
    "reports.read_papers": {COORD, STEER, M3, ADMIN},
    "core.read_audit_trail": {LEAD, ADMIN},
    "core.administer_district": {ADMIN},
    "core.manage_staff": {ADMIN, LEAD},
    "api.use": EVERYONE,
    "system.report_need": {CM, LEAD},
    "system.coordinate": {COORD},
    "system.read": {COORD, STEER},
    "system.read_own_groups": {CM, LEAD, M3},
    "system.read_need_figures": {CM, LEAD, COORD, STEER},
    "system.read_directory": {CM, LEAD, COORD, STEER, M3},
    "staffing.read": {COORD, STEER, ADMIN},
    "staffing.manage": {COORD},
    "staffing.read_names": {COORD, ADMIN},
    "residence.record": {M3},
    "residence.read_figures": {M3, COORD, STEER},
    "residence.manage_offices": {ADMIN},
    "privacy.overview": {LEAD, ADMIN},
    "privacy.request_erasure": {LEAD},
    "privacy.restrict": {LEAD},
    "privacy.manage_retention": {ADMIN},
    "statistics.read_state": {STATE},
    "statistics.import": {STATE},
}
# Pages every logged-in user needs, whatever the role: they show only the user's own things.
OPEN_TO_EVERY_USER = {"home", "logout", "password-change", "otp-setup", "otp-verify"}


def test_the_table_is_as_written_here():
    assert {name: set(roles) for name, roles in permissions.PERMISSIONS.items()} == EXPECTED


def test_only_provider_leads_grant_personal_data_roles_and_only_within_their_provider():
    assert permissions.GRANTS == {
        ADMIN: (frozenset({COORD, STEER, M3, ADMIN}), "none"),
        LEAD: (frozenset({CM, LEAD}), "own provider"),
    }


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield "/" + prefix + str(pattern.pattern), pattern


def application_pages():
    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith(("/admin/", API_PREFIX, *PUBLIC_PREFIXES)) or route == "/healthz":
            continue
        yield route, pattern


def test_every_page_declares_a_permission_of_the_table():
    undeclared = []
    for route, pattern in application_pages():
        if pattern.name in OPEN_TO_EVERY_USER:
            continue
        permission = getattr(pattern.callback, "permission", None)
        if permission not in permissions.PERMISSIONS:
            undeclared.append(route)
    assert undeclared == []


@pytest.mark.parametrize("persona", ["insider", "lead", "coordination", "steering", "district_admin", "state"])
def test_django_rules_answers_from_the_same_table(world, persona):
    user = world.personas()[persona]
    for name, roles in EXPECTED.items():
        assert user.has_perm(name) == (user.role in roles), name
