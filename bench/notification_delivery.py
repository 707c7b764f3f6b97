"""Benchmark: draining the notifications outbox through the real delivery path.

    .venv/bin/python bench/notification_delivery.py [--messages 1000] [--pg URL]

A local HTTP stand-in (tests/notifications/standin.py, 127.0.0.1) plays Telegram. On a
fresh database (a temporary SQLite file, or the PostgreSQL URL given, whose public
schema is reset) with one linked technician:
  1. drain: `--messages` pending Telegram rows, each delivered by the delivery task
     (claim commit, HTTP sendMessage, record commit), one worker thread;
  2. recovery: the same number of rows in back-off after an outage (next try 5 minutes
     away); one relay tick probes the channel and releases the whole backlog;
  3. bell: the unread-count poll (GET /notifications/bell) 2,000 times through the
     Flask test client (one user with `--messages` unread notifications), beside
     /healthz through the same client.
huey runs in immediate mode (the task bodies run in this process, as the consumer
would run them). Bounded: a few tens of seconds for the defaults.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_TMP = tempfile.mkdtemp(prefix="evercold-notif-bench-")
os.environ.setdefault("INSTANCE_DIR", _TMP)
os.environ.setdefault("HUEY_SQLITE_PATH", os.path.join(_TMP, "huey.db"))
os.environ.pop("REDIS_URL", None)

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


def build_app(url: str, standin):
    from flask_migrate import upgrade

    from app import create_app
    from app.config import TestConfig

    app = create_app({
        **{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
        "SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": os.path.join(_TMP, "uploads"),
        "TELEGRAM_API_BASE": standin.telegram_base, "TELEGRAM_BOT_TOKEN": "123456:TEST-token",
        "SQLITE_BEGIN_OUTSIDE_REQUEST": "IMMEDIATE",
    })
    with app.app_context():
        upgrade()
    return app


def reset_pg(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def seed(app, n: int, *, in_back_off: bool):
    """n pending Telegram rows (and n unread in-app ones) for one linked technician."""
    from app.extensions import db
    from app.models import Notification, NotificationChannel, NotificationStatus
    from app.models.types import new_id
    from app import clock
    from tests.factories import build_world

    with app.app_context():
        clock.set_now(NOW)
        if not hasattr(app, "_bench_world"):
            world = build_world()
            world.tech.telegram_chat_id = "1001"
            db.session.commit()
            app._bench_world = (world.tech.id, world.tech.email)
        user_id = app._bench_world[0]
        later = NOW + timedelta(minutes=5)
        rows = []
        for i in range(n):
            base = {"user_id": user_id, "ticket_id": None, "kind": "ticket_assigned", "title": f"Ticket {i}",
                    "body": f"Ticket: TKT-202611-{i:05d}\nDescription: bench & <escaped>", "attempts": 0,
                    "created_at": NOW, "last_error": None, "external_id": None, "read_at": None,
                    "sent_at": None, "last_attempt_at": None}
            rows.append({**base, "id": new_id(), "channel": NotificationChannel.TELEGRAM,
                         "status": NotificationStatus.PENDING,
                         "next_attempt_at": later if in_back_off else NOW,
                         "queued_at": later if in_back_off else NOW,
                         "last_error": "502 Bad Gateway" if in_back_off else None,
                         "last_attempt_at": NOW - timedelta(minutes=2) if in_back_off else None,
                         "attempts": 5 if in_back_off else 0})
            if not in_back_off:
                rows.append({**base, "id": new_id(), "channel": NotificationChannel.IN_APP,
                             "status": NotificationStatus.SENT, "sent_at": NOW, "next_attempt_at": None,
                             "queued_at": None})
        db.session.execute(Notification.__table__.insert(), rows)
        db.session.commit()
        ids = [r["id"] for r in rows if r["channel"] == NotificationChannel.TELEGRAM]
        clock.set_now(None)
        return ids


def pending(app) -> int:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Notification, NotificationStatus

    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Notification).where(
            Notification.status != NotificationStatus.SENT)).scalar_one()


def run(url: str, n: int, label: str) -> dict:
    from app.jobs.notifications import deliver_notification, relay_notifications
    from app import clock
    from tests.factories import PASSWORD
    from tests.notifications.standin import StandIn

    standin = StandIn().start()
    app = build_app(url, standin)
    out = {"backend": label}
    try:
        ids = seed(app, n, in_back_off=False)
        clock.set_now(NOW)
        t0 = time.perf_counter()
        with app.app_context():
            for notification_id in ids:
                deliver_notification(notification_id)
        dt = time.perf_counter() - t0
        assert pending(app) == 0 and len(standin.telegram()) == n, "not all delivered"
        out["drain_msgs_per_s"] = n / dt
        out["drain_ms_per_msg"] = dt * 1000 / n

        standin.reset()
        seed(app, n, in_back_off=True)
        clock.set_now(NOW)
        t0 = time.perf_counter()
        with app.app_context():
            relay_notifications.call_local()  # probe -> success -> the backlog is released
        dt = time.perf_counter() - t0
        assert pending(app) == 0 and len(standin.telegram()) == n, "backlog not released"
        out["recovery_s"] = dt
        clock.set_now(None)

        client = app.test_client()
        client.post("/login", data={"email": app._bench_world[1], "password": PASSWORD})
        hx = {"HX-Request": "true"}
        assert b"bell-count" in client.get("/notifications/bell", headers=hx).data
        t0 = time.perf_counter()
        for _ in range(2000):
            client.get("/notifications/bell", headers=hx)
        out["bell_req_per_s"] = 2000 / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for _ in range(2000):
            client.get("/healthz")
        out["healthz_req_per_s"] = 2000 / (time.perf_counter() - t0)
    finally:
        standin.stop()
        from app.extensions import db

        with app.app_context():
            db.engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--pg", help="also run on this PostgreSQL URL (its public schema is reset)")
    args = parser.parse_args()
    results = [run(f"sqlite:///{_TMP}/bench.db", args.messages, "sqlite")]
    if args.pg:
        reset_pg(args.pg)
        results.append(run(args.pg, args.messages, "postgresql"))
    print(f"messages={args.messages}")
    for r in results:
        print(f"{r['backend']:>10}: drain {r['drain_msgs_per_s']:.0f} msg/s ({r['drain_ms_per_msg']:.2f} ms/msg), "
              f"backlog of {args.messages} released and sent after one relay tick in {r['recovery_s']:.2f} s, "
              f"bell poll {r['bell_req_per_s']:.0f} req/s vs /healthz {r['healthz_req_per_s']:.0f} req/s "
              f"(test client, {args.messages} unread)")


if __name__ == "__main__":
    main()
