"""Liveness and readiness for load balancers and orchestrators.

/healthz: the process answers (no I/O) — the ceiling for load tests.
/readyz: the database answers a query and the task queue is reachable; 503 otherwise.
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.db_timeouts import answer_limit
from app.extensions import csrf, db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


_OK = b'{"status":"ok"}\n'


@bp.get("/healthz")
def healthz():
    return current_app.response_class(_OK, mimetype="application/json")


@bp.get("/readyz")
def readyz():
    checks = {}
    ok = True
    try:
        # A frozen database must not freeze the probe: it waits DB_READY_TIMEOUT at most.
        with answer_limit(float(current_app.config.get("DB_READY_TIMEOUT") or 2)):
            db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, don't raise: this page exists to say what is down
        log.warning("readiness: database: %s", exc)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001  (the connection is already gone)
            pass
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
