from django.db import migrations


def seed(apps, schema_editor):
    from bankdesk.analytics.seed import targets_seed

    targets_seed(apps.get_model("analytics", "Target"), using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
