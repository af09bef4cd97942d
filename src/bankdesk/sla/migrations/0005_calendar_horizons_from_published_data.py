"""Each standard calendar records how far its holidays are published, and clocks already
running past that date are marked provisional."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import migrations
from django.db.models import Q


def record_horizons(apps, schema_editor):
    from bankdesk.sla.seed import calendar_horizons_seed_into

    alias = schema_editor.connection.alias
    calendars = apps.get_model("sla", "BusinessCalendar")
    clocks = apps.get_model("sla", "SlaClock")
    calendar_horizons_seed_into(calendar_model=calendars, using=alias)
    for calendar in calendars.objects.using(alias).filter(known_until__isnull=False):
        # The first moment past the horizon, in the calendar's own zone.
        unknown_from = datetime.combine(
            calendar.known_until + timedelta(days=1), time(0), ZoneInfo(calendar.time_zone)
        )
        reaches_past = (
            Q(due_at__gte=unknown_from)
            | Q(warn_at__gte=unknown_from)
            | Q(met_at__gte=unknown_from)
            | Q(stopped_at__gte=unknown_from)
        )
        clocks.objects.using(alias).filter(reaches_past, calendar=calendar).update(
            is_provisional=True
        )


class Migration(migrations.Migration):
    dependencies = [("sla", "0004_calendar_horizon_and_provisional_clocks")]

    operations = [migrations.RunPython(record_horizons, migrations.RunPython.noop)]
