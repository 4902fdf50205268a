"""`kim`: the operators' command line. Friendly names for the management commands.

    kim migrate                      create or update the database tables
    kim create-district NAME         a new district with the statewide catalogues
    kim create-user ...              a user of a district (see kim create-user --help)
    kim load-demo [--size N]         a realistic demo district with users for every role
    kim serve [--bind ADDR]          the web application (gunicorn, static files, task worker)
    kim report R1 --district SLUG ... a report as json, csv, xlsx, pdf or docx (kim report --list)
    kim import FILE --district SLUG --provider SLUG [--dry-run]  import a table (standard workbook)
    kim create-token USERNAME --name NAME  an API token acting as that user (shown once)
    kim worker                       the background task worker
    kim <any Django command>         e.g. kim createsuperuser, kim check --deploy
"""

import os
import sys

ALIASES = {
    "create-district": "create_district",
    "create-token": "create_token",
    "create-user": "create_user",
    "load-demo": "load_demo",
    "worker": "db_worker",
}


def serve(argv):
    import argparse

    parser = argparse.ArgumentParser(prog="kim serve", description="Serve the web application.")
    parser.add_argument("--bind", default=os.environ.get("KIM_BIND", "127.0.0.1:8000"))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("KIM_WORKERS", "2")))
    parser.add_argument("--no-task-worker", action="store_true",
                        help="do not start the background task worker (run `kim worker` apart)")
    args = parser.parse_args(argv)
    from django.core.management import call_command

    import django

    django.setup()
    call_command("collectstatic", interactive=False, verbosity=0)
    if not args.no_task_worker:
        # Committee papers render in the background; on one machine the worker runs beside
        # the web server and stops with it (same process group, Ctrl+C reaches both).
        import subprocess

        subprocess.Popen([sys.executable, "-m", "kim.cli", "worker"])
    os.execvp(sys.executable, [
        sys.executable, "-m", "gunicorn", "kim.wsgi:application", "--bind", args.bind,
        "--workers", str(args.workers), "--access-logfile", "-",
        # A provider's full export is streamed from a file written first: 100,000 cases take
        # about 25 s, close to gunicorn's default limit of 30 s.
        "--timeout", os.environ.get("KIM_REQUEST_TIMEOUT", "120"),
    ])


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kim.settings")
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    if argv[0] == "serve":
        return serve(argv[1:])
    from django.core.management import execute_from_command_line

    command = ALIASES.get(argv[0], argv[0])
    execute_from_command_line(["kim", command, *argv[1:]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
