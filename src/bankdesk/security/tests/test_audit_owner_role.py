"""PostgreSQL with a separate owner role, as docs/security-audit.md sets it up: bankdesk works
as the application role, which cannot empty, delete from, rewrite or unguard the audit log."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from bankdesk.security.audit import audit_chain, audit_verify
from bankdesk.security.models import AuditEntry
from bankdesk.tickets.services import case_create, case_status_change

DOCS = Path(__file__).resolve().parents[4] / "docs" / "security-audit.md"

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs DATABASE_URL (PostgreSQL)"),
]


def _grants_from_the_docs(role: str) -> str:
    """The grants exactly as the operators' page gives them, for a role of this test's own."""
    if not DOCS.exists():
        pytest.skip("docs/security-audit.md is not beside this checkout")
    found = re.search(r"-- bankdesk-grants:.*?-- end of bankdesk-grants", DOCS.read_text(), re.S)
    assert found, "the grants block is missing from docs/security-audit.md"
    return found.group(0).replace("bankdesk_app", role)


REFUSED = [
    f"TRUNCATE {AuditEntry._meta.db_table}",
    f"DELETE FROM {AuditEntry._meta.db_table}",
    f"UPDATE {AuditEntry._meta.db_table} SET action = 'case.nothing_happened'",
    f"ALTER TABLE {AuditEntry._meta.db_table} DISABLE TRIGGER USER",
    "DROP TRIGGER security_auditentry_append_only ON security_auditentry",
    "TRUNCATE security_audithead",
]


@pytest.mark.django_db
def test_the_application_role_works_but_cannot_empty_or_rewrite_the_audit_log(agent):
    # Roles are created inside the test's transaction, so they vanish with it.
    role = f"bankdesk_app_test_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cursor.execute(_grants_from_the_docs(role))
        cursor.execute(f"SET ROLE {role}")
    try:
        # bankdesk's own work goes on as the application role, chainer included.
        case = case_create(subject="转账失败", channel="app", actor=agent, text="转账失败")
        case_status_change(case=case, status="open", actor=agent)
        assert audit_chain() > 0
        assert audit_verify().is_intact

        for statement in REFUSED:
            with (
                pytest.raises(DatabaseError, match=r"permission denied|must be owner"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement)
        assert audit_verify().is_intact
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
