"""A WeChat dialogue's thread was the customer's openid in clear: it becomes its blind index
(tickets.threads), as the conversation the dialogue hands over to does."""

from django.db import migrations

BATCH = 1000


def threads_to_blind_index(apps, schema_editor):
    from bankdesk.tickets.threads import IDENTIFYING_THREADS, is_thread_index, thread_key

    Dialogue = apps.get_model("assistant", "Dialogue")
    rows = (
        Dialogue.objects.filter(channel__in=list(IDENTIFYING_THREADS))
        .exclude(thread_id="")
        .only("id", "channel", "thread_id")
        .order_by("id")
    )
    keys: dict[tuple[str, str], str] = {}
    changed = []
    for dialogue in rows.iterator(chunk_size=BATCH):
        if is_thread_index(dialogue.thread_id):
            continue
        raw = dialogue.thread_id
        dialogue.thread_id = keys.setdefault((dialogue.channel, raw), thread_key(dialogue.channel, raw))
        changed.append(dialogue)
        if len(changed) == BATCH:
            Dialogue.objects.bulk_update(changed, ["thread_id"])
            changed = []
    Dialogue.objects.bulk_update(changed, ["thread_id"])


class Migration(migrations.Migration):

    dependencies = [
        ("assistant", "0002_channel_threads"),
        ("tickets", "0005_conversation_threads_blind_indexed"),
    ]

    operations = [
        migrations.RunPython(threads_to_blind_index, migrations.RunPython.noop, elidable=False),
    ]
