"""An audit entry may be redacted once (erasure and anonymisation blacken its personal values:
label and changed values); nothing else about it may change. A redacted entry of a read may
then be deleted (reads are kept for a period only). Every other UPDATE or DELETE is refused
by the database, as before (0002, 0005)."""

from django.db import migrations, models

TABLE = "core_auditentry"
REFUSE = "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;"
# The one allowed UPDATE: unredacted becomes redacted, who, when, what and which object stay.
SQLITE_REDACTION = (
    "OLD.redacted = 0 AND NEW.redacted = 1 AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.action = OLD.action"
    " AND NEW.object_type = OLD.object_type AND NEW.object_id = OLD.object_id AND NEW.district_id IS OLD.district_id"
    " AND NEW.provider_id IS OLD.provider_id AND NEW.actor_id IS OLD.actor_id"
)
NO_REPLACE = (f"CREATE TRIGGER {TABLE}_no_replace BEFORE INSERT ON {TABLE} "
              f"WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM {TABLE} WHERE id = NEW.id) {REFUSE}")
# Adding the column rebuilds the table on SQLite, which drops its triggers: all are made anew.
DROP_ALL = [f"DROP TRIGGER IF EXISTS {TABLE}_{name};" for name in ("no_update", "no_delete", "no_replace")]
SQLITE = [
    *DROP_ALL,
    f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} WHEN NOT ({SQLITE_REDACTION}) {REFUSE}",
    f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
    f"WHEN NOT (kim_audit_delete_allowed() OR (OLD.redacted = 1 AND OLD.action = 'read')) {REFUSE}",
    NO_REPLACE,
]
SQLITE_REVERSE = [
    *DROP_ALL,
    f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} {REFUSE}",
    f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} WHEN NOT kim_audit_delete_allowed() {REFUSE}",
    NO_REPLACE,
]
POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION kim_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND NOT OLD.redacted AND NEW.redacted AND NEW.id = OLD.id AND NEW.at = OLD.at
            AND NEW.action = OLD.action AND NEW.object_type = OLD.object_type AND NEW.object_id = OLD.object_id
            AND NEW.district_id IS NOT DISTINCT FROM OLD.district_id
            AND NEW.provider_id IS NOT DISTINCT FROM OLD.provider_id
            AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id THEN
           RETURN NEW;
         END IF;
         IF TG_OP = 'DELETE' AND OLD.redacted AND OLD.action = 'read' THEN
           RETURN OLD;
         END IF;
         RAISE EXCEPTION 'audit entries are append-only';
       END; $$;""",
]
POSTGRESQL_REVERSE = [
    """CREATE OR REPLACE FUNCTION kim_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit entries are append-only'; END; $$;""",
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

    dependencies = [
        ('core', '0010_user_fte_in_staffing'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditentry',
            name='redacted',
            field=models.BooleanField(db_default=False, default=False, verbose_name='redacted'),
        ),
        migrations.RunPython(forwards, backwards),
    ]
