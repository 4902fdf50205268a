"""The database itself refuses to change or remove audit entries, whatever the code does."""

from django.db import migrations

TABLE = "core_auditentry"

SQLITE = [
    f"""CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;""",
    # No DELETE trigger on SQLite: Django's test flush empties tables with DELETE. The ORM
    # refuses deletes of audit entries on every database; PostgreSQL refuses them as well.
]
SQLITE_REVERSE = [f"DROP TRIGGER {TABLE}_no_update;"]

POSTGRESQL = [
    """CREATE FUNCTION kim_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit entries are append-only'; END; $$;""",
    f"""CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION kim_audit_append_only();""",
    # TRUNCATE is left to the operator (and Django's test flush): it needs table ownership.
]
POSTGRESQL_REVERSE = [
    f"DROP TRIGGER {TABLE}_append_only ON {TABLE};",
    "DROP FUNCTION kim_audit_append_only();",
]


def forwards(apps, schema_editor):
    statements = POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    statements = POSTGRESQL_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
