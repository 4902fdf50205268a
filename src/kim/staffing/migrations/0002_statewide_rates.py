"""The Land's funding rates 2020–2026 as statewide defaults (kim.staffing.defaults)."""

from django.db import migrations


def load(apps, schema_editor):
    from kim.staffing.defaults import STATEWIDE

    Rate = apps.get_model("staffing", "Rate")
    Rate.objects.bulk_create(
        Rate(district=None, year=year, expense=expense, function=function, amount=amount, source=source)
        for year, rows in STATEWIDE.items() for expense, function, amount, source in rows
        if not Rate.objects.filter(district=None, year=year, expense=expense, function=function).exists()
    )


def unload(apps, schema_editor):
    apps.get_model("staffing", "Rate").objects.filter(district=None).delete()


class Migration(migrations.Migration):
    dependencies = [("staffing", "0001_positions_and_rates")]
    operations = [migrations.RunPython(load, unload)]
