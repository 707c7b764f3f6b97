"""This checkout's app in the bench's own process, called straight through WSGI (no
sockets, no test client per request): bench/board_cpu.py and request_floor.py --profile.

Import it after the bench has set its environment (INSTANCE_DIR, HUEY_SQLITE_PATH): it
imports the app only when `start` is called."""
from __future__ import annotations

import logging
import os
import re

CSRF = (re.compile(r'name="csrf_token"[^>]*value="([^"]+)"'), re.compile(r'value="([^"]+)"[^>]*name="csrf_token"'))


def csrf_of(page: str) -> str:
    """The CSRF token of a page's form ("" when it has none)."""
    for pattern in CSRF:
        found = pattern.search(page)
        if found:
            return found.group(1)
    return ""


def start(database_url: str, secret: str, log_path: str, config: dict | None = None, now=None):
    """The app on `database_url` as production runs it, its JSON access log written to
    `log_path` (as a server writes it to a file, not to the terminal); `now` freezes the
    clock first. The environment is set before the app is first imported (its Config
    reads SECRET_KEY when imported)."""
    os.environ.update({"DATABASE_URL": database_url, "SECRET_KEY": secret})
    from app import clock, create_app

    if now is not None:
        clock.set_now(now)
    app = create_app(config)
    log_file = open(log_path, "w")
    for handler in logging.getLogger().handlers:
        handler.stream = log_file
    return app


def sign_in(app, email: str, password: str):
    """A test client signed in through the login form; with its Cookie header value."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    resp = client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_of(page)})
    assert resp.status_code == 302, (resp.status_code, resp.get_data(as_text=True)[:2000])
    return client, "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())


def call(app, environ: dict) -> tuple[str, list[bytes]]:
    """One request through the WSGI app: its status line and body chunks."""
    status: list[str] = []
    body = app(dict(environ), lambda s, h, e=None: status.append(s))
    chunks = list(body)
    getattr(body, "close", lambda: None)()
    return status[0], chunks
