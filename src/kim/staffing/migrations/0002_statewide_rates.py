"""The Land's funding rates 2020–2026 as statewide defaults (kim.staffing.defaults)."""

from django.db import migrations


def load(apps, schema_editor):
    from kim.staffing.defaults import load_statewide

    load_statewide(apps.get_model("staffing", "Rate"))


def unload(apps, schema_editor):
    apps.get_model("staffing", "Rate").objects.filter(district=None).delete()


class Migration(migrations.Migration):
    dependencies = [("staffing", "0001_positions_and_rates")]
    operations = [migrations.RunPython(load, unload)]
