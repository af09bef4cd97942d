"""The audit chain becomes keyed, and writers stop queuing on its head.

Entries gain a MAC under the audit key (`content_mac`), a random `nonce`, and a `link` the
chainer fills in after commit; `sequence` stays empty until then. The existing, unkeyed chain is
re-chained under the key here, in its own order, and each entry keeps its old hash in
`legacy_hash`, which its new MAC covers: `audit verify` still checks those old hashes, so a
change made before this upgrade is reported as it was, never sealed over by the key.

The database's own guard changes with it: the one UPDATE it allows is the chainer filling in
`sequence` and `link` of an entry that has none; every other UPDATE (and, on PostgreSQL, every
DELETE) is refused.

Going back is refused once the chain holds entries: it would trade the keyed chain for one
anyone can recompute.
"""

from django.conf import settings
from django.db import migrations, models
from django.db.migrations.exceptions import IrreversibleError

from bankdesk.security.audit_mac import GENESIS, AuditKey, EntryContent

# -- the database's guard ----------------------------------------------------------------------

OLD_PG = """
CREATE OR REPLACE FUNCTION bankdesk_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER security_auditentry_append_only
    BEFORE UPDATE OR DELETE ON security_auditentry
    FOR EACH ROW EXECUTE FUNCTION bankdesk_audit_append_only();
"""
NEW_PG = """
CREATE OR REPLACE FUNCTION bankdesk_audit_append_only() RETURNS trigger AS $$
BEGIN
    -- The one change allowed: the chainer filling in an entry's place in the chain, once.
    IF TG_OP = 'UPDATE' AND OLD.sequence IS NULL
       AND to_jsonb(NEW) - 'sequence' - 'link' = to_jsonb(OLD) - 'sequence' - 'link' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER security_auditentry_append_only
    BEFORE UPDATE OR DELETE ON security_auditentry
    FOR EACH ROW EXECUTE FUNCTION bankdesk_audit_append_only();
"""
DROP_PG = """
DROP TRIGGER IF EXISTS security_auditentry_append_only ON security_auditentry;
DROP FUNCTION IF EXISTS bankdesk_audit_append_only();
"""
OLD_SQLITE = """
CREATE TRIGGER security_auditentry_no_update BEFORE UPDATE ON security_auditentry
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only (UPDATE refused)'); END;
"""
# SQLite has no row-to-JSON: every column but sequence and link is named. A test updates each
# column of the model in turn, so a column added later without joining this list fails it.
SEALED_COLUMNS = (
    "id",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "fields",
    "reason",
    "origin_ip",
    "request_id",
    "created_at",
    "nonce",
    "content_mac",
    "legacy_hash",
)
NEW_SQLITE = f"""
CREATE TRIGGER security_auditentry_no_update BEFORE UPDATE ON security_auditentry
WHEN OLD.sequence IS NOT NULL
    OR {" OR ".join(f"NEW.{column} IS NOT OLD.{column}" for column in SEALED_COLUMNS)}
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only (UPDATE refused)'); END;
"""
DROP_SQLITE = "DROP TRIGGER IF EXISTS security_auditentry_no_update;"


def _run(schema_editor, by_vendor):
    sql = by_vendor.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql, params=None)


def drop_guard(apps, schema_editor):
    _run(schema_editor, {"postgresql": DROP_PG, "sqlite": DROP_SQLITE})


def old_guard(apps, schema_editor):
    _run(schema_editor, {"postgresql": OLD_PG, "sqlite": OLD_SQLITE})


def new_guard(apps, schema_editor):
    _run(schema_editor, {"postgresql": NEW_PG, "sqlite": NEW_SQLITE})


# -- re-chaining the existing entries ----------------------------------------------------------

BATCH = 2000


def rekey(apps, schema_editor):
    """Seal every existing entry and link them under the audit key, in their chain's order."""
    entries = apps.get_model("security", "AuditEntry")
    heads = apps.get_model("security", "AuditHead")
    alias = schema_editor.connection.alias
    key = AuditKey(settings.BANKDESK_AUDIT_KEY.encode("utf-8"))
    link, last, batch = GENESIS, 0, []
    for entry in entries.objects.using(alias).order_by("sequence").iterator(chunk_size=BATCH):
        entry.legacy_hash = entry.entry_hash
        entry.content_mac = key.entry_mac(
            EntryContent(
                nonce="",
                actor_id=entry.actor_id,
                actor_name=entry.actor_name,
                action=entry.action,
                object_type=entry.object_type,
                object_id=entry.object_id,
                fields=entry.fields,
                reason=entry.reason,
                origin_ip=entry.origin_ip,
                request_id=entry.request_id,
                created_at=entry.created_at,
                legacy_hash=entry.legacy_hash,
            )
        )
        link = key.link_mac(sequence=entry.sequence, entry_mac=entry.content_mac, previous=link)
        entry.link, last = link, entry.sequence
        batch.append(entry)
        if len(batch) == BATCH:
            entries.objects.using(alias).bulk_update(batch, ["legacy_hash", "content_mac", "link"])
            batch = []
    entries.objects.using(alias).bulk_update(batch, ["legacy_hash", "content_mac", "link"])
    head = heads.objects.using(alias).filter(pk=1).first()
    if head is None and not last:
        return  # a new installation: the chainer makes the head with the first entry
    # A head that counted more entries than are left keeps saying so: `audit verify` reports
    # the removal, as it did before the upgrade.
    heads.objects.using(alias).update_or_create(
        pk=1,
        defaults={
            "sequence": max(last, head.sequence if head else 0),
            "link": link,
            "key_fingerprint": key.fingerprint,
        },
    )


def refuse_unless_empty(apps, schema_editor):
    entries = apps.get_model("security", "AuditEntry")
    if entries.objects.using(schema_editor.connection.alias).exists():
        raise IrreversibleError(
            "the audit chain is keyed and holds entries; it is not turned back into an "
            "unkeyed one"
        )
    apps.get_model("security", "AuditHead").objects.using(
        schema_editor.connection.alias
    ).update(link="")


class Migration(migrations.Migration):
    dependencies = [("security", "0004_encrypted_values_bound_to_rows")]

    operations = [
        migrations.RunPython(drop_guard, old_guard),
        migrations.AlterField(
            model_name="auditentry",
            name="sequence",
            field=models.PositiveBigIntegerField(blank=True, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="nonce",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="content_mac",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditentry",
            name="link",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="legacy_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RenameField(model_name="audithead", old_name="entry_hash", new_name="link"),
        migrations.AddField(
            model_name="audithead",
            name="key_fingerprint",
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.RunPython(rekey, refuse_unless_empty),
        migrations.RemoveField(model_name="auditentry", name="previous_hash"),
        migrations.RemoveField(model_name="auditentry", name="entry_hash"),
        migrations.AlterField(
            model_name="auditentry",
            name="content_mac",
            field=models.CharField(max_length=64, unique=True),
        ),
        migrations.AlterModelOptions(
            name="auditentry",
            options={"ordering": ["id"], "verbose_name_plural": "audit entries"},
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["created_at", "id"], name="audit_time"),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["action", "created_at"], name="audit_action_time"),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(
                condition=models.Q(sequence__isnull=True), fields=["id"], name="audit_unchained"
            ),
        ),
        migrations.RunPython(new_guard, drop_guard),
    ]
