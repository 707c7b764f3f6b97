"""The one source of time, below models and services (both read it). Tests move it;
nobody else calls datetime.now()."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

_frozen: datetime | None = None


def now() -> datetime:
    """Current time, UTC, timezone-aware (or the time a test set)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(timezone.utc)


def set_now(value: datetime | None) -> None:
    """Freeze the clock at `value` (aware); None returns to real time."""
    global _frozen
    if value is not None and value.tzinfo is None:
        raise ValueError("the clock needs an aware datetime")
    _frozen = value


def advance(**kwargs) -> datetime:
    """Move a frozen clock forward by a timedelta's keyword arguments."""
    global _frozen
    base = _frozen or datetime.now(timezone.utc)
    _frozen = base + timedelta(**kwargs)
    return _frozen
