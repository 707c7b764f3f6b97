"""Writing many rows in one statement, fast (the SLA sweep's events and outbox rows).

SQLAlchemy's executemany runs every value of every row through the column types'
bind processors (UTC conversion, enum to string, date formatting): for 100,000 outbox
rows that Python work costs more than the database's. Here each distinct value is
processed once (a sweep's rows share a handful of timestamps and enum members), and
the rows go out as ONE statement: `INSERT ... SELECT FROM unnest(one array per
column)` on PostgreSQL, one DBAPI executemany on SQLite. The SLA sweep itself no
longer sends rows: its events and outbox rows are made by the database (`INSERT ...
SELECT`, ids from `sql_new_id`; see sla._insert_events and notifications.notify_many).
"""
from __future__ import annotations

import json
import os

from sqlalchemy import Table, text
from sqlalchemy.types import JSON

from app.extensions import db


def new_ids(n: int) -> list[str]:
    """n opaque ids like models.types.new_id() (32 hex digits), from one urandom call."""
    raw = os.urandom(16 * n).hex()
    return [raw[i:i + 32] for i in range(0, 32 * n, 32)]


def _column_values(column, values: list, dialect) -> list:
    if isinstance(column.type, JSON):
        return [None if v is None else json.dumps(v, separators=(",", ":")) for v in values]
    process = column.type._cached_bind_processor(dialect)
    if process is None:
        return values
    memo: dict = {}
    out = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        try:
            processed = memo[value]
        except KeyError:
            processed = memo[value] = process(value)
        except TypeError:  # unhashable
            processed = process(value)
        out.append(processed)
    return out


def sql_new_id(dialect_name: str) -> str:
    """SQL for a fresh opaque id like models.types.new_id() (32 hex digits), made by the
    database for each row of an `INSERT ... SELECT`."""
    if dialect_name == "postgresql":
        return "replace(CAST(gen_random_uuid() AS TEXT), '-', '')"
    return "lower(hex(randomblob(16)))"


def insert_many(table: Table, rows: list[dict]) -> None:
    """INSERT `rows` (dicts with the same keys, Python values as for Core) into
    `table` in one statement. Column defaults are not applied: give every value."""
    if not rows:
        return
    dialect = db.session.get_bind().dialect
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    values = [_column_values(col, [row[name] for row in rows], dialect) for col, name in zip(columns, names)]
    column_list = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    table_name = dialect.identifier_preparer.format_table(table)
    if dialect.name == "postgresql":
        arrays = [f"CAST(:c{i} AS {'TEXT' if isinstance(col.type, JSON) else col.type.compile(dialect=dialect)}[])"
                  for i, col in enumerate(columns)]
        selected = ", ".join(
            f"CAST(v.c{i} AS JSON)" if isinstance(col.type, JSON) else f"v.c{i}" for i, col in enumerate(columns))
        aliases = ", ".join(f"c{i}" for i in range(len(columns)))
        db.session.execute(
            text(f"INSERT INTO {table_name} ({column_list}) SELECT {selected} "
                 f"FROM unnest({', '.join(arrays)}) AS v({aliases})"),
            {f"c{i}": column for i, column in enumerate(values)})
    else:
        placeholders = ", ".join("?" for _ in names)
        db.session.connection().exec_driver_sql(
            f"INSERT INTO {table_name} ({column_list}) VALUES ({placeholders})", list(zip(*values)))
