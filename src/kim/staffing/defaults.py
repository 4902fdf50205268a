"""The Land's funding rates by year, as published: the statewide defaults every district starts
from (a district corrects them for its own notice of grant). Amounts per FTE per year; the
papers state administrative assistance per half position (22.500 EUR per 0,5 FTE, workplace
4.850 EUR per 0,5 FTE), which is 45.000 and 9.700 EUR per FTE."""

from decimal import Decimal

from .models import Expense, Function

SEEDS = ("Förderrichtlinie KIM, wie berichtet vom Rhein-Sieg-Kreis (Umsetzungsvorlage 2021) "
         "und vom Kreis Warendorf (Sachstandsbericht 2022)")
DIRECTIVE_2024 = "Richtlinie des Landes NRW vom 12.12.2024 (MBl. NRW 2024 Nr. 43), Modul 1"
UNCHANGED = SEEDS + "; für dieses Jahr unverändert übernommen"

CASE_MANAGEMENT_FUNCTIONS = (Function.CASE_MANAGEMENT, Function.THEMATIC, Function.CM_COORDINATION)
OFFICE_FUNCTIONS = (Function.FOREIGNERS_OFFICE, Function.NATURALISATION_OFFICE)
LUMP_SUM_AMOUNTS = {Expense.EVENTS: Decimal(10000), Expense.MEASURES: Decimal(30000),
                    Expense.CONSULTING: Decimal(9000)}


def _year(year: int):
    """[(expense, function, amount, source)] of one year."""
    directive = year >= 2025
    module1 = DIRECTIVE_2024 if directive else SEEDS
    others = UNCHANGED if directive else SEEDS
    rows = [
        (Expense.PERSONNEL, Function.COORDINATION, Decimal(57000 if directive else 55000), module1),
        (Expense.WORKPLACE, Function.COORDINATION, Decimal(5700 if directive else 9700), module1),
        (Expense.PERSONNEL, Function.ADMINISTRATION, Decimal(45000), module1),
        (Expense.WORKPLACE, Function.ADMINISTRATION, Decimal(5700 if directive else 9700), module1),
    ]
    rows += [(Expense.PERSONNEL, function, Decimal(55000), others) for function in CASE_MANAGEMENT_FUNCTIONS]
    rows += [(Expense.PERSONNEL, function, Decimal(50000), others) for function in OFFICE_FUNCTIONS]
    rows += [(expense, "", amount, others) for expense, amount in LUMP_SUM_AMOUNTS.items()]
    return rows


YEARS = range(2020, 2027)
STATEWIDE = {year: _year(year) for year in YEARS}


def load_statewide(rate_model):
    """Store the statewide defaults that are missing (migration staffing/0002; `rate_model` is
    the migration's historical model or kim.staffing.models.Rate)."""
    rate_model.objects.bulk_create(
        rate_model(district=None, year=year, expense=expense, function=function, amount=amount, source=source)
        for year, rows in STATEWIDE.items() for expense, function, amount, source in rows
        if not rate_model.objects.filter(district=None, year=year, expense=expense, function=function).exists()
    )
