"""Notifications tests: the channels pointed at a real local HTTP stand-in, huey in
immediate mode (tasks called directly, periodic ones with .call_local()), and a
moved clock for the back-off — no sleeps."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, NotificationChannel, User
from tests.notifications.standin import TOKEN, StandIn

T0 = "2026-11-24T09:00:00Z"
WEBHOOK_SECRET = "wh-secret-Zq8"
CHATS = {"tech": "1001", "tech2": "1002", "outsider_tech": "1003", "dispatcher": "2001",
         "dispatcher2": "2002", "manager": "3001", "admin": "4001"}
PHONES = {"tech": "+998900000001", "tech2": "+998900000002", "dispatcher": "+998901000001",
          "dispatcher2": "+998901000002", "manager": "+998902000001"}


@pytest.fixture(scope="session")
def standin():
    server = StandIn().start()
    yield server
    server.stop()


@pytest.fixture
def channels(app, standin):
    """Telegram and SMS switched on and pointed at the stand-in (config restored after)."""
    from app.tasks import delivery_huey

    keys = ("TELEGRAM_API_BASE", "TELEGRAM_BOT_TOKEN", "TELEGRAM_BOT_USERNAME", "TELEGRAM_WEBHOOK_SECRET",
            "SMS_GATEWAY_URL", "SMS_GATEWAY_AUTH_HEADER", "APP_TIMEZONE", "CHANNEL_CONNECT_TIMEOUT",
            "CHANNEL_READ_TIMEOUT")
    saved = {k: app.config.get(k) for k in keys}
    if standin._server is None:
        standin.start()
    standin.reset()
    delivery_huey.flush()
    app.config.update({
        "TELEGRAM_API_BASE": standin.telegram_base, "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BOT_USERNAME": "EvercoldDeskBot", "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SMS_GATEWAY_URL": standin.sms_url, "SMS_GATEWAY_AUTH_HEADER": "X-Api-Key: sms-key-1",
        "APP_TIMEZONE": "Asia/Tashkent",
    })
    yield standin
    app.config.update(saved)
    if standin._server is None:
        standin.start()
    standin.reset()
    delivery_huey.flush()


@pytest.fixture
def linked(world):
    """Everyone in the world has a Telegram chat and a phone (SMS) switched on."""
    for name, chat in CHATS.items():
        user = getattr(world, name)
        user.telegram_chat_id = chat
        user.phone = PHONES.get(name)
        user.notify_telegram = True
        user.notify_sms = True
    db.session.commit()
    return world


@pytest.fixture
def at(freeze):
    """at(seconds=..., minutes=...) after T0, or at() for T0: the frozen clock."""
    base = freeze(T0)

    def _at(**delta) -> datetime:
        return freeze(base + timedelta(**delta))

    return _at


def fresh() -> None:
    """End the test's own transaction so it sees what the tasks committed."""
    db.session.commit()
    db.session.expire_all()


def outbox(**where) -> list[Notification]:
    fresh()
    stmt = select(Notification).order_by(Notification.created_at, Notification.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(Notification, key) == value)
    return list(db.session.execute(stmt).scalars())


def recipients(kind: str, channel: NotificationChannel) -> set[str]:
    fresh()
    return set(db.session.execute(
        select(User.email).join(Notification, Notification.user_id == User.id)
        .where(Notification.kind == kind, Notification.channel == channel)
    ).scalars())


def relay() -> None:
    """One tick of the periodic relay, as the consumer would run it."""
    from app.jobs.notifications import relay_notifications

    relay_notifications.call_local()


def run_scheduled() -> int:
    """Run the retries huey holds in its schedule (their real-time eta is ignored: the
    rows' own next_attempt_at on the moved clock decides whether they are due)."""
    from app.tasks import delivery_huey

    tasks = delivery_huey.read_schedule(datetime(2100, 1, 1))
    for task in tasks:
        delivery_huey.execute(task, timestamp=datetime(2100, 1, 1))
    return len(tasks)
