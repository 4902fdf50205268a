"""The demo district's module 3: the district's foreigners' office and naturalisation office
with the `abh` login, and a town's own foreigners' office (Ratingen) that keeps its cases in
software of its own and sends monthly figures; three years of procedures and tallies; and
§104c titles on open cases, some of them running out within 1, 3 and 6 months."""

import random
from datetime import date, timedelta

from kim.casework.models import Case, CaseKind, Consent, Goal, GoalStatus, Participant, add_months
from kim.core.models import GoalCategory, Municipality, Role, User
from kim.core.services import create_user

from .models import MonthlyTally, Office, Outcome, Procedure, ProcedureKind
from .reports import AGE_BANDS, age_band
from .services import release_target_for

RESIDENCE_KINDS = [ProcedureKind.RESIDENCE_25A, ProcedureKind.RESIDENCE_25B, ProcedureKind.RESIDENCE_104C,
                   ProcedureKind.RESIDENCE_OTHER]


def _procedure(rng, office, kind, received, today):
    complete = received + timedelta(days=rng.randint(5, 90))
    decided = complete + timedelta(days=rng.randint(20, 420))
    values = {"district_id": office.district_id, "office": office, "kind": kind, "received_on": received,
              "by_kim_staff": rng.random() < 0.3,
              "from_104c": kind in (ProcedureKind.RESIDENCE_25A, ProcedureKind.RESIDENCE_25B) and rng.random() < 0.6,
              "reference": f"{office.kind.upper()}-{received:%Y}-{rng.randint(1000, 9999)}"}
    if complete <= today:
        values["complete_on"] = complete
    if decided <= today:
        values["decided_on"] = decided
        values["outcome"] = rng.choices([Outcome.GRANTED, Outcome.REFUSED, Outcome.WITHDRAWN], [80, 10, 10])[0]
    return Procedure(**values)


def _tallies(rng, office, today):
    """Monthly figures of the town's office for 36 months, its backlog carried from month to month."""
    rows, backlog = [], {kind: [] for kind in RESIDENCE_KINDS}
    first = add_months(today.replace(day=1), -36)
    for n in range(36):
        month = add_months(first, n)
        month_end = add_months(month, 1) - timedelta(days=1)
        for kind in RESIDENCE_KINDS:
            received = [month + timedelta(days=rng.randint(0, 27)) for _ in range(rng.randint(2, 9))]
            open_ones = backlog[kind] + received
            decided = [day for day in open_ones if rng.random() < 0.3]
            backlog[kind] = [day for day in open_ones if day not in decided]
            outcomes = [rng.choices(["granted", "refused", "withdrawn"], [80, 10, 10])[0] for _ in decided]
            bands = {key: 0 for key, _lowest, _label in AGE_BANDS}
            for day in backlog[kind]:
                bands[age_band(day, month_end)] += 1
            rows.append(MonthlyTally(
                district_id=office.district_id, office=office, month=month, kind=kind, received=len(received),
                granted=outcomes.count("granted"), refused=outcomes.count("refused"),
                withdrawn=outcomes.count("withdrawn"), by_kim_staff=sum(rng.random() < 0.4 for _ in decided),
                **bands))
    return rows


def _clocks(rng, district, today):
    """§104c titles on open cases: for the demo login's cases 1, 3 and 6 months ahead (and one
    further out), elsewhere spread over two years, so that the pipeline has figures."""
    category = GoalCategory.objects.filter(district=district, key="aufenthalt-25ab").first()
    open_cases = list(Case.objects.filter(district=district, closed_on__isnull=True, participant__isnull=False,
                                          kind=CaseKind.CASE_MANAGEMENT).select_related("participant", "case_manager")
                      .order_by("pk"))
    if not open_cases:
        return 0
    own = [c for c in open_cases if c.case_manager.username.endswith("cm-caritas-1")][:4]
    others = [c for c in open_cases if c not in own]
    chosen = own + rng.sample(others, k=min(len(others), max(40, len(open_cases) // 3)))
    ahead = {0: 20, 1: 80, 2: 170, 3: 300}  # days to expiry for the demo login's cases
    cases, people, goals = [], [], []
    for index, case in enumerate(chosen):
        days = ahead[index] if index < len(own) else rng.randint(-90, 200)
        expires = today + timedelta(days=days)
        issued = add_months(expires, -18)
        if issued < date(2022, 12, 31) or issued > today:
            continue
        case.title_104c_issued_on, case.title_104c_expires_on = issued, expires
        case.participant.residence_status = Participant.ResidenceStatus.PERMIT_104C
        cases.append(case)
        people.append(case.participant)
        if category is not None and (index < 2 or rng.random() < 0.5):
            status = GoalStatus.OPEN if index < len(own) else rng.choice([GoalStatus.OPEN, GoalStatus.ACHIEVED])
            agreed = max(case.opened_on, issued)
            goals.append(Goal(case=case, category=category, text="Voraussetzungen für §25b AufenthG erfüllen "
                              "(Sprachnachweis A2, Lebensunterhalt)", agreed_on=agreed, status=status,
                              status_changed_on=agreed, due_on=expires - timedelta(days=30)))
    Case.objects.bulk_update(cases, ["title_104c_issued_on", "title_104c_expires_on"], batch_size=2000)
    Participant.objects.bulk_update(people, ["residence_status"], batch_size=2000)
    Goal.objects.bulk_create(goals, batch_size=2000)
    return len(cases)


def build_residence(district, today: date, seed: int, size: float = 1.0) -> dict:
    """Module 3 of the demo district (called inside build_demo_district's transaction)."""
    rng = random.Random(f"{seed}-residence")
    prefix = "" if district.slug == "demo" else f"{district.slug}-"
    abh_user = User.objects.get(username=f"{prefix}abh")
    ratingen_user = create_user(None, district=district, username=f"{prefix}abh-ratingen", password="kim-demo-2026",
                                role=Role.MODULE3, first_name="Petra", last_name="Ahrens",
                                email=f"{prefix}abh-ratingen@demo.kim.invalid")
    ratingen = Municipality.objects.filter(district=district, name="Ratingen").first()
    offices = []
    for name, kind, town, staff in (
            ("Ausländerbehörde des Kreises", Office.Kind.FOREIGNERS, None, [abh_user]),
            ("Einbürgerungsbehörde des Kreises", Office.Kind.NATURALISATION, None, [abh_user]),
            ("Ausländerbehörde der Stadt Ratingen", Office.Kind.FOREIGNERS, ratingen, [ratingen_user])):
        office = Office.objects.create(district=district, name=name, kind=kind, municipality=town,
                                       release_target=release_target_for(district, kind, town))
        office.staff.set(staff)
        offices.append(office)
    foreigners, naturalisation, town_office = offices
    start = today - timedelta(days=3 * 365)
    procedures = []
    for _ in range(int(3 * 220 * size)):
        received = start + timedelta(days=rng.randint(0, 3 * 365))
        procedures.append(_procedure(rng, naturalisation, ProcedureKind.NATURALISATION, received, today))
    for _ in range(int(3 * 70 * size)):
        received = start + timedelta(days=rng.randint(0, 3 * 365))
        procedures.append(_procedure(rng, foreigners, rng.choice(RESIDENCE_KINDS), received, today))
    # A few procedures are linked to KIM participants who released the foreigners' office.
    released = list(Consent.released_to.through.objects.filter(
        referraltarget=foreigners.release_target, consent__participant__district=district,
        consent__withdrawn_on__isnull=True).values_list("consent__participant_id", flat=True)[:5])
    for procedure, participant_id in zip([p for p in procedures if p.office is foreigners], released, strict=False):
        procedure.participant_id = participant_id
    Procedure.objects.bulk_create(procedures, batch_size=2000)
    tallies = _tallies(rng, town_office, today)
    MonthlyTally.objects.bulk_create(tallies, batch_size=2000)
    return {"offices": len(offices), "procedures": len(procedures), "tallies": len(tallies),
            "titles_104c": _clocks(rng, district, today)}
