"""Notification delivery jobs.

`deliver_notification` (on the delivery queue) runs one delivery in two short steps,
each its own transaction: claim the row (committed before any network traffic, so a
second worker sees it is taken), then send over HTTP with no transaction open and
record the outcome at once, in the same app context, so that the window in which a
crash loses a send's outcome is as short as it can be. A transient failure schedules
the next try after the back-off; while a channel is in back-off, other messages on it
wait without a request (app/services/notifications.py, claim_delivery).

`relay_notifications` is a system job (the sweep's queue, app/tasks.py): it only reads
and writes the outbox, so a channel that hangs cannot keep it from running every minute.
It catches whatever a dead worker or a lost task left behind and probes channels in
back-off.
"""
from __future__ import annotations

import logging

from huey import crontab

from app.services import notifications as outbox
from app.services.channels import telegram
from app.tasks import delivery_huey, huey, in_app_context

log = logging.getLogger(__name__)

_claim = in_app_context(outbox.claim_delivery)
_send_and_record = in_app_context(outbox.send_and_record)
_relay = in_app_context(outbox.relay_due)


@delivery_huey.task()
def deliver_notification(notification_id: str, probe: bool = False) -> None:
    """Deliver one outbox row (Telegram or SMS) if it is due and nobody else holds it."""
    delivery = _claim(notification_id, probe)
    if delivery is None:
        return None
    released, retry_in = _send_and_record(delivery)
    if retry_in is not None:
        try:
            deliver_notification.schedule(args=(notification_id,), delay=retry_in)
        except Exception:  # noqa: BLE001  (the relay re-queues it)
            log.exception("could not schedule the retry of notification %s", notification_id)
    outbox.enqueue_now(released)
    return None


@huey.periodic_task(crontab(minute="*"))
def relay_notifications() -> None:
    """Every minute: re-queue due rows whose task was lost, and probe channels in back-off."""
    requeue, probes = _relay()
    outbox.enqueue_now(requeue)
    outbox.enqueue_now(probes, probe=True)
    return None


@delivery_huey.task(retries=3, retry_delay=10)
@in_app_context
def edit_telegram_message(chat_id: str, message_id: int, text_html: str) -> None:
    """Show the outcome of a button in the message itself (the buttons go away)."""
    result = telegram.edit_message_text(chat_id, message_id, text_html)
    if not result.ok and not result.permanent:
        raise RuntimeError(f"editMessageText failed: {result.error}")  # huey retries
    return None
