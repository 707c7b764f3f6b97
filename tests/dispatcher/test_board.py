"""The live board: columns, SLA colours, filters, cheap polling, scale."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import TicketPriority
from app.services import board as board_service
from app import clock
from app.services import tickets
from tests.dispatcher.conftest import page_queries
from tests.dispatcher.helpers import accepted, approved, card, column, completed, stamp_of
from tests.factories import make_branch, make_ticket

HX = {"HX-Request": "true"}


def test_each_status_has_its_column_with_number_branch_subcategory_priority_and_technician(world, as_dispatcher):
    lonely = make_branch(world.customer, "FM-009", "Freshmart Lonely")
    db.session.commit()
    new = make_ticket(world, branch=lonely, priority=TicketPriority.HIGH)
    assigned = make_ticket(world)
    in_progress = accepted(world)
    done, _ = completed(world)
    closed, _ = approved(world)
    db.session.commit()

    html = as_dispatcher.get("/dispatcher/tickets").get_data(as_text=True)

    for status, ticket in (("NEW", new), ("ASSIGNED", assigned), ("IN_PROGRESS", in_progress),
                           ("COMPLETED", done), ("CLOSED", closed)):
        assert ticket.ticket_number in column(html, status), status
    new_card = card(html, new)
    assert "FM-009 · Freshmart Lonely" in new_card
    assert "Cold Chambers" in new_card
    assert "High" in new_card and "Unassigned" in new_card
    assert "Timur Primary" in card(html, assigned)


def test_sla_countdown_turns_amber_in_the_last_quarter_and_red_when_breached(world, as_dispatcher, freeze):
    start = freeze("2026-11-24T08:00:00Z")
    ticket = make_ticket(world)  # NORMAL, Cold Chambers: response due in 1440 minutes
    db.session.commit()

    def state():
        html = as_dispatcher.get("/dispatcher/tickets", headers=HX).get_data(as_text=True)
        c = card(html, ticket)
        return c.split('"', 2)[1].split()[-1], c

    assert state()[0] == "sla-ok"
    clock.set_now(start + timedelta(minutes=1440 - 361))
    assert state()[0] == "sla-ok"
    clock.set_now(start + timedelta(minutes=1440 - 359))
    cls, html = state()
    assert cls == "sla-warning" and "5h 59m left" in html
    clock.set_now(start + timedelta(minutes=1445))
    cls, html = state()
    assert cls == "sla-overdue" and "overdue 5m" in html


def test_after_acceptance_the_card_counts_down_to_resolution_and_shows_on_site(world, as_dispatcher):
    ticket = accepted(world)
    html = as_dispatcher.get("/dispatcher/tickets").get_data(as_text=True)
    assert "On site" not in card(html, ticket)
    assert "Fix" in card(html, ticket)
    tickets.arrive(ticket, world.tech, world.branch.latitude, world.branch.longitude, 500)
    db.session.commit()
    html = as_dispatcher.get("/dispatcher/tickets").get_data(as_text=True)
    assert "On site" in card(html, ticket)


def test_closed_column_only_shows_tickets_closed_in_the_last_day(world, as_dispatcher, freeze):
    start = freeze("2026-11-24T08:00:00Z")
    ticket = make_ticket(world)
    tickets.close_without_completion(ticket, "Duplicate", world.dispatcher)
    db.session.commit()
    assert ticket.ticket_number in column(as_dispatcher.get("/dispatcher/tickets").get_data(as_text=True), "CLOSED")
    clock.set_now(start + timedelta(hours=25))
    html = as_dispatcher.get("/dispatcher/tickets").get_data(as_text=True)
    assert ticket.ticket_number not in html
    # Still findable in the list of all tickets.
    assert ticket.ticket_number in as_dispatcher.get("/dispatcher/tickets/list?status=CLOSED").get_data(as_text=True)


def test_filters_and_search_narrow_the_board_and_stay_in_the_poll_url(world, as_dispatcher):
    high = make_ticket(world, priority=TicketPriority.HIGH, description="Glass door cracked")
    normal = make_ticket(world, branch=world.branch2, description="Chamber too warm")
    normal.external_id = "CRM-4411"
    other = make_ticket(world, branch=world.other_branch, description="Noise at night")
    db.session.commit()

    def numbers(query):
        html = as_dispatcher.get("/dispatcher/tickets?" + query).get_data(as_text=True)
        return {t.ticket_number for t in (high, normal, other) if t.ticket_number in html}, html

    assert numbers("priority=HIGH")[0] == {high.ticket_number}
    assert numbers(f"branchId={world.branch2.id}")[0] == {normal.ticket_number}
    assert numbers(f"technicianId={world.outsider.id}")[0] == {other.ticket_number}
    assert numbers(f"categoryId={world.category.id}")[0] == {high.ticket_number, normal.ticket_number,
                                                              other.ticket_number}
    assert numbers("q=cracked")[0] == {high.ticket_number}
    assert numbers("q=crm-4411")[0] == {normal.ticket_number}
    found, html = numbers("q=" + other.ticket_number)
    assert found == {other.ticket_number}
    assert f"q={other.ticket_number}" in html.split('hx-get="/dispatcher/tickets/poll?', 1)[1].split('"', 1)[0]
    # The filter form shows what is applied.
    assert 'value="HIGH" selected' in numbers("priority=HIGH")[1]


def test_overdue_only_keeps_tickets_past_a_due_time(world, as_dispatcher, freeze):
    start = freeze("2026-11-24T08:00:00Z")
    late = make_ticket(world, priority=TicketPriority.CRITICAL)  # response due in 60 minutes
    clock.set_now(start + timedelta(minutes=50))
    fresh = make_ticket(world)
    db.session.commit()
    clock.set_now(start + timedelta(minutes=61))
    html = as_dispatcher.get("/dispatcher/tickets?overdue=true").get_data(as_text=True)
    assert late.ticket_number in html and fresh.ticket_number not in html


def test_idle_poll_answers_204_without_rendering_and_a_change_answers_the_board(world, as_dispatcher, freeze):
    freeze("2026-11-24T08:00:00Z")  # a frozen clock: the stamp must not rely on updated_at moving
    ticket = make_ticket(world)
    db.session.commit()
    html = as_dispatcher.get("/dispatcher/tickets", headers=HX).get_data(as_text=True)
    stamp = stamp_of(html)

    idle = as_dispatcher.get(f"/dispatcher/tickets/poll?stamp={stamp}", headers=HX)
    assert idle.status_code == 204 and idle.data == b""

    tickets.accept(ticket, world.tech)  # the technician's phone, elsewhere
    db.session.commit()
    changed = as_dispatcher.get(f"/dispatcher/tickets/poll?stamp={stamp}", headers=HX)
    assert changed.status_code == 200
    body = changed.get_data(as_text=True)
    assert ticket.ticket_number in column(body, "IN_PROGRESS")
    assert stamp_of(body) != stamp
    assert f'data-version="{ticket.version}"' in card(body, ticket)


def test_poll_notices_a_new_ticket_and_a_priority_change_on_the_filtered_board(world, as_dispatcher):
    first = make_ticket(world)
    db.session.commit()
    stamp = stamp_of(as_dispatcher.get("/dispatcher/tickets?priority=NORMAL", headers=HX).get_data(as_text=True))
    assert as_dispatcher.get(f"/dispatcher/tickets/poll?priority=NORMAL&stamp={stamp}").status_code == 204
    make_ticket(world, priority=TicketPriority.LOW)  # outside the filter: nothing to show...
    db.session.commit()
    resp = as_dispatcher.get(f"/dispatcher/tickets/poll?priority=NORMAL&stamp={stamp}")
    # ...but the poll may draw the board again (the counters are per branch, not per filter)
    assert resp.status_code in (200, 204) and "Low" not in resp.get_data(as_text=True)
    if resp.status_code == 200:
        stamp = stamp_of(resp.get_data(as_text=True))
    assert as_dispatcher.get(f"/dispatcher/tickets/poll?priority=NORMAL&stamp={stamp}").status_code == 204
    tickets.change_priority(first, TicketPriority.HIGH, world.dispatcher2)
    db.session.commit()
    resp = as_dispatcher.get(f"/dispatcher/tickets/poll?priority=NORMAL&stamp={stamp}")
    assert resp.status_code == 200 and first.ticket_number not in resp.get_data(as_text=True)


def _many(world, n):
    for i in range(n):
        t = make_ticket(world, branch=(world.branch, world.branch2, world.other_branch)[i % 3])
        if i % 4 == 1:
            tickets.accept(t, world.tech) if t.branch_id == world.branch.id else None
        if i % 5 == 2:
            tickets.close_without_completion(t, "dup", world.dispatcher)
    db.session.commit()


def _every_column(world):
    lonely = make_branch(world.customer, "FM-009", "Freshmart Lonely")
    make_ticket(world, branch=lonely)
    make_ticket(world)
    completed(world)
    approved(world)
    accepted(world)
    db.session.commit()


def test_board_queries_do_not_grow_with_the_number_of_tickets(world, as_dispatcher, queries):
    _every_column(world)
    with queries() as few:
        assert as_dispatcher.get("/dispatcher/tickets", headers=HX).status_code == 200
    _many(world, 40)
    with queries() as many:
        assert as_dispatcher.get("/dispatcher/tickets", headers=HX).status_code == 200
    # One aggregate for counts and stamp, one query per column, one for "Just arrived"
    # (these tickets were all created a moment ago).
    assert len(page_queries(many)) == len(page_queries(few)) == 1 + 5 + 1, "\n\n".join(many)
    with queries() as page:
        assert as_dispatcher.get("/dispatcher/tickets").status_code == 200
    # The full page adds the filter choices: branches, technicians, categories.
    assert len(page_queries(page)) == 1 + 5 + 1 + 3


def test_idle_poll_costs_one_aggregate_query(world, as_dispatcher, queries):
    _many(world, 10)
    stamp = stamp_of(as_dispatcher.get("/dispatcher/tickets", headers=HX).get_data(as_text=True))
    with queries() as sent:
        assert as_dispatcher.get(f"/dispatcher/tickets/poll?stamp={stamp}").status_code == 204
    assert len(page_queries(sent)) == 1, sent  # the aggregate, nothing rendered


def test_a_long_column_shows_the_most_urgent_cards_and_links_to_the_rest(world, as_dispatcher, monkeypatch, freeze):
    start = freeze("2026-11-24T08:00:00Z")
    low = make_ticket(world, priority=TicketPriority.LOW)
    clock.set_now(start + timedelta(minutes=5))
    critical = make_ticket(world, priority=TicketPriority.CRITICAL)
    normal = make_ticket(world)
    db.session.commit()
    monkeypatch.setattr(board_service, "CARDS_PER_COLUMN", 2)
    html = column(as_dispatcher.get("/dispatcher/tickets").get_data(as_text=True), "ASSIGNED")
    assert critical.ticket_number in html and normal.ticket_number in html
    assert low.ticket_number not in html
    assert "1 more" in html and "/dispatcher/tickets/list?status=ASSIGNED" in html
    assert html.index(critical.ticket_number) < html.index(normal.ticket_number)


def test_board_with_no_tickets_says_so(world, as_dispatcher):
    html = as_dispatcher.get("/dispatcher/tickets").get_data(as_text=True)
    assert "No open tickets." in html
    html = as_dispatcher.get("/dispatcher/tickets?q=nothing-like-this").get_data(as_text=True)
    assert "No tickets match these filters." in html


def test_invalid_filter_is_a_400_page_not_a_crash(world, as_dispatcher):
    resp = as_dispatcher.get("/dispatcher/tickets?priority=URGENTISSIMO")
    assert resp.status_code == 400


def test_ticket_list_pages_through_every_ticket_newest_first(world, as_dispatcher, freeze, monkeypatch):
    start = freeze("2026-11-24T08:00:00Z")
    made = []
    for i in range(5):
        clock.set_now(start + timedelta(minutes=i))
        made.append(make_ticket(world))
    db.session.commit()
    monkeypatch.setattr(board_service, "LIST_PAGE_SIZE", 2)
    monkeypatch.setattr(board_service.ticket_list, "__defaults__", (None, 2))
    seen = []
    url = "/dispatcher/tickets/list"
    while url:
        html = as_dispatcher.get(url).get_data(as_text=True)
        seen += [t.ticket_number for t in sorted(made, key=lambda t: html.find(t.ticket_number))
                 if t.ticket_number in html]
        nxt = html.split('href="/dispatcher/tickets/list?after=', 1)
        url = ("/dispatcher/tickets/list?after=" + nxt[1].split('"', 1)[0]) if len(nxt) > 1 else None
    assert seen == [t.ticket_number for t in reversed(made)]


@pytest.mark.parametrize("path", ["/dispatcher/tickets", "/dispatcher/tickets/poll", "/dispatcher/tickets/list",
                                  "/tickets/create", "/dispatcher/technicians", "/dispatcher/branches",
                                  "/dispatcher/categories"])
def test_technicians_and_store_managers_are_refused_and_strangers_sent_to_login(world, signed_in, stranger, path):
    assert signed_in(world.tech).get(path).status_code == 403
    assert signed_in(world.manager).get(path).status_code == 403
    resp = stranger.get(path)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_admin_uses_the_board_too(world, signed_in):
    assert signed_in(world.admin).get("/dispatcher/tickets").status_code == 200


def test_the_page_polls_with_its_stamp_through_the_board_script(world, as_dispatcher):
    make_ticket(world)
    db.session.commit()
    html = as_dispatcher.get("/dispatcher/tickets?priority=NORMAL").get_data(as_text=True)
    assert '<script src="/static/js/board.js" defer></script>' in html
    poll = re.search(r'hx-get="(/dispatcher/tickets/poll\?[^"]+)"\s+hx-trigger="board-poll"', html).group(1)
    assert f"stamp={stamp_of(html)}" in poll and "priority=NORMAL" in poll


def test_list_finds_a_ticket_by_its_whole_number_in_any_case(world, as_dispatcher):
    wanted = make_ticket(world)
    other = make_ticket(world)
    db.session.commit()
    html = as_dispatcher.get("/dispatcher/tickets/list?q=" + wanted.ticket_number.lower()).get_data(as_text=True)
    assert wanted.ticket_number in html and other.ticket_number not in html
    html = as_dispatcher.get("/dispatcher/tickets/list?q=CRM-none").get_data(as_text=True)
    assert "No tickets match." in html


def test_an_invalid_filter_names_the_filter_and_its_allowed_values(world, as_dispatcher):
    for path in ("/dispatcher/tickets?overdue=maybe", "/dispatcher/tickets/list?status=NOPE",
                 "/dispatcher/tickets/poll?priority=x"):
        resp = as_dispatcher.get(path)
        assert resp.status_code == 400, path
        html = resp.get_data(as_text=True)
        assert "A filter in the link is not valid" in html and "clear the filters" in html, path
    assert "overdue: Must be true or false." in as_dispatcher.get("/dispatcher/tickets?overdue=maybe").get_data(as_text=True)
