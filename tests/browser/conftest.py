"""Browser tests: real headless Chromium (Debian's /usr/bin/chromium) driven by
pytest-playwright against the app served by a real WSGI server on 127.0.0.1.

The live app has its own SQLite database with CSRF switched on (as in production).
Seed data with `live.ctx()`; screenshots go to artifacts/screenshots/ (git-ignored).
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config, items):
    """Browser tests need Chromium: mandatory in CI, deselected elsewhere if missing."""
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.browser)
    if CI or os.path.exists(CHROMIUM):
        return
    keep = [i for i in items if not str(i.fspath).startswith(here)]
    dropped = [i for i in items if str(i.fspath).startswith(here)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


class LiveServer:
    def __init__(self, app, server, url):
        self.app = app
        self.server = server
        self.url = url

    @contextmanager
    def ctx(self):
        """An app context on the live app's database; commits nothing by itself."""
        from app.extensions import db

        with self.app.app_context():
            try:
                yield
            finally:
                db.session.rollback()
                db.session.remove()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    from flask_migrate import upgrade

    from app import create_app
    from app.config import TestConfig

    tmp = tmp_path_factory.mktemp("live")
    application = create_app({
        **{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'live.db'}",
        "UPLOAD_DIR": str(tmp / "uploads"),
        "WTF_CSRF_ENABLED": True,
        "SQLITE_BEGIN_OUTSIDE_REQUEST": "DEFERRED",
    })
    with application.app_context():
        upgrade()
    return application


@pytest.fixture(scope="session")
def live_server(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    live = LiveServer(live_app, server, f"http://127.0.0.1:{port}")
    yield live
    server.shutdown()


@pytest.fixture
def live(live_server):
    """The running server; the database is emptied after each test."""
    yield live_server
    from tests.conftest import empty_database

    empty_database(live_server.app)


@pytest.fixture
def live_world(live):
    """The factories' world, committed into the live database."""
    from tests.factories import build_world

    with live.ctx():
        w = build_world()
        # Plain values survive the session: ids and emails.
        ids = {k: getattr(v, "id", None) for k, v in vars(w).items()}
        emails = {k: v.email for k, v in vars(w).items() if hasattr(v, "email") and hasattr(v, "role")}
    return type("LiveWorld", (), {"ids": ids, "emails": emails})


@pytest.fixture
def screenshot():
    """screenshot(page, "name") saves a full-page PNG under artifacts/screenshots/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def _shot(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


def login(page, base_url: str, email: str, password: str | None = None) -> None:
    from tests.factories import PASSWORD

    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password or PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
