"""/store: my branch's tickets, open first, in plain words."""
from datetime import datetime, timedelta, timezone

from app.extensions import db
from app.models import TicketStatus
from app import clock
from app.services import tickets
from tests.factories import make_ticket
from tests.store.conftest import finished_ticket


def test_store_lists_only_my_branch_tickets_with_plain_status_and_tel_link(world, login):
    mine = make_ticket(world, description="Dairy fridge warm")
    other = make_ticket(world, branch=world.other_branch, description="Other chain's freezer")
    db.session.commit()
    page = login(world.manager).get("/store").get_data(as_text=True)
    assert mine.ticket_number in page
    assert other.ticket_number not in page
    assert "Technician assigned" in page
    assert "Timur Primary" in page
    assert 'href="tel:+998900000001"' in page


def test_store_says_where_the_ticket_stands_in_plain_words(world, login):
    waiting = make_ticket(world, branch=world.branch, description="A")
    waiting.status, waiting.assigned_technician_id = TicketStatus.NEW, None
    on_way = make_ticket(world, description="B")
    tickets.accept(on_way, world.tech)
    on_site = make_ticket(world, description="C")
    tickets.accept(on_site, world.tech)
    tickets.arrive(on_site, world.tech)
    db.session.commit()
    approval = finished_ticket(world)
    page = login(world.manager).get("/store").get_data(as_text=True)
    for words in ("Waiting for a technician", "Technician on the way", "Technician on site",
                  "Waiting for your approval"):
        assert words in page
    assert "1 job is waiting for your approval" in page
    assert f"/tickets/{approval.id}/approve" in page


def test_awaiting_approval_comes_first_then_open_then_closed(world, login):
    first_open = make_ticket(world, description="open one")
    closed = make_ticket(world, description="closed one")
    tickets.close_without_completion(closed, "Duplicate", world.dispatcher)
    db.session.commit()
    approval = finished_ticket(world)
    page = login(world.manager).get("/store").get_data(as_text=True)
    positions = [page.index(t.ticket_number) for t in (approval, first_open, closed)]
    assert positions == sorted(positions)
    assert page.index("Closed recently") < positions[2]
    assert 'class="ticket-card is-awaiting"' in page


def test_due_time_is_shown_in_the_app_timezone(app, world, login, freeze):
    freeze("2026-11-24T09:00:00Z")
    t = make_ticket(world)  # NORMAL cold chamber: response due in 1440 minutes
    db.session.commit()
    app.config["APP_TIMEZONE"] = "Asia/Tashkent"
    try:
        page = login(world.manager).get("/store").get_data(as_text=True)
    finally:
        app.config["APP_TIMEZONE"] = "UTC"
    assert t.response_due_at == datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
    assert "Technician due by" in page
    assert "25 Nov 14:00 UTC+5" in page  # UTC+5


def test_overdue_ticket_is_marked_late(world, login, freeze):
    freeze("2026-11-24T09:00:00Z")
    make_ticket(world)
    db.session.commit()
    clock.set_now(clock.now() + timedelta(days=2))
    page = login(world.manager).get("/store").get_data(as_text=True)
    assert '<span class="late">late</span>' in page


def test_a_ticket_reassigned_after_it_was_accepted_shows_its_fix_deadline(world, login, freeze):
    """ASSIGNED again after an accept: the response was given, the resolution clock runs
    (sla.running_deadline), so the row says "Fix due by", not "Closed"."""
    freeze("2026-11-24T09:00:00Z")
    t = make_ticket(world)
    tickets.accept(t, world.tech)
    tickets.assign(t, world.secondary.id, world.dispatcher)
    db.session.commit()
    assert t.status == TicketStatus.ASSIGNED and t.first_response_at is not None
    page = login(world.manager).get("/store").get_data(as_text=True)
    card = page[page.index(t.ticket_number):page.index("Closed recently")]
    assert "Fix due by" in card and "Technician due by" not in card
    assert "<dt>Closed</dt>" not in card
    detail = login(world.manager).get(f"/tickets/{t.id}").get_data(as_text=True)
    assert "Must be fixed by" in detail and "Technician must respond by" not in detail


def test_the_list_costs_the_same_queries_for_one_ticket_or_many(world, login, count_queries):
    client = login(world.manager)
    make_ticket(world)
    tickets.close_without_completion(make_ticket(world), "done", world.dispatcher)
    db.session.commit()
    with count_queries() as one:
        assert client.get("/store").status_code == 200
    for i in range(6):
        make_ticket(world, description=f"more {i}")
        tickets.close_without_completion(make_ticket(world), "done", world.dispatcher)
    db.session.commit()
    finished_ticket(world)
    with count_queries() as many:
        assert client.get("/store").status_code == 200
    assert many() == one()
    assert many() <= 11


def test_empty_branch_shows_how_to_report(world, login):
    page = login(world.manager).get("/store").get_data(as_text=True)
    assert "Nothing open." in page
    assert 'href="/store/tickets/new"' in page


def test_htmx_poll_gets_only_the_list(world, login):
    r = login(world.manager).get("/store", headers={"HX-Request": "true"})
    body = r.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="store-tickets"')
    assert "<html" not in body


def test_other_roles_cannot_use_the_store_page(world, login, client):
    assert client.get("/store").status_code == 302  # signed out -> login
    assert login(world.dispatcher).get("/store").status_code == 403
    assert login(world.tech).get("/store").status_code == 403
