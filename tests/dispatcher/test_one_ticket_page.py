"""One ticket page (/tickets/<id>) for every role that may read the ticket: each role
sees its own actions and only those, the old addresses lead there, notifications lead
a technician to Accept, internal notes follow one rule, and the page's query count is
pinned."""
from __future__ import annotations

import re

from app.extensions import db
from app.models import Notification, NotificationChannel
from app.services import notifications, tickets
from tests.dispatcher.conftest import page_queries
from tests.dispatcher.helpers import accepted, approved, completed
from tests.factories import jpeg_bytes, make_ticket

TECH_ACTIONS = ("/accept", "/decline", "/arrive", "/complete")
STAFF_ACTIONS = ("/assign", "/priority", "/notes", "/close", "/equipment")  # the unit: any status


def actions_on(html: str, ticket) -> set[str]:
    """Which action endpoints of this ticket the page offers (forms and links)."""
    found = set(re.findall(r'(?:action|href)="/(?:tech/)?tickets/%s(/[a-z]+)"' % ticket.id, html))
    return found - {"/timeline"}


def test_each_role_sees_its_own_actions_and_only_those_on_the_same_url(world, signed_in):
    assigned = make_ticket(world)
    working = accepted(world)
    waiting, _ = completed(world)
    closed, _ = approved(world)
    db.session.commit()
    tech, manager, dispatcher, admin = (signed_in(u) for u in (world.tech, world.manager, world.dispatcher,
                                                                world.admin))
    page = lambda client, t: client.get(f"/tickets/{t.id}").get_data(as_text=True)  # noqa: E731

    assert actions_on(page(tech, assigned), assigned) == {"/accept", "/decline"}
    assert actions_on(page(tech, working), working) == {"/arrive", "/complete", "/pause"}
    assert actions_on(page(tech, waiting), waiting) == set()
    assert actions_on(page(manager, assigned), assigned) == set()
    assert actions_on(page(manager, waiting), waiting) == {"/approve"}
    assert actions_on(page(manager, closed), closed) == {"/report"}
    assert actions_on(page(dispatcher, assigned), assigned) == set(STAFF_ACTIONS)
    assert actions_on(page(dispatcher, waiting), waiting) == {"/priority", "/notes", "/equipment"}
    assert actions_on(page(dispatcher, closed), closed) == {"/notes", "/report", "/equipment"}
    assert actions_on(page(admin, waiting), waiting) == {"/priority", "/notes", "/approve", "/equipment"}
    html = page(tech, assigned)
    assert ">Accept<" in html and "Decline ticket" in html and "Dispatcher actions" not in html


def test_old_ticket_addresses_redirect_to_the_one_page(world, signed_in):
    ticket = make_ticket(world)
    db.session.commit()
    for user, old in ((world.tech, f"/tech/tickets/{ticket.id}"), (world.manager, f"/store/tickets/{ticket.id}")):
        client = signed_in(user)
        r = client.get(old)
        assert r.status_code in (302, 308)
        assert r.headers["Location"].endswith(f"/tickets/{ticket.id}")
        assert client.get(r.headers["Location"]).status_code == 200
    r = signed_in(world.manager).get(f"/store/tickets/{ticket.id}?created=1")
    assert r.headers["Location"].endswith(f"/tickets/{ticket.id}?created=1")
    # the redirect reveals nothing: the page itself answers 404 to someone who may not read it
    outsider = signed_in(world.outsider_tech)
    assert outsider.get(f"/tech/tickets/{ticket.id}", follow_redirects=True).status_code == 404


def test_the_assigned_to_you_notification_opens_the_page_with_accept(world, signed_in):
    ticket = make_ticket(world)  # auto-assigned to world.tech: "New ticket ... assigned to you"
    db.session.commit()
    note = db.session.query(Notification).filter_by(
        kind="ticket_assigned", channel=NotificationChannel.IN_APP, ticket_id=ticket.id).one()
    tech = signed_in(world.tech)
    r = tech.post(f"/notifications/{note.id}/open")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/tickets/{ticket.id}")
    html = tech.get(r.headers["Location"]).get_data(as_text=True)
    assert f'action="/tech/tickets/{ticket.id}/accept"' in html
    assert f'action="/tech/tickets/{ticket.id}/decline"' in html


def test_the_telegram_link_leads_the_technician_to_accept_and_approval_links_to_the_approve_step(
        world, signed_in, app):
    ticket = make_ticket(world)
    db.session.commit()
    base = app.config["APP_BASE_URL"].rstrip("/")
    link = notifications.ticket_link(ticket.id, "ticket_assigned")
    assert link == f"{base}/tickets/{ticket.id}"
    html = signed_in(world.tech).get(link[len(base):]).get_data(as_text=True)
    assert f'action="/tech/tickets/{ticket.id}/accept"' in html
    # "ready for your approval" asks for a step with its own screen: it links there
    assert notifications.ticket_link(ticket.id, "ticket_completed") == f"{base}/tickets/{ticket.id}/approve"


def test_internal_notes_follow_one_rule_on_the_page_and_its_timeline(world, signed_in):
    """API.md: internalNotes is omitted for store managers (access.can_see_internal_notes);
    the page, its timeline fragment and the API (tests/api) ask the same rule."""
    ticket = accepted(world)
    tickets.update_notes(ticket, world.dispatcher, internal="Alarm code 4411")
    db.session.commit()
    for user, sees in ((world.manager, False), (world.dispatcher, True), (world.tech, True)):
        client = signed_in(user)
        page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
        fragment = client.get(f"/tickets/{ticket.id}/timeline").get_data(as_text=True)
        for where, html in (("page", page), ("timeline", fragment)):
            assert ("Alarm code 4411" in html) is sees, (user.email, where)


def test_the_page_costs_a_fixed_number_of_queries_whatever_the_ticket_holds(world, signed_in, queries):
    """N+1 guard: one eager query for the ticket, one for the timeline, a fixed few more
    for the collections, however many events, photos and completions the ticket has."""
    small, _ = completed(world)  # one completion, one photo, a few events
    big, _ = completed(world)
    from app.services import completions, photos

    completions.decide(big.completion, world.manager, {"action": "reject", "reason": "Still warm"})
    for i in range(6):
        tickets.update_notes(big, world.dispatcher, internal=f"note {i}")
        photos.add_photo(big, world.tech, jpeg_bytes(), "after", f"Photo {i}", "p.jpg")
    from tests.dispatcher.helpers import WORK

    completions.complete(big, world.tech, WORK)
    db.session.commit()
    # ticket (+ completions, photos, parts, their photos: SELECT ... IN), timeline
    # manager: + their branches; dispatcher: + the branch's units (the ticket's unit select)
    limits = {world.dispatcher: 7, world.tech: 6, world.manager: 7}
    for user, limit in limits.items():
        client = signed_in(user)
        counts = []
        for t in (small, big):
            url = f"/tickets/{t.id}"
            with queries() as statements:
                assert client.get(url).status_code == 200
            counts.append(len(page_queries(statements)))
        assert counts[0] == counts[1] <= limit, (user.email, counts)

    # an open ticket adds the dispatcher's reassignment candidates: two queries, not one per technician
    open_ticket = accepted(world)
    with queries() as statements:
        signed_in(world.dispatcher).get(f"/tickets/{open_ticket.id}")
    assert len(page_queries(statements)) <= 8  # 7 before the ticket's unit select
