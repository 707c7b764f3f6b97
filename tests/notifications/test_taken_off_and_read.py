"""Issue 15, items 5 and 6: a technician taken off a ticket is told and their old item
is marked; items are read once the user acted on the ticket or it closed; nobody is
told of their own action; the reporter's confirmation says who was assigned and by when."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.models import Notification, NotificationChannel, TicketPriority
from app.services import completions, notifications, tickets
from app.services.notifications.routing import CREATOR, DISPATCHERS, PREVIOUS_TECHNICIAN, ROUTES, \
    STORE_MANAGERS, TECHNICIAN
from tests.factories import make_branch, make_ticket, signature_data_url

from .conftest import CHATS, fresh, outbox, recipients
from .test_in_app import login
from .test_who_hears_what import _complete

IN_APP = NotificationChannel.IN_APP
TELEGRAM = NotificationChannel.TELEGRAM


def unread(user, **where) -> list[Notification]:
    return [n for n in outbox(user_id=user.id, channel=IN_APP, **where) if n.read_at is None]


# --- item 5: taken off a ticket ----------------------------------------------------------

def test_a_technician_taken_off_a_ticket_is_told_in_app_and_on_telegram_and_the_old_item_is_marked(
        client, channels, linked, at):
    at()
    ticket = make_ticket(linked, by=linked.manager)
    db.session.commit()
    assert [n.kind for n in unread(linked.tech)] == ["ticket_assigned"]
    channels.reset()

    at(minutes=5)
    tickets.assign(ticket, linked.secondary.id, linked.dispatcher)
    db.session.commit()

    assert recipients("ticket_taken_off", IN_APP) == {"tech@example.com"}
    assert recipients("ticket_taken_off", TELEGRAM) == {"tech@example.com"}
    [told] = [r.body["text"] for r in channels.telegram_to(CHATS["tech"])]
    assert f"<b>You were taken off ticket {ticket.ticket_number}</b>" in told
    assert "nothing more to do on it" in told and "Technician: Sardor Secondary" in told
    assert "reply_markup" not in channels.telegram_to(CHATS["tech"])[0].body
    # The old "assigned to you" is read; only the news that they were taken off is not.
    assert [n.kind for n in unread(linked.tech)] == ["ticket_taken_off"]
    # The dispatcher who reassigned is not told of their own action.
    assert outbox(user_id=linked.dispatcher.id, ticket_id=ticket.id, kind="ticket_taken_off") == []

    login(client, "tech@example.com")
    page = client.get("/notifications").get_data(as_text=True)
    stale = page.split('class="notif is-stale"')[1].split("</li>")[0]
    # It says only that they were taken off (not a struck "Assigned to you" as well).
    assert "Taken off this ticket" in stale and "Assigned to you" not in stale
    # Its link leads to the ticket, which no longer offers the technician anything to do.
    old = outbox(user_id=linked.tech.id, channel=IN_APP, kind="ticket_assigned")[0]
    resp = client.post(f"/notifications/{old.id}/open")
    assert resp.headers["Location"] == f"/tickets/{ticket.id}"
    ticket_page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert ticket.ticket_number in ticket_page
    assert "/accept" not in ticket_page and "Decline" not in ticket_page


def test_the_api_says_which_items_of_a_technician_taken_off_are_stale(api, channels, linked, at):
    at()
    ticket = make_ticket(linked)
    db.session.commit()
    at(minutes=5)
    tickets.assign(ticket, linked.secondary.id, linked.dispatcher)
    db.session.commit()

    items = api.as_(linked.tech).get("/api/notifications").json["items"]
    assert [(i["kind"], i["stale"], i["readAt"] is None) for i in items] == [
        ("ticket_taken_off", False, True), ("ticket_assigned", True, False)]
    assert items[0]["title"] == f"You were taken off ticket {ticket.ticket_number}"
    assert items[0]["ticketNumber"] == ticket.ticket_number
    [new] = api.as_(linked.tech2).get("/api/notifications").json["items"]
    assert (new["kind"], new["stale"]) == ("ticket_assigned", False)


def test_assigning_the_same_technician_again_or_a_first_technician_takes_nobody_off(channels, linked, at):
    at()
    lonely = make_branch(linked.customer, "FM-009", "Freshmart Lonely")
    db.session.commit()
    ticket = make_ticket(linked, branch=lonely, by=linked.admin)
    db.session.commit()
    tickets.assign(ticket, linked.primary.id, linked.dispatcher)
    db.session.commit()
    tickets.assign(ticket, linked.primary.id, linked.dispatcher)
    db.session.commit()
    assert outbox(kind="ticket_taken_off") == []


# --- item 6: read once acted on, or closed -------------------------------------------------

def test_approving_marks_ready_for_your_approval_read_and_closing_reads_every_item(channels, linked, at):
    at()
    ticket = make_ticket(linked, by=linked.manager)
    db.session.commit()
    completion = _complete(linked, ticket)
    assert {n.kind for n in unread(linked.manager)} == {"ticket_created", "ticket_completed"}

    at(minutes=30)
    completions.decide(completion, linked.manager, {"action": "approve", "signedBy": "Dilnoza K.",
                                                    "signature": signature_data_url()})
    db.session.commit()

    assert unread(linked.manager) == []
    # The ticket closed: what came before is read for everybody; the approval is news.
    assert [n.kind for n in unread(linked.tech)] == ["completion_approved"]
    assert {n.kind for n in unread(linked.dispatcher)} == {"completion_approved"}


def test_rejecting_marks_the_approval_request_read_for_the_manager_only(channels, linked, at):
    at()
    ticket = make_ticket(linked, by=linked.manager)
    db.session.commit()
    completion = _complete(linked, ticket)
    other = make_ticket(linked, by=linked.manager)  # another ticket's items stay as they are
    db.session.commit()

    completions.decide(completion, linked.manager, {"action": "reject", "reason": "Still warm"})
    db.session.commit()

    assert [n.ticket_id for n in unread(linked.manager)] == [other.id]
    assert "completion_rejected" in {n.kind for n in unread(linked.tech)}


def test_accepting_marks_the_technicians_assigned_item_read(channels, linked, at):
    at()
    ticket = make_ticket(linked)
    db.session.commit()
    assert [n.kind for n in unread(linked.tech)] == ["ticket_assigned"]
    tickets.accept(ticket, linked.tech)
    db.session.commit()
    assert unread(linked.tech) == []


def test_closing_a_ticket_marks_its_items_read_for_everybody_and_a_rollback_keeps_them(channels, linked, at):
    at()
    lonely = make_branch(linked.customer, "FM-009", "Freshmart Lonely")
    db.session.commit()
    ticket = make_ticket(linked, branch=lonely, by=linked.admin)
    db.session.commit()
    assert len(unread(linked.dispatcher)) == len(unread(linked.dispatcher2)) == 1

    tickets.close_without_completion(ticket, "Duplicate", linked.dispatcher)
    db.session.rollback()
    assert len(unread(linked.dispatcher2)) == 1  # same transaction as the action

    ticket = tickets.get_ticket(ticket.id)
    tickets.close_without_completion(ticket, "Duplicate", linked.dispatcher)
    db.session.commit()
    assert unread(linked.dispatcher) == unread(linked.dispatcher2) == []


def test_once_a_dispatcher_assigns_a_ticket_the_no_technician_alerts_are_read_for_every_dispatcher(
        channels, linked, at):
    at()
    lonely = make_branch(linked.customer, "FM-009", "Freshmart Lonely")
    db.session.commit()
    ticket = make_ticket(linked, branch=lonely, by=linked.admin)
    db.session.commit()
    assert [n.kind for n in unread(linked.dispatcher2)] == ["ticket_unassigned"]

    tickets.assign(ticket, linked.primary.id, linked.dispatcher)
    db.session.commit()
    assert unread(linked.dispatcher) == unread(linked.dispatcher2) == []
    assert [n.kind for n in unread(linked.tech)] == ["ticket_assigned"]


# --- nobody is told of their own action ----------------------------------------------------

def _actor_for(world, kind: str):
    recipients = ROUTES[kind].recipients
    if TECHNICIAN in recipients:
        return world.tech
    if PREVIOUS_TECHNICIAN in recipients:
        return world.tech2
    if DISPATCHERS in recipients:
        return world.dispatcher
    assert STORE_MANAGERS in recipients
    return world.manager


@pytest.mark.parametrize("kind", sorted(k for k, r in ROUTES.items() if CREATOR not in r.recipients))
def test_nobody_is_told_of_their_own_action(channels, linked, kind):
    ticket = make_ticket(linked, priority=TicketPriority.CRITICAL)
    db.session.commit()
    actor = _actor_for(linked, kind)

    def told(by) -> set[str]:
        db.session.execute(delete(Notification))
        notifications.notify(kind, ticket, by, previous_technician_id=linked.secondary.id, reason="On another job")
        return set(db.session.execute(select(Notification.user_id).where(Notification.kind == kind)).scalars())

    everyone = told(None)  # an event nobody caused (the SLA sweep's)
    acting = told(actor)
    db.session.rollback()
    assert actor.id in everyone
    assert acting == everyone - {actor.id}


# --- the reporter's confirmation -------------------------------------------------------

def test_the_reporters_confirmation_says_who_was_assigned_and_by_when_they_must_respond(channels, linked, at):
    at()
    ticket = make_ticket(linked, by=linked.manager)
    db.session.commit()
    [mine] = outbox(user_id=linked.manager.id, channel=IN_APP)
    assert mine.kind == "ticket_created" and mine.read_at is None
    assert mine.body == (f"Ticket {ticket.ticket_number} received: assigned to Timur Primary, who must respond "
                         "by 25 Nov 14:00 UTC+5.")
    [text] = [r.body["text"] for r in channels.telegram_to(CHATS["manager"])]
    assert "assigned to Timur Primary, who must respond by 25 Nov 14:00 UTC+5." in text
    assert "Cold chamber at 12°C" not in text  # not their own report again


def test_the_confirmation_of_a_ticket_nobody_could_take_says_it_waits_for_a_technician(channels, linked, at):
    at()
    lonely = make_branch(linked.customer, "FM-009", "Freshmart Lonely")
    linked.manager.branches.append(lonely)
    db.session.commit()
    ticket = make_ticket(linked, branch=lonely, by=linked.manager)
    db.session.commit()
    [mine] = outbox(user_id=linked.manager.id, channel=IN_APP, kind="ticket_created")
    assert mine.body.startswith(f"Ticket {ticket.ticket_number} received: waiting for a technician, who must "
                                "respond by ")


# --- the inbox page ----------------------------------------------------------------------

def test_the_inbox_is_one_line_per_item_grouped_by_ticket_with_relative_times(client, channels, linked, at):
    at()
    lonely = make_branch(linked.customer, "FM-009", "Freshmart Lonely")
    db.session.commit()
    first = make_ticket(linked, branch=lonely, by=linked.admin)
    db.session.commit()
    at(minutes=1)
    second = make_ticket(linked, branch=lonely, by=linked.admin)
    db.session.commit()
    at(minutes=50)
    notifications.notify("sla_new_overdue", first)
    at(minutes=55)
    notifications.notify("sla_resolution_overdue", first)
    db.session.commit()

    at(minutes=60)
    login(client, "dispatcher@example.com")
    page = client.get("/notifications").get_data(as_text=True)
    groups = page.split('class="inbox-group')[1:]
    # The ticket with the latest item first, its items newest first, one line each.
    assert [first.ticket_number in g for g in groups] == [True, False]
    assert second.ticket_number in groups[1]
    assert "3 new" in groups[0] and "1 new" in groups[1]
    lines = [part.split("</span>")[0] for part in groups[0].split('class="notif-text">')[1:]]
    assert lines == ["Resolution overdue", "No technician, past its response time", "No technician available"]
    assert ('datetime="2026-11-24T09:55:00Z" title="24 Nov 14:55 UTC+5">5 min ago</time>'
            in groups[0])
    assert ">1 h ago</time>" in groups[0] and ">59 min ago</time>" in groups[1]
    assert "Description:" not in page  # no long blocks
