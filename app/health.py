"""Liveness and readiness for load balancers and orchestrators.

/healthz: the process answers (no I/O) — the ceiling for load tests.
/readyz: the database answers a query and the task queue is reachable; 503 otherwise.
"""
from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.extensions import csrf, db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    checks = {}
    ok = True
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, don't raise: this page exists to say what is down
        log.warning("readiness: database: %s", exc)
        db.session.rollback()
        checks["database"] = "unavailable"
        ok = False
    try:
        from app.tasks import huey

        huey.storage.queue_size()
        checks["queue"] = "ok"
    except Exception as exc:
        log.warning("readiness: queue: %s", exc)
        checks["queue"] = "unavailable"
        ok = False
    return jsonify({"status": "ok" if ok else "unavailable", "checks": checks}), (200 if ok else 503)


csrf.exempt(bp)
