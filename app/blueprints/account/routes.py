"""Every signed-in user: the bell, /notifications, /profile (phone, channels, Telegram link)."""
from __future__ import annotations

from flask import current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user

from app.blueprints.account import bp
from app.blueprints.account.forms import LanguageForm, PasswordForm, ProfileForm
from app.blueprints.api import decode_cursor, encode_cursor
from flask_babel import force_locale, gettext as _

from app import i18n
from app.ratelimit import login_limits, password_guess_failed, signed_in_account_key
from app.services import access, notifications, users
from app.services.errors import ValidationError, WrongPassword
from app.web import form_errors, is_htmx, render_page_or_partial

PAGE_SIZE = 15  # tickets (groups) per page
CHANGED = "notificationsChanged"
LINK_CODE_KEY = "telegram_link_code"


def _me():
    return current_user._get_current_object()


def _unread_only() -> bool:
    return request.values.get("unread") in ("1", "true", "on")


def _back():
    return redirect(url_for("account.notifications_page", unread="1" if _unread_only() else None))


@bp.get("/notifications/bell")
def bell():
    """The bell's badge (polled by htmx every 30 s): one COUNT. 286 stops a signed-out poller."""
    if not current_user.is_authenticated:
        return render_template("account/partials/_bell_badge.html", count=0), 286
    return render_template("account/partials/_bell_badge.html", count=notifications.unread_count(_me()))


@bp.get("/notifications")
@login_required
def notifications_page():
    """The user's inbox: one line per item, grouped by ticket (the latest first); staff
    also see failed deliveries. htmx "Show more" gets just the next groups."""
    cursor = request.args.get("cursor")
    groups, next_cursor = notifications.inbox_groups(
        _me(), unread_only=_unread_only(), groups=PAGE_SIZE, cursor=decode_cursor(cursor) if cursor else None)
    ctx = {"groups": groups, "next_cursor": encode_cursor(next_cursor) if next_cursor else None,
           "unread_only": _unread_only()}
    if is_htmx() and cursor:
        return render_template("account/partials/_notification_page.html", **ctx)
    ctx["unread"] = notifications.unread_count(_me())
    ctx["failed"] = notifications.failed_deliveries(_me()) if access.is_staff(_me()) else None
    return render_page_or_partial("account/notifications.html", "account/partials/_panel.html", **ctx)


def _group_fragment(ticket_id: str):
    """One ticket's group (gone from the Unread tab once read) and the header's count."""
    groups, _ = notifications.inbox_groups(_me(), unread_only=_unread_only(), ticket_id=ticket_id)
    resp = make_response(render_template("account/partials/_notification_read.html", groups=groups,
                                         unread=notifications.unread_count(_me()), unread_only=_unread_only()))
    resp.headers["HX-Trigger"] = CHANGED
    return resp


@bp.post("/notifications/<notification_id>/read")
@login_required
def mark_read(notification_id):
    """Mark one notification read; htmx gets its group back and the bell is told."""
    item = notifications.mark_read(_me(), notification_id)
    if not is_htmx():
        return _back()
    return _group_fragment(item.ticket_id or item.id)


@bp.post("/notifications/tickets/<ticket_id>/read")
@login_required
def mark_ticket_read(ticket_id):
    """Mark the user's items about one ticket read (the group's "Mark read")."""
    notifications.mark_ticket_read(_me(), ticket_id)
    if not is_htmx():
        return _back()
    return _group_fragment(ticket_id)


@bp.post("/notifications/<notification_id>/open")
@login_required
def open_notification(notification_id):
    """Open the ticket a notification is about (for a digest, the list it sums up),
    marking it read on the way."""
    me = _me()
    item = notifications.mark_read(me, notification_id)
    return redirect(notifications.open_path(me, item.ticket_id, item.kind))


@bp.post("/notifications/read-all")
@login_required
def mark_all_read():
    """Mark all of the user's notifications read; htmx gets the refreshed panel."""
    notifications.mark_all_read(_me())
    if not is_htmx():
        flash(_("All notifications marked as read."))
        return _back()
    groups, next_cursor = notifications.inbox_groups(_me(), unread_only=_unread_only(), groups=PAGE_SIZE)
    resp = make_response(render_template(
        "account/partials/_panel.html", groups=groups, unread=0, unread_only=_unread_only(),
        next_cursor=encode_cursor(next_cursor) if next_cursor else None))
    resp.headers["HX-Trigger"] = CHANGED
    return resp


@bp.post("/notifications/failed/<notification_id>/retry")
@login_required
def retry_failed(notification_id):
    """Staff put a failed Telegram/SMS message back in the queue."""
    notifications.retry_failed(_me(), notification_id)
    flash(_("The message is queued again."))
    return redirect(url_for("account.notifications_page"))


PROFILE_FIELDS = {"phone": "phone", "notifyTelegram": "notify_telegram", "notifySms": "notify_sms"}
PASSWORD_FIELDS = {"currentPassword": "current_password", "newPassword": "new_password"}


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    """Phone, which channels to use, and the Telegram link."""
    me = _me()
    form = ProfileForm(obj=None if request.method == "POST" else _profile_data(me))
    errors = {}
    if form.validate_on_submit():
        try:
            users.update_contact(me, {"phone": form.phone.data or None,
                                      "notifyTelegram": bool(form.notify_telegram.data),
                                      "notifySms": bool(form.notify_sms.data)})
        except ValidationError as exc:
            errors = form_errors(form, exc, names=PROFILE_FIELDS)
        else:
            flash(_("Your notification settings are saved."))
            return redirect(url_for("account.profile"))
    elif request.method == "POST":
        errors = form_errors(form)
    return _profile_page(me, form=form, errors=errors)


def _language_form(formdata=None) -> LanguageForm:
    form = LanguageForm(formdata=formdata) if formdata is not None else LanguageForm(formdata=None)
    # "As my browser" keeps no choice: pages follow the browser, messages DEFAULT_LOCALE.
    form.locale.choices = [("", _("As my browser"))] + [(code, i18n.LANGUAGE_NAMES[code]) for code in i18n.LOCALES]
    if formdata is None:
        form.locale.data = _me().locale or ""
    return form


@bp.post("/profile/language")
@login_required
def language():
    """The user's language: every page, and every message sent to them, from now on."""
    me = _me()
    form = _language_form(request.form)
    if form.validate_on_submit():
        users.update_contact(me, {"locale": form.locale.data or None})
        with force_locale(i18n.user_locale(me.locale) if me.locale else i18n.select_locale()):
            flash(_("Your language is saved."))
        return redirect(url_for("account.profile"))
    return _profile_page(me, language_form=form, language_errors=form_errors(form))


def _profile_page(me, *, form=None, errors=None, password_form=None, password_errors=None,
                  language_form=None, language_errors=None):
    """The profile page with its forms; 400 when one of them comes back with errors."""
    form = form or ProfileForm(formdata=None, obj=_profile_data(me))
    password_form = password_form or PasswordForm(formdata=None)
    return render_template("account/profile.html", form=form, errors=errors or {}, me=me,
                           password_form=password_form, password_errors=password_errors or {},
                           language_form=language_form or _language_form(),
                           language_errors=language_errors or {},
                           sms_ready=bool(current_app.config.get("SMS_GATEWAY_URL")),
                           password_min=users.PASSWORD_MIN,
                           **_telegram_ctx(me)), (400 if errors or password_errors or language_errors else 200)


@bp.post("/profile/password")
@login_required
@login_limits(key_func=signed_in_account_key)  # a wrong current password counts as a failed sign-in
def change_password():
    """Change one's own password: every other session and every sign-in token of the
    user ends; this browser stays signed in (its session is issued again)."""
    me = _me()
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            users.change_own_password(me, {"currentPassword": form.current_password.data,
                                           "newPassword": form.new_password.data}, new_token=False)
        except ValidationError as exc:
            if isinstance(exc, WrongPassword):
                password_guess_failed()
            errors = form_errors(form, exc, names=PASSWORD_FIELDS)
        else:
            login_user(me)  # the session version moved on: this browser signs in again with it
            flash(_("Your password is changed. You are still signed in here, and signed out everywhere "
                    "else (other browsers and apps)."))
            return redirect(url_for("account.profile"))  # the page's top, where the message is
    else:
        errors = form_errors(form)
    return _profile_page(me, password_form=form, password_errors=errors)


@bp.get("/profile/password")
@login_required
def password_form():
    """The form's address opened directly (history, a bookmark): the form on the profile page."""
    return redirect(url_for("account.profile") + "#password")


def _telegram_ctx(me) -> dict:
    code = session.get(LINK_CODE_KEY)
    deep_link = None
    if code and not me.telegram_chat_id and notifications.link_code_valid(me, code):
        deep_link = notifications.telegram_deep_link(code)
    cfg = current_app.config
    return {"deep_link": deep_link, "linked": bool(me.telegram_chat_id),
            "telegram_ready": bool(cfg.get("TELEGRAM_BOT_TOKEN") and cfg.get("TELEGRAM_BOT_USERNAME")),
            "link_minutes": int(notifications.LINK_CODE_TTL.total_seconds() // 60)}


@bp.get("/profile/telegram")
@login_required
def telegram_card():
    """The Telegram card alone: polled while a deep link waits; 286 (stop) once linked."""
    ctx = _telegram_ctx(_me())
    body = render_template("account/partials/_telegram_card.html", **ctx)
    return body, (286 if ctx["linked"] else 200)


def _profile_data(user):
    class _Data:
        phone = user.phone
        notify_telegram = user.notify_telegram
        notify_sms = user.notify_sms

    return _Data


@bp.post("/profile/telegram/link")
@login_required
def telegram_link():
    """A fresh one-time deep link to the bot; shown on the profile page."""
    session[LINK_CODE_KEY] = notifications.start_telegram_link(_me())
    return redirect(url_for("account.profile") + "#telegram")


@bp.post("/profile/telegram/unlink")
@login_required
def telegram_unlink():
    """Stop Telegram messages by forgetting the chat."""
    notifications.unlink_telegram(_me())
    session.pop(LINK_CODE_KEY, None)
    flash(_("Telegram is unlinked."))
    return redirect(url_for("account.profile") + "#telegram")
