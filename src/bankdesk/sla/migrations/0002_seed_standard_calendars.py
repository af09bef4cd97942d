"""A fresh install starts with the cn-mainland, hk and 24x7 calendars."""

from django.db import migrations


def seed(apps, schema_editor):
    from bankdesk.sla.seed import calendars_seed_into

    calendars_seed_into(
        calendar_model=apps.get_model("sla", "BusinessCalendar"),
        period_model=apps.get_model("sla", "WorkingPeriod"),
        day_model=apps.get_model("sla", "CalendarDay"),
        using=schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_business_calendars")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
