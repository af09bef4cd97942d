"""The database itself refuses to change or remove audit entries.

PostgreSQL: UPDATE and DELETE raise. SQLite: UPDATE raises (DELETE stays possible there
because the test database is emptied with DELETE; `bankdesk audit verify` catches removals).
"""

from django.db import migrations

PG_CREATE = """
CREATE OR REPLACE FUNCTION bankdesk_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER security_auditentry_append_only
    BEFORE UPDATE OR DELETE ON security_auditentry
    FOR EACH ROW EXECUTE FUNCTION bankdesk_audit_append_only();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS security_auditentry_append_only ON security_auditentry;
DROP FUNCTION IF EXISTS bankdesk_audit_append_only();
"""
SQLITE_CREATE = """
CREATE TRIGGER security_auditentry_no_update BEFORE UPDATE ON security_auditentry
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only (UPDATE refused)'); END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS security_auditentry_no_update;"


def create(apps, schema_editor):
    sql = {"postgresql": PG_CREATE, "sqlite": SQLITE_CREATE}.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql, params=None)


def drop(apps, schema_editor):
    sql = {"postgresql": PG_DROP, "sqlite": SQLITE_DROP}.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("security", "0002_audit_actor")]

    operations = [migrations.RunPython(create, drop)]
