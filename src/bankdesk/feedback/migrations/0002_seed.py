from django.db import migrations


def seed(apps, schema_editor):
    from bankdesk.feedback.seed import feedback_seed

    feedback_seed(
        apps.get_model("feedback", "SurveyTemplate"),
        apps.get_model("feedback", "FollowUpRule"),
        using=schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
