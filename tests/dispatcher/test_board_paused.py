"""Paused tickets on the board, the ticket list and the technician's queue: a neutral
"Paused" badge with the reason and for how long, never red or amber, left out of the
overdue filter; a card drawn before the pause is not served from the fragment cache
after it.

The pause is written as services/pauses.py leaves it (the ticket's `paused_at` and
`pause_reason`, a `ticket_pauses` row); the resume clears them and moves the due time.
"""
from __future__ import annotations

import re
from datetime import timedelta

from app import clock
from app.extensions import db
from app.models import PauseReason, TicketPause
from app.services import board as board_service
from tests.conftest import new_client, sign_in
from tests.dispatcher.helpers import accepted, card, column
from tests.factories import make_ticket

HX = {"HX-Request": "true"}


def pause(ticket, reason, technician=None):
    ticket.paused_at, ticket.pause_reason = clock.now(), reason
    db.session.add(TicketPause(ticket_id=ticket.id, reason=reason, paused_at=clock.now(),
                               technician_id=technician.id if technician else None, branch_id=ticket.branch_id))
    db.session.commit()


def resume(ticket, moved: timedelta):
    p = db.session.query(TicketPause).filter_by(ticket_id=ticket.id, resumed_at=None).one()
    p.resumed_at = clock.now()
    ticket.paused_at = ticket.pause_reason = None
    ticket.resolution_due_at += moved
    ticket.resolution_warn_at += moved
    db.session.commit()


def sla_class(card_html: str) -> str:
    return card_html.split('"', 2)[1].split()[-1]


def test_a_paused_card_says_why_and_how_long_and_is_not_overdue_past_its_due_time(world, as_dispatcher, freeze):
    start = freeze("2026-11-24T08:00:00Z")
    waiting = accepted(world)  # NORMAL: resolution due in 48 h
    late = accepted(world)
    clock.set_now(start + timedelta(hours=47))
    pause(waiting, PauseReason.WAITING_PARTS, world.primary)
    clock.set_now(start + timedelta(hours=50))  # both past their due time; one paused 3 h

    html = as_dispatcher.get("/dispatcher/tickets").get_data(as_text=True).replace("\xa0", " ")
    c = card(html, waiting)
    assert sla_class(c) == "sla-paused" and 'class="sla sla-paused"' in c
    assert "Paused · Waiting for parts · for 3h 00m" in c
    # The length never splits over two lines of a narrow card.
    assert "3h\xa000m" in as_dispatcher.get("/dispatcher/tickets").get_data(as_text=True)
    assert "overdue" not in c and "data-due" not in c  # board.js leaves it alone
    assert sla_class(card(html, late)) == "sla-overdue"
    assert waiting.ticket_number in column(html, "IN_PROGRESS")

    # The overdue filter leaves the paused ticket out, and the board counts it as not overdue.
    html = as_dispatcher.get("/dispatcher/tickets?overdue=true").get_data(as_text=True).replace("\xa0", " ")
    assert late.ticket_number in html and waiting.ticket_number not in html
    board = board_service.load_board({})
    assert board.overdue == 1

    # The ticket list says the same.
    html = as_dispatcher.get("/dispatcher/tickets/list").get_data(as_text=True).replace("\xa0", " ")
    row = re.search(r"<tr>(?:(?!</tr>).)*%s.*?</tr>" % waiting.ticket_number, html, re.S).group(0)
    assert "sla-paused" in row and "Paused · Waiting for parts · for 3h 00m" in row and "overdue" not in row


def test_pausing_and_resuming_redraw_the_card(world, as_dispatcher, freeze):
    """The board's cards are cached by what they show: a pause changes the ticket (its
    version, its pause columns), so the card drawn before is not served after."""
    start = freeze("2026-11-24T08:00:00Z")
    ticket = accepted(world)
    clock.set_now(start + timedelta(hours=1))
    before = card(as_dispatcher.get("/dispatcher/tickets", headers=HX).get_data(as_text=True).replace("\xa0", " "), ticket)
    assert sla_class(before) == "sla-ok"
    version = ticket.version

    pause(ticket, PauseReason.NO_ACCESS)
    assert ticket.version > version
    c = card(as_dispatcher.get("/dispatcher/tickets", headers=HX).get_data(as_text=True).replace("\xa0", " "), ticket)
    assert sla_class(c) == "sla-paused" and "No access to the store · for 0s" in c
    clock.set_now(start + timedelta(hours=3))
    c = card(as_dispatcher.get("/dispatcher/tickets", headers=HX).get_data(as_text=True).replace("\xa0", " "), ticket)
    assert "No access to the store · for 2h 00m" in c

    resume(ticket, timedelta(hours=2))
    c = card(as_dispatcher.get("/dispatcher/tickets", headers=HX).get_data(as_text=True).replace("\xa0", " "), ticket)
    assert sla_class(c) == "sla-ok" and "Paused" not in c and "Fix" in c
    assert "47h" not in c and "1d 23h left" in c  # 48 h - 3 h gone + 2 h moved


def test_the_technicians_queue_shows_the_pause_not_a_red_countdown(app, world, freeze):
    start = freeze("2026-11-24T08:00:00Z")
    paused = accepted(world)
    clock.set_now(start + timedelta(minutes=5))
    running = make_ticket(world)  # ASSIGNED to the same technician, response due in 24 h
    db.session.commit()
    clock.set_now(start + timedelta(hours=47))
    pause(paused, PauseReason.PRODUCT_BEING_MOVED, world.primary)
    clock.set_now(start + timedelta(hours=49, minutes=30))

    tech = sign_in(new_client(app), world.tech)
    html = tech.get("/tech/dashboard").get_data(as_text=True).replace("\xa0", " ")
    ids = re.findall(r'id="ticket-([0-9a-f]+)"', html)
    assert ids.index(running.id) < ids.index(paused.id)  # a paused ticket waits: after the running ones
    c = html[html.rindex("<article", 0, html.index(f'id="ticket-{paused.id}"')):]
    c = c[:c.index("</article>")]
    assert "tcard-paused" in c and 'class="sla sla-paused"' in c
    assert "Paused · Product being moved · " in c and "2 h 30 min" in c
    assert "overdue" not in c.lower()
