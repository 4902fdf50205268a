"""Appointment.topics gets an explicit through model, AppointmentTopic, on the same table, with
the appointment's district and date copied onto each link (R2 reads one district-year's links).

The table stays as it is (state only), two columns and an index are added, the existing links
get their copies, and triggers keep them right from then on, on PostgreSQL and SQLite alike:
a new link takes district and date from its appointment; an appointment whose date or district
changes moves its links."""

import django.db.models.deletion
from django.db import migrations, models

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION kim_topic_link_copies() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT a.district_id, a.date INTO NEW.district_id, NEW.date
        FROM casework_appointment a WHERE a.id = NEW.appointment_id;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER casework_topic_link_copies BEFORE INSERT OR UPDATE ON casework_appointment_topics
    FOR EACH ROW EXECUTE FUNCTION kim_topic_link_copies()
    """,
    """
    CREATE OR REPLACE FUNCTION kim_appointment_moves_topic_links() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE casework_appointment_topics SET district_id = NEW.district_id, date = NEW.date
        WHERE appointment_id = NEW.id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER casework_appointment_moves_topic_links AFTER UPDATE OF date, district_id ON casework_appointment
    FOR EACH ROW WHEN (OLD.date IS DISTINCT FROM NEW.date OR OLD.district_id IS DISTINCT FROM NEW.district_id)
    EXECUTE FUNCTION kim_appointment_moves_topic_links()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS casework_appointment_moves_topic_links ON casework_appointment",
    "DROP FUNCTION IF EXISTS kim_appointment_moves_topic_links()",
    "DROP TRIGGER IF EXISTS casework_topic_link_copies ON casework_appointment_topics",
    "DROP FUNCTION IF EXISTS kim_topic_link_copies()",
]
# SQLite cannot change NEW in a trigger: the row is corrected right after it is written.
SQLITE_COPY = """
    UPDATE casework_appointment_topics
    SET district_id = (SELECT a.district_id FROM casework_appointment a WHERE a.id = NEW.appointment_id),
        date = (SELECT a.date FROM casework_appointment a WHERE a.id = NEW.appointment_id)
    WHERE id = NEW.id;
"""
SQLITE = [
    f"CREATE TRIGGER casework_topic_link_copies AFTER INSERT ON casework_appointment_topics BEGIN {SQLITE_COPY} END",
    f"CREATE TRIGGER casework_topic_link_recopies AFTER UPDATE OF appointment_id, district_id, date "
    f"ON casework_appointment_topics BEGIN {SQLITE_COPY} END",
    """
    CREATE TRIGGER casework_appointment_moves_topic_links AFTER UPDATE OF date, district_id ON casework_appointment
    WHEN OLD.date IS NOT NEW.date OR OLD.district_id IS NOT NEW.district_id
    BEGIN
        UPDATE casework_appointment_topics SET district_id = NEW.district_id, date = NEW.date
        WHERE appointment_id = NEW.id;
    END
    """,
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS casework_appointment_moves_topic_links",
    "DROP TRIGGER IF EXISTS casework_topic_link_recopies",
    "DROP TRIGGER IF EXISTS casework_topic_link_copies",
]
COPY_EXISTING = """
    UPDATE casework_appointment_topics
    SET district_id = (SELECT a.district_id FROM casework_appointment a WHERE a.id = casework_appointment_topics.appointment_id),
        date = (SELECT a.date FROM casework_appointment a WHERE a.id = casework_appointment_topics.appointment_id)
"""


def run(statements_by_vendor):
    def apply(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)
    return apply


class Migration(migrations.Migration):

    dependencies = [
        ("casework", "0012_transfer_handed_over"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AppointmentTopic",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("appointment", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                          related_name="topic_links", to="casework.appointment")),
                        ("topic", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                    to="core.topic")),
                    ],
                    options={"db_table": "casework_appointment_topics",
                             "unique_together": {("appointment", "topic")}},
                ),
                migrations.AlterField(
                    model_name="appointment",
                    name="topics",
                    field=models.ManyToManyField(blank=True, related_name="+", through="casework.AppointmentTopic",
                                                 to="core.topic", verbose_name="topics"),
                ),
            ],
            database_operations=[],
        ),
        migrations.AddField(
            model_name="appointmenttopic",
            name="district",
            field=models.ForeignKey(db_index=False, editable=False, null=True,
                                    on_delete=django.db.models.deletion.CASCADE, related_name="+", to="core.district"),
        ),
        migrations.AddField(
            model_name="appointmenttopic",
            name="date",
            field=models.DateField(editable=False, null=True, verbose_name="date"),
        ),
        migrations.RunSQL(COPY_EXISTING, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="appointmenttopic",
            index=models.Index(fields=["district", "date"], name="casework_topic_link_district"),
        ),
        migrations.RunPython(run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
                             run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE})),
    ]
