"""Benchmark: one SLA escalation sweep over a big backlog, beside the plan's loop.

    .venv/bin/python bench/sla_sweep.py [--backend postgresql|sqlite|both]
                                        [--tickets 100000] [--overdue 20000]
                                        [--contention N] [--write-load CLIENTS]

Data (set-based INSERTs): 500 branches, each with an ACTIVE primary and an ACTIVE
secondary technician (each with a user account), 2 dispatchers, and `--tickets` open
tickets (NORMAL, response 1440 min): `--overdue` of them ASSIGNED and unanswered past
their response due time, the rest ASSIGNED or IN_PROGRESS and not yet due. Calendars and
pauses in play (issue 19, `pause_in_play`): half the branches on a working calendar, one
IN_PROGRESS ticket in 32 paused past its resolution due time (no alert), a quarter of
those paused three days (a long-pause alert each).

On the same data, in the same run:
  1. our sweep (app/services/sla.py: the tickets staged by one locked `INSERT ...
     SELECT` into a temporary table, changed by ONE UPDATE, their events and new
     assignees each written by one `INSERT ... SELECT`, read back once for the alert
     texts, the outbox written by one more statement): three times rolled back (the
     median and the best are reported), once with every user deactivated (no outbox
     rows: the escalation work alone), once with both digests off (SLA_DIGEST_THRESHOLD
     and SLA_TECHNICIAN_DIGEST_THRESHOLD huge: a message per ticket for each of the
     two technicians and each dispatcher, rolled back), once committed (timed with its
     commit; dispatchers and technicians get one digest each);
  2. a faithful re-creation of the plan's `escalateOverdueTickets()` loop: one query
     for the ASSIGNED unanswered tickets, then per ticket one query for the SLA minutes,
     one for the secondary when overdue, one UPDATE each (no events, no alerts);
  3. an idle sweep right after (what every further minute costs), and first of all a
     sweep at a time when only one minute's share (20 tickets) has fallen due.
Both must escalate the same tickets. Statements are counted with SQLAlchemy's
`before_cursor_execute` (an executemany counts once). The speed-up is the loop's time
over the committed sweep's.

PostgreSQL: database `evercold_sla_bench` on 127.0.0.1 (created if missing; its public
schema is reset), or BENCH_PG_URL. SQLite: a temporary file.

Contention (issue 16 item 4), for the measured phases only (not the data load):
`--contention N` runs N processes that burn CPU in a tight loop, `--write-load C` runs
`pgbench` with C clients (TPC-B-like writes, each commit an fsync) on a database of its
own (`<bench database>_load`, initialised at `--write-scale`, default 5: 75 MB; 50 makes
it 750 MB, more than a small `shared_buffers`, so its writes evict the sweep's pages). The load average is printed before
each phase, and each timed run's PostgreSQL backend CPU (utime + stime from /proc).
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_TMP = tempfile.mkdtemp(prefix="evercold-sla-bench-")
os.environ.setdefault("INSTANCE_DIR", _TMP)  # keep huey's file and uploads out of instance/
os.environ.setdefault("HUEY_SQLITE_PATH", os.path.join(_TMP, "huey.db"))
os.environ.pop("REDIS_URL", None)

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/evercold_sla_bench")
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
# 30 s after the latest-created 20 overdue tickets fell due: a normal minute's work.
MINUTE = NOW - timedelta(hours=1, minutes=999) + timedelta(seconds=30)
BRANCHES = 500
DISPATCHERS = 2


def naive(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc).replace(tzinfo=None)


# --- setup -------------------------------------------------------------------------

def prepare_postgres(url: str) -> None:
    base, _, name = url.rpartition("/")
    admin = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def make_app(url: str):
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False,
                      "DB_STATEMENT_TIMEOUT": 0})  # bulk loading and the plan's loop outlast a page's limit
    with app.app_context():
        upgrade()
    return app


def load_data(db, tickets: int, overdue: int) -> None:
    """Reference rows with executemany, tickets set-based."""
    from app.cli import seed_categories
    from app.models import IssueSubcategory

    category = seed_categories()
    sub = db.session.execute(sa.select(IssueSubcategory).where(IssueSubcategory.category_id == category.id)
                             .order_by(IssueSubcategory.name)).scalars().first()
    db.session.commit()
    pg = db.session.get_bind().dialect.name == "postgresql"

    def ts(dt: datetime):
        """A timestamp as the app stores it (SQLite: SQLAlchemy's text format)."""
        return naive(dt) if pg else naive(dt).strftime("%Y-%m-%d %H:%M:%S.%f")

    created = ts(NOW - timedelta(days=30))
    conn = db.session.connection()
    conn.execute(text("INSERT INTO customers (id, name, created_at, updated_at) VALUES ('c1', 'Bench Mart', :t, :t)"),
                 {"t": created})
    conn.execute(text(
        "INSERT INTO customer_branches (id, customer_id, branch_code, branch_name, is_active, created_at, updated_at) "
        "VALUES (:id, 'c1', :code, :name, true, :t, :t)"),
        [{"id": f"b{i}", "code": f"BM-{i:04d}", "name": f"Bench Mart {i}", "t": created} for i in range(BRANCHES)])
    techs, assignments, users = [], [], []
    for i in range(BRANCHES):
        for role in ("p", "s"):
            tid = f"t{role}{i}"
            techs.append({"id": tid, "name": f"Tech {role.upper()}{i}", "phone": f"+99890{i:07d}", "t": created})
            assignments.append({"id": f"a{role}{i}", "tid": tid, "bid": f"b{i}", "p": role == "p", "t": created})
            users.append({"id": f"u{tid}", "email": f"{tid}@bench.test", "name": f"Tech {tid}", "role": "technician",
                          "tid": tid, "t": created})
    for i in range(DISPATCHERS):
        users.append({"id": f"ud{i}", "email": f"dispatcher{i}@bench.test", "name": f"Dispatcher {i}",
                      "role": "dispatcher", "tid": None, "t": created})
    conn.execute(text("INSERT INTO technicians (id, name, phone, status, created_at, updated_at) "
                      "VALUES (:id, :name, :phone, 'ACTIVE', :t, :t)"), techs)
    conn.execute(text(
        "INSERT INTO technician_branch_assignments (id, technician_id, branch_id, is_primary, assigned_date, "
        "start_date, created_at, updated_at) VALUES (:id, :tid, :bid, :p, :t, :t, :t, :t)"), assignments)
    conn.execute(text(
        "INSERT INTO users (id, email, password_hash, name, role, notify_telegram, notify_sms, technician_id, "
        "is_active, session_version, created_at, updated_at) "
        "VALUES (:id, :email, 'x', :name, :role, true, true, :tid, true, 1, :t, :t)"), users)

    # Overdue: created 25 h to ~41.6 h ago, 20 per minute (response due 1 h to ~17.6 h ago,
    # resolution not yet due), so a sweep at MINUTE finds one minute's share of them; the
    # ones whose warning time (75 %) was over a minute before MINUTE were warned then.
    # The rest: created 1 h ago (response due in 23 h): 3/4 ASSIGNED, 1/4 IN_PROGRESS.
    late, fresh = NOW - timedelta(hours=25), NOW - timedelta(hours=1)
    params = {"overdue": overdue, "sub": sub.id, "cat": category.id, "branches": BRANCHES,
              "late": ts(late), "late_resp": ts(late + timedelta(minutes=1440)),
              "late_res": ts(late + timedelta(minutes=2880)), "late_warn": ts(late + timedelta(minutes=1080)),
              "warned_before": ts(MINUTE - timedelta(minutes=1)),
              "fresh": ts(fresh), "fresh_resp": ts(fresh + timedelta(minutes=1440)),
              "fresh_res": ts(fresh + timedelta(minutes=2880)),
              "late_res_warn": ts(late + timedelta(minutes=2160)),
              "fresh_warn": ts(fresh + timedelta(minutes=1080)), "fresh_res_warn": ts(fresh + timedelta(minutes=2160))}
    columns = ("id, ticket_number, branch_id, category_id, subcategory_id, description, assigned_technician_id, "
               "status, priority, created_at, first_response_at, response_due_at, resolution_due_at, "
               "response_warn_at, resolution_warn_at, response_warned_at, escalation_level, version, updated_at")
    select_rows = """
        SELECT 'k' || n, 'BENCH-' || n, 'b' || (n % :branches), :cat, :sub,
               'Cold chamber ' || n || ' is warm; compressor noise since the morning',
               'tp' || (n % :branches),
               CASE WHEN n < :overdue OR n % 4 <> 0 THEN 'ASSIGNED' ELSE 'IN_PROGRESS' END, 'NORMAL',
               CASE WHEN n < :overdue THEN {late} ELSE {fresh} END,
               CASE WHEN n < :overdue OR n % 4 <> 0 THEN NULL ELSE {fresh} END,
               CASE WHEN n < :overdue THEN {late_resp} ELSE {fresh_resp} END,
               CASE WHEN n < :overdue THEN {late_res} ELSE {fresh_res} END,
               CASE WHEN n < :overdue THEN {late_warn} ELSE {fresh_warn} END,
               CASE WHEN n < :overdue THEN {late_res_warn} ELSE {fresh_res_warn} END,
               CASE WHEN n < :overdue AND {late_warn} <= {warned_before} THEN {late_warn} END,
               0, 1, CASE WHEN n < :overdue THEN {late} ELSE {fresh} END
        FROM series"""
    if pg:
        minus, plain = "CAST(:{col} AS TIMESTAMP) - make_interval(mins => n % 1000)", "CAST(:{col} AS TIMESTAMP)"
    else:
        minus, plain = "strftime('%Y-%m-%d %H:%M:%f000', :{col}, '-' || (n % 1000) || ' minutes')", ":{col}"
    select_rows = select_rows.format(
        **{c: minus.format(col=c) for c in ("late", "late_resp", "late_res", "late_warn", "late_res_warn")},
        **{c: plain.format(col=c) for c in ("fresh", "fresh_resp", "fresh_res", "fresh_warn", "fresh_res_warn",
                                             "warned_before")})
    if pg:
        conn.execute(text(f"INSERT INTO service_tickets ({columns}) "
                          f"WITH series AS (SELECT generate_series(0, :last) AS n) {select_rows}"),
                     {**params, "last": tickets - 1})
    else:
        conn.execute(text(f"INSERT INTO service_tickets ({columns}) "
                          f"WITH RECURSIVE series(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM series "
                          f"WHERE n < :last) {select_rows}"), {**params, "last": tickets - 1})
    conn.execute(text("INSERT INTO ticket_assignees (ticket_id, technician_id) "
                      "SELECT id, assigned_technician_id FROM service_tickets"))
    pause_in_play(conn, ts)
    db.session.commit()
    settle(db)


def pause_in_play(conn, ts) -> None:
    """Calendars and pauses in play (issue 19): half the branches on a working calendar
    (the sweep reads stored due times, so this changes what it reads, not how), and one
    in eight IN_PROGRESS tickets paused, past its resolution due time (a paused ticket
    gets no resolution alert), a quarter of those paused for three days (over
    PAUSE_ALERT_HOURS: one alert each). Each pause has its ticket_pauses row."""
    created = ts(NOW - timedelta(days=30))
    conn.execute(text(
        "INSERT INTO working_calendars (id, name, timezone, week, holidays, country, created_at, updated_at, version) "
        "VALUES ('cal1', 'Bench week', 'Asia/Tashkent', :week, '[]', 'UZ', :t, :t, 1)"),
        {"week": '{"mon": [["08:00", "20:00"]], "tue": [["08:00", "20:00"]], "wed": [["08:00", "20:00"]], '
                 '"thu": [["08:00", "20:00"]], "fri": [["08:00", "20:00"]], "sat": [["08:00", "20:00"]], "sun": []}',
         "t": created})
    conn.execute(text("UPDATE customer_branches SET calendar_id = 'cal1' "
                      "WHERE CAST(substr(id, 2) AS INTEGER) % 2 = 0"))
    paused = "status = 'IN_PROGRESS' AND CAST(substr(id, 2) AS INTEGER) % 32 = 0"
    long_ago, lately = ts(NOW - timedelta(days=3)), ts(NOW - timedelta(hours=2))
    conn.execute(text(
        f"UPDATE service_tickets SET pause_reason = 'WAITING_PARTS', resolution_due_at = :due, "
        f"paused_at = CASE WHEN CAST(substr(id, 2) AS INTEGER) % 128 = 0 THEN :long_ago ELSE :lately END "
        f"WHERE {paused}"), {"due": ts(NOW - timedelta(hours=1)), "long_ago": long_ago, "lately": lately})
    conn.execute(text(
        "INSERT INTO ticket_pauses (id, ticket_id, reason, paused_at, technician_id, branch_id) "
        "SELECT 'p' || id, id, 'WAITING_PARTS', paused_at, assigned_technician_id, branch_id "
        "FROM service_tickets WHERE paused_at IS NOT NULL"))


def settle(db) -> None:
    """Statistics fresh, and on PostgreSQL the dead rows a rolled-back run left behind
    vacuumed away (untimed), so each run starts from the same state."""
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE")
    else:
        with db.engine.begin() as c:
            c.exec_driver_sql("ANALYZE")


# --- contention --------------------------------------------------------------------

def _burn() -> None:  # pragma: no cover - a child process
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    x = 0
    while True:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF


class Contention:
    """N CPU burners and, optionally, a pgbench write load on another database, while the
    measured phases run. Ended by their own pids."""

    def __init__(self, burners: int, write_clients: int, pg_url: str, scale: int = 5):
        self.burners, self.write_clients, self.scale = burners, write_clients, scale
        base, _, name = pg_url.rpartition("/")
        self.load_db = f"{name}_load"
        self.procs: list = []
        self.pgbench = None

    def __enter__(self):
        if self.write_clients:
            pg = ["-h", "127.0.0.1", "-U", "postgres"]
            subprocess.run(["dropdb", *pg, "--if-exists", self.load_db], check=True)
            subprocess.run(["createdb", *pg, self.load_db], check=True)
            subprocess.run(["pgbench", *pg, "-i", "-q", "-s", str(self.scale), self.load_db], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.pgbench = subprocess.Popen(["pgbench", *pg, "-n", "-c", str(self.write_clients), "-T", "7200",
                                             self.load_db], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(self.burners):
            proc = multiprocessing.Process(target=_burn, daemon=True)
            proc.start()
            self.procs.append(proc)
        if self.burners or self.write_clients:
            print(f"contention on: {self.burners} CPU burner(s), pgbench write clients: {self.write_clients}",
                  flush=True)
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.join(5)
        if self.pgbench is not None:
            self.pgbench.terminate()
            self.pgbench.wait(10)
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", self.load_db])
        return False


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def _backend_pid(db) -> int | None:
    if db.engine.dialect.name != "postgresql":
        return None
    return db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _ticks(pid: int | None) -> int:
    if pid is None:
        return 0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


_TICK = os.sysconf("SC_CLK_TCK")


# --- measuring ---------------------------------------------------------------------

class Statements(list):
    """Statements seen, with the time each took in the database driver."""

    def __init__(self):
        super().__init__()
        self.timings: list[tuple[float, str]] = []

    def breakdown(self) -> str:
        return "; ".join(f"{' '.join(sql.split())[:38]} {secs:.2f}s" for secs, sql in self.timings if secs >= 0.05)


@contextmanager
def counted(engine):
    statements = Statements()

    def _count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
        conn.info["bench_t0"] = time.perf_counter()

    def _done(conn, cursor, statement, parameters, context, executemany):
        statements.timings.append((time.perf_counter() - conn.info.pop("bench_t0"), statement))

    event.listen(engine, "before_cursor_execute", _count)
    event.listen(engine, "after_cursor_execute", _done)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)
        event.remove(engine, "after_cursor_execute", _done)


def run_sweep(db, *, commit: bool, nobody_to_alert: bool = False, at: datetime = NOW):
    """One sweep at NOW, timed (wall and this process's CPU) with its commit when
    `commit`, else rolled back. `nobody_to_alert` deactivates every user first (in the
    same, rolled-back transaction): the escalation work without the outbox fan-out."""
    from app.services import sla

    db.session.remove()
    if nobody_to_alert:
        db.session.execute(text("UPDATE users SET is_active = false"))
    pid = _backend_pid(db)
    with counted(db.engine) as statements:
        t0, c0, k0 = time.perf_counter(), time.process_time(), _ticks(pid)
        result = sla.escalate_overdue(at)
        numbers = list(result.escalated)
        if commit:
            db.session.commit()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        pg_cpu = (_ticks(pid) - k0) / _TICK
    if not commit:
        db.session.rollback()
    db.session.remove()
    settle(db)
    if numbers:
        print(f"  wall {seconds:.2f}s, cpu {cpu:.2f}s, PostgreSQL backend cpu {pg_cpu:.2f}s; "
              f"in the database: {statements.breakdown()}", flush=True)
    return seconds, len(statements), numbers, result


def run_plan_loop(db):
    """The plan's escalateOverdueTickets(), statement for statement (see the module doc)."""
    db.session.remove()
    now = naive(NOW)
    cutoff, stamp = now - timedelta(minutes=1), now
    if db.engine.dialect.name == "sqlite":  # the app's stored text format
        cutoff, stamp = cutoff.strftime("%Y-%m-%d %H:%M:%S.%f"), now.strftime("%Y-%m-%d %H:%M:%S.%f")
    pid = _backend_pid(db)
    with counted(db.engine) as statements:
        t0, c0, k0 = time.perf_counter(), time.process_time(), _ticks(pid)
        conn = db.session.connection()
        tickets = conn.execute(text(
            "SELECT t.*, s.name AS s_name, b.branch_name, tech.name AS tech_name FROM service_tickets t "
            "JOIN issue_subcategories s ON s.id = t.subcategory_id JOIN customer_branches b ON b.id = t.branch_id "
            "LEFT JOIN technicians tech ON tech.id = t.assigned_technician_id "
            "WHERE t.status = 'ASSIGNED' AND t.first_response_at IS NULL AND t.created_at <= :cutoff"),
            {"cutoff": cutoff}).mappings().all()
        escalated = []
        for ticket in tickets:
            sub = conn.execute(text("SELECT * FROM issue_subcategories WHERE id = :id"),
                               {"id": ticket["subcategory_id"]}).mappings().first()
            minutes = {"CRITICAL": sub["sla_response_critical"], "HIGH": sub["sla_response_high"],
                       "NORMAL": sub["sla_response_normal"], "LOW": sub["sla_response_low"]}.get(
                ticket["priority"], 1440) if sub else 1440
            created = ticket["created_at"]
            if isinstance(created, str):
                created = datetime.fromisoformat(created)
            if now > created + timedelta(minutes=minutes):
                secondary = conn.execute(text(
                    "SELECT a.*, tech.name FROM technician_branch_assignments a "
                    "JOIN technicians tech ON tech.id = a.technician_id "
                    "WHERE a.branch_id = :b AND a.is_primary = false AND a.end_date IS NULL LIMIT 1"),
                    {"b": ticket["branch_id"]}).mappings().first()
                if secondary:
                    conn.execute(text("UPDATE service_tickets SET assigned_technician_id = :tech, updated_at = :now "
                                      "WHERE id = :id"), {"tech": secondary["technician_id"], "now": stamp,
                                                          "id": ticket["id"]})
                    escalated.append(ticket["ticket_number"])
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        pg_cpu = (_ticks(pid) - k0) / _TICK
    db.session.rollback()
    db.session.remove()
    settle(db)
    print(f"  cpu {cpu:.2f}s, PostgreSQL backend cpu {pg_cpu:.2f}s", flush=True)
    return seconds, len(statements), escalated, len(tickets)


def bench(backend: str, tickets: int, overdue: int, burners: int = 0, write_clients: int = 0,
          write_scale: int = 5) -> dict:
    if backend == "postgresql":
        url = PG_URL
        prepare_postgres(url)
    else:
        url = f"sqlite:///{os.path.join(_TMP, 'bench.db')}"
    print(f"\n== {backend}: {tickets:,} open tickets, {overdue:,} overdue ==", flush=True)
    app = make_app(url)
    from app.extensions import db

    out = {"backend": backend}
    with app.app_context():
        t0 = time.perf_counter()
        load_data(db, tickets, overdue)
        print(f"data loaded in {time.perf_counter() - t0:.1f} s", flush=True)
        with Contention(burners, write_clients, PG_URL, write_scale):
            out.update(_measured(app, db, overdue))
        return out


def _measured(app, db, overdue: int) -> dict:
    from app.models import Notification, ServiceTicket

    out = {}
    out["load_start"] = os.getloadavg()[0]
    print(load(), flush=True)

    run_sweep(db, commit=False, at=MINUTE)  # warm-up: connections, compiled statements
    sm, nm, minute, _ = run_sweep(db, commit=False, at=MINUTE)
    print(f"one minute's sweep ({MINUTE:%H:%M:%S}, rolled back): {sm:.3f} s, {nm} statements, "
          f"{len(minute):,} escalated", flush=True)
    print(load(), flush=True)
    rolled = [run_sweep(db, commit=False) for _ in range(3)]  # rolled back: the loop sees the same data
    times = sorted(r[0] for r in rolled)
    s1, n1, first = times[1], rolled[0][1], rolled[0][2]
    print(f"sweep (rolled back, 3 runs): median {times[1]:.3f} s, best {times[0]:.3f} s, {n1} statements, "
          f"{len(first):,} escalated", flush=True)
    print(load(), flush=True)
    ls, ln, loop_escalated, scanned = run_plan_loop(db)
    print(f"plan loop: {ls:.2f} s, {ln:,} statements, {len(loop_escalated):,} escalated "
          f"({scanned:,} tickets scanned)", flush=True)
    thresholds = {k: app.config[k] for k in ("SLA_DIGEST_THRESHOLD", "SLA_TECHNICIAN_DIGEST_THRESHOLD")}
    app.config.update({k: 10 ** 9 for k in thresholds})
    print(load(), flush=True)
    sp, np_, per_ticket, per_ticket_result = run_sweep(db, commit=False)
    app.config.update(thresholds)
    print(f"sweep without digests (rolled back): {sp:.3f} s, {np_} statements, "
          f"{len(per_ticket):,} escalated", flush=True)
    print(load(), flush=True)
    sc, nc, core, _ = run_sweep(db, commit=False, nobody_to_alert=True)
    print(f"sweep without recipients (rolled back; no outbox rows): {sc:.3f} s, {nc} statements, "
          f"{len(core):,} escalated", flush=True)
    print(load(), flush=True)
    s2, n2, second, result = run_sweep(db, commit=True)
    print(f"sweep (committed): {s2:.3f} s, {n2} statements, {len(second):,} escalated, "
          f"{result.alerts:,} alerts", flush=True)
    idle, idle_n, idle_escalated, _ = run_sweep(db, commit=True)
    print(f"idle sweep right after: {idle:.3f} s, {idle_n} statements, {len(idle_escalated)} escalated",
          flush=True)
    outbox = db.session.execute(sa.select(sa.func.count()).select_from(Notification)).scalar_one()
    at_secondary = db.session.execute(sa.select(sa.func.count()).select_from(ServiceTicket).where(
        ServiceTicket.escalation_level == 1, ServiceTicket.assigned_technician_id.like("ts%"))).scalar_one()
    out["load_end"] = os.getloadavg()[0]
    print(load(), flush=True)
    db.session.remove()
    db.engine.dispose()

    same = sorted(first) == sorted(loop_escalated) == sorted(second) == sorted(core) == sorted(per_ticket)
    best = min(times[0], s2)
    out.update(best_s=times[0], per_ticket_s=sp, minute_s=sm, minute_escalated=len(minute), core_s=sc, sweep_s=s1, sweep_commit_s=s2, sweep_statements=n2, loop_s=ls, loop_statements=ln,
               escalated=len(second), loop_escalated=len(loop_escalated), same=same, idle_s=idle,
               idle_statements=idle_n, outbox_rows=outbox, alerts=result.alerts, speedup=ls / s2,
               at_secondary=at_secondary)
    print(f"same tickets escalated by both: {same}; outbox rows written: {outbox:,}; "
          f"speed-up (committed sweep vs loop): {ls / s2:.0f}x; best sweep {best:.3f} s", flush=True)
    assert same, "the sweep and the plan's loop escalated different tickets"
    assert at_secondary == overdue
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--overdue", type=int, default=20_000)
    parser.add_argument("--contention", type=int, default=0, metavar="N",
                        help="N CPU-burning processes during the measured phases")
    parser.add_argument("--write-load", type=int, default=0, metavar="CLIENTS",
                        help="pgbench write clients on another database during the measured phases")
    parser.add_argument("--write-scale", type=int, default=5, help="pgbench scale of the write load's database")
    args = parser.parse_args()
    backends = ["postgresql", "sqlite"] if args.backend == "both" else [args.backend]
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, sqlalchemy {sa.__version__}, {load()}")
    try:
        rows = [bench(b, args.tickets, args.overdue, args.contention, args.write_load,
                      args.write_scale) for b in backends]
    finally:
        shutil.rmtree(_TMP, ignore_errors=True)
    print("\n| backend | sweep, committed (s) | sweep, rolled back, median of 3 (best) (s) "
          "| no digests, rolled back (s) "
          "| sweep without outbox (s) "
          "| sweep statements | plan loop (s) | loop statements | speed-up | escalated (same) | idle sweep (s) "
          "| one minute's sweep (s) | load average (start-end) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['backend']} | {r['sweep_commit_s']:.2f} | {r['sweep_s']:.2f} ({r['best_s']:.2f}) "
              f"| {r['per_ticket_s']:.2f} "
              f"| {r['core_s']:.2f} "
              f"| {r['sweep_statements']} | {r['loop_s']:.1f} | {r['loop_statements']:,} "
              f"| {r['loop_s'] / r['sweep_commit_s']:.1f}x "
              f"| {r['escalated']:,} ({r['same']}) | {r['idle_s']:.3f} "
              f"| {r['minute_s']:.3f} ({r['minute_escalated']}) | {r['load_start']:.1f}-{r['load_end']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
