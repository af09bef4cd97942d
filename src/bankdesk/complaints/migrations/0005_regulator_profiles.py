"""The regulator profiles a fresh install starts with (complaints/regulators.py): statutory SLA
policies, the mainland one on."""

import secrets

from django.db import migrations


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    from bankdesk.complaints.regulators import regulator_profiles_seed

    regulator_profiles_seed(
        policy_model=apps.get_model("sla", "SlaPolicy"),
        target_model=apps.get_model("sla", "SlaTarget"),
        category_model=apps.get_model("tickets", "Category"),
        using=schema_editor.connection.alias,
    )
    stamp = apps.get_model("sla", "SlaSettingsStamp").objects.using(schema_editor.connection.alias)
    stamp.filter(pk=1).update(stamp=secrets.randbits(62))  # every process reads them


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0004_extensions_root_causes_classifier"),
        ("sla", "0008_statutory_policies_day_bases_extensions"),
        ("tickets", "0012_complaint_events"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
