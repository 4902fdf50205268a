"""Import of 100,000 appointment rows with full validation: time and peak memory.

    .venv/bin/python bench/import_file.py [--appointments 100000] [--db sqlite|postgres]

Writes a standard workbook with 5,000 participants (with consent), 10,000 cases (half of
them case management) and the given number of appointments (topics, some language support),
then, each in a fresh process: the dry run, the import, and the same import again (which
must change nothing). Reports wall time and the process's peak resident memory.
Goal (issue 4): ≤ 60 s and ≤ 500 MB for the import."""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kim.settings")
RESULTS = Path(__file__).parent / "results"


def build(appointments: int, path: str):
    import random
    from datetime import date, timedelta

    import django

    django.setup()
    from django.core.management import call_command
    from django_scopes import scopes_disabled
    from openpyxl import Workbook

    from kim.core.models import Municipality, Provider, Role, User
    from kim.core.services import create_district
    from kim.exchange.workbook import SHEETS

    call_command("migrate", verbosity=0)
    with scopes_disabled():
        district = create_district(None, "Kreis Import", "import")
        Municipality.objects.create(district=district, name="Stadt")
        provider = Provider.objects.create(district=district, name="Träger", slug="traeger")
        User.objects.create_user("cm-import", district=district, provider=provider, role=Role.CASE_MANAGER)
        User.objects.create_user("lead-import", district=district, provider=provider, role=Role.PROVIDER_LEAD)
    rng = random.Random(4)
    people, cases = 5_000, 10_000
    start = date(2023, 1, 1)
    book = Workbook(write_only=True)

    def row(sheet, **values):
        return [values.get(header) for header in SHEETS[sheet]]

    sheet = book.create_sheet("Teilnehmende")
    sheet.append(SHEETS["Teilnehmende"])
    for i in range(people):
        sheet.append(row("Teilnehmende", **{
            "Kennung": f"P{i}", "Vorname": "Test", "Nachname": f"Person {i}", "Geburtsdatum": date(1980, 1, 1) + timedelta(days=i),
            "Geschlecht": rng.choice(["weiblich", "männlich"]), "Staatsangehörigkeit": "syrisch", "Sprachen": "Arabisch",
            "Kommune": "Stadt", "Aufenthaltsstatus": "Duldung", "Einwilligung am": start}))
    sheet = book.create_sheet("Fälle")
    sheet.append(SHEETS["Fälle"])
    opened = {}
    for i in range(cases):
        opened[i] = start + timedelta(days=rng.randrange(0, 300))
        sheet.append(row("Fälle", **{
            "Fall-Kennung": f"C{i}", "Teilnehmende-Kennung": f"P{i % people}",
            "Art": "Case Management" if i % 2 else "Kurzberatung", "Zielgruppe": "Duldung/Gestattung",
            "Zugangsweg": "Sozialamt", "Beginn": f"{opened[i]:%d.%m.%Y}"}))
    sheet = book.create_sheet("Termine")
    sheet.append(SHEETS["Termine"])
    topics = ["Wohnen", "Gesundheit", "Deutschkurse", "Arbeit und Ausbildung", "Familie"]
    for _ in range(appointments):
        case = rng.randrange(cases)
        day = opened[case] + timedelta(days=rng.randrange(0, 300))
        sheet.append(row("Termine", **{
            "Fall-Kennung": f"C{case}", "Datum": day, "Art": "Beratung", "komplex": "ja" if case % 2 else "nein",
            "Dauer (Minuten)": rng.choice([30, 45, 60, 90]), "Themen": "; ".join(rng.sample(topics, rng.randint(1, 2)))}))
    book.save(path)


def run(path: str, commit: bool) -> dict:
    import django

    django.setup()
    from django_scopes import scope, scopes_disabled

    from kim.core.models import User
    from kim.exchange.services import run_import, start_import

    with scopes_disabled():
        case_manager = User.objects.get(username="cm-import")
    data = Path(path).read_bytes()
    started = time.perf_counter()
    with scope(district=case_manager.district_id):
        result = run_import(start_import(case_manager, filename="akten.xlsx", data=data), commit=commit)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The file is parsed in a bounded child process; its peak (an upper bound: Linux counts
    # the forked copy of this process in it) is reported apart.
    reader_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    outcome = {"seconds": round(elapsed, 1), "peak_mb": round(peak_mb), "reader_peak_mb": round(reader_mb),
               "problems": result.problem_count,
               "summary": result.summary, "status": result.status, "file_mb": round(len(data) / 1e6, 1)}
    print(json.dumps(outcome, ensure_ascii=False))
    return outcome


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--step", choices=["build", "check", "commit"], help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step == "build":
        return build(args.appointments, args.file)
    if args.step:
        run(args.file, commit=args.step == "commit")
        return 0
    workdir = tempfile.mkdtemp()
    if args.db == "sqlite":
        url = f"sqlite:///{workdir}/import.sqlite3"
    else:
        import psycopg

        server = os.environ.get("PG_BENCH_URL", "postgres://postgres@127.0.0.1:5432")
        with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
            connection.execute("DROP DATABASE IF EXISTS kim_import WITH (FORCE)")
            connection.execute("CREATE DATABASE kim_import")
        url = f"{server}/kim_import"
    env = {**os.environ, "DATABASE_URL": url}
    path = f"{workdir}/akten.xlsx"
    subprocess.run([sys.executable, __file__, "--step", "build", "--appointments", str(args.appointments),
                    "--file", path], env=env, check=True)
    results = {}
    for label, step in (("dry run", "check"), ("import", "commit"), ("same file again", "commit")):
        output = subprocess.run([sys.executable, __file__, "--step", step, "--file", path], env=env, check=True,
                                capture_output=True, text=True).stdout
        results[label] = json.loads(output.strip().splitlines()[-1])
        print(f"{args.db} {label}: {results[label]['seconds']} s, peak {results[label]['peak_mb']} MB "
              f"(reader {results[label]['reader_peak_mb']} MB), "
              f"{results[label]['problems']} problems, {results[label]['summary']}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"import-{args.db}-{args.appointments}.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
