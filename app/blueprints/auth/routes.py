"""Sign in and out."""
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError

from app.blueprints.auth import bp
from app.blueprints.auth.forms import LoginForm
from app.extensions import csrf
from app.ratelimit import login_limits
from app.services import users
from app.services.errors import Unauthorized
from app.web import FORM_EXPIRED, form_errors, home_for


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: no open redirect through `next`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):  # browsers drop tabs; CR/LF split headers
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt  # checked below instead, after the throttle has seen the attempt
@login_limits(methods=["POST"])  # counters shared with POST /api/auth/token
def login():
    """The sign-in form; on success, the role's home (or a safe `next`). Every refused
    post (wrong credentials, missing fields, no CSRF token, a JSON body) counts against
    the address (app/ratelimit.py)."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(home_for(current_user))
    if request.method == "POST" and current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            csrf.protect()  # what CSRFProtect would have done before the throttle saw the post
        except CSRFError:
            return render_template("auth/login.html", form=LoginForm(formdata=None),
                                   errors={"_form": str(FORM_EXPIRED)}), 400
    # The form's own fields only: Flask-WTF would also read a JSON body, whatever it holds.
    form = LoginForm(formdata=request.form if request.method == "POST" else None)
    errors = {}
    if form.validate_on_submit():
        try:
            user = users.authenticate(form.email.data, form.password.data)
        except Unauthorized as exc:
            errors = form_errors(exc=exc)  # one message: which of the two was wrong is not said
        else:
            session.clear()  # a fresh session at login (no fixation)
            _keep_picked_language(user)
            login_user(user)
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")) or home_for(user))
    elif request.method == "POST":
        errors = {"_form": _("Enter your email and password.")}
    return render_template("auth/login.html", form=form, errors=errors), (401 if errors else 200)


def _keep_picked_language(user) -> None:
    """A language picked with the switch before signing in becomes the user's own, if
    they had none: their messages (Telegram, SMS, in-app) follow it too."""
    from app import i18n

    picked = i18n.valid_locale(request.cookies.get(i18n.COOKIE))
    if user.locale is None and picked is not None:
        users.update_contact(user, {"locale": picked})


@bp.get("/language/<code>")
def switch_language(code):
    """The switch on the signed-out pages: the chosen language (a cookie, a year) and
    back to the page it was picked on. A signed-in user keeps theirs on the profile page."""
    from app import i18n

    target = _safe_next(request.args.get("next")) or "/login"
    response = redirect(target)
    chosen = i18n.valid_locale(code)
    if chosen is not None and chosen == code:
        response.set_cookie(i18n.COOKIE, chosen, max_age=i18n.COOKIE_MAX_AGE, samesite="Lax",
                            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")), httponly=True)
    return response


@bp.post("/logout")
@login_required
def logout():
    """Ends this and every other session of the user (signed cookies cannot be revoked)."""
    users.end_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You have signed out."))
    return redirect("/login")
