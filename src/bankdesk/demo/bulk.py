"""Fast loading of generated rows: executemany on SQLite, COPY on PostgreSQL.

Only the demo bank writes this way. Its rows are built as plain tuples with ids chosen up front,
so millions of cases, events and messages load in minutes instead of hours; table and column
names still come from the models, so a renamed field cannot silently go stale here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Max, Model

from bankdesk.lib.errors import BankdeskError
from bankdesk.security.fields import EncryptedTextField

_DAY = 86_400
_CHECK_CHUNK = 500


class UnsupportedDatabase(BankdeskError):
    code = "unsupported_database"


class BulkTable:
    """One model's table and the columns, in row order, that generated rows fill.

    Values for encrypted fields are given in plain text and sealed here by the field itself, to
    the row's id (chosen up front, so the table's columns must include it): the stored
    ciphertext is exactly what the ORM would have written.
    """

    def __init__(self, model: type[Model], fields: Sequence[str]) -> None:
        meta = model._meta
        self.model = model
        self.fields = tuple(fields)
        self.table = meta.db_table
        self.columns: list[str] = []
        self.encrypted: list[tuple[int, EncryptedTextField]] = []
        for position, name in enumerate(fields):
            field = meta.get_field(name)
            column = getattr(field, "column", None)
            if not isinstance(column, str):
                raise TypeError(f"{model.__name__}.{name} is not a concrete column")
            self.columns.append(column)
            if isinstance(field, EncryptedTextField):
                self.encrypted.append((position, field))
        self.pk_position = self.fields.index(meta.pk.name) if meta.pk.name in self.fields else None
        if self.encrypted and self.pk_position is None:
            raise TypeError(f"{model.__name__} rows need their ids here: values are sealed to them")

    def prepare(self, rows: Sequence[Sequence[object]]) -> Sequence[Sequence[object]]:
        """The rows as stored: encrypted fields sealed to their rows, everything else as given."""
        if not self.encrypted or self.pk_position is None:
            return rows
        prepared = []
        for row in rows:
            values = list(row)
            pk = values[self.pk_position]
            for position, field in self.encrypted:
                values[position] = field.get_prep_value(field.seal(values[position], pk=pk))
            prepared.append(values)
        return prepared


class Timestamps:
    """Turns whole seconds since the epoch into the text each database stores for a datetime.

    Django keeps aware datetimes as naive UTC text on SQLite; PostgreSQL parses an explicit
    offset. Formatting goes through a per-day cache because it runs tens of millions of times.
    """

    def __init__(self, vendor: str) -> None:
        self.suffix = "+00" if vendor == "postgresql" else ""
        self._days: dict[int, str] = {}
        self._times = [
            f" {hour:02d}:{minute:02d}:{second:02d}{self.suffix}"
            for hour in range(24)
            for minute in range(60)
            for second in range(60)
        ]

    def day(self, seconds: int) -> str:
        """The UTC calendar date of `seconds`, as YYYY-MM-DD."""
        day = seconds // _DAY
        text = self._days.get(day)
        if text is None:
            text = datetime.fromtimestamp(day * _DAY, tz=UTC).strftime("%Y-%m-%d")
            self._days[day] = text
        return text

    def __call__(self, seconds: int) -> str:
        day, rest = divmod(seconds, _DAY)
        text = self._days.get(day)
        if text is None:
            text = self.day(seconds)
        return text + self._times[rest]


class BulkWriter:
    """Inserts generated rows into the default database, one call per table per batch."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        if self.vendor not in {"sqlite", "postgresql"}:
            raise UnsupportedDatabase(
                f"the demo loader supports SQLite and PostgreSQL, not {self.vendor}"
            )
        self.timestamps = Timestamps(self.vendor)

    def insert(self, table: BulkTable, rows: Sequence[Sequence[object]]) -> None:
        """Write `rows` (values in `table.columns` order). Call inside a transaction."""
        if not rows:
            return
        rows = table.prepare(rows)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(column) for column in table.columns)
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if self.vendor == "postgresql":
                with raw.copy(f"COPY {quote(table.table)} ({columns}) FROM STDIN") as copy:
                    write_row = copy.write_row
                    for row in rows:
                        write_row(row)
            else:
                placeholders = ", ".join(["%s"] * len(table.columns))
                raw.executemany(
                    f"INSERT INTO {quote(table.table)} ({columns}) VALUES ({placeholders})",  # noqa: S608 - names from model meta
                    rows,
                )

    @staticmethod
    def next_id(model: type[Model]) -> int:
        """The first id after every row the table holds now."""
        current = model._default_manager.aggregate(top=Max("pk"))["top"]
        return int(current or 0) + 1

    def reset_sequences(self, models: Iterable[type[Model]]) -> None:
        """Move PostgreSQL's id sequences past the ids chosen here, so the ORM can insert again;
        and refresh the planner's statistics, which a bulk load leaves badly out of date."""
        models = list(models)
        with connection.cursor() as cursor:
            if self.vendor != "postgresql":  # SQLite takes max(rowid) + 1 by itself
                cursor.execute("PRAGMA optimize")
                return
            for statement in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)
            for model in models:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def existing_values(
    model: type[Model], field: str, values: Iterable[str], **filters: object
) -> set[str]:
    """Which of `values` the table already holds in `field` (reads in chunks of bounded size)."""
    pending = list(dict.fromkeys(values))
    found: set[str] = set()
    for start in range(0, len(pending), _CHECK_CHUNK):
        chunk = pending[start : start + _CHECK_CHUNK]
        found.update(
            model._default_manager.filter(**{f"{field}__in": chunk}, **filters).values_list(
                field, flat=True
            )
        )
    return found
