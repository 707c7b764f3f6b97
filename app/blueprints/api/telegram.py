"""API: the Telegram bot's webhook. The contract (API.md, "Notifications"): "`POST
/api/telegram/webhook`: Telegram's updates; refused (401) unless the
`X-Telegram-Bot-Api-Secret-Token` header matches the configured secret." And
("Authentication"): "an update from a chat that matches no single user is refused".

Replies that must be immediate (answerCallbackQuery, the /start confirmation) go back
in the webhook response itself, as the Bot API allows; the message edit after a
button press is queued for the worker once the transaction commits."""
from __future__ import annotations

import hmac

from flask import current_app, jsonify, request
from flask_babel import gettext as _

from app.blueprints.api import bp
from app.i18n import force_locale, user_locale
from app.transaction import on_commit
from app.services import notifications
from app.services.errors import Conflict, Unauthorized


def _help() -> str:
    return _("This bot sends Evercold Service Desk notifications. To link your account, open your "
             "profile page in Evercold and press “Link Telegram”.")


def _check_secret() -> None:
    expected = current_app.config.get("TELEGRAM_WEBHOOK_SECRET") or ""
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token") or ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized(_("Invalid webhook secret"))


def _ok():
    return jsonify({"ok": True})


@bp.post("/telegram/webhook")
def telegram_webhook():
    """One Telegram update: `/start <code>` links a chat; Accept/Decline buttons act."""
    _check_secret()
    update = request.get_json(silent=True)
    if not isinstance(update, dict):
        return _ok()  # never make Telegram retry something we cannot read
    if isinstance(update.get("callback_query"), dict):
        return _callback(update["callback_query"])
    if isinstance(update.get("message"), dict):
        return _message(update["message"])
    return _ok()


def _language_code(who) -> str | None:
    """The language the person's Telegram app says it speaks (`from.language_code`)."""
    return who.get("language_code") if isinstance(who, dict) else None


def _callback(cq: dict):
    """A button: answered (and the message edited) in the presser's language."""
    sender = cq.get("from") if isinstance(cq.get("from"), dict) else {}
    message = cq.get("message") if isinstance(cq.get("message"), dict) else {}
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    from_chat = str(sender.get("id", ""))
    with force_locale(notifications.chat_locale(from_chat, _language_code(sender))):
        outcome = notifications.press_button(from_chat, cq.get("data"),
                                             str(chat["id"]) if chat.get("id") is not None else None)
        html = None
        if outcome.edit and chat.get("id") is not None and isinstance(message.get("message_id"), int):
            html = notifications.edited_message_html(str(chat["id"]), message["message_id"],
                                                     str(message.get("text") or ""), outcome.footer or "")
    if html is not None:
        chat_id, message_id = str(chat["id"]), message["message_id"]

        def _queue_edit():
            from app.jobs.notifications import edit_telegram_message

            try:
                edit_telegram_message(chat_id, message_id, html)
            except Exception:  # noqa: BLE001  (cosmetic: the callback answer already told them)
                current_app.logger.exception("could not queue a Telegram message edit")

        on_commit(_queue_edit)
    return jsonify({"method": "answerCallbackQuery", "callback_query_id": str(cq.get("id", "")),
                    "text": outcome.answer[:200]})


def _message(message: dict):
    """A message to the bot: `/start <code>` links the chat; anything else gets the help.
    Answered in the chat owner's language (the newly linked user's, once linked)."""
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    text = message.get("text") if isinstance(message.get("text"), str) else ""
    if chat.get("id") is None:
        return _ok()
    chat_id = str(chat["id"])
    spoken = _language_code(message.get("from"))
    with force_locale(notifications.chat_locale(chat_id, spoken)):
        command, _sep, payload = text.strip().partition(" ")
        if command.split("@", 1)[0] != "/start":
            return _reply(chat_id, _help())
        if chat.get("type") != "private":
            return _reply(chat_id, _("Please open the link from your Evercold profile in a private chat with "
                                     "the bot."))
        try:
            user = notifications.link_telegram_chat(payload.strip(), chat_id)
        except Conflict:
            return _reply(chat_id, _("This Telegram chat is already linked to another Evercold account, so it "
                                     "was not linked to yours. Unlink it on that account's profile page first, "
                                     "or ask an administrator."))
        if user is None:
            return _reply(chat_id, _("This link has expired or was already used. Open your Evercold profile "
                                     "page and press “Link Telegram” again."))
    with force_locale(user_locale(user.locale)):  # now the chat's owner: their language
        return _reply(chat_id, _("Linked. %(name)s, you will get Evercold notifications here. You can turn "
                                 "them off on your profile page.", name=user.name))


def _reply(chat_id: str, text: str):
    return jsonify({"method": "sendMessage", "chat_id": chat_id, "text": text})
