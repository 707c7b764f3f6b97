"""The request floor and the idle board poll, old code against new, in one run.

    .venv/bin/python bench/request_floor.py                 # data (100k tickets), then 3 interleaved rounds
    .venv/bin/python bench/request_floor.py --reuse         # same data again
    .venv/bin/python bench/request_floor.py --profile       # cProfile of this code in-process, no servers

What it measures (issue 16, items 1 and 5): `GET /healthz` (the floor every request
pays: hooks, session, limiter, headers, the JSON access-log line) and the dispatcher
board's idle poll (`GET /dispatcher/tickets/poll?stamp=<current>`, 204), each from
`--clients` connections for `--seconds`, against two servers at once:

- old: a git worktree of `--old-commit` (default: the commit this work started
  from), created under the system temp folder if missing;
- new: this checkout.

Both are gunicorn with 2 sync workers (`--workers 2 --worker-class sync`, no
max-requests recycling), the production configuration otherwise (JSON access log at
INFO to a file, CSRF on, in-memory rate limits), on the same PostgreSQL database
(`evercold_floor` on 127.0.0.1, or BENCH_FLOOR_PG_URL; bench/board_load.py's 100,000
tickets) with the same SECRET_KEY, so one signed-in dispatcher cookie serves both.
The phases interleave (old, new, new, old, ...) so both see the same machine load.

Per phase: requests per second; the app's CPU per request (user + system time of the
two worker processes, from /proc, over the requests answered); the database's CPU per
request (the PostgreSQL backends whose application_name is the server's, from /proc;
PostgreSQL runs on this machine). The client is a lean raw-socket HTTP/1.1 client
(threads, `Connection: close`, as sync workers answer), so it costs the machine far
less than the server. Medians over rounds are printed with the ratio new/old and the
load average.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
_TMP = tempfile.mkdtemp(prefix="evercold-floor-bench-")
os.environ.setdefault("INSTANCE_DIR", _TMP)
os.environ.setdefault("HUEY_SQLITE_PATH", os.path.join(_TMP, "huey.db"))
os.environ.pop("REDIS_URL", None)

PG_URL = os.environ.get("BENCH_FLOOR_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/evercold_floor")
START_COMMIT = "96798ad"  # main when issue 16 items 1 and 5 were taken on
SECRET = "floor-bench-secret"
TICK = os.sysconf("SC_CLK_TCK")


# --- servers -------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listening on {port}")


def old_tree(commit: str) -> Path:
    path = Path(tempfile.gettempdir()) / f"evercold-floor-old-{commit}"
    if not (path / "app" / "__init__.py").exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), commit], check=True,
                       stdout=subprocess.DEVNULL)
    return path


class Server:
    """gunicorn with 2 sync workers on a free port. By default this app at `root` (its
    production config, JSON access log); `command` (with `{port}` in it) starts any
    other WSGI server instead (bench/paired.py's peer), `env` adds to the environment."""

    def __init__(self, name: str, root: Path, *, app_module: str = "wsgi:app", env: dict | None = None,
                 command: list[str] | None = None):
        self.name, self.root, self.port = name, root, free_port()
        self.log = open(os.path.join(_TMP, f"{name}.log"), "wb")
        full_env = {**os.environ, "DATABASE_URL": f"{PG_URL}?application_name=floor-{name}", "SECRET_KEY": SECRET,
                    "INSTANCE_DIR": os.path.join(_TMP, name), "UPLOAD_DIR": os.path.join(_TMP, name, "uploads"),
                    "HUEY_SQLITE_PATH": os.path.join(_TMP, f"{name}-huey.db"), "PYTHONPATH": str(root),
                    "LOG_LEVEL": "INFO", "LOG_FORMAT": "json", **(env or {})}
        for key in ("BIND", "PORT", "WEB_CONCURRENCY", "WEB_THREADS"):
            full_env.pop(key, None)
        argv = [str(ROOT / ".venv/bin/gunicorn"), "-c", str(root / "gunicorn.conf.py"), "--workers", "2",
                "--worker-class", "sync", "--threads", "1", "--max-requests", "0", "--bind", "127.0.0.1:{port}",
                app_module]
        self.proc = subprocess.Popen([a.replace("{port}", str(self.port)) for a in (command or argv)], cwd=root,
                                     env=full_env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc)

    def workers(self) -> list[int]:
        try:
            out = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in out.split()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def cpu_seconds(pids) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / TICK


def db_backends(conn, name: str) -> list[int]:
    from sqlalchemy import text

    return [r[0] for r in conn.execute(text("SELECT pid FROM pg_stat_activity WHERE application_name = :n"),
                                       {"n": f"floor-{name}"})]


# --- the client ----------------------------------------------------------------------

def request_bytes(path: str, headers: dict | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "User-Agent: floor-bench", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def hammer(port: int, raw: bytes, clients: int, seconds: float) -> tuple[int, dict, float]:
    """(answers, {status: count}, elapsed) from `clients` threads for `seconds`."""
    counts: dict[int, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def run():
        mine: dict[int, int] = {}
        while time.monotonic() < stop_at:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                    s.sendall(raw)
                    chunks = []
                    while True:
                        data = s.recv(65536)
                        if not data:
                            break
                        chunks.append(data)
                head = b"".join(chunks)[:12]
                status = int(head[9:12]) if head.startswith(b"HTTP/") else 0
            except OSError:
                status = -1
            mine[status] = mine.get(status, 0) + 1
        with lock:
            for k, v in mine.items():
                counts[k] = counts.get(k, 0) + v

    t0 = time.monotonic()
    threads = [threading.Thread(target=run) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts.values()), counts, time.monotonic() - t0


def sign_in(port: int) -> str:
    import inprocess
    import requests

    from board_load import PASSWORD

    s = requests.Session()
    base = f"http://127.0.0.1:{port}"
    page = s.get(f"{base}/login", timeout=30).text
    r = s.post(f"{base}/login", data={"email": "dispatcher@bench.test", "password": PASSWORD,
                                      "csrf_token": inprocess.csrf_of(page)}, allow_redirects=False, timeout=30)
    if r.status_code != 302:
        raise RuntimeError(f"sign-in answered {r.status_code}")
    return "; ".join(f"{c.name}={c.value}" for c in s.cookies)


def board_stamp(port: int, cookie: str) -> str:
    import requests

    r = requests.get(f"http://127.0.0.1:{port}/dispatcher/tickets", headers={"Cookie": cookie, "HX-Request": "true"},
                     timeout=60)
    r.raise_for_status()
    return re.search(r'data-stamp="([^"]+)"', r.text).group(1)


# --- data ----------------------------------------------------------------------------

def prepare(tickets: int, reuse: bool) -> None:
    import board_load

    if reuse:
        return
    board_load.prepare_postgres(PG_URL, reset=True)
    app = board_load.make_app(PG_URL)
    seconds = board_load.generate(app, tickets)
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()
    print(f"data: {tickets} tickets in {seconds:.1f} s", flush=True)


# --- profile mode --------------------------------------------------------------------

def profile(requests_n: int) -> None:
    """This checkout in-process (no sockets): CPU per request and cProfile's top."""
    import cProfile
    import pstats

    import board_load
    import inprocess
    from werkzeug.test import EnvironBuilder

    app = inprocess.start(PG_URL, SECRET, os.path.join(_TMP, "profile.log"))
    client, cookie = inprocess.sign_in(app, "dispatcher@bench.test", board_load.PASSWORD)
    board = client.get("/dispatcher/tickets", headers={"HX-Request": "true"}).get_data(as_text=True)
    stamp = re.search(r'data-stamp="([^"]+)"', board).group(1)
    cases = {
        "/healthz": EnvironBuilder(path="/healthz", environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ(),
        "idle poll": EnvironBuilder(path="/dispatcher/tickets/poll", query_string={"stamp": stamp},
                                    headers={"Cookie": cookie, "HX-Request": "true"},
                                    environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ(),
    }

    def one(environ):
        return inprocess.call(app, environ)[0]

    for name, environ in cases.items():
        for _ in range(300):
            one(environ)
        t0 = time.process_time()
        for _ in range(requests_n):
            answer = one(environ)
        cpu = (time.process_time() - t0) / requests_n * 1000
        print(f"{name}: {answer}, {cpu:.3f} ms CPU per request (in-process, {requests_n} requests)")
        prof = cProfile.Profile(time.process_time)  # CPU, not time spent waiting for the database
        prof.enable()
        for _ in range(requests_n):
            one(environ)
        prof.disable()
        pstats.Stats(prof).sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(
            int(os.environ.get("PROFILE_LINES", 15)))


# --- main ----------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="keep the data of an earlier run")
    parser.add_argument("--seconds", type=float, default=8.0, help="per phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--old-commit", default=START_COMMIT)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-requests", type=int, default=3000)
    args = parser.parse_args()

    prepare(args.tickets, args.reuse)
    if args.profile:
        profile(args.profile_requests)
        return 0

    import sqlalchemy as sa

    servers = {}
    results: dict[tuple[str, str], list[dict]] = {}
    engine = sa.create_engine(PG_URL)
    try:
        servers["old"] = Server("old", old_tree(args.old_commit))
        servers["new"] = Server("new", ROOT)
        cookie = sign_in(servers["new"].port)
        raw, stamps = {}, {}
        for name, server in servers.items():
            stamp = stamps[name] = board_stamp(server.port, cookie)
            raw[(name, "healthz")] = request_bytes("/healthz")
            raw[(name, "idle poll")] = request_bytes(f"/dispatcher/tickets/poll?stamp={stamp}",
                                                     {"Cookie": cookie, "HX-Request": "true"})
            for kind in ("healthz", "idle poll"):  # warm both workers (pools, imports, caches)
                hammer(server.port, raw[(name, kind)], args.clients, 1.5)
        load_before = os.getloadavg()
        with engine.connect() as conn:
            for rnd in range(args.rounds):
                order = ("old", "new") if rnd % 2 == 0 else ("new", "old")
                for kind in ("healthz", "idle poll"):
                    if kind == "idle poll":
                        # A browser keeps the cookie each answer sets (the new code re-signs
                        # it once a minute): sign in afresh so this client's is never stale.
                        cookie = sign_in(servers["new"].port)
                        for name in order:
                            raw[(name, kind)] = request_bytes(f"/dispatcher/tickets/poll?stamp={stamps[name]}",
                                                              {"Cookie": cookie, "HX-Request": "true"})
                    for name in order:
                        server = servers[name]
                        pids = server.workers()
                        backends = db_backends(conn, name)
                        conn.rollback()
                        app0, db0 = cpu_seconds(pids), cpu_seconds(backends)
                        n, statuses, elapsed = hammer(server.port, raw[(name, kind)], args.clients, args.seconds)
                        app1, db1 = cpu_seconds(pids), cpu_seconds(backends)
                        row = {"rps": n / elapsed, "app_ms": (app1 - app0) / n * 1000,
                               "db_ms": (db1 - db0) / n * 1000, "statuses": statuses}
                        results.setdefault((name, kind), []).append(row)
                        print(f"round {rnd + 1} {name:3} {kind:9}: {row['rps']:7.0f} req/s, app {row['app_ms']:.3f} ms"
                              f" + db {row['db_ms']:.3f} ms CPU per request, answers {statuses}", flush=True)
        load_after = os.getloadavg()
    finally:
        for server in servers.values():
            server.stop()
        engine.dispose()

    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"\nnew: {commit} (+ uncommitted changes if any), old: {args.old_commit}; {os.cpu_count()} cores; "
          f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after (1 min)")
    print(f"gunicorn 2 sync workers each, {args.clients} client connections, {args.seconds:g} s per phase, "
          f"median of {args.rounds} interleaved rounds\n")
    print("| kind | code | req/s | app CPU ms/req | db CPU ms/req | answers |")
    print("|---|---|---|---|---|---|")
    med = {}
    for kind in ("healthz", "idle poll"):
        for name in ("old", "new"):
            rows = results[(name, kind)]
            m = {k: statistics.median(r[k] for r in rows) for k in ("rps", "app_ms", "db_ms")}
            med[(name, kind)] = m
            statuses = sorted({s for r in rows for s in r["statuses"]})
            print(f"| {kind} | {name} | {m['rps']:,.0f} | {m['app_ms']:.3f} | {m['db_ms']:.3f} | {statuses} |")
    print()
    for kind in ("healthz", "idle poll"):
        o, n = med[("old", kind)], med[("new", kind)]
        print(f"{kind}: new/old req/s {n['rps'] / o['rps']:.2f}x, CPU per request "
              f"{(n['app_ms'] + n['db_ms']) / max(o['app_ms'] + o['db_ms'], 1e-9):.2f}x of old")
    for name in ("old", "new"):
        ratio = med[(name, "idle poll")]["rps"] / med[(name, "healthz")]["rps"]
        print(f"{name}: idle poll / healthz req/s = {ratio:.2f} (goal >= 0.5)")
    shutil.rmtree(_TMP, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
