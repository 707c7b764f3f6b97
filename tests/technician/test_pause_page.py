"""Pausing from the ticket page (/tickets/<id>/pause, /resume): the assigned technician
and dispatchers pause with a reason and resume; the store manager reads the pause;
the queue card says "Paused", not red. Plain POST forms (no JS needed)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import PauseReason, TicketPriority
from app.services import pauses, tickets
from tests.factories import make_ticket

from .conftest import sign_in

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def working(world, freeze):
    freeze(T0)
    ticket = make_ticket(world)
    tickets.accept(ticket, world.tech)
    db.session.commit()
    return ticket


def html(r) -> str:
    return r.get_data(as_text=True).replace("\xa0", " ")  # a length stays on one line


def test_the_technician_pauses_from_the_page_and_resumes(app, world, freeze, working, tech):
    page = html(tech.get(f"/tickets/{working.id}"))
    assert "Pause work" in page and 'action="/tickets/%s/pause"' % working.id in page
    for reason in PauseReason:
        assert f'value="{reason.value}"' in page and str(reason.label) in page

    freeze(T0 + timedelta(minutes=20))
    r = tech.post(f"/tickets/{working.id}/pause", data={"reason": "WAITING_PARTS", "note": "Compressor on order",
                                                         "version": working.version})
    # Back to the page's top, where the confirmation shows (not scrolled past it).
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/tickets/{working.id}")
    db.session.expire_all()
    assert working.pause_reason == PauseReason.WAITING_PARTS

    freeze(T0 + timedelta(hours=3, minutes=20))
    page = html(tech.get(f"/tickets/{working.id}"))
    assert "Paused · Waiting for parts · for 3 h 00 min" in page
    # What is left once resumed: NORMAL resolution 2,880 min from T0, paused after 20 min.
    assert "When the work resumes, 47 h 40 min of working time will be left before the deadline." in page
    assert "“Compressor on order”" in page and "Resume work" in page and "Pause work" not in page
    assert "Resolution: paused" in page
    assert "Paused: Waiting for parts — Compressor on order" in page  # the timeline

    r = tech.post(f"/tickets/{working.id}/resume", data={"version": working.version}, follow_redirects=True)
    assert r.status_code == 200
    page = html(r)
    assert "Work resumed. The deadline moved 3 h later (the paused working time)" in page
    assert "Resume work" not in page and "Pause work" in page
    assert "Resumed after 3 h 00 min (working time)" in page


def test_other_without_a_note_comes_back_with_the_reason_beside_the_note(world, working, tech):
    r = tech.post(f"/tickets/{working.id}/pause", data={"reason": "OTHER", "note": ""})
    assert r.status_code == 400
    page = html(r)
    assert 'id="pause-note-error"' in page and "Say why the work is paused." in page
    assert re.search(r'<details class="tp-pause-ask" open>', page)
    assert re.search(r'value="OTHER" checked', page)  # the chosen chip stays chosen
    db.session.expire_all()
    assert working.paused_at is None


def test_no_reason_chosen(world, working, tech):
    r = tech.post(f"/tickets/{working.id}/pause", data={})
    assert r.status_code == 400 and 'id="pause-reason-error"' in html(r)


def test_a_double_tap_pauses_once_and_says_so_without_an_error(world, working, tech):
    """Gloves: the second tap of a double tap reaches the server with the page's old
    version, after the first paused the ticket. The person asked for a pause and has one:
    the confirmation, not "changed by someone else"; one pause on the ticket."""
    version = working.version
    first = tech.post(f"/tickets/{working.id}/pause", data={"reason": "NO_ACCESS", "version": version})
    second = tech.post(f"/tickets/{working.id}/pause", data={"reason": "NO_ACCESS", "version": version},
                       follow_redirects=True)
    assert first.status_code == 303 and second.status_code == 200
    page = html(second)
    assert "Work paused: No access to the store." in page and "changed by someone else" not in page
    db.session.expire_all()
    rows = db.session.execute(select(pauses.TicketPause).where(pauses.TicketPause.ticket_id == working.id)).all()
    assert len(rows) == 1


def test_a_double_tap_on_resume_resumes_once(world, working, tech):
    tech.post(f"/tickets/{working.id}/pause", data={"reason": "NO_ACCESS"})
    db.session.expire_all()
    version = working.version
    assert tech.post(f"/tickets/{working.id}/resume", data={"version": version}).status_code == 303
    again = tech.post(f"/tickets/{working.id}/resume", data={"version": version}, follow_redirects=True)
    assert again.status_code == 200 and "Work resumed." in html(again) and "changed by someone else" not in html(again)


def test_a_pause_outside_working_hours_says_the_deadline_stays(world, freeze, working, tech):
    """Paused and resumed within the same minute: no working time, and the message says so
    instead of naming a deadline that did not move."""
    tech.post(f"/tickets/{working.id}/pause", data={"reason": "STORE_REQUEST"})
    r = tech.post(f"/tickets/{working.id}/resume", data={}, follow_redirects=True)
    assert "The pause took no working time, so the deadline stays" in html(r)


def test_reloading_the_pause_address_opens_the_ticket(world, working, tech):
    """A refused pause leaves /tickets/<id>/pause in the address bar; reloading it on a
    weak signal opens the ticket instead of "Method not allowed"."""
    for action in ("pause", "resume"):
        r = tech.get(f"/tickets/{working.id}/{action}")
        assert r.status_code == 303 and r.headers["Location"].endswith(f"/tickets/{working.id}")


def test_a_stale_page_is_refused(world, working, tech):
    stale = working.version
    tickets.update_notes(working, world.dispatcher, internal="x")
    db.session.commit()
    r = tech.post(f"/tickets/{working.id}/pause", data={"reason": "NO_ACCESS", "version": stale})
    assert r.status_code == 409 and "changed by someone else" in html(r)


def test_the_dispatcher_has_the_same_controls(app, world, working):
    dispatcher = sign_in(app.test_client(), world.dispatcher.email)
    assert "Pause work" in html(dispatcher.get(f"/tickets/{working.id}"))
    r = dispatcher.post(f"/tickets/{working.id}/pause", data={"reason": "STORE_REQUEST"})
    assert r.status_code == 303
    page = html(dispatcher.get(f"/tickets/{working.id}"))
    assert "Paused · Store asked to wait" in page and "Resume work" in page


def test_the_store_manager_reads_the_pause_but_has_no_buttons(app, world, working):
    pauses.pause(working.id, world.tech, "STORE_REQUEST", "Inventory until 15:00")
    db.session.commit()
    manager = sign_in(app.test_client(), world.manager.email)
    page = html(manager.get(f"/tickets/{working.id}"))
    assert "Paused · Store asked to wait" in page and "Inventory until 15:00" in page
    assert "Resume work" not in page and "Pause work" not in page
    assert manager.post(f"/tickets/{working.id}/resume", data={}).status_code == 403
    outsider = sign_in(app.test_client(), world.outsider_tech.email)
    assert outsider.post(f"/tickets/{working.id}/resume", data={}).status_code == 404


def test_an_assigned_ticket_offers_no_pause(world, tech):
    ticket = make_ticket(world)
    db.session.commit()
    page = html(tech.get(f"/tickets/{ticket.id}"))
    assert "Pause work" not in page
    # ... but says how to get there, instead of leaving the technician to wonder.
    assert "Once you accept the ticket you can pause its repair clock here" in page


def test_the_queue_card_says_paused_not_red(world, freeze, working, tech):
    pauses.pause(working.id, world.tech, "WAITING_PARTS")
    db.session.commit()
    freeze(working.resolution_due_at + timedelta(days=2))  # long past the original deadline
    page = html(tech.get("/tech/dashboard"))
    card = page[page.index(f'id="ticket-{working.id}"'):]
    card = card[:card.index("</article>")]
    assert "tcard-paused" in page and "sla-paused" in card and "Paused · Waiting for parts" in card
    assert "overdue" not in card.lower()


def test_the_pause_reads_in_the_readers_language(app, world, freeze, working):
    world.tech.locale = "ru"
    world.manager.locale = "uz"
    db.session.commit()
    freeze(T0)
    pauses.pause(working.id, world.tech, "WAITING_PARTS", "Компрессор в пути")
    db.session.commit()
    freeze(T0 + timedelta(hours=3, minutes=20))
    tech = sign_in(app.test_client(), world.tech.email)
    page = html(tech.get(f"/tickets/{working.id}"))
    assert "На паузе · Ждём запчасти · уже 3 ч 20 мин" in page and "Возобновить работу" in page
    assert "Пауза: Ждём запчасти — Компрессор в пути" in page
    manager = sign_in(app.test_client(), world.manager.email)
    assert "Pauzada · " in html(manager.get(f"/tickets/{working.id}"))
    from app.models import Notification

    body = db.session.execute(select(Notification.body).where(Notification.kind == "ticket_paused")).scalar()
    assert body.startswith("Taʼmir pauzada: ")


def test_a_paused_ticket_goes_after_the_running_ones_in_the_queue(world, freeze, working, tech):
    later = make_ticket(world, priority=TicketPriority.LOW)
    tickets.accept(later, world.tech)
    db.session.commit()
    assert working.resolution_due_at < later.resolution_due_at
    pauses.pause(working.id, world.tech, "NO_ACCESS")
    db.session.commit()
    page = html(tech.get("/tech/dashboard"))
    assert page.index(f'id="ticket-{later.id}"') < page.index(f'id="ticket-{working.id}"')
