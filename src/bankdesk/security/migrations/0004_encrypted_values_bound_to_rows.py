"""Bind every encrypted value written before row binding to the row it is in.

Values were sealed to their table and column only (`bdx1`); from now on each is also sealed to
its row's id (`bdx2`), so one moved to another row no longer opens. This rewrites the old ones,
in batches that each commit on their own (the migration is not atomic): if it is interrupted,
`migrate` runs it again and it continues where it stopped. Values an older bankdesk process
writes meanwhile stay readable; `bankdesk keys status` counts them and
`bankdesk keys rotate --resume` binds them.

A fresh database has nothing to bind and does not need the keys for this step.
"""

import sys

from django.db import migrations


def values_bind_to_rows(apps, schema_editor):
    from bankdesk.security.crypto import keyring
    from bankdesk.security.rotation import (
        column_bound_values_exist,
        encrypted_columns,
        reencrypt_all,
    )

    using = schema_editor.connection.alias
    columns = encrypted_columns(apps)
    if not column_bound_values_exist(columns=columns, using=using):
        return
    reencrypt_all(keyring(), columns=columns, using=using, progress=sys.stderr.isatty())


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("security", "0003_audit_append_only_trigger")]

    operations = [
        migrations.RunPython(values_bind_to_rows, migrations.RunPython.noop, elidable=True),
    ]
