"""What the demo bank's history needs beside its cases for the plan's indicators to have a
year to show: the bank's decision on each complaint it closed (decided a little before the
closure, sooner as the year goes on), and the customers the assistant answered on the chat
channels without a person (its containment growing from about half to two thirds), besides
the dialogues it handed over, which became the chat cases."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from bankdesk.assistant.choices import DialogueStatus
from bankdesk.assistant.models import Dialogue
from bankdesk.complaints.models import Complaint
from bankdesk.lib.channels import Channel
from bankdesk.tickets.models import Case

YEAR = timedelta(days=365)
CHAT_CHANNELS = (Channel.WEB_CHAT, Channel.WECHAT, Channel.APP)
BATCH = 2000


def _progress(moment: datetime, now: datetime) -> float:
    return min(max(1 - (now - moment) / YEAR, 0.0), 1.0)


@transaction.atomic
def demo_service_history(*, seed: int, now: datetime | None = None) -> tuple[int, int]:
    """Decisions on the closed complaints and the assistant's dialogues; returns how many of
    each were written."""
    rng = random.Random(seed + 16)
    now = now or timezone.now()
    decided = []
    for complaint in Complaint.objects.filter(decided_at=None).exclude(closed_at=None):
        assert complaint.closed_at is not None
        taken = complaint.closed_at - complaint.received_at
        share = 0.9 - 0.4 * _progress(complaint.received_at, now) * rng.random()
        complaint.decided_at = complaint.received_at + taken * share
        complaint.decision = "已核实并处理"
        decided.append(complaint)
    Complaint.objects.bulk_update(decided, ["decided_at", "decision"], batch_size=BATCH)
    dialogues = []
    chats = Case.objects.filter(channel__in=CHAT_CHANNELS, merged_into=None).values_list(
        "pk", "channel", "language", "created_at", "customer_id"
    )
    for case_id, channel, language, created_at, customer_id in chats.iterator():
        handed = Dialogue(
            channel=channel,
            language=language,
            customer_id=customer_id,
            case_id=case_id,
            status=DialogueStatus.HANDED_OFF,
            created_at=created_at - timedelta(minutes=2),
            updated_at=created_at,
        )
        dialogues.append(handed)
        contained = 1.0 + 1.0 * _progress(created_at, now)  # answered alone per handed over
        for _ in range(int(contained) + (rng.random() < contained % 1)):
            moment = created_at - timedelta(minutes=rng.randint(30, 3 * 24 * 60))
            dialogues.append(
                Dialogue(
                    channel=channel,
                    language=language,
                    status=DialogueStatus.ASSISTANT,
                    created_at=moment,
                    updated_at=moment + timedelta(minutes=3),
                )
            )
    Dialogue.objects.bulk_create(dialogues, batch_size=BATCH)
    return len(decided), len(dialogues)
