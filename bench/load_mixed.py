"""Load benchmark: the app under gunicorn on PostgreSQL + Redis with 100,000 tickets and
a bounded mixed workload from a second process, over loopback.

    .venv/bin/python bench/load_mixed.py [--tickets 100000] [--seconds 60] [--ceiling-seconds 10]

1. Data: database `evercold_load` on 127.0.0.1 (created if missing, public schema
   reset; or BENCH_LOAD_PG_URL), migrated, then bench/board_load.py's set-based
   generator (one INSERT ... SELECT generate_series: 100,000 tickets, 300 branches, 80
   technicians). Users: 20 dispatchers, 10 technicians (with logins) and 10 store
   managers, manager k owning the four branches whose primary is technician k.
2. Servers: redis-server on a free port (`--save '' --appendonly no`) and gunicorn with
   gunicorn.conf.py (bind 127.0.0.1:<free port>), DATABASE_URL/REDIS_URL from the
   environment as in production; photos under a temporary UPLOAD_DIR.
3. Load, from this process (threads, one requests.Session per simulated user):
   - 20 dispatchers sign in through the login form, open the board, then poll it as
     app/static/js/board.js does (every 2.5 s, `HX-Request`, with the stamp they have;
     204 while nothing changed);
   - 10 store managers create tickets (POST /api/tickets; auto-assigned to their
     technician) with --think seconds between tickets (default 5-15 s), and approve (signature) what was completed;
   - 10 technicians accept, upload a photo (800x600 JPEG) and complete each ticket they get;
   - one probe GETs /healthz every 0.5 s during the mix.
   Then, same server: /healthz alone from 8 threads for --ceiling-seconds (the ceiling).
4. Check: every ticket a 201 answered for is in the database with its events
   (created+assigned, and accepted/photo_added/completed/approved as far as its flow got).
5. Servers stopped (SIGTERM, then SIGKILL after 20 s) whatever happens.

Prints requests/s and p50/p95/p99 per kind, errors, and the machine load.
"""
from __future__ import annotations

import argparse
import base64
import io
import os
import queue
import random
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
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
_TMP = tempfile.mkdtemp(prefix="evercold-load-bench-")
os.environ.setdefault("INSTANCE_DIR", _TMP)
os.environ.setdefault("HUEY_SQLITE_PATH", os.path.join(_TMP, "huey.db"))
os.environ.pop("REDIS_URL", None)  # the generator process queues nothing

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy import text  # noqa: E402

import board_load  # noqa: E402  (bench/board_load.py: the set-based generator)

PG_URL = os.environ.get("BENCH_LOAD_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/evercold_load")
PASSWORD = board_load.PASSWORD
DISPATCHERS, TECHS, MANAGERS = 20, 10, 10
POLL_S = 2.5
GOAL_P95_MS = 150.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listening on {port} after {seconds} s")


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- data ---------------------------------------------------------------------------

def prepare(tickets: int) -> dict:
    board_load.prepare_postgres(PG_URL, reset=True)
    app = board_load.make_app(PG_URL)
    seconds = board_load.generate(app, tickets)
    from app.extensions import db
    from app.models import CustomerBranch, TechnicianBranchAssignment
    from app.services import users

    with app.app_context():
        for i in range(1, DISPATCHERS):
            users.create_user({"email": f"dispatcher{i}@bench.test", "password": PASSWORD, "role": "dispatcher",
                               "name": f"Dispatcher {i}"})
        pairs = []
        rows = db.session.execute(
            sa.select(TechnicianBranchAssignment.technician_id, CustomerBranch.id)
            .join(CustomerBranch, CustomerBranch.id == TechnicianBranchAssignment.branch_id)
            .where(TechnicianBranchAssignment.is_primary.is_(True))
            .order_by(TechnicianBranchAssignment.technician_id, CustomerBranch.branch_code)).all()
        by_tech = defaultdict(list)
        for tech_id, branch_id in rows:
            by_tech[tech_id].append(branch_id)
        for k, tech_id in enumerate(sorted(by_tech)[:TECHS]):
            users.create_user({"email": f"tech{k}@bench.test", "password": PASSWORD, "role": "technician",
                               "name": f"Bench Tech {k}", "technicianId": tech_id})
            users.create_user({"email": f"manager{k}@bench.test", "password": PASSWORD, "role": "store_manager",
                               "name": f"Bench Manager {k}", "branchIds": by_tech[tech_id]})
            pairs.append({"tech": f"tech{k}@bench.test", "manager": f"manager{k}@bench.test",
                          "branches": by_tech[tech_id]})
        sub = db.session.execute(text("SELECT id, category_id FROM issue_subcategories ORDER BY name LIMIT 1")).one()
        db.session.commit()
        count = db.session.execute(text("SELECT count(*) FROM service_tickets")).scalar()
        db.engine.dispose()
    return {"seconds": seconds, "pairs": pairs, "subcategory": sub[0], "category": sub[1], "tickets": count}


THINK = (5.0, 15.0)


def jpeg() -> bytes:
    from PIL import Image

    img = Image.new("RGB", (800, 600), (30, 120, 200))
    for x in range(0, 800, 40):
        for y in range(0, 600, 40):
            img.putpixel((x, y), (255, 255, 255))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def signature() -> str:
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    ImageDraw.Draw(img).line([(10, 80), (100, 20), (200, 70), (290, 30)], fill=(0, 0, 0, 255), width=3)
    out = io.BytesIO()
    img.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


# --- load ---------------------------------------------------------------------------

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.ms = defaultdict(list)
        self.errors = defaultdict(list)
        self.status = defaultdict(lambda: defaultdict(int))

    def call(self, kind: str, session: requests.Session, method: str, url: str, ok=(200, 201, 204), **kw):
        t0 = time.perf_counter()
        try:
            r = session.request(method, url, timeout=30, **kw)
        except requests.RequestException as exc:
            with self.lock:
                self.errors[kind].append(repr(exc)[:200])
            return None
        ms = (time.perf_counter() - t0) * 1000
        with self.lock:
            self.ms[kind].append(ms)
            self.status[kind][r.status_code] += 1
            if r.status_code not in ok:
                self.errors[kind].append(f"{r.status_code} {r.text[:200]}")
        return r if r.status_code in ok else None


class Phase:
    """What the threads record into: warm-up figures are thrown away."""

    def __init__(self):
        self.current = Stats()

    def call(self, *args, **kw):
        return self.current.call(*args, **kw)


def token(base: str, email: str) -> str:
    r = requests.post(f"{base}/api/auth/token", json={"email": email, "password": PASSWORD}, timeout=30)
    r.raise_for_status()
    return r.json()["token"]


def sign_in(base, email) -> requests.Session:
    s = requests.Session()
    page = s.get(f"{base}/login", timeout=30)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page.text)
    r = s.post(f"{base}/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf.group(1) if csrf else ""},
               allow_redirects=False, timeout=30)
    if r.status_code != 302:
        raise RuntimeError(f"login of {email} answered {r.status_code}")
    return s


def dispatcher(base, s: requests.Session, stats, stop_at: float):
    board = stats.call("board_page", s, "GET", f"{base}/dispatcher/tickets")
    if board is None:
        return
    stamp = re.search(r'data-stamp="([^"]*)"', board.text).group(1)
    time.sleep(random.uniform(0, POLL_S))  # the boards were not all opened in the same instant
    while time.monotonic() < stop_at:
        r = stats.call("board_poll", s, "GET", f"{base}/dispatcher/tickets/poll", params={"stamp": stamp},
                       headers={"HX-Request": "true", "HX-Target": "board"})
        if r is not None and r.status_code == 200:
            m = re.search(r'data-stamp="([^"]*)"', r.text)
            stamp = m.group(1) if m else stamp
        time.sleep(POLL_S)


def manager(base, pair, data, stats, stop_at: float, work: queue.Queue, done: queue.Queue, created: list):
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {pair['manager_token']}"
    sig = signature()
    n = 0
    while time.monotonic() < stop_at:
        while True:  # approve what was completed
            try:
                completion_id = done.get_nowait()
            except queue.Empty:
                break
            stats.call("approve", s, "POST", f"{base}/api/completions/{completion_id}/approve",
                       json={"action": "approve", "signedBy": "Bench Manager", "signature": sig})
        n += 1
        r = stats.call("create", s, "POST", f"{base}/api/tickets", json={
            "branchId": pair["branches"][n % len(pair["branches"])], "categoryId": data["category"],
            "subcategoryId": data["subcategory"], "description": f"Load test: fridge {n} is warm",
            "priority": "NORMAL"})
        if r is not None:
            created.append(r.json()["id"])
            work.put(r.json()["id"])
        time.sleep(random.uniform(*THINK))


def technician(base, pair, stats, stop_at: float, work: queue.Queue, done: queue.Queue, photo: bytes):
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {pair['tech_token']}"
    while time.monotonic() < stop_at:
        try:
            ticket_id = work.get(timeout=0.5)
        except queue.Empty:
            continue
        if stats.call("accept", s, "POST", f"{base}/api/tickets/{ticket_id}/accept", json={}) is None:
            continue
        up = stats.call("upload", s, "POST", f"{base}/api/tickets/{ticket_id}/photos",
                        files={"file": ("after.jpg", photo, "image/jpeg")}, data={"type": "after"})
        if up is None:
            continue
        c = stats.call("complete", s, "POST", f"{base}/api/tickets/{ticket_id}/complete", json={
            "workDescription": "Replaced the door seal", "laborHours": 1, "laborCostPerHour": "45.00",
            "partsUsed": [{"name": "Seal", "quantity": 1, "unitCost": "12.50"}]})
        if c is not None:
            done.put(c.json()["id"])


def probe(base, stats: Stats, stop_at: float, kind: str, pause: float):
    s = requests.Session()
    while time.monotonic() < stop_at:
        stats.call(kind, s, "GET", f"{base}/healthz")
        if pause:
            time.sleep(pause)


def run_threads(threads):
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def pct(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def verify(created: list[str]) -> dict:
    engine = sa.create_engine(PG_URL)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT t.id, t.status, array_agg(e.kind) AS kinds FROM service_tickets t "
            "LEFT JOIN ticket_events e ON e.ticket_id = t.id WHERE t.id = ANY(:ids) GROUP BY t.id, t.status"),
            {"ids": created}).all()
    engine.dispose()
    found = {r.id: (r.status, set(k for k in r.kinds if k)) for r in rows}
    need = {"IN_PROGRESS": {"created", "assigned", "accepted"},
            "COMPLETED": {"created", "assigned", "accepted", "photo_added", "completed"},
            "CLOSED": {"created", "assigned", "accepted", "photo_added", "completed", "approved"},
            "ASSIGNED": {"created", "assigned"}}
    missing = [i for i in created if i not in found]
    incomplete = [i for i, (st, kinds) in found.items() if not need.get(st, {"created"}) <= kinds]
    by_status = defaultdict(int)
    for st, _ in found.values():
        by_status[st] += 1
    return {"created": len(created), "found": len(found), "missing": missing, "incomplete": incomplete,
            "by_status": dict(by_status)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--ceiling-seconds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=15, help="seconds of the same mix before measuring")
    ap.add_argument("--think", default="5,15",
                    help="a store manager's pause between two new tickets, min,max seconds (default 5,15: "
                         "10 managers then report ~1 ticket a second, far above a real day's rate; "
                         "0.5,1.5 is a stress run that saturates 2 cores with photo processing)")
    args = ap.parse_args()
    global THINK
    THINK = tuple(float(x) for x in args.think.split(","))
    if not shutil.which("redis-server"):
        print("redis-server is not installed", file=sys.stderr)
        return 2

    t0 = time.perf_counter()
    data = prepare(args.tickets)
    print(f"data: {data['tickets']} tickets in {data['seconds']:.1f} s", flush=True)

    redis_port, web_port = free_port(), free_port()
    upload_dir = os.path.join(_TMP, "uploads")
    redis_proc = web = None
    log_path = os.path.join(_TMP, "gunicorn.log")
    try:
        redis_proc = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                                       "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        wait_port(redis_port, redis_proc)
        env = {**os.environ, "DATABASE_URL": PG_URL, "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
               "PORT": str(web_port), "SECRET_KEY": "load-bench-secret", "UPLOAD_DIR": upload_dir,
               "INSTANCE_DIR": _TMP, "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        env.pop("BIND", None)
        with open(log_path, "wb") as log:
            web = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_port(web_port, web)
        base = f"http://127.0.0.1:{web_port}"
        requests.get(f"{base}/readyz", timeout=30).raise_for_status()
        load_before = os.getloadavg()

        # Sign-ins first (not timed): 20 browser sessions, 20 bearer tokens.
        sessions = [sign_in(base, "dispatcher@bench.test" if i == 0 else f"dispatcher{i}@bench.test")
                    for i in range(DISPATCHERS)]
        for pair in data["pairs"]:
            pair["manager_token"], pair["tech_token"] = token(base, pair["manager"]), token(base, pair["tech"])
        stats = Phase()
        photo = jpeg()
        created: list[str] = []
        stop_at = time.monotonic() + args.warmup + args.seconds
        threads = [threading.Thread(target=dispatcher, args=(base, sessions[i], stats, stop_at))
                   for i in range(DISPATCHERS)]
        for pair in data["pairs"]:
            work, done = queue.Queue(), queue.Queue()
            threads.append(threading.Thread(target=manager, args=(base, pair, data, stats, stop_at, work, done, created)))
            threads.append(threading.Thread(target=technician, args=(base, pair, stats, stop_at, work, done, photo)))
        threads.append(threading.Thread(target=probe, args=(base, stats, stop_at, "healthz_during_mix", 0.5)))
        for t in threads:
            t.start()
        time.sleep(args.warmup)  # every worker process has served each kind of request once
        stats.current = Stats()
        mix_t0 = time.monotonic()
        for t in threads:
            t.join()
        mix_s = time.monotonic() - mix_t0
        stats = stats.current
        load_mix = os.getloadavg()

        ceiling = Stats()
        c_stop = time.monotonic() + args.ceiling_seconds
        c_t0 = time.monotonic()
        run_threads([threading.Thread(target=probe, args=(base, ceiling, c_stop, "healthz_ceiling", 0)) for _ in range(8)])
        c_s = time.monotonic() - c_t0
        check = verify(created)
    finally:
        stop(web)
        stop(redis_proc)

    print(f"\nmachine: {os.cpu_count()} cores; load average before {load_before[0]:.2f}, "
          f"after the mix {load_mix[0]:.2f} (1 min)")
    print(f"mix: {mix_s:.0f} s measured after {args.warmup} s warm-up, {DISPATCHERS} boards polling every {POLL_S} s, {TECHS} technicians, "
          f"{MANAGERS} managers (think {THINK[0]:g}-{THINK[1]:g} s); gunicorn.conf.py, WEB_CONCURRENCY={os.environ.get('WEB_CONCURRENCY', 'default (2 x cores + 1)')}, "
          f"WEB_THREADS={os.environ.get('WEB_THREADS', 'default (4)')}")
    print(f"{'kind':<20}{'n':>7}{'req/s':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}{'errors':>8}")
    worst = 0.0
    for st, seconds in ((stats, mix_s), (ceiling, c_s)):
        for kind in sorted(st.ms):
            v = st.ms[kind]
            p95 = pct(v, 95)
            if not kind.startswith("healthz"):
                worst = max(worst, p95)
            print(f"{kind:<20}{len(v):>7}{len(v) / seconds:>8.1f}{statistics.median(v):>8.1f}{p95:>8.1f}"
                  f"{pct(v, 99):>8.1f}{max(v):>8.1f}{len(st.errors[kind]):>8}")
    all_errors = {k: v for st in (stats, ceiling) for k, v in st.errors.items() if v}
    total = sum(len(v) for v in stats.ms.values())
    polls = stats.status.get("board_poll", {})
    print(f"board polls: {polls.get(204, 0)} answered 204 (nothing changed), {polls.get(200, 0)} answered 200 (re-rendered)")
    print(f"mixed total: {total} requests, {total / mix_s:.1f} req/s")
    print(f"nothing lost: {check['found']}/{check['created']} created tickets found; "
          f"missing {len(check['missing'])}, with events missing {len(check['incomplete'])}; by status {check['by_status']}")
    for kind, errs in all_errors.items():
        print(f"errors {kind}: {len(errs)}, e.g. {errs[:3]}")
    ok = not all_errors and not check["missing"] and not check["incomplete"]
    print(f"goal p95 < {GOAL_P95_MS:.0f} ms for every kind: {'met' if worst < GOAL_P95_MS else 'NOT met'} "
          f"(worst p95 {worst:.1f} ms); errors: {'none' if not all_errors else 'SOME'}; "
          f"whole run {time.perf_counter() - t0:.0f} s")
    if not ok:
        print(f"gunicorn log: {log_path}")
    else:
        shutil.rmtree(_TMP, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
