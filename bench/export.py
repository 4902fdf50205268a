"""Export of 100,000 cases to the standard workbook (XLSX, streamed): time and peak memory.

    .venv/bin/python bench/export.py [--cases 100000] [--db sqlite|postgres]

Builds one provider with the given number of cases (a quarter of them with a participant,
each case with one appointment), then runs the lead's XLSX export in a fresh process and
reports wall time and that process's peak resident memory. Goal (issue 4): ≤ 30 s, ≤ 300 MB."""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kim.settings")


def build(cases: int):
    import django

    django.setup()
    from datetime import date, timedelta

    from django.core.management import call_command
    from django_scopes import scopes_disabled

    from kim.casework.models import Appointment, Case, CaseKind, Participant
    from kim.core.models import Municipality, Provider, Role, TargetGroup, Topic, User
    from kim.core.services import create_district

    call_command("migrate", verbosity=0)
    with scopes_disabled():
        district = create_district(None, "Kreis Export", "export")
        town = Municipality.objects.create(district=district, name="Stadt")
        provider = Provider.objects.create(district=district, name="Träger", slug="traeger")
        manager = User.objects.create_user("cm-export", district=district, provider=provider, role=Role.CASE_MANAGER)
        User.objects.create_user("lead-export", district=district, provider=provider, role=Role.PROVIDER_LEAD)
        group = TargetGroup.objects.filter(district=district).first()
        topic = Topic.objects.filter(district=district).first()
        people = Participant.objects.bulk_create(
            [Participant(district=district, provider=provider, responsible=manager, code=f"TN-E{i:07d}",
                         first_name="Test", last_name=f"Person {i}", birth_date=date(1990, 1, 1), municipality=town)
             for i in range(cases // 4)], batch_size=5000)
        start = date(2024, 1, 1)
        rows = Case.objects.bulk_create(
            [Case(district=district, provider=provider, participant=people[i] if i < len(people) else None,
                  kind=CaseKind.CASE_MANAGEMENT, case_manager=manager, municipality=town, target_group=group,
                  opened_on=start + timedelta(days=i % 600)) for i in range(cases)], batch_size=5000)
        appointments = Appointment.objects.bulk_create(
            [Appointment(district=district, provider=provider, case_manager=manager, case=case, kind="counselling",
                         complexity="complex", date=case.opened_on, duration_minutes=60) for case in rows],
            batch_size=5000)
        through = Appointment.topics.through
        through.objects.bulk_create([through(appointment=a, topic=topic) for a in appointments], batch_size=5000)


def export():
    import django

    django.setup()
    from django_scopes import scope, scopes_disabled

    from kim.core.models import User
    from kim.exchange.export import export_xlsx

    with scopes_disabled():
        lead = User.objects.get(username="lead-export")
    started = time.perf_counter()
    with tempfile.TemporaryFile() as target, scope(district=lead.district_id):
        counts = export_xlsx(lead, target)
        size = target.tell()
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"exported {counts} in {elapsed:.1f} s, {size / 1e6:.1f} MB file, peak memory {peak_mb:.0f} MB")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--step", choices=["build", "export"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step == "build":
        return build(args.cases)
    if args.step == "export":
        return export()
    if args.db == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp()}/export.sqlite3"
    else:
        import psycopg

        server = os.environ.get("PG_BENCH_URL", "postgres://postgres@127.0.0.1:5432")
        with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
            connection.execute("DROP DATABASE IF EXISTS kim_export WITH (FORCE)")
            connection.execute("CREATE DATABASE kim_export")
        url = f"{server}/kim_export"
    env = {**os.environ, "DATABASE_URL": url}
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--step", "build", "--cases", str(args.cases)], env=env, check=True)
    print(f"{args.db}: built {args.cases} cases in {time.perf_counter() - started:.0f} s")
    subprocess.run([sys.executable, __file__, "--step", "export"], env=env, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
