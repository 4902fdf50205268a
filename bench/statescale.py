"""State scale: ten years of KIM in all 54 districts of North Rhine-Westphalia, written with COPY.

    .venv/bin/python bench/statescale.py [--share 0.1] [--districts 54] [--db-url URL] [--seed 2026]

Drops and creates the database (default postgres://postgres@127.0.0.1:5432/kim_sbench_state),
runs `kim migrate`, creates districts (with the statewide catalogues), municipalities,
providers, users and a reporting deadline through the ORM, then writes participants, cases,
consents, appointments with their topics and language support, assessments with their items,
goals and referrals with PostgreSQL COPY (psycopg's `cursor.copy`). Foreign keys and plain
indexes of those tables are dropped for the load and created again afterwards, which checks
every row against them (a constraint that does not hold fails the run). Generated rows get no
audit entries: one audit entry per district records the load.

Sizes: 31 Kreise and 23 kreisfreie Städte, weighted 70 % evenly (the state's base funding of
every KIM district) and 30 % by population, so that the whole state (--share 1) has about
1 million participants and 12 million appointments, the largest district (Köln) about 31,000
participants, the smallest about 15,000. `--share F` scales every district by F; `--districts
N` keeps the N largest. Distributions: 85 % of participants with one case, 15 % with two; case
kinds 55 % case management, 20 % short, 15 % referral, 10 % screening; case management runs 2
to 15 months with about one counselling appointment a fortnight (3 in 4 complex), 1-3 topics per
counselling appointment; about 40 open case-management cases per case manager; gaps for R15
(2.5 % without target group or referral source, 1.5 % of counselling without topic, 1 % goals
without status, stale open cases, overdue re-assessments).

Prints and writes bench/results/statescale-<share>x-<N>d.json: rows and COPY seconds per table,
rebuild seconds of constraints and indexes, database size, sizes per district, machine load.
The database is kept: bench/duckdb_compare.py, bench/pages.py and bench/load.py read it.
Logins: `<district slug>-koordination`, `<slug>-cm-<provider>-<n>`, `<slug>-leitung-<provider>`,
password kim-demo-2026. Time on this machine: see the results' "total_s" (the whole state:
about 6 minutes, 7.7 GB). The "before" figures of issue 13 (bench/results/BEFORE.md) were
measured on `bench/statescale.py --share 1` (kim_sbench_state); `make bench` builds
kim_sbench_make with STATE_SHARE (default 0.1; `make bench STATE_SHARE=1` for the state)."""

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kim.settings")
ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kim_sbench_state"
PASSWORD = "kim-demo-2026"

# (name, kreisfreie Stadt?, inhabitants in thousands, rounded)
NRW = [
    ("Köln", True, 1084), ("Kreis Recklinghausen", False, 615), ("Rhein-Sieg-Kreis", False, 600),
    ("Düsseldorf", True, 629), ("Dortmund", True, 595), ("Essen", True, 584), ("Duisburg", True, 503),
    ("Kreis Mettmann", False, 485), ("Rhein-Erft-Kreis", False, 470), ("Kreis Wesel", False, 460),
    ("Rhein-Kreis Neuss", False, 450), ("Kreis Steinfurt", False, 450), ("Märkischer Kreis", False, 410),
    ("Kreis Unna", False, 395), ("Kreis Borken", False, 375), ("Bochum", True, 365),
    ("Kreis Gütersloh", False, 365), ("Wuppertal", True, 358), ("Kreis Lippe", False, 345),
    ("Bonn", True, 336), ("Bielefeld", True, 334), ("Ennepe-Ruhr-Kreis", False, 325),
    ("Münster", True, 320), ("Kreis Kleve", False, 315), ("Kreis Paderborn", False, 310),
    ("Kreis Minden-Lübbecke", False, 310), ("Städteregion Aachen", False, 305),
    ("Kreis Viersen", False, 300), ("Kreis Soest", False, 300), ("Rheinisch-Bergischer Kreis", False, 285),
    ("Kreis Warendorf", False, 280), ("Kreis Siegen-Wittgenstein", False, 275),
    ("Oberbergischer Kreis", False, 270), ("Mönchengladbach", True, 268), ("Kreis Düren", False, 265),
    ("Gelsenkirchen", True, 264), ("Hochsauerlandkreis", False, 260), ("Kreis Heinsberg", False, 255),
    ("Aachen", True, 252), ("Kreis Herford", False, 250), ("Krefeld", True, 228),
    ("Kreis Coesfeld", False, 220), ("Oberhausen", True, 210), ("Kreis Euskirchen", False, 195),
    ("Hagen", True, 189), ("Hamm", True, 180), ("Mülheim an der Ruhr", True, 171),
    ("Leverkusen", True, 164), ("Solingen", True, 159), ("Herne", True, 157), ("Kreis Höxter", False, 140),
    ("Kreis Olpe", False, 135), ("Bottrop", True, 118), ("Remscheid", True, 112),
]
STATE_PARTICIPANTS = 1_000_000
YEARS = 10
WELFARE = ["Caritasverband", "Diakonie", "AWO", "DRK", "Der Paritätische", "IN VIA", "SKM",
           "Jugendmigrationsdienst", "Internationaler Bund", "Malteser", "Johanniter", "Flüchtlingshilfe e. V."]
FEMALE = ["Amal", "Rania", "Lina", "Mariam", "Zahra", "Oksana", "Iryna", "Elena", "Helen", "Elif", "Aissatou"]
MALE = ["Ahmad", "Omar", "Ali", "Hamid", "Andrii", "Serhii", "Andrei", "Yonas", "Emre", "Mamadou"]
FAMILY = ["Haddad", "Al-Hassan", "Ahmadi", "Rahimi", "Kovalenko", "Shevchenko", "Popescu", "Tesfay",
          "Demir", "Diallo", "Barry", "Okafor", "Ivanov", "Mahmoud", "Aziz", "Karimi"]
NATIONALITIES = ["syrisch", "afghanisch", "ukrainisch", "irakisch", "rumänisch", "bulgarisch", "eritreisch",
                 "türkisch", "nigerianisch", "guineisch"]
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def slug_of(name: str) -> str:
    from django.utils.text import slugify

    return slugify(name.replace("ö", "oe").replace("ü", "ue").replace("ä", "ae").replace("ß", "ss"))


def district_sizes(share: float, count: int) -> list[tuple[str, bool, int]]:
    """(name, city?, participants over ten years) of the `count` largest districts at `share`."""
    mean = sum(p for _, _, p in NRW) / len(NRW)
    weights = [0.7 + 0.3 * p / mean for _, _, p in NRW]
    unit = STATE_PARTICIPANTS / sum(weights)
    sized = sorted(((name, city, max(20, round(unit * w * share))) for (name, city, _), w in zip(NRW, weights, strict=True)),
                   key=lambda item: -item[2])
    return sized[:count]


BENCH_PREFIXES = ("kim_sbench", "kim_bench")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, env={**os.environ, "TZ": "UTC"}).stdout.strip()


def fresh_database(url: str):
    import psycopg

    server, name = url.rsplit("/", 1)
    if not name.startswith(BENCH_PREFIXES):
        # It is dropped and made anew: only a database named as the benchmarks' own.
        sys.exit(f"statescale: refusing to drop the database {name!r}; its name must start with "
                 f"{' or '.join(BENCH_PREFIXES)}.")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([str(ROOT / ".venv/bin/kim"), "migrate", "--verbosity", "0"], env=env, check=True)


# ---------------------------------------------------------------- COPY sinks


class Sink:
    """Rows of one table, written with COPY. Columns not generated get the model's default."""

    def __init__(self, model, columns: list[str], with_id=True):
        self.model = model
        self.table = model._meta.db_table
        generated = (["id"] if with_id else []) + columns
        constant = {}
        for field in model._meta.concrete_fields:
            if field.column in generated or field.primary_key or field.null:
                continue
            default = field.get_default()
            constant[field.column] = json.dumps(default) if isinstance(default, (dict, list)) else default
        self.columns = generated + list(constant)
        self.constant = tuple(constant.values())
        self.rows = []
        self.count = 0
        self.seconds = 0.0
        self.next_id = 1

    def add(self, *values) -> int:
        row_id = self.next_id
        self.next_id += 1
        self.rows.append((row_id, *values))
        return row_id

    def add_plain(self, *values):
        self.rows.append(values)

    def flush(self, cursor):
        if not self.rows:
            return
        started = time.perf_counter()
        columns = ", ".join(f'"{c}"' for c in self.columns)
        constant = self.constant
        with cursor.copy(f'COPY "{self.table}" ({columns}) FROM STDIN') as copy:
            for row in self.rows:
                copy.write_row(row + constant)
        self.seconds += time.perf_counter() - started
        self.count += len(self.rows)
        self.rows = []


def relax(cursor, tables):
    """Drop foreign keys and plain indexes of `tables`; return the statements that restore them."""
    restore_indexes, restore_keys = [], []
    for table in tables:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
            [table])
        for name, definition in cursor.fetchall():
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            restore_keys.append((table, f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'))
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary AND NOT x.indisunique", [table])
        for name, definition in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
            restore_indexes.append((table, definition))
    return restore_indexes + restore_keys


# ---------------------------------------------------------------- one district


class Catalogue:
    def __init__(self, district):
        from kim.core import models as core
        from kim.core.defaults import TRANSFER_CLOSURE_KEY

        def ids(model):
            return list(model.objects.filter(district=district).order_by("sort_order").values_list("pk", flat=True))

        self.target_groups = ids(core.TargetGroup)
        self.sources = ids(core.ReferralSource)
        self.categories = ids(core.GoalCategory)
        self.topics = ids(core.Topic)
        targets = list(core.ReferralTarget.objects.filter(district=district).values_list("pk", "means_no_need"))
        self.targets = [pk for pk, no_need in targets if not no_need]
        self.no_need = next(pk for pk, no_need in targets if no_need)
        self.closures = list(core.ClosureReason.objects.filter(district=district).exclude(key=TRANSFER_CLOSURE_KEY)
                             .values_list("pk", flat=True))
        self.language_support = ids(core.LanguageSupportKind)
        self.life_domains = ids(core.LifeDomain)
        self.offers = ids(core.ThematicOffer)


def organise(index, name, city, participants, password_hash, today):
    """District, towns, providers, staff and a deadline through the ORM (few rows)."""
    from kim.core.models import Provider, Role, User
    from kim.core.services import create_district, create_municipality, create_provider
    from kim.demo import _deadline

    slug = slug_of(name)
    district = create_district(None, name, slug)
    towns = max(4, min(14, participants // 1500)) if not city else max(4, min(9, participants // 3000))
    label = "Stadtbezirk" if city else "Gemeinde"
    municipalities = [create_municipality(None, district, f"{name} – {label} {n}").pk for n in range(1, towns + 1)]
    provider_count = max(3, min(12, 3 + participants // 4000))
    providers = [create_provider(None, district, f"{'Stadt' if city else 'Kreis'} {name} (KIM)",
                                 Provider.Kind.DISTRICT, "kommune")]
    for welfare in WELFARE[: provider_count - 1]:
        providers.append(create_provider(None, district, f"{welfare} {name}", Provider.Kind.WELFARE))
    provider_weights = [1 / (n + 1) ** 0.7 for n in range(len(providers))]
    # About 40 open case-management cases per case manager at full size (see the module docstring).
    managers_total = max(len(providers) * 2, round(participants / 600))
    users, staff = [], {}
    for n, provider in enumerate(providers):
        share = provider_weights[n] / sum(provider_weights)
        count = max(2, round(managers_total * share))
        staff[provider.pk] = []
        for m in range(1, count + 1):
            users.append(User(district=district, provider=provider, role=Role.CASE_MANAGER,
                              username=f"{slug}-cm-{provider.slug}-{m}", password=password_hash,
                              first_name="Case", last_name=f"Manager {m}"))
        users.append(User(district=district, provider=provider, role=Role.PROVIDER_LEAD,
                          username=f"{slug}-leitung-{provider.slug}", password=password_hash,
                          first_name="Leitung", last_name=provider.name[:100]))
    for role, username in ((Role.COORDINATION, "koordination"), (Role.STEERING, "lenkungsgruppe"),
                           (Role.MODULE3, "abh"), (Role.DISTRICT_ADMIN, "verwaltung")):
        users.append(User(district=district, role=role, username=f"{slug}-{username}", password=password_hash,
                          first_name=str(role.label)[:150], last_name=name[:150]))
    User.objects.bulk_create(users)
    for user in User.objects.filter(district=district, role=Role.CASE_MANAGER).order_by("pk"):
        staff[user.provider_id].append(user.pk)
    _deadline(district, today)
    return district, municipalities, providers, provider_weights, staff


class Generator:
    def __init__(self, sinks, today, seed):
        self.s = sinks
        self.today = today.toordinal()
        self.seed = seed

    def district(self, index, district, participants, municipalities, providers, weights, staff):
        s, today = self.s, self.today
        rng = random.Random(self.seed * 1000 + index)
        rand, randint, choice = rng.random, rng.randint, rng.choice
        cat = Catalogue(district)
        from kim.casework.search import participant_search_text, participant_sort_name

        start = today - YEARS * 365
        d = district.pk
        provider_ids = [p.pk for p in providers]
        # Intake grows over the ten years (KIM was built up): weight 0.6 in the first year, 1.4 in the last.
        ramp = [0.6 + 0.8 * y / (YEARS - 1) for y in range(YEARS)]
        fromord = date.fromordinal
        topics, support = cat.topics, cat.language_support

        def appointment(provider, manager, case, day, kind, complexity, other_kind="", n_topics=0,
                        offer=None, fmt="", audience=""):
            a = s["appointment"].add(d, provider, manager, case, kind, complexity, other_kind, fromord(day),
                                     choice((30, 45, 60, 60, 90, 120)), choice(PLACES), offer, fmt, audience)
            if n_topics:
                for t in rng.sample(topics, n_topics):
                    s["topics"].add_plain(a, t)
            if case is not None and rand() < 0.35:
                s["support"].add_plain(a, choice(support))

        for _ in range(participants):
            p_index = rng.choices(range(len(provider_ids)), weights)[0]
            provider = provider_ids[p_index]
            manager = choice(staff[provider])
            year = rng.choices(range(YEARS), ramp)[0]
            first_opened = min(today - 1, start + year * 365 + randint(0, 364))
            gender = choice("fm") if rand() > 0.02 else "d"
            first = choice(FEMALE if gender == "f" else MALE)
            last = choice(FAMILY)
            town = choice(municipalities)
            pid = s["participant"].next_id
            code = "TN-" + _code(pid)
            s["participant"].add(d, provider, manager, code, first, last,
                                 fromord(first_opened - randint(17 * 365, 60 * 365)), gender, choice(NATIONALITIES),
                                 "Deutsch", town, fromord(first_opened - randint(30, 2000)),
                                 participant_search_text(first, last, code), participant_sort_name(first, last))
            opened = first_opened
            for case_number in range(1 if rand() < 0.85 else 2):
                if case_number:
                    opened = opened + randint(100, 900)
                    if opened >= today:
                        break
                self.case(rng, cat, d, provider, pid, manager, town, opened, appointment)
        # Other work of every case manager, about two a month, and thematic sessions.
        for provider, managers in staff.items():
            for manager in managers:
                for _ in range(24 * YEARS):
                    appointment(provider, manager, None, randint(start, today), "other", "",
                                choice(OTHER_KINDS))
        if cat.offers:
            runners = staff[provider_ids[0]]
            for _ in range(30 * YEARS):
                fmt, audience = choice(SESSIONS)
                appointment(provider_ids[0], choice(runners), None, randint(start, today), "other", "",
                            "group_session", offer=cat.offers[0], fmt=fmt, audience=audience)

    def case(self, rng, cat, d, provider, participant, manager, town, opened, appointment):
        s, today = self.s, self.today
        rand, randint, choice = rng.random, rng.randint, rng.choice
        fromord = date.fromordinal
        kind = rng.choices(KINDS, (55, 20, 15, 10))[0]
        target_group = None if rand() < 0.025 else choice(cat.target_groups)
        source = None if rand() < 0.025 else choice(cat.sources)
        case_id = s["case"].next_id
        if kind == "case_management":
            length = randint(60, 450)
            closes = opened + length
            closed = closes if closes < today else None
            # Some open cases went quiet: no appointment for the last 100 to 300 days (R15 "stale").
            end = closed or (today - randint(100, 300) if rand() < 0.06 else today)
            end = max(end, opened)
            phase = "closed" if closed else PHASES[min(4, (today - opened) // 40)]
            s["case"].add(d, provider, participant, kind, phase, manager, town, target_group, source,
                          fromord(opened), fromord(closed) if closed else None,
                          choice(cat.closures) if closed else None, None)
            s["consent"].add(participant, fromord(opened), True, '["identity", "background", "case"]')
            for _ in range(max(1, (end - opened) // 14)):
                topics = 0 if rand() < 0.015 else choice(COUNSELLING_TOPICS)
                appointment(provider, manager, case_id, randint(opened, end), "counselling",
                            "complex" if rand() < 0.75 else "one_off", n_topics=topics)
            if end - opened > 20:
                assessed = min(end, opened + randint(14, 60))
                previous = None
                while assessed <= end:
                    previous = s["assessment"].add(case_id, "reassessment" if previous else "initial",
                                                   fromord(assessed), previous, manager)
                    for domain in rng.sample(cat.life_domains, randint(3, 6)):
                        s["item"].add(previous, domain, randint(0, 4))
                    # Re-assessment every five to seven months, now and then overdue (R15).
                    assessed += randint(150, 210) if rand() < 0.85 else randint(220, 400)
                first_assessed = opened + 14
                for _ in range(randint(1, 4)):
                    agreed = min(end, first_assessed + randint(3, 30))
                    status = "open" if closed is None and rand() < 0.6 else choice(GOAL_STATUSES)
                    if rand() < 0.01:
                        status = ""
                    changed = agreed if status in ("open", "") else randint(agreed, max(agreed, end))
                    s["goal"].add(case_id, choice(cat.categories), "Ziel aus der Zielvereinbarung", fromord(agreed),
                                  fromord(agreed + randint(60, 240)), status, fromord(changed))
                if rand() < 0.4:
                    s["referral"].add(case_id, choice(cat.targets), fromord(randint(opened, end)))
            return
        outcome = None
        if kind == "screening":
            outcome = cat.no_need if rand() < 0.5 else choice(cat.targets)
            count = 1
        elif kind == "referral":
            count = 1
            s["referral"].add(case_id, choice(cat.targets), fromord(opened))
        else:
            count = randint(3, 5)
        last = min(today, opened + 70)
        closed = last if today - opened > 90 else None
        s["case"].add(d, provider, participant, kind, "closed" if closed else "intake", manager, town,
                      target_group, source, fromord(opened), fromord(closed) if closed else None,
                      cat.closures[1] if closed else None, outcome)
        for _ in range(count):
            appointment(provider, manager, case_id, randint(opened, last), "counselling", "one_off",
                        n_topics=choice((1, 1, 2)))


KINDS = ("case_management", "short_counselling", "referral", "screening")
PHASES = ("intake", "assessment", "agreement", "implementation", "reassessment")
COUNSELLING_TOPICS = (1, 1, 1, 1, 1, 2, 2, 2, 3, 3)
GOAL_STATUSES = ("achieved", "achieved", "partly_achieved", "adapted", "dropped", "open")
PLACES = ("office", "office", "office", "home", "outreach", "phone", "video", "other")
OTHER_KINDS = ("network", "working_group", "case_reconstruction", "forum", "other")
SESSIONS = (("individual", "professionals"), ("individual", "parents"), ("group", "parents"),
            ("group", "professionals"), ("training", "parents"))


def _code(number: int) -> str:
    """A unique participant code from the row id (8 characters of the codes' alphabet)."""
    chars = []
    for _ in range(8):
        number, digit = divmod(number, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[digit])
    return "".join(reversed(chars))


def make_sinks():
    from kim.casework.models import (Appointment, Assessment, AssessmentItem, Case, Consent, Goal, Participant,
                                     Referral)

    return {
        "participant": Sink(Participant, ["district_id", "provider_id", "responsible_id", "code", "first_name",
                                          "last_name", "birth_date", "gender", "nationalities", "languages",
                                          "municipality_id", "entry_date", "search_text", "sort_name"]),
        "case": Sink(Case, ["district_id", "provider_id", "participant_id", "kind", "phase", "case_manager_id",
                            "municipality_id", "target_group_id", "referral_source_id", "opened_on", "closed_on",
                            "closure_reason_id", "screening_outcome_id"]),
        "consent": Sink(Consent, ["participant_id", "given_on", "covers_processing", "released_categories"]),
        "appointment": Sink(Appointment, ["district_id", "provider_id", "case_manager_id", "case_id", "kind",
                                          "complexity", "other_kind", "date", "duration_minutes", "place",
                                          "thematic_offer_id", "session_format", "audience"]),
        "topics": Sink(Appointment.topics.through, ["appointment_id", "topic_id"], with_id=False),
        "support": Sink(Appointment.language_support.through, ["appointment_id", "languagesupportkind_id"],
                        with_id=False),
        "assessment": Sink(Assessment, ["case_id", "kind", "assessed_on", "previous_id", "author_id"]),
        "item": Sink(AssessmentItem, ["assessment_id", "life_domain_id", "need"]),
        "goal": Sink(Goal, ["case_id", "category_id", "text", "agreed_on", "due_on", "status", "status_changed_on"]),
        "referral": Sink(Referral, ["case_id", "target_id", "referred_on"]),
    }


def generate(args) -> dict:
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from kim.core.audit import Action, record

    today = timezone.localdate()
    sizes = district_sizes(args.share, args.districts)
    sinks = make_sinks()
    generator = Generator(sinks, today, args.seed)
    password_hash = make_password(PASSWORD)
    timings = {"organise_s": 0.0, "python_s": 0.0}
    started = time.perf_counter()
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:  # autocommit: each DDL statement on its own
        restore = relax(cursor, [sink.table for sink in sinks.values()])
    per_district = []
    with scopes_disabled():
        for index, (name, city, participants) in enumerate(sizes):
            t0 = time.perf_counter()
            with transaction.atomic():
                district, towns, providers, weights, staff = organise(index, name, city, participants,
                                                                      password_hash, today)
                t1 = time.perf_counter()
                before = {key: sink.count + len(sink.rows) for key, sink in sinks.items()}
                generator.district(index, district, participants, towns, providers, weights, staff)
                t2 = time.perf_counter()
                raw = connection.connection  # psycopg connection of Django's, inside the same transaction
                with raw.cursor() as cursor:
                    for sink in sinks.values():
                        sink.flush(cursor)
                rows = {key: sink.count - before[key] for key, sink in sinks.items()}
                record(None, Action.CREATE, district, changes={"statescale": [None, rows]})
            timings["organise_s"] += t1 - t0
            timings["python_s"] += t2 - t1
            managers = sum(len(m) for m in staff.values())
            per_district.append({"slug": district.slug, "name": name, "participants": participants,
                                 "appointments": rows["appointment"], "cases": rows["case"],
                                 "providers": len(providers), "municipalities": len(towns),
                                 "case_managers": managers})
            print(f"{index + 1:>2}/{len(sizes)} {name:<28} {participants:>7} participants "
                  f"{rows['appointment']:>9} appointments {managers:>4} case managers "
                  f"{time.perf_counter() - t0:6.1f} s", flush=True)
    copy_done = time.perf_counter()
    rebuild = {}
    with connection.cursor() as cursor:
        for table, statement in restore:
            t0 = time.perf_counter()
            cursor.execute(statement)
            rebuild[table] = round(rebuild.get(table, 0) + time.perf_counter() - t0, 1)
        for sink in sinks.values():
            if "id" in sink.columns:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{sink.table}\"', 'id'), "
                               f"(SELECT COALESCE(MAX(id), 1) FROM \"{sink.table}\"))")
    rebuilt = time.perf_counter()
    connection.close()
    import psycopg

    with psycopg.connect(args.db_url, autocommit=True) as raw:
        raw.execute("VACUUM ANALYZE")
        analysed = time.perf_counter()
        size = raw.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        table_sizes = {table: raw.execute("SELECT pg_total_relation_size(%s::regclass)", [table]).fetchone()[0]
                       for table in [sink.table for sink in sinks.values()]}
    return {
        "share": args.share, "districts": len(sizes), "seed": args.seed, "today": today.isoformat(),
        "rows": {key: sink.count for key, sink in sinks.items()},
        "copy_s": {key: round(sink.seconds, 1) for key, sink in sinks.items()},
        "python_generation_s": round(timings["python_s"], 1), "orm_organisation_s": round(timings["organise_s"], 1),
        "load_s": round(copy_done - started, 1),
        "rebuild_constraints_indexes_s": rebuild, "rebuild_total_s": round(rebuilt - copy_done, 1),
        "vacuum_analyze_s": round(analysed - rebuilt, 1), "total_s": round(analysed - started, 1),
        "database_bytes": size, "database_gb": round(size / 1e9, 2),
        "table_bytes": table_sizes, "per_district": per_district,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--share", type=float, default=0.05, help="fraction of the state (1 = whole state)")
    parser.add_argument("--districts", type=int, default=len(NRW), help="the N largest districts")
    parser.add_argument("--db-url", default=os.environ.get("STATESCALE_URL", DEFAULT_URL))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-results", action="store_true", help="print only (the smoke test)")
    args = parser.parse_args()
    load_before = uptime()
    fresh_database(args.db_url)
    os.environ["DATABASE_URL"] = args.db_url
    result = generate(args)
    result["uptime_before"], result["uptime_after"] = load_before, uptime()
    result["db_url"] = args.db_url
    result["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    print(json.dumps({k: v for k, v in result.items() if k not in ("per_district", "table_bytes")}, indent=1))
    if not args.no_results:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"statescale-{args.share:g}x-{result['districts']}d.json"
        path.write_text(json.dumps(result, indent=1, ensure_ascii=False))
        print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
