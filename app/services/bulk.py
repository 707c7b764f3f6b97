"""Ids made by the database for `INSERT ... SELECT`: the SLA sweep's events and outbox
rows are written by the database in one statement each (see sla._insert_events and
notifications.notify_many), so their ids are made there too."""
from __future__ import annotations


def sql_new_id(dialect_name: str) -> str:
    """SQL for a fresh opaque id like models.types.new_id() (32 hex digits), made by the
    database for each row of an `INSERT ... SELECT`."""
    if dialect_name == "postgresql":
        return "replace(CAST(gen_random_uuid() AS TEXT), '-', '')"
    return "lower(hex(randomblob(16)))"
