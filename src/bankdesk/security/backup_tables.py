"""Which tables a backup holds, and how their rows are written out and read back portably.

Rows travel as Django's "python" serialisation, one JSON object per line (the layout of
Django's jsonl fixtures) but with datetimes kept to the microsecond: the audit chain seals
them at that precision. Encrypted fields are read through the ORM, so the lines hold their
plaintext; they only ever exist inside the sealed archive, and are encrypted again under this
installation's keys when loaded.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.core import serializers
from django.core.management.color import no_style
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.models import Model
from django.db.models.sql import InsertQuery

from bankdesk.lib.iterables import batched
from bankdesk.security.backup_archive import BackupUnreadable
from bankdesk.security.fields import EncryptedTextField

# Left out of every backup, with the reason. A restore empties them all the same.
EXCLUDED: dict[str, str] = {
    "sessions.session": "sign-ins do not survive a restore: everyone signs in again",
    "security.ratecounter": "rate-limit counts of past minutes mean nothing later",
    "security.keycheck": (
        "proves which keys encrypted the database it sits in; restored values are "
        "encrypted under this installation's keys, whose checks are already recorded"
    ),
}
# Filled by `migrate` itself (and the key check by the key ring); not a sign of data. A restore
# replaces content types and permissions with the backup's rows, ids included.
# Rows that `migrate` itself creates (the standard business calendars, the complaint
# taxonomy, the regulators' statutory SLA policies, the survey template, the follow-up
# rules, the plan's targets, the segments and service plans it seeds): a freshly installed database
# holding only these still counts as empty for a restore.
FILLED_BY_SETUP = frozenset(
    {
        "contenttypes.contenttype",
        "auth.permission",
        "security.keycheck",
        "sla.businesscalendar",
        "sla.workingperiod",
        "sla.calendarday",
        "sla.slasettingsstamp",
        "sla.slapolicy",
        "sla.slatarget",
        "sla.slapolicy_categories",
        "complaints.complaintclass",
        "feedback.followuprule",
        "feedback.surveytemplate",
        "analytics.target",
        "personalization.segment",
        "personalization.serviceplan",
    }
)
SERIALISE_BATCH = 200
PART_BYTES = 4 << 20
PART_ROWS = 20_000
INSERT_BATCH = 500


def _dependencies(model: type[Model], scope: set[type[Model]]) -> set[type[Model]]:
    related = {f.related_model for f in model._meta.local_fields if f.is_relation}
    return {m for m in related if isinstance(m, type) and m in scope and m is not model}


def backup_models() -> list[type[Model]]:
    """Every table a backup holds, each after the tables it points to.

    Cycles (none today) fall back to app order; the load defers constraint checks anyway.
    """
    candidates = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and model._meta.label_lower not in EXCLUDED
    ]
    scope = set(candidates)
    ordered: list[type[Model]] = []
    placed: set[type[Model]] = set()
    remaining = list(candidates)
    while remaining:
        ready = next((m for m in remaining if _dependencies(m, scope) <= placed), remaining[0])
        remaining.remove(ready)
        ordered.append(ready)
        placed.add(ready)
    return ordered


def model_for_label(label: str) -> type[Model]:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError) as exc:
        raise BackupUnreadable(
            f"the backup holds table {label}, which this bankdesk lacks"
        ) from exc


class _RowEncoder(json.JSONEncoder):
    """Django's encoder cuts datetimes to milliseconds; the audit MACs need microseconds."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime | datetime.date | datetime.time):
            return o.isoformat()
        if isinstance(o, Decimal):
            return str(o)
        return super().default(o)


def table_rows_dump(model: type[Model], *, using: str) -> Iterator[tuple[bytes, int]]:
    """The table's rows in primary-key order, as parts of JSON lines with their row counts."""
    serializer = serializers.get_serializer("python")()
    # Local fields only: many-to-many links are their own (auto-created) tables in the backup.
    fields = [f.name for f in model._meta.local_fields]
    rows = model._base_manager.using(using).order_by("pk").iterator(chunk_size=2000)
    part = bytearray()
    count = 0
    for batch in batched(rows, SERIALISE_BATCH):
        for record in serializer.serialize(batch, fields=fields):
            part += json.dumps(
                record, cls=_RowEncoder, ensure_ascii=False, separators=(",", ":")
            ).encode()
            part += b"\n"
        count += len(batch)
        if len(part) >= PART_BYTES or count >= PART_ROWS:
            yield bytes(part), count
            part.clear()
            count = 0
    if count:
        yield bytes(part), count


def table_rows_load(model: type[Model], content: bytes, *, using: str) -> int:
    """Insert one part's rows exactly as they were: same ids, no save() hooks, no auto_now.

    AuditEntry.save() and auto_now fields would refuse or rewrite rows; a raw insert keeps
    every value, so the audit MACs still match. Encrypted fields are encrypted on the way in,
    under this installation's primary key and sealed to their rows' restored ids.
    """
    records = [json.loads(line) for line in content.splitlines() if line]
    label = model._meta.label_lower
    if any(record.get("model") != label for record in records):
        raise BackupUnreadable(f"the rows filed under {label} belong to another table")
    objects = [item.object for item in serializers.deserialize("python", records, using=using)]
    fields = [f for f in model._meta.local_concrete_fields if not f.generated]
    encrypted = [f for f in fields if isinstance(f, EncryptedTextField)]
    for obj in objects:
        for field in encrypted:
            setattr(obj, field.attname, field.seal(getattr(obj, field.attname), pk=obj.pk))
    connection = connections[using]
    size = max(1, min(INSERT_BATCH, connection.ops.bulk_batch_size(fields, objects)))
    for batch in batched(objects, size):
        query = InsertQuery(model)
        query.insert_values(fields, batch, raw=True)
        query.get_compiler(using=using).execute_sql(returning_fields=None)
    return len(objects)


def tables_with_rows(*, using: str) -> list[str]:
    """Tables holding anything a person or the application put there."""
    return [
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed
        and not model._meta.proxy
        and model._meta.label_lower not in FILLED_BY_SETUP
        and model._base_manager.using(using).exists()
    ]


def tables_empty(*, using: str) -> None:
    """Empty every table except the key checks, in the caller's transaction.

    On PostgreSQL this is TRUNCATE, which the audit table's row trigger does not see.
    """
    connection = connections[using]
    keep = {apps.get_model("security.keycheck")._meta.db_table}
    tables = [
        table
        for table in connection.introspection.django_table_names(
            only_existing=True, include_views=False
        )
        if table not in keep
    ]
    statements = connection.ops.sql_flush(no_style(), tables, reset_sequences=True)
    connection.ops.execute_sql_flush(statements)


def sequences_reset(models: list[type[Model]], *, using: str) -> None:
    """Point PostgreSQL's id sequences past the restored ids (SQLite needs nothing)."""
    connection = connections[using]
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def schema_applied(*, using: str) -> dict[str, list[str]]:
    """The migrations applied to the database, by app: rows only fit the schema they left."""
    loader = MigrationLoader(connections[using], ignore_no_migrations=True)
    result: dict[str, list[str]] = {}
    for app_label, name in sorted(loader.applied_migrations or {}):
        if (app_label, name) in loader.graph.nodes:
            result.setdefault(app_label, []).append(name)
    return result


def schema_differences(backup: dict[str, list[str]], here: dict[str, list[str]]) -> str:
    """Empty when the two schemas match, else the migrations only one side has."""
    backup_set = {f"{app}.{name}" for app, names in backup.items() for name in names}
    here_set = {f"{app}.{name}" for app, names in here.items() for name in names}
    parts = []
    if backup_set - here_set:
        parts.append("only in the backup: " + ", ".join(sorted(backup_set - here_set)))
    if here_set - backup_set:
        parts.append("only here: " + ", ".join(sorted(here_set - backup_set)))
    return "; ".join(parts)
