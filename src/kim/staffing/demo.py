"""The demo district's staffing (shaped like seed 002, Kreis Mettmann): module 1 with 3,5
coordination FTE by person and an administrative half post, case management per town at the
district and at external employers (funds passed on), a cross-town post advertised and not yet
filled, thematic case management (MuKi-S), module 3 in both offices; with history (a
coordinator who left and a successor, posts filled months after approval) and one rate of the
district's own notice of grant. The rates 2020–2026 are the statewide defaults."""

from datetime import date
from decimal import Decimal

from kim.core.models import Provider, Role, User

from .models import Expense, Filling, Function, Position, Rate, Vacancy

START = date(2021, 8, 1)  # KIM's positions in the papers begin in the second half of 2021
EXTERNAL_START = date(2022, 7, 1)  # "erst Mitte 2022 die Stellen im externen Case Management"


def build_staffing(district, today, rng, municipalities, providers, case_managers) -> dict:
    positions, fillings, vacancies = [], [], []

    def post(function, fte, start=START, **values):
        position = Position(district=district, function=function, fte_approved=Decimal(fte), approved_from=start,
                            **values)
        positions.append(position)
        return position

    def fill(position, fte, start, end=None, person=None, holder=""):
        fillings.append(Filling(district=district, position=position, person=person, holder=holder,
                                fte=Decimal(fte), starts_on=start, ends_on=end))

    coordination = User.objects.filter(district=district, role=Role.COORDINATION).first()
    module3 = User.objects.filter(district=district, role=Role.MODULE3).first()
    lead = post(Function.COORDINATION, "1.00", title="Sachgebietsleitung + Sachbearbeitung")
    fill(lead, "1.00", START, person=coordination)
    for fte, holder in (("1.00", "Frau Albers"), ("0.80", "Herr Yilmaz")):
        fill(post(Function.COORDINATION, fte, title="Sachbearbeitung"), fte, START, holder=holder)
    changed = post(Function.COORDINATION, "0.70", title="Sachbearbeitung")
    fill(changed, "0.70", START, date(2023, 6, 30), holder="Frau Brandt")
    fill(changed, "0.70", date(2023, 10, 1), holder="Frau Okafor")
    fill(post(Function.ADMINISTRATION, "0.50"), "0.50", START, holder="Frau Wegner")

    district_provider = next(p for p in providers if p.kind == Provider.Kind.DISTRICT)
    towns = list(municipalities)
    for provider in providers:
        external = provider.kind != Provider.Kind.DISTRICT
        for index, manager in enumerate(case_managers[provider.pk]):
            start = EXTERNAL_START if external else START
            position = post(Function.CASE_MANAGEMENT, manager.demo_fte, start=start, employer=provider,
                            municipality=towns[(index + 3 * providers.index(provider)) % len(towns)],
                            passed_on_to=provider if external else None)
            fill(position, manager.demo_fte, date(start.year, start.month + rng.randint(0, 3), 1), person=manager)
    roaming = post(Function.CASE_MANAGEMENT, "0.40", employer=district_provider,
                   note="bedarfsorientierter, kommunenübergreifender Einsatz")
    vacancies.append(Vacancy(district=district, position=roaming, fte=Decimal("0.40"), starts_on=date(2024, 3, 1)))
    fill(post(Function.CM_COORDINATION, "1.00", employer=district_provider), "1.00", START, holder="Herr Krüger")
    muki = post(Function.THEMATIC, "2.00", title="MuKi-S", employer=district_provider)
    fill(muki, "1.00", START, holder="Frau Hoffmann")
    fill(muki, "1.00", date(2022, 2, 1), holder="Frau Sander")

    fill(post(Function.FOREIGNERS_OFFICE, "1.00"), "1.00", date(2021, 10, 1), person=module3)
    naturalisation = post(Function.NATURALISATION_OFFICE, "2.00")
    fill(naturalisation, "1.00", date(2021, 9, 1), holder="Herr Demir")
    fill(naturalisation, "0.50", date(2022, 1, 1), holder="Frau Lange")
    vacancies.append(Vacancy(district=district, position=naturalisation, fte=Decimal("0.50"),
                             starts_on=date(2022, 1, 1), ends_on=date(2022, 9, 30)))
    fill(naturalisation, "0.50", date(2022, 10, 1), holder="Frau Aydin")

    Position.objects.bulk_create(positions)
    Filling.objects.bulk_create(fillings)
    Vacancy.objects.bulk_create(vacancies)
    Rate.objects.create(district=district, year=2026, expense=Expense.MEASURES, amount=Decimal("25000"),
                        source="Zuwendungsbescheid vom 20.01.2026 (Demo)")
    return {"positions": len(positions), "fillings": len(fillings)}
