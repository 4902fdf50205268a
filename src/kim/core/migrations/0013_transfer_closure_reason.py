from django.db import migrations


def add_transfer_reason(apps, schema_editor):
    """Districts created before transfers existed get the statewide closure reason for them."""
    from kim.core.defaults import CLOSURE_REASONS, TRANSFER_CLOSURE_KEY

    District = apps.get_model("core", "District")
    ClosureReason = apps.get_model("core", "ClosureReason")
    label = dict(CLOSURE_REASONS)[TRANSFER_CLOSURE_KEY]
    for district in District.objects.all():
        if not ClosureReason.objects.filter(district=district).filter(key=TRANSFER_CLOSURE_KEY).exists() \
                and not ClosureReason.objects.filter(district=district, label=label).exists():
            ClosureReason.objects.create(district=district, key=TRANSFER_CLOSURE_KEY, label=label, sort_order=75)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0012_referraltarget_provider"),
    ]

    operations = [
        migrations.RunPython(add_transfer_reason, migrations.RunPython.noop),
    ]
