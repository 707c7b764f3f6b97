"""Issue 15, item 12: a ticket the store sent back is flagged on the board and on the
technician's queue, and a ticket that just arrived is seen however long its column is."""
from __future__ import annotations

import re
from datetime import timedelta

from app.extensions import db
from app.models import TicketPriority
from app import clock
from app.services import board as board_service
from app.services import completions
from tests.dispatcher.helpers import card, column, completed
from tests.factories import make_ticket
from tests.technician.conftest import sign_in

HX = {"HX-Request": "true"}


def _strip(html: str) -> str:
    m = re.search(r'<section class="arrivals".*?</section>', html, re.S)
    return m.group(0) if m else ""


def _sent_back(world):
    ticket, c = completed(world)
    completions.decide(c, world.manager, {"action": "reject", "reason": "The door still does not close"})
    db.session.commit()
    return ticket


def test_a_ticket_the_store_sent_back_is_flagged_on_its_board_card(world, as_dispatcher):
    back = _sent_back(world)
    done, _ = completed(world)
    html = as_dispatcher.get("/dispatcher/tickets", headers=HX).get_data(as_text=True)
    assert back.ticket_number in column(html, "IN_PROGRESS")
    assert "Sent back by the store" in card(html, back)
    assert "Sent back by the store" not in card(html, done)


def test_a_ticket_the_store_sent_back_is_flagged_on_the_technicians_queue(app, world):
    back = _sent_back(world)
    other = make_ticket(world)
    db.session.commit()
    html = sign_in(app.test_client(), world.tech.email).get("/tech/dashboard").get_data(as_text=True)
    cards = {m.group(1): m.group(0) for m in re.finditer(r'<article class="tcard[^"]*"\s+id="ticket-([^"]+)".*?</article>',
                                                         html, re.S)}
    assert "Sent back by the store" in cards[back.id]
    assert "Sent back by the store" not in cards[other.id]


def test_a_normal_ticket_that_just_arrived_is_on_the_board_however_long_its_column(world, as_dispatcher, freeze,
                                                                                    monkeypatch):
    start = freeze("2026-11-24T08:00:00Z")
    monkeypatch.setattr(board_service, "CARDS_PER_COLUMN", 3)
    for _ in range(5):
        make_ticket(world, priority=TicketPriority.CRITICAL)
    db.session.commit()
    clock.set_now(start + timedelta(minutes=30))  # the critical ones are old news
    html = as_dispatcher.get("/dispatcher/tickets", headers=HX).get_data(as_text=True)
    assert _strip(html) == "", "nothing arrived in the last minutes"
    stamp = re.search(r'data-stamp="([^"]+)"', html).group(1)

    new = make_ticket(world, priority=TicketPriority.NORMAL)
    db.session.commit()
    html = as_dispatcher.get(f"/dispatcher/tickets/poll?stamp={stamp}").get_data(as_text=True)
    assert new.ticket_number not in column(html, "ASSIGNED"), "the column shows the most urgent only"
    strip = _strip(html)
    assert "Just arrived" in strip and new.ticket_number in strip
    assert f'href="/tickets/{new.id}"' in strip

    clock.set_now(start + timedelta(minutes=30 + 11))  # out of the 10-minute window
    html = as_dispatcher.get("/dispatcher/tickets", headers=HX).get_data(as_text=True)
    assert _strip(html) == ""


def test_the_arrivals_window_is_configurable_and_follows_the_filters(app, world, as_dispatcher, freeze, monkeypatch):
    start = freeze("2026-11-24T08:00:00Z")
    high = make_ticket(world, priority=TicketPriority.HIGH)
    normal = make_ticket(world)
    db.session.commit()
    clock.set_now(start + timedelta(minutes=20))
    assert _strip(as_dispatcher.get("/dispatcher/tickets", headers=HX).get_data(as_text=True)) == ""
    monkeypatch.setitem(app.config, "BOARD_ARRIVALS_MINUTES", 30)
    strip = _strip(as_dispatcher.get("/dispatcher/tickets?priority=HIGH", headers=HX).get_data(as_text=True))
    assert high.ticket_number in strip and normal.ticket_number not in strip
