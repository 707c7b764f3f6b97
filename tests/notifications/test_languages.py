"""Messages to people are in the RECIPIENT's language (issue 17): in-app, Telegram and
SMS texts, digests with their plural forms, the bot's buttons and replies, the inbox's
words; API errors follow Accept-Language. Whoever caused an event, each person reads it
in their own `locale` (else DEFAULT_LOCALE), and the fan-out stays one statement."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.i18n import force_locale
from app.models import Notification, NotificationChannel, TicketPriority, User
from app.services import notifications
from app.services.channels import sms as sms_channel
from tests.factories import make_ticket
from tests.helpers import count_statements

from .conftest import CHATS, outbox
from .test_telegram_bot import button, post_update, sent_message_to, start_message

IN_APP = NotificationChannel.IN_APP
TELEGRAM = NotificationChannel.TELEGRAM
SMS = NotificationChannel.SMS
DESCRIPTION = "Cold chamber at 12°C, should be 2°C"


def speak(world, **who) -> None:
    """speak(world, tech="ru", dispatcher=None, ...): the world's users' own languages."""
    for name, lang in who.items():
        db.session.get(User, getattr(world, name).id).locale = lang
    db.session.commit()


def to(user, kind: str, channel=IN_APP) -> Notification:
    [row] = [n for n in outbox(kind=kind, channel=channel) if n.user_id == user.id]
    return row


def inserts(statements) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("INSERT INTO NOTIFICATIONS")]


def test_a_russian_technician_and_an_english_dispatcher_read_one_event_each_in_their_own_language(
        channels, linked, at):
    at()
    ticket = make_ticket(linked, priority=TicketPriority.CRITICAL)
    db.session.commit()
    speak(linked, tech="ru", dispatcher=None, dispatcher2="uz")  # dispatcher: no choice -> DEFAULT_LOCALE (en)
    number = ticket.ticket_number

    with count_statements() as statements:
        written = notifications.notify("ticket_escalated", ticket, None, previous_technician_id=linked.secondary.id)
    db.session.commit()
    assert len(inserts(statements)) == 1 and written > 3  # one statement for everybody, every language

    tech = to(linked.tech, "ticket_escalated")
    assert tech.title == f"Заявка {number} эскалирована"
    assert tech.body.splitlines()[:4] == [f"Заявка: {number}", "Филиал: FM-001 Freshmart Central",
                                          "Приоритет: Критический", "Неисправность: Холодильные камеры"]
    assert f"Описание: {DESCRIPTION}" in tech.body  # the data as typed
    assert "Срок реакции: 24 нояб. 15:00 UTC+5" in tech.body

    dispatcher = to(linked.dispatcher, "ticket_escalated")
    assert dispatcher.title == f"Ticket {number} escalated"
    assert "Priority: Critical" in dispatcher.body and "Response due: 24 Nov 15:00 UTC+5" in dispatcher.body

    uz = to(linked.dispatcher2, "ticket_escalated")
    assert uz.title == f"Ariza {number} eskalatsiya qilindi"
    assert "Muhimlik: Juda muhim" in uz.body and "Javob berish muddati: " in uz.body

    # Telegram: the Russian technician's message, buttons and link words are Russian.
    [*_, to_tech] = channels.telegram_to(CHATS["tech"])
    assert to_tech.body["text"].startswith(f"<b>Заявка {number} эскалирована</b>")
    assert ">Открыть заявку</a>" in to_tech.body["text"]
    [to_dispatcher] = channels.telegram_to(CHATS["dispatcher"])[-1:]
    assert ">Open ticket</a>" in to_dispatcher.body["text"]


def test_a_batch_of_events_is_one_insert_whatever_languages_its_readers_speak(channels, linked, at):
    at()
    batch = [make_ticket(linked, priority=TicketPriority.CRITICAL) for _ in range(3)]
    db.session.commit()
    speak(linked, tech="ru", tech2="uz", dispatcher="en", dispatcher2="ru")
    alerts = [("ticket_escalated", t, {"previous_technician_id": linked.secondary.id}) for t in batch]

    with count_statements() as statements:
        notifications.notify_many(alerts, digests=False)
    db.session.commit()
    assert len(inserts(statements)) == 1
    titles = {u: {n.title for n in outbox(kind="ticket_escalated", channel=IN_APP) if n.user_id == u.id}
              for u in (linked.tech, linked.tech2, linked.dispatcher, linked.dispatcher2)}
    assert titles[linked.tech] == {f"Заявка {t.ticket_number} эскалирована" for t in batch}
    assert titles[linked.tech2] == {f"Ariza {t.ticket_number} eskalatsiya qilindi" for t in batch}
    assert titles[linked.dispatcher] == {f"Ticket {t.ticket_number} escalated" for t in batch}
    assert titles[linked.dispatcher2] == titles[linked.tech]


def test_the_sweeps_batch_makes_texts_only_in_the_languages_people_read(app, channels, linked, at, monkeypatch):
    from app.services.notifications import outbox as outbox_module

    at()
    ticket = make_ticket(linked)
    db.session.commit()
    made = []
    real = outbox_module.ticket_text
    monkeypatch.setattr(outbox_module, "ticket_text",
                        lambda *a, **k: made.append(notifications.link_text("any")) or real(*a, **k))
    notifications.notify_many([("sla_resolution_overdue", ticket, {})])
    assert made == ["Open ticket"]  # nobody reads Russian or Uzbek yet: English only
    db.session.rollback()
    speak(linked, dispatcher2="uz")
    made.clear()
    notifications.notify_many([("sla_resolution_overdue", ticket, {})])
    assert sorted(made) == ["Arizani ochish", "Open ticket"]
    assert to(linked.dispatcher2, "sla_resolution_overdue").title.startswith("Ariza ")


def test_an_unknown_stored_language_reads_the_default(channels, linked, at):
    at()
    ticket = make_ticket(linked)
    db.session.commit()
    db.session.execute(User.__table__.update().where(User.id == linked.dispatcher.id).values(locale="fr"))
    db.session.commit()
    notifications.notify("ticket_unassigned", ticket)
    assert to(linked.dispatcher, "ticket_unassigned").title == f"Ticket {ticket.ticket_number} has no technician"


def test_a_russian_sms_stays_in_one_segment_and_an_uzbek_one_keeps_gsm(channels, linked, at):
    at()
    speak(linked, tech="ru", tech2="uz")
    ticket = make_ticket(linked, priority=TicketPriority.CRITICAL)
    db.session.commit()
    ru = to(linked.tech, "ticket_assigned", SMS).body
    assert ru.startswith(f"Вам назначена новая заявка {ticket.ticket_number}")
    assert not sms_channel.is_gsm(ru) and sms_channel.fits_one_segment(ru)  # 70 UCS-2 characters at most
    assert len(ru) <= sms_channel.UCS2_SEGMENT

    notifications.notify("ticket_escalated", ticket, None, previous_technician_id=linked.secondary.id)
    db.session.commit()
    uz = to(linked.tech2, "ticket_escalated", SMS).body
    assert uz.startswith(f"Ariza {ticket.ticket_number} eskalatsiya qilindi")
    assert sms_channel.is_gsm(uz) and len(uz) <= sms_channel.GSM_SEGMENT  # oʻ written o' : 160, not 70


def test_uzbek_apostrophes_become_ascii_only_when_that_makes_the_sms_gsm():
    assert sms_channel.fit(["Muddat oʻtdi, zaxira texnik yoʻq."]) == "Muddat o'tdi, zaxira texnik yo'q."
    mixed = "Muddat oʻtdi: Магазин"  # Cyrillic needs UCS-2 anyway: nothing changed
    assert sms_channel.fit([mixed]) == mixed


@pytest.mark.parametrize("count, title", [
    (1, "1 заявка эскалирована"), (2, "2 заявки эскалированы"), (5, "5 заявок эскалировано"),
    (11, "11 заявок эскалировано"), (21, "21 заявка эскалирована"), (1234, "1\xa0234 заявки эскалированы"),
])
def test_digest_titles_have_russian_plural_forms(app, ctx, count, title):
    numbers = [f"TKT-202611-{i:05d}" for i in range(count)]
    with force_locale("ru"):
        got, body, sms = notifications.digest_text("ticket_escalated", numbers)
    assert got == title
    assert body.startswith(f"{title} — за одну проверку сроков.")
    assert sms_channel.fits_one_segment(sms)


def test_digest_titles_in_uzbek_and_a_technicians_own(app, ctx):
    from app.services.notifications.routing import TECHNICIAN

    with force_locale("uz"):
        assert notifications.digest_text("sla_resolution_overdue", ["A", "B"])[0] == \
            "2 ta ariza: hal qilish muddati oʻtdi"
    with force_locale("ru"):
        title, body, _sms = notifications.digest_text("sla_response_warning", ["A", "B", "C"], part=TECHNICIAN)
    assert title == "3 заявки: скоро истекает срок реакции"
    assert "Заявки: A, B, C." in body and "Ваши заявки: " in body


def test_a_sweeps_digest_reaches_a_russian_dispatcher_in_russian(app, channels, linked, at, monkeypatch):
    monkeypatch.setitem(app.config, "SLA_DIGEST_THRESHOLD", 1)
    at()
    speak(linked, dispatcher="ru")
    batch = [make_ticket(linked) for _ in range(5)]
    db.session.commit()
    notifications.notify_many([("sla_resolution_overdue", t, {}) for t in batch])
    db.session.commit()
    [digest] = [n for n in outbox(kind="sla_resolution_overdue", channel=IN_APP) if n.user_id == linked.dispatcher.id]
    assert digest.title == "5 заявок: срок решения истёк" and digest.ticket_id is None
    [english] = [n for n in outbox(kind="sla_resolution_overdue", channel=IN_APP)
                 if n.user_id == linked.dispatcher2.id]
    assert english.title == "5 tickets: resolution overdue"


def test_a_store_manager_reading_uzbek_is_asked_to_approve_in_uzbek_and_the_reporter_confirmed(
        channels, linked, at):
    at()
    speak(linked, manager="uz")
    ticket = make_ticket(linked, by=db.session.get(User, linked.manager.id))
    db.session.commit()
    received = to(linked.manager, "ticket_created")
    assert received.title == f"Ariza {ticket.ticket_number} qabul qilindi"
    assert received.body.startswith(f"Ariza {ticket.ticket_number} qabul qilindi: texnik Timur Primary tayinlandi")
    notifications.notify("ticket_completed", ticket)
    db.session.commit()
    assert to(linked.manager, "ticket_completed").title == f"Ariza {ticket.ticket_number} tasdiqlashingizni kutmoqda"
    [*_, msg] = channels.telegram_to(CHATS["manager"])
    assert ">Koʻrib chiqish va tasdiqlash</a>" in msg.body["text"]


def test_the_declined_line_is_in_the_readers_language_and_shows_in_their_inbox(signed_in, channels, linked, at):
    from app.services import tickets

    at()
    speak(linked, dispatcher="ru")
    ticket = make_ticket(linked)
    db.session.commit()
    tickets.decline(ticket, "Машина сломалась", db.session.get(User, linked.tech.id))
    db.session.commit()
    row = to(linked.dispatcher, "ticket_declined")
    first = row.body.splitlines()[0]
    assert first == (f"Timur Primary: отказ от заявки {ticket.ticket_number}. Причина: Машина сломалась. "
                     "Теперь заявка у техника Sardor Secondary.")
    page = signed_in(db.session.get(User, linked.dispatcher.id)).get("/notifications").get_data(as_text=True)
    assert first in page and "только что" in page


def test_the_inbox_words_follow_the_reader(signed_in, channels, linked, at):
    at()
    speak(linked, tech="uz")
    ticket = make_ticket(linked)
    db.session.commit()
    at(minutes=7)
    page = signed_in(db.session.get(User, linked.tech.id)).get("/notifications").get_data(as_text=True)
    assert "Sizga tayinlandi" in page and "7 daqiqa oldin" in page and "Tayinlangan, hali qabul qilinmagan" in page
    assert ticket.ticket_number in page
    with force_locale("ru"):
        from datetime import timedelta

        from app import clock
        from app.services.notifications.inbox_view import ago

        now = clock.now()
        assert ago(now - timedelta(hours=3), now) == "3 ч назад"


def test_the_bot_answers_in_the_chat_owners_language(client, channels, linked, at):
    at()
    speak(linked, tech="ru")
    ticket = make_ticket(linked)
    db.session.commit()
    sent = sent_message_to(channels, "tech")
    assert sent["text"].startswith(f"<b>Вам назначена новая заявка {ticket.ticket_number}</b>")
    [rec] = channels.telegram_to(CHATS["tech"])
    assert [b["text"] for b in rec.body["reply_markup"]["inline_keyboard"][0]] == ["✅ Принять", "✖ Отказаться"]

    at(minutes=3)
    resp = post_update(client, button(CHATS["tech"], f"accept:{ticket.id}", sent))
    assert resp.json["text"] == "Принято. Заявка ваша."
    [edit] = channels.telegram("editMessageText")
    assert edit.body["text"].endswith("<i>✅ Вы приняли заявку: 24 нояб. 14:03 UTC+5.</i>")
    assert ">Открыть заявку</a>" in edit.body["text"]

    # A chat linked to nobody: what its Telegram app says it speaks.
    hello = start_message("5551234", "hello")
    hello["message"]["from"]["language_code"] = "uz"
    assert post_update(client, hello).json["text"].startswith("Bu bot Evercold Service Desk bildirishnomalarini")
    assert post_update(client, start_message("5551234", "hello")).json["text"].startswith("This bot sends")
    # A linked chat: its owner's language, whatever the app says.
    mine = start_message(CHATS["tech"], "hello")
    mine["message"]["from"]["language_code"] = "en"
    assert post_update(client, mine).json["text"].startswith("Этот бот присылает уведомления")


def test_dispatchers_hear_of_a_failed_delivery_in_their_own_language(channels, linked, at):
    from app.services.notifications.delivery import _alert_dispatchers

    at()
    speak(linked, dispatcher="ru")
    ticket = make_ticket(linked)
    db.session.commit()
    [row] = [n for n in outbox(kind="ticket_assigned", channel=TELEGRAM)]
    _alert_dispatchers(row, "403 Forbidden: bot was blocked by the user")
    db.session.commit()
    ru = to(linked.dispatcher, "delivery_failed")
    assert ru.title == f"Сообщение (Telegram) для {linked.tech.name} не доставлено"
    assert ru.body.endswith(f"Заявка: {ticket.ticket_number}.")
    assert "403 Forbidden: bot was blocked by the user" in ru.body  # the channel's answer, as it came
    en = to(linked.dispatcher2, "delivery_failed")
    assert en.title == f"Telegram message to {linked.tech.name} failed"


def test_api_errors_follow_accept_language(world, api, client):
    me = api.as_(world.dispatcher)
    ru = {"Accept-Language": "ru"}
    assert me.get("/api/tickets?limit=abc", headers=ru).get_json() == {
        "error": "limit должен быть целым числом", "fields": {"limit": "Нужно целое число."}}
    assert me.get("/api/tickets?limit=abc").get_json()["error"] == "limit must be a whole number"
    assert me.get("/api/notifications?cursor=%%%", headers=ru).get_json()["error"] == "Неверный курсор"
    bad = me.post("/api/notifications/nope/read", headers={"Accept-Language": "uz"})
    assert bad.status_code == 404 and bad.get_json()["error"] == "Bildirishnoma topilmadi"
    no_token = client.get("/api/tickets", headers=ru)
    assert no_token.status_code == 401 and no_token.get_json()["error"] == "Нужен токен доступа (Bearer)"
    text = client.post("/api/auth/token", data="x", headers={**ru, "Content-Type": "text/plain"})
    assert text.status_code == 415
    assert text.get_json()["error"] == "Отправьте JSON с заголовком Content-Type: application/json"
