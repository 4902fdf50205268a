"""Module 3: offices, procedures and monthly tallies scoped to the office's module-3 staff;
R13 against an independent count; the §104c clock on the case and the pipeline in aggregate.
Personas: abh (module 3 of the office), a module-3 user of another office, another district's
module-3 user, coordination (aggregate only, suppressed), a case manager, the administrator."""

import random
import statistics
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled
from django_scopes.exceptions import ScopeError

from kim.casework.clock import title_warning, warning_step
from kim.casework.models import Case, Goal, Participant, add_months
from kim.core.models import AuditEntry, GoalCategory, Municipality, ReferralTarget, Role
from kim.reports.framework import build_table, registered_reports
from kim.reports.periods import Period
from kim.reports.questions import ParamError, ReportParams
from kim.residence import services
from kim.residence.models import MonthlyTally, Office, Outcome, Procedure, ProcedureKind
from kim.residence.pipeline import pipeline
from kim.residence.reports import AGE_BANDS, age_band

from .factories import CaseFactory, ConsentFactory, GoalFactory, ParticipantFactory, UserFactory
from .test_api import Api
from .test_report_questions import ask_command_line

YEAR = 2024
ALLOWED, HIDDEN, FORBIDDEN = 200, 404, 403


@pytest.fixture
def m3(world):
    """Two offices in the district (abh's, and another with its own module-3 user), one in the
    other district."""
    with scopes_disabled():
        abh_target = ReferralTarget.objects.get(district=world.district, key="abh")
        office = Office.objects.create(district=world.district, name="ABH Aue", kind=Office.Kind.FOREIGNERS,
                                       release_target=abh_target)
        other = Office.objects.create(district=world.district, name="EBH Aue", kind=Office.Kind.NATURALISATION,
                                      release_target=services.release_target_for(world.district, "ebh"))
        foreign = Office.objects.create(
            district=world.other_district, name="ABH Berg", kind=Office.Kind.FOREIGNERS,
            release_target=ReferralTarget.objects.get(district=world.other_district, key="abh"))
    world.abh = UserFactory(username="abh", role=Role.MODULE3, district=world.district, provider=None)
    world.other_office_m3 = UserFactory(username="ebh", role=Role.MODULE3, district=world.district, provider=None)
    world.other_district_m3 = UserFactory(username="abh-berg", role=Role.MODULE3, district=world.other_district,
                                          provider=None)
    office.staff.set([world.abh])
    other.staff.set([world.other_office_m3])
    foreign.staff.set([world.other_district_m3])
    world.office, world.other_office, world.foreign_office = office, other, foreign
    with scopes_disabled():
        world.procedure = Procedure.objects.create(
            district=world.district, office=office, kind=ProcedureKind.NATURALISATION,
            received_on=date(YEAR, 2, 1), decided_on=date(YEAR, 9, 1), outcome=Outcome.GRANTED, by_kim_staff=True)
        world.tally = MonthlyTally.objects.create(district=world.district, office=office, month=date(YEAR, 3, 1),
                                                  kind=ProcedureKind.RESIDENCE_OTHER, received=4)
    return world


def personas(w):
    return {"abh": w.abh, "other_office": w.other_office_m3, "other_district": w.other_district_m3,
            "coordination": w.coordination, "case_manager": w.insider, "admin": w.district_admin}


# ---------------------------------------------------------------- scope

def test_a_query_without_district_scope_fails_loudly(m3):
    with pytest.raises(ScopeError):
        list(Procedure.objects.all())
    with pytest.raises(ScopeError):
        list(Procedure.objects.visible_to(m3.abh))
    with pytest.raises(ScopeError):
        list(MonthlyTally.objects.for_statistics(m3.coordination))


@pytest.mark.parametrize("persona, sees", [("abh", True), ("other_office", False), ("other_district", False),
                                           ("coordination", False), ("case_manager", False), ("admin", False)])
def test_only_staff_of_the_office_see_its_procedures(m3, persona, sees):
    user = personas(m3)[persona]
    with scope(district=user.district_id):
        assert Procedure.objects.visible_to(user).filter(pk=m3.procedure.pk).exists() == sees
        assert MonthlyTally.objects.visible_to(user).filter(pk=m3.tally.pk).exists() == sees


# ---------------------------------------------------------------- pages by persona

# page -> persona -> status
PAGES = {
    "residence:procedures": {"abh": 200, "other_office": 200, "other_district": 200, "coordination": 403,
                             "case_manager": 403, "admin": 403},
    "residence:procedure-new": {"abh": 200, "other_office": 200, "other_district": 200, "coordination": 403,
                                "case_manager": 403, "admin": 403},
    "residence:procedure": {"abh": 200, "other_office": 404, "other_district": 404, "coordination": 403,
                            "case_manager": 403, "admin": 403},
    "residence:tallies": {"abh": 200, "other_office": 200, "other_district": 200, "coordination": 403,
                          "case_manager": 403, "admin": 403},
    "residence:tally": {"abh": 200, "other_office": 404, "other_district": 404, "coordination": 403,
                        "case_manager": 403, "admin": 403},
    "residence:pipeline": {"abh": 200, "other_office": 200, "other_district": 200, "coordination": 200,
                           "case_manager": 403, "admin": 403},
    "residence:offices": {"abh": 403, "other_office": 403, "other_district": 403, "coordination": 403,
                          "case_manager": 403, "admin": 200},
    "residence:office": {"abh": 403, "other_office": 403, "other_district": 403, "coordination": 403,
                         "case_manager": 403, "admin": 200},
}
OBJECTS = {"residence:procedure": "procedure", "residence:tally": "tally", "residence:office": "office"}


@pytest.mark.parametrize("persona", ["abh", "other_office", "other_district", "coordination", "case_manager", "admin"])
@pytest.mark.parametrize("url_name", list(PAGES))
def test_every_page_answers_by_persona(client, m3, persona, url_name):
    client.force_login(personas(m3)[persona])
    args = [getattr(m3, OBJECTS[url_name]).pk] if url_name in OBJECTS else []
    assert client.get(reverse(url_name, args=args)).status_code == PAGES[url_name][persona]
    # The same for a change: nobody outside the office changes its records.
    if url_name in ("residence:procedure", "residence:tally", "residence:office"):
        response = client.post(reverse(url_name, args=args), {"office": "", "name": ""})
        assert response.status_code == (422 if PAGES[url_name][persona] == 200 else PAGES[url_name][persona])


def test_the_procedure_list_shows_only_the_own_office(client, m3):
    client.force_login(m3.abh)
    assert m3.procedure.number in client.get(reverse("residence:procedures")).content.decode()
    client.force_login(m3.other_office_m3)
    assert m3.procedure.number not in client.get(reverse("residence:procedures")).content.decode()


def test_showing_procedures_leaves_a_read_entry(client, m3):
    client.force_login(m3.abh)
    client.get(reverse("residence:procedures"))
    client.get(reverse("residence:procedure", args=[m3.procedure.pk]))
    reads = AuditEntry.objects.filter(actor=m3.abh, action="read", object_type="residence.procedure")
    assert reads.count() == 2 and reads.filter(object_id=str(m3.procedure.pk)).exists()


def test_the_navigation_offers_module_3_its_pages(client, m3):
    client.force_login(m3.abh)
    page = client.get(reverse("residence:procedures"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Verfahren" in page and reverse("residence:pipeline") in page
    client.force_login(m3.insider)
    assert reverse("residence:procedures") not in client.get(reverse("casework:my-cases")).content.decode()


# ---------------------------------------------------------------- recording procedures

def procedure_post(m3, **values):
    data = {"office": m3.office.pk, "kind": ProcedureKind.RESIDENCE_25B, "received_on": f"{YEAR}-01-10",
            "complete_on": f"{YEAR}-02-01", "decided_on": f"{YEAR}-06-01", "outcome": Outcome.GRANTED,
            "by_kim_staff": "on"}
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


def test_module_3_records_a_procedure_with_its_audit_entry(client, m3):
    client.force_login(m3.abh)
    response = client.post(reverse("residence:procedure-new"), procedure_post(m3))
    assert response.status_code == 302
    with scopes_disabled():
        procedure = Procedure.objects.get(kind=ProcedureKind.RESIDENCE_25B)
    assert procedure.by_kim_staff and procedure.office == m3.office and procedure.decided_on == date(YEAR, 6, 1)
    assert AuditEntry.objects.filter(action="create", object_type="residence.procedure",
                                     object_id=str(procedure.pk), actor=m3.abh).exists()


@pytest.mark.parametrize("values, message", [
    ({"decided_on": f"{YEAR}-01-01"}, "nicht vor dem Eingang"),
    ({"complete_on": f"{YEAR}-01-01"}, "nicht vor dem Eingang vollständig"),
    ({"complete_on": f"{YEAR}-07-01"}, "nicht vor der Vollständigkeit"),
    ({"outcome": ""}, "hat ein Ergebnis"),
    ({"decided_on": ""}, "Datum der Entscheidung"),
    ({"received_on": "2999-01-01", "complete_on": "", "decided_on": "", "outcome": ""}, "nicht in der Zukunft"),
    ({"office": "OTHER"}, "Auswahl"),
    ({"participant_code": "TN-UNBEKANN"}, "keine Schweigepflichtentbindung"),
])
def test_bad_input_answers_422_in_german_and_stores_nothing(client, m3, values, message):
    client.force_login(m3.abh)
    if values.get("office") == "OTHER":
        values = {"office": m3.other_office.pk}
    before = AuditEntry.objects.exclude(action="read").count()
    response = client.post(reverse("residence:procedure-new"), procedure_post(m3, **values), HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422
    assert message in response.content.decode()
    with scopes_disabled():
        assert not Procedure.objects.filter(kind=ProcedureKind.RESIDENCE_25B).exists()
    assert AuditEntry.objects.exclude(action="read").count() == before


def test_the_database_refuses_an_outcome_without_decision(m3):
    from django.db import IntegrityError, transaction

    with scopes_disabled(), pytest.raises(IntegrityError), transaction.atomic():
        Procedure.objects.create(district=m3.district, office=m3.office, kind=ProcedureKind.NATURALISATION,
                                 received_on=date(YEAR, 1, 1), outcome=Outcome.GRANTED)


def test_a_participant_is_linked_only_under_a_release_towards_the_office(client, m3):
    with scopes_disabled():
        consent = m3.participant.consents.get()
    client.force_login(m3.abh)
    data = procedure_post(m3, participant_code=m3.participant.code.lower())
    response = client.post(reverse("residence:procedure-new"), data, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422  # no release yet: the same message as for an unknown code
    assert "keine Schweigepflichtentbindung" in response.content.decode()
    with scopes_disabled():
        consent.released_to.add(m3.office.release_target)
    assert client.post(reverse("residence:procedure-new"), data).status_code == 302
    with scopes_disabled():
        assert Procedure.objects.get(kind=ProcedureKind.RESIDENCE_25B).participant == m3.participant
    # The other office is not released: the naturalisation office cannot link her.
    client.force_login(m3.other_office_m3)
    response = client.post(reverse("residence:procedure-new"),
                           procedure_post(m3, office=m3.other_office.pk, participant_code=m3.participant.code))
    assert response.status_code == 422


def test_a_withdrawn_release_links_no_more(m3):
    with scopes_disabled():
        consent = m3.participant.consents.get()
        consent.released_to.add(m3.office.release_target)
        consent.withdrawn_on = date.today() - timedelta(days=1)
        consent.save()
    with scope(district=m3.district.pk), pytest.raises(services.ValidationError):
        services.linked_participant(m3.office, m3.participant.code)


def test_a_naturalisation_office_adds_its_release_partner_once(m3):
    with scopes_disabled():
        targets = ReferralTarget.objects.filter(district=m3.district, key="ebh")
        assert targets.count() == 1 and targets.get().label == "Einbürgerungsbehörde"
        assert services.release_target_for(m3.district, "ebh") == targets.get()


# ---------------------------------------------------------------- monthly tallies

def tally_post(m3, **values):
    data = {"office": m3.office.pk, "month": f"{YEAR}-05-17", "kind": ProcedureKind.RESIDENCE_25A, "received": 6,
            "granted": 3, "refused": 1, "withdrawn": 0, "by_kim_staff": 2, "open_under_3": 4, "open_3_6": 2,
            "open_6_12": 1, "open_over_12": 0}
    data.update(values)
    return data


def test_module_3_records_monthly_figures_for_the_month(client, m3):
    client.force_login(m3.abh)
    assert client.post(reverse("residence:tally-new"), tally_post(m3)).status_code == 302
    with scopes_disabled():
        tally = MonthlyTally.objects.get(kind=ProcedureKind.RESIDENCE_25A)
    assert tally.month == date(YEAR, 5, 1) and tally.decided == 4 and tally.open_total == 7


@pytest.mark.parametrize("values, message", [
    ({"by_kim_staff": 5}, "Höchstens so viele"),
    ({"month": "2999-01-01"}, "nicht in der Zukunft"),
    ({"received": -1}, "größer oder gleich 0"),
    ({"kind": ProcedureKind.RESIDENCE_OTHER, "month": f"{YEAR}-03-09"}, "bereits Zahlen für diesen Monat"),
    ({"kind": ProcedureKind.NATURALISATION, "month": f"{YEAR}-02-01"}, "doppelt"),
])
def test_bad_monthly_figures_answer_422_and_store_nothing(client, m3, values, message):
    client.force_login(m3.abh)
    with scopes_disabled():
        before = MonthlyTally.objects.count()
    response = client.post(reverse("residence:tally-new"), tally_post(m3, **values), HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422
    assert message in response.content.decode()
    with scopes_disabled():
        assert MonthlyTally.objects.count() == before


def test_a_single_procedure_is_refused_in_a_month_with_figures(client, m3):
    client.force_login(m3.abh)
    response = client.post(reverse("residence:procedure-new"), procedure_post(
        m3, kind=ProcedureKind.RESIDENCE_OTHER, received_on=f"{YEAR}-03-05", complete_on="", decided_on="",
        outcome=""), HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422 and "doppelt" in response.content.decode()


# ---------------------------------------------------------------- R13 against an independent count

def random_procedures(m3, rng, n):
    rows = []
    for _ in range(n):
        office = rng.choice([m3.office, m3.other_office])
        received = date(YEAR - 1, 1, 1) + timedelta(days=rng.randint(0, 700))
        decided = received + timedelta(days=rng.randint(0, 400)) if rng.random() < 0.7 else None
        rows.append(Procedure(district=m3.district, office=office, kind=rng.choice(ProcedureKind.values),
                              received_on=received, decided_on=decided,
                              outcome=rng.choice(Outcome.values) if decided else "",
                              by_kim_staff=rng.random() < 0.4))
    with scopes_disabled():
        Procedure.objects.bulk_create(rows)
        return list(Procedure.objects.filter(district=m3.district))


def random_tallies(m3, rng):
    rows = []
    for month in range(1, 13):
        for kind in (ProcedureKind.RESIDENCE_25A, ProcedureKind.RESIDENCE_OTHER):
            if kind == ProcedureKind.RESIDENCE_OTHER and month == 3:
                continue  # the fixture's tally
            decided = [rng.randint(0, 6) for _ in range(3)]
            rows.append(MonthlyTally(district=m3.district, office=m3.other_office, month=date(YEAR, month, 1),
                                     kind=kind, received=rng.randint(0, 9), granted=decided[0], refused=decided[1],
                                     withdrawn=decided[2], by_kim_staff=rng.randint(0, sum(decided)),
                                     open_under_3=rng.randint(0, 5), open_3_6=rng.randint(0, 5),
                                     open_6_12=rng.randint(0, 5), open_over_12=rng.randint(0, 5)))
    with scopes_disabled():
        MonthlyTally.objects.bulk_create(rows)
        return list(MonthlyTally.objects.filter(district=m3.district))


def expected_r13(procedures, tallies, offices, start, end):
    """Plain Python over the rows: {(measure, kind): n} and the durations per kind."""
    counts, days = {}, {}

    def add(measure, kind, n=1):
        for key in (kind, "total"):
            counts[(measure, key)] = counts.get((measure, key), 0) + n

    for p in procedures:
        if p.office_id not in offices:
            continue
        if start <= p.received_on <= end:
            add("received", p.kind)
        if p.decided_on and start <= p.decided_on <= end:
            add("completed", p.kind)
            add(p.outcome if p.outcome != "withdrawn" else "withdrawn", p.kind)
            add("by_kim", p.kind, int(p.by_kim_staff))
            for key in (p.kind, "total"):
                days.setdefault(key, []).append((p.decided_on - p.received_on).days)
        if p.received_on <= end and (p.decided_on is None or p.decided_on > end):
            add("open", p.kind)
            add(age_band(p.received_on, end), p.kind)
    for t in tallies:
        if t.office_id not in offices:
            continue
        if start <= t.month <= end:
            add("received", t.kind, t.received)
            add("completed", t.kind, t.granted + t.refused + t.withdrawn)
            add("granted", t.kind, t.granted)
            add("refused", t.kind, t.refused)
            add("withdrawn", t.kind, t.withdrawn)
            add("by_kim", t.kind, t.by_kim_staff)
        if t.month == date(end.year, end.month, 1):
            for key, _lowest, _label in AGE_BANDS:
                add(key, t.kind, getattr(t, key))
                add("open", t.kind, getattr(t, key))
    return counts, days


COUNTED = ("received", "completed", "granted", "refused", "withdrawn", "by_kim", "open",
           *(key for key, _lowest, _label in AGE_BANDS))


def r13(user, year=YEAR):
    with scope(district=user.district_id):
        table = build_table(user, "R13", ReportParams(Period.of("year", year), date(year, 12, 31)))
    return {row.key: row for row in table.rows}, table


def test_r13_for_module_3_counts_its_own_office_exactly(m3):
    rng = random.Random(13)
    procedures = random_procedures(m3, rng, 300)
    tallies = random_tallies(m3, rng)
    for user, offices in ((m3.abh, {m3.office.pk}), (m3.other_office_m3, {m3.other_office.pk})):
        expected, days = expected_r13(procedures, tallies, offices, date(YEAR, 1, 1), date(YEAR, 12, 31))
        rows, table = r13(user)
        assert not table.suppressed_for_reader
        for key in ["total", *ProcedureKind.values]:
            for measure in COUNTED:
                assert rows[key].values[f"{measure}@0"] == expected.get((measure, key), 0), (user, key, measure)
            durations = days.get(key, [])
            median = rows[key].values["median@0"]
            assert median == (statistics.median(durations) if durations else None)
            if durations:
                ordered = sorted(durations)
                assert rows[key].values["p90@0"] == ordered[-(-9 * len(ordered) // 10) - 1]


def test_r13_for_coordination_is_the_district_with_small_counts_hidden(m3):
    rng = random.Random(7)
    procedures = random_procedures(m3, rng, 250)
    tallies = random_tallies(m3, rng)
    expected, days = expected_r13(procedures, tallies, {m3.office.pk, m3.other_office.pk},
                                  date(YEAR, 1, 1), date(YEAR, 12, 31))
    rows, table = r13(m3.coordination)
    assert table.suppressed_for_reader and table.k == 5
    shown = 0
    for key in ["total", *ProcedureKind.values]:
        for measure in COUNTED:
            cell, true = f"{measure}@0", expected.get((measure, key), 0)
            if cell in rows[key].below_k:
                assert true < table.k
            elif cell in rows[key].suppressed:
                assert true >= table.k
            else:
                assert rows[key].values[cell] == true and true >= table.k
                shown += 1
        if len(days.get(key, [])) < table.k:
            assert rows[key].values["median@0"] is None
    assert shown > 10, "the generated data should leave most counts visible"


def test_procedures_and_tallies_are_counted_the_same(m3):
    """The same month once as five single procedures (abh's office), once as monthly figures
    (the other office): R13 gives both offices' staff the same counts."""
    received = [date(YEAR, 4, day) for day in (2, 3, 9, 15, 28)]
    with scopes_disabled():
        for index, day in enumerate(received):
            decided = index < 3
            Procedure.objects.create(district=m3.district, office=m3.office, kind=ProcedureKind.RESIDENCE_25A,
                                     received_on=day, decided_on=date(YEAR, 4, 29) if decided else None,
                                     outcome=[Outcome.GRANTED, Outcome.GRANTED, Outcome.REFUSED][index] if decided else "",
                                     by_kim_staff=index == 0)
        MonthlyTally.objects.create(district=m3.district, office=m3.other_office, month=date(YEAR, 4, 1),
                                    kind=ProcedureKind.RESIDENCE_25A, received=5, granted=2, refused=1,
                                    by_kim_staff=1, open_under_3=2)
    period = ReportParams(Period.of("month", YEAR, 4), date(YEAR, 4, 30))
    tables = []
    for user in (m3.abh, m3.other_office_m3):
        with scope(district=m3.district.pk):
            table = build_table(user, "R13", period)
        tables.append({m: next(r for r in table.rows if r.key == ProcedureKind.RESIDENCE_25A).values[f"{m}@0"]
                       for m in COUNTED})
    assert tables[0] == tables[1]
    assert tables[0]["completed"] == 3 and tables[0]["open_under_3"] == 2


@pytest.mark.parametrize("persona", ["case_manager", "admin"])
def test_r13_is_refused_to_roles_without_the_permission(client, m3, persona):
    user = personas(m3)[persona]
    assert "R13" not in [report.id for report in registered_reports(user)]
    with scope(district=user.district_id), pytest.raises(ParamError):
        build_table(user, "R13", ReportParams(Period.of("year", YEAR), date(YEAR, 12, 31)))
    assert Api(user).get("reports/R13/", year=str(YEAR)).status_code == 400
    assert "R13" not in Api(user).get("reports/").content.decode()
    client.force_login(user)
    assert client.get(reverse("reports:report", args=["R13"]), {"year": str(YEAR)}).status_code in (403, 404, 422)
    # Last: the command closes the database connection when it ends (PostgreSQL).
    code, text = ask_command_line(user, "R13", {"year": str(YEAR)})
    assert code != 0 and "steht Ihrer Rolle nicht offen" in text


def test_r13_reaches_its_readers_by_api_and_command_line(m3):
    for user in (m3.abh, m3.coordination, m3.steering):
        assert "R13" in [report.id for report in registered_reports(user)]
        assert Api(user).get("reports/R13/", year=str(YEAR)).status_code == 200
    assert ask_command_line(m3.coordination, "R13", {"year": str(YEAR), "format": "json"})[0] == 0


def test_module_3_may_ask_its_own_office_for_a_month_but_coordination_may_not(m3):
    month = ReportParams(Period.of("month", YEAR, 3), date(YEAR, 3, 31))
    with scope(district=m3.district.pk):
        build_table(m3.abh, "R13", month)
        with pytest.raises(ParamError):
            build_table(m3.coordination, "R13", month)


# ---------------------------------------------------------------- the §104c clock

def test_the_warning_steps_are_6_3_and_1_month():
    expires = date(2026, 8, 15)
    assert warning_step(expires, date(2026, 2, 14)) is None
    assert warning_step(expires, date(2026, 2, 15)) == 6
    assert warning_step(expires, date(2026, 5, 14)) == 6
    assert warning_step(expires, date(2026, 5, 15)) == 3
    assert warning_step(expires, date(2026, 7, 15)) == 1
    assert warning_step(expires, date(2026, 8, 15)) == 1
    assert warning_step(expires, date(2026, 8, 16)) == 0


def give_title(world, days_left, status=Participant.ResidenceStatus.PERMIT_104C):
    today = date.today()
    expires = today + timedelta(days=days_left)
    with scopes_disabled():
        world.participant.residence_status = status
        world.participant.save()
        world.case.title_104c_expires_on = expires
        world.case.title_104c_issued_on = add_months(expires, -18)
        world.case.save()
        category = GoalCategory.objects.get(district=world.district, key="aufenthalt-25ab")
        if not Goal.objects.filter(case=world.case, category=category).exists():
            GoalFactory(case=world.case, category=category, text="Sprachnachweis A2 für §25b")
    return expires


@pytest.mark.parametrize("days_left, months", [(170, 6), (80, 3), (20, 1), (-3, 0), (200, None)])
def test_my_cases_and_the_case_page_warn_before_the_title_runs_out(client, world, days_left, months):
    expires = give_title(world, days_left)
    client.force_login(world.insider)
    for url in (reverse("casework:my-cases"), reverse("casework:case", args=[world.case.pk])):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
        if months is None:
            assert "kim-title-104c" not in page
            continue
        assert "kim-title-104c" in page and expires.strftime("%d.%m.%Y") in page
        assert "Sprachnachweis A2 für §25b" in page and "offen" in page
        if months == 0:
            assert "ist am" in page and "abgelaufen" in page
        elif months == 1:
            assert "innerhalb eines Monats" in page
        else:
            assert f"innerhalb von {months} Monaten" in page


def test_no_warning_once_the_status_has_changed_or_for_another_case_manager(client, world):
    give_title(world, 20, status=Participant.ResidenceStatus.PERMIT_25AB)
    with scope(district=world.district.pk):
        assert title_warning(Case.objects.get(pk=world.case.pk)) is None
    give_title(world, 20)
    client.force_login(world.other_provider_cm)
    assert "kim-title-104c" not in client.get(reverse("casework:my-cases")).content.decode()


def test_the_case_form_sets_the_expiry_18_months_after_issue_and_refuses_more(client, world):
    with scopes_disabled():
        world.participant.residence_status = Participant.ResidenceStatus.PERMIT_104C
        world.participant.save()
        case = world.case
    client.force_login(world.insider)
    data = {"case_manager": world.insider.pk, "municipality": case.municipality_id,
            "target_group": case.target_group_id, "referral_source": case.referral_source_id,
            "opened_on": case.opened_on.isoformat(), "title_104c_issued_on": "2025-03-10"}
    response = client.post(reverse("casework:case-edit", args=[case.pk]), data)
    assert response.status_code == 302
    with scopes_disabled():
        case.refresh_from_db()
    assert case.title_104c_expires_on == date(2026, 9, 10)
    response = client.post(reverse("casework:case-edit", args=[case.pk]),
                           {**data, "title_104c_expires_on": "2026-09-11"}, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422 and "höchstens 18 Monate" in response.content.decode()
    response = client.post(reverse("casework:case-edit", args=[case.pk]),
                           {**data, "title_104c_issued_on": "2022-06-01"}, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422 and "31.12.2022" in response.content.decode()
    with scopes_disabled():
        case.refresh_from_db()
    assert case.title_104c_issued_on == date(2025, 3, 10) and case.title_104c_expires_on == date(2026, 9, 10)


# ---------------------------------------------------------------- the pipeline

def test_the_pipeline_counts_titles_and_transitions_with_small_counts_hidden(client, m3):
    today = date.today()
    soon = add_months(today.replace(day=1), 2)
    later = add_months(today.replace(day=1), 4)
    with scopes_disabled():
        for index in range(7):  # 6 people expire in `soon` (one with two cases), 2 in `later`
            person = ParticipantFactory(responsible=m3.insider, residence_status=Participant.ResidenceStatus.PERMIT_104C)
            ConsentFactory(participant=person)
            month = soon if index < 6 else later
            for _ in range(2 if index == 0 else 1):
                CaseFactory(participant=person, title_104c_issued_on=add_months(month, -18) + timedelta(days=index),
                            title_104c_expires_on=month + timedelta(days=index))
        later_person = ParticipantFactory(responsible=m3.insider)
        CaseFactory(participant=later_person, title_104c_issued_on=add_months(later, -18), title_104c_expires_on=later)
        for index in range(5):
            Procedure.objects.create(district=m3.district, office=m3.office if index % 2 else m3.other_office,
                                     kind=ProcedureKind.RESIDENCE_25B, from_104c=True,
                                     received_on=today.replace(day=1), decided_on=None)
    with scope(district=m3.district.pk):
        figures = pipeline(m3.coordination, today)
    by_month = {row["month"]: row["cells"] for row in figures["rows"]}
    assert by_month[soon][0].value == 6  # one per person
    assert by_month[later][0].hidden and by_month[later][0].below_k  # 2: "< 5"
    assert by_month[today.replace(day=1)][1].value == 5
    # The total may show: the other months' "< 5" (zero included) keep the small one from being worked out.
    assert figures["total"]["cells"][0].value in (None, 8)
    client.force_login(m3.abh)
    page = client.get(reverse("residence:pipeline"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "&lt; 5" in page and m3.participant.last_name not in page


def test_offices_are_kept_by_the_administrator_with_module_3_staff_only(client, m3):
    client.force_login(m3.district_admin)
    response = client.post(reverse("residence:office-new"), {"name": "ABH Troisdorf", "kind": "abh",
                                                             "staff": [m3.insider.pk]}, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422
    # A second foreigners' office of the district is a town's own, a partner of releases of its own.
    response = client.post(reverse("residence:office-new"), {"name": "ABH Troisdorf", "kind": "abh",
                                                             "staff": [m3.abh.pk], "active": "on"},
                           HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422 and "Entbindung nennt ein Amt" in response.content.decode()
    with scopes_disabled():
        troisdorf = Municipality.objects.create(district=m3.district, name="Troisdorf")
    response = client.post(reverse("residence:office-new"), {"name": "ABH Troisdorf", "kind": "abh",
                                                             "municipality": troisdorf.pk,
                                                             "staff": [m3.abh.pk], "active": "on"})
    assert response.status_code == 302
    with scopes_disabled():
        office = Office.objects.get(name="ABH Troisdorf")
        assert list(office.staff.all()) == [m3.abh] and office.release_target.key == f"abh-{troisdorf.pk}"
        assert office.release_target.label == "Ausländerbehörde Troisdorf"


def test_withdrawing_the_release_removes_the_link_of_the_offices_procedures(client, m3):
    from kim.casework import services as casework_services

    with scopes_disabled():
        consent = m3.participant.consents.get()
        consent.released_to.add(m3.office.release_target)
    client.force_login(m3.abh)
    assert client.post(reverse("residence:procedure-new"),
                       procedure_post(m3, participant_code=m3.participant.code)).status_code == 302
    with scopes_disabled():
        procedure = Procedure.objects.get(participant=m3.participant)
    with scope(district=m3.district.pk):
        casework_services.withdraw_consent(m3.participant.responsible, consent, date.today())
    with scopes_disabled():
        procedure.refresh_from_db()
        assert procedure.participant is None
        assert AuditEntry.objects.filter(object_type="residence.procedure", object_id=str(procedure.pk),
                                         action="update").exists()
    page = client.get(reverse("residence:procedures")).content.decode()
    assert m3.participant.code not in page


def test_one_procedure_per_file_reference_of_an_office(client, m3):
    client.force_login(m3.abh)
    data = procedure_post(m3, reference="AZ 2026/17")
    assert client.post(reverse("residence:procedure-new"), data).status_code == 302
    for spelling in ("az 2026/17", "AZ\u00a02026/17", "AZ  2026/17 "):
        again = client.post(reverse("residence:procedure-new"), {**data, "reference": spelling},
                            HTTP_ACCEPT_LANGUAGE="de")
        assert again.status_code == 422 and "schon ein Verfahren mit diesem Aktenzeichen" in again.content.decode()
    hyphen = procedure_post(m3, reference="V-TEST-1")
    assert client.post(reverse("residence:procedure-new"), hyphen).status_code == 302
    assert client.post(reverse("residence:procedure-new"), {**hyphen, "reference": "V\u2011TEST\u20111"}).status_code == 422
    with scopes_disabled():
        assert Procedure.objects.filter(reference__iexact="AZ 2026/17").count() == 1


def test_the_pipeline_shows_whole_years_so_that_two_months_pages_cannot_be_subtracted():
    from kim.residence.pipeline import months_shown

    assert months_shown(date(2026, 1, 5)) == months_shown(date(2026, 12, 3))
    months = months_shown(date(2026, 12, 3))
    assert months[0] == date(2025, 1, 1) and months[-1] == date(2028, 12, 1)


def test_showing_a_procedure_is_a_read_also_after_a_refused_change(client, m3):
    client.force_login(m3.abh)
    url = reverse("residence:procedure", args=[m3.procedure.pk])

    def reads():
        with scopes_disabled():
            return AuditEntry.objects.filter(object_type="residence.procedure", object_id=str(m3.procedure.pk),
                                             action="read").count()

    assert client.get(url).status_code == 200 and reads() == 1
    refused = client.post(url, procedure_post(m3, decided_on=f"{YEAR}-01-01"))  # before it was received
    assert refused.status_code == 422 and reads() == 2
    client.get(reverse("residence:procedures"))
    with scopes_disabled():
        listed = AuditEntry.objects.filter(object_type="residence.procedure", object_id="", action="read").get()
    assert m3.procedure.audit_label in listed.changes["listed"]
