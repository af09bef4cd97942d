"""SMS, phone, WeChat and Alipay threads were the customer's phone, openid or Alipay id in
clear: each becomes its blind index (tickets.threads), as new conversations store it.

Not reversible: a blind index cannot be turned back into the number. Old row versions may
linger in the database's free space until it is vacuumed (VACUUM on SQLite and PostgreSQL).
"""

from django.db import migrations

BATCH = 1000


def threads_to_blind_index(apps, schema_editor):
    from bankdesk.tickets.threads import IDENTIFYING_THREADS, is_thread_index, thread_key

    Conversation = apps.get_model("tickets", "Conversation")
    rows = (
        Conversation.objects.filter(channel__in=list(IDENTIFYING_THREADS))
        .exclude(external_thread_id="")
        .only("id", "channel", "external_thread_id")
        .order_by("id")
    )
    keys: dict[tuple[str, str], str] = {}  # one customer's many conversations: hash once
    changed = []
    for conversation in rows.iterator(chunk_size=BATCH):
        raw = conversation.external_thread_id
        if is_thread_index(raw):
            continue
        key = keys.setdefault((conversation.channel, raw), thread_key(conversation.channel, raw))
        conversation.external_thread_id = key
        changed.append(conversation)
        if len(changed) == BATCH:
            Conversation.objects.bulk_update(changed, ["external_thread_id"])
            changed = []
    Conversation.objects.bulk_update(changed, ["external_thread_id"])


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0004_alter_caseevent_kind"),
        # The key ring checks its keys against security's key checks.
        ("security", "0001_initial"),
        ("customers", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(threads_to_blind_index, migrations.RunPython.noop, elidable=False),
    ]
