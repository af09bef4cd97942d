"""Each case's sla_due_at from the clocks already running, so queues sort by deadline from the
first request after the upgrade."""

from django.db import migrations

FILL = """
UPDATE tickets_case SET sla_due_at = (
    SELECT MIN(clock.due_at) FROM sla_slaclock clock
    WHERE clock.case_id = tickets_case.id AND clock.status = 'running'
)
WHERE EXISTS (
    SELECT 1 FROM sla_slaclock clock
    WHERE clock.case_id = tickets_case.id AND clock.status = 'running'
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0006_settings_stamp"),
        ("tickets", "0011_case_sla_due"),
    ]

    operations = [migrations.RunSQL(FILL, reverse_sql=migrations.RunSQL.noop)]
