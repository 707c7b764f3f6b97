"""Users, passwords, sessions and API tokens (the token kinds: docs/tokens.md)."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload

from flask_babel import gettext as _, ngettext

from app import i18n
from app.extensions import db
from app.models import ApiToken, CustomerBranch, Role, Technician, TokenKind, User
from app import clock
from app.services.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationError, WrongPassword
from app.services.validation import Fields

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CHAT_ID_RE = re.compile(r"^-?\d{1,20}$")
PHONE_RE = re.compile(r"^\+?[0-9 ()-]{5,30}$")
PASSWORD_MIN = 8
PASSWORD_MAX = 256
# A service token's last use is written at most this often (one small UPDATE, not one per call).
TOKEN_USE_GRAIN = timedelta(minutes=5)


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(time_cost=cfg["PASSWORD_TIME_COST"], memory_cost=cfg["PASSWORD_MEMORY_COST"])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


# A real hash to verify against when the email is unknown, so both answers take as long.
_DUMMY: dict[str, str] = {}


def _dummy_hash() -> str:
    key = f"{current_app.config['PASSWORD_TIME_COST']}:{current_app.config['PASSWORD_MEMORY_COST']}"
    if key not in _DUMMY:
        _DUMMY[key] = hash_password(secrets.token_hex(8))
    return _DUMMY[key]


def parse_credentials(data: dict) -> tuple[str, str]:
    """`{email, password}` as two strings (400 otherwise; wrong ones are a 401 later)."""
    f = Fields(data)
    email = f.text("email", required=True, max_len=254)
    password = data.get("password")
    if password is None or password == "":
        f.error("password", _("This field is required."))
    elif not isinstance(password, str):
        f.error("password", _("Must be text."))
    elif len(password) > 256:
        f.error("password", _("At most 256 characters."))
    f.check(_("Send an email and a password"))
    return email, password


def authenticate(email, password) -> User:
    """The user for these credentials; one message for unknown email and wrong password."""
    if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
        raise Unauthorized(_("Invalid email or password"))
    user = db.session.execute(select(User).where(func.lower(User.email) == email.strip().lower())).scalar_one_or_none()
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        raise Unauthorized(_("Invalid email or password"))
    if user is None or not user.is_active:
        raise Unauthorized(_("Invalid email or password"))
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_login_at = clock.now()
    return user


def issue_token(user: User) -> str:
    """A new login token for `user`, ending after API_TOKEN_DAYS; only its SHA-256 is stored."""
    raw, _ = _new_token(user, TokenKind.LOGIN,
                        expires_at=clock.now() + timedelta(days=current_app.config["API_TOKEN_DAYS"]))
    return raw


def _new_token(user: User, kind: TokenKind, *, name: str | None = None, expires_at=None) -> tuple[str, ApiToken]:
    raw = "evd_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, token_hash=_digest(raw), kind=kind, name=name, expires_at=expires_at,
                     created_at=clock.now())
    db.session.add(token)
    db.session.flush()
    return raw, token


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def user_for_token(raw: str) -> tuple[User, ApiToken] | None:
    """The user and token of a bearer token that is live: not revoked, not expired, and
    its user active. None otherwise (one 401 for all of them)."""
    if not raw or len(raw) > 200:
        return None
    token = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(raw), ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if token is None or (token.expires_at is not None and token.expires_at <= clock.now()):
        return None
    if not token.user.is_active:
        return None
    return token.user, token


def token_use_due(token: ApiToken) -> bool:
    """Whether this use of a service token should be written down (lastUsedAt, for the
    operator who rotates it); login tokens are not tracked."""
    if token.kind != TokenKind.SERVICE:
        return False
    return token.last_used_at is None or token.last_used_at <= clock.now() - TOKEN_USE_GRAIN


def note_token_use(token_id: str) -> None:
    """Stamp a service token's last use (at most once per TOKEN_USE_GRAIN)."""
    now = clock.now()
    db.session.execute(
        update(ApiToken).where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOKEN_USE_GRAIN),
        ).values(last_used_at=now).execution_options(synchronize_session=False)
    )
    db.session.flush()


def revoke_token(token: ApiToken) -> None:
    token.revoked_at = clock.now()
    db.session.flush()


def _revoke_tokens(user: User, *kinds: TokenKind) -> None:
    """End the user's live tokens of these kinds (all kinds when none is named), for good."""
    stmt = update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if kinds:
        stmt = stmt.where(ApiToken.kind.in_(kinds))
    db.session.execute(stmt.values(revoked_at=clock.now()).execution_options(synchronize_session="fetch"))
    db.session.flush()


def revoke_all_tokens(user: User) -> None:
    """DELETE /api/users/{id}/tokens: every token of the user ends, service tokens too
    (the admin's answer to "this account's tokens may be in the wrong hands")."""
    _revoke_tokens(user)


def end_sessions(user: User) -> None:
    """Logout / deactivation: every signed session cookie of this user stops working."""
    user.session_version = (user.session_version or 1) + 1
    db.session.flush()


def validate_password(f: Fields, password, *, email: str | None = None, field: str = "password") -> None:
    """The one password rule (new users, password changes, the CLI): 8 to 256 characters,
    and not the account's email."""
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        f.error(field, ngettext("At least %(num)d character.", "At least %(num)d characters.", PASSWORD_MIN))
    elif len(password) > PASSWORD_MAX:
        f.error(field, ngettext("At most %(num)d character.", "At most %(num)d characters.", PASSWORD_MAX))
    elif isinstance(email, str) and email and password.strip().lower() == email.strip().lower():
        f.error(field, _("The password must not be the email address of the account."))


def _check_password(user: User, password) -> bool:
    """Whether `password` is the user's current one."""
    if not isinstance(password, str) or not password or len(password) > PASSWORD_MAX:
        return False
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    return True


def _set_password(user: User, password: str) -> None:
    """A new password ends the user's sessions and login tokens. Service tokens stay:
    they belong to the systems an admin gave them to, not to the person's sign-in
    (docs/tokens.md); they end when revoked or when the user is deactivated."""
    user.password_hash = hash_password(password)
    _revoke_tokens(user, TokenKind.LOGIN)
    end_sessions(user)


def change_own_password(user: User, data: dict, *, new_token: bool) -> str | None:
    """`{currentPassword, newPassword}` from the user: a wrong current password is a
    WrongPassword (400, counted by the login throttle). Every earlier session and login
    token ends; with `new_token`, a fresh login token for the caller is returned (the
    page re-signs its own session instead)."""
    f = Fields(data)
    current = data.get("currentPassword")
    wrong = False
    if current is None or current == "":
        f.error("currentPassword", _("Enter your current password."))
    elif not _check_password(user, current):
        wrong = True
        f.error("currentPassword", _("This is not your current password."))
    validate_password(f, data.get("newPassword"), email=user.email, field="newPassword")
    if f.errors:
        error = WrongPassword if wrong else ValidationError
        raise error(_("Your password was not changed; please correct the highlighted fields."), f.errors)
    _set_password(user, data["newPassword"])
    return issue_token(user) if new_token else None


def set_password(user: User, data: dict, *, actor: User | None = None) -> None:
    """An admin (or the CLI, actor None) gives the user a new password `{newPassword}`;
    the user's sessions and login tokens end. Admins change their own password with
    the current one (POST /api/users/me/password), so a stolen admin token cannot."""
    if actor is not None and actor.id == user.id:
        raise Forbidden(_("Change your own password with your current password (POST /api/users/me/password)."))
    f = Fields(data)
    validate_password(f, data.get("newPassword"), email=user.email, field="newPassword")
    f.check(_("The password was not changed; please correct the highlighted fields."))
    _set_password(user, data["newPassword"])


def user_by_email(email: str) -> User:
    if not isinstance(email, str) or not email.strip():
        raise NotFound(_("No user has this email address"))
    user = db.session.execute(
        select(User).where(func.lower(User.email) == email.strip().lower())).scalar_one_or_none()
    if user is None:
        raise NotFound(_("No user has this email address"))
    return user


# --- service tokens -------------------------------------------------------------------

def create_service_token(user: User, data: dict) -> tuple[ApiToken, str]:
    """A named, non-expiring token for another system acting as `user`; the raw token is
    returned once and never stored."""
    f = Fields(data)
    name = f.text("name", required=True, max_len=100)
    f.check()
    if not user.is_active:
        raise Conflict(_("This user is deactivated; reactivate them before issuing a token."),
                       {"name": _("The user is deactivated.")})
    raw, token = _new_token(user, TokenKind.SERVICE, name=name)
    return token, raw


def service_tokens(user: User) -> list[ApiToken]:
    """The user's service tokens, newest first, revoked ones too (they say when)."""
    return list(db.session.execute(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.kind == TokenKind.SERVICE)
        .order_by(ApiToken.created_at.desc(), ApiToken.id)
    ).scalars())


def revoke_service_token(user: User, token_id: str) -> None:
    """End one service token of the user (again: no change). Any other id is a 404."""
    token = db.session.get(ApiToken, token_id) if isinstance(token_id, str) and len(token_id) <= 64 else None
    if token is None or token.user_id != user.id or token.kind != TokenKind.SERVICE:
        raise NotFound(_("Service token not found"))
    if token.revoked_at is None:
        revoke_token(token)


def create_user(data: dict) -> User:
    """Admin creates a user; technicians link to a Technician, store managers to branches."""
    f = Fields(data)
    email = f.text("email", required=True, max_len=254)
    name = f.text("name", max_len=200)
    role = f.choice("role", Role, required=True)
    phone = f.text("phone", max_len=50)
    technician_id = f.text("technicianId", max_len=64)
    validate_password(f, data.get("password"), email=data.get("email"))
    branch_ids = data.get("branchIds") or []
    if not isinstance(branch_ids, list) or not all(isinstance(b, str) for b in branch_ids):
        f.error("branchIds", _("Must be a list of branch ids."))
        branch_ids = []
    if email and not EMAIL_RE.match(email):
        f.error("email", _("Enter a valid email address."))
    if phone and not PHONE_RE.match(phone):
        f.error("phone", _("Enter a valid phone number."))
    # Refused rather than ignored: a link the caller asked for must not silently vanish.
    if technician_id and role not in (None, Role.TECHNICIAN):
        f.error("technicianId", _("Only technician users link to a technician."))
    if branch_ids and role not in (None, Role.STORE_MANAGER):
        f.error("branchIds", _("Only store managers are linked to branches."))
    f.check()
    technician = None
    if role == Role.TECHNICIAN:
        if not technician_id:
            raise ValidationError(_("A technician user needs a technician"), {"technicianId": _("Required for technicians.")})
        technician = db.session.get(Technician, technician_id)
        if technician is None:
            raise ValidationError(_("Unknown technician"), {"technicianId": _("Unknown technician.")})
        if db.session.execute(select(User.id).where(User.technician_id == technician.id)).first():
            raise Conflict(_("That technician already has a login"), {"technicianId": _("Already linked to a user.")})
    branches = []
    if role == Role.STORE_MANAGER:
        if not branch_ids:
            raise ValidationError(_("A store manager needs a branch"), {"branchIds": _("Choose at least one branch.")})
        branches = list(db.session.execute(select(CustomerBranch).where(CustomerBranch.id.in_(branch_ids))).scalars())
        if len(branches) != len(set(branch_ids)):
            raise ValidationError(_("Unknown branch"), {"branchIds": _("Unknown branch.")})
    if db.session.execute(select(User.id).where(func.lower(User.email) == email.lower())).first():
        raise Conflict(_("A user with this email exists"), {"email": _("Already in use.")})
    user = User(
        email=email.lower(),
        password_hash=hash_password(data["password"]),
        name=name or (technician.name if technician else email.split("@")[0]),
        role=role,
        phone=phone or (technician.phone if technician else None),
        technician_id=technician.id if technician else None,
        branches=branches,
    )
    db.session.add(user)
    db.session.flush()
    return user


def update_contact(user: User, data: dict, *, by_admin: bool = False, actor: User | None = None) -> User:
    """A user's own contact settings (admins may edit anyone's, plus name/role flags)."""
    f = Fields(data)
    allowed = {"name", "phone", "telegramChatId", "notifyTelegram", "notifySms", "locale"}
    if by_admin:
        allowed |= {"isActive"}
    unknown = sorted(set(data) - allowed)
    for k in unknown:
        f.error(k, _("This field cannot be changed here."))
    name = f.text("name", max_len=200)
    phone = f.text("phone", max_len=50)
    chat = data.get("telegramChatId")
    if isinstance(chat, str):
        chat = chat.strip()
    if chat in (None, ""):
        chat = None
    elif not by_admin:
        # Only the bot's /start deep link (which proves the chat) or an admin sets a chat:
        # a chat id typed in here could be anybody's, and its buttons would act as you.
        f.error("telegramChatId", _("Link Telegram from your profile page with the bot's link; "
                                    "here you can only clear it (send null)."))
    elif not (isinstance(chat, str) and CHAT_ID_RE.match(chat)):
        f.error("telegramChatId", _("A Telegram chat id is digits, possibly with a leading '-'."))
    if phone and not PHONE_RE.match(phone):
        f.error("phone", _("Enter a valid phone number."))
    notify_tg = f.boolean("notifyTelegram")
    notify_sms = f.boolean("notifySms")
    locale = data.get("locale")
    if locale is not None and i18n.valid_locale(locale) != locale:
        f.error("locale", _("Choose one of: %(languages)s.", languages=", ".join(i18n.LOCALES)))
    active = f.boolean("isActive") if by_admin else None
    if active is False and actor is not None and actor.id == user.id:
        # Nobody locks themselves out (the last admin would lock everyone out).
        f.error("isActive", _("You cannot deactivate your own account."))
    f.check()
    if chat is not None and chat != user.telegram_chat_id and db.session.execute(
        select(User.id).where(User.telegram_chat_id == chat, User.id != user.id)
    ).first():
        raise Conflict(_("This Telegram chat is linked to another user"),
                       {"telegramChatId": _("This chat is linked to another user; clear it there first.")})
    if "name" in data and name:
        user.name = name
    if "phone" in data:
        user.phone = phone
    if "telegramChatId" in data:
        user.telegram_chat_id = chat
    if "locale" in data:
        user.locale = locale
    if notify_tg is not None:
        user.notify_telegram = notify_tg
    if notify_sms is not None:
        user.notify_sms = notify_sms
    if active is not None and active != user.is_active_user:
        user.is_active_user = active
        if not active:
            # For good: reactivation brings back neither the sessions nor the tokens.
            end_sessions(user)
            _revoke_tokens(user)
    db.session.flush()
    return user


def get_user(user_id: str) -> User:
    user = db.session.get(User, user_id) if isinstance(user_id, str) and len(user_id) <= 64 else None
    if user is None:
        raise NotFound(_("User not found"))
    return user


def user_page(actor, limit: int, cursor: dict | None) -> tuple[list[User], dict | None]:
    """Admins list every user, ordered by email, keyset-paginated on it."""
    from app.services import access

    access.require_admin(actor)
    stmt = select(User).options(selectinload(User.branches)).order_by(User.email).limit(limit + 1)
    if cursor:
        after = cursor.get("email")
        if not isinstance(after, str):
            raise ValidationError(_("Invalid cursor"), {"cursor": _("Invalid cursor.")})
        stmt = stmt.where(User.email > after)
    rows = list(db.session.execute(stmt).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, ({"email": rows[-1].email} if more else None)
