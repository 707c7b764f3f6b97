"""Ops tests: tests marked `redis` start their own redis-server (a subprocess on a free
port). With CI=true a missing redis-server fails them; elsewhere they are deselected
(and say so in the summary), as tests/conftest.py does for PostgreSQL."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config, items):
    if CI or shutil.which("redis-server"):
        return
    dropped = [i for i in items if i.get_closest_marker("redis") and Path(str(i.fspath)).is_relative_to(HERE)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if i not in dropped]
