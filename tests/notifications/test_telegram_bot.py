"""The bot both ways: the webhook's secret, linking a chat with a one-time deep link,
and the Accept / Decline buttons acting through the same services as the pages."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import TicketEvent, TicketStatus, User
from app.services import notifications, tickets
from tests.factories import PASSWORD, make_ticket

from .conftest import CHATS, WEBHOOK_SECRET, fresh

HOOK = "/api/telegram/webhook"
_update_id = iter(range(1, 10_000))


def post_update(client, update: dict, secret: str | None = WEBHOOK_SECRET):
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return client.post(HOOK, json={"update_id": next(_update_id), **update}, headers=headers)


def start_message(chat_id: str, text: str, chat_type: str = "private") -> dict:
    return {"message": {"message_id": 1, "date": 0, "text": text,
                        "from": {"id": int(chat_id), "is_bot": False, "first_name": "T"},
                        "chat": {"id": int(chat_id), "type": chat_type}}}


def button(chat_id: str, data: str, message: dict | None = None) -> dict:
    msg = message or {"message_id": 77, "text": "New ticket"}
    return {"callback_query": {
        "id": f"cb-{next(_update_id)}", "data": data, "chat_instance": "x",
        "from": {"id": int(chat_id), "is_bot": False, "first_name": "T"},
        "message": {"message_id": msg["message_id"], "date": 0, "text": msg.get("text", ""),
                    "chat": {"id": int(chat_id), "type": "private"}},
    }}


def events(ticket, kind: str) -> int:
    fresh()
    return db.session.execute(select(func.count()).select_from(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == kind)).scalar_one()


def sent_message_to(standin, name: str) -> dict:
    """The message the stand-in received and what it answered (as Telegram will put it
    back in the callback)."""
    [rec] = [r for r in standin.telegram_to(CHATS[name])]
    return {"message_id": rec.response["result"]["message_id"], "text": rec.body["text"]}


# --- the secret ----------------------------------------------------------------------

@pytest.mark.parametrize("secret", [None, "", "wrong-secret", WEBHOOK_SECRET + "x"])
def test_webhook_refuses_updates_without_the_right_secret_token(client, channels, linked, at, secret):
    at()
    ticket = make_ticket(linked)
    db.session.commit()
    resp = post_update(client, button(CHATS["tech"], f"accept:{ticket.id}"), secret=secret)
    assert resp.status_code == 401 and resp.json == {"error": "Invalid webhook secret"}
    assert events(ticket, "accepted") == 0


def test_webhook_refuses_everything_when_no_secret_is_configured(app, client, channels, linked, at):
    at()
    app.config["TELEGRAM_WEBHOOK_SECRET"] = ""
    ticket = make_ticket(linked)
    db.session.commit()
    for secret in (None, "", "anything"):
        assert post_update(client, button(CHATS["tech"], f"accept:{ticket.id}"), secret=secret).status_code == 401
    assert events(ticket, "accepted") == 0


# --- linking -------------------------------------------------------------------------

def test_profile_deep_link_links_the_chat_once(client, channels, world, at):
    at()
    client.post("/login", data={"email": "tech@example.com", "password": PASSWORD})
    assert client.post("/profile/telegram/link").status_code == 302
    page = client.get("/profile").get_data(as_text=True)
    match = re.search(r"https://t\.me/EvercoldDeskBot\?start=([A-Za-z0-9_-]+)", page)
    assert match, page
    code = match.group(1)

    resp = post_update(client, start_message("5550001", f"/start {code}"))
    assert resp.status_code == 200
    assert resp.json["method"] == "sendMessage" and resp.json["chat_id"] == "5550001"
    assert resp.json["text"].startswith("Linked.")
    fresh()
    assert db.session.get(User, world.tech.id).telegram_chat_id == "5550001"
    assert "Linked" in client.get("/profile").get_data(as_text=True)

    # The same code again (another chat) links nothing.
    resp = post_update(client, start_message("5550002", f"/start {code}"))
    assert "expired or was already used" in resp.json["text"]
    fresh()
    assert db.session.get(User, world.tech.id).telegram_chat_id == "5550001"


def test_an_expired_link_code_is_refused(client, channels, world, at):
    at()
    code = notifications.start_telegram_link(world.manager)
    db.session.commit()
    at(minutes=31)
    resp = post_update(client, start_message("5550003", f"/start {code}"))
    assert "expired" in resp.json["text"]
    fresh()
    assert db.session.get(User, world.manager.id).telegram_chat_id is None


def test_a_link_code_only_works_from_a_private_chat_and_other_messages_get_help(client, channels, world, at):
    at()
    code = notifications.start_telegram_link(world.manager)
    db.session.commit()
    resp = post_update(client, start_message("-100777", f"/start {code}", chat_type="group"))
    assert "private chat" in resp.json["text"]
    resp = post_update(client, start_message("5550004", "hello"))
    assert "profile page" in resp.json["text"]
    fresh()
    assert db.session.get(User, world.manager.id).telegram_chat_id is None


# --- the buttons -----------------------------------------------------------------------

def test_accept_button_accepts_as_the_linked_technician_and_edits_the_message(client, channels, linked, at):
    at()
    ticket = make_ticket(linked)
    db.session.commit()
    sent = sent_message_to(channels, "tech")

    at(minutes=3)
    resp = post_update(client, button(CHATS["tech"], f"accept:{ticket.id}", sent))
    assert resp.status_code == 200
    assert resp.json["method"] == "answerCallbackQuery"
    assert resp.json["text"] == "Accepted. The ticket is yours."
    fresh()
    assert db.session.get(type(ticket), ticket.id).status == TicketStatus.IN_PROGRESS
    accepted = db.session.execute(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "accepted")).scalar_one()
    assert accepted.actor_id == linked.tech.id

    [edit] = channels.telegram("editMessageText")
    assert edit.body["chat_id"] == CHATS["tech"] and edit.body["message_id"] == sent["message_id"]
    assert edit.body["parse_mode"] == "HTML" and "reply_markup" not in edit.body
    assert edit.body["text"].startswith(f"<b>New ticket {ticket.ticket_number} assigned to you</b>")
    assert edit.body["text"].endswith("<i>✅ Accepted by you at 24 Nov 14:03 UTC+5.</i>")


def test_accept_pressed_twice_changes_nothing_the_second_time(client, channels, linked, at):
    at()
    ticket = make_ticket(linked)
    db.session.commit()
    sent = sent_message_to(channels, "tech")
    post_update(client, button(CHATS["tech"], f"accept:{ticket.id}", sent))
    fresh()
    version = db.session.get(type(ticket), ticket.id).version

    resp = post_update(client, button(CHATS["tech"], f"accept:{ticket.id}", sent))
    assert resp.json["text"] == "You have already accepted this ticket."
    assert events(ticket, "accepted") == 1
    assert db.session.get(type(ticket), ticket.id).version == version


def test_a_button_pressed_from_someone_elses_chat_changes_nothing(client, channels, linked, at):
    at()
    ticket = make_ticket(linked)
    db.session.commit()
    sent = sent_message_to(channels, "tech")
    channels.reset()

    for chat in (CHATS["outsider_tech"], CHATS["dispatcher"], "99999"):
        for action in ("accept", "decline"):
            resp = post_update(client, button(chat, f"{action}:{ticket.id}", sent))
            assert resp.status_code == 200 and resp.json["method"] == "answerCallbackQuery"
            assert "nothing was changed" in resp.json["text"] or "not linked" in resp.json["text"]
    fresh()
    assert db.session.get(type(ticket), ticket.id).status == TicketStatus.ASSIGNED
    assert events(ticket, "accepted") == 0 and events(ticket, "declined") == 0
    assert channels.requests == []  # no edits, no new messages


def test_decline_button_passes_the_ticket_on_and_tells_dispatchers(client, channels, linked, at):
    at()
    ticket = make_ticket(linked)
    db.session.commit()
    sent = sent_message_to(channels, "tech")
    channels.reset()

    resp = post_update(client, button(CHATS["tech"], f"decline:{ticket.id}", sent))
    assert resp.json["text"] == "Declined. The dispatchers have been told."
    fresh()
    t = db.session.get(type(ticket), ticket.id)
    assert t.status == TicketStatus.ASSIGNED and t.assigned_technician_id == linked.secondary.id
    declined = db.session.execute(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "declined")).scalar_one()
    assert declined.data["reason"] == "Declined from Telegram" and declined.actor_id == linked.tech.id
    assert "Reason: Declined from Telegram" in channels.telegram_to(CHATS["dispatcher"])[0].body["text"]
    [to_tech2] = channels.telegram_to(CHATS["tech2"])
    assert to_tech2.body["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"accept:{ticket.id}"
    [edit] = channels.telegram("editMessageText")
    assert "Declined at" in edit.body["text"]


def test_a_stale_button_after_reassignment_says_so_politely(client, channels, linked, at):
    at()
    ticket = make_ticket(linked)
    db.session.commit()
    sent = sent_message_to(channels, "tech")
    tickets.assign(ticket, linked.secondary.id, linked.dispatcher)
    db.session.commit()
    channels.reset()

    resp = post_update(client, button(CHATS["tech"], f"accept:{ticket.id}", sent))
    assert resp.json["text"] == "This ticket has been reassigned to another technician. Nothing to do, thank you."
    fresh()
    t = db.session.get(type(ticket), ticket.id)
    assert t.status == TicketStatus.ASSIGNED and t.assigned_technician_id == linked.secondary.id
    assert events(ticket, "accepted") == 0
    [edit] = channels.telegram("editMessageText")
    assert "reassigned to another technician" in edit.body["text"] and "reply_markup" not in edit.body


def test_unknown_updates_and_garbage_are_acknowledged_without_effect(client, channels, linked, at):
    at()
    assert post_update(client, {"edited_message": {"text": "x"}}).json == {"ok": True}
    resp = client.post(HOOK, data="not json", headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                                                       "Content-Type": "application/json"})
    assert resp.status_code == 200
    resp = post_update(client, button(CHATS["tech"], "accept:" + "x" * 80))
    assert resp.json["text"] == "This button is not recognised."


# --- one user per chat (issue 13) ---------------------------------------------------------

def test_start_from_a_chat_another_user_holds_is_refused_and_changes_nothing(client, channels, linked, at):
    """A second account cannot take over a linked chat through the bot either: the bot
    says so, the chat stays with its owner, and the code still works from another chat."""
    at()
    code = notifications.start_telegram_link(linked.manager)
    db.session.commit()
    resp = post_update(client, start_message(CHATS["tech"], f"/start {code}"))
    assert resp.status_code == 200 and resp.json["method"] == "sendMessage"
    assert "already linked to another Evercold account" in resp.json["text"]
    fresh()
    assert db.session.get(User, linked.tech.id).telegram_chat_id == CHATS["tech"]
    assert db.session.get(User, linked.manager.id).telegram_chat_id == CHATS["manager"]

    # The victim's buttons still act as the victim.
    ticket = make_ticket(linked)
    db.session.commit()
    resp = post_update(client, button(CHATS["tech"], f"accept:{ticket.id}"))
    assert resp.json["text"] == "Accepted. The ticket is yours."
    assert events(ticket, "accepted") == 1

    # Nothing was used up: the manager links their own new chat with the same code.
    resp = post_update(client, start_message("5550077", f"/start {code}"))
    assert resp.json["text"].startswith("Linked.")
    fresh()
    assert db.session.get(User, linked.manager.id).telegram_chat_id == "5550077"


def test_relinking_ones_own_chat_is_fine(client, channels, linked, at):
    at()
    code = notifications.start_telegram_link(linked.tech)
    db.session.commit()
    resp = post_update(client, start_message(CHATS["tech"], f"/start {code}"))
    assert resp.json["text"].startswith("Linked.")


def test_buttons_from_a_deactivated_users_chat_run_nothing(client, channels, linked, at, api):
    at()
    ticket = make_ticket(linked)
    db.session.commit()
    sent = sent_message_to(channels, "tech")
    assert api.as_(linked.admin).patch(f"/api/users/{linked.tech.id}", json={"isActive": False}).status_code == 200
    channels.reset()
    resp = post_update(client, button(CHATS["tech"], f"accept:{ticket.id}", sent))
    assert "not linked" in resp.json["text"]
    assert events(ticket, "accepted") == 0 and channels.requests == []


def test_a_button_seen_in_another_chat_than_the_pressers_runs_nothing(client, channels, linked, at):
    """Our buttons only go to private chats, where the chat is the presser; anything else
    (a forwarded or spoofed update) runs nothing."""
    at()
    ticket = make_ticket(linked)
    db.session.commit()
    update = button(CHATS["tech"], f"accept:{ticket.id}")
    update["callback_query"]["message"]["chat"] = {"id": -100777, "type": "group"}
    resp = post_update(client, update)
    assert "nothing was changed" in resp.json["text"]
    assert events(ticket, "accepted") == 0


@pytest.mark.sqlite_only
def test_a_chat_that_matches_no_single_user_runs_nothing(client, channels, linked, at):
    """An unknown chat runs nothing; nor would an ambiguous one, were the unique index
    ever missing (a database restored from before it): the lookup never picks one of
    several users. SQLite only: the index is dropped for the test and put back."""
    at()
    ticket = make_ticket(linked)
    db.session.commit()
    assert notifications.user_for_chat("424242") is None
    db.session.commit()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_users_telegram_chat_id")
    try:
        db.session.execute(User.__table__.update().where(User.id == linked.outsider_tech.id)
                           .values(telegram_chat_id=CHATS["tech"]))
        db.session.commit()
        assert notifications.user_for_chat(CHATS["tech"]) is None
        resp = post_update(client, button(CHATS["tech"], f"accept:{ticket.id}"))
        assert "not linked" in resp.json["text"]
        assert events(ticket, "accepted") == 0
    finally:
        db.session.rollback()
        db.session.execute(User.__table__.update().where(User.id == linked.outsider_tech.id)
                           .values(telegram_chat_id=None))
        db.session.commit()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("CREATE UNIQUE INDEX ix_users_telegram_chat_id ON users (telegram_chat_id)")
