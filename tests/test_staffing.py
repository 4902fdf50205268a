"""Staffing and funding: positions, fillings and vacancies; R8, R9, R10 from them; rates by year."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import scope

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
            "function": Function.CASE_MANAGEMENT, "fte_approved": Decimal("1.00"), "approved_from": date(2025, 1, 1)})
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
