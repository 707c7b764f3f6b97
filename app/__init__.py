"""Evercold Service Desk: the application factory."""
from __future__ import annotations

import logging
import os
import re
import time
from random import getrandbits
from functools import partial

from flask import Flask, g, request
from flask.globals import request_ctx

from app.config import Config
from app.extensions import csrf, db, limiter, login_manager, migrate


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class EvercoldFlask(Flask):
    """Flask, with `ensure_sync` answered once per function: Flask asks it of every
    hook and view on every request (an `inspect` walk each time, ~12 per request), and
    whether a function is a coroutine function does not change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync_of: dict = {}

    _SYNC_CACHE_MAX = 1024  # a function made per request (after_this_request) must not grow it forever

    def ensure_sync(self, func):
        try:
            return self._sync_of[func]
        except KeyError:
            sync = super().ensure_sync(func)
            if len(self._sync_of) < self._SYNC_CACHE_MAX:
                self._sync_of[func] = sync
            return sync
        except TypeError:  # an unhashable callable: asked each time
            return super().ensure_sync(func)


def create_app(config: type | dict | None = None) -> Flask:
    app = EvercoldFlask(__name__, instance_path=_instance_dir())
    from app.json_input import SafeJSONProvider, SafeRequest

    app.json = SafeJSONProvider(app)  # every request's JSON parsed by one guarded loader
    app.request_class = SafeRequest
    from app.session_cookie import SessionInterface

    app.session_interface = SessionInterface()  # the signed cookie, re-signed once a minute at most
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    from app.services.timefmt import check_settings

    check_settings(app.config)  # CURRENCY, APP_TIMEZONE: a clear error now, not wrong words later
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
    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please sign in to continue.")
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    limiter.init_app(app)
    from app import i18n

    i18n.init_app(app)  # the reader's language: pages, forms, messages, API errors

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
    from app.blueprints.equipment import bp as equipment_bp

    app.register_blueprint(equipment_bp)  # the unit's QR code (and, later, the equipment pages)
    from app.blueprints.public import bp as public_bp

    app.register_blueprint(public_bp)  # /r/<token>: reporting a fault by a unit's QR code, no sign-in

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
    _limit_only_where_decorated(app)
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
    """The request id (a proxy's, if it is a plain token, else a new one) and the JSON
    access-log line. Every request pays for these two hooks: each reads the request
    once and keeps to plain attributes."""
    log = logging.getLogger("evercold.request")
    name = log.name
    match = _REQUEST_ID.match
    perf = time.perf_counter

    @app.before_request
    def _start():
        g_ = g._get_current_object()
        incoming = request.headers.get("X-Request-Id")
        # A proxy's id is kept only if it is a plain token (no log injection).
        # A new one: 64 random bits for telling requests apart in the logs (not a secret,
        # so no system call for cryptographic randomness on every request).
        g_.request_id = incoming if incoming and match(incoming) else "%016x" % getrandbits(64)
        g_.t0 = perf()

    @app.after_request
    def _log(response):
        g_ = g._get_current_object()
        request_id = getattr(g_, "request_id", "")
        response.headers["X-Request-Id"] = request_id
        if not app.testing and log.isEnabledFor(logging.INFO):
            req = request._get_current_object()
            ms = round((perf() - getattr(g_, "t0", perf())) * 1000, 1)
            status = response.status_code
            # log.info() without its search of the call stack for the caller's file and line
            # (logging's findCaller): this line's place is known.
            method, path = req.method, req.path
            log.handle(log.makeRecord(name, logging.INFO, __file__, 0, "%s %s %s", (method, path, status), None,
                                      extra={"request_id": request_id, "method": method, "path": path,
                                             "status": status, "ms": ms, "remote": req.remote_addr}))
        return response


def _limit_only_where_decorated(app: Flask) -> None:
    """Flask-Limiter checks every request in a before_request hook, for limits that
    apply app-wide (default, application, meta or blueprint limits). This app has none:
    its limits decorate the sign-in endpoints (app/ratelimit.py), and a decorated view
    checks its own limits when called. Without app-wide limits the hook only costs
    every request time, so it goes; with any, it stays."""
    manager = limiter.limit_manager
    if (manager.default_limits or manager.application_limits or getattr(limiter, "_meta_limits", None)
            or getattr(manager, "_blueprint_limits", None)):
        return
    hooks = app.before_request_funcs.get(None, [])
    hooks[:] = [fn for fn in hooks if getattr(fn, "__func__", None) is not type(limiter)._check_request_limit]
    # Its after-request hook (conditional deductions, X-RateLimit headers) and teardown
    # (reset) work on a per-request "limiter context" that only a rate-limited view
    # creates. A request that met no limit has none, and nothing for either hook to do:
    # they run only where the context exists (the sign-in endpoints), not on every request.
    after = app.after_request_funcs.get(None, [])
    teardown = app.teardown_request_funcs.get(None, [])
    inject = next((fn for fn in after if isinstance(fn, partial) and fn.args == (limiter,)
                   and getattr(fn.func, "__name__", "").endswith("__inject_headers")), None)
    release = next((fn for fn in teardown if getattr(fn, "__self__", None) is limiter
                    and getattr(fn, "__name__", "").endswith("__release_context")), None)
    if inject is None or release is None:
        return  # another Flask-Limiter: leave its hooks as they are

    def _limited(ctx=request_ctx) -> bool:
        return hasattr(ctx._get_current_object(), "_limiter_request_context")

    def limiter_after_request(response):
        return inject(response) if _limited() else response

    def limiter_teardown(exc=None):
        if _limited():
            release(exc)

    after[after.index(inject)] = limiter_after_request
    teardown[teardown.index(release)] = limiter_teardown
