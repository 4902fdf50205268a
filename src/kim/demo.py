"""A realistic demo district, generated from a seed: the same seed and reference date give
the same data. Also the base of the benchmarks (`size` scales participants and cases).

Rows are written with bulk_create in batches, so that 1000× the demo size stays feasible;
one audit entry records the load instead of one per generated row.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from kim.casework.models import (
    Appointment,
    Assessment,
    AssessmentItem,
    Case,
    CaseKind,
    Consent,
    Goal,
    GoalStatus,
    Household,
    Participant,
    Phase,
    PlanAction,
    Referral,
    new_participant_code,
)
from kim.core.audit import Action, record
from kim.core.defaults import TRANSFER_CLOSURE_KEY
from kim.core.models import (
    ClosureReason,
    GoalCategory,
    LanguageSupportKind,
    LifeDomain,
    Provider,
    ReferralSource,
    ReferralTarget,
    Role,
    TargetGroup,
    ThematicOffer,
    Topic,
    User,
)
from kim.core.services import create_district, create_municipality, create_provider, create_user

DEMO_PASSWORD = "kim-demo-2026"

TOWNS = ["Erkrath", "Haan", "Heiligenhaus", "Hilden", "Langenfeld", "Mettmann", "Monheim am Rhein",
         "Ratingen", "Velbert", "Wülfrath"]

PROVIDERS = [
    ("kreis", "Kreisverwaltung (KIM Case Management)", Provider.Kind.DISTRICT),
    ("stadt-ratingen", "Stadt Ratingen", Provider.Kind.MUNICIPALITY),
    ("caritas", "Caritasverband", Provider.Kind.WELFARE),
    ("diakonie", "Diakonie", Provider.Kind.WELFARE),
    ("awo", "AWO Kreisverband", Provider.Kind.WELFARE),
]

STAFF_FIRST = ["Anna", "Jonas", "Leyla", "Miriam", "Tobias", "Sabine", "Emre", "Katharina", "Daniel",
               "Olga", "Fatma", "Stefan", "Julia", "Markus", "Nadia"]
STAFF_LAST = ["Becker", "Schneider", "Yilmaz", "Hoffmann", "Wagner", "Krüger", "Neumann", "Schulz",
              "Braun", "Lange", "Koch", "Richter", "Wolf", "Schäfer", "Klein"]

# (nationality, languages, first names female, first names male, family names)
ORIGINS = [
    ("syrisch", "Arabisch", ["Amal", "Rania", "Lina", "Nour"], ["Ahmad", "Omar", "Khaled", "Yusuf"],
     ["Haddad", "Al-Hassan", "Khalil", "Darwish"]),
    ("afghanisch", "Dari, Paschtu", ["Mariam", "Zahra", "Farida"], ["Ali", "Mohammad", "Hamid"],
     ["Ahmadi", "Rahimi", "Karimi", "Sultani"]),
    ("ukrainisch", "Ukrainisch, Russisch", ["Oksana", "Iryna", "Natalia"], ["Andrii", "Serhii", "Dmytro"],
     ["Kovalenko", "Shevchenko", "Bondarenko"]),
    ("irakisch", "Arabisch, Kurdisch", ["Shilan", "Avin"], ["Hussein", "Karwan"], ["Mahmoud", "Aziz", "Barzani"]),
    ("rumänisch", "Rumänisch", ["Elena", "Ioana"], ["Andrei", "Mihai"], ["Popescu", "Ionescu", "Dumitru"]),
    ("bulgarisch", "Bulgarisch, Türkisch", ["Mariya", "Aylin"], ["Georgi", "Mehmet"], ["Ivanov", "Petrova", "Ahmedov"]),
    ("eritreisch", "Tigrinya", ["Helen", "Senait"], ["Yonas", "Dawit"], ["Tesfay", "Gebremedhin"]),
    ("türkisch", "Türkisch", ["Elif", "Zeynep"], ["Emre", "Mustafa"], ["Demir", "Şahin", "Kaya"]),
    ("nigerianisch", "Englisch, Yoruba", ["Blessing", "Chioma"], ["Emeka", "Tunde"], ["Okafor", "Adeyemi"]),
    ("guineisch", "Französisch, Fulfulde", ["Aissatou", "Fatoumata"], ["Mamadou", "Ibrahima"], ["Diallo", "Barry"]),
]

STREETS = ["Bahnhofstraße", "Hauptstraße", "Kirchstraße", "Schulstraße", "Gartenstraße", "Lindenallee"]

GOAL_TEXTS = {
    "sprachkurs": "Anmeldung zu einem Integrationskurs B1",
    "wohnungssuche": "Eine bezahlbare Wohnung finden",
    "arbeit-ausbildung": "Bewerbungsunterlagen erstellen und Ausbildungsplatz suchen",
    "passbeschaffung": "Nationalpass beim Konsulat beantragen",
    "finanzielle-sicherung": "Antrag auf Bürgergeld vollständig stellen",
    "medizin": "Hausärztliche Versorgung sicherstellen",
    "kinderbetreuung": "Kita-Platz für das jüngste Kind finden",
}

PHASES_OPEN = [Phase.INTAKE, Phase.ASSESSMENT, Phase.AGREEMENT, Phase.IMPLEMENTATION, Phase.REASSESSMENT]


@dataclass
class Catalogues:
    target_groups: list
    sources: list
    categories: list
    topics: list
    targets: list
    no_need: object
    closure_reasons: list
    language_support: list
    life_domains: list


@dataclass
class DemoResult:
    district: object
    logins: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)


def _catalogues(district):
    def entries(model):
        return list(model.objects.filter(district=district).order_by("sort_order"))

    targets = entries(ReferralTarget)
    return Catalogues(
        target_groups=entries(TargetGroup), sources=entries(ReferralSource), categories=entries(GoalCategory),
        topics=entries(Topic), targets=[t for t in targets if not t.means_no_need],
        no_need=next(t for t in targets if t.means_no_need),
        # A transfer is recorded as one (kim.privacy.transfer), never drawn at random.
        closure_reasons=[r for r in entries(ClosureReason) if r.key != TRANSFER_CLOSURE_KEY],
        language_support=entries(LanguageSupportKind), life_domains=entries(LifeDomain),
    )


def _staff(district, providers, rng, logins):
    """Users for every role; the first account of each role is listed for the demo login.
    User names are global: districts other than "demo" prefix theirs with the slug."""
    names = iter(zip(STAFF_FIRST * 4, STAFF_LAST * 4, strict=True))
    prefix = "" if district.slug == "demo" else f"{district.slug}-"

    def add(username, role, provider=None, fte=Decimal("1.00"), label=None):
        first, last = next(names)
        username = prefix + username
        user = create_user(
            None, district=district, username=username, password=DEMO_PASSWORD, role=role,
            provider=provider, first_name=first, last_name=last, email=f"{username}@demo.kim.invalid",
        )
        user.demo_fte = fte  # the share of a position the demo's staffing gives the person
        if label:
            logins.append((label, username))
        return user

    case_managers = {}
    for index, provider in enumerate(providers):
        slug = provider.slug
        count = 3 if index < 2 else 2
        case_managers[provider.pk] = [
            add(f"cm-{slug}-{n}", Role.CASE_MANAGER, provider, Decimal(rng.choice(["1.00", "1.00", "0.75", "0.50"])),
                label=str(Role.CASE_MANAGER.label) + f" ({provider.name})" if n == 1 and index == 2 else None)
            for n in range(1, count + 1)
        ]
        add(f"leitung-{slug}", Role.PROVIDER_LEAD, provider,
            label=str(Role.PROVIDER_LEAD.label) + f" ({provider.name})" if index == 2 else None)
    add("koordination", Role.COORDINATION, label=str(Role.COORDINATION.label))
    add("lenkungsgruppe", Role.STEERING, label=str(Role.STEERING.label))
    add("abh", Role.MODULE3, label=str(Role.MODULE3.label))
    add("verwaltung", Role.DISTRICT_ADMIN, label=str(Role.DISTRICT_ADMIN.label))
    return case_managers


def _person(rng, municipalities, today):
    nationality, languages, female, male, families = rng.choice(ORIGINS)
    gender = rng.choice(["f", "m", "f", "m", "d"]) if rng.random() < 0.02 else rng.choice(["f", "m"])
    first = rng.choice(female if gender == "f" else male)
    age_days = rng.randint(17 * 365, 65 * 365)
    birth = today - timedelta(days=age_days)
    entry = today - timedelta(days=rng.randint(60, min(age_days - 1, 12 * 365)))
    return {
        "first_name": first, "last_name": rng.choice(families), "birth_date": birth, "gender": gender,
        "nationalities": nationality, "languages": languages, "entry_date": entry,
        "municipality": rng.choice(municipalities),
        "residence_status": rng.choice([s for s, _ in Participant.ResidenceStatus.choices]),
        "phone": f"0{rng.randint(150, 179)} {rng.randint(1000000, 9999999)}",
        "address": f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
    }


class Builder:
    """Collects rows in memory and writes them in bulk, parents before children."""

    def __init__(self, rng, today, cat, district):
        self.rng, self.today, self.cat, self.district = rng, today, cat, district
        self.appointments, self.topic_links, self.support_links = [], [], []
        self.goals, self.actions, self.referrals, self.items = [], [], [], []

    def day_between(self, start, end):
        span = max((end - start).days, 0)
        return start + timedelta(days=self.rng.randint(0, span))

    def appointment(self, case, manager, day, kind, complexity="", other_kind="", topics=1):
        appointment = Appointment(
            district=self.district, provider_id=manager.provider_id, case_manager=manager, case=case,
            kind=kind, complexity=complexity, other_kind=other_kind, date=day,
            duration_minutes=self.rng.choice([30, 45, 60, 60, 90, 120]),
            place=self.rng.choice([p for p, _ in Appointment.Place.choices]),
        )
        self.appointments.append(appointment)
        chosen = self.rng.sample(self.cat.topics, k=min(topics, len(self.cat.topics))) if topics else []
        self.topic_links.append((appointment, chosen))
        if case is not None and self.rng.random() < 0.35:
            self.support_links.append((appointment, [self.rng.choice(self.cat.language_support)]))


def _case_plan(rng, today, horizon_days):
    kind = rng.choices(
        [CaseKind.CASE_MANAGEMENT, CaseKind.SHORT_COUNSELLING, CaseKind.REFERRAL, CaseKind.SCREENING],
        weights=[55, 20, 15, 10],
    )[0]
    opened = today - timedelta(days=rng.randint(1, horizon_days))
    return kind, opened


def _fill_case_management(b: Builder, case, manager):
    """Phase, assessments, goals, plan and appointments consistent with the cycle."""
    rng, today, cat = b.rng, b.today, b.cat
    age = (today - case.opened_on).days
    closed = age > 200 and rng.random() < 0.45
    phase = Phase.CLOSED if closed else PHASES_OPEN[min(4, int(age / 40))] if age < 240 else rng.choice(PHASES_OPEN[2:])
    case.phase = phase
    end = today
    if closed:
        case.closed_on = b.day_between(case.opened_on + timedelta(days=150), today)
        case.closure_reason = rng.choice(cat.closure_reasons)
        end = case.closed_on
    reached = PHASES_OPEN.index(phase) if phase != Phase.CLOSED else 4
    # Appointments: roughly two a month while the case runs.
    for _ in range(max(1, (end - case.opened_on).days // 15)):
        b.appointment(case, manager, b.day_between(case.opened_on, end), Appointment.Kind.COUNSELLING,
                      complexity=rng.choice([Appointment.Complexity.COMPLEX] * 3 + [Appointment.Complexity.ONE_OFF]),
                      topics=rng.choice([1, 1, 2, 3]))
    if reached >= 2:
        assessed = b.day_between(case.opened_on + timedelta(days=14), min(end, case.opened_on + timedelta(days=60)))
        case._assessments = [(Assessment.Kind.INITIAL, assessed)]
        if reached == 4 and (end - assessed).days > 120:
            case._assessments.append((Assessment.Kind.REASSESSMENT, assessed + timedelta(days=rng.randint(120, 200))))
        for _ in range(rng.randint(1, 4)):
            category = rng.choice(cat.categories)
            agreed = min(end, assessed + timedelta(days=rng.randint(3, 20)))
            status = GoalStatus.OPEN if reached < 3 else rng.choice(list(GoalStatus.values))
            changed = agreed if status == GoalStatus.OPEN else b.day_between(agreed, end)
            goal = Goal(case=case, category=category, text=GOAL_TEXTS.get(category.key, category.label),
                        agreed_on=agreed, due_on=agreed + timedelta(days=rng.randint(60, 240)),
                        status=status, status_changed_on=changed)
            b.goals.append(goal)
            b.actions.append(PlanAction(
                case=case, goal=goal, description=f"Unterlagen zusammenstellen: {category.label}",
                responsible=rng.choice(["Teilnehmende", "Case Management", "Jobcenter"]),
                due_on=agreed + timedelta(days=30), done_on=agreed + timedelta(days=20) if reached >= 3 else None,
            ))
        if rng.random() < 0.4:
            b.referrals.append(Referral(case=case, target=rng.choice(cat.targets),
                                        referred_on=b.day_between(case.opened_on, end)))
    else:
        case._assessments = []


def _fill_short_case(b: Builder, case, manager):
    rng = b.rng
    if case.kind == CaseKind.SCREENING:
        case.screening_outcome = b.cat.no_need if rng.random() < 0.5 else rng.choice(b.cat.targets)
        count = 1
    elif case.kind == CaseKind.REFERRAL:
        count = 1
        b.referrals.append(Referral(case=case, target=rng.choice(b.cat.targets), referred_on=case.opened_on))
    else:
        count = rng.randint(3, 5)
    last = min(b.today, case.opened_on + timedelta(days=70))
    for _ in range(count):
        b.appointment(case, manager, b.day_between(case.opened_on, last), Appointment.Kind.COUNSELLING,
                      complexity=Appointment.Complexity.ONE_OFF, topics=rng.choice([1, 2]))
    if (b.today - case.opened_on).days > 90:
        case.closed_on = last
        case.closure_reason = b.cat.closure_reasons[1]
        case.phase = Phase.CLOSED


def _bulk(model, rows, batch=2000):
    return model.objects.bulk_create(rows, batch_size=batch)


@transaction.atomic
def build_demo_district(name="Kreis Mettmann (Demo)", slug="demo", size: float = 1.0, seed: int = 2026,
                        today: date | None = None) -> DemoResult:
    """Create a district with ~300 × size participants and two years of case work."""
    rng = random.Random(seed)
    today = today or timezone.localdate()
    with scopes_disabled():
        district = create_district(None, name, slug)
        result = DemoResult(district)
        municipalities = [create_municipality(None, district, town) for town in TOWNS]
        providers = [create_provider(None, district, pname, kind, pslug) for pslug, pname, kind in PROVIDERS]
        case_managers = _staff(district, providers, rng, result.logins)
        cat = _catalogues(district)
        b = Builder(rng, today, cat, district)

        n_participants = max(10, int(300 * size))
        people, owners = [], []
        for _ in range(n_participants):
            provider = rng.choice(providers)
            manager = rng.choice(case_managers[provider.pk])
            person = Participant(district=district, provider=provider, responsible=manager,
                                 code=new_participant_code(), **_person(rng, municipalities, today))
            people.append(person)
            owners.append(manager)
        _bulk(Participant, people)

        households = []
        for index in range(0, len(people) - 3, 9):  # every ninth person starts a family of 2-3
            head = people[index]
            household = Household(district=district, provider=head.provider, name=f"Familie {head.last_name}")
            households.append((household, [p for p in people[index:index + rng.randint(2, 3)]
                                           if p.provider_id == head.provider_id]))
        _bulk(Household, [h for h, _ in households])
        for household, members in households:
            for member in members:
                member.household = household
        Participant.objects.bulk_update([m for _, ms in households for m in ms], ["household"], batch_size=2000)

        cases, consents = [], []
        for person, manager in zip(people, owners, strict=True):
            for _ in range(1 if rng.random() < 0.85 else 2):
                kind, opened = _case_plan(rng, today, 730)
                case = Case(district=district, provider=person.provider, participant=person, kind=kind,
                            case_manager=manager, municipality=person.municipality,
                            target_group=rng.choice(cat.target_groups), referral_source=rng.choice(cat.sources),
                            opened_on=opened, phase=Phase.INTAKE)
                if kind == CaseKind.CASE_MANAGEMENT:
                    # Releases cover the person, background and the case's course (no contact data):
                    # enough to transfer a case to the district's own case management.
                    consents.append(Consent(participant=person, given_on=opened, covers_processing=True,
                                            released_categories=["identity", "background", "case"]))
                    _fill_case_management(b, case, manager)
                else:
                    _fill_short_case(b, case, manager)
                cases.append(case)
        # A few data gaps, as in real files: cases without target group or referral source.
        for case in rng.sample(cases, k=max(1, len(cases) // 40)):
            case.target_group = None if rng.random() < 0.5 else case.target_group
            case.referral_source = None if case.target_group else case.referral_source
        _bulk(Case, cases)
        _bulk(Consent, consents)
        # The partner "KIM Case Management" is the district's own provider in the product.
        ReferralTarget.objects.filter(district=district, key="kim-cm").update(
            provider=next(p for p in providers if p.kind == Provider.Kind.DISTRICT))
        through = Consent.released_to.through
        _bulk(through, [through(consent=c, referraltarget=t) for c in consents
                        for t in rng.sample(cat.targets, k=rng.randint(1, 3))])

        # Other work of every case manager: network meetings, working groups, ...
        for managers in case_managers.values():
            for manager in managers:
                for _ in range(int(48 * max(size, 0.1))):
                    b.appointment(None, manager, today - timedelta(days=rng.randint(0, 730)), Appointment.Kind.OTHER,
                                  other_kind=rng.choice([k for k, _ in Appointment.OtherKind.choices]), topics=0)

        # Thematic case management (MuKi-S): sessions with professionals and parents, trainings.
        offer = ThematicOffer.objects.filter(district=district).first()
        if offer is not None:
            session_kinds = [
                ("individual", "professionals"), ("individual", "parents"), ("group", "parents"),
                ("group", "professionals"), ("group", "parents"), ("training", "parents"),
            ]
            runners = case_managers[providers[0].pk]
            for _ in range(int(60 * max(size, 0.1))):
                fmt, audience = rng.choice(session_kinds)
                b.appointment(None, rng.choice(runners), today - timedelta(days=rng.randint(0, 730)),
                              Appointment.Kind.OTHER, other_kind=Appointment.OtherKind.GROUP_SESSION, topics=0)
                b.appointments[-1].thematic_offer = offer
                b.appointments[-1].session_format = fmt
                b.appointments[-1].audience = audience

        assessments, items = [], []
        for case in cases:
            previous = None
            for kind, day in getattr(case, "_assessments", []):
                assessment = Assessment(case=case, kind=kind, assessed_on=day, author=case.case_manager,
                                        summary="Lebenslage gemeinsam besprochen.")
                assessment._previous = previous
                assessments.append(assessment)
                previous = assessment
        _bulk(Assessment, assessments)
        for assessment in assessments:
            if assessment._previous is not None:
                assessment.previous = assessment._previous
            for domain in rng.sample(cat.life_domains, k=rng.randint(3, 6)):
                items.append(AssessmentItem(assessment=assessment, life_domain=domain,
                                            need=rng.randint(0, 4), situation="Siehe Gesprächsnotiz.",
                                            resources="Familie unterstützt.", wishes="Selbstständig leben."))
        Assessment.objects.bulk_update([a for a in assessments if a.previous_id], ["previous"], batch_size=2000)
        _bulk(AssessmentItem, items)
        _bulk(Goal, b.goals)
        _bulk(PlanAction, b.actions)
        _bulk(Referral, b.referrals)
        _bulk(Appointment, b.appointments)
        topic_through = Appointment.topics.through
        _bulk(topic_through, [topic_through(appointment=a, topic=t) for a, ts in b.topic_links for t in ts], 5000)
        support_through = Appointment.language_support.through
        _bulk(support_through, [support_through(appointment=a, languagesupportkind=s)
                                for a, ss in b.support_links for s in ss], 5000)

        result.counts = {
            "participants": len(people), "households": len(households), "cases": len(cases),
            "appointments": len(b.appointments), "goals": len(b.goals), "assessments": len(assessments),
        }
        _deadline(district, today)
        from kim.system.demo import build_system_level

        result.counts.update(build_system_level(district, today, rng))
        from kim.staffing.demo import build_staffing

        result.counts.update(build_staffing(district, today, rng, municipalities, providers, case_managers))
        from kim.residence.demo import build_residence

        result.counts.update(build_residence(district, today, seed, size))
        record(None, Action.CREATE, district, changes={"demo_data": [None, result.counts]})
    return result


def _deadline(district, today):
    """The next steering-group meeting's deadline for last year's figures; one provider
    lead has already confirmed the data."""
    from kim.reports.models import DataConfirmation, ReportingDeadline

    coordinator = User.objects.filter(district=district, role=Role.COORDINATION).order_by("pk").first()
    lead = User.objects.filter(district=district, role=Role.PROVIDER_LEAD).order_by("pk").first()
    due = today + timedelta(days=14)
    deadline = ReportingDeadline.objects.create(
        district=district, title=f"Lenkungsgruppe {due:%m/%Y}", due_on=due,
        period_start=date(today.year - 1, 1, 1), period_end=date(today.year - 1, 12, 31), created_by=coordinator,
    )
    if lead is not None:
        DataConfirmation.objects.create(deadline=deadline, district=district, provider=lead.provider,
                                        confirmed_by=lead, note="Daten vollständig gepflegt.")
