"""Interleaved A/B: the same benches on two checkouts of the code, old and new, in turns.

    .venv/bin/python bench/ab.py --old ../wt-bench14-old                 # every bench, 5 pairs
    .venv/bin/python bench/ab.py --old ../wt-bench14-old --only sla-pg --pairs 7

On a shared machine the load moves by tens of percent in minutes, so two scripts run one
after the other do not compare. Here each side gets a long-lived worker process (the
side's own virtualenv and its own `bench/*.py` data generator, so each side's schema and
migrations are its own), loads its data once (untimed, both sides at the same time), and
then the driver asks the two workers for one round each in turn: old, new, new, old, old,
new ... (the side that goes first alternates, so neither always runs right after the
other). A round is a fixed set of timed operations; per figure the driver reports the
median over the rounds of each side and the ratio new/old, with the load average seen
before each round.

Benches (`--only`, comma-separated):
  sla-pg, sla-sqlite  bench/sla_sweep.py's data (500 branches with a primary and a
                      secondary each, --sla-tickets open tickets, --sla-overdue of them
                      overdue); a round: one minute's sweep, the full sweep, the sweep with
                      both digests off and the sweep with every user deactivated, each
                      rolled back; after the last round, the committed sweep and the idle
                      sweep right after it (once per side, in turn);
  board               bench/board_load.py's data (--board-tickets in PostgreSQL); a round:
                      every board/list/API request of that script, --board-requests times;
  analytics           bench/analytics_bench.py's data (--analytics-tickets); a round: the
                      page for 90 days and for 365 days, --analytics-runs times each.

Each figure: wall time, the worker's CPU time (time.process_time) and, on PostgreSQL, the
CPU time of the PostgreSQL backends the operation used (utime + stime from /proc), which
follow the work rather than the machine's load. Databases: `test_bench14` (new) and
`test_bench14_old` (old) on 127.0.0.1 unless --new-db / --old-db; each is reset.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


# --- worker side (runs under the side's own python, with the side's app) ----------------

def _ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


class Backends:
    """CPU ticks of the PostgreSQL backends that ran statements while active."""

    def __init__(self, engine):
        self.engine, self.start, self.end = engine, {}, None
        self.pg = engine.dialect.name == "postgresql"

    def _before(self, conn, cursor, statement, params, context, executemany):
        pid = conn.connection.driver_connection.info.backend_pid
        if pid not in self.start:
            self.start[pid] = _ticks(pid)

    def __enter__(self):
        if self.pg:
            import sqlalchemy as sa
            sa.event.listen(self.engine, "before_cursor_execute", self._before)
        return self

    def stop(self) -> float:
        """Backend CPU ms so far; stops listening."""
        if not self.pg:
            return 0.0
        import sqlalchemy as sa
        if sa.event.contains(self.engine, "before_cursor_execute", self._before):
            sa.event.remove(self.engine, "before_cursor_execute", self._before)
        if self.end is None:
            self.end = sum(_ticks(p) - t for p, t in self.start.items()) * 1000 / os.sysconf("SC_CLK_TCK")
        return self.end

    def __exit__(self, *exc):
        self.stop()


def _load(root: Path, name: str):
    spec = importlib.util.spec_from_file_location(f"side_{name}", root / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _set_clock(now):
    try:
        from app import clock
    except ImportError:  # before the clock moved below the services
        from app.services import clock
    clock.set_now(now)


class SlaWorker:
    def __init__(self, root: Path, backend: str, db: str, tickets: int, overdue: int):
        self.mod = _load(root, "sla_sweep")
        if backend == "postgresql":
            self.url = f"{SERVER}/{db}"
            self.mod.prepare_postgres(self.url)
        else:
            self.url = f"sqlite:///{os.path.join(self.mod._TMP, 'bench.db')}"
        self.tickets, self.overdue = tickets, overdue

    def load(self) -> dict:
        from app.extensions import db

        self.app = self.mod.make_app(self.url)
        self.ctx = self.app.app_context()
        self.ctx.push()
        self.db = db
        t0 = time.perf_counter()
        self.mod.load_data(db, self.tickets, self.overdue)
        took = time.perf_counter() - t0
        self.sweep("warm-up", at=self.mod.MINUTE)
        self.sweep("warm-up", at=self.mod.NOW)
        return {"load_s": took}

    def sweep(self, label: str, *, at, commit=False, nobody=False) -> dict:
        from sqlalchemy import text

        from app.services import sla

        db = self.db
        db.session.remove()
        if nobody:
            db.session.execute(text("UPDATE users SET is_active = false"))
        with Backends(db.engine) as backends:
            t0, c0 = time.perf_counter(), time.process_time()
            result = sla.escalate_overdue(at)
            escalated = len(result.escalated)
            if commit:
                db.session.commit()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            db_cpu = backends.stop()
        if not commit:
            db.session.rollback()
        db.session.remove()
        self.mod.settle(db)
        return {label: {"wall_ms": wall * 1000, "cpu_ms": cpu * 1000, "db_cpu_ms": db_cpu, "escalated": escalated}}

    def round(self) -> dict:
        out = {}
        out.update(self.sweep("one minute's sweep", at=self.mod.MINUTE))
        out.update(self.sweep("sweep", at=self.mod.NOW))
        keys = ("SLA_DIGEST_THRESHOLD", "SLA_TECHNICIAN_DIGEST_THRESHOLD")
        saved = {k: self.app.config[k] for k in keys}
        self.app.config.update({k: 10 ** 9 for k in keys})
        try:
            out.update(self.sweep("sweep, no digests", at=self.mod.NOW))
        finally:
            self.app.config.update(saved)
        out.update(self.sweep("sweep, nobody to alert", at=self.mod.NOW, nobody=True))
        return out

    def final(self) -> dict:
        return self.sweep("sweep, committed", at=self.mod.NOW, commit=True)

    def after(self) -> dict:
        """After the committed sweep: an idle sweep (what each further minute costs)."""
        return self.sweep("idle sweep (after the committed one)", at=self.mod.NOW, commit=True)


class BoardWorker:
    def __init__(self, root: Path, db: str, tickets: int, requests: int):
        self.mod = _load(root, "board_load")
        self.url = f"{SERVER}/{db}"
        self.tickets, self.requests = tickets, requests

    def load(self) -> dict:
        import re

        from sqlalchemy import text

        from app.extensions import db

        mod = self.mod
        _set_clock(mod.NOW)
        mod.prepare_postgres(self.url, reset=True)
        self.app = app = mod.make_app(self.url)
        took = mod.generate(app, self.tickets)
        with app.app_context():
            self.engine = db.engine
            branch_id = db.session.execute(text(
                "SELECT id FROM customer_branches ORDER BY branch_code LIMIT 1")).scalar()
            tech_id = db.session.execute(text("SELECT id FROM technicians ORDER BY name LIMIT 1")).scalar()
            number = db.session.execute(text(
                "SELECT ticket_number FROM service_tickets WHERE status = 'IN_PROGRESS' "
                "ORDER BY created_at DESC LIMIT 1")).scalar()
        # The scenarios of board_load.measure(), built the same way.
        client = self.client = app.test_client()
        email, password = "dispatcher@bench.test", mod.PASSWORD
        assert client.post("/login", data={"email": email, "password": password}).status_code == 302
        token = client.post("/api/auth/token", json={"email": email, "password": password}).json["token"]
        hx = {"HX-Request": "true"}
        board = client.get("/dispatcher/tickets", headers=hx).get_data(as_text=True)
        stamp = re.search(r'data-stamp="([^"]+)"', board).group(1)
        url = "/dispatcher/tickets/list"
        for _ in range(20):
            page = client.get(url).get_data(as_text=True)
            url = "/dispatcher/tickets/list?after=" + page.split(
                'href="/dispatcher/tickets/list?after=', 1)[1].split('"', 1)[0]
        self.scenarios = [
            ("board, full page", "/dispatcher/tickets", {}, 200),
            ("board, htmx partial", "/dispatcher/tickets", hx, 200),
            ("board, priority=HIGH", "/dispatcher/tickets?priority=HIGH", hx, 200),
            ("board, one branch", f"/dispatcher/tickets?branchId={branch_id}", hx, 200),
            ("board, one technician", f"/dispatcher/tickets?technicianId={tech_id}", hx, 200),
            ("board, overdue only", "/dispatcher/tickets?overdue=true", hx, 200),
            ("board, search number", f"/dispatcher/tickets?q={number}", hx, 200),
            ("board, search text", "/dispatcher/tickets?q=compressor", hx, 200),
            ("poll, nothing changed (204)", f"/dispatcher/tickets/poll?stamp={stamp}", hx, 204),
            ("poll, changed (renders)", "/dispatcher/tickets/poll?stamp=stale", hx, 200),
            ("list, first page", "/dispatcher/tickets/list", {}, 200),
            ("list, 21st page (keyset)", url, {}, 200),
            ("list, CLOSED of one branch", f"/dispatcher/tickets/list?status=CLOSED&branchId={branch_id}", {}, 200),
            ("list, search number", f"/dispatcher/tickets/list?q={number}", {}, 200),
            ("list, search text (all)", "/dispatcher/tickets/list?q=compressor", {}, 200),
            ("API GET /api/tickets?limit=50", "/api/tickets?limit=50", {"Authorization": f"Bearer {token}"}, 200),
        ]
        for _, path, headers, expected in self.scenarios:  # warm-up
            for _ in range(3):
                assert client.get(path, headers=headers).status_code == expected
        return {"load_s": took}

    def round(self) -> dict:
        out = {}
        for name, path, headers, expected in self.scenarios:
            walls, cpus = [], []
            with Backends(self.engine) as backends:
                for _ in range(self.requests):
                    t0, c0 = time.perf_counter(), time.process_time()
                    r = self.client.get(path, headers=headers)
                    walls.append((time.perf_counter() - t0) * 1000)
                    cpus.append((time.process_time() - c0) * 1000)
                    assert r.status_code == expected, (name, r.status_code)
                db_cpu = backends.stop() / self.requests
            out[name] = {"wall_ms": statistics.median(walls), "cpu_ms": statistics.median(cpus),
                         "db_cpu_ms": db_cpu}
        return out

    def final(self) -> dict:
        return {}

    def after(self) -> dict:
        return {}


class AnalyticsWorker:
    def __init__(self, root: Path, db: str, tickets: int, runs: int):
        mod = self.mod = _load(root, "analytics_bench")
        mod.DB_NAME, mod.URL = db, f"{SERVER}/{db}"
        self.tickets, self.runs = tickets, runs

    def load(self) -> dict:
        from datetime import timedelta
        from zoneinfo import ZoneInfo

        from app.extensions import db

        mod = self.mod
        mod.ensure_database()
        app = self.app = mod.make_app()
        t0 = time.perf_counter()
        if mod.counts().get("complete") != self.tickets:
            mod.generate(app, self.tickets)
        took = time.perf_counter() - t0
        _set_clock(mod.NOW)
        self.client = app.test_client()
        with app.app_context():
            assert self.client.post("/login", data={"email": mod.EMAIL, "password": mod.PASSWORD}).status_code == 302
            self.engine = db.engine
        today = mod.NOW.astimezone(ZoneInfo(mod.ZONE)).date()
        self.cases = [(label, f"/dispatcher/analytics?preset=custom&from={(today - timedelta(days=d)).isoformat()}"
                              f"&to={today.isoformat()}") for label, d in (("90 days", 89), ("365 days", 364))]
        for _, url in self.cases:
            assert self.client.get(url).status_code == 200
        return {"load_s": took}

    def round(self) -> dict:
        out = {}
        for label, url in self.cases:
            walls, cpus, db_cpus = [], [], []
            for _ in range(self.runs):
                with Backends(self.engine) as backends:
                    t0, c0 = time.perf_counter(), time.process_time()
                    r = self.client.get(url)
                    walls.append((time.perf_counter() - t0) * 1000)
                    cpus.append((time.process_time() - c0) * 1000)
                    db_cpus.append(backends.stop())
                assert r.status_code == 200
            out[f"page, {label}"] = {"wall_ms": statistics.median(walls), "cpu_ms": statistics.median(cpus),
                                     "db_cpu_ms": statistics.median(db_cpus)}
        return out

    def final(self) -> dict:
        return {}

    def after(self) -> dict:
        return {}


def worker(args) -> int:
    """Answer the driver's commands (one JSON line each) on the real stdout; the side's
    own prints go to stderr."""
    answer = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    root = Path(args.root).resolve()
    os.chdir(root)
    kind = args.worker
    if kind.startswith("sla-"):
        w = SlaWorker(root, "postgresql" if kind == "sla-pg" else "sqlite", args.db, args.sla_tickets,
                      args.sla_overdue)
    elif kind == "board":
        w = BoardWorker(root, args.db, args.board_tickets, args.board_requests)
    else:
        w = AnalyticsWorker(root, args.db, args.analytics_tickets, args.analytics_runs)
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            break
        try:
            result = getattr(w, command)()
        except Exception as exc:  # the driver reports it and stops
            import traceback
            traceback.print_exc()
            result = {"error": repr(exc)}
        answer.write(json.dumps(result) + "\n")
    return 0


# --- driver side -----------------------------------------------------------------------

class Side:
    def __init__(self, name: str, root: Path, python: str, kind: str, db: str, args):
        self.name = name
        passthrough = [f"--{k.replace('_', '-')}={getattr(args, k)}" for k in
                       ("sla_tickets", "sla_overdue", "board_tickets", "board_requests", "analytics_tickets",
                        "analytics_runs")]
        self.log = open(Path(args.log_dir) / f"ab-{kind}-{name}.log", "w")
        self.proc = subprocess.Popen([python, str(HERE), "--worker", kind, "--root", str(root), "--db", db,
                                      *passthrough], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, bufsize=1)

    def send(self, command: str) -> None:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def receive(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"{self.name} worker died; see {self.log.name}")
        result = json.loads(line)
        if "error" in result:
            raise SystemExit(f"{self.name} worker: {result['error']}; see {self.log.name}")
        return result

    def ask(self, command: str) -> dict:
        self.send(command)
        return self.receive()

    def close(self) -> None:
        try:
            self.send("quit")
            self.proc.wait(timeout=60)
        except Exception:
            self.proc.kill()
        self.log.close()


def run_bench(kind: str, args, old_root: Path, new_root: Path) -> dict:
    sides = {"old": Side("old", old_root, args.old_python or str(old_root / ".venv/bin/python"), kind,
                         args.old_db, args),
             "new": Side("new", new_root, args.new_python or str(new_root / ".venv/bin/python"), kind,
                         args.new_db, args)}
    try:
        t0 = time.perf_counter()
        for s in sides.values():  # both load at once (untimed)
            s.send("load")
        loads = {n: s.receive() for n, s in sides.items()}
        took = ", ".join(f"{n} {v['load_s']:.0f} s" for n, v in loads.items())
        print(f"\n== {kind}: data loaded in {time.perf_counter() - t0:.0f} s ({took})", flush=True)
        rounds = {"old": [], "new": []}
        loads_seen = []
        for i in range(args.pairs):
            order = ("old", "new") if i % 2 == 0 else ("new", "old")
            for name in order:
                loads_seen.append(os.getloadavg()[0])
                result = sides[name].ask("round")
                rounds[name].append(result)
                print(f"  pair {i + 1} {name:>3}: " + ", ".join(
                    f"{k} {v['wall_ms']:.0f}" for k, v in list(result.items())[:4]) + " ms", flush=True)
        finals = {}
        for name in ("old", "new"):
            loads_seen.append(os.getloadavg()[0])
            finals[name] = sides[name].ask("final")
        after = {"old": [], "new": []}
        for i in range(args.pairs):  # rounds after the final step, interleaved too
            for name in (("old", "new") if i % 2 == 0 else ("new", "old")):
                loads_seen.append(os.getloadavg()[0])
                result = sides[name].ask("after")
                if not result:
                    break
                after[name].append(result)
    finally:
        for s in sides.values():
            s.close()
    return {"kind": kind, "rounds": rounds, "finals": finals, "after": after, "load": loads_seen}


def summarize(res: dict) -> list[dict]:
    def medians(rounds: dict) -> list[dict]:
        out = []
        for name in (rounds["old"][0] if rounds["old"] else {}):
            row = {"figure": name, "n": len(rounds["old"])}
            for metric in ("wall_ms", "cpu_ms", "db_cpu_ms"):
                for side in ("old", "new"):
                    row[f"{side}_{metric}"] = statistics.median(r[name][metric] for r in rounds[side])
            row["escalated"] = {s: rounds[s][0][name].get("escalated") for s in ("old", "new")}
            out.append(row)
        return out

    rows = medians(res["rounds"])
    for name in res["finals"]["old"]:
        row = {"figure": name + " (once)", "n": 1}
        for metric in ("wall_ms", "cpu_ms", "db_cpu_ms"):
            for side in ("old", "new"):
                row[f"{side}_{metric}"] = res["finals"][side][name][metric]
        row["escalated"] = {s: res["finals"][s][name].get("escalated") for s in ("old", "new")}
        rows.append(row)
    return rows + medians(res.get("after", {"old": [], "new": []}))


def ratio(new: float, old: float) -> str:
    return f"{new / old:.2f}" if old > 0 else "–"


def print_table(res: dict) -> None:
    rows = summarize(res)
    pg = res["kind"] != "sla-sqlite"
    load = res["load"]
    print(f"\n### {res['kind']}: medians of {rows[0]['n']} interleaved rounds per side; load average "
          f"{min(load):.1f}–{max(load):.1f} (mean {statistics.mean(load):.1f})\n")
    head = "| figure | old wall ms | new wall ms | new/old | old CPU ms | new CPU ms | new/old |"
    line = "|---|---:|---:|---:|---:|---:|---:|"
    if pg:
        head += " old PG CPU ms | new PG CPU ms | new/old |"
        line += "---:|---:|---:|"
    print(head)
    print(line)
    for r in rows:
        cells = [r["figure"]]
        for metric, digits in (("wall_ms", 1), ("cpu_ms", 1), ("db_cpu_ms", 0))[:3 if pg else 2]:
            old, new = r[f"old_{metric}"], r[f"new_{metric}"]
            cells += [f"{old:.{digits}f}", f"{new:.{digits}f}", ratio(new, old)]
        print("| " + " | ".join(cells) + " |")
    esc = [r for r in rows if r["escalated"]["old"] is not None]
    if esc:
        same = all(r["escalated"]["old"] == r["escalated"]["new"] for r in esc)
        print(f"\nescalated (old/new): " + "; ".join(f"{r['figure']} {r['escalated']['old']}/{r['escalated']['new']}"
                                                    for r in esc) + f" — {'same' if same else 'DIFFERENT'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", default=str(HERE.parents[1].parent / "wt-bench14-old"),
                        help="the old checkout (a git worktree with its own .venv)")
    parser.add_argument("--new", default=str(HERE.parents[1]))
    parser.add_argument("--old-python")
    parser.add_argument("--new-python")
    parser.add_argument("--old-db", default="test_bench14_old")
    parser.add_argument("--new-db", default="test_bench14")
    parser.add_argument("--only", default="sla-pg,sla-sqlite,board,analytics")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--sla-tickets", type=int, default=50_000)
    parser.add_argument("--sla-overdue", type=int, default=10_000)
    parser.add_argument("--board-tickets", type=int, default=100_000)
    parser.add_argument("--board-requests", type=int, default=20)
    parser.add_argument("--analytics-tickets", type=int, default=200_000)
    parser.add_argument("--analytics-runs", type=int, default=3)
    parser.add_argument("--json", help="also write the raw rounds here")
    parser.add_argument("--log-dir", default="/tmp")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    old_root, new_root = Path(args.old).resolve(), Path(args.new).resolve()
    rev = {n: subprocess.run(["git", "-C", str(p), "log", "-1", "--format=%h %s"], capture_output=True,
                             text=True).stdout.strip()[:70] for n, p in (("old", old_root), ("new", new_root))}
    print(f"old: {old_root} ({rev['old']})\nnew: {new_root} ({rev['new']})\n{os.cpu_count()} cores, "
          f"load average {os.getloadavg()}; {args.pairs} pairs", flush=True)
    t0 = time.perf_counter()
    results = []
    for kind in args.only.split(","):
        res = run_bench(kind, args, old_root, new_root)
        results.append(res)
        print_table(res)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print(f"\nA/B took {time.perf_counter() - t0:.0f} s; load average now {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
