"""flask sla escalate [--now ISO-8601]: one escalation sweep, a JSON summary."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import click
from flask.cli import AppGroup

from app.extensions import db


def _parse_now(value: str | None) -> datetime | None:
    """ISO-8601 (`Z` or an offset; no offset means UTC)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("Use ISO-8601, e.g. 2026-11-24T09:30:00Z", param_hint="--now")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def register_sla_cli(app) -> None:
    sla_group = AppGroup("sla", help="SLA escalation.")

    @sla_group.command("escalate")
    @click.option("--now", "now_iso", default=None, metavar="ISO-8601",
                  help="Sweep as if it were this time (default: now).")
    def escalate_command(now_iso):
        """Run one escalation sweep and print {escalatedCount, escalated, alerts}."""
        from app.services import sla

        now = _parse_now(now_iso)
        try:
            result = sla.escalate_overdue(now)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        click.echo(json.dumps(result.summary()))

    app.cli.add_command(sla_group)
