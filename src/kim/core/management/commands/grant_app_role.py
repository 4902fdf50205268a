"""kim grant-app-role ROLE: let a PostgreSQL role that does not own the tables run the application."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

AUDIT_TABLE = "core_auditentry"


class Command(BaseCommand):
    help = ("PostgreSQL: gibt einer Datenbankrolle, der die Tabellen nicht gehören, die Rechte, mit denen die "
            "Anwendung läuft. Das Protokoll darf sie nur lesen und ergänzen, nicht ändern oder löschen. "
            "Als Eigentümer der Tabellen ausführen, nach jedem `kim migrate`.")

    def add_arguments(self, parser):
        parser.add_argument("role", help="Name der Datenbankrolle der Anwendung (sie muss bestehen)")

    @transaction.atomic
    def handle(self, *args, role, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Nur für PostgreSQL: SQLite kennt keine Rollen (siehe docs/betrieb.md).")
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                raise CommandError(f"Die Rolle {role} gibt es nicht (CREATE ROLE {role} LOGIN PASSWORD '…').")
            cursor.execute("SELECT current_schema()")
            schema = cursor.fetchone()[0]
            for statement in grants(schema, role, connection.settings_dict["NAME"]):
                cursor.execute(statement)
        self.stdout.write(f"Die Rolle {role} darf die Anwendung betreiben; das Protokoll ({AUDIT_TABLE}) nur lesen, "
                          "ergänzen und einmal schwärzen (mehr lassen die Trigger nicht zu).")


def grants(schema: str, role: str, database: str) -> list:
    role_id, schema_id = sql.Identifier(role), sql.Identifier(schema)
    audit = sql.Identifier(schema, AUDIT_TABLE)
    return [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), role_id),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema_id, role_id),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(schema_id, role_id),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema_id, role_id),
        # The audit log: read, append, and the one redaction (and deletion of old redacted reads)
        # that the triggers let through (core migrations 0011, 0014): erasure and retention need
        # them. Without ownership the role can neither drop nor disable the triggers, and it may
        # not TRUNCATE, which no row trigger sees.
        sql.SQL("REVOKE TRUNCATE ON {} FROM {}").format(audit, role_id),
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}").format(
            schema_id, role_id),
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}").format(schema_id, role_id),
    ]
