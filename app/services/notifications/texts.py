"""The words of a notification: titles, bodies, SMS, digests, and the links they carry.

See app/services/notifications/__init__.py for how the parts fit.
"""

from __future__ import annotations

from datetime import datetime

from babel.numbers import format_decimal
from flask import current_app
from flask_babel import gettext as _, ngettext

from app.models import (
    Role,
    ServiceTicket,
)
from app.services.channels import sms

from app.services.notifications.routing import DISPATCHERS, PREVIOUS_TECHNICIAN, ROUTES, TECHNICIAN
from app.services.reference import local_name  # a category or subcategory in the reader's language


DESCRIPTION_MAX = 300
def shorten(text: str | None, limit: int = DESCRIPTION_MAX) -> str:
    """At most `limit` characters, cut with an ellipsis."""
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# Every text below is written in the language in force (`app.i18n.force_locale`): the
# outbox makes each alert's texts once per language its recipients read
# (outbox.notify_many), and the database picks each recipient's.


def _due(ticket: ServiceTicket) -> tuple[str, datetime]:
    """("response" or "resolution", the due time of the clock that is running)."""
    from app.services.sla_clock import running_deadline

    return running_deadline(ticket)


def _due_line(phase: str, due: str) -> str:
    if phase == "response":
        return _("Response due: %(when)s", when=due)
    return _("Resolution due: %(when)s", when=due)


def received_text(ticket: ServiceTicket) -> str:
    """The reporter's confirmation: not their own report again, but who was assigned and
    by when they must respond (or that it waits for a technician). One line."""
    from app.services.timefmt import zoned

    _phase, due_at = _due(ticket)
    due = zoned(due_at)
    technician = getattr(ticket, "assigned_technician", None)
    if technician is not None:
        return _("Ticket %(number)s received: assigned to %(name)s, who must respond by %(due)s.",
                 number=ticket.ticket_number, name=technician.name, due=due)
    return _("Ticket %(number)s received: waiting for a technician, who must respond by %(due)s.",
             number=ticket.ticket_number, due=due)


def _person(user_id: str | None) -> str | None:
    """The name of the person whose action it was (their technician's name, if one)."""
    from app.extensions import db
    from app.models import User

    user = db.session.get(User, user_id) if user_id else None
    if user is None:
        return None
    return user.technician.name if user.technician is not None else user.name


def declined_text(ticket: ServiceTicket, extra: dict) -> str:
    """The dispatchers' first line when a technician declines: who, why, who has it now.
    One line, ending with a full stop (inbox_view shows it as the item's line)."""
    who = _person(extra.get("actor_id"))
    reason = shorten(str(extra.get("reason") or ""), 200)
    number = ticket.ticket_number
    if reason and not reason.endswith((".", "!", "?", "…")):
        reason += "."
    if who and reason:
        said = _("%(name)s declined ticket %(number)s: %(reason)s", name=who, number=number, reason=reason)
    elif who:
        said = _("%(name)s declined ticket %(number)s.", name=who, number=number)
    elif reason:
        said = _("The technician declined ticket %(number)s: %(reason)s", number=number, reason=reason)
    else:
        said = _("The technician declined ticket %(number)s.", number=number)
    now = getattr(ticket, "assigned_technician", None)
    if now is not None:
        return _("%(declined)s It is now assigned to %(name)s.", declined=said, name=now.name)
    return _("%(declined)s Nobody has it now: assign a technician.", declined=said)


def paused_text(kind: str, extra: dict) -> str:
    """The first line of a pause alert: why the repair is paused (and since when, for
    the dispatchers' long-pause alert). One line, ending with a full stop."""
    from app.models.enums import label
    from app.services.timefmt import zoned

    reason = str(label(extra.get("pause_reason") or "")).lower()
    since = extra.get("paused_at")
    if kind == "sla_pause_long" and since is not None:
        return _("Repair paused since %(when)s: %(reason)s.", when=zoned(since), reason=reason)
    return _("Repair paused: %(reason)s.", reason=reason)


def ticket_text(kind: str, ticket: ServiceTicket, extra: dict) -> str:
    """Plain-text body (in-app as is; Telegram escapes it for HTML)."""
    from app.services.timefmt import zoned

    if kind == "ticket_created":
        return received_text(ticket)
    phase, due_at = _due(ticket)
    lines = [] if kind != "ticket_taken_off" else [
        _("It was given to another technician: nothing more to do on it, thank you.")]
    if kind == "ticket_declined":
        lines = [declined_text(ticket, extra)]
    if kind in ("ticket_paused", "sla_pause_long"):
        lines = [paused_text(kind, extra)]
        if extra.get("note"):
            lines.append(_("Note: %(text)s", text=shorten(str(extra["note"]), 200)))
    lines += [
        _("Ticket: %(number)s", number=ticket.ticket_number),
        _("Branch: %(code)s %(name)s", code=ticket.branch.branch_code, name=ticket.branch.branch_name),
        _("Priority: %(priority)s", priority=ticket.priority.label),
        _("Problem: %(problem)s", problem=local_name(ticket.subcategory)),
    ]
    if ticket.assigned_technician is not None and kind != "ticket_completed":
        lines.append(_("Technician: %(name)s", name=ticket.assigned_technician.name))
    lines.append(_("Description: %(text)s", text=shorten(ticket.description)))
    if extra.get("reason"):
        lines.append(_("Reason: %(text)s", text=shorten(str(extra["reason"]))))
    lines.append(_due_line(phase, zoned(due_at)))
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
    return _("Review and approve") if kind == "ticket_completed" else _("Open ticket")


def title_text(kind: str, number: str) -> str:
    """A ticket alert's title (routing.ROUTES[kind].title, translated) for ticket `number`."""
    return str(ROUTES[kind].title) % {"number": number}


def sms_text(title: str, ticket: ServiceTicket, link: str) -> str:
    """One SMS segment where possible: the richest variant that fits wins (sms.fit), down
    to the title alone."""
    from app.services.timefmt import zoned

    _phase, due_at = _due(ticket)
    words = {"title": title, "priority": ticket.priority.label, "code": ticket.branch.branch_code,
             "branch": ticket.branch.branch_name, "problem": local_name(ticket.subcategory), "due": zoned(due_at),
             "link": link}
    return sms.fit([
        _("%(title)s. %(priority)s priority, %(code)s %(branch)s: %(problem)s. Due %(due)s. %(link)s", **words),
        _("%(title)s. %(priority)s priority, %(code)s %(branch)s. Due %(due)s. %(link)s", **words),
        _("%(title)s. %(priority)s priority, %(code)s. Due %(due)s. %(link)s", **words),
        _("%(title)s. %(priority)s priority, %(code)s %(branch)s: %(problem)s. Due %(due)s.", **words),
        _("%(title)s. %(priority)s priority, %(code)s. Due %(due)s.", **words),
        _("%(title)s. Due %(due)s.", **words),
        _("%(title)s.", **words),
    ])


# A digest's title, by kind: the dispatchers' (DIGEST_TITLES) and a technician's, by
# (kind, the technician's part in the alert) (PERSON_DIGEST_TITLES). Each takes the count
# and the count as written for the reader ("1,234" / "1 234"), for the plural form.
DIGEST_TITLES = {
    "ticket_escalated": lambda n, count: ngettext(
        "%(count)s ticket escalated", "%(count)s tickets escalated", n, count=count),
    "sla_no_secondary": lambda n, count: ngettext(
        "%(count)s ticket: response overdue, no secondary technician",
        "%(count)s tickets: response overdue, no secondary technician", n, count=count),
    "sla_response_level2": lambda n, count: ngettext(
        "%(count)s ticket: still no response after escalation",
        "%(count)s tickets: still no response after escalation", n, count=count),
    "sla_new_overdue": lambda n, count: ngettext(
        "%(count)s ticket: unassigned past its response time",
        "%(count)s tickets: unassigned past their response time", n, count=count),
    "sla_resolution_overdue": lambda n, count: ngettext(
        "%(count)s ticket: resolution overdue", "%(count)s tickets: resolution overdue", n, count=count),
    "sla_response_warning_new": lambda n, count: ngettext(
        "%(count)s ticket: unassigned, response due soon",
        "%(count)s tickets: unassigned, response due soon", n, count=count),
    "sla_pause_long": lambda n, count: ngettext(
        "%(count)s ticket: paused for too long", "%(count)s tickets: paused for too long", n, count=count),
}
PERSON_DIGEST_TITLES = {
    ("ticket_escalated", TECHNICIAN): lambda n, count: ngettext(
        "%(count)s ticket escalated to you", "%(count)s tickets escalated to you", n, count=count),
    ("ticket_escalated", PREVIOUS_TECHNICIAN): lambda n, count: ngettext(
        "%(count)s of your tickets escalated to another technician",
        "%(count)s of your tickets escalated to another technician", n, count=count),
    ("sla_response_warning", TECHNICIAN): lambda n, count: ngettext(
        "%(count)s ticket: response due soon", "%(count)s tickets: response due soon", n, count=count),
}


def _alerts_title(n: int, count: str) -> str:
    return ngettext("%(count)s alert", "%(count)s alerts", n, count=count)


DIGEST_LISTED = 20  # ticket numbers named in a digest
BOARD_OVERDUE_PATH = "/dispatcher/tickets?overdue=true"
TECHNICIAN_QUEUE_PATH = "/tech/dashboard"


def _count(n: int) -> str:
    """A count as the reader writes it ("1,234" in English, "1 234" in Russian)."""
    from app.services.timefmt import locale

    return format_decimal(n, locale=locale())


def digest_text(kind: str, numbers: list[str], *, part: str = DISPATCHERS) -> tuple[str, str, str]:
    """(title, body, sms text) of a digest for `numbers` of one kind: the dispatchers'
    (`part` DISPATCHERS, linking to the board's overdue filter) or a technician's
    (`part` TECHNICIAN / PREVIOUS_TECHNICIAN, linking to their queue)."""
    count = len(numbers)
    base = current_app.config['APP_BASE_URL'].rstrip('/')
    if part == DISPATCHERS:
        title = DIGEST_TITLES.get(kind, _alerts_title)(count, _count(count))
        link = f"{base}{BOARD_OVERDUE_PATH}"
        where = _("Overdue tickets on the board: %(link)s", link=link)
    else:
        title = PERSON_DIGEST_TITLES.get((kind, part), _alerts_title)(count, _count(count))
        link = f"{base}{TECHNICIAN_QUEUE_PATH}"
        where = _("Your queue: %(link)s", link=link)
    listed = ", ".join(numbers[:DIGEST_LISTED])
    more = count - min(count, DIGEST_LISTED)
    lines = [_("%(title)s in one SLA sweep.", title=title)]
    if more:
        lines.append(_("Tickets: %(numbers)s and %(more)s more.", numbers=listed, more=_count(more)))
    else:
        lines.append(_("Tickets: %(numbers)s.", numbers=listed))
    lines.append(where)
    return title, "\n".join(lines), sms.fit([_("%(title)s. %(link)s", title=title, link=link),
                                             _("%(title)s.", title=title)])
