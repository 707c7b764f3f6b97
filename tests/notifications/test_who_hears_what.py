"""Each event reaches the right people on the right channels, with the right text,
delivered through the real HTTP stand-in for Telegram and the SMS gateway."""
from __future__ import annotations

from decimal import Decimal

from app.extensions import db
from app.models import NotificationChannel, Role, TicketPriority
from app.services import completions, photos, sla, tickets
from app.services.channels import sms as sms_channel
from tests.factories import jpeg_bytes, make_branch, make_ticket, signature_data_url

from .conftest import CHATS, PHONES, outbox, recipients

IN_APP = NotificationChannel.IN_APP
TELEGRAM = NotificationChannel.TELEGRAM
SMS = NotificationChannel.SMS
DISPATCHERS = {"dispatcher@example.com", "dispatcher2@example.com"}


def texts_to(standin, name: str) -> list[str]:
    return [r.body["text"] for r in standin.telegram_to(CHATS[name])]


def test_auto_assigned_ticket_goes_to_the_technician_and_the_reporting_manager_gets_its_number(
        channels, linked, at):
    at()
    ticket = make_ticket(linked, by=linked.manager)
    db.session.commit()

    assert recipients("ticket_assigned", IN_APP) == {"tech@example.com"}
    assert recipients("ticket_assigned", TELEGRAM) == {"tech@example.com"}
    assert recipients("ticket_created", IN_APP) == {"manager@example.com"}
    assert recipients("ticket_unassigned", IN_APP) == set()
    assert channels.sms() == []  # a NORMAL ticket is not urgent

    [to_tech] = channels.telegram_to(CHATS["tech"])
    assert to_tech.body["parse_mode"] == "HTML"
    assert to_tech.body["text"] == (
        f"<b>New ticket {ticket.ticket_number} assigned to you</b>\n\n"
        f"Ticket: {ticket.ticket_number}\n"
        "Branch: FM-001 Freshmart Central\n"
        "Priority: Normal\n"
        "Problem: Cold Chambers\n"
        "Technician: Timur Primary\n"
        "Description: Cold chamber at 12°C, should be 2°C\n"
        "Response due: 25 Nov 14:00 UTC+5\n\n"
        f'<a href="http://testserver/tickets/{ticket.id}">Open ticket</a>'
    )
    assert to_tech.body["reply_markup"] == {"inline_keyboard": [[
        {"text": "✅ Accept", "callback_data": f"accept:{ticket.id}"},
        {"text": "✖ Decline", "callback_data": f"decline:{ticket.id}"},
    ]]}
    [to_manager] = channels.telegram_to(CHATS["manager"])
    assert f"<b>Ticket {ticket.ticket_number} received</b>" in to_manager.body["text"]
    assert "reply_markup" not in to_manager.body
    assert ticket.ticket_number.startswith("TKT-202611-")


def test_critical_ticket_also_reaches_the_technician_by_sms_in_one_segment(channels, linked, at):
    at()
    ticket = make_ticket(linked, priority=TicketPriority.CRITICAL)
    db.session.commit()

    [sms] = channels.sms()
    assert sms.body == {"to": PHONES["tech"], "text": sms.body["text"]}
    assert sms.headers["X-Api-Key"] == "sms-key-1"
    assert sms.headers["Idempotency-Key"] == outbox(channel=SMS)[0].id
    text = sms.body["text"]
    assert ticket.ticket_number in text and "Critical priority" in text and "FM-001" in text
    assert "Due 24 Nov 15:00" in text  # response due 10:00 UTC = 15:00 in Tashkent
    assert sms_channel.is_gsm(text) and len(text) <= 160
    # The reporter's confirmation of a CRITICAL ticket is not worth an SMS.
    assert recipients("ticket_created", SMS) == set()
    assert "Response due: 24 Nov 15:00 UTC+5" in texts_to(channels, "tech")[0]


def test_ticket_without_a_technician_goes_to_every_dispatcher(channels, linked, at):
    at()
    lonely = make_branch(linked.customer, "FM-009", "Freshmart Lonely")
    db.session.commit()
    ticket = make_ticket(linked, branch=lonely, by=linked.admin)
    db.session.commit()

    assert recipients("ticket_unassigned", IN_APP) == DISPATCHERS
    assert recipients("ticket_unassigned", TELEGRAM) == DISPATCHERS
    assert recipients("ticket_assigned", IN_APP) == set()
    for name in ("dispatcher", "dispatcher2"):
        [text] = texts_to(channels, name)
        assert f"<b>Ticket {ticket.ticket_number} has no technician</b>" in text
        assert "Branch: FM-009 Freshmart Lonely" in text
    assert channels.telegram_to(CHATS["admin"]) == []


def test_escalation_reaches_new_and_previous_technician_and_dispatchers_on_every_channel(channels, linked, at):
    at()
    ticket = make_ticket(linked, priority=TicketPriority.HIGH)
    db.session.commit()
    channels.reset()

    at(minutes=241)  # HIGH: response due after 240 minutes
    sla.escalate_overdue()
    db.session.commit()

    everyone = DISPATCHERS | {"tech@example.com", "tech2@example.com"}
    assert recipients("ticket_escalated", IN_APP) == everyone
    assert recipients("ticket_escalated", TELEGRAM) == everyone
    assert recipients("ticket_escalated", SMS) == everyone  # an escalation is urgent
    assert {r.body["to"] for r in channels.sms()} == {PHONES[n] for n in ("tech", "tech2", "dispatcher", "dispatcher2")}
    [to_new] = channels.telegram_to(CHATS["tech2"])
    [to_previous] = channels.telegram_to(CHATS["tech"])
    assert f"<b>Ticket {ticket.ticket_number} escalated</b>" in to_new.body["text"]
    assert "Technician: Sardor Secondary" in to_new.body["text"]
    # Only the technician who now holds the ticket can accept it.
    assert to_new.body["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"accept:{ticket.id}"
    assert "reply_markup" not in to_previous.body


def test_decline_tells_dispatchers_with_the_reason_and_the_other_technician_gets_the_ticket(channels, linked, at):
    at()
    ticket = make_ticket(linked)
    db.session.commit()
    channels.reset()

    tickets.decline(ticket, "Van broke down <again>", linked.tech)
    db.session.commit()

    assert recipients("ticket_declined", IN_APP) == DISPATCHERS
    assert "Reason: Van broke down <again>" in outbox(kind="ticket_declined", channel=IN_APP)[0].body
    for name in ("dispatcher", "dispatcher2"):
        [text] = texts_to(channels, name)
        assert "Reason: Van broke down &lt;again&gt;" in text
    [to_tech2] = channels.telegram_to(CHATS["tech2"])
    assert f"New ticket {ticket.ticket_number} assigned to you" in to_tech2.body["text"]
    assert channels.telegram_to(CHATS["tech"]) == []


def _complete(world, ticket):
    tickets.accept(ticket, world.tech)
    photos.add_photo(ticket, world.tech, jpeg_bytes(), "after", None, "after.jpg")
    completion = completions.complete(ticket, world.tech, {
        "workDescription": "Replaced the compressor relay", "laborHours": "2", "laborCostPerHour": "50.00",
        "partsUsed": [{"name": "Relay", "quantity": 1, "unitCost": "30.00"}],
    })
    db.session.commit()
    return completion


def test_completion_asks_the_branch_store_managers_to_approve_with_a_link_to_the_approval_page(
        channels, linked, at):
    at()
    ticket = make_ticket(linked)
    db.session.commit()
    channels.reset()

    _complete(linked, ticket)

    assert recipients("ticket_completed", IN_APP) == {"manager@example.com"}
    [text] = texts_to(channels, "manager")
    assert f"<b>Ticket {ticket.ticket_number} is ready for your approval</b>" in text
    assert f'<a href="http://testserver/tickets/{ticket.id}/approve">Review and approve</a>' in text
    assert channels.telegram_to(CHATS["dispatcher"]) == []


def test_approval_and_rejection_reach_the_technician_and_dispatchers(channels, linked, at):
    at()
    ticket = make_ticket(linked)
    db.session.commit()
    completion = _complete(linked, ticket)
    channels.reset()

    completions.decide(completion, linked.manager, {"action": "reject", "reason": "Still warm at 8°C"})
    db.session.commit()
    assert recipients("completion_rejected", IN_APP) == DISPATCHERS | {"tech@example.com"}
    assert "Reason: Still warm at 8°C" in texts_to(channels, "tech")[0]

    completion = _complete_again(linked, ticket)
    channels.reset()
    completions.decide(completion, linked.manager, {"action": "approve", "signedBy": "Dilnoza K.",
                                                    "signature": signature_data_url()})
    db.session.commit()
    assert recipients("completion_approved", TELEGRAM) == DISPATCHERS | {"tech@example.com"}
    assert f"<b>Work on {ticket.ticket_number} approved</b>" in texts_to(channels, "tech")[0]
    assert channels.sms() == []


def _complete_again(world, ticket):
    photos.add_photo(ticket, world.tech, jpeg_bytes(color=(0, 90, 200)), "after", None, "after2.jpg")
    completion = completions.complete(ticket, world.tech, {
        "workDescription": "Re-gassed", "laborHours": Decimal("1"), "laborCostPerHour": "50.00"})
    db.session.commit()
    return completion


def test_sla_alerts_go_to_dispatchers(channels, linked, at):
    at()
    lonely = make_branch(linked.customer, "FM-009", "Freshmart Lonely")
    db.session.commit()
    ticket = make_ticket(linked, branch=lonely, priority=TicketPriority.CRITICAL)
    db.session.commit()
    channels.reset()

    at(minutes=61)  # CRITICAL: response due after 60 minutes, nobody assigned
    sla.escalate_overdue()
    db.session.commit()

    assert recipients("sla_new_overdue", IN_APP) == DISPATCHERS
    assert recipients("sla_new_overdue", SMS) == DISPATCHERS
    for name in ("dispatcher", "dispatcher2"):
        assert any(f"Ticket {ticket.ticket_number}: unassigned past its response time" in t
                   for t in texts_to(channels, name))


def test_people_who_turned_a_channel_off_get_in_app_only(channels, linked, at):
    at()
    linked.tech.notify_telegram = False
    linked.tech.notify_sms = False
    db.session.commit()
    make_ticket(linked, priority=TicketPriority.CRITICAL)
    db.session.commit()

    assert recipients("ticket_assigned", IN_APP) == {"tech@example.com"}
    assert recipients("ticket_assigned", TELEGRAM) == set()
    assert channels.telegram_to(CHATS["tech"]) == [] and channels.sms() == []


def test_unset_channels_are_simply_off(app, linked, at):
    at()
    assert not app.config["TELEGRAM_BOT_TOKEN"] and not app.config["SMS_GATEWAY_URL"]
    make_ticket(linked, priority=TicketPriority.CRITICAL)
    db.session.commit()
    assert {n.channel for n in outbox()} == {IN_APP}
    assert all(n.user.role != Role.DISPATCHER for n in outbox())
