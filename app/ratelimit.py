"""Login throttling: failures count per account and per address (Flask-Limiter).

The sign-in page and POST /api/auth/token share the same counters (shared scopes),
so alternating between them gains an attacker nothing. Only failures count: per
account a wrong password (401, or a wrong current password on a password change, which
is just as good a guess); per address also every refused attempt (a malformed or
incomplete body, a bad form post: any 4xx but the 429 itself), so garbage sent to the
login endpoints is throttled like guessing is. Once a limit is reached every attempt
answers 429 until its window passes.
"""
from flask import current_app, g, request

from app.extensions import limiter


def login_account_key() -> str:
    email = ""
    if request.is_json:
        body = request.get_json(silent=True) or {}
        email = body.get("email") if isinstance(body, dict) else ""
    else:
        email = request.form.get("email", "")
    if not isinstance(email, str):
        email = ""
    return "login-account:" + email.strip().lower()[:254]


def signed_in_account_key() -> str:
    """The account of the signed-in caller (bearer token or session): a password change
    guesses that account's password, so it counts where its sign-ins count."""
    if request.blueprint == "api":
        user = g.get("api_user")  # set by the API's bearer check for this request
    else:
        from flask_login import current_user

        user = current_user if current_user.is_authenticated else None
    email = user.email if user is not None else ""
    return "login-account:" + email.strip().lower()[:254]


def password_guess_failed() -> None:
    """Tell the throttle that this request guessed a password wrong (a 400, not a 401)."""
    request.password_guess_failed = True


def login_failed(response) -> bool:
    """A wrong email or password: counts against the account named."""
    return response.status_code == 401 or bool(getattr(request, "password_guess_failed", False))


def login_refused(response) -> bool:
    """Any refused attempt (wrong credentials, malformed or incomplete input): counts
    against the address it came from."""
    return 400 <= response.status_code < 500 and response.status_code != 429


def login_limits(methods=None, key_func=login_account_key):
    """Decorator for every endpoint that checks a password: 10 failures per account in
    15 minutes, 30 refused attempts a minute per address (see Config.LOGIN_FAILS_PER_*).
    `key_func` names the account (the email in the form or body; signed_in_account_key
    for the caller's own)."""
    per_address = limiter.shared_limit(lambda: current_app.config["LOGIN_FAILS_PER_ADDRESS"], "login-address",
                                       methods=methods, deduct_when=login_refused)
    per_account = limiter.shared_limit(lambda: current_app.config["LOGIN_FAILS_PER_ACCOUNT"], "login-account",
                                       key_func=key_func, methods=methods, deduct_when=login_failed)

    def decorate(view):
        return per_address(per_account(view))

    return decorate
