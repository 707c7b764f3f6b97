"""Who runs the sweep: the CLI, the cron endpoint, the huey periodic task (immediate
mode here, a real consumer on Redis below), and two sweeps at once."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import Notification, ServiceTicket, TicketEvent, TicketPriority, TicketStatus
from app import clock
from app.services import sla
from app.tasks import huey
from tests.factories import make_ticket

from .conftest import REDIS_DB, REDIS_HOST, REDIS_PORT, T0, count_statements

ROOT = Path(__file__).resolve().parents[2]


def overdue_tickets(world, at, n=1):
    """n CRITICAL tickets created at T0 (response due T0+60 min); the clock left at T0+61 min."""
    at()
    batch = [make_ticket(world, priority=TicketPriority.CRITICAL) for _ in range(n)]
    db.session.commit()
    at(minutes=61)
    return batch


def escalated_events() -> int:
    return db.session.execute(select(func.count()).select_from(TicketEvent)
                              .where(TicketEvent.kind == "escalated")).scalar_one()


# --- flask sla escalate ----------------------------------------------------------------

def test_cli_sweeps_at_the_given_time_and_prints_a_json_summary(app, world, at):
    ticket, = overdue_tickets(world, at)
    at()  # the clock says T0: --now decides
    runner = app.test_cli_runner()
    early = runner.invoke(args=["sla", "escalate", "--now", "2026-11-24T09:59:59Z"])
    assert early.exit_code == 0, early.output
    assert json.loads(early.output) == {"escalatedCount": 0, "escalated": [], "alerts": 1, "pauseAlerts": []}  # the warning

    late = runner.invoke(args=["sla", "escalate", "--now", "2026-11-24T12:01:00+02:00"])  # 10:01 UTC
    assert late.exit_code == 0, late.output
    assert json.loads(late.output) == {"escalatedCount": 1, "escalated": [ticket.ticket_number], "alerts": 1,
                                        "pauseAlerts": []}
    db.session.rollback()
    assert ticket.assigned_technician_id == world.secondary.id
    assert ticket.escalated_at == datetime(2026, 11, 24, 10, 1, tzinfo=timezone.utc)


def test_cli_refuses_a_time_it_cannot_read(app, world):
    result = app.test_cli_runner().invoke(args=["sla", "escalate", "--now", "yesterday"])
    assert result.exit_code == 2
    assert "ISO-8601" in result.output


# --- GET /api/cron/escalate-tickets ----------------------------------------------------

@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer undefined", "Bearer null", "undefined"])
def test_cron_is_refused_while_no_secret_is_configured(app, client, world, at, monkeypatch, header):
    monkeypatch.setitem(app.config, "CRON_SECRET", "")
    ticket, = overdue_tickets(world, at)
    r = client.get("/api/cron/escalate-tickets", headers={"Authorization": header} if header else {})
    assert r.status_code == 401 and "error" in r.json
    db.session.rollback()
    assert ticket.escalation_level == 0


@pytest.mark.parametrize("header", ["Bearer wrong-secret", "Bearer s3cret-cron-token-x", "Basic s3cret-cron-token",
                                    "s3cret-cron-token", "Bearer"])
def test_cron_is_refused_with_a_wrong_secret(app, client, world, at, monkeypatch, header):
    monkeypatch.setitem(app.config, "CRON_SECRET", "s3cret-cron-token")
    ticket, = overdue_tickets(world, at)
    r = client.get("/api/cron/escalate-tickets", headers={"Authorization": header})
    assert r.status_code == 401
    db.session.rollback()
    assert ticket.escalation_level == 0


def test_cron_with_the_secret_runs_one_sweep(app, client, world, at, monkeypatch):
    monkeypatch.setitem(app.config, "CRON_SECRET", "s3cret-cron-token")
    ticket, = overdue_tickets(world, at)
    r = client.get("/api/cron/escalate-tickets", headers={"Authorization": "Bearer s3cret-cron-token"})
    assert r.status_code == 200, r.json
    assert r.json == {"success": True, "escalatedCount": 1, "escalated": [ticket.ticket_number]}
    db.session.rollback()
    assert ticket.assigned_technician_id == world.secondary.id

    again = client.get("/api/cron/escalate-tickets", headers={"Authorization": "bearer s3cret-cron-token"})
    assert again.json == {"success": True, "escalatedCount": 0, "escalated": []}
    assert client.post("/api/cron/escalate-tickets",
                       headers={"Authorization": "Bearer s3cret-cron-token"}).status_code == 405


@pytest.mark.sqlite_only
def test_cron_takes_the_sqlite_write_lock_before_reading(app, client, world, at, monkeypatch):
    monkeypatch.setitem(app.config, "CRON_SECRET", "s3cret-cron-token")
    overdue_tickets(world, at)
    db.session.rollback()  # no transaction open: the request starts its own
    with count_statements() as statements:
        r = client.get("/api/cron/escalate-tickets", headers={"Authorization": "Bearer s3cret-cron-token"})
    assert r.status_code == 200
    assert statements[0] == "BEGIN IMMEDIATE"


@pytest.mark.sqlite_only
def test_two_cron_runs_at_once_on_sqlite_escalate_each_ticket_once(app, world, at, monkeypatch):
    """The second run waits for the first one's write lock, then finds nothing left."""
    monkeypatch.setitem(app.config, "CRON_SECRET", "s3cret-cron-token")
    batch = overdue_tickets(world, at, n=15)
    db.session.rollback()
    b_begins = threading.Event()
    responses = {}

    def hold_a_after_select(conn, cursor, statement, parameters, context, executemany):
        name = threading.current_thread().name
        if name == "cron-a" and statement.lstrip().upper().startswith("SELECT") and "service_tickets" in statement:
            b_begins.wait(timeout=20)

    def note_b_begin(conn, cursor, statement, parameters, context, executemany):
        if threading.current_thread().name == "cron-b" and statement.startswith("BEGIN"):
            b_begins.set()

    def call(name):
        responses[name] = app.test_client().get("/api/cron/escalate-tickets",
                                                headers={"Authorization": "Bearer s3cret-cron-token"})

    event.listen(db.engine, "after_cursor_execute", hold_a_after_select)
    event.listen(db.engine, "before_cursor_execute", note_b_begin)
    try:
        a = threading.Thread(target=call, args=("cron-a",), name="cron-a")
        b = threading.Thread(target=call, args=("cron-b",), name="cron-b")
        a.start()
        b.start()
        a.join(60)
        b.join(60)
    finally:
        event.remove(db.engine, "after_cursor_execute", hold_a_after_select)
        event.remove(db.engine, "before_cursor_execute", note_b_begin)
    assert {n: r.status_code for n, r in responses.items()} == {"cron-a": 200, "cron-b": 200}
    counts = sorted(r.json["escalatedCount"] for r in responses.values())
    assert counts == [0, 15]
    assert escalated_events() == 15
    for ticket in batch:
        assert ticket.escalation_level == 1 and ticket.assigned_technician_id == world.secondary.id


# --- two sweeps at once on PostgreSQL ---------------------------------------------------

def _sweep_in_own_session(app, now, results, name):
    with app.app_context():
        try:
            results[name] = sla.escalate_overdue(now)
            db.session.commit()
        except Exception as exc:  # noqa: BLE001  (reported by the test)
            db.session.rollback()
            results[name] = exc
        finally:
            db.session.remove()


@pytest.mark.postgres_only
def test_sweep_running_while_another_holds_its_tickets_skips_them(app, world, at, monkeypatch):
    monkeypatch.setitem(app.config, "SLA_TECHNICIAN_DIGEST_THRESHOLD", 1000)  # a row per ticket and technician
    batch = overdue_tickets(world, at, n=20)
    now = clock.now()
    a_locked, b_done = threading.Event(), threading.Event()
    results: dict = {}

    def hold_a_after_its_select(conn, cursor, statement, parameters, context, executemany):
        if threading.current_thread().name == "sweep-a" and "SKIP LOCKED" in statement:
            a_locked.set()
            b_done.wait(timeout=30)

    event.listen(db.engine, "after_cursor_execute", hold_a_after_its_select)
    try:
        a = threading.Thread(target=_sweep_in_own_session, args=(app, now, results, "a"), name="sweep-a")
        a.start()
        assert a_locked.wait(timeout=30)
        b = threading.Thread(target=_sweep_in_own_session, args=(app, now, results, "b"), name="sweep-b")
        b.start()
        b.join(timeout=30)
        b_done.set()
        a.join(timeout=30)
    finally:
        b_done.set()
        event.remove(db.engine, "after_cursor_execute", hold_a_after_its_select)
    assert not isinstance(results["a"], Exception) and not isinstance(results["b"], Exception), results
    assert len(results["a"].escalated) == 20 and results["b"].escalated == []
    db.session.rollback()
    assert escalated_events() == 20
    assert all(t.escalation_level == 1 and t.assigned_technician_id == world.secondary.id for t in batch)
    assert db.session.execute(select(func.count()).select_from(Notification)
                              .where(Notification.kind == "ticket_escalated")).scalar_one() == 20 * 4


@pytest.mark.postgres_only
def test_four_sweeps_started_together_escalate_each_ticket_exactly_once(app, world, at, monkeypatch):
    monkeypatch.setitem(app.config, "SLA_DIGEST_THRESHOLD", 1000)  # a row per ticket and recipient
    monkeypatch.setitem(app.config, "SLA_TECHNICIAN_DIGEST_THRESHOLD", 1000)
    batch = overdue_tickets(world, at, n=60)
    now = clock.now()
    start = threading.Barrier(4)
    results: dict = {}

    def run(name):
        start.wait(timeout=30)
        _sweep_in_own_session(app, now, results, name)

    threads = [threading.Thread(target=run, args=(f"s{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(isinstance(r, Exception) for r in results.values()), results
    escalated = [number for r in results.values() for number in r.escalated]
    assert sorted(escalated) == sorted(t.ticket_number for t in batch)  # each once, none twice
    db.session.rollback()
    assert escalated_events() == 60
    per_ticket = db.session.execute(
        select(Notification.ticket_id, func.count()).where(Notification.kind == "ticket_escalated")
        .group_by(Notification.ticket_id)).all()
    assert len(per_ticket) == 60 and {n for _, n in per_ticket} == {4}


# --- the huey task ---------------------------------------------------------------------

def test_sweep_is_a_periodic_task_that_runs_every_minute():
    from app.jobs.sla import sla_sweep

    periodic = [type(t) for t in huey._registry.periodic_tasks]
    assert sla_sweep.task_class in periodic
    task = sla_sweep.task_class()
    minute = datetime(2026, 11, 24, 0, 0)
    for _ in range(24 * 60):  # every minute of a day, and nothing else
        assert task.validate_datetime(minute)
        minute += timedelta(minutes=1)
    assert sla_sweep.task_class in [type(t) for t in huey.read_periodic(datetime(2026, 11, 24, 13, 37))]


def test_periodic_task_sweeps_and_commits_in_its_own_app_context(app, world, at):
    from app.jobs.sla import sla_sweep

    ticket, = overdue_tickets(world, at)
    number = ticket.ticket_number
    db.session.rollback()
    sla_sweep()  # immediate mode in tests: runs now, through huey (periodic tasks keep no result)
    db.session.rollback()
    assert db.session.get(ServiceTicket, ticket.id).assigned_technician_id == world.secondary.id
    assert escalated_events() == 1
    assert sla_sweep.call_local() == {"escalatedCount": 0, "escalated": [], "alerts": 0, "pauseAlerts": []}
    assert number


def test_periodic_task_does_not_run_while_another_run_holds_its_lock(app, world, at):
    from huey.exceptions import TaskLockedException

    from app.jobs.sla import sla_sweep

    ticket, = overdue_tickets(world, at)
    db.session.rollback()
    with huey.lock_task("sla-sweep"):
        sla_sweep()  # huey logs "not run" and moves on
        with pytest.raises(TaskLockedException):
            sla_sweep.call_local()
    db.session.rollback()
    assert db.session.get(ServiceTicket, ticket.id).escalation_level == 0
    sla_sweep()
    db.session.rollback()
    assert db.session.get(ServiceTicket, ticket.id).escalation_level == 1


# --- the worker, started with Redis ----------------------------------------------------

@pytest.mark.redis
@pytest.mark.sqlite_only
def test_worker_started_with_redis_runs_the_queued_sweep(app, world, freeze, tmp_path):
    """A real huey_consumer on Redis, against a SQLite file: a sweep queued by another
    process escalates the overdue ticket. (With CI=true a missing Redis fails here.)"""
    import redis

    conn = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_timeout=5)
    conn.flushdb()
    # Created two days ago by the real clock, which is what the worker uses.
    freeze(datetime.now(timezone.utc) - timedelta(days=2))
    ticket = make_ticket(world, priority=TicketPriority.CRITICAL)
    db.session.commit()
    clock.set_now(None)
    ticket_id = ticket.id
    db.session.rollback()

    env = {**os.environ, "REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "INSTANCE_DIR": str(tmp_path / "instance"),
           "HUEY_SQLITE_PATH": str(tmp_path / "unused-huey.db"), "PYTHONPATH": str(ROOT)}
    log_path = tmp_path / "consumer.log"
    with open(log_path, "wb") as log:
        consumer = subprocess.Popen(
            [sys.executable, "-m", "huey.bin.huey_consumer", "app.tasks.huey", "--workers", "1",
             "--worker-type", "thread", "--flush-locks"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        # Queued from another process, as the web app or an operator would.
        subprocess.run([sys.executable, "-c", "from app.jobs.sla import sla_sweep; sla_sweep()"],
                       cwd=ROOT, env=env, check=True, timeout=60, capture_output=True)
        deadline = time.monotonic() + 60
        while True:
            db.session.rollback()  # a fresh read each time
            row = db.session.execute(select(ServiceTicket.escalation_level, ServiceTicket.assigned_technician_id)
                                     .where(ServiceTicket.id == ticket_id)).one()
            if row.escalation_level == 1:
                break
            assert time.monotonic() < deadline, "no escalation within 60 s:\n" + log_path.read_text()
            try:  # waiting on the consumer paces the polling and notices if it died
                consumer.wait(timeout=0.25)
                pytest.fail("the consumer exited:\n" + log_path.read_text())
            except subprocess.TimeoutExpired:
                pass
        assert row.assigned_technician_id == world.secondary.id
        assert db.session.get(ServiceTicket, ticket_id).status == TicketStatus.ASSIGNED
        assert "sla_sweep" in log_path.read_text()
    finally:
        consumer.send_signal(signal.SIGINT)  # graceful stop
        try:
            consumer.wait(timeout=20)
        except subprocess.TimeoutExpired:
            consumer.kill()
            consumer.wait()
        conn.flushdb()
