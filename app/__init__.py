"""Evercold Service Desk: the application factory."""
from __future__ import annotations

import logging
import os
import re
import time
import uuid

from flask import Flask, g, request

from app.config import Config
from app.extensions import csrf, db, limiter, login_manager, migrate


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def create_app(config: type | dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=_instance_dir())
    from app.json_input import SafeJSONProvider, SafeRequest

    app.json = SafeJSONProvider(app)  # every request's JSON parsed by one guarded loader
    app.request_class = SafeRequest
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    if app.config.get("PREFERRED_URL_SCHEME") == "https":  # cookies only ever over HTTPS
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True
    os.makedirs(app.instance_path, exist_ok=True)

    _configure_engine(app)
    db.init_app(app)
    _guard_engine(app)
    from app import transaction

    transaction.init_app(app)  # the one after-commit / after-rollback hook
    from app.services import board_version

    board_version.init_app(app)  # the board's change counters, bumped by every writer
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
                     render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    limiter.init_app(app)

    from app import models  # noqa: F401  (one metadata for Alembic)
    from app.sqlite import install_sqlite_pragmas

    install_sqlite_pragmas(app)

    from app.blueprints.api import bp as api_bp
    from app.blueprints.auth import bp as auth_bp
    from app.web import register_web

    from app.health import bp as health_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(api_bp, url_prefix="/api")
    csrf.exempt(api_bp)
    register_web(app)

    from app.errors import register_error_handlers
    from app.edge import register_edge

    register_error_handlers(app)
    # after_request functions run last-registered first: the request log is registered
    # before the commit hook so that it runs after it, and logs (and stamps with the
    # request id) the response the commit may have turned into a 409 or a 503.
    _request_logging(app)
    register_edge(app)
    from app.json_input import refuse_json_on_form_pages

    app.before_request(refuse_json_on_form_pages)

    from app.cli import register_cli

    register_cli(app)

    from app import tasks

    tasks.init_app(app)

    from app.logging_setup import configure_logging

    configure_logging(app)
    return app


def _instance_dir() -> str:
    from app.config import INSTANCE_DIR

    return str(INSTANCE_DIR)


def _configure_engine(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    opts = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        opts.setdefault("connect_args", {})
        opts["connect_args"].setdefault("timeout", 30)
        opts["connect_args"].setdefault("check_same_thread", False)
        path = uri.replace("sqlite:///", "", 1)
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    else:
        opts.setdefault("pool_size", int(os.environ.get("DB_POOL_SIZE", 10)))
        opts.setdefault("max_overflow", 10)
        opts.setdefault("pool_timeout", float(app.config.get("DB_POOL_TIMEOUT") or 10))
        # app.db_timeouts pings each pooled connection itself, with a short limit.
        opts["pool_pre_ping"] = False
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = opts


def _guard_engine(app: Flask) -> None:
    from app import db_timeouts

    with app.app_context():
        db_timeouts.install(app, db.engine)


def _request_logging(app: Flask) -> None:
    log = logging.getLogger("evercold.request")

    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-Id", "")
        # A proxy's id is kept only if it is a plain token (no log injection).
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex[:16]
        g.t0 = time.perf_counter()

    @app.after_request
    def _log(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        if not app.testing:
            ms = round((time.perf_counter() - g.get("t0", time.perf_counter())) * 1000, 1)
            log.info("%s %s %s", request.method, request.path, response.status_code,
                     extra={"request_id": g.get("request_id"), "method": request.method, "path": request.path,
                            "status": response.status_code, "ms": ms, "remote": request.remote_addr})
        return response
