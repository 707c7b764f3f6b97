"""SLA sweep jobs (periodic).

The consumer runs the sweep every minute. `lock_task` keeps two runs from overlapping
in the worker (a slow sweep and the next minute's); the sweep itself is also safe
against a concurrent CLI or cron run (row locks / the SQLite write lock).
"""
from __future__ import annotations

from huey import crontab

from app.tasks import huey, in_app_context

EVERY_MINUTE = crontab(minute="*")


# A run still queued after 55 s is dropped: the next minute's sweep catches up anyway.
@huey.periodic_task(EVERY_MINUTE, name="sla_sweep", expires=55)
@huey.lock_task("sla-sweep")
@in_app_context
def sla_sweep() -> dict:
    """One escalation sweep at the current time; returns its summary."""
    from app.services import sla

    return sla.escalate_overdue().summary()
