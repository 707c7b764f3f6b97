"""The sweep and paused tickets: a paused resolution clock is never reported overdue;
after resume the moved due time counts; a pause longer than PAUSE_ALERT_HOURS tells
the dispatchers once (also when two sweeps run at once); escalation of unanswered
tickets is unchanged."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import TicketEvent, TicketPriority
from app.services import pauses, sla_clock, tickets
from tests.factories import make_ticket

from .conftest import T0
from .test_sweep import DISPATCHERS, inbox, timeline


def in_progress(world, **kw):
    ticket = make_ticket(world, **kw)
    tickets.accept(ticket, world.tech)
    db.session.commit()
    return ticket


def pause(world, ticket, reason="WAITING_PARTS", note=None):
    pauses.pause(ticket.id, world.tech, reason, note)
    db.session.commit()


def resume(world, ticket):
    pauses.resume(ticket.id, world.tech)
    db.session.commit()


def test_no_resolution_alert_while_paused_and_one_after_resume_once_the_moved_due_time_passes(world, at, sweep):
    at()
    ticket = in_progress(world, priority=TicketPriority.HIGH)
    due = ticket.resolution_due_at
    window = (due - T0) // timedelta(minutes=1)
    at(minutes=10)
    pause(world, ticket)
    # Far past the original due time: paused, so nothing.
    at(minutes=window + 60)
    result = sweep()
    assert result.resolution_overdue == [] and inbox("sla_resolution_overdue") == {}
    assert not db.session.execute(select(sla_clock.sql_overdue(T0 + timedelta(minutes=window + 60)))).scalar()
    # Resumed after window + 50 paused minutes: due moves to due + window + 50.
    resume(world, ticket)
    assert ticket.resolution_due_at == due + timedelta(minutes=window + 50)
    at(minutes=2 * window + 50)  # exactly the moved due time: not past it yet
    assert sweep().resolution_overdue == []
    at(minutes=2 * window + 51)
    assert sweep().resolution_overdue == [ticket.ticket_number]
    assert inbox("sla_resolution_overdue") == DISPATCHERS
    at(minutes=2 * window + 120)
    assert sweep().resolution_overdue == []  # once
    assert inbox("sla_resolution_overdue") == DISPATCHERS


def test_a_long_pause_alerts_the_dispatchers_once(app, world, at, sweep):
    at()
    ticket = in_progress(world)
    pause(world, ticket, "STORE_REQUEST")
    hours = app.config["PAUSE_ALERT_HOURS"]
    assert hours == 48
    at(hours=hours)  # exactly the limit: not longer
    assert sweep().pause_alerts == []
    at(hours=hours, minutes=1)
    result = sweep()
    assert result.pause_alerts == [ticket.ticket_number]
    assert result.summary()["pauseAlerts"] == [ticket.ticket_number] and result.alerts == 1
    assert ticket.pause_alerted_at == T0 + timedelta(hours=hours, minutes=1)
    assert inbox("sla_pause_long") == DISPATCHERS
    [event] = timeline(ticket, "sla_pause_long")
    assert event.data == {"reason": "STORE_REQUEST", "pausedAt": "2026-11-24T09:00:00Z"}
    from app.models import Notification

    body = db.session.execute(select(Notification.body).where(Notification.kind == "sla_pause_long")).scalars().first()
    assert body.startswith("Repair paused since ") and "store asked to wait" in body
    at(hours=hours + 5)
    assert sweep().pause_alerts == []
    assert inbox("sla_pause_long") == DISPATCHERS
    # A new pause after resuming is a new pause: it may alert again.
    resume(world, ticket)
    pause(world, ticket)
    at(hours=2 * hours + 6)
    assert sweep().pause_alerts == [ticket.ticket_number]
    assert inbox("sla_pause_long") == {email: 2 for email in DISPATCHERS}


def test_the_pause_limit_is_a_setting(app, world, at, sweep):
    at()
    ticket = in_progress(world)
    pause(world, ticket)
    old = app.config["PAUSE_ALERT_HOURS"]
    app.config["PAUSE_ALERT_HOURS"] = 2
    try:
        at(hours=2, minutes=1)
        assert sweep().pause_alerts == [ticket.ticket_number]
    finally:
        app.config["PAUSE_ALERT_HOURS"] = old


def test_the_cli_shows_the_pause_alert(app, world, at):
    at()
    ticket = in_progress(world)
    pause(world, ticket)
    out = app.test_cli_runner().invoke(args=["sla", "escalate", "--now", "2026-11-26T10:00:00Z"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output)
    assert summary["pauseAlerts"] == [ticket.ticket_number] and summary["escalatedCount"] == 0


def test_a_second_sweep_at_the_same_moment_alerts_nobody_again(world, at, sweep):
    """The staged version guards the write: the ticket the first sweep changed is not
    the one the second one staged (SQLite holds the write lock; PostgreSQL's row locks
    are tested with real concurrency in test_runners)."""
    at()
    ticket = in_progress(world)
    pause(world, ticket)
    at(hours=49)
    first, second = sweep(), sweep()
    assert first.pause_alerts == [ticket.ticket_number] and second.pause_alerts == []
    assert inbox("sla_pause_long") == DISPATCHERS
    assert len(timeline(ticket, "sla_pause_long")) == 1


def test_a_ticket_changed_between_staging_and_the_update_is_not_alerted(world, at):
    """The version guard itself: a ticket staged at one version and changed before the
    UPDATE is dropped from this sweep (no event, no alert)."""
    from app.services import sla

    at()
    ticket = in_progress(world)
    pause(world, ticket)
    now = T0 + timedelta(hours=49)
    dialect = db.session.get_bind().dialect.name
    sla._create_stage(dialect)
    staged = sla._stage_candidates(now, dialect)
    assert staged == 1
    db.session.execute(sla._T.update().where(sla._T.c.id == ticket.id).values(version=sla._T.c.version + 1))
    sla._apply(now, staged)
    assert db.session.execute(select(sla._STAGE.c.id)).all() == []
    db.session.rollback()


def test_escalation_of_an_unanswered_ticket_is_unchanged_by_pauses_elsewhere(world, at, sweep):
    at()
    waiting = make_ticket(world, priority=TicketPriority.CRITICAL)
    db.session.commit()
    other = in_progress(world)
    pause(world, other)
    at(minutes=61)
    result = sweep()
    assert result.escalated == [waiting.ticket_number] and result.pause_alerts == []


def test_paused_tickets_are_not_counted_in_a_resolution_backlog(world, at, sweep):
    at()
    running, paused = in_progress(world), in_progress(world)
    pause(world, paused)
    at(days=30)
    assert sweep().resolution_overdue == [running.ticket_number]
    kinds = {e.ticket_id: e.kind for e in db.session.execute(
        select(TicketEvent).where(TicketEvent.kind.in_(("sla_resolution_overdue", "sla_pause_long")))).scalars()}
    assert kinds == {running.id: "sla_resolution_overdue", paused.id: "sla_pause_long"}
