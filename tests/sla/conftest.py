"""SLA tests: a frozen clock, a sweep helper, SQL statement counting, and Redis.

Tests marked `redis` start a real huey consumer against Redis. With CI=true Redis must
be there (the test fails if it is down); elsewhere an unreachable Redis deselects them,
as tests/conftest.py does for PostgreSQL.
"""
from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.helpers import count_statements  # noqa: F401  (the SLA tests import it from here)

HERE = Path(__file__).resolve().parent
CI = os.environ.get("CI", "").lower() == "true"
REDIS_HOST = "127.0.0.1"
REDIS_PORT = int(os.environ.get("SLA_TEST_REDIS_PORT", "6379"))
# A database number of its own, flushed by the test (override to share a Redis).
REDIS_DB = int(os.environ.get("SLA_TEST_REDIS_DB", "13"))
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


def _redis_up() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(config, items):
    if CI or _redis_up():
        return
    dropped = [i for i in items if i.get_closest_marker("redis") and Path(str(i.fspath)).is_relative_to(HERE)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if i not in dropped]


@pytest.fixture
def at(freeze):
    """Move the clock to T0 + offset: at(minutes=61), at(seconds=-1, minutes=60)."""

    def _at(**offset):
        return freeze(T0 + timedelta(**offset))

    return _at


@pytest.fixture
def sweep(ctx):
    """Run one sweep at the current clock (or `now`) and commit, as the worker does."""
    from app.extensions import db
    from app.services import sla

    def _sweep(now=None):
        result = sla.escalate_overdue(now)
        db.session.commit()
        return result

    return _sweep
