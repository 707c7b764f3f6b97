"""The inbox says where each ticket stands now, and an approval request that was decided
says so, instead of asking for an approval that is no longer wanted (issue 15 walk)."""
from __future__ import annotations

from app.extensions import db
from app.services import completions, notifications
from tests.factories import make_ticket, signature_data_url

from .test_in_app import login
from .test_who_hears_what import _complete


def _group(page: str, number: str) -> str:
    [group] = [g for g in page.split('class="inbox-group')[1:] if number in g]
    return group


def _approval_item(group: str) -> str:
    [item] = [i.split("</li>")[0] for i in group.split('<li class="notif')[1:] if "Ready for your approval" in i]
    return item


def test_an_approved_tickets_approval_request_shows_approved_and_the_ticket_closed(client, channels, linked, at):
    at()
    ticket = make_ticket(linked, by=linked.manager)
    db.session.commit()
    completion = _complete(linked, ticket)

    login(client, "manager@example.com")
    group = _group(client.get("/notifications").get_data(as_text=True), ticket.ticket_number)
    assert "Waiting for your approval" in group
    assert "is-settled" not in _approval_item(group)

    at(minutes=30)
    completions.decide(completion, linked.manager, {"action": "approve", "signedBy": "Dilnoza K.",
                                                    "signature": signature_data_url()})
    db.session.commit()

    group = _group(client.get("/notifications").get_data(as_text=True), ticket.ticket_number)
    assert '<span class="inbox-status status-closed">Closed</span>' in group
    item = _approval_item(group)
    assert "is-settled" in item and '<span class="notif-settled">Approved</span>' in item
    assert "Waiting for your approval" not in group


def test_a_sent_back_tickets_approval_request_shows_sent_back(client, channels, linked, at):
    at()
    ticket = make_ticket(linked, by=linked.manager)
    db.session.commit()
    completion = _complete(linked, ticket)
    at(minutes=30)
    completions.decide(completion, linked.manager, {"action": "reject", "reason": "Still warm"})
    db.session.commit()

    login(client, "manager@example.com")
    page = client.get("/notifications").get_data(as_text=True)
    group = _group(page, ticket.ticket_number)
    assert ">Sent back to the technician</span>" in group
    assert '<span class="notif-settled">Sent back</span>' in _approval_item(group)
    # The dispatcher reads the same ticket's state in the office's words.
    login(client, "dispatcher@example.com")
    group = _group(client.get("/notifications").get_data(as_text=True), ticket.ticket_number)
    assert ">Sent back to the technician</span>" in group


def test_each_group_names_the_branch_on_the_number_line_and_a_worded_mark_read(client, channels, linked, at):
    at()
    ticket = make_ticket(linked, by=linked.admin)
    db.session.commit()
    notifications.notify("sla_resolution_overdue", ticket)
    db.session.commit()
    login(client, "dispatcher@example.com")
    group = _group(client.get("/notifications").get_data(as_text=True), ticket.ticket_number)
    where = group.split('class="inbox-where">')[1].split("</span></span>")[0]
    assert ticket.ticket_number in where and ticket.branch.branch_name in where
    assert ticket.subcategory.name not in where  # the subject has its own line
    assert ">Mark read<" in group and "✓" not in group
    assert ">Assigned, not yet accepted<" in group
