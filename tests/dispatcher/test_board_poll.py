"""The idle board poll: "nothing changed" from one statement and nothing rendered;
"changed" after every kind of ticket change, whoever makes it; writers on PostgreSQL
neither deadlock nor wait for each other on the board's counters."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import template_rendered

from app import clock
from app.extensions import db
from app.models import ServiceTicket, TicketPriority
from app.services import sla, tickets
from tests.dispatcher.helpers import column, stamp_of
from tests.factories import make_ticket
from tests.helpers import TRANSACTION_CONTROL, count_statements

HX = {"HX-Request": "true"}


@contextmanager
def rendered(app):
    names = []

    def _record(sender, template, context, **extra):
        names.append(template.name)

    template_rendered.connect(_record, app)
    try:
        yield names
    finally:
        template_rendered.disconnect(_record, app)


def board_stamp(client, query=""):
    return stamp_of(client.get(f"/dispatcher/tickets{query}", headers=HX).get_data(as_text=True))


def poll(client, stamp, query=""):
    sep = "&" if query else ""
    return client.get(f"/dispatcher/tickets/poll?{query}{sep}stamp={stamp}", headers=HX)


def test_idle_poll_is_one_statement_and_renders_nothing(app, world, as_dispatcher):
    for _ in range(3):
        make_ticket(world)
    db.session.commit()
    stamp = board_stamp(as_dispatcher)
    db.session.commit()
    for query in ("", f"branchId={world.branch.id}", "priority=NORMAL&overdue=true"):
        stamp = board_stamp(as_dispatcher, "?" + query if query else "")
        db.session.expunge_all()  # nothing cached for the request to lean on
        with count_statements(skip=TRANSACTION_CONTROL) as sent, rendered(app) as templates:
            resp = poll(as_dispatcher, stamp, query)
        assert resp.status_code == 204 and resp.data == b"", query
        assert len(sent) == 1, sent  # the user's checks with the counters: no ticket query
        assert "service_tickets" not in sent[0] and templates == []


def _change(world, kind):
    """One change of each kind a board shows, made by the services as the pages do."""
    ticket = world.ticket
    if kind == "create":
        make_ticket(world, branch=world.branch2)
    elif kind == "status":
        tickets.accept(ticket, world.tech)
    elif kind == "reassign":
        tickets.patch(ticket, {"assignedTechnicianId": world.secondary.id}, world.dispatcher2)
    elif kind == "note":
        tickets.patch(ticket, {"internalNotes": "Call the manager first"}, world.dispatcher2)
    elif kind == "store note":
        tickets.add_store_note(ticket, world.manager, "The door is taped shut for now")
    elif kind == "priority":
        tickets.change_priority(ticket, TicketPriority.HIGH, world.dispatcher2)
    elif kind == "sweep":  # the worker's SLA sweep, past the response deadline: escalated
        assert sla.escalate_overdue(clock.now() + timedelta(minutes=1441)).escalated == [ticket.ticket_number]
    db.session.commit()


@pytest.mark.parametrize("kind", ["create", "status", "reassign", "note", "store note", "priority", "sweep"])
def test_every_ticket_change_makes_the_poll_draw_the_board(world, as_dispatcher, freeze, kind):
    freeze("2026-11-24T08:00:00Z")  # a frozen clock: nothing may rely on time moving
    world.ticket = make_ticket(world)
    db.session.commit()
    stamp = board_stamp(as_dispatcher)
    assert poll(as_dispatcher, stamp).status_code == 204

    _change(world, kind)

    resp = poll(as_dispatcher, stamp)
    assert resp.status_code == 200, kind
    fresh = stamp_of(resp.get_data(as_text=True))
    assert fresh != stamp
    assert poll(as_dispatcher, fresh).status_code == 204  # and idle again from the new stamp


def test_a_board_filtered_to_a_branch_sees_its_branch_change(world, as_dispatcher):
    ticket = make_ticket(world)
    db.session.commit()
    query = f"branchId={world.branch.id}"
    stamp = board_stamp(as_dispatcher, "?" + query)
    tickets.accept(ticket, world.tech)
    db.session.commit()
    resp = poll(as_dispatcher, stamp, query)
    assert resp.status_code == 200 and ticket.ticket_number in column(resp.get_data(as_text=True), "IN_PROGRESS")


def test_a_rolled_back_change_leaves_the_board_idle(world, as_dispatcher):
    ticket = make_ticket(world)
    db.session.commit()
    stamp = board_stamp(as_dispatcher)
    tickets.accept(ticket, world.tech)
    db.session.flush()
    db.session.rollback()
    assert poll(as_dispatcher, stamp).status_code == 204


def test_a_refused_page_action_leaves_the_board_idle(world, as_dispatcher, signed_in):
    ticket = make_ticket(world)
    db.session.commit()
    stamp = board_stamp(as_dispatcher)
    other = signed_in(world.dispatcher2)
    page = other.get(f"/tickets/{ticket.id}")
    assert page.status_code == 200
    # A stale version: 409, rolled back at the edge.
    resp = other.post(f"/tickets/{ticket.id}/priority", data={"priority": "HIGH", "version": ticket.version + 5})
    assert resp.status_code >= 400
    assert poll(as_dispatcher, stamp).status_code == 204


def test_a_closed_ticket_leaving_the_24_hour_column_redraws_the_idle_board(world, as_dispatcher, freeze):
    start = freeze("2026-11-24T08:00:00Z")
    ticket = make_ticket(world)
    tickets.close_without_completion(ticket, "Duplicate", world.dispatcher)
    db.session.commit()
    clock.set_now(start + timedelta(hours=23, minutes=59))
    stamp = board_stamp(as_dispatcher)
    assert poll(as_dispatcher, stamp).status_code == 204
    clock.set_now(start + timedelta(hours=24, minutes=1))  # nothing written: only time moved
    resp = poll(as_dispatcher, stamp)
    assert resp.status_code == 200 and ticket.ticket_number not in resp.get_data(as_text=True)


def test_an_overdue_board_redraws_when_a_ticket_turns_overdue(world, as_dispatcher, freeze):
    start = freeze("2026-11-24T08:00:00Z")
    ticket = make_ticket(world)  # response due in 24 h
    db.session.commit()
    clock.set_now(start + timedelta(minutes=1437))
    stamp = board_stamp(as_dispatcher, "?overdue=true")
    clock.set_now(start + timedelta(minutes=1439))
    assert poll(as_dispatcher, stamp, "overdue=true").status_code == 204
    clock.set_now(start + timedelta(minutes=1441))
    resp = poll(as_dispatcher, stamp, "overdue=true")
    assert resp.status_code == 200 and ticket.ticket_number in resp.get_data(as_text=True)


def test_an_idle_board_is_drawn_again_after_five_minutes_at_the_latest(world, as_dispatcher, freeze):
    start = freeze("2026-11-24T08:00:00Z")
    make_ticket(world)
    db.session.commit()
    stamp = board_stamp(as_dispatcher)
    clock.set_now(start + timedelta(minutes=4, seconds=59))
    assert poll(as_dispatcher, stamp).status_code == 204
    clock.set_now(start + timedelta(minutes=5))
    assert poll(as_dispatcher, stamp).status_code == 200


def test_signed_out_other_roles_and_ended_sessions_get_no_idle_answer(app, world, as_dispatcher, signed_in,
                                                                     stranger):
    stamp = board_stamp(as_dispatcher)
    assert stranger.get(f"/dispatcher/tickets/poll?stamp={stamp}").status_code == 302
    assert signed_in(world.tech).get(f"/dispatcher/tickets/poll?stamp={stamp}").status_code == 403
    world.dispatcher.session_version += 1  # what a password reset does: the old sessions end
    db.session.commit()
    assert as_dispatcher.get(f"/dispatcher/tickets/poll?stamp={stamp}").status_code == 302


def test_a_forged_or_broken_stamp_draws_the_board(world, as_dispatcher):
    make_ticket(world)
    db.session.commit()
    for stamp in ("", "abc", "1", "99999999.99999999999", "1.2.3", "-1.5"):
        assert poll(as_dispatcher, stamp).status_code == 200, stamp


# --- writers on PostgreSQL -----------------------------------------------------------

@pytest.mark.postgres_only
def test_two_writers_neither_wait_for_each_other_nor_deadlock_on_the_counters(app, world, as_dispatcher):
    """Writer A changes a ticket and keeps its transaction open; writer B, on the same
    branch and on another, changes and commits meanwhile without waiting for A (a
    counter bumped at change time would hold B until A ends). Then many writers over
    both branches at once, crossing orders: all commit, none deadlocks, and the board
    sees the change."""
    first, second, third = make_ticket(world), make_ticket(world), make_ticket(world, branch=world.branch2)
    db.session.commit()
    ids = [first.id, second.id, third.id]
    stamp = board_stamp(as_dispatcher)
    db.session.commit()
    a_changed, b_done = threading.Event(), threading.Event()
    errors = []

    def in_app(fn):
        def run():
            try:
                with app.app_context():
                    fn()
            except Exception as exc:  # noqa: BLE001  (reported below)
                errors.append(exc)
        return run

    @in_app
    def writer_a():
        t = db.session.get(ServiceTicket, ids[0])
        tickets.patch(t, {"internalNotes": "A was here"}, db.session.merge(world.dispatcher))
        db.session.flush()
        a_changed.set()
        b_done.wait(10)  # B must finish while A's transaction is still open
        db.session.commit()

    @in_app
    def writer_b():
        a_changed.wait(10)
        for ticket_id in ids[1:]:  # the same branch as A, then another
            t = db.session.get(ServiceTicket, ticket_id)
            tickets.patch(t, {"internalNotes": "B was here"}, db.session.merge(world.dispatcher2))
            db.session.commit()
        b_done.set()

    threads = [threading.Thread(target=writer_a), threading.Thread(target=writer_b)]
    for t in threads:
        t.start()
    assert b_done.wait(8), "writer B waited for writer A's open transaction"
    for t in threads:
        t.join(15)
    assert not errors, errors

    # Many writers at once, each changing a ticket of its own on both branches, half of
    # them in the opposite order: only the counters are shared.
    pairs = []
    for _ in range(6):
        pairs.append((make_ticket(world).id, make_ticket(world, branch=world.branch2).id))
    db.session.commit()
    stamp = board_stamp(as_dispatcher)
    db.session.commit()
    barrier = threading.Barrier(len(pairs))

    def crossing(n):
        @in_app
        def run():
            order = pairs[n] if n % 2 else tuple(reversed(pairs[n]))
            barrier.wait(10)
            for round_ in range(5):
                for ticket_id in order:
                    t = db.session.get(ServiceTicket, ticket_id)
                    tickets.update_notes(t, db.session.merge(world.dispatcher), internal=f"writer {n}, {round_}")
                    db.session.flush()
                db.session.commit()
        return run

    threads = [threading.Thread(target=crossing(n)) for n in range(len(pairs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert poll(as_dispatcher, stamp).status_code == 200
