"""The signed session cookie, as Flask makes it, at less cost per request.

Two things every signed-in request paid for without need:

- Flask builds a new signing serializer (key derivation set-up included) twice per
  request; here it is built once per secret key (and its fallbacks) and reused.
- A permanent session (ours: `PERMANENT_SESSION_LIFETIME`, the idle limit) is signed
  again and sent back on every response, to move its expiry forward. A dispatcher's
  board polls every 2.5 s, so nearly all of that re-signing moved the expiry by
  seconds. Here a session that did not change is sent again only once its cookie is
  `SESSION_REFRESH_SECONDS` old (default 60; 0 = every response, Flask's way), so the
  idle limit still counts from the last request, give or take that much.
"""
from __future__ import annotations

import time

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature


class SessionInterface(SecureCookieSessionInterface):
    def __init__(self):
        self._serializer = None
        self._serializer_keys = None

    def get_signing_serializer(self, app):
        if not app.secret_key:
            return None
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if keys != self._serializer_keys:
            self._serializer = super().get_signing_serializer(app)
            self._serializer_keys = keys
        return self._serializer

    def open_session(self, app, request):
        s = self.get_signing_serializer(app)
        if s is None:
            return None
        if "HTTP_COOKIE" not in request.environ:  # no cookies at all: nothing to parse
            return self.session_class()
        val = request.cookies.get(self.get_cookie_name(app))
        if not val:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = s.loads(val, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = signed_at.timestamp()
        return session

    def save_session(self, app, session, response):
        # Most requests (health checks, static files, signed-out pages, the API with a
        # bearer token) carry no session and change none: Flask would still look up
        # seven cookie settings before finding nothing to do. Same outcome, sooner.
        if not session and not session.modified:
            if session.accessed:
                _vary_on_cookie(response)
            return
        super().save_session(app, session, response)

    def should_set_cookie(self, app, session) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = getattr(session, "signed_at", None)
        every = float(app.config.get("SESSION_REFRESH_SECONDS", 60) or 0)
        return signed_at is None or time.time() - signed_at >= every


def _vary_on_cookie(response) -> None:
    """`Vary: Cookie`, as Flask adds it, without parsing a header that is not there."""
    vary = response.headers.get("Vary")
    if not vary:
        response.headers["Vary"] = "Cookie"
    elif "cookie" not in vary.lower():
        response.vary.add("Cookie")
