"""Login throttling: failures count per account and per address (Flask-Limiter)."""
from flask import request


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


def login_failed(response) -> bool:
    return response.status_code == 401
