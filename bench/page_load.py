"""Server-side time of the case manager's pages on the demo district.

    .venv/bin/python bench/page_load.py [--size 1] [--repeat 20]

Builds the demo district in a throw-away SQLite database (or DATABASE_URL), logs in as the
demo case manager and the provider lead, and reports median and 95th percentile of the full
request (middleware, queries, template) per page, plus the number of SQL queries."""

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kim.settings")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    # Never the shell's DATABASE_URL (an operator's may name the production database): the demo
    # district with its known passwords goes into a database of the benchmark's own.
    os.environ["DATABASE_URL"] = os.environ.get("PAGE_BENCH_URL", f"sqlite:///{tmp}/bench.sqlite3")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_scopes import scopes_disabled

    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    from kim.casework.models import Case, Participant
    from kim.core.models import User
    from kim.demo import build_demo_district

    started = time.perf_counter()
    result = build_demo_district(slug="demo", size=args.size)
    print(f"demo data (size {args.size}): {result.counts} in {time.perf_counter() - started:.1f} s")
    with scopes_disabled():
        user = User.objects.get(username="cm-caritas-1")
        case = Case.objects.filter(case_manager=user, kind="case_management").order_by("-opened_on").first()
        participant = Participant.objects.filter(responsible=user).first()
    case_pages = {
        "Meine Fälle": "/fallarbeit/",
        "Teilnehmende": "/fallarbeit/teilnehmende/",
        "Teilnehmende*r": f"/fallarbeit/teilnehmende/{participant.pk}/",
        "Fallakte": f"/fallarbeit/fall/{case.pk}/",
        "Termine": "/fallarbeit/termine/",
        "Neue*r Teilnehmende*r": "/fallarbeit/teilnehmende/neu/",
    }
    from kim.system.models import Measure, Meeting, Theme

    with scopes_disabled():
        theme = Theme.objects.get(district__slug="demo", status="implementing")
        meeting = Meeting.objects.filter(district__slug="demo").order_by("held_on").first()
        measure = Measure.objects.filter(district__slug="demo").exclude(indicator="").first()
    system_pages = {
        "Start (Systemebene)": "/berichte/uebersicht/", "Systemebene": "/systemebene/", "Bedarfsmeldungen": "/systemebene/bedarfe/",
        "Themen": "/systemebene/themen/", "Thema (Kette)": f"/systemebene/themen/{theme.pk}/",
        "Sitzung": f"/systemebene/sitzungen/{meeting.pk}/", "Maßnahme": f"/systemebene/massnahmen/{measure.pk}/",
        "Angebotsübersicht": "/systemebene/angebote/", "Maßnahme (neu)": "/systemebene/massnahmen/neu/",
        "R11": "/berichte/R11/", "R12": "/berichte/R12/",
    }
    from kim.staffing.models import Position

    with scopes_disabled():
        position = Position.objects.filter(district__slug="demo").first()
    year = time.localtime().tm_year - 1
    staffing_pages = {
        "Stellen": "/stellen/", "Stelle": f"/stellen/{position.pk}/", "Förderung": f"/stellen/foerderung/?year={year}",
        "Fördersätze": "/stellen/saetze/", "R8": "/berichte/R8/", "R9": f"/berichte/R9/?year={year}",
        "R10": "/berichte/R10/", "R16": "/berichte/R16/",
    }
    for username, pages in (("cm-caritas-1", case_pages), ("leitung-caritas", case_pages),
                            ("koordination", system_pages), ("koordination", staffing_pages)):
        client = Client()
        with scopes_disabled():
            client.force_login(User.objects.get(username=username))
        print(f"\n{username} ({connection.vendor})")
        print(f"{'page':<24}{'median ms':>10}{'p95 ms':>9}{'queries':>9}")
        for name, url in pages.items():
            timings = []
            for _ in range(args.repeat):
                with CaptureQueriesContext(connection) as queries:
                    t0 = time.perf_counter()
                    response = client.get(url)
                    timings.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            timings.sort()
            p95 = timings[min(len(timings) - 1, int(0.95 * len(timings)))]
            print(f"{name:<24}{statistics.median(timings):>10.1f}{p95:>9.1f}{len(queries):>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
