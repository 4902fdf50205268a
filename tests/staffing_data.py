"""Staffing records for tests: Warendorf's 2022 table and posts for case managers."""

from datetime import date
from decimal import Decimal

from django_scopes import scopes_disabled

from kim.staffing.models import Filling, Function, Position, Vacancy

# Kreis Warendorf, Sachstandsbericht 2022 (seed 003): function → approved, filled, not yet filled.
WARENDORF_2022 = [
    (Function.COORDINATION, "3.50", "3.50", "0.00"),
    (Function.ADMINISTRATION, "0.50", "0.50", "0.00"),
    (Function.CASE_MANAGEMENT, "14.00", "7.62", "2.88"),
    (Function.FOREIGNERS_OFFICE, "1.00", "0.75", "0.00"),
    (Function.NATURALISATION_OFFICE, "2.00", "1.50", "0.00"),
]


def warendorf_positions(district, start=date(2022, 1, 1)):
    """The table as one position per function, filled and advertised from `start`."""
    with scopes_disabled():
        for function, approved, filled, vacant in WARENDORF_2022:
            position = Position.objects.create(district=district, function=function, fte_approved=Decimal(approved),
                                               approved_from=start)
            if Decimal(filled):
                Filling.objects.create(district=district, position=position, fte=Decimal(filled), starts_on=start)
            if Decimal(vacant):
                Vacancy.objects.create(district=district, position=position, fte=Decimal(vacant), starts_on=start)


def give_post(user, fte="1.00", start=date(2015, 1, 1), end=None):
    """A case-management position at the user's employer, filled by the user."""
    with scopes_disabled():
        position = Position.objects.create(district_id=user.district_id, function=Function.CASE_MANAGEMENT,
                                           employer_id=user.provider_id, fte_approved=Decimal(fte), approved_from=start)
        return Filling.objects.create(district_id=user.district_id, position=position, person=user,
                                      fte=Decimal(fte), starts_on=start, ends_on=end)
