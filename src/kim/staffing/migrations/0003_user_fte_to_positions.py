"""A case manager's FTE moves from the account to the staffing history: each active case
manager with an FTE gets a case-management position at the employer, filled by them since the
account was created, so that R10 shows the same figures as before (kim.staffing)."""

from django.db import migrations


def move(apps, schema_editor):
    User = apps.get_model("core", "User")
    Position = apps.get_model("staffing", "Position")
    Filling = apps.get_model("staffing", "Filling")
    for user in User.objects.filter(role="case_manager", district__isnull=False, fte__gt=0):
        start = user.date_joined.date()
        position = Position.objects.create(district_id=user.district_id, function="case_management",
                                           employer_id=user.provider_id, fte_approved=user.fte, approved_from=start,
                                           note="aus dem Konto übernommen")
        Filling.objects.create(district_id=user.district_id, position=position, person_id=user.pk, fte=user.fte,
                               starts_on=start, ends_on=None if user.is_active else start)


class Migration(migrations.Migration):
    dependencies = [("staffing", "0002_statewide_rates"), ("core", "0009_unique_messages")]
    operations = [migrations.RunPython(move, migrations.RunPython.noop)]
