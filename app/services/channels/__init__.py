"""Outbound channels (Telegram Bot API, the SMS gateway) over plain HTTP.

Each channel turns one delivery into one HTTP request and classifies the answer:
sent, a transient failure (retry later, perhaps after `retry_after` seconds), or a
permanent failure (do not retry; dispatchers see it). No database access here.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import requests

# (connect, read) seconds: well inside the delivery lease.
HTTP_TIMEOUT = (5, 15)
_local = threading.local()


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

    @classmethod
    def sent(cls, external_id: str | None = None) -> "SendResult":
        return cls(True, external_id=external_id)

    @classmethod
    def transient(cls, error: str, retry_after: float | None = None) -> "SendResult":
        return cls(False, error=error, retry_after=retry_after)

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
