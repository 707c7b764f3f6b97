"""A slow or hanging Telegram (issue 13, items 7 and 10), against the real HTTP stand-in.

- After one request timed out, other messages on the channel wait without a request
  until the relay's probe (or the failed message's own retry) finds it answering again.
- A request whose answer came too late may have been delivered: it is tried once more,
  later, and then the message ends as "may have been delivered", never a third send.
- A refused connection is certain (nothing was sent): it keeps its normal retries.
- The SLA sweep and the relay have a queue and a consumer of their own, so deliveries
  stuck on a hanging channel cannot keep the sweep from running.

The stand-in's delays are short and bounded (it answers after SLOW seconds, or at once
when released); the read timeout is lowered for these tests so that no test waits long.
"""
from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import Notification, NotificationChannel, NotificationStatus, ServiceTicket, TicketPriority
from app import clock
from app.services import notifications as outbox_service
from app.services.channels import sms, telegram
from tests.factories import make_ticket

from .conftest import CHATS, PHONES, outbox, relay, run_scheduled

TELEGRAM = NotificationChannel.TELEGRAM
READ_TIMEOUT = 0.3  # seconds: our read timeout in these tests
SLOW = 1.0  # seconds: how late the slow stand-in answers (it delivers all the same)
ROOT = Path(__file__).resolve().parents[2]


def worker_tick(at, seconds_from_t0: float) -> None:
    at(seconds=seconds_from_t0)
    run_scheduled()
    relay()


def messages_about(channels, ticket) -> list:
    """Every sendMessage the stand-in took (and answered 200) about this ticket."""
    return [r for r in channels.telegram_to(CHATS["tech"]) if ticket.ticket_number in r.body["text"]]


def row_about(ticket):
    [row] = [r for r in outbox(channel=TELEGRAM) if r.ticket_id == ticket.id and r.kind == "ticket_assigned"]
    return row


# --- item 7: no request per message while the channel is in back-off ----------------------

def test_after_a_timeout_other_messages_wait_without_a_request_until_the_probe(app, channels, linked, at):
    app.config["CHANNEL_READ_TIMEOUT"] = READ_TIMEOUT
    channels.slow("sendMessage", SLOW, times=1)  # Telegram hangs on the first message only
    at()
    first = make_ticket(linked)
    db.session.commit()
    assert channels.settle(10)
    assert len(channels.telegram("sendMessage", ok_only=False)) == 1
    failed = row_about(first)
    assert failed.status == NotificationStatus.PENDING and outbox_service.MAY_HAVE_ARRIVED in failed.last_error

    at(seconds=5)
    others = [make_ticket(linked) for _ in range(3)]
    db.session.commit()
    for minute_part in (10, 30, 45):  # the worker runs its retries, the relay its minute
        worker_tick(at, minute_part)
    assert channels.settle(10)
    # Not one request for the three new messages: they wait for the channel.
    assert len(channels.telegram("sendMessage", ok_only=False)) == 1
    for ticket in others:
        row = row_about(ticket)
        assert row.status == NotificationStatus.PENDING and row.attempts == 0
        assert row.last_error.startswith("Not sent yet: Telegram did not answer another message")

    worker_tick(at, 51)  # no try for 50 s: the relay probes, Telegram answers, the backlog goes
    assert channels.settle(10)
    probe = channels.telegram("sendMessage", ok_only=False)[1]
    assert first.ticket_number not in probe.body["text"]  # the probe is a message not yet sent at all
    for ticket in others:
        assert len(messages_about(channels, ticket)) == 1
        assert row_about(ticket).status == NotificationStatus.SENT
    # The first message was taken by Telegram although its answer came late, and sent once more.
    assert len(messages_about(channels, first)) == 2
    first_row = row_about(first)
    assert first_row.status == NotificationStatus.SENT
    assert first_row.last_error == ("Sent. An earlier try may have been delivered. "
                                    "The person may have received it twice.")
    assert len(channels.telegram("sendMessage", ok_only=False)) == 5

    for second in range(111, 711, 60):  # ten more minutes: nothing is sent again
        worker_tick(at, second)
    assert len(channels.telegram("sendMessage", ok_only=False)) == 5


def test_a_429_holds_the_other_messages_until_its_retry_after(app, channels, linked, at):
    at()
    channels.fail("sendMessage", 429, body={"ok": False, "error_code": 429,
                                            "description": "Too Many Requests: retry after 30",
                                            "parameters": {"retry_after": 30}})
    first = make_ticket(linked)
    second = make_ticket(linked)
    db.session.commit()
    assert len(channels.telegram("sendMessage", ok_only=False)) == 1  # the second waited
    held = row_about(second)
    assert held.attempts == 0 and held.next_attempt_at == row_about(first).next_attempt_at
    at(seconds=30)
    run_scheduled()  # the first message's retry goes through and releases the second
    assert len(messages_about(channels, first)) == 1 and len(messages_about(channels, second)) == 1
    assert len(channels.telegram("sendMessage", ok_only=False)) == 3


def test_a_channel_that_answers_with_a_refusal_releases_the_waiting_messages(app, channels, linked, at):
    at()
    channels.fail("sendMessage", 502)
    channels.fail("sendMessage", 403, body={"ok": False, "error_code": 403,
                                            "description": "Forbidden: bot was blocked by the user"})
    first = make_ticket(linked)
    db.session.commit()
    at(seconds=1)
    waiting = [make_ticket(linked) for _ in range(2)]
    db.session.commit()
    assert len(channels.telegram("sendMessage", ok_only=False)) == 1
    at(seconds=5)
    run_scheduled()  # the first message's retry: Telegram answers, refusing that one message
    assert row_about(first).status == NotificationStatus.FAILED
    for ticket in waiting:  # Telegram is answering again: the others go at once
        assert len(messages_about(channels, ticket)) == 1 and row_about(ticket).status == NotificationStatus.SENT


# --- item 10: an answer slower than the read timeout --------------------------------------

def test_a_reply_slower_than_the_read_timeout_is_sent_at_most_twice_and_ends_may_have_been_delivered(
        app, channels, linked, at):
    app.config["CHANNEL_READ_TIMEOUT"] = READ_TIMEOUT
    channels.slow("sendMessage", SLOW)  # every answer comes late; Telegram delivers each message all the same
    at()
    ticket = make_ticket(linked)
    db.session.commit()

    for second in range(60, 1860, 60):  # half an hour of the worker: retries, relay, probes
        worker_tick(at, second)
    assert channels.settle(10)

    assert len(messages_about(channels, ticket)) == 2  # at most twice, never once per retry
    row = row_about(ticket)
    assert row.status == NotificationStatus.FAILED and row.attempts == 2
    assert row.last_error == ("Telegram did not answer in time, for the second time. "
                              "The message may have been delivered, so it is not sent again.")
    alerts = outbox(kind=outbox_service.DELIVERY_FAILED)
    assert {a.user.email for a in alerts} == {"dispatcher@example.com", "dispatcher2@example.com"}
    assert alerts[0].title == "Telegram message to Tech may not have arrived"
    assert "never confirmed it" in alerts[0].body and "Please check with Tech another way." in alerts[0].body


def test_a_message_tried_once_without_an_answer_waits_a_minute_before_its_one_more_try(
        app, channels, linked, at):
    app.config["CHANNEL_READ_TIMEOUT"] = READ_TIMEOUT
    channels.slow("sendMessage", SLOW, times=1)
    at()
    ticket = make_ticket(linked)
    db.session.commit()
    row = row_about(ticket)
    assert row.status == NotificationStatus.PENDING
    assert (row.next_attempt_at - row.created_at) == outbox_service.UNCERTAIN_RETRY  # not 5 s
    assert row.last_error == ("Telegram did not answer in time. The message may have been delivered; "
                              "it is tried once more in about 60 s.")
    at(seconds=30)
    relay()  # the relay's minute: no probe, no re-send
    assert channels.settle(10)
    assert len(channels.telegram("sendMessage", ok_only=False)) == 1
    worker_tick(at, 60)  # the retry huey held in its schedule is due now
    assert len(messages_about(channels, ticket)) == 2
    assert row_about(ticket).status == NotificationStatus.SENT


def test_a_late_answer_may_have_been_delivered_but_a_refused_connection_certainly_was_not(
        app, ctx, channels):
    app.config["CHANNEL_READ_TIMEOUT"] = READ_TIMEOUT
    channels.slow("sendMessage", SLOW, times=1)
    channels.slow("/sms/send", SLOW, times=1)
    late = telegram.send_message(CHATS["tech"], "Hello")
    late_sms = sms.send(PHONES["tech"], "Hello", idempotency_key="k-1")
    assert channels.settle(10)
    assert (late.ok, late.permanent, late.uncertain) == (False, False, True)
    assert (late_sms.ok, late_sms.permanent, late_sms.uncertain) == (False, False, True)
    assert len(channels.telegram()) == 1 and len(channels.sms()) == 1  # both arrived nonetheless

    channels.stop()
    refused = telegram.send_message(CHATS["tech"], "Hello")
    refused_sms = sms.send(PHONES["tech"], "Hello", idempotency_key="k-2")
    assert (refused.ok, refused.permanent, refused.uncertain) == (False, False, False)
    assert (refused_sms.ok, refused_sms.permanent, refused_sms.uncertain) == (False, False, False)
    assert "unreachable" in refused.error and "unreachable" in refused_sms.error


def test_a_refused_connection_keeps_its_normal_retries(app, channels, linked, at):
    at()
    channels.stop()
    ticket = make_ticket(linked)
    db.session.commit()
    for second in range(60, 1260, 60):
        worker_tick(at, second)
    row = row_about(ticket)
    assert row.status == NotificationStatus.PENDING and row.attempts > 2  # never capped: nothing was sent
    assert outbox_service.MAY_HAVE_ARRIVED not in row.last_error
    channels.start()
    for second in (1260, 1320, 1380):
        worker_tick(at, second)
    assert len(messages_about(channels, ticket)) == 1
    assert row_about(ticket).status == NotificationStatus.SENT and row_about(ticket).last_error is None


# --- item 7: the sweep's queue ------------------------------------------------------------

def _procfile_consumers() -> dict[str, str]:
    consumers = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        found = re.search(r"huey_consumer\s+(\S+)", command)
        if found:
            consumers[found.group(1)] = name.strip()
    return consumers


def test_the_sweep_and_the_relay_have_a_queue_and_a_consumer_of_their_own():
    from app import tasks
    from app.jobs.notifications import deliver_notification, edit_telegram_message, relay_notifications
    from app.jobs.sla import sla_sweep

    assert sla_sweep.huey is tasks.huey and relay_notifications.huey is tasks.huey
    assert deliver_notification.huey is tasks.delivery_huey and edit_telegram_message.huey is tasks.delivery_huey
    assert tasks.huey is not tasks.delivery_huey and tasks.huey.name != tasks.delivery_huey.name
    assert set(tasks.huey._registry._registry) == {"app.jobs.sla.sla_sweep",
                                                   "app.jobs.notifications.relay_notifications"}
    assert set(tasks.delivery_huey._registry._registry) == {"app.jobs.notifications.deliver_notification",
                                                            "app.jobs.notifications.edit_telegram_message"}
    # Each queue has its own consumer line in the Procfile (honcho starts both with `make run`).
    consumers = _procfile_consumers()
    assert set(consumers) == {"app.tasks.huey", "app.tasks.delivery_huey"}
    assert len(set(consumers.values())) == 2


def test_with_telegram_hanging_real_consumers_still_run_the_sweep_within_seconds(
        app, world, channels, freeze, monkeypatch, tmp_path):
    """Real huey consumers (threads) on a SQLite queue file, one per queue the tasks are
    on: both delivery workers stuck on a hanging Telegram must not hold up the sweep."""
    from huey.signals import SIGNAL_COMPLETE, SIGNAL_ERROR, SIGNAL_EXPIRED, SIGNAL_LOCKED
    from huey.storage import SqliteStorage

    from app import tasks
    from app.jobs.notifications import deliver_notification
    from app.jobs.sla import sla_sweep

    # An overdue ticket for the sweep (created two hours ago, before Telegram was linked).
    freeze(datetime.now(timezone.utc) - timedelta(hours=2))
    overdue = make_ticket(world, priority=TicketPriority.CRITICAL)
    db.session.commit()
    clock.set_now(None)  # the consumers' threads run on the real clock
    overdue_id = overdue.id
    world.tech.telegram_chat_id, world.tech.notify_telegram = CHATS["tech"], True
    db.session.commit()

    app.config["CHANNEL_READ_TIMEOUT"] = 15
    channels.slow("sendMessage", 10)  # Telegram hangs (bounded: released at the end of the test)
    monkeypatch.setattr(tasks, "_app", app)  # the consumers' threads run the tasks in this app
    queue_file = str(tmp_path / "huey.db")
    queues = {deliver_notification.huey, sla_sweep.huey}  # one, or two if the sweep has its own
    for queue in queues:
        monkeypatch.setattr(queue, "_immediate", False)
        monkeypatch.setattr(queue, "storage", SqliteStorage(queue.name, filename=queue_file))
        monkeypatch.setattr(queue, "_timeout_handler", getattr(queue, "_timeout_handler", None), raising=False)

    ran = threading.Event()
    outcome = []

    def on_signal(signal, task, *args):
        if task.name == sla_sweep.name:
            outcome.append(signal)
            ran.set()

    sla_sweep.huey.signal(SIGNAL_COMPLETE, SIGNAL_ERROR, SIGNAL_EXPIRED, SIGNAL_LOCKED)(on_signal)
    consumers = []
    try:
        new = [make_ticket(world) for _ in range(4)]  # four messages to the technician's Telegram
        db.session.commit()
        assert len(new) == 4
        for queue in queues:
            consumer = queue.create_consumer(workers=2, worker_type="thread", periodic=False,
                                             max_delay=0.5, check_worker_health=False, shutdown_timeout=15)
            consumer._set_signal_handlers = lambda: None  # the test runner keeps its own
            consumer.start()
            consumers.append(consumer)
        assert channels.wait_in_flight(2, 20), "the delivery workers never reached Telegram"

        sla_sweep()  # what the consumer's scheduler does at the minute: queue the sweep
        assert ran.wait(5), "the sweep did not run within 5 s while Telegram hung"
        assert outcome == [SIGNAL_COMPLETE]
        db.session.rollback()
        escalated = db.session.get(ServiceTicket, overdue_id)
        assert escalated.escalation_level == 1 and escalated.assigned_technician_id == world.secondary.id
    finally:
        channels.release()  # Telegram answers: the stuck workers finish
        for consumer in consumers:
            consumer.stop(graceful=True)
        sla_sweep.huey.disconnect_signal(on_signal)
        db.session.rollback()
    in_flight = db.session.execute(select(func.count()).select_from(Notification)
                                   .where(Notification.status == NotificationStatus.SENDING)).scalar_one()
    assert in_flight == 0  # every claim the consumers made was recorded before they stopped
