"""Complaint cases opened before bankdesk kept complaint records get theirs."""

from django.db import migrations


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    from bankdesk.complaints.backfill import complaint_records_backfill

    complaint_records_backfill(
        apps.get_model("complaints", "Complaint"),
        apps.get_model("tickets", "Case"),
        using=schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    dependencies = [("complaints", "0002_seed_taxonomy")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
