"""Delivery by the worker against the real HTTP stand-in: outages delay, never lose;
each message arrives once; permanent errors fail fast and are shown to dispatchers."""
from __future__ import annotations

import html
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import NotificationChannel, NotificationStatus, TicketPriority
from app import clock
from app.services import notifications as outbox_service
from tests.factories import make_ticket

from .conftest import CHATS, outbox, relay, run_scheduled

TELEGRAM = NotificationChannel.TELEGRAM
SMS = NotificationChannel.SMS


def telegram_row():
    [row] = outbox(channel=TELEGRAM)
    return row


def seconds_after(t0, when) -> float:
    return (when - t0).total_seconds()


def worker_tick(at, seconds_from_t0: float) -> None:
    """The clock moves on; huey runs the retries now due, and the relay its minute."""
    at(seconds=seconds_from_t0)
    run_scheduled()
    relay()


def test_500s_then_recovery_delivers_the_message_exactly_once_with_growing_back_off(channels, linked, at):
    t0 = at()
    channels.fail("sendMessage", 500, times=3)
    ticket = make_ticket(linked)  # by a dispatcher: only the technician hears of it
    db.session.commit()

    row = telegram_row()
    assert row.status == NotificationStatus.PENDING and row.attempts == 1
    assert row.last_error.startswith("500")
    due = [seconds_after(t0, row.next_attempt_at)]
    for step in (5, 15):
        at(seconds=step)
        run_scheduled()
        due.append(seconds_after(t0, telegram_row().next_attempt_at))
    assert due == [5, 15, 35]  # back-off 5 s, 10 s, 20 s

    at(seconds=35)
    run_scheduled()
    row = telegram_row()
    assert row.status == NotificationStatus.SENT and row.attempts == 4 and row.last_error is None
    [delivered] = channels.telegram_to(CHATS["tech"])
    assert row.external_id == str(delivered.response["result"]["message_id"])
    assert ticket.ticket_number in delivered.body["text"]
    assert len(channels.telegram("sendMessage", ok_only=False)) == 4

    # Nothing is sent again, however long the worker keeps running.
    for minute in range(1, 6):
        worker_tick(at, 35 + 60 * minute)
    assert len(channels.telegram_to(CHATS["tech"])) == 1


def test_back_off_starts_within_ten_seconds_and_is_capped_at_five_minutes(channels, linked, at):
    t0 = at()
    channels.fail("sendMessage", 502, times=50)
    make_ticket(linked)
    db.session.commit()
    delays = []
    previous = t0
    for _ in range(9):
        row = telegram_row()
        delays.append(seconds_after(previous, row.next_attempt_at))
        previous = row.next_attempt_at
        clock.set_now(row.next_attempt_at)
        run_scheduled()
    assert delays == [5, 10, 20, 40, 80, 160, 300, 300, 300]
    assert telegram_row().status == NotificationStatus.PENDING


def test_stand_in_down_entirely_delays_the_message_which_arrives_within_two_minutes_of_recovery(
        channels, linked, at):
    at()
    channels.stop()  # connection refused
    make_ticket(linked, priority=TicketPriority.CRITICAL)
    db.session.commit()
    assert {r.status for r in outbox(channel=TELEGRAM) + outbox(channel=SMS)} == {NotificationStatus.PENDING}
    assert "unreachable" in telegram_row().last_error

    # Half an hour of outage: the worker keeps trying (back-off now at its 5-minute cap).
    for second in range(60, 1860, 60):
        worker_tick(at, second)
    assert telegram_row().status == NotificationStatus.PENDING
    assert telegram_row().attempts >= 8

    channels.start()
    recovered = 1860
    for second in (recovered, recovered + 60, recovered + 120):
        worker_tick(at, second)
        if channels.telegram_to(CHATS["tech"]) and channels.sms():
            break
    assert second - recovered <= 120
    assert len(channels.telegram_to(CHATS["tech"])) == 1
    assert len(channels.sms()) == 1
    assert {r.status for r in outbox(channel=TELEGRAM) + outbox(channel=SMS)} == {NotificationStatus.SENT}


def test_a_message_whose_task_was_lost_is_requeued_by_the_relay(app, channels, linked, at):
    from app.tasks import delivery_huey

    at()
    delivery_huey.immediate = False  # the worker is down: tasks wait in huey's own queue ...
    try:
        make_ticket(linked)
        db.session.commit()
        assert channels.telegram() == []
        delivery_huey.flush()  # ... and that queue is lost
    finally:
        delivery_huey.immediate = True
    assert telegram_row().status == NotificationStatus.PENDING

    at(seconds=30)
    relay()
    assert channels.telegram() == []  # queued half a minute ago: give the worker its chance
    at(seconds=61)
    relay()
    assert len(channels.telegram_to(CHATS["tech"])) == 1
    assert telegram_row().status == NotificationStatus.SENT


def test_429_waits_for_retry_after_before_trying_again(channels, linked, at):
    at()
    channels.fail("sendMessage", 429, body={"ok": False, "error_code": 429,
                                            "description": "Too Many Requests: retry after 30",
                                            "parameters": {"retry_after": 30}})
    make_ticket(linked)
    db.session.commit()
    row = telegram_row()
    assert row.status == NotificationStatus.PENDING
    assert (row.next_attempt_at - row.created_at) == timedelta(seconds=30)
    assert "retry after 30" in row.last_error

    at(seconds=29)
    relay()  # neither the relay nor a probe jumps the queue the channel asked for
    assert channels.telegram() == []
    at(seconds=30)
    run_scheduled()
    assert len(channels.telegram_to(CHATS["tech"])) == 1


def test_sms_gateway_429_honours_its_retry_after_header(channels, linked, at):
    at()
    channels.fail("/sms/send", 429, body={"error": "slow down"}, headers={"Retry-After": "12"})
    make_ticket(linked, priority=TicketPriority.CRITICAL)
    db.session.commit()
    [row] = outbox(channel=SMS)
    assert (row.next_attempt_at - row.created_at) == timedelta(seconds=12)
    at(seconds=12)
    run_scheduled()
    assert len(channels.sms()) == 1


@pytest.mark.parametrize("status, description", [
    (403, "Forbidden: bot was blocked by the user"),
    (400, "Bad Request: chat not found"),
])
def test_telegram_400_and_403_fail_fast_and_dispatchers_are_told(channels, linked, at, status, description):
    at()
    channels.fail("sendMessage", status, body={"ok": False, "error_code": status, "description": description})
    ticket = make_ticket(linked)
    db.session.commit()

    row = telegram_row()
    assert row.status == NotificationStatus.FAILED and row.attempts == 1
    assert row.last_error == f"{status} {description}"
    for second in (60, 120, 600, 3600):
        worker_tick(at, second)
    assert len(channels.telegram("sendMessage", ok_only=False)) == 1 + 0  # never retried by itself

    alerts = outbox(kind=outbox_service.DELIVERY_FAILED)
    assert {a.user.email for a in alerts} == {"dispatcher@example.com", "dispatcher2@example.com"}
    assert alerts[0].ticket_id == ticket.id
    assert alerts[0].title == "Telegram message to Tech failed"
    assert description in alerts[0].body and ticket.ticket_number in alerts[0].body


def test_html_special_characters_in_a_description_arrive_escaped(channels, linked, at):
    at()
    nasty = 'Door <b>seal</b> & "gasket" <script>alert(1)</script> 5 < 7 > 3 ' + "x" * 400
    make_ticket(linked, description=nasty)
    db.session.commit()

    [message] = channels.telegram_to(CHATS["tech"])
    text = message.body["text"]
    assert 'Description: Door &lt;b&gt;seal&lt;/b&gt; &amp; "gasket" &lt;script&gt;alert(1)&lt;/script&gt; ' \
           "5 &lt; 7 &gt; 3 x" in text
    assert "<script>" not in text and "<b>seal" not in text
    description_line = next(line for line in text.split("\n") if line.startswith("Description: "))
    assert description_line == "Description: " + html.escape(nasty[:299] + "…", quote=False)  # 300 characters
    assert telegram_row().status == NotificationStatus.SENT


def test_a_rolled_back_transaction_sends_nothing(channels, linked, at):
    at()
    make_ticket(linked, priority=TicketPriority.CRITICAL)
    db.session.rollback()
    for second in (60, 120, 180):
        worker_tick(at, second)
    assert outbox() == []
    assert channels.requests == []


def test_a_failed_request_sends_nothing(client, api, channels, linked, at):
    at()
    sub = linked.subcategory
    resp = api.as_(linked.dispatcher).post("/api/tickets", json={
        "branchId": linked.branch.id, "categoryId": sub.category_id, "subcategoryId": "nope",
        "description": "x", "priority": "CRITICAL"})
    assert resp.status_code == 400
    resp = api.as_(linked.dispatcher).post("/api/tickets", json={
        "branchId": linked.branch.id, "categoryId": sub.category_id, "subcategoryId": sub.id,
        "description": "Chamber warm", "priority": "CRITICAL"})
    assert resp.status_code == 201
    # Only the committed request was delivered, and only after it committed.
    assert len(channels.telegram_to(CHATS["tech"])) == 1 and len(channels.sms()) == 1
    relay()
    assert len(channels.telegram_to(CHATS["tech"])) == 1


def test_two_workers_never_send_the_same_message_and_a_dead_workers_claim_expires(app, channels, linked, at):
    from app.jobs.notifications import deliver_notification
    from app.tasks import delivery_huey

    at()
    delivery_huey.immediate = False  # keep the first delivery from running at commit
    try:
        make_ticket(linked)
        db.session.commit()
        delivery_huey.flush()
    finally:
        delivery_huey.immediate = True
    row = telegram_row()

    # Worker A claims the row (committed) and then dies before sending.
    claim = outbox_service.claim_delivery(row.id)
    db.session.commit()
    assert claim is not None and claim.attempt == 1
    deliver_notification(row.id)  # worker B: the row is taken
    relay()
    assert channels.telegram() == []

    at(seconds=outbox_service.LEASE.total_seconds() + 1)
    relay()  # the lease ran out: the message is sent once by another worker
    assert len(channels.telegram_to(CHATS["tech"])) == 1
    sent = telegram_row()
    assert sent.status == NotificationStatus.SENT and sent.attempts == 2

    # Worker A wakes up late with its stale claim: its outcome is not recorded.
    from app.services.channels import SendResult

    outbox_service.record_delivery(claim, SendResult.transient("late"))
    db.session.commit()
    assert telegram_row().status == NotificationStatus.SENT
    deliver_notification(row.id)
    assert len(channels.telegram_to(CHATS["tech"])) == 1


def test_a_second_worker_skips_a_message_another_worker_is_sending_right_now(app, channels, linked, at):
    import threading

    from app.jobs.notifications import deliver_notification
    from app.tasks import delivery_huey

    at()
    delivery_huey.immediate = False
    try:
        make_ticket(linked)
        db.session.commit()
        delivery_huey.flush()
    finally:
        delivery_huey.immediate = True
    row_id = telegram_row().id
    entered, release = channels.hold("sendMessage")
    def run_worker_a():
        with app.app_context():  # this test's app (the process may hold several)
            deliver_notification(row_id)

    worker_a = threading.Thread(target=run_worker_a)
    worker_a.start()
    try:
        assert entered.wait(10), "worker A never reached Telegram"
        deliver_notification(row_id)  # worker B, while A's request is in flight
        relay()
    finally:
        release.set()
        worker_a.join(20)
    assert len(channels.telegram("sendMessage", ok_only=False)) == 1
    row = telegram_row()
    assert row.status == NotificationStatus.SENT and row.attempts == 1


def test_turning_telegram_off_before_delivery_cancels_the_message(channels, linked, at):
    from app.tasks import delivery_huey

    at()
    delivery_huey.immediate = False
    try:
        make_ticket(linked)
        db.session.commit()
        delivery_huey.flush()
    finally:
        delivery_huey.immediate = True
    linked.tech.notify_telegram = False
    db.session.commit()
    at(seconds=61)
    relay()
    assert channels.telegram() == []
    row = telegram_row()
    assert row.status == NotificationStatus.CANCELLED and "turned Telegram off" in row.last_error


def test_dispatcher_can_retry_a_failed_message_from_the_notifications_page(client, channels, linked, at):
    at()
    channels.fail("sendMessage", 403, body={"ok": False, "error_code": 403,
                                            "description": "Forbidden: bot was blocked by the user"})
    make_ticket(linked)
    db.session.commit()
    failed = telegram_row()

    login(client, "tech@example.com")
    assert client.post(f"/notifications/failed/{failed.id}/retry").status_code == 403
    page = client.get("/notifications").get_data(as_text=True)
    assert "Failed deliveries" not in page

    login(client, "dispatcher@example.com")
    page = client.get("/notifications").get_data(as_text=True)
    assert "Failed deliveries" in page and "bot was blocked by the user" in page and "<strong>Tech</strong>" in page
    resp = client.post(f"/notifications/failed/{failed.id}/retry")
    assert resp.status_code == 302
    assert telegram_row().status == NotificationStatus.SENT
    assert len(channels.telegram_to(CHATS["tech"])) == 1
    assert "bot was blocked" not in client.get("/notifications").get_data(as_text=True).split("Failed deliveries")[1]


def test_a_message_still_undelivered_after_a_day_fails_and_dispatchers_are_told(channels, linked, at):
    at()
    channels.stop()
    make_ticket(linked)
    db.session.commit()
    at(hours=24, seconds=1)
    relay()
    row = telegram_row()
    assert row.status == NotificationStatus.FAILED and row.last_error.startswith("Gave up after 24 hours")
    assert len(outbox(kind=outbox_service.DELIVERY_FAILED)) == 2


def login(client, email):
    from tests.factories import PASSWORD

    client.post("/logout")
    resp = client.post("/login", data={"email": email, "password": PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)
