"""Display of times in APP_TIMEZONE (storage and the API stay in UTC)."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def app_zone() -> ZoneInfo:
    name = current_app.config.get("APP_TIMEZONE", "UTC") if has_app_context() else "UTC"
    return ZoneInfo(name)


def to_local(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.astimezone(app_zone())


def local_str(dt: datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    if dt is None:
        return "—"
    return to_local(dt).strftime(fmt)


def iso_utc(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
