"""The one allowed change of an audit entry (0011) is its redaction in the form kim.core.audit.redact
writes, and nothing else: the label becomes "anonymisiert" or "gelöschte Person", each changed
value "–" under the keys it had (no key added). A redacted read may be deleted only when it is
older than a year (the shortest period of the read log, kim.privacy.registry), so that two
statements cannot make a recent read vanish."""

from django.db import migrations

TABLE = "core_auditentry"
REFUSE = "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;"
LABELS = "('anonymisiert', 'gelöschte Person')"
SQLITE_REDACTION = (
    "OLD.redacted = 0 AND NEW.redacted = 1 AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.action = OLD.action"
    " AND NEW.object_type = OLD.object_type AND NEW.object_id = OLD.object_id AND NEW.district_id IS OLD.district_id"
    " AND NEW.provider_id IS OLD.provider_id AND NEW.actor_id IS OLD.actor_id"
    f" AND NEW.object_label IN {LABELS}"
    " AND json_type(NEW.changes) = 'object'"
    " AND NOT EXISTS (SELECT 1 FROM json_each(NEW.changes) AS n WHERE n.value IS NOT '–'"
    "   OR n.key NOT IN (SELECT o.key FROM json_each(OLD.changes) AS o))"
)
SQLITE_DELETE = "OLD.redacted = 1 AND OLD.action = 'read' AND OLD.at < strftime('%Y-%m-%d %H:%M:%f', 'now', '-365 days')"
SQLITE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update;",
    f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} WHEN NOT ({SQLITE_REDACTION}) {REFUSE}",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_delete;",
    f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
    f"WHEN NOT (kim_audit_delete_allowed() OR ({SQLITE_DELETE})) {REFUSE}",
]
POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION kim_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND NOT OLD.redacted AND NEW.redacted AND NEW.id = OLD.id AND NEW.at = OLD.at
            AND NEW.action = OLD.action AND NEW.object_type = OLD.object_type AND NEW.object_id = OLD.object_id
            AND NEW.district_id IS NOT DISTINCT FROM OLD.district_id
            AND NEW.provider_id IS NOT DISTINCT FROM OLD.provider_id
            AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
            AND NEW.object_label IN {LABELS}
            AND jsonb_typeof(NEW.changes) = 'object'
            AND NOT EXISTS (SELECT 1 FROM jsonb_each(NEW.changes) AS n
                            WHERE n.value <> to_jsonb('–'::text) OR jsonb_typeof(OLD.changes) <> 'object'
                               OR NOT OLD.changes ? n.key) THEN
           RETURN NEW;
         END IF;
         IF TG_OP = 'DELETE' AND OLD.redacted AND OLD.action = 'read' AND OLD.at < now() - interval '365 days' THEN
           RETURN OLD;
         END IF;
         RAISE EXCEPTION 'audit entries are append-only';
       END; $$;""",
]


def forwards(apps, schema_editor):
    statements = POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("core", "0013_transfer_closure_reason")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
