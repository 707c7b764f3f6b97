"""Weeks and months follow the wall clock of APP_TIMEZONE, DST included."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from app.services import analytics
from app.services.analytics import Filters


@pytest.fixture
def berlin(app, monkeypatch):
    # Summer time (UTC+2) ends on Sunday 25 October 2026 at 01:00Z; then UTC+1.
    monkeypatch.setitem(app.config, "APP_TIMEZONE", "Europe/Berlin")


def test_month_boundary_in_summer_time(world, story, berlin):
    story.approved_ticket("2026-09-30T08:00:00Z", "2026-09-30T21:30:00Z", hours="1")  # 23:30 on 30 Sep
    story.approved_ticket("2026-09-30T09:00:00Z", "2026-09-30T22:30:00Z", hours="2")  # 00:30 on 1 Oct
    rng = analytics.date_range(date(2026, 9, 1), date(2026, 10, 31))
    months = analytics.cost_report(rng, Filters(), ("month",))["month"]
    assert [(m["key"], m["tickets"], m["laborCost"]) for m in months] == [
        ("2026-09", 1, Decimal("45.00")), ("2026-10", 1, Decimal("90.00"))]


def test_week_boundary_after_the_clocks_go_back(world, story, berlin):
    story.create("2026-10-25T22:30:00Z")  # Sunday 23:30 CET: the week of 19 October
    story.create("2026-10-25T23:30:00Z")  # Monday 00:30 CET: the week of 26 October
    rng = analytics.date_range(date(2026, 10, 19), date(2026, 11, 1))
    assert rng.start == datetime(2026, 10, 18, 22, 0, tzinfo=timezone.utc)  # CEST midnight
    assert rng.end == datetime(2026, 11, 1, 23, 0, tzinfo=timezone.utc)  # CET midnight
    weeks = analytics.sla_report(rng, Filters(), ("week",))["week"]
    assert [(w["key"], w["tickets"]) for w in weeks] == [("2026-10-19", 1), ("2026-10-26", 1)]


def test_presets_end_today_in_local_time(app, ctx, freeze, monkeypatch):
    monkeypatch.setitem(app.config, "APP_TIMEZONE", "Asia/Tashkent")
    freeze("2026-11-11T20:00:00Z")  # Thursday 12 Nov, 01:00 in Tashkent
    today = analytics.local_today()
    assert today == date(2026, 11, 12)
    assert analytics.preset_days("week", today) == (date(2026, 11, 9), today)
    assert analytics.preset_days("30d", today) == (date(2026, 10, 14), today)
    assert analytics.preset_days("quarter", today) == (date(2026, 10, 1), today)
