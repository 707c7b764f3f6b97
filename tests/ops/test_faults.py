"""Faults (docs/operations.md, "Faults and what happens"): the database connection
dropped mid-request, the worker killed mid-sweep, Redis down, the disk full on upload."""
from __future__ import annotations

import errno
import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Notification, NotificationStatus, ServiceTicket, TicketCounter, TicketEvent, TicketPhoto, TicketPriority
from app.services import numbering
from tests.factories import jpeg_bytes, make_ticket
from tests.ops.conftest import free_port
from tests.services.flow import in_progress

ROOT = Path(__file__).resolve().parents[2]


def _new_ticket_body(world) -> dict:
    return {"branchId": world.branch.id, "categoryId": world.subcategory.category_id,
            "subcategoryId": world.subcategory.id, "description": "Freezer alarm", "priority": "HIGH"}


def _counts() -> dict:
    db.session.rollback()  # a fresh look
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m))
            for m in (ServiceTicket, TicketEvent, TicketCounter, Notification)}


def _no_traceback(r) -> None:
    body = r.get_data(as_text=True)
    assert r.is_json and "Traceback" not in body and "psycopg" not in body and "sqlite3" not in body


# --- the database connection drops mid-request -----------------------------------------

@pytest.mark.postgres_only
def test_a_connection_killed_mid_create_leaves_no_half_written_ticket(app, world, api, monkeypatch):
    """PostgreSQL terminates the request's backend right after the ticket number was
    taken (the counter row is written): the whole transaction is gone."""
    killer = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")
    real_next = numbering.next_ticket_number
    killed = []

    def next_number_then_die(at):
        number = real_next(at)
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        with killer.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        killed.append(pid)
        return number

    before = _counts()
    dispatcher = api.as_(world.dispatcher)
    monkeypatch.setattr(numbering, "next_ticket_number", next_number_then_die)
    r = dispatcher.post("/api/tickets", json=_new_ticket_body(world))
    monkeypatch.setattr(numbering, "next_ticket_number", real_next)
    killer.dispose()

    assert killed, "the hook ran"
    assert r.status_code in (500, 503), r.get_data(as_text=True)
    assert "try again" in r.get_json()["error"]
    _no_traceback(r)
    assert _counts() == before  # no ticket, no event, no counter row, no notification

    again = dispatcher.post("/api/tickets", json=_new_ticket_body(world))
    assert again.status_code == 201, again.get_json()
    assert again.get_json()["ticketNumber"].endswith("-00001")  # the lost request consumed no number
    assert _counts()["ServiceTicket"] == before["ServiceTicket"] + 1


@pytest.mark.sqlite_only
def test_a_database_error_mid_create_on_sqlite_leaves_no_half_written_ticket(app, world, api, monkeypatch):
    """SQLite has no connection to kill: the same point fails with the error a lost
    database file gives ("disk I/O error")."""
    real_next = numbering.next_ticket_number

    def next_number_then_fail(at):
        real_next(at)
        raise sa.exc.OperationalError("UPDATE service_tickets", {}, Exception("disk I/O error"))

    before = _counts()
    dispatcher = api.as_(world.dispatcher)
    monkeypatch.setattr(numbering, "next_ticket_number", next_number_then_fail)
    r = dispatcher.post("/api/tickets", json=_new_ticket_body(world))
    monkeypatch.setattr(numbering, "next_ticket_number", real_next)
    assert r.status_code == 503 and "try again" in r.get_json()["error"]
    _no_traceback(r)
    assert _counts() == before
    again = dispatcher.post("/api/tickets", json=_new_ticket_body(world))
    assert again.status_code == 201 and again.get_json()["ticketNumber"].endswith("-00001")


# --- the worker is killed mid-sweep -------------------------------------------------------

_PAUSED_SWEEP = """
import sys, time
from app.services import sla
real = sla.escalate_overdue
def paused(now=None):
    result = real(now)          # every UPDATE and INSERT of the sweep has run (flushed)...
    print("SWEPT", result.summary()["escalatedCount"], flush=True)
    time.sleep(120)             # ...and the commit never comes: SIGKILL lands here
    return result
sla.escalate_overdue = paused
from flask.cli import main
sys.argv = ["flask", "--app", "wsgi", "sla", "escalate", "--now", sys.argv[1]]
main()
"""


def _cli_env(app, tmp_path) -> dict:
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "PYTHONPATH": str(ROOT),
           "INSTANCE_DIR": str(tmp_path / "instance"), "HUEY_SQLITE_PATH": str(tmp_path / "huey.db"),
           "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    return env


def _wait_for_idle_backends(app) -> None:
    """On PostgreSQL the killed process's backend rolls back when it sees the socket close."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    deadline = time.monotonic() + 20
    while True:
        db.session.rollback()
        busy = db.session.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"))
        if not busy or time.monotonic() > deadline:
            return
        db.session.execute(text("SELECT pg_sleep(0.05)"))  # the database paces the wait


def _escalation_state(ids):
    db.session.rollback()
    levels = dict(db.session.execute(select(ServiceTicket.id, ServiceTicket.escalation_level)
                                     .where(ServiceTicket.id.in_(ids))).all())
    escalated = dict(db.session.execute(select(TicketEvent.ticket_id, func.count())
                                        .where(TicketEvent.ticket_id.in_(ids), TicketEvent.kind == "escalated")
                                        .group_by(TicketEvent.ticket_id)).all())
    return levels, escalated


def test_a_sweep_killed_before_its_commit_leaves_every_ticket_untouched_and_the_next_catches_up(
        app, world, freeze, tmp_path):
    t0 = freeze("2026-11-24T09:00:00Z")
    ids = [make_ticket(world, priority=TicketPriority.CRITICAL).id for _ in range(3)]
    db.session.commit()
    notifications_before = _counts()["Notification"]
    later = (t0 + timedelta(hours=3)).isoformat()
    env = _cli_env(app, tmp_path)

    proc = subprocess.Popen([sys.executable, "-c", _PAUSED_SWEEP, later], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("SWEPT 3"), line
        # Mid-sweep, before the commit: nobody sees anything of it.
        levels, escalated = _escalation_state(ids)
        assert set(levels.values()) == {0} and escalated == {}
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    _wait_for_idle_backends(app)

    levels, escalated = _escalation_state(ids)
    assert set(levels.values()) == {0} and escalated == {}
    assert _counts()["Notification"] == notifications_before  # no alert went out for the lost sweep

    def sweep():
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "sla", "escalate", "--now", later],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    assert sweep()["escalatedCount"] == 3
    levels, escalated = _escalation_state(ids)
    assert set(levels.values()) == {1} and escalated == {i: 1 for i in ids}
    assert sweep()["escalatedCount"] == 0  # each ticket escalated once
    assert _escalation_state(ids)[1] == {i: 1 for i in ids}


# --- Redis down ----------------------------------------------------------------------------

class RedisProcess:
    """A real redis-server on a free loopback port, stopped and started at will."""

    def __init__(self):
        self.port = free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        conn = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 20
        while True:
            try:
                conn.ping()
                return self
            except redis.exceptions.ConnectionError:
                assert self.proc.poll() is None, "redis-server exited"
                assert time.monotonic() < deadline, "redis-server did not answer"
                try:
                    self.proc.wait(timeout=0.05)  # paces the polling and notices an exit
                except subprocess.TimeoutExpired:
                    pass

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.proc = None


@pytest.fixture
def redis_server():
    server = RedisProcess()
    yield server
    server.stop()


@pytest.fixture
def queue_on(monkeypatch):
    """Point the delivery queue (app.tasks.delivery_huey) at Redis (not immediate mode) for this test."""
    from huey.storage import RedisStorage

    from app.tasks import delivery_huey

    def _on(port):
        monkeypatch.setattr(delivery_huey, "_immediate", False)
        monkeypatch.setattr(delivery_huey, "storage", RedisStorage("evercold-faults", url=f"redis://127.0.0.1:{port}/0"))
        return delivery_huey

    return _on


@pytest.mark.redis
def test_with_redis_down_tickets_are_still_created_and_queued_work_catches_up_when_it_returns(
        app, world, api, freeze, redis_server, queue_on):
    from tests.notifications.conftest import CHATS, TOKEN, StandIn

    standin = StandIn().start()
    saved = {k: app.config.get(k) for k in ("TELEGRAM_API_BASE", "TELEGRAM_BOT_TOKEN")}
    app.config.update({"TELEGRAM_API_BASE": standin.telegram_base, "TELEGRAM_BOT_TOKEN": TOKEN})
    try:
        world.tech.telegram_chat_id = CHATS["tech"]
        world.tech.notify_telegram = True
        db.session.commit()
        t0 = freeze("2026-11-24T09:00:00Z")
        redis_server.start()
        huey = queue_on(redis_server.port)
        redis_server.stop()  # Redis goes away

        r = api.as_(world.dispatcher).post("/api/tickets", json=_new_ticket_body(world))
        assert r.status_code == 201, r.get_json()
        db.session.rollback()
        pending = db.session.execute(select(Notification.id).where(Notification.status == NotificationStatus.PENDING)).scalars().all()
        assert pending, "the assignment is to be sent to the technician's Telegram"
        assert standin.telegram() == []  # nothing sent while the queue is down
        assert api.as_(world.dispatcher).get(f"/api/tickets/{r.get_json()['id']}").status_code == 200

        redis_server.start()  # Redis is back (empty: the failed enqueue left nothing)
        assert huey.storage.queue_size() == 0
        freeze(t0 + timedelta(minutes=2))
        from app.jobs.notifications import relay_notifications

        relay_notifications.call_local()  # the worker's minute tick
        assert huey.storage.queue_size() == len(pending)

        # The worker drains the queue: each row is sent once.
        while (task := huey.dequeue()) is not None:
            huey.execute(task)
        db.session.rollback()
        statuses = db.session.execute(select(Notification.status).where(Notification.id.in_(pending))).scalars().all()
        assert set(statuses) == {NotificationStatus.SENT}
        assert len(standin.telegram()) == len(pending)
    finally:
        app.config.update(saved)
        standin.stop()


# --- disk full on upload ---------------------------------------------------------------------

def _files(app) -> list[str]:
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _upload(tech, ticket_id):
    form = {"file": (io.BytesIO(jpeg_bytes()), "after.jpg"), "type": "after"}
    return tech.post(f"/api/tickets/{ticket_id}/photos", data=form, content_type="multipart/form-data")


def _disk_fills_after(monkeypatch, writes_that_fit: int):
    """The disk is full once `writes_that_fit` files have been written (fsync says ENOSPC,
    as it does when the data cannot be placed)."""
    import app.services.storage as storage_module

    real_fsync = os.fsync
    calls = []

    def fsync(fd):
        calls.append(fd)
        if len(calls) > writes_that_fit:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(storage_module.os, "fsync", fsync)
    return calls


@pytest.mark.parametrize("writes_that_fit", [0, 1], ids=["photo", "thumbnail"])
def test_a_full_disk_refuses_the_upload_clearly_and_leaves_no_file_and_no_row(
        app, world, api, monkeypatch, writes_that_fit):
    working = in_progress(world)
    events_before = _counts()["TicketEvent"]
    calls = _disk_fills_after(monkeypatch, writes_that_fit)
    r = _upload(api.as_(world.tech), working.id)
    assert calls, "the upload reached the disk"
    assert r.status_code == 507
    assert "storage is full" in r.get_json()["error"] and "Nothing was saved" in r.get_json()["error"]
    _no_traceback(r)
    assert _files(app) == []  # neither a half-written .part nor the photo whose thumbnail failed
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(TicketPhoto)) == 0
    assert _counts()["TicketEvent"] == events_before

    monkeypatch.undo()  # space is freed: the same upload works
    again = _upload(api.as_(world.tech), working.id)
    assert again.status_code == 201
    assert len(_files(app)) == 2


@pytest.mark.sqlite_only
def test_an_unwritable_upload_folder_gives_a_clear_503(app, world, api, monkeypatch, tmp_path):
    working = in_progress(world)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the upload folder should be")
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(blocker))
    r = _upload(api.as_(world.tech), working.id)
    assert r.status_code == 503 and "storage is unavailable" in r.get_json()["error"]
    _no_traceback(r)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(TicketPhoto)) == 0


# --- the worker is killed mid-delivery ---------------------------------------------------------

_SEND_THEN_DIE = """
import sys, time
from app.jobs import notifications as jobs
from app.services.notifications import delivery
def killed_before_recording(delivery, result):
    print("SENT", delivery.notification_id, result.ok, flush=True)
    return [], None
delivery.record_delivery = killed_before_recording  # the HTTP send happened; the outcome is never stored
for notification_id in sys.argv[1:]:
    jobs.deliver_notification.call_local(notification_id)
print("DONE", flush=True)
time.sleep(120)                          # SIGKILL lands here
"""


def test_a_worker_killed_after_sending_but_before_recording_resends_once_with_the_same_sms_key(
        app, world, freeze, tmp_path, monkeypatch):
    """What the channel lets us detect: the SMS gateway gets the row id as Idempotency-Key
    on every try, so it can drop the duplicate; Telegram's Bot API has no such key, so the
    message is sent a second time (once) after the lease runs out."""
    from datetime import datetime, timezone

    from app.jobs.notifications import relay_notifications
    from tests.notifications.conftest import CHATS, TOKEN, StandIn

    standin = StandIn().start()
    keys = ("TELEGRAM_API_BASE", "TELEGRAM_BOT_TOKEN", "SMS_GATEWAY_URL", "SMS_GATEWAY_AUTH_HEADER")
    saved = {k: app.config.get(k) for k in keys}
    channels = {"TELEGRAM_API_BASE": standin.telegram_base, "TELEGRAM_BOT_TOKEN": TOKEN,
                "SMS_GATEWAY_URL": standin.sms_url, "SMS_GATEWAY_AUTH_HEADER": "X-Api-Key: sms-key-1"}
    app.config.update(channels)
    try:
        world.tech.telegram_chat_id, world.tech.notify_telegram = CHATS["tech"], True
        world.tech.phone, world.tech.notify_sms = "+998900000001", True
        db.session.commit()
        from app.services.notifications import outbox

        with monkeypatch.context() as m:  # queued for the worker process, not run here
            m.setattr(outbox, "enqueue_now", lambda ids, probe=False: None)
            make_ticket(world, priority=TicketPriority.CRITICAL)  # to world.tech: Telegram + SMS
            db.session.commit()
        pending = dict(db.session.execute(select(Notification.id, Notification.channel)
                                          .where(Notification.status == NotificationStatus.PENDING)).all())
        assert sorted(c.value for c in pending.values()) == ["sms", "telegram"]

        env = {**_cli_env(app, tmp_path), **channels}
        proc = subprocess.Popen([sys.executable, "-c", _SEND_THEN_DIE, *pending], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            lines = [proc.stdout.readline() for _ in range(3)]
            assert lines[-1].startswith("DONE"), "".join(lines) + proc.stdout.read()
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        assert (len(standin.telegram()), len(standin.sms())) == (1, 1)
        db.session.rollback()
        assert {r.status for r in db.session.query(Notification).filter(Notification.id.in_(pending))} == {
            NotificationStatus.SENDING}

        relay_notifications.call_local()  # within the lease: nobody sends it again yet
        assert (len(standin.telegram()), len(standin.sms())) == (1, 1)

        freeze(datetime.now(timezone.utc) + timedelta(minutes=2))  # the 90 s lease has run out
        relay_notifications.call_local()
        sms_tries = standin.sms()
        assert len(standin.telegram()) == 2  # Telegram: re-sent once (not detectable)
        assert len(sms_tries) == 2 and len({r.headers.get("Idempotency-Key") for r in sms_tries}) == 1
        assert sms_tries[0].headers.get("Idempotency-Key") in pending  # the gateway can drop the copy

        db.session.rollback()
        rows = db.session.query(Notification).filter(Notification.id.in_(pending)).all()
        assert {(r.status, r.attempts) for r in rows} == {(NotificationStatus.SENT, 2)}
        freeze(datetime.now(timezone.utc) + timedelta(minutes=10))
        relay_notifications.call_local()
        assert (len(standin.telegram()), len(standin.sms())) == (2, 2)  # never a third time
    finally:
        app.config.update(saved)
        standin.stop()


@pytest.mark.sqlite_only
def test_with_redis_down_sign_in_still_works_and_is_still_throttled(app, world):
    """Login throttling lives in Redis in production; while Redis is down it falls back
    to per-process memory: people can sign in, and guessing is still limited."""
    from app import create_app
    from app.config import TestConfig
    from tests.factories import PASSWORD

    other = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{free_port()}/0",
                        "LOGIN_FAILS_PER_ACCOUNT": "3 per 15 minutes"})
    client = other.test_client()
    good = client.post("/api/auth/token", json={"email": "tech@example.com", "password": PASSWORD})
    assert good.status_code == 200 and good.get_json()["token"]
    answers = [client.post("/api/auth/token", json={"email": "tech@example.com", "password": "wrong-guess"}).status_code
               for _ in range(5)]
    assert answers[:3] == [401, 401, 401] and answers[-1] == 429
    with other.app_context():
        db.engine.dispose()
