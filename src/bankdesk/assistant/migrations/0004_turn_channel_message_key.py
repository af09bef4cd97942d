import hashlib

from django.db import migrations, models


def key_existing_turns(apps, schema_editor):
    """Key the customer turns already stored on channel threads. Where a retry was answered
    twice before this key existed, the first turn keeps the key and the later copy stays as it
    is (it happened; it just cannot happen again)."""
    Turn = apps.get_model("assistant", "Turn")
    seen = set()
    turns = (
        Turn.objects.filter(speaker="customer")
        .exclude(client_id="")
        .exclude(dialogue__thread_id="")
        .values_list("pk", "client_id", "dialogue__channel", "dialogue__thread_id")
        .order_by("pk")
    )
    for pk, client_id, channel, thread_id in turns.iterator(chunk_size=2000):
        key = hashlib.sha256(f"{channel}\x1f{thread_id}\x1f{client_id}".encode()).hexdigest()
        if key in seen:
            continue
        seen.add(key)
        Turn.objects.filter(pk=pk).update(channel_key=key)


class Migration(migrations.Migration):

    dependencies = [
        ("assistant", "0003_dialogue_threads_blind_indexed"),
    ]

    operations = [
        migrations.AddField(
            model_name="turn",
            name="channel_key",
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
        migrations.RunPython(key_existing_turns, migrations.RunPython.noop),
    ]
