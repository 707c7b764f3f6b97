"""Telegram Bot API: sendMessage / editMessageText over `requests`, HTML parse mode.

Every stored string goes through `html.escape` before it is put into a message:
ticket descriptions are typed by store managers and may contain anything.
"""
from __future__ import annotations

import html
import logging

import requests
from flask import current_app
from flask_babel import gettext as _

from app.services.channels import SendResult, http, parse_retry_after, timeouts

log = logging.getLogger(__name__)

ACCEPT = "accept"
DECLINE = "decline"
_ACTIONS = {ACCEPT, DECLINE}
MAX_TEXT = 4096  # Telegram's limit for a message's text


def configured() -> bool:
    return bool(current_app.config.get("TELEGRAM_BOT_TOKEN"))


def _url(method: str) -> str:
    cfg = current_app.config
    return f"{cfg['TELEGRAM_API_BASE'].rstrip('/')}/bot{cfg['TELEGRAM_BOT_TOKEN']}/{method}"


def esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=False)


def render(title: str, body: str, link: str | None = None, link_text: str | None = None,
           footer: str | None = None) -> str:
    """The HTML text of a notification: bold title, the plain body, a link, an optional footer
    (already HTML). Everything stored is escaped here. Words of our own (the link's) are in
    the language in force: the chat owner's (app.i18n.force_locale)."""
    if link_text is None:
        link_text = _("Open ticket")
    parts = [f"<b>{esc(title)}</b>", esc(body)]
    if link:
        parts.append(f'<a href="{html.escape(link, quote=True)}">{esc(link_text)}</a>')
    if footer:
        parts.append(footer)
    text = "\n\n".join(p for p in parts if p)
    if len(text) > MAX_TEXT:  # never cut inside a tag: fall back to the escaped title and link only
        text = "\n\n".join(p for p in parts[:1] + parts[2:] if p)
    return text


def assignment_keyboard(ticket_id: str) -> dict:
    """Accept / Decline buttons, in the language in force (the chat owner's);
    callback_data is "<action>:<ticket id>" (< 64 bytes)."""
    return {"inline_keyboard": [[
        {"text": _("✅ Accept"), "callback_data": f"{ACCEPT}:{ticket_id}"},
        {"text": _("✖ Decline"), "callback_data": f"{DECLINE}:{ticket_id}"},
    ]]}


def parse_callback_data(data) -> tuple[str, str] | None:
    if not isinstance(data, str) or len(data) > 64:
        return None
    action, _sep, ticket_id = data.partition(":")
    if action not in _ACTIONS or not ticket_id or len(ticket_id) > 40:
        return None
    return action, ticket_id


def _call(method: str, payload: dict) -> SendResult:
    try:
        resp = http().post(_url(method), json=payload, timeout=timeouts())
    except requests.RequestException as exc:
        return SendResult.from_exception("Telegram", exc)
    try:
        data = resp.json()
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    description = str(data.get("description") or resp.reason or "")[:300]
    if resp.status_code == 200 and data.get("ok"):
        result = data.get("result")
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return SendResult.sent(str(message_id) if message_id is not None else None)
    if resp.status_code == 429:
        params = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
        retry_after = parse_retry_after(params.get("retry_after")) or parse_retry_after(resp.headers.get("Retry-After"))
        return SendResult.transient(f"429 {description or 'Too Many Requests'}", retry_after)
    if resp.status_code in (400, 403):
        # Bad request (chat not found, unparseable text) or the user blocked the bot:
        # retrying will not help.
        return SendResult.failed(f"{resp.status_code} {description}".strip())
    # 5xx, and 401/404 (a wrong token is fixed by ops: keep the message until then).
    return SendResult.transient(f"{resp.status_code} {description}".strip())


def send_message(chat_id: str, text_html: str, reply_markup: dict | None = None) -> SendResult:
    payload = {
        "chat_id": chat_id,
        "text": text_html,
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }
    if reply_markup:
        payload["reply_markup"] = reply_markup
    return _call("sendMessage", payload)


def edit_message_text(chat_id: str, message_id: int | str, text_html: str) -> SendResult:
    """Replace a message's text; without reply_markup its buttons go away."""
    return _call("editMessageText", {
        "chat_id": chat_id,
        "message_id": int(message_id),
        "text": text_html,
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    })
