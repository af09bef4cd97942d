import secrets

from django.db import migrations, models


def first_stamp(apps, schema_editor):
    stamps = apps.get_model("sla", "SlaSettingsStamp").objects.using(schema_editor.connection.alias)
    stamps.create(id=1, stamp=secrets.randbits(62))


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0005_calendar_horizons_from_published_data"),
    ]

    operations = [
        migrations.CreateModel(
            name="SlaSettingsStamp",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("stamp", models.BigIntegerField()),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("id", 1)), name="sla_settings_stamp_single_row"
                    )
                ],
            },
        ),
        migrations.RunPython(first_stamp, migrations.RunPython.noop),
    ]
