"""Clean the header values kept before intake sanitised them.

Until now a customer's mail could leave a subject, a message id or a thread id with line breaks
or control characters in it (a folded `Message-ID: poison-id\\r\\n\\tBcc:…`), and the bank's reply
built from it could not be sent. Subjects become one line, as intake now keeps them; ids become
the digest intake now keeps for an id it cannot write back, which still tells the message apart.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

from django.db import migrations

DIGEST_ID_PREFIX = "sha256:"
SUBJECT_MAX = 200
# Controls (C0, DEL, C1) and the Unicode line and paragraph separators. PostgreSQL text never
# holds NUL, and its regular expressions refuse to name it.
UNSAFE = {
    "postgresql": "[\\x01-\\x1f\\x7f-\\x9f\\u2028\\u2029]",
    "default": "[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029]",
}


def _one_line(value: str) -> str:
    spaced = "".join(
        " " if char.isspace() or unicodedata.category(char) in {"Cc", "Cs", "Zl", "Zp"} else char
        for char in value
    )
    return " ".join(unicodedata.normalize("NFC", spaced).split())


def _digest(value: str) -> str:
    return DIGEST_ID_PREFIX + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()


def clean(apps: Any, schema_editor: Any) -> None:
    unsafe = UNSAFE.get(schema_editor.connection.vendor, UNSAFE["default"])
    Case = apps.get_model("tickets", "Case")
    Message = apps.get_model("tickets", "Message")
    Conversation = apps.get_model("tickets", "Conversation")
    for pk, subject in Case.objects.filter(subject__regex=unsafe).values_list("pk", "subject"):
        cleaned = _one_line(subject)[:SUBJECT_MAX].rstrip() or "（无主题）"
        Case.objects.filter(pk=pk).update(subject=cleaned)
    for pk, external_id in Message.objects.filter(external_id__regex=unsafe).values_list(
        "pk", "external_id"
    ):
        Message.objects.filter(pk=pk).update(external_id=_digest(external_id))
    for pk, thread_id in Conversation.objects.filter(external_thread_id__regex=unsafe).values_list(
        "pk", "external_thread_id"
    ):
        Conversation.objects.filter(pk=pk).update(external_thread_id=_digest(thread_id))


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0007_case_links_and_contacts_not_on_file"),
    ]

    operations = [migrations.RunPython(clean, migrations.RunPython.noop, elidable=True)]
