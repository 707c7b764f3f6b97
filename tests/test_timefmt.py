"""How people read times, amounts and durations (app/services/timefmt.py)."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from app import create_app
from app.config import TestConfig
from app.services import timefmt

UTC = timezone.utc


@pytest.fixture
def zone(app, ctx):
    """zone("Asia/Tashkent"): APP_TIMEZONE for one test."""
    old = app.config["APP_TIMEZONE"]

    def _set(name):
        app.config["APP_TIMEZONE"] = name

    yield _set
    app.config["APP_TIMEZONE"] = old


@pytest.mark.sqlite_only
def test_one_24_hour_style_in_the_app_zone_with_the_zone_where_asked(zone, freeze):
    freeze("2026-12-07T09:25:00Z")
    zone("Asia/Tashkent")
    due = datetime(2026, 12, 7, 9, 25, tzinfo=UTC)
    assert timefmt.local_str(due) == "7 Dec 14:25"  # this year's: no year
    assert timefmt.zoned(due) == "7 Dec 14:25 UTC+5"
    assert timefmt.local_str(datetime(2025, 6, 1, 20, 0, tzinfo=UTC)) == "2 Jun 2025 01:00"  # another year's
    assert timefmt.local_str(due, "full") == "7 Dec 2026 14:25"
    assert timefmt.local_str(datetime(2026, 12, 7, 18, 5, tzinfo=UTC), "time") == "23:05"  # never "11:05 PM"
    assert timefmt.local_str(None) == "—"
    zone("America/New_York")
    assert timefmt.zoned(due) == "7 Dec 04:25 UTC-5"
    zone("Asia/Kolkata")
    assert timefmt.zoned(due) == "7 Dec 14:55 UTC+5:30"
    zone("UTC")
    assert timefmt.zoned(due) == "7 Dec 09:25 UTC"


@pytest.mark.sqlite_only
def test_older_strftime_formats_still_give_the_one_style(zone, freeze):
    freeze("2026-12-07T09:25:00Z")
    zone("Asia/Tashkent")
    due = datetime(2026, 12, 7, 9, 5, tzinfo=UTC)
    assert timefmt.local_str(due, "%d %b %H:%M") == "7 Dec 14:05"
    assert timefmt.local_str(due, "%H:%M") == "14:05"


@pytest.mark.sqlite_only
def test_amounts_carry_the_currency(app, ctx):
    assert timefmt.money(Decimal("1234.5")) == "$1,234.50"
    assert timefmt.money(None) == "—"
    app.config["CURRENCY"] = "UZS"
    try:
        assert timefmt.money(Decimal("150000")) == "UZS\xa0150,000.00"
        assert timefmt.money_header("Total") == "Total (UZS)"
    finally:
        app.config["CURRENCY"] = "USD"


def test_durations_in_words():
    assert [timefmt.duration(m) for m in (45, 60, 90, 240, 1440, 2160, 2880, 4320, 0)] == [
        "45 min", "1 h", "1 h 30 min", "4 h", "1 day", "1 day 12 h", "2 days", "3 days", "0 min"]


def test_ago_and_until_step_from_now_to_minutes_hours_and_days_at_the_same_places():
    spans = (-5, 59, 60, 3599, 3600, 86399, 86400, 2 * 86400)
    assert [timefmt.ago(s) for s in spans] == [
        "just now", "just now", "1 min ago", "59 min ago", "1 h ago", "23 h ago", "1 day ago", "2 days ago"]
    assert [timefmt.until(s) for s in spans] == [
        "now", "now", "in 1 min", "in 59 min", "in 1 h", "in 23 h", "in 1 day", "in 2 days"]


@pytest.mark.parametrize("code", ["XYZ", "dollars", "US", "12"])
def test_an_unknown_currency_stops_the_app_with_a_clear_message(code):
    with pytest.raises(ValueError, match="is not an ISO 4217 currency code"):
        create_app({**_config(), "CURRENCY": code})


def test_a_lower_case_code_is_read_as_the_currency():
    assert create_app({**_config(), "CURRENCY": "eur"}).config["CURRENCY"] == "EUR"


def test_an_unknown_time_zone_stops_the_app_with_a_clear_message():
    with pytest.raises(ValueError, match="is not a time zone name"):
        create_app({**_config(), "APP_TIMEZONE": "Mars/Olympus"})


def _config() -> dict:
    return {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()} | {
        "SQLALCHEMY_DATABASE_URI": "sqlite://"}


def test_make_run_shows_the_demo_in_tashkent_time_and_the_tests_keep_utc():
    """`make run` exports APP_TIMEZONE=Asia/Tashkent (the demo's branches are there)
    unless the environment names a zone; `make test` and the app's default stay UTC."""
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k not in ("APP_TIMEZONE", "MAKEFLAGS", "MAKELEVEL")}

    def settings(target, **extra):
        out = subprocess.run(["make", "-n", "-p", "-o", ".venv/.installed", target], cwd=root, env={**env, **extra},
                             capture_output=True, text=True, timeout=60).stdout
        return {line.split(":", 1)[0] for line in out.splitlines() if ": APP_TIMEZONE := " in line}, out

    targets, out = settings("run")
    assert {"run", "seed", "web", "worker"} <= targets and "run: APP_TIMEZONE := Asia/Tashkent" in out
    assert "test" not in targets
    _, out = settings("run", APP_TIMEZONE="Europe/Berlin")
    assert "run: APP_TIMEZONE := Europe/Berlin" in out


def test_one_rule_for_a_countdown_on_the_board_and_on_the_phone():
    """The board's compact chips and the phone's words come from one function (issue 14)."""
    from app.services import board_lists, tech_workspace
    from app.services.timefmt import span

    cases = {45: ("0 min", "45s"), 725: ("12 min", "12m"), 11100: ("3 h 05 min", "3h 05m"),
             187200: ("2 d 4 h", "2d 4h")}
    for seconds, (words, compact) in cases.items():
        assert span(seconds) == tech_workspace.duration_text(seconds) == words
        assert span(seconds, compact=True) == board_lists.humanize(seconds) == compact
    assert board_lists.humanize(-725) == "12m" and tech_workspace.duration_text(-725) == "0 min"
