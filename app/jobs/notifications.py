"""Notification delivery jobs.

`deliver_notification` runs one delivery in three short steps, each its own
transaction: claim the row (committed before any network traffic, so a second
worker sees it is taken), send over HTTP with no transaction open, record the
outcome. A transient failure schedules the next try after the back-off; the
periodic relay catches whatever a dead worker or a lost task left behind.
"""
from __future__ import annotations

import logging

from huey import crontab

from app.services import notifications as outbox
from app.services.channels import telegram
from app.tasks import huey, in_app_context

log = logging.getLogger(__name__)

_claim = in_app_context(outbox.claim_delivery)
_send = in_app_context(outbox.send)
_record = in_app_context(outbox.record_delivery)
_relay = in_app_context(outbox.relay_due)


@huey.task()
def deliver_notification(notification_id: str, probe: bool = False) -> None:
    """Deliver one outbox row (Telegram or SMS) if it is due and nobody else holds it."""
    delivery = _claim(notification_id, probe)
    if delivery is None:
        return None
    result = _send(delivery)
    if not result.ok:
        log.info("notification %s attempt %s failed: %s", notification_id, delivery.attempt, result.error)
    released, retry_in = _record(delivery, result)
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


@huey.task(retries=3, retry_delay=10)
@in_app_context
def edit_telegram_message(chat_id: str, message_id: int, text_html: str) -> None:
    """Show the outcome of a button in the message itself (the buttons go away)."""
    result = telegram.edit_message_text(chat_id, message_id, text_html)
    if not result.ok and not result.permanent:
        raise RuntimeError(f"editMessageText failed: {result.error}")  # huey retries
    return None
