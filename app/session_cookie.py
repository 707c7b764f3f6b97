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
- Every request with a session cookie verified its signature (HMAC over a derived key),
  base64- and JSON-decoded it: ~0.1 ms, two thirds of a bare request (`/healthz`, the
  board's idle poll). A cookie is the same string until it is signed again, so the
  outcome of checking it is remembered per cookie string (`_DECODED`, bounded):
  the same data, the same signing time, the same expiry check against the clock. Only
  sessions of plain values are remembered (a list in the session, such as flashed
  messages, is changed in place by Flask and must not be shared between requests).
"""
from __future__ import annotations

import threading
import time

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature


_now = time.time  # (tests move it)
_PLAIN = (str, int, float, bool, type(None))
_DECODED_MAX = 2048  # cookies remembered per process (a few KB each at most)


class SessionInterface(SecureCookieSessionInterface):
    def __init__(self):
        self._serializer = None
        self._serializer_keys = None
        self._decoded: dict[str, tuple[dict, float]] = {}  # cookie string -> (data, signed at)
        self._lock = threading.Lock()

    def get_signing_serializer(self, app):
        if not app.secret_key:
            return None
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if keys != self._serializer_keys:
            self._serializer = super().get_signing_serializer(app)
            self._serializer_keys = keys
            self._decoded = {}  # checked with other keys: check again
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
        known = self._decoded.get(val)
        if known is not None:
            data, signed_at = known
            if _now() - signed_at > max_age:  # expired since: as itsdangerous would say
                return self.session_class()
        else:
            try:
                data, stamp = s.loads(val, max_age=max_age, return_timestamp=True)
            except BadSignature:
                return self.session_class()
            signed_at = stamp.timestamp()
            if isinstance(data, dict) and all(isinstance(v, _PLAIN) for v in data.values()):
                with self._lock:
                    if len(self._decoded) >= _DECODED_MAX:
                        self._decoded.clear()
                    self._decoded[val] = (data, signed_at)
        session = self.session_class(data)  # a copy: the remembered data stays as checked
        session.signed_at = signed_at
        return session

    def save_session(self, app, session, response):
        # Most requests send no cookie back: no session, or one that did not change and
        # is not due to be re-signed (a board poll, a health check with the cookie). Flask
        # would still look up seven cookie settings before finding nothing to do; the
        # same outcome (`Vary: Cookie` when the session was read), sooner.
        if not session.modified and not self.should_set_cookie(app, session):
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
