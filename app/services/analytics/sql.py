"""Portable SQL pieces: the few functions whose SQL differs between SQLite and PostgreSQL.

See app/services/analytics/__init__.py for the definitions every report shares.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    String,
    literal,
    literal_column,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from app.models.types import UTCDateTime


# --- portable SQL pieces --------------------------------------------------------------

class epoch_seconds(FunctionElement):
    """Seconds since 1970 of a naive-UTC timestamp column, as a float, on both databases."""

    type = Float()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element, compiler, **kw):
    # date_part is double precision; EXTRACT is numeric since PostgreSQL 14, and slower.
    return "date_part('epoch', %s)" % compiler.process(element.clauses, **kw)


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return "((julianday(%s) - 2440587.5) * 86400.0)" % compiler.process(element.clauses, **kw)


class days_before(FunctionElement):
    """A timestamp column minus a whole number of days, comparable with the column
    (SQLite keeps the stored '.ffffff' so string comparison stays exact)."""

    type = UTCDateTime()
    inherit_cache = True
    name = "days_before"


@compiles(days_before, "postgresql")
def _days_before_pg(element, compiler, **kw):
    col, days = list(element.clauses)
    return "(%s - make_interval(days => %s))" % (compiler.process(col, **kw), compiler.process(days, **kw))


@compiles(days_before, "sqlite")
def _days_before_sqlite(element, compiler, **kw):
    col, days = list(element.clauses)
    c = compiler.process(col, **kw)
    return "(strftime('%%Y-%%m-%%d %%H:%%M:%%S', %s, '-' || %s || ' days') || substr(%s, 20))" % (
        c, compiler.process(days, **kw), c)


class json_text(FunctionElement):
    """json_text(body, "field"): a top-level field of a JSON document kept as text, as
    text (NULL if absent). The field name is code, never input; it rides along as a
    literal column so that it is part of the statement's cache key."""

    type = String()
    inherit_cache = True
    name = "json_text"

    def __init__(self, body, key: str):
        if not key.isidentifier():
            raise ValueError(key)
        super().__init__(body, literal_column(key))


def _json_parts(element, compiler, **kw):
    body, key = list(element.clauses)
    return compiler.process(body, **kw), key.name


@compiles(json_text, "postgresql")
def _json_text_pg(element, compiler, **kw):
    return "(CAST(%s AS JSON) ->> '%s')" % _json_parts(element, compiler, **kw)


@compiles(json_text, "sqlite")
def _json_text_sqlite(element, compiler, **kw):
    return "json_extract(%s, '$.%s')" % _json_parts(element, compiler, **kw)


class whole_minutes(FunctionElement):
    """Whole minutes (rounded down) from `earlier` to `later`; NULL when either is NULL.

    A hair (1e-5 min, 0.6 ms) is added before rounding down: SQLite's julianday() carries
    ~50 microseconds of floating-point error, and an exact 60 minutes must not become 59."""

    type = Integer()
    inherit_cache = True
    name = "whole_minutes"


@compiles(whole_minutes, "postgresql")
def _whole_minutes_pg(element, compiler, **kw):
    later, earlier = [compiler.process(c, **kw) for c in element.clauses]
    return "CAST(floor(date_part('epoch', %s - %s) / 60.0 + 1e-5) AS INTEGER)" % (later, earlier)


@compiles(whole_minutes, "sqlite")
def _whole_minutes_sqlite(element, compiler, **kw):
    later, earlier = [compiler.process(c, **kw) for c in element.clauses]
    return "CAST((julianday(%s) - julianday(%s)) * 1440.0 + 1e-5 AS INTEGER)" % (later, earlier)


class cents(FunctionElement):
    """A NUMERIC(.., 2) amount as whole hundredths, an integer (exact: the amount has two
    decimals; SQLite keeps NUMERIC as a float, hence the rounding)."""

    type = BigInteger()
    inherit_cache = True
    name = "cents"


@compiles(cents)
def _cents(element, compiler, **kw):
    return "CAST(ROUND(%s * 100) AS BIGINT)" % compiler.process(element.clauses, **kw)


class slot_of(FunctionElement):
    """The number of the `days`-long slot, counted from 1970, that a timestamp falls in.
    (`days` is written into the SQL, so GROUP BY can repeat the very same expression.)"""

    type = BigInteger()
    inherit_cache = True
    name = "slot_of"

    def __init__(self, ts, days: int):
        super().__init__(ts, literal_column(str(int(days))))


@compiles(slot_of, "postgresql")
def _slot_pg(element, compiler, **kw):
    ts, days = [compiler.process(c, **kw) for c in element.clauses]
    return "CAST(floor(date_part('epoch', %s) / (86400.0 * %s)) AS BIGINT)" % (ts, days)


@compiles(slot_of, "sqlite")
def _slot_sqlite(element, compiler, **kw):
    ts, days = [compiler.process(c, **kw) for c in element.clauses]
    return "CAST((julianday(%s) - 2440587.5) / %s AS INTEGER)" % (ts, days)


def _at(value: datetime):
    """A timestamp parameter stored the way the columns are (naive UTC)."""
    return literal(value, UTCDateTime())


