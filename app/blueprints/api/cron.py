"""API: cron. The contract (API.md, "SLA and escalation"): "`GET /api/cron/escalate-tickets`
with `Authorization: Bearer $CRON_SECRET` runs one sweep → `{success, escalatedCount,
escalated}`; 401 when the secret is wrong or unset on the server."

`GET /api/cron/escalate-tickets` runs one SLA sweep for an external scheduler. The
bearer secret is compared in constant time, and nobody gets in while CRON_SECRET is
unset or empty (the plan let `Bearer undefined` through).
"""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app, g, request
from flask_babel import gettext as _

from app.blueprints.api import bp
from app.services import sla
from app.services.errors import Unauthorized


def _require_cron_secret() -> None:
    secret = current_app.config.get("CRON_SECRET") or ""
    scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
    # Digests first, so neither the content nor the length of the secret leaks by timing.
    ok = hmac.compare_digest(hashlib.sha256(given.strip().encode()).digest(),
                             hashlib.sha256(secret.encode()).digest())
    if not secret or scheme.lower() != "bearer" or not ok:
        raise Unauthorized(_("A valid cron secret is required"))


@bp.get("/cron/escalate-tickets", endpoint="cron_escalate")
def cron_escalate():
    """Run one escalation sweep → {success, escalatedCount, escalated}."""
    _require_cron_secret()
    g.sqlite_immediate = True  # a GET that writes: take SQLite's write lock at BEGIN
    result = sla.escalate_overdue()
    return {"success": True, "escalatedCount": len(result.escalated), "escalated": result.escalated}
