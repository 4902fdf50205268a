"""SQLite refuses raw DELETE, `INSERT OR REPLACE` over an existing entry and (since 0002)
UPDATE of audit entries. See kim.core.audit_guard for the one exception (the test flush)."""

from django.db import migrations

TABLE = "core_auditentry"
REFUSE = "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;"

SQLITE = [
    f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} WHEN NOT kim_audit_delete_allowed() {REFUSE}",
    # REPLACE deletes the old row without firing DELETE triggers (unless recursive_triggers is
    # on), so an insert that names an existing id is refused before it happens.
    f"CREATE TRIGGER {TABLE}_no_replace BEFORE INSERT ON {TABLE} "
    f"WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM {TABLE} WHERE id = NEW.id) {REFUSE}",
]
SQLITE_REVERSE = [f"DROP TRIGGER {TABLE}_no_delete;", f"DROP TRIGGER {TABLE}_no_replace;"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_REVERSE:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_alter_auditentry_action")]
    operations = [migrations.RunPython(forwards, backwards)]
