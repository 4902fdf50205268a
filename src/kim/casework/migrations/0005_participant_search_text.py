from django.db import migrations, models

from kim.casework.search import participant_search_text


def fill_search_text(apps, schema_editor):
    Participant = apps.get_model("casework", "Participant")
    batch = []
    for participant in Participant._base_manager.only("first_name", "last_name", "code").iterator(chunk_size=2000):
        participant.search_text = participant_search_text(participant.first_name, participant.last_name,
                                                          participant.code)
        batch.append(participant)
        if len(batch) == 2000:
            Participant._base_manager.bulk_update(batch, ["search_text"])
            batch = []
    Participant._base_manager.bulk_update(batch, ["search_text"])


class Migration(migrations.Migration):

    dependencies = [
        ("casework", "0004_case_external_id_participant_external_id_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="participant",
            name="search_text",
            field=models.CharField(blank=True, editable=False, max_length=400),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop),
    ]
