"""Staffing and funding: positions, fillings and vacancies; R8, R9, R10 from them; rates by year."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from django_scopes import scope, scopes_disabled

from kim.reports.framework import ReportParams, build_table
from kim.reports.periods import Period
from kim.staffing import figures, services
from kim.staffing.models import Function, Position

from .staffing_data import WARENDORF_2022, give_post, warendorf_positions


def cells(table, measure):
    return {row.key: row.values.get(f"{measure}@0") for row in table.rows}


def test_warendorf_2022_comes_out_at_1_222_800_eur(world):
    warendorf_positions(world.district)
    with scope(district=world.district.pk):
        grant = figures.grant(world.district, 2022)
        table = build_table(world.coordination, "R9", ReportParams(Period.of("year", 2022), date(2022, 12, 31)))
    granted = cells(table, "granted")
    assert granted["total"] == Decimal("1222800.00") == grant.total
    assert granted["m:1"] == Decimal("253800.00")
    assert granted["m:2"] == Decimal("770000.00")
    assert granted["m:3"] == Decimal("150000.00")
    assert granted["lump"] == Decimal("49000.00")
    assert cells(table, "fte")["m:1"] == Decimal("4.0")


def test_warendorf_staffing_table(world):
    warendorf_positions(world.district)
    with scope(district=world.district.pk):
        table = build_table(world.steering, "R8", ReportParams(Period.of("year", 2022), date(2022, 12, 31)))
    approved, filled, vacant = cells(table, "approved"), cells(table, "filled"), cells(table, "vacant")
    assert (approved["total"], filled["total"], vacant["total"]) == (Decimal("21.00"), Decimal("13.87"), Decimal("2.88"))
    for function, a, f, v in WARENDORF_2022:
        key = f"f:{function.value}"
        assert (approved[key], filled[key], vacant[key]) == (Decimal(a), Decimal(f), Decimal(v))


def test_r10_takes_the_fte_from_the_staffing_history(world):
    give_post(world.insider, "0.50", start=date(2024, 1, 1), end=date(2024, 6, 30))
    day = date(2024, 6, 30)
    with scope(district=world.district.pk):
        table = build_table(world.lead, "R10", ReportParams(Period.of("year", 2024), day))
        after = build_table(world.lead, "R10", ReportParams(Period.of("year", 2024), date(2024, 12, 31)))
    assert cells(table, "fte")[f"u:{world.insider.pk}"] == Decimal("0.50")
    assert cells(after, "fte")[f"u:{world.insider.pk}"] == 0


def test_a_position_is_never_filled_beyond_its_approval(world):
    with scope(district=world.district.pk):
        position = services.save_position(world.coordination, {
            "function": Function.CASE_MANAGEMENT, "employer": world.provider, "fte_approved": Decimal("1.00"),
            "approved_from": date(2025, 1, 1)})
        services.save_filling(world.coordination, position, {"person": world.insider, "fte": Decimal("0.75"),
                                                              "starts_on": date(2025, 1, 1)})
        with pytest.raises(ValidationError) as refused:
            services.save_vacancy(world.coordination, position, {"fte": Decimal("0.50"), "starts_on": date(2025, 3, 1)})
        assert "mehr als" in str(refused.value) or "more than" in str(refused.value)
        assert position.vacancies.count() == 0


def test_pages_answer_by_role(client, world):
    warendorf_positions(world.district)
    for persona, status in (("coordination", 200), ("steering", 200), ("district_admin", 200),
                            ("insider", 403), ("lead", 403)):
        client.force_login(getattr(world, persona) if persona != "insider" else world.insider)
        assert client.get(reverse("staffing:index")).status_code == status, persona
        assert client.get(reverse("staffing:funding") + "?year=2022").status_code == status, persona
    with scope(district=world.district.pk):
        position = Position.objects.first()
    client.force_login(world.steering)
    assert client.get(reverse("staffing:position-edit", args=[position.pk])).status_code == 403
    client.force_login(world.coordination)
    assert client.get(reverse("staffing:position-edit", args=[position.pk])).status_code == 200
    page = client.get(reverse("staffing:funding") + "?year=2022").content.decode()
    assert "1.222.800,00" in page


# ---------------------------------------------------------------- against an independent count

def random_staffing(world, rng, n=25):
    """Positions across functions, towns and employers with fillings and vacancies on random
    days, each within its approval and never beyond it."""
    from kim.core.models import Municipality
    from kim.staffing.models import Filling, Vacancy

    with scopes_disabled():
        towns = [None, *[Municipality.objects.create(district=world.district, name=f"Ort {i}") for i in range(3)]]
        employers = [None, world.provider, world.other_provider]
        made = []
        for _ in range(n):
            start = date(2021, 1, 1) + timedelta(days=rng.randint(0, 900))
            end = rng.choice([None, start + timedelta(days=rng.randint(30, 900))])
            approved = Decimal(rng.choice(["0.50", "0.75", "1.00", "2.00"]))
            position = Position.objects.create(
                district=world.district, function=rng.choice(list(Function)), municipality=rng.choice(towns),
                employer=rng.choice(employers), fte_approved=approved, approved_from=start, approved_until=end,
                passed_on_to=rng.choice([None, world.other_provider]))
            filled = (approved * Decimal(rng.choice(["0", "0.5", "1"]))).quantize(Decimal("0.01"))
            last = end or date(2024, 12, 31)
            if filled:
                f_start = start + timedelta(days=rng.randint(0, 200))
                if f_start <= last:
                    Filling.objects.create(district=world.district, position=position, fte=filled, starts_on=f_start,
                                           ends_on=rng.choice([None, end]) if end else None, holder="N. N.")
            if approved - filled and rng.random() < 0.6:
                Vacancy.objects.create(district=world.district, position=position, fte=approved - filled,
                                       starts_on=start, ends_on=None if end is None else end)
            made.append(position)
        return made


def runs(start, end, day):
    return start <= day and (end is None or end >= day)


def test_r8_equals_an_independent_count(world):
    import random

    from kim.staffing.models import Filling, Vacancy

    random_staffing(world, random.Random(3))
    for day in (date(2022, 6, 30), date(2023, 12, 31), date(2024, 2, 29)):
        with scope(district=world.district.pk):
            table = build_table(world.coordination, "R8", ReportParams(Period.of("year", day.year), day))
            positions = [p for p in Position.objects.all() if runs(p.approved_from, p.approved_until, day)]
            fillings = [f for f in Filling.objects.all() if runs(f.starts_on, f.ends_on, day)]
            vacancies = [v for v in Vacancy.objects.all() if runs(v.starts_on, v.ends_on, day)]
        approved, filled, vacant = cells(table, "approved"), cells(table, "filled"), cells(table, "vacant")
        ids = {p.pk for p in positions}
        for function in Function:
            mine = {p.pk for p in positions if p.function == function}
            assert approved[f"f:{function.value}"] == sum((p.fte_approved for p in positions if p.pk in mine), Decimal(0))
            assert filled[f"f:{function.value}"] == sum((f.fte for f in fillings if f.position_id in mine), Decimal(0))
            assert vacant[f"f:{function.value}"] == sum((v.fte for v in vacancies if v.position_id in mine), Decimal(0))
        for function in Function:
            holders = {("account", f.person_id) if f.person_id else ("name", f.holder.casefold()) if f.holder else None
                       for f in fillings if f.position.function == function and f.position_id in ids}
            expected = None if None in holders else len(holders)
            assert cells(table, "people")[f"f:{function.value}"] == expected
        for position in positions:
            key = f"e:{position.employer_id or 'none'}"
            expected = sum((p.fte_approved for p in positions if p.employer_id == position.employer_id), Decimal(0))
            assert approved[key] == expected
            key = f"k:{position.municipality_id or 'none'}"
            expected = sum((f.fte for f in fillings if f.position_id in ids
                            and f.position.municipality_id == position.municipality_id), Decimal(0))
            assert filled[key] == expected


def test_r9_equals_a_count_day_by_day(world):
    """The grant counted day by day: each day a position is approved earns rate / 12 / days of
    the month; spent likewise for filled FTE, at most the approved FTE within each month."""
    import calendar
    import random

    from kim.staffing.defaults import STATEWIDE
    from kim.staffing.models import Filling

    random_staffing(world, random.Random(8))
    year = 2023
    per_fte = {}
    for _expense, function, amount, _source in STATEWIDE[year]:
        if function:
            per_fte[function] = per_fte.get(function, Decimal(0)) + amount
    with scope(district=world.district.pk):
        table = build_table(world.steering, "R9", ReportParams(Period.of("year", year), date(year, 12, 31)))
        positions = list(Position.objects.all())
        fillings = list(Filling.objects.all())
    expected_granted, expected_spent = Decimal(0), Decimal(0)
    for position in positions:
        granted = spent = Decimal(0)
        for month in range(1, 13):
            days = calendar.monthrange(year, month)[1]
            approved_days = filled_fte_days = Decimal(0)
            for day in (date(year, month, d) for d in range(1, days + 1)):
                if runs(position.approved_from, position.approved_until, day):
                    approved_days += position.fte_approved
                filled_fte_days += sum((f.fte for f in fillings if f.position_id == position.pk
                                        and runs(f.starts_on, f.ends_on, day)), Decimal(0))
            rate = per_fte[position.function] / 12 / days
            granted += approved_days * rate
            spent += min(approved_days, filled_fte_days) * rate
        expected_granted += granted.quantize(Decimal("0.01"))
        expected_spent += spent.quantize(Decimal("0.01"))
    lump = Decimal(49000) if any(p.function in (Function.COORDINATION, Function.ADMINISTRATION)
                                 and p.approved_from <= date(year, 12, 31)
                                 and (p.approved_until is None or p.approved_until >= date(year, 1, 1))
                                 for p in positions) else Decimal(0)
    assert abs(cells(table, "granted")["total"] - expected_granted - lump) <= Decimal("0.01") * len(positions)
    assert abs(cells(table, "spent")["total"] - expected_spent) <= Decimal("0.01") * len(positions)


def test_part_years_are_pro_rata_and_a_districts_rate_replaces_the_default(world):
    with scope(district=world.district.pk):
        services.save_position(world.coordination, {"function": Function.CASE_MANAGEMENT,
                                                    "fte_approved": Decimal("1.00"), "approved_from": date(2020, 8, 1)})
        assert figures.grant(world.district, 2020).total == Decimal("22916.67")  # 55.000 × 5/12
        services.save_rate(world.coordination, {"year": 2020, "expense": "personnel", "function": Function.CASE_MANAGEMENT,
                                                "amount": Decimal("60000"), "source": "Zuwendungsbescheid vom 03.02.2020"})
        assert figures.grant(world.district, 2020).total == Decimal("25000.00")
        # Another district keeps the statewide default.
    with scope(district=world.other_district.pk):
        assert figures.rates_for(world.other_district, 2020)[("personnel", Function.CASE_MANAGEMENT)][0] == 55000


@pytest.mark.django_db
def test_the_statewide_defaults_are_the_published_rates():
    from kim.staffing.models import Rate

    def rate(year, expense, function=""):
        return Rate.objects.get(district=None, year=year, expense=expense, function=function).amount

    for year in range(2020, 2025):
        assert rate(year, "personnel", Function.COORDINATION) == 55000
        assert rate(year, "workplace", Function.COORDINATION) == 9700
        assert rate(year, "personnel", Function.ADMINISTRATION) / 2 == 22500  # per half position
        assert rate(year, "workplace", Function.ADMINISTRATION) / 2 == 4850
    for year in (2025, 2026):  # MBl. NRW 2024 Nr. 43
        assert rate(year, "personnel", Function.COORDINATION) == 57000
        assert rate(year, "workplace", Function.COORDINATION) == 5700
        assert "MBl. NRW 2024 Nr. 43" in Rate.objects.get(district=None, year=year, expense="personnel",
                                                         function=Function.COORDINATION).source
    for year in range(2020, 2027):
        assert rate(year, "personnel", Function.FOREIGNERS_OFFICE) * Decimal("0.75") == 37500  # seed 004
        assert (rate(year, "events"), rate(year, "measures"), rate(year, "consulting")) == (10000, 30000, 9000)


def test_funds_passed_on_are_listed_by_recipient(world):
    with scope(district=world.district.pk):
        services.save_position(world.coordination, {
            "function": Function.CASE_MANAGEMENT, "employer": world.provider, "passed_on_to": world.provider,
            "fte_approved": Decimal("0.50"), "approved_from": date(2023, 1, 1)})
        table = build_table(world.coordination, "R9", ReportParams(Period.of("year", 2023), date(2023, 12, 31)))
    assert cells(table, "granted")[f"w:{world.provider.pk}"] == Decimal("27500.00")


# ---------------------------------------------------------------- who sees and changes what

@pytest.fixture
def post(world):
    warendorf_positions(world.district)
    with scope(district=world.district.pk):
        position = Position.objects.get(function=Function.CASE_MANAGEMENT)
        position.employer = world.provider  # the insider's employer
        position.save()
        services.save_filling(world.coordination, position, {"person": world.insider, "fte": Decimal("1.00"),
                                                              "starts_on": date(2023, 1, 1)})
    return position


def test_names_of_holders_only_for_those_who_manage_staff(client, world, post):
    name = world.insider.get_full_name()
    for user, sees in ((world.coordination, True), (world.district_admin, True), (world.steering, False)):
        client.force_login(user)
        page = client.get(reverse("staffing:position", args=[post.pk])).content.decode()
        assert (name in page) is sees, user
        with scope(district=world.district.pk):
            table = build_table(user, "R8", ReportParams(Period.of("year", 2023), date(2023, 12, 31)))
        assert any(name in row.label for row in table.rows) is sees


def test_every_staffing_page_by_persona(client, world, post):
    with scope(district=world.district.pk):
        filling = post.fillings.first()
    reads = [reverse("staffing:index"), reverse("staffing:position", args=[post.pk]), reverse("staffing:funding"),
             reverse("staffing:rates")]
    writes = [reverse("staffing:position-new"), reverse("staffing:position-edit", args=[post.pk]),
              reverse("staffing:part-new", args=[post.pk, "besetzung"]),
              reverse("staffing:part-edit", args=["besetzung", filling.pk]), reverse("staffing:rate-new")]
    expected = {"coordination": (200, 200), "steering": (200, 403), "district_admin": (200, 403),
                "insider": (403, 403), "lead": (403, 403), "other_provider": (403, 403), "other_district": (403, 403)}
    for persona, (read, write) in expected.items():
        client.force_login(world.personas()[persona])
        for url in reads:
            assert client.get(url).status_code == read, (persona, url)
        for url in writes:
            assert client.get(url).status_code == write, (persona, url)
            assert client.post(url, {}).status_code == (422 if write == 200 else 403), (persona, url)
        assert client.post(reverse("staffing:part-delete", args=["besetzung", filling.pk])).status_code in (
            (302,) if write == 200 else (403,))
        if write == 200:
            break  # the filling is gone
    with scopes_disabled():
        from kim.staffing.models import Filling

        assert not Filling.objects.filter(pk=filling.pk).exists()


def test_another_districts_coordination_finds_no_position(client, world, post):
    from .factories import UserFactory

    other = UserFactory(district=world.other_district, role="coordination")
    client.force_login(other)
    assert client.get(reverse("staffing:position", args=[post.pk])).status_code == 404
    assert client.post(reverse("staffing:position-edit", args=[post.pk]), {}).status_code == 404
    assert client.get(reverse("staffing:funding") + "?year=2022").content.decode().count("1.222.800") == 0


def test_a_case_manager_cannot_read_staffing_through_the_api_or_the_command_line(world, post):
    from .test_report_questions import ask_api, ask_command_line

    for report in ("R8", "R9"):
        status, _text = ask_api(world.insider, report, {"year": "2022", "reference_date": "2022-12-31"})
        assert status in (400, 403)
    status, text = ask_api(world.district_admin, "R9", {"year": "2022"})
    assert status == 200 and "1222800" in text.replace(".", "").replace(",", "")
    # Last: the command closes the test's database connection when it ends.
    code, err = ask_command_line(world.lead, "R9", {"year": "2022"})
    assert code != 0 and "Ihrer Rolle nicht offen" in err


# ---------------------------------------------------------------- bad input changes nothing

def post_form(client, url, data):
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="de")
    return response.status_code, response.content.decode()


@pytest.mark.parametrize("data, words", [
    ({"function": "case_management", "fte_approved": "0", "approved_from": "2024-01-01"}, "Mindestens 0,01 VZÄ"),
    ({"function": "case_management", "fte_approved": "1", "approved_from": "2024-05-01",
      "approved_until": "2024-01-01"}, "nicht vor ihrem Beginn"),
    ({"function": "nonsense", "fte_approved": "1", "approved_from": "2024-01-01"}, "gültige Auswahl"),
    ({"function": "case_management", "fte_approved": "eins", "approved_from": "2024-01-01"}, "Zahl"),
])
def test_a_bad_position_is_refused_and_nothing_stored(client, world, data, words):
    client.force_login(world.coordination)
    status, text = post_form(client, reverse("staffing:position-new"), data)
    assert status == 422 and words in text
    with scopes_disabled():
        assert not Position.objects.exists()


def test_a_bad_filling_is_refused_and_nothing_stored(client, world, post):
    from .factories import UserFactory

    client.force_login(world.coordination)
    url = reverse("staffing:part-new", args=[post.pk, "besetzung"])
    foreigner = world.other_district_cm
    lead = UserFactory(district=world.district, provider=world.provider, role="provider_lead")
    cases = [
        ({"holder": "Frau X", "fte": "7.00", "starts_on": "2023-01-01"}, "mehr als die bewilligten"),
        ({"person": world.colleague.pk, "fte": "1.50", "starts_on": "2023-01-01"}, "mehr als eine volle Stelle"),
        ({"person": foreigner.pk, "fte": "0.5", "starts_on": "2023-01-01"}, "gültige Auswahl"),
        ({"person": lead.pk, "fte": "0.5", "starts_on": "2023-01-01"}, "Case Manager"),
        ({"person": world.colleague.pk, "holder": "Frau X", "fte": "0.5", "starts_on": "2023-01-01"}, "nicht beides"),
        ({"holder": "Frau X", "fte": "0.5", "starts_on": "2021-12-31"}, "bewilligt"),
        ({"holder": "Frau X", "fte": "0.5", "starts_on": "2023-05-01", "ends_on": "2023-01-01"}, "nicht vor ihrem Beginn"),
    ]
    with scopes_disabled():
        before = post.fillings.count()
    for data, words in cases:
        status, text = post_form(client, url, data)
        assert status == 422 and words in text, (data, text[-3000:])
    with scopes_disabled():
        assert post.fillings.count() == before


def test_a_second_rate_for_the_same_year_is_refused(client, world):
    client.force_login(world.coordination)
    data = {"year": "2024", "expense": "events", "function": "", "amount": "8000", "source": "Bescheid"}
    assert client.post(reverse("staffing:rate-new"), data).status_code == 302
    status, text = post_form(client, reverse("staffing:rate-new"), data)
    assert status == 422 and "schon" in text
    status, text = post_form(client, reverse("staffing:rate-new"), {**data, "year": "2023", "function": "coordination"})
    assert status == 422 and "Pauschale nennt keine" in text
    from kim.staffing.models import Rate

    default = Rate.objects.filter(district=None).first()
    assert client.get(reverse("staffing:rate-edit", args=[default.pk])).status_code == 404
    assert client.post(reverse("staffing:rate-delete", args=[default.pk])).status_code == 404
    assert Rate.objects.filter(district=world.district).count() == 1


def test_every_change_of_staffing_is_audited(world, post):
    from kim.core.models import AuditEntry

    with scopes_disabled():
        types = set(AuditEntry.objects.filter(actor=world.coordination).values_list("object_type", "action"))
    assert ("staffing.filling", "create") in types
    with scope(district=world.district.pk):
        services.delete_part(world.coordination, post.fillings.first())
    with scopes_disabled():
        assert AuditEntry.objects.filter(object_type="staffing.filling", action="delete").exists()


def test_my_cases_shows_the_caseload_from_the_post_and_the_time_split(client, world):
    from kim.casework.models import Appointment

    from .factories import AppointmentFactory

    client.force_login(world.insider)
    page = client.get(reverse("casework:my-cases"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "keine Case-Management-Stelle erfasst" in page
    give_post(world.insider, "0.50")
    AppointmentFactory(case=world.case, duration_minutes=180, date=date.today())
    AppointmentFactory(case=world.case, kind=Appointment.Kind.OTHER, case_manager=world.insider, other_kind="working_group",
                       duration_minutes=60, date=date.today())
    with scopes_disabled():
        mine = Appointment.objects.filter(case_manager=world.insider, date__year=date.today().year)
        counselling = sum(a.duration_minutes for a in mine if a.kind == "counselling")
        other = sum(a.duration_minutes for a in mine if a.kind == "other")
    page = client.get(reverse("casework:my-cases"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "0,50 VZÄ" in page or "0.50 VZÄ" in page
    share = round(100 * counselling / (counselling + other))
    assert f"{share} % / {100 - share} %" in page


@pytest.mark.django_db(transaction=True)
def test_the_fte_on_an_account_moves_to_a_filled_position():
    """Installations that kept the FTE on the account keep their R10 figures: the migration
    gives each case manager a case-management position at the employer, filled by them."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("core", "0009_unique_messages"), ("staffing", "0002_statewide_rates")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    district = old.get_model("core", "District").objects.create(name="Kreis Alt", slug="alt")
    provider = old.get_model("core", "Provider").objects.create(district=district, name="AWO", slug="awo")
    user = old.get_model("core", "User").objects.create(username="alt-cm", district=district, provider=provider,
                                                        role="case_manager", fte=Decimal("0.75"))
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    from kim.staffing.models import Filling

    with scopes_disabled():
        filling = Filling.objects.select_related("position").get(person_id=user.pk)
    assert filling.fte == Decimal("0.75") and filling.position.employer_id == provider.pk
    assert filling.position.function == Function.CASE_MANAGEMENT and filling.ends_on is None


def test_r10_per_town_takes_the_fte_of_the_posts_in_that_town(world):
    from kim.core.models import Municipality

    from .factories import CaseFactory, ParticipantFactory

    with scopes_disabled():
        north, south = (Municipality.objects.create(district=world.district, name=n) for n in ("Nord", "Süd"))
        for town, fte in ((north, "0.50"), (south, "0.25")):
            position = Position.objects.create(district=world.district, function=Function.CASE_MANAGEMENT,
                                               municipality=town, employer=world.provider, fte_approved=Decimal(fte),
                                               approved_from=date(2024, 1, 1))
            from kim.staffing.models import Filling

            Filling.objects.create(district=world.district, position=position, person=world.colleague,
                                   fte=Decimal(fte), starts_on=date(2024, 1, 1))
        for town, n in ((north, 3), (south, 2)):
            for _ in range(n):
                person = ParticipantFactory(responsible=world.colleague, municipality=town)
                CaseFactory(participant=person, case_manager=world.colleague, opened_on=date(2024, 2, 1))
    day = date(2024, 6, 30)
    with scope(district=world.district.pk):
        for town, fte, n in ((north, Decimal("0.50"), 3), (south, Decimal("0.25"), 2)):
            table = build_table(world.lead, "R10", ReportParams(Period.of("year", 2024), day, municipality_id=town.pk))
            row = next(r for r in table.rows if r.key == f"u:{world.colleague.pk}")
            assert row.values["fte@0"] == fte and row.values["n@0"] == n
            assert row.values["per_fte@0"] == Decimal(n) / fte
        whole = build_table(world.lead, "R10", ReportParams(Period.of("year", 2024), day))
    assert cells(whole, "fte")[f"u:{world.colleague.pk}"] == Decimal("0.75")



def test_one_person_fills_at_most_one_full_position(world, post):
    with scope(district=world.district.pk):
        other = Position.objects.get(function=Function.COORDINATION)
        second = services.save_position(world.coordination, {
            "function": Function.CASE_MANAGEMENT, "employer": world.provider, "fte_approved": Decimal("1.00"),
            "approved_from": date(2022, 1, 1)})
        with pytest.raises(ValidationError) as refused, translation.override("de"):
            services.save_filling(world.coordination, second, {"person": world.insider, "fte": Decimal("0.25"),
                                                               "starts_on": date(2023, 6, 1)})
        assert "mehr als eine volle Stelle" in str(refused.value)
        # Before the first post began, the second may be filled.
        services.save_filling(world.coordination, second, {"person": world.insider, "fte": Decimal("0.25"),
                                                           "starts_on": date(2022, 1, 1), "ends_on": date(2022, 12, 31)})
    assert other.pk


def test_a_post_of_the_district_administration_is_held_by_its_staff(world):
    with scope(district=world.district.pk):
        position = services.save_position(world.coordination, {
            "function": Function.CASE_MANAGEMENT, "fte_approved": Decimal("1.00"), "approved_from": date(2024, 1, 1)})
        with pytest.raises(ValidationError):  # the insider works for Caritas, not the district
            services.save_filling(world.coordination, position, {"person": world.insider, "fte": Decimal("0.50"),
                                                                 "starts_on": date(2024, 1, 1)})


def test_a_committee_paper_shows_no_names_of_staff_whoever_renders_it(world, post):
    from kim.reports import services as report_services
    from kim.reports.paper import paper_tables

    with scope(district=world.district.pk):
        paper = report_services.create_paper(world.coordination, title="Stellen", year=2023,
                                             reference_date=date(2023, 12, 31), report_ids=["R8"], meeting=None,
                                             introduction="", closing="", template=None)
        tables = paper_tables(paper, world.coordination)
    labels = " ".join(row.label for row in tables[0].rows)
    assert world.insider.get_full_name() not in labels and "Nach Person" not in labels
    assert cells(tables[0], "filled")["total"] == Decimal("14.87")  # Warendorf 13,87 and the insider's 1,00


def test_people_are_counted_by_name_and_unknown_where_a_filling_names_nobody(world, post):
    with scope(district=world.district.pk):
        table = build_table(world.coordination, "R8", ReportParams(Period.of("year", 2023), date(2023, 12, 31)))
    people = cells(table, "people")
    assert people[f"f:{Function.CASE_MANAGEMENT.value}"] is None  # Warendorf's 7,62 FTE name nobody
    with scope(district=world.district.pk):
        from kim.staffing.models import Filling

        Filling.objects.filter(person__isnull=True).update(holder="Frau A")
        table = build_table(world.coordination, "R8", ReportParams(Period.of("year", 2023), date(2023, 12, 31)))
    assert cells(table, "people")[f"f:{Function.CASE_MANAGEMENT.value}"] == 2  # Frau A and the insider


def test_changing_a_posts_employer_or_function_must_suit_who_fills_it(world, post):
    with scope(district=world.district.pk), translation.override("de"):
        for change in ({"employer": world.other_provider}, {"function": Function.FOREIGNERS_OFFICE}):
            with pytest.raises(ValidationError):
                services.save_position(world.coordination, change, post)
    with scopes_disabled():
        post.refresh_from_db()
        assert post.employer_id == world.provider.pk and post.function == Function.CASE_MANAGEMENT


def test_r9_is_the_districts_grant_not_a_towns_or_providers(client, world, post):
    from kim.core.models import Municipality

    with scopes_disabled():
        town = Municipality.objects.create(district=world.district, name="Beckum")
    client.force_login(world.coordination)
    for extra in ({"provider": world.provider.pk}, {"municipality": town.pk}):
        response = client.get(reverse("reports:report", args=["R9"]), {"year": "2022", **extra},
                              HTTP_ACCEPT_LANGUAGE="de")
        assert response.status_code == 422 and "Förderung ist die des Kreises" in response.content.decode()


def test_r9_offers_no_cut_and_no_comparison_and_draws_no_chart(client, world, post):
    client.force_login(world.coordination)
    page = client.get(reverse("reports:report", args=["R9"]), {"year": "2022"}, HTTP_ACCEPT_LANGUAGE="de")
    form = page.context["form"]
    assert {"municipality", "provider", "compare"}.isdisjoint(form.fields)
    assert "Balkendiagramm" not in page.content.decode()
    refused = client.get(reverse("reports:report", args=["R9"]), {"year": "2022", "compare": "on"},
                         HTTP_ACCEPT_LANGUAGE="de")
    assert refused.status_code == 422 and "jedes Jahr einzeln" in refused.content.decode()
