"""Outbound channels (Telegram Bot API, the SMS gateway) over plain HTTP.

Each channel turns one delivery into one HTTP request and classifies the answer:
sent, a transient failure (retry later, perhaps after `retry_after` seconds), or a
permanent failure (do not retry; dispatchers see it). A transient failure after the
request went out (the answer timed out, the connection dropped mid-answer) is
`uncertain`: the channel may have delivered the message. No database access here.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import requests
from flask import current_app, has_app_context
from urllib3.exceptions import NewConnectionError

# (connect, read) seconds when the app sets none (CHANNEL_CONNECT_TIMEOUT, CHANNEL_READ_TIMEOUT).
HTTP_TIMEOUT = (3.0, 10.0)
# Whatever is configured, connect + read stay well inside the delivery lease (90 s), so a
# claim never runs out while its request is still waiting.
MAX_CONNECT, MAX_READ = 10.0, 60.0
_local = threading.local()


def timeouts() -> tuple[float, float]:
    """(connect, read) seconds for one request to a channel, from the app's settings.

    Connecting is quick or not at all (3 s). The read timeout bounds how long one worker
    waits for an answer and must stay well inside the delivery lease (90 s); a read that
    times out leaves us unsure whether the message arrived, so it is not made short
    either: Telegram and SMS gateways answer in well under a second when healthy."""
    if not has_app_context():
        return HTTP_TIMEOUT
    cfg = current_app.config
    connect = float(cfg.get("CHANNEL_CONNECT_TIMEOUT") or HTTP_TIMEOUT[0])
    read = float(cfg.get("CHANNEL_READ_TIMEOUT") or HTTP_TIMEOUT[1])
    return min(connect, MAX_CONNECT), min(read, MAX_READ)


def not_sent(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached the channel: the connection could
    not be made (refused, unresolved, connect timeout) or the request could not be built.
    A read timeout or a connection dropped after sending is not such a case."""
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError, requests.exceptions.ProxyError)):
        return True  # no connection, no TLS session: nothing was sent
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
        return isinstance(reason, NewConnectionError)
    return not isinstance(exc, (requests.Timeout, requests.exceptions.ChunkedEncodingError,
                                requests.exceptions.ContentDecodingError))


def http() -> requests.Session:
    """One requests.Session per worker thread: connections to Telegram are kept alive."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


@dataclass(frozen=True)
class SendResult:
    ok: bool
    external_id: str | None = None
    error: str | None = None
    permanent: bool = False
    retry_after: float | None = None  # seconds the channel asked us to wait (429)
    uncertain: bool = False  # the request went out but no answer came back: it may have arrived

    @classmethod
    def sent(cls, external_id: str | None = None) -> "SendResult":
        return cls(True, external_id=external_id)

    @classmethod
    def transient(cls, error: str, retry_after: float | None = None, uncertain: bool = False) -> "SendResult":
        return cls(False, error=error, retry_after=retry_after, uncertain=uncertain)

    @classmethod
    def from_exception(cls, channel: str, exc: requests.RequestException) -> "SendResult":
        """A request that raised: certainly not sent (could not connect), or sent with no
        answer (read timeout, dropped connection), which may have been delivered."""
        if not_sent(exc):
            if isinstance(exc, requests.Timeout):
                return cls.transient(f"{channel} is unreachable (the connection timed out)")
            return cls.transient(f"{channel} is unreachable ({type(exc).__name__})")
        if isinstance(exc, requests.Timeout):
            return cls.transient(f"{channel} did not answer in time", uncertain=True)
        return cls.transient(f"{channel} dropped the connection before answering ({type(exc).__name__})",
                             uncertain=True)

    @classmethod
    def failed(cls, error: str) -> "SendResult":
        return cls(False, error=error, permanent=True)


def parse_retry_after(value) -> float | None:
    """Seconds from a Retry-After header or a `retry_after` field (HTTP-dates are ignored)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if seconds < 0 or seconds != seconds:  # negative or NaN
        return None
    return min(seconds, 24 * 3600.0)
