"""Replies sent before messages showed their delivery get it from their outbox entries, so a
reply given up before this release shows as not delivered too."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# Outbox status → the message's delivery status.
DELIVERY = {"pending": "queued", "sending": "queued", "sent": "sent", "dead": "failed"}


def backfill(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    outbox = apps.get_model("intake", "OutboxMessage")
    message = apps.get_model("tickets", "Message")
    for outbox_status, delivery_status in DELIVERY.items():
        replies = outbox.objects.filter(status=outbox_status, message__isnull=False)
        message.objects.filter(
            pk__in=replies.values("message_id"), delivery_status=""
        ).update(delivery_status=delivery_status)


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0002_wechat_nonces"),
        ("tickets", "0009_message_delivery_status"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
