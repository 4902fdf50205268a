"""`kim`: the operators' command line. Friendly names for the management commands.

    kim migrate                      create or update the database tables
    kim create-district NAME         a new district with the statewide catalogues
    kim create-user ...              a user of a district (see kim create-user --help)
    kim load-demo [--size N]         a realistic demo district with users for every role
    kim serve [--bind ADDR]          the web application (gunicorn, static files, task worker)
    kim report R1 --district SLUG ... a report as json, csv, xlsx, pdf or docx (kim report --list)
    kim import FILE --district SLUG --provider SLUG [--dry-run]  import a table (standard workbook)
    kim create-token USERNAME --name NAME  an API token acting as that user (shown once)
    kim directory-groups list|add|remove ...  which directory group grants which role (single sign-on)
    kim worker                       the background task worker
    kim secret-key [--file PATH]     create the secret key file (default var/secret-key) if missing
    kim set-password USERNAME        a new password for an account (asked twice), lifts a lock
    kim grant-app-role ROLE          PostgreSQL: rights for an application role that owns no table
    kim retention [--dry-run] [--as-of DATE] [--district SLUG]  apply the retention periods (daily by the worker)
    kim retention replay             after restoring a backup: erase again what the erasure log lists
    kim privacy-docs                 write docs/loeschkonzept.md and docs/verarbeitungsverzeichnis.md
    kim statistics export --district SLUG --year Y [-o FILE]  the signed extract for the Land (also make-key,
                                     register, import FILE, collect; docs/statistik-schnittstelle.md)
    kim <any Django command>         e.g. kim createsuperuser, kim check --deploy
"""

import os
import sys

ALIASES = {
    "create-district": "create_district",
    "create-token": "create_token",
    "create-user": "create_user",
    "directory-groups": "directory_groups",
    "grant-app-role": "grant_app_role",
    "set-password": "set_password",
    "load-demo": "load_demo",
    "privacy-docs": "privacy_docs",
}


def secret_key(argv):
    """Write a new random secret key to the key file unless one is there (before Django starts,
    since the settings need the key)."""
    import argparse
    import secrets
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="kim secret-key", description="Create the secret key file if it is missing.")
    default = Path(os.environ.get("KIM_VAR_DIR", Path(__file__).resolve().parents[2] / "var")) / "secret-key"
    parser.add_argument("--file", type=Path, default=Path(os.environ.get("KIM_SECRET_KEY_FILE", default)))
    path = parser.parse_args(argv).file
    if path.exists():
        print(f"{path} besteht schon; unverändert.")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(50) + "\n")
    print(f"Neuer geheimer Schlüssel in {path} (nur für den Eigentümer lesbar).")
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kim.settings")
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    if argv[0] == "serve":
        from .serve import serve

        return serve(argv[1:])
    if argv[0] == "secret-key":
        return secret_key(argv[1:])
    from django.core.management import execute_from_command_line

    command = ALIASES.get(argv[0], argv[0])
    execute_from_command_line(["kim", command, *argv[1:]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
