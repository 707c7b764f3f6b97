"""The words of a notification: titles, bodies, SMS, digests, and the links they carry.

See app/services/notifications/__init__.py for how the parts fit.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from app.models import (
    Role,
    ServiceTicket,
)
from app.services.channels import sms

from app.services.notifications.routing import DISPATCHERS, PREVIOUS_TECHNICIAN, TECHNICIAN
from app.services.reference import local_name  # a category or subcategory in the reader's language


DESCRIPTION_MAX = 300
def shorten(text: str | None, limit: int = DESCRIPTION_MAX) -> str:
    """At most `limit` characters, cut with an ellipsis."""
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _due(ticket: ServiceTicket) -> tuple[str, datetime]:
    from app.services.sla_clock import running_deadline

    phase, due_at = running_deadline(ticket)
    return ("Response due" if phase == "response" else "Resolution due"), due_at


def received_text(ticket: ServiceTicket) -> str:
    """The reporter's confirmation: not their own report again, but who was assigned and
    by when they must respond (or that it waits for a technician)."""
    from app.services.timefmt import zoned

    _, due_at = _due(ticket)
    due = zoned(due_at)
    technician = getattr(ticket, "assigned_technician", None)
    if technician is not None:
        return (f"Ticket {ticket.ticket_number} received: assigned to {technician.name}, "
                f"who must respond by {due}.")
    return (f"Ticket {ticket.ticket_number} received: waiting for a technician, "
            f"who must respond by {due}.")


def _person(user_id: str | None) -> str:
    """The name of the person whose action it was (their technician's name, if one)."""
    from app.extensions import db
    from app.models import User

    user = db.session.get(User, user_id) if user_id else None
    if user is None:
        return "The technician"
    return user.technician.name if user.technician is not None else user.name


def declined_text(ticket: ServiceTicket, extra: dict) -> str:
    """The dispatchers' first line when a technician declines: who, why, who has it now."""
    who = _person(extra.get("actor_id"))
    reason = shorten(str(extra.get("reason") or ""), 200)
    said = f"{who} declined ticket {ticket.ticket_number}: {reason}" if reason else \
        f"{who} declined ticket {ticket.ticket_number}."
    said = said if said.endswith((".", "!", "?", "…")) else said + "."
    now = getattr(ticket, "assigned_technician", None)
    if now is not None:
        return f"{said} It is now assigned to {now.name}."
    return f"{said} Nobody has it now: assign a technician."


def ticket_text(kind: str, ticket: ServiceTicket, extra: dict) -> str:
    """Plain-text body (in-app as is; Telegram escapes it for HTML)."""
    from app.services.timefmt import zoned

    if kind == "ticket_created":
        return received_text(ticket)
    due_label, due_at = _due(ticket)
    lines = [] if kind != "ticket_taken_off" else [
        "It was given to another technician: nothing more to do on it, thank you."]
    if kind == "ticket_declined":
        lines = [declined_text(ticket, extra)]
    lines += [
        f"Ticket: {ticket.ticket_number}",
        f"Branch: {ticket.branch.branch_code} {ticket.branch.branch_name}",
        f"Priority: {ticket.priority.label}",
        f"Problem: {local_name(ticket.subcategory)}",
    ]
    if ticket.assigned_technician is not None and kind != "ticket_completed":
        lines.append(f"Technician: {ticket.assigned_technician.name}")
    lines.append(f"Description: {shorten(ticket.description)}")
    if extra.get("reason"):
        lines.append(f"Reason: {shorten(str(extra['reason']))}")
    lines.append(f"{due_label}: {zoned(due_at)}")
    return "\n".join(lines)


def ticket_path(ticket_id: str | None, kind: str) -> str:
    if not ticket_id:
        return "/notifications"
    if kind == "ticket_completed":
        return f"/tickets/{ticket_id}/approve"
    return f"/tickets/{ticket_id}"


def open_path(user, ticket_id: str | None, kind: str) -> str:
    """Where opening an in-app notification leads: its ticket, or for a digest (no
    ticket) the list it summarises: the board's overdue tickets for a dispatcher, the
    queue for a technician."""
    if ticket_id:
        return ticket_path(ticket_id, kind)
    if user.role in (Role.DISPATCHER, Role.ADMIN):
        return BOARD_OVERDUE_PATH
    if user.role == Role.TECHNICIAN:
        return TECHNICIAN_QUEUE_PATH
    return "/notifications"


def ticket_link(ticket_id: str | None, kind: str) -> str:
    """Absolute link for messages that leave the app (APP_BASE_URL)."""
    return f"{current_app.config['APP_BASE_URL'].rstrip('/')}{ticket_path(ticket_id, kind)}"


def link_text(kind: str) -> str:
    return "Review and approve" if kind == "ticket_completed" else "Open ticket"


def sms_text(title: str, ticket: ServiceTicket, link: str) -> str:
    """One SMS segment where possible: the richest variant that fits wins."""
    from app.services.timefmt import zoned

    _, due_at = _due(ticket)
    due = zoned(due_at)
    prio = f"{ticket.priority.label} priority"
    code, name, sub = ticket.branch.branch_code, ticket.branch.branch_name, local_name(ticket.subcategory)
    return sms.fit([
        f"{title}. {prio}, {code} {name}: {sub}. Due {due}. {link}",
        f"{title}. {prio}, {code} {name}. Due {due}. {link}",
        f"{title}. {prio}, {code}. Due {due}. {link}",
        f"{title}. {prio}, {code} {name}: {sub}. Due {due}.",
        f"{title}. {prio}, {code}. Due {due}.",
    ])


DIGEST_TITLES = {
    "ticket_escalated": "{count} tickets escalated",
    "sla_no_secondary": "{count} tickets: response overdue, no secondary technician",
    "sla_response_level2": "{count} tickets: still no response after escalation",
    "sla_new_overdue": "{count} tickets: unassigned past their response time",
    "sla_resolution_overdue": "{count} tickets: resolution overdue",
    "sla_response_warning_new": "{count} tickets: unassigned, response due soon",
}
# A technician's digest, by (kind, the technician's part in the alert).
PERSON_DIGEST_TITLES = {
    ("ticket_escalated", TECHNICIAN): "{count} tickets escalated to you",
    ("ticket_escalated", PREVIOUS_TECHNICIAN): "{count} of your tickets escalated to another technician",
    ("sla_response_warning", TECHNICIAN): "{count} tickets: response due soon",
}
DIGEST_LISTED = 20  # ticket numbers named in a digest
BOARD_OVERDUE_PATH = "/dispatcher/tickets?overdue=true"
TECHNICIAN_QUEUE_PATH = "/tech/dashboard"


def digest_text(kind: str, numbers: list[str], *, part: str = DISPATCHERS) -> tuple[str, str, str]:
    """(title, body, sms text) of a digest for `numbers` of one kind: the dispatchers'
    (`part` DISPATCHERS, linking to the board's overdue filter) or a technician's
    (`part` TECHNICIAN / PREVIOUS_TECHNICIAN, linking to their queue)."""
    count = len(numbers)
    if part == DISPATCHERS:
        template, path, where = DIGEST_TITLES.get(kind, "{count} alerts"), BOARD_OVERDUE_PATH, \
            "Overdue tickets on the board"
    else:
        template, path, where = PERSON_DIGEST_TITLES.get((kind, part), "{count} alerts"), \
            TECHNICIAN_QUEUE_PATH, "Your queue"
    title = template.format(count=f"{count:,}")
    link = f"{current_app.config['APP_BASE_URL'].rstrip('/')}{path}"
    listed = ", ".join(numbers[:DIGEST_LISTED])
    more = count - min(count, DIGEST_LISTED)
    lines = [f"{title} in one SLA sweep.", f"Tickets: {listed}" + (f" and {more:,} more." if more else ".")]
    lines.append(f"{where}: {link}")
    return title, "\n".join(lines), sms.fit([f"{title}. {link}", f"{title}."])


