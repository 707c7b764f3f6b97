"""Users, passwords, sessions and API tokens."""
from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import ApiToken, CustomerBranch, Role, Technician, User
from app.services import clock
from app.services.errors import Conflict, NotFound, Unauthorized, ValidationError
from app.services.validation import Fields

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CHAT_ID_RE = re.compile(r"^-?\d{1,20}$")
PHONE_RE = re.compile(r"^\+?[0-9 ()-]{5,30}$")


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
        f.error("password", "This field is required.")
    elif not isinstance(password, str):
        f.error("password", "Must be text.")
    elif len(password) > 256:
        f.error("password", "At most 256 characters.")
    f.check("Send an email and a password")
    return email, password


def authenticate(email, password) -> User:
    """The user for these credentials; one message for unknown email and wrong password."""
    if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
        raise Unauthorized("Invalid email or password")
    user = db.session.execute(select(User).where(func.lower(User.email) == email.strip().lower())).scalar_one_or_none()
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        raise Unauthorized("Invalid email or password")
    if user is None or not user.is_active:
        raise Unauthorized("Invalid email or password")
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_login_at = clock.now()
    return user


def issue_token(user: User) -> str:
    """A new bearer token; only its SHA-256 is stored."""
    raw = "evd_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=_digest(raw)))
    db.session.flush()
    return raw


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def user_for_token(raw: str) -> tuple[User, ApiToken] | None:
    if not raw or len(raw) > 200:
        return None
    token = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(raw), ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if token is None or not token.user.is_active:
        return None
    return token.user, token


def revoke_token(token: ApiToken) -> None:
    token.revoked_at = clock.now()
    db.session.flush()


def end_sessions(user: User) -> None:
    """Logout / deactivation: every signed session cookie of this user stops working."""
    user.session_version = (user.session_version or 1) + 1
    db.session.flush()


def _validate_password(f: Fields, password) -> None:
    if not isinstance(password, str) or len(password) < 8:
        f.error("password", "At least 8 characters.")
    elif len(password) > 256:
        f.error("password", "At most 256 characters.")


def create_user(data: dict) -> User:
    """Admin creates a user; technicians link to a Technician, store managers to branches."""
    f = Fields(data)
    email = f.text("email", required=True, max_len=254)
    name = f.text("name", max_len=200)
    role = f.choice("role", Role, required=True)
    phone = f.text("phone", max_len=50)
    technician_id = f.text("technicianId", max_len=64)
    _validate_password(f, data.get("password"))
    branch_ids = data.get("branchIds") or []
    if not isinstance(branch_ids, list) or not all(isinstance(b, str) for b in branch_ids):
        f.error("branchIds", "Must be a list of branch ids.")
        branch_ids = []
    if email and not EMAIL_RE.match(email):
        f.error("email", "Enter a valid email address.")
    if phone and not PHONE_RE.match(phone):
        f.error("phone", "Enter a valid phone number.")
    # Refused rather than ignored: a link the caller asked for must not silently vanish.
    if technician_id and role not in (None, Role.TECHNICIAN):
        f.error("technicianId", "Only technician users link to a technician.")
    if branch_ids and role not in (None, Role.STORE_MANAGER):
        f.error("branchIds", "Only store managers are linked to branches.")
    f.check()
    technician = None
    if role == Role.TECHNICIAN:
        if not technician_id:
            raise ValidationError("A technician user needs a technician", {"technicianId": "Required for technicians."})
        technician = db.session.get(Technician, technician_id)
        if technician is None:
            raise ValidationError("Unknown technician", {"technicianId": "Unknown technician."})
        if db.session.execute(select(User.id).where(User.technician_id == technician.id)).first():
            raise Conflict("That technician already has a login", {"technicianId": "Already linked to a user."})
    branches = []
    if role == Role.STORE_MANAGER:
        if not branch_ids:
            raise ValidationError("A store manager needs a branch", {"branchIds": "Choose at least one branch."})
        branches = list(db.session.execute(select(CustomerBranch).where(CustomerBranch.id.in_(branch_ids))).scalars())
        if len(branches) != len(set(branch_ids)):
            raise ValidationError("Unknown branch", {"branchIds": "Unknown branch."})
    if db.session.execute(select(User.id).where(func.lower(User.email) == email.lower())).first():
        raise Conflict("A user with this email exists", {"email": "Already in use."})
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
    allowed = {"name", "phone", "telegramChatId", "notifyTelegram", "notifySms"}
    if by_admin:
        allowed |= {"isActive"}
    unknown = sorted(set(data) - allowed)
    for k in unknown:
        f.error(k, "This field cannot be changed here.")
    name = f.text("name", max_len=200)
    phone = f.text("phone", max_len=50)
    chat = data.get("telegramChatId")
    if isinstance(chat, str):
        chat = chat.strip()
    if chat not in (None, "") and not (isinstance(chat, str) and CHAT_ID_RE.match(chat)):
        f.error("telegramChatId", "A Telegram chat id is digits, possibly with a leading '-'.")
    if phone and not PHONE_RE.match(phone):
        f.error("phone", "Enter a valid phone number.")
    notify_tg = f.boolean("notifyTelegram")
    notify_sms = f.boolean("notifySms")
    active = f.boolean("isActive") if by_admin else None
    if active is False and actor is not None and actor.id == user.id:
        # Nobody locks themselves out (the last admin would lock everyone out).
        f.error("isActive", "You cannot deactivate your own account.")
    f.check()
    if "name" in data and name:
        user.name = name
    if "phone" in data:
        user.phone = phone
    if "telegramChatId" in data:
        user.telegram_chat_id = chat or None
    if notify_tg is not None:
        user.notify_telegram = notify_tg
    if notify_sms is not None:
        user.notify_sms = notify_sms
    if active is not None and active != user.is_active_user:
        user.is_active_user = active
        if not active:
            end_sessions(user)
    db.session.flush()
    return user


def get_user(user_id: str) -> User:
    user = db.session.get(User, user_id) if isinstance(user_id, str) and len(user_id) <= 64 else None
    if user is None:
        raise NotFound("User not found")
    return user


def user_page(actor, limit: int, cursor: dict | None) -> tuple[list[User], dict | None]:
    """Admins list every user, ordered by email, keyset-paginated on it."""
    from app.services import access

    access.require_admin(actor)
    stmt = select(User).options(selectinload(User.branches)).order_by(User.email).limit(limit + 1)
    if cursor:
        after = cursor.get("email")
        if not isinstance(after, str):
            raise ValidationError("Invalid cursor", {"cursor": "Invalid cursor."})
        stmt = stmt.where(User.email > after)
    rows = list(db.session.execute(stmt).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, ({"email": rows[-1].email} if more else None)
