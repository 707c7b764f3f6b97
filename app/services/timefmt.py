"""What pages show of times and money: times in APP_TIMEZONE (storage and the API stay
in UTC), amounts with two decimals and thousands separators (the `money` filter)."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
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


def money(value: Decimal | None) -> str:
    """An amount as every page and the service report show it: "1,234.50"; "—" for none."""
    return "—" if value is None else f"{value:,.2f}"
