"""Pausing the resolution clock (services/pauses.py): who may, when, what it records,
and how the due time moves — around the clock here (a branch without a calendar, and
every CRITICAL ticket); the calendar case is `test_resume_moves_the_due_time_by_working_minutes_of_the_calendar`."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Notification,
    NotificationChannel,
    PauseReason,
    TicketEvent,
    TicketPause,
    TicketPriority,
    TicketStatus,
    WorkingCalendar,
)
from app.services import board_version, completions, pauses, sla_clock, tickets
from app.services.errors import Conflict, Forbidden, NotFound, ValidationError
from tests.factories import make_ticket
from tests.services.flow import WORK, add_after_photo, event_kinds, in_progress

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


def paused(world, reason="WAITING_PARTS", note=None, by=None, **kw):
    ticket = in_progress(world, **kw)
    pauses.pause(ticket.id, by or world.tech, reason, note)
    db.session.commit()
    return ticket


def events(ticket, kind):
    return list(db.session.execute(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == kind).order_by(TicketEvent.at)).scalars())


def pause_rows(ticket):
    return list(db.session.execute(select(TicketPause).where(TicketPause.ticket_id == ticket.id)
                                   .order_by(TicketPause.paused_at)).scalars())


# --- pausing -------------------------------------------------------------------------

def test_the_technician_pauses_work_in_progress_and_the_clock_stops(world, freeze):
    freeze(T0)
    ticket = in_progress(world)
    freeze(T0 + timedelta(hours=1))
    due, response_due = ticket.resolution_due_at, ticket.response_due_at
    pauses.pause(ticket.id, world.tech, "WAITING_PARTS", "Compressor ordered, arrives Monday")
    db.session.commit()

    assert ticket.paused_at == T0 + timedelta(hours=1) and ticket.pause_reason == PauseReason.WAITING_PARTS
    [row] = pause_rows(ticket)
    assert (row.reason, row.note, row.paused_by_id, row.technician_id, row.branch_id, row.resumed_at) == (
        PauseReason.WAITING_PARTS, "Compressor ordered, arrives Monday", world.tech.id, world.primary.id,
        world.branch.id, None)
    [event] = events(ticket, "paused")
    assert event.actor_id == world.tech.id
    assert event.data == {"reason": "WAITING_PARTS", "note": "Compressor ordered, arrives Monday"}
    # Days later the clock is still paused, not overdue; nothing moved yet.
    later = ticket.resolution_due_at + timedelta(days=3)
    assert sla_clock.resolution_clock(ticket, later).state == sla_clock.PAUSED
    assert (ticket.resolution_due_at, ticket.response_due_at) == (due, response_due)


def test_the_store_manager_hears_of_the_pause_with_its_reason(world, freeze):
    freeze(T0)
    ticket = paused(world, note="Compressor ordered")
    rows = db.session.execute(select(Notification).where(Notification.kind == "ticket_paused")).scalars().all()
    assert {(r.user_id, r.channel) for r in rows} == {(world.manager.id, NotificationChannel.IN_APP)}
    assert ticket.ticket_number in rows[0].title
    assert rows[0].body.startswith("Repair paused: waiting for parts.")
    assert "Compressor ordered" in rows[0].body


def test_a_dispatcher_may_pause_and_resume_too(world, freeze):
    freeze(T0)
    ticket = paused(world, "NO_ACCESS", by=world.dispatcher)
    assert ticket.pause_reason == PauseReason.NO_ACCESS
    pauses.resume(ticket.id, world.admin)
    db.session.commit()
    assert ticket.paused_at is None
    assert [e.actor_id for e in events(ticket, "resumed")] == [world.admin.id]


@pytest.mark.parametrize("reason", [r for r in PauseReason if r != PauseReason.OTHER])
def test_every_reason_but_other_needs_no_note(world, freeze, reason):
    freeze(T0)
    assert paused(world, reason.value).pause_reason == reason


def test_other_needs_a_note_and_a_refusal_changes_nothing(world, freeze):
    freeze(T0)
    ticket = in_progress(world)
    version = ticket.version
    for note in (None, "", "   "):
        with pytest.raises(ValidationError) as exc:
            pauses.pause(ticket.id, world.tech, "OTHER", note)
        assert set(exc.value.fields) == {"note"}
        db.session.rollback()
    assert ticket.paused_at is None and ticket.version == version and pause_rows(ticket) == []
    pauses.pause(ticket.id, world.tech, "OTHER", "Store closed for inventory")
    db.session.commit()
    assert ticket.pause_reason == PauseReason.OTHER


@pytest.mark.parametrize("reason", [None, "", "LUNCH", "waiting_parts", 3, ["WAITING_PARTS"]])
def test_an_unknown_reason_is_a_400_on_the_reason(world, freeze, reason):
    freeze(T0)
    ticket = in_progress(world)
    with pytest.raises(ValidationError) as exc:
        pauses.pause(ticket.id, world.tech, reason)
    assert "reason" in exc.value.fields


def test_only_work_in_progress_can_be_paused(world, freeze):
    freeze(T0)
    assigned = make_ticket(world)
    db.session.commit()
    with pytest.raises(Conflict, match="Only work in progress"):
        pauses.pause(assigned.id, world.dispatcher, "WAITING_PARTS")
    db.session.rollback()
    closed = in_progress(world)
    tickets.close_without_completion(closed, "Duplicate", world.dispatcher)
    db.session.commit()
    with pytest.raises(Conflict):
        pauses.pause(closed.id, world.dispatcher, "WAITING_PARTS")


def test_two_taps_are_one_pause(world, freeze):
    freeze(T0)
    ticket = paused(world)
    with pytest.raises(Conflict, match="already paused"):
        pauses.pause(ticket.id, world.tech, "WAITING_PARTS")
    db.session.rollback()
    assert len(pause_rows(ticket)) == 1 and len(events(ticket, "paused")) == 1


def test_a_stale_version_is_a_conflict(world, freeze):
    freeze(T0)
    ticket = in_progress(world)
    stale = ticket.version
    tickets.update_notes(ticket, world.dispatcher, internal="Parts on order")
    db.session.commit()
    with pytest.raises(Conflict, match="changed by someone else"):
        pauses.pause(ticket.id, world.tech, "WAITING_PARTS", version=stale)
    db.session.rollback()
    assert ticket.paused_at is None
    pauses.pause(ticket.id, world.tech, "WAITING_PARTS", version=ticket.version)
    db.session.commit()
    stale = ticket.version - 1
    with pytest.raises(Conflict):
        pauses.resume(ticket.id, world.tech, version=stale)
    db.session.rollback()
    assert ticket.paused_at is not None


def test_who_may_pause(world, freeze):
    freeze(T0)
    ticket = in_progress(world)
    # The branch's store manager reads the ticket but may not pause it.
    with pytest.raises(Forbidden):
        pauses.pause(ticket.id, world.manager, "STORE_REQUEST")
    db.session.rollback()
    # Another technician: the ticket does not exist for them.
    with pytest.raises(NotFound):
        pauses.pause(ticket.id, world.outsider_tech, "WAITING_PARTS")
    db.session.rollback()
    # A technician who held it before (reassigned away) reads it but may not pause it.
    tickets.assign(ticket, world.secondary.id, world.dispatcher)
    tickets.accept(ticket, world.tech2)
    db.session.commit()
    with pytest.raises(Forbidden):
        pauses.pause(ticket.id, world.tech, "WAITING_PARTS")
    db.session.rollback()
    pauses.pause(ticket.id, world.tech2, "WAITING_PARTS")
    db.session.commit()
    with pytest.raises(Forbidden):
        pauses.resume(ticket.id, world.tech)
    db.session.rollback()
    with pytest.raises(Forbidden):
        pauses.resume(ticket.id, world.manager)
    db.session.rollback()
    assert ticket.paused_at is not None and pause_rows(ticket)[0].technician_id == world.secondary.id


def test_a_pause_bumps_the_board_version(world, freeze):
    freeze(T0)
    ticket = in_progress(world)
    before = board_version.current(ticket.branch_id)
    pauses.pause(ticket.id, world.tech, "WAITING_PARTS")
    db.session.commit()
    assert board_version.current(ticket.branch_id) > before


# --- resuming ----------------------------------------------------------------------

def test_resume_needs_a_paused_ticket(world, freeze):
    freeze(T0)
    ticket = in_progress(world)
    with pytest.raises(Conflict, match="not paused"):
        pauses.resume(ticket.id, world.tech)


@pytest.mark.parametrize("priority", [TicketPriority.NORMAL, TicketPriority.CRITICAL])
def test_resume_moves_the_resolution_due_time_by_the_paused_minutes_around_the_clock(world, freeze, priority):
    freeze(T0)
    ticket = in_progress(world, priority=priority)
    due, warn, response_due = ticket.resolution_due_at, ticket.resolution_warn_at, ticket.response_due_at
    freeze(T0 + timedelta(minutes=10))
    pauses.pause(ticket.id, world.tech, "WAITING_PARTS")
    db.session.commit()
    freeze(T0 + timedelta(minutes=10 + 200))  # 3 h 20 min
    pauses.resume(ticket.id, world.tech)
    db.session.commit()

    assert ticket.resolution_due_at == due + timedelta(minutes=200)
    assert ticket.resolution_warn_at == warn + timedelta(minutes=200)
    assert ticket.response_due_at == response_due  # never moves
    assert ticket.paused_at is None and ticket.pause_reason is None and ticket.paused_minutes_total == 200
    [row] = pause_rows(ticket)
    assert (row.resumed_at, row.resumed_by_id, row.paused_minutes, row.wall_minutes) == (
        T0 + timedelta(minutes=210), world.tech.id, 200, 200)
    [event] = events(ticket, "resumed")
    assert event.data == {"reason": "WAITING_PARTS", "minutes": 200, "wallMinutes": 200}
    assert sla_clock.resolution_clock(ticket, T0 + timedelta(minutes=210)).state == sla_clock.OK


def test_pauses_add_up(world, freeze):
    freeze(T0)
    ticket = in_progress(world)
    due = ticket.resolution_due_at
    for start, length in ((30, 60), (200, 45)):
        freeze(T0 + timedelta(minutes=start))
        pauses.pause(ticket.id, world.tech, "NO_ACCESS")
        db.session.commit()
        freeze(T0 + timedelta(minutes=start + length))
        pauses.resume(ticket.id, world.tech)
        db.session.commit()
    assert ticket.paused_minutes_total == 105 and ticket.resolution_due_at == due + timedelta(minutes=105)
    assert [r.paused_minutes for r in pause_rows(ticket)] == [60, 45]
    assert event_kinds(ticket)[-4:] == ["paused", "resumed", "paused", "resumed"]


def test_completing_a_paused_ticket_resumes_it_first(world, freeze):
    freeze(T0)
    ticket = paused(world)
    due = ticket.resolution_due_at
    add_after_photo(world, ticket)
    freeze(T0 + timedelta(minutes=90))
    completions.complete(ticket, world.tech, WORK)
    db.session.commit()
    assert ticket.status == TicketStatus.COMPLETED and ticket.paused_at is None
    assert ticket.resolution_due_at == due + timedelta(minutes=90)
    assert event_kinds(ticket)[-2:] == ["resumed", "completed"]
    [row] = pause_rows(ticket)
    assert row.resumed_at == T0 + timedelta(minutes=90) and row.paused_minutes == 90


def test_closing_or_reassigning_a_paused_ticket_ends_the_pause(world, freeze):
    freeze(T0)
    ticket = paused(world)
    freeze(T0 + timedelta(minutes=30))
    tickets.assign(ticket, world.secondary.id, world.dispatcher)
    db.session.commit()
    assert ticket.paused_at is None and ticket.status == TicketStatus.ASSIGNED
    assert pause_rows(ticket)[0].paused_minutes == 30

    other = paused(world)
    tickets.close_without_completion(other, "Store closed for good", world.dispatcher)
    db.session.commit()
    assert other.paused_at is None and pause_rows(other)[0].resumed_at is not None


def test_a_missed_fix_deadline_moved_past_now_by_a_pause_can_be_reported_again(world, freeze):
    freeze(T0)
    ticket = in_progress(world)
    ticket.resolution_alerted_at = T0  # the sweep told the dispatchers of a miss
    db.session.commit()
    pauses.pause(ticket.id, world.tech, "WAITING_PARTS")
    db.session.commit()
    freeze(ticket.resolution_due_at + timedelta(minutes=30))
    # Paused since T0: the due time moves by the whole pause, past now.
    pauses.resume(ticket.id, world.tech)
    db.session.commit()
    assert ticket.resolution_alerted_at is None


# --- the calendar case (needs services/calendars.py's arithmetic) -------------------------

def test_resume_moves_the_due_time_by_working_minutes_of_the_calendar(world, freeze):
    """A Mon-Fri 09:00-18:00 Tashkent calendar: paused Friday 17:00, resumed Monday
    10:00 local = 2 working hours (Fri 17-18, Mon 9-10), not 65 wall-clock hours."""
    cal = WorkingCalendar(name="Office", timezone="Asia/Tashkent",
                          week={d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")} |
                          {"sat": [], "sun": []}, holidays=[])
    db.session.add(cal)
    world.branch.calendar = cal
    db.session.commit()
    friday_17 = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)  # 17:00 in Tashkent (UTC+5)
    freeze(friday_17 - timedelta(hours=1))
    ticket = in_progress(world)
    due = ticket.resolution_due_at
    freeze(friday_17)
    pauses.pause(ticket.id, world.tech, "WAITING_PARTS")
    db.session.commit()
    freeze(datetime(2026, 11, 30, 5, 0, tzinfo=timezone.utc))  # Monday 10:00 in Tashkent
    pauses.resume(ticket.id, world.tech)
    db.session.commit()
    assert ticket.paused_minutes_total == 120
    [row] = pause_rows(ticket)
    assert (row.paused_minutes, row.wall_minutes) == (120, 65 * 60)
    from app.services import calendars

    assert ticket.resolution_due_at == calendars.add_working_minutes(cal, due, 120)
