"""The complaint taxonomy a fresh install starts with (complaints/taxonomy.py)."""

from django.db import migrations


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    from bankdesk.complaints.taxonomy import taxonomy_seed

    taxonomy_seed(
        apps.get_model("complaints", "ComplaintClass"), using=schema_editor.connection.alias
    )


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
