"""Benchmark: what translating costs the board and the ticket page (issue 17: "no more
than 10 % of the server time").

    .venv/bin/python bench/i18n_overhead.py [--requests 200] [--rounds 5]

An in-process run (Flask test client, no network) on a fresh SQLite database with the
demo world (`flask seed` + `flask demo`: ~200 tickets, the board full). Signed in as the
demo dispatcher (their own language cleared, so `Accept-Language` decides), it requests
the full board page `/dispatcher/tickets` and one ticket page `/tickets/<id>` in three
modes, interleaved request by request so that all three see the same machine load:

- `en`: `Accept-Language: en` (the English text; the catalogue is not consulted),
- `ru`: `Accept-Language: ru` (every string looked up in the Russian catalogue, Babel's
  Russian dates and numbers),
- `off`: `Accept-Language: ru` with Flask-Babel's catalogue lookup replaced by an empty
  catalogue (every gettext, ngettext and lazy string returns its English msgid, formatted
  with its arguments; dates and numbers stay Babel's Russian): the same page without
  translating the words.

Figures per page and mode: p50 / p95 / mean in milliseconds over `--requests` requests,
after a warm-up; then ru against off (the cost of translating) and ru against en.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_TMP = tempfile.mkdtemp(prefix="evercold-i18n-bench-")
os.environ.setdefault("INSTANCE_DIR", _TMP)
os.environ["DATABASE_URL"] = f"sqlite:///{_TMP}/bench.db"
os.environ.setdefault("HUEY_SQLITE_PATH", os.path.join(_TMP, "huey.db"))
os.environ.pop("REDIS_URL", None)

import flask_babel  # noqa: E402

from babel.support import NullTranslations  # noqa: E402

_REAL = flask_babel.Domain.get_translations
_NULL = NullTranslations()


def translating(on: bool) -> None:
    """Off: every lookup (gettext, ngettext, the lazy strings of forms and enum labels)
    finds no catalogue and returns the English msgid, still formatted with its arguments."""
    flask_babel.Domain.get_translations = _REAL if on else (lambda self: _NULL)


def build():
    from flask_migrate import upgrade

    from app import create_app
    from app.cli import seed_categories
    from app.demo import load_demo
    from app.extensions import db
    from app.i18n import compile_catalogues
    from app.models import ServiceTicket, TicketStatus, User

    compile_catalogues()
    app = create_app()
    app.config.update(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    with app.app_context():
        upgrade()
        seed_categories()
        load_demo(force=True)
        db.session.commit()
        dispatcher = db.session.query(User).filter(User.email.like("dispatcher@%")).one()
        dispatcher.locale = None
        ticket = (db.session.query(ServiceTicket).filter(ServiceTicket.status == TicketStatus.IN_PROGRESS)
                  .order_by(ServiceTicket.created_at.desc()).first())
        db.session.commit()
        email, ticket_id = dispatcher.email, ticket.id
    client = app.test_client()
    resp = client.post("/login", data={"email": email, "password": app.config.get("DEMO_PASSWORD", "evercold")})
    assert resp.status_code in (302, 303), resp.status_code
    return app, client, ticket_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    app, client, ticket_id = build()
    pages = {"board": "/dispatcher/tickets", "ticket": f"/tickets/{ticket_id}"}
    modes = {"en": ("en", True), "ru": ("ru", True), "off": ("ru", False)}
    times = {(p, m): [] for p in pages for m in modes}
    checks = {}
    for i in range(args.warmup + args.requests):
        for page, path in pages.items():
            for mode, (lang, on) in modes.items():
                translating(on)
                t0 = time.perf_counter()
                resp = client.get(path, headers={"Accept-Language": lang})
                elapsed = time.perf_counter() - t0
                assert resp.status_code == 200, (path, resp.status_code)
                if i >= args.warmup:
                    times[(page, mode)].append(elapsed * 1000)
                if i == 0:
                    html = resp.get_data(as_text=True)
                    checks[(page, mode)] = ("Доска заявок" in html or "Холодильные камеры" in html)
    translating(True)
    print(f"{args.requests} requests per page and mode (after {args.warmup} warm-up), interleaved; "
          f"Python {sys.version.split()[0]}, SQLite, demo world")
    print(f"{'page':<8}{'mode':<6}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}  Russian words seen")
    for page in pages:
        for mode in modes:
            xs = sorted(times[(page, mode)])
            p95 = xs[int(0.95 * (len(xs) - 1))]
            print(f"{page:<8}{mode:<6}{statistics.median(xs):9.2f}{p95:9.2f}{statistics.mean(xs):9.2f}"
                  f"  {checks[(page, mode)]}")
    for page in pages:
        med = {m: statistics.median(times[(page, m)]) for m in modes}
        print(f"{page}: translating (ru vs off) {100 * (med['ru'] / med['off'] - 1):+.1f} % of the p50; "
              f"ru vs en {100 * (med['ru'] / med['en'] - 1):+.1f} %")


if __name__ == "__main__":
    main()
