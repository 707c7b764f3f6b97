"""Notifications: who hears what, written in the business transaction, and its delivery.

One module per part: `routing` (who is told what, on which channels: one table),
`texts` (titles, bodies, SMS, digests, links), `outbox` (rows written with the business
transaction; deliveries queued once it commits), `delivery` (claim, send, record,
back-off, the relay), `inbox` (the bell and /notifications), `inbox_view` (the
inbox page: one line per item, grouped by ticket), `telegram_links` (linking a chat,
the buttons). The names below are the package's API.

`notify()` only adds rows; nothing is sent from a request thread. In-app rows are
born "sent" (the bell and /notifications read them). Telegram and SMS rows are
pending; once the business transaction commits, one huey delivery task per row is
queued (app/jobs/notifications.py). The task claims its row (a conditional UPDATE
pending -> sending with a lease, so two workers never send the same row), sends
outside any transaction, then records the outcome: sent (with the channel's
message id), back to pending with a growing back-off (transient errors, 429's
retry_after honoured), or failed (permanent errors, shown to dispatchers). A
periodic relay re-queues rows whose task was lost (worker down, crash between
commit and enqueue) and probes a channel in back-off so that, once it answers
again, the backlog goes out within about two minutes.

While a channel is in back-off (its latest failure's retry is still ahead), other
messages on it are not sent one by one into the same failure: their claim holds them
back without any request, and only the failed message's own retry and the relay's
probe ask the channel; its first answer (success, or a refusal of that one message)
releases the rest. A send whose answer never came (read timeout) may still have been
delivered: it is tried once more, later, and then given up as "may have been
delivered" (docs/operations.md, "Notifications: at-least-once delivery").
"""

from __future__ import annotations

from app.services.notifications.routing import (  # noqa: F401
    ASSIGNMENT_KINDS,
    CANCELLED,
    CREATOR,
    DELIVERY_FAILED,
    DISPATCHERS,
    FAILED,
    IN_APP,
    PENDING,
    PREVIOUS_TECHNICIAN,
    ROUTES,
    Route,
    STALE_WHEN_TAKEN_OFF,
    SENDING,
    SENT,
    SMS,
    STORE_MANAGERS,
    TECHNICIAN,
    TELEGRAM,
)

from app.services.notifications.texts import (  # noqa: F401
    BOARD_OVERDUE_PATH,
    DESCRIPTION_MAX,
    DIGEST_LISTED,
    DIGEST_TITLES,
    PERSON_DIGEST_TITLES,
    TECHNICIAN_QUEUE_PATH,
    digest_text,
    link_text,
    open_path,
    shorten,
    sms_text,
    ticket_link,
    ticket_path,
    ticket_text,
    title_text,
)

from app.services.notifications.outbox import (  # noqa: F401
    enqueue_after_commit,
    enqueue_now,
    notify,
    notify_many,
    set_delivery_queue,
)

from app.services.notifications.delivery import (  # noqa: F401
    BACKOFF_FIRST,
    BACKOFF_MAX,
    Delivery,
    EARLIER_MAY_HAVE_ARRIVED,
    FAILED_LIST_DAYS,
    GIVE_UP_AFTER,
    LEASE,
    LINK_CODE_TTL,
    MAY_HAVE_ARRIVED,
    PROBE_EVERY,
    RELAY_BATCH,
    REQUEUE_AFTER,
    UNCERTAIN_RETRY,
    WAITING,
    backoff,
    channel_backoff,
    claim_delivery,
    record_delivery,
    relay_due,
    send,
    send_and_record,
)

from app.services.notifications.inbox import (  # noqa: F401
    acted_on,
    failed_deliveries,
    get_own,
    list_in_app,
    mark_all_read,
    mark_read,
    mark_ticket_read,
    parse_cursor,
    retry_failed,
    taken_off,
    unread_count,
)

from app.services.notifications.inbox_view import (  # noqa: F401
    GROUPS_PER_PAGE,
    ITEMS_SHOWN,
    ago,
    inbox_groups,
    is_stale,
)

from app.services.notifications.telegram_links import (  # noqa: F401
    ButtonOutcome,
    chat_locale,
    edited_message_html,
    link_code_valid,
    link_telegram_chat,
    press_button,
    start_telegram_link,
    telegram_deep_link,
    unlink_telegram,
    user_for_chat,
)
