"""In-process CPU per request of the dispatcher's board and its idle poll (issue 16).

    BENCH_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/evercold_boardperf \\
        .venv/bin/python bench/board_cpu.py [--requests 200] [--profile NAME] [--lang ru]

The data is bench/board_load.py's (run it once against the same database first; this
script never writes tickets). Signed in as the bench's dispatcher, the clock frozen at
board_load.NOW, each case is called straight through the WSGI app (no sockets, no test
client) `--requests` times after a warm-up; figures: the median and the mean of the
process's CPU time per request (user + system: what the board costs the worker, without
waiting for PostgreSQL), the wall-clock median, and the SQL statements one request
sends. `--profile NAME` prints cProfile's top functions (CPU time) for that case.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
_TMP = tempfile.mkdtemp(prefix="evercold-board-cpu-")
os.environ.setdefault("INSTANCE_DIR", _TMP)
os.environ.setdefault("HUEY_SQLITE_PATH", os.path.join(_TMP, "huey.db"))
os.environ.pop("REDIS_URL", None)

from sqlalchemy import event  # noqa: E402

import board_load  # noqa: E402
import inprocess  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", default="", help="a case name to profile (e.g. 'board, full page')")
    parser.add_argument("--profile-lines", type=int, default=30)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--lang", default="", help="the reader's language (en, ru, uz)")
    parser.add_argument("--cold-cards", action="store_true",
                        help="forget the rendered cards before each request (every card rendered, as after a minute)")
    parser.add_argument("--filtered", action="store_true", help="the filtered boards too")
    parser.add_argument("--dump", default="", help="a directory to write each case's body to (to compare outputs)")
    args = parser.parse_args()

    from werkzeug.test import EnvironBuilder

    app = inprocess.start(board_load.PG_URL, "board-cpu-bench", os.path.join(_TMP, "access.log"),
                          {"RATELIMIT_ENABLED": False}, now=board_load.NOW)
    from app.extensions import db

    def sign_in() -> str:
        client, cookie = inprocess.sign_in(app, "dispatcher@bench.test", board_load.PASSWORD)
        signed_in.append(client)
        return cookie + (f"; lang={args.lang}" if args.lang else "")

    signed_in = []
    sign_in()
    client = signed_in[0]
    hx = {"HX-Request": "true"}
    board = client.get("/dispatcher/tickets", headers=hx).get_data(as_text=True)
    stamp = re.search(r'data-stamp="([^"]+)"', board).group(1)
    lang_header = {"Accept-Language": args.lang} if args.lang else {}

    def environ(path, query=None, headers=None):
        return EnvironBuilder(path=path, query_string=query or {},
                              headers={"Cookie": "COOKIE", **lang_header, **(headers or {})},
                              environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()

    with app.app_context():
        from sqlalchemy import text

        branch_id = db.session.execute(text("SELECT id FROM customer_branches ORDER BY branch_code LIMIT 1")).scalar()
        tech_id = db.session.execute(text("SELECT id FROM technicians ORDER BY name LIMIT 1")).scalar()
    filtered = {
        "board, priority=HIGH": {"priority": "HIGH"},
        "board, one branch": {"branchId": branch_id},
        "board, one technician": {"technicianId": tech_id},
        "board, branch + priority": {"branchId": branch_id, "priority": "CRITICAL"},
        "board, overdue only": {"overdue": "true"},
        "board, search text": {"q": "compressor"},
    }
    cases = {
        "board, full page": (environ("/dispatcher/tickets"), "200 OK"),
        **({name: (environ("/dispatcher/tickets", query, hx), "200 OK") for name, query in filtered.items()}
           if args.filtered else {}),
        "board, htmx partial": (environ("/dispatcher/tickets", headers=hx), "200 OK"),
        "poll, changed (renders)": (environ("/dispatcher/tickets/poll", {"stamp": "stale"}, hx), "200 OK"),
        "poll, nothing changed (204)": (environ("/dispatcher/tickets/poll", {"stamp": stamp}, hx),
                                        "204 NO CONTENT"),
        "/healthz": (EnvironBuilder(path="/healthz", environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ(),
                     "200 OK"),
    }

    forget = lambda: None  # noqa: E731
    if args.cold_cards:
        from app.blueprints.dispatcher import routes as dispatcher_routes

        forget = dispatcher_routes._CARDS.clear

    def one(env, keep=None):
        forget()
        status, chunks = inprocess.call(app, env)
        if keep is not None:
            keep.extend(chunks)
        return status, sum(len(chunk) for chunk in chunks)

    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def _count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    print(f"{'case':<30} {'CPU p50':>8} {'CPU mean':>9} {'wall p50':>9} {'SQL':>4} {'KB':>6}")
    for name, (env, expected) in cases.items():
        # A fresh session cookie for each case, as a browser keeps the one it is sent
        # back: one over SESSION_REFRESH_SECONDS old is signed again on every answer.
        if "HTTP_COOKIE" in env:
            env = {**env, "HTTP_COOKIE": sign_in()}
        for _ in range(20):
            one(env)
        statements.clear()
        event.listen(engine, "before_cursor_execute", _count)
        body: list[bytes] = []
        status, size = one(env, body)
        if args.dump:
            os.makedirs(args.dump, exist_ok=True)
            Path(args.dump, re.sub(r"\W+", "_", name) + ".html").write_bytes(b"".join(body))
        event.remove(engine, "before_cursor_execute", _count)
        assert status == expected, (name, status)
        sql = len([s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))])
        n = args.requests * (10 if name.startswith(("poll, nothing", "/healthz")) else 1)
        cpu, wall = [], []
        for _ in range(n):
            t0, c0 = time.perf_counter(), time.process_time()
            one(env)
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - t0) * 1000)
        print(f"{name:<30} {statistics.median(cpu):8.3f} {statistics.fmean(cpu):9.3f} "
              f"{statistics.median(wall):9.3f} {sql:4d} {size / 1024:6.1f}", flush=True)
        if name == args.profile:
            prof = cProfile.Profile(time.process_time)
            prof.enable()
            for _ in range(n):
                one(env)
            prof.disable()
            stats = pstats.Stats(prof).sort_stats(args.sort)
            stats.print_stats(args.profile_lines)
            if os.environ.get("PROFILE_CALLERS"):
                stats.print_callers(os.environ["PROFILE_CALLERS"])
            prof.dump_stats(os.path.join(_TMP, "profile.pstats"))
            print("profile saved:", os.path.join(_TMP, "profile.pstats"))
    load = os.getloadavg()
    print(f"(ms per request; {args.requests} requests a case, x10 for the poll and /healthz; "
          f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
