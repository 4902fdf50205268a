"""Personas: an insider (case manager of provider A), a colleague at the same provider, the
provider lead, a case manager of another provider in the same district, a case manager of
another district, coordination, steering group and the district administrator."""

from dataclasses import dataclass

import pytest
from django_scopes import scope, scopes_disabled

from kim.core.models import Role

# The directory servers of the single sign-on tests, one of each per test session.
from .directories import oidc_provider, slapd  # noqa: F401
from .factories import (
    AppointmentFactory,
    CaseFactory,
    ConsentFactory,
    GoalFactory,
    ParticipantFactory,
    ProviderFactory,
    UserFactory,
    make_district,
)


@dataclass
class World:
    district: object
    other_district: object
    provider: object
    other_provider: object
    insider: object
    colleague: object
    lead: object
    other_provider_cm: object
    other_district_cm: object
    coordination: object
    steering: object
    district_admin: object
    state: object  # the Land: no district, reads the districts' extracts (kim.state_statistics)
    participant: object
    case: object
    goal: object
    appointment: object

    def personas(self):
        return {
            "insider": self.insider, "colleague": self.colleague, "lead": self.lead,
            "other_provider": self.other_provider_cm, "other_district": self.other_district_cm,
            "coordination": self.coordination, "steering": self.steering, "district_admin": self.district_admin,
            "state": self.state,
        }


@pytest.fixture(autouse=True)
def statewide_rates(request):
    """Data the migrations load (the Land's funding rates) for transactional tests too: their
    flush after each test empties every table, so the next one would find no rates."""
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        from kim.staffing.defaults import load_statewide
        from kim.staffing.models import Rate

        load_statewide(Rate)


@pytest.fixture
def world(db):
    district = make_district("Kreis Aue")
    other_district = make_district("Kreis Berg")
    provider = ProviderFactory(district=district, name="Caritas Aue", slug="caritas")
    other_provider = ProviderFactory(district=district, name="Diakonie Aue", slug="diakonie")
    foreign_provider = ProviderFactory(district=other_district, name="AWO Berg", slug="awo")

    def user(username, role, prov=None, dist=district):
        return UserFactory(username=username, role=role, provider=prov, district=dist)

    insider = user("insider", Role.CASE_MANAGER, provider)
    participant = ParticipantFactory(responsible=insider, first_name="Zarifa", last_name="Qasimova")
    ConsentFactory(participant=participant)
    case = CaseFactory(participant=participant)
    return World(
        district=district, other_district=other_district, provider=provider, other_provider=other_provider,
        insider=insider,
        colleague=user("colleague", Role.CASE_MANAGER, provider),
        lead=user("lead", Role.PROVIDER_LEAD, provider),
        other_provider_cm=user("other_provider", Role.CASE_MANAGER, other_provider),
        other_district_cm=user("other_district", Role.CASE_MANAGER, foreign_provider, other_district),
        coordination=user("coordination", Role.COORDINATION),
        steering=user("steering", Role.STEERING),
        district_admin=user("district_admin", Role.DISTRICT_ADMIN),
        state=user("state", Role.STATE, dist=None),
        participant=participant, case=case, goal=GoalFactory(case=case),
        appointment=AppointmentFactory(case=case),
    )


@pytest.fixture
def in_scope(world):
    """Run the test body inside the district scope, as a request would."""
    with scope(district=world.district.pk):
        yield


@pytest.fixture
def no_scopes():
    with scopes_disabled():
        yield


def pytest_configure(config):
    from django.conf import settings
    from django.db.backends.sqlite3.base import DatabaseOperations

    from kim.core.audit_guard import audit_delete_allowed

    # Hashing a password the production way takes ~0.3 s; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    # Transactional tests empty their SQLite database with DELETE after each test; the audit
    # table refuses DELETE (kim.core.audit_guard) except for exactly this flush.
    flush = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with audit_delete_allowed():
            return flush(self, sql_list)

    DatabaseOperations.execute_sql_flush = execute_sql_flush


@pytest.fixture(autouse=True)
def privacy_log(tmp_path, settings):
    """Each test writes its own erasure log (kim.privacy.erasure_log), never the installation's."""
    settings.KIM_PRIVACY_LOG = str(tmp_path / "privacy" / "geloescht.jsonl")
    return tmp_path / "privacy" / "geloescht.jsonl"


@pytest.fixture(autouse=True)
def fresh_cache():
    """The cache (the state of the data of report pages) is per process: each test starts empty."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
