"""The huey instances and the background tasks.

Two queues, each with its own consumer (Procfile):

- `huey` ("evercold", the `worker:` line): the periodic system jobs, the SLA sweep and
  the outbox relay. They only talk to the database, so they run on time whatever
  Telegram or the SMS gateway do.
- `delivery_huey` ("evercold-delivery", the `delivery:` line): one task per outbox
  message, and the Telegram message edits. These wait on the channels' HTTP answers;
  a channel that hangs can keep these workers busy, never the sweep's.

Both are built once, at import, from the environment: RedisHuey when REDIS_URL is set,
SqliteHuey in instance/ otherwise (one file of its own, never the app database; the two
queues are kept apart in it by name). Tasks take ids, never ORM objects, and run inside
an app context.
"""
from __future__ import annotations

import os
from functools import wraps

from huey import RedisHuey, SqliteHuey

from app.config import Config


def _build_huey(name: str):
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        return RedisHuey(name, url=redis_url, utc=True)
    path = Config.HUEY_SQLITE_PATH
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return SqliteHuey(name, filename=path, utc=True)


huey = _build_huey("evercold")  # system jobs: sweep and relay (periodic)
delivery_huey = _build_huey("evercold-delivery")  # Telegram / SMS deliveries
QUEUES = (huey, delivery_huey)
_app = None


def init_app(app) -> None:
    """Bind the Flask app tasks run in; tests switch both queues to immediate mode."""
    global _app
    _app = app
    if app.config.get("HUEY_IMMEDIATE"):
        for queue in QUEUES:
            queue.immediate = True
    # The services queue deliveries through this (they never import the job layer).
    from app.jobs.notifications import deliver_notification
    from app.services import notifications

    notifications.set_delivery_queue(deliver_notification)


def _get_app():
    global _app
    if _app is None:
        from app import create_app

        # The worker's statements may run longer than a page's (app/db_timeouts.py).
        _app = create_app({"DB_STATEMENT_TIMEOUT": Config.DB_JOB_STATEMENT_TIMEOUT})
    return _app


def in_app_context(fn):
    """Run the task inside an app context; commit once at the end, roll back on error."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        from app.extensions import db

        from flask import current_app, has_app_context

        app = current_app._get_current_object() if has_app_context() else _get_app()
        with app.app_context():
            try:
                result = fn(*args, **kwargs)
                db.session.commit()
                return result
            except Exception:
                db.session.rollback()
                raise
            finally:
                db.session.remove()

    return wrapper


# Register the jobs with their queues (each consumer imports this module: app.tasks.huey,
# app.tasks.delivery_huey).
from app.jobs import notifications as _notification_jobs  # noqa: E402,F401
from app.jobs import sla as _sla_jobs  # noqa: E402,F401
