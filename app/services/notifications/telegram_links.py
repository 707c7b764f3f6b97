"""Telegram: linking a chat to an account, and the buttons pressed in it.

See app/services/notifications/__init__.py for how the parts fit.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    Notification,
    Role,
    TicketStatus,
    User,
)
from app.models.notification import TelegramLinkCode
from app import clock
from app.i18n import user_locale, valid_locale
from app.services import access
from app.services.channels import telegram
from app.services.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationError

from app.services.notifications.delivery import LINK_CODE_TTL
from app.services.notifications.routing import TELEGRAM
from app.services.notifications.texts import link_text, ticket_link


# --- Telegram: linking and the buttons ---------------------------------------------

def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def start_telegram_link(user) -> str:
    """A fresh one-time code for https://t.me/<bot>?start=<code> (older unused codes die)."""
    db.session.execute(
        TelegramLinkCode.__table__.delete().where(TelegramLinkCode.user_id == user.id,
                                                  TelegramLinkCode.used_at.is_(None))
    )
    code = secrets.token_urlsafe(24)
    now = clock.now()
    db.session.add(TelegramLinkCode(user_id=user.id, code_hash=_code_hash(code), created_at=now,
                                    expires_at=now + LINK_CODE_TTL))
    db.session.flush()
    return code


def telegram_deep_link(code: str) -> str | None:
    bot = (current_app.config.get("TELEGRAM_BOT_USERNAME") or "").lstrip("@")
    return f"https://t.me/{bot}?start={code}" if bot else None


def link_code_valid(user, code: str | None) -> bool:
    if not code or len(code) > 64:
        return False
    return db.session.execute(
        select(TelegramLinkCode.id).where(
            TelegramLinkCode.user_id == user.id, TelegramLinkCode.code_hash == _code_hash(code),
            TelegramLinkCode.used_at.is_(None), TelegramLinkCode.expires_at > clock.now(),
        )
    ).first() is not None


def link_telegram_chat(code: str, chat_id: str) -> User | None:
    """`/start <code>` from a private chat: store the chat id on the code's user. The code
    works once and only before it expires (None otherwise). A chat belongs to one user:
    a chat another user holds raises Conflict, and nothing changes (the code stays
    usable, e.g. from the user's own chat)."""
    if not isinstance(code, str) or not code or len(code) > 64 or not chat_id:
        return None
    now = clock.now()
    row = db.session.execute(
        select(TelegramLinkCode).where(TelegramLinkCode.code_hash == _code_hash(code))
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if _chat_held_by_other(chat_id, user.id):
        raise Conflict(_("This Telegram chat is linked to another Evercold account"))
    try:
        with db.session.begin_nested():
            used = db.session.execute(
                update(TelegramLinkCode).where(
                    TelegramLinkCode.id == row.id, TelegramLinkCode.used_at.is_(None),
                    TelegramLinkCode.expires_at > now,
                ).values(used_at=now).execution_options(synchronize_session=False)
            ).rowcount
            if used == 1:
                user.telegram_chat_id = chat_id
                user.notify_telegram = True
                db.session.flush()
    except IntegrityError:  # another user linked the same chat at the same moment
        raise Conflict(_("This Telegram chat is linked to another Evercold account"))
    return user if used == 1 else None


def _chat_held_by_other(chat_id: str, user_id: str) -> bool:
    return db.session.execute(
        select(User.id).where(User.telegram_chat_id == chat_id, User.id != user_id).limit(1)
    ).first() is not None


def unlink_telegram(user) -> None:
    """Forget the user's chat; Telegram messages not yet sent are cancelled at claim time."""
    user.telegram_chat_id = None
    db.session.flush()


def user_for_chat(chat_id: str) -> User | None:
    """The one active user linked to this chat. An unknown chat, a chat of a deactivated
    user, or a chat that matches several users (the database forbids it; refused anyway)
    has none: nothing runs for it."""
    if not chat_id:
        return None
    found = list(db.session.execute(
        select(User).where(User.telegram_chat_id == chat_id).limit(2)
    ).scalars())
    if len(found) != 1 or not found[0].is_active:
        return None
    return found[0]


@dataclass(frozen=True)
class ButtonOutcome:
    answer: str  # the short text of answerCallbackQuery
    footer: str | None = None  # appended to the message when it is edited (plain text)
    edit: bool = False  # edit the message (the buttons go away)


def chat_locale(chat_id: str | None, language_code=None) -> str:
    """The language to answer a Telegram chat in: its owner's, as every message to them
    (users.locale, else DEFAULT_LOCALE); for a chat linked to nobody, what the person's
    Telegram app says it speaks (`from.language_code`, as a browser's Accept-Language),
    else DEFAULT_LOCALE."""
    user = user_for_chat(chat_id) if chat_id else None
    if user is not None:
        return user_locale(user.locale)
    return valid_locale(language_code) or user_locale(None)


def press_button(from_chat_id: str, data: str, message_chat_id: str | None = None) -> ButtonOutcome:
    """Accept / Decline pressed in Telegram: the same services, access rules and status
    machine as the pages, run as the one user linked to the presser's chat. Our buttons
    are only ever sent to private chats: a press seen in any other chat runs nothing.
    The answers are in the language in force (the caller's `force_locale(chat_locale(...))`)."""
    from app.services import tickets as ticket_service

    parsed = telegram.parse_callback_data(data)
    if parsed is None:
        return ButtonOutcome(_("This button is not recognised."))
    action, ticket_id = parsed
    if message_chat_id is not None and message_chat_id != from_chat_id:
        return ButtonOutcome(_("This button only works in your own chat with the bot; nothing was changed."))
    user = user_for_chat(from_chat_id)
    if user is None:
        return ButtonOutcome(_("This Telegram account is not linked to Evercold. Link it from your profile page."))
    try:
        ticket = ticket_service.get_ticket(ticket_id, for_update=True)
    except NotFound:
        gone = _("This ticket no longer exists.")
        return ButtonOutcome(gone, gone, edit=True)
    if user.role != Role.TECHNICIAN or not access.can_read_ticket(user, ticket):
        return ButtonOutcome(_("This button is not for you; nothing was changed."))
    if ticket.assigned_technician_id != user.technician_id:
        note = _("This ticket has been reassigned to another technician. Nothing to do, thank you.")
        return ButtonOutcome(note, note, edit=True)
    if ticket.status != TicketStatus.ASSIGNED:
        if ticket.status == TicketStatus.IN_PROGRESS:
            note = _("You have already accepted this ticket.")
        else:
            note = _("This ticket is no longer waiting for an answer (it is %(status)s).",
                     status=str(ticket.status.label).lower())
        return ButtonOutcome(note, note, edit=True)
    try:
        with db.session.begin_nested():
            if action == telegram.ACCEPT:
                ticket_service.accept(ticket, user)
            else:
                # Stored as the technician's reason, in their words (their language).
                ticket_service.decline(ticket, _("Declined from Telegram"), user)
    except (InvalidTransition, Forbidden, ValidationError) as exc:
        note = _("Nothing was changed: %(reason)s", reason=exc.message)
        return ButtonOutcome(note, note, edit=True)
    from app.services.timefmt import local_str

    when = local_str(clock.now(), zone=True)
    if action == telegram.ACCEPT:
        return ButtonOutcome(_("Accepted. The ticket is yours."), _("✅ Accepted by you at %(when)s.", when=when),
                             edit=True)
    return ButtonOutcome(_("Declined. The dispatchers have been told."),
                         _("✖ Declined at %(when)s. The dispatchers have been told.", when=when), edit=True)


def edited_message_html(user_chat_id: str, message_id, fallback_text: str, footer: str) -> str:
    """The message as it was sent (re-rendered from its outbox row, without buttons)
    plus the outcome; the callback's own text when the row is gone. Our own words (the
    link's) in the language in force, as `press_button`'s."""
    row = db.session.execute(
        select(Notification).join(User, User.id == Notification.user_id).where(
            Notification.channel == TELEGRAM, Notification.external_id == str(message_id),
            User.telegram_chat_id == user_chat_id,
        ).order_by(Notification.created_at.desc()).limit(1)
    ).scalar_one_or_none()
    footer_html = f"<i>{telegram.esc(footer)}</i>"
    if row is not None:
        return telegram.render(row.title, row.body, ticket_link(row.ticket_id, row.kind), link_text(row.kind),
                               footer_html)
    return f"{telegram.esc(fallback_text)}\n\n{footer_html}"
