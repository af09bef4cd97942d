from django.db import migrations


def seed(apps, schema_editor):
    from bankdesk.personalization.seed import personalization_seed

    personalization_seed(
        apps.get_model("personalization", "Segment"),
        apps.get_model("personalization", "ServicePlan"),
        using=schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    dependencies = [("personalization", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
