"""Benchmark: the dispatcher's live board and ticket list over 100,000 tickets.

    .venv/bin/python bench/board_load.py [--tickets 100000] [--requests 200] [--reuse]

Data (set-based `INSERT ... SELECT generate_series`, about 10 s): one customer with
300 branches, 80 technicians (each the primary of some branches), the plan's six
subcategories, a dispatcher, and `--tickets` tickets created every ~10 minutes over two
years. Everything older than the last 4,000 is CLOSED; of the last 4,000, roughly 10 %
NEW, 20 % ASSIGNED, 25 % IN_PROGRESS, 10 % COMPLETED and 35 % CLOSED, so the board
has ~2,600 open cards to choose from and a few hundred tickets closed in the last 24 h.

Then, signed in as the dispatcher through the real login form, each page is requested
`--requests` times in-process (Flask test client, no network) and the wall time of each
request is recorded: that is the server's time for the request (routing, session,
queries, rendering), without a socket. The clock is frozen at NOW so every run sees
the same board. Figures: p50 / p95 / p99 / max in milliseconds, and the number of SQL
statements one request sends.

PostgreSQL: database `evercold_disp_bench` on 127.0.0.1 (created if missing; its
public schema is reset unless `--reuse`), or BENCH_PG_URL.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_TMP = tempfile.mkdtemp(prefix="evercold-board-bench-")
os.environ.setdefault("INSTANCE_DIR", _TMP)
os.environ.setdefault("HUEY_SQLITE_PATH", os.path.join(_TMP, "huey.db"))
os.environ.pop("REDIS_URL", None)

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/evercold_disp_bench")
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
BRANCHES = 300
TECHNICIANS = 80
RECENT = 4000
PASSWORD = "bench-password-1"


def prepare_postgres(url: str, reset: bool) -> None:
    base, _, name = url.rpartition("/")
    admin = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    if reset:
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()


def make_app(url: str):
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False, "WTF_CSRF_ENABLED": False,
                      "HUEY_IMMEDIATE": True, "PASSWORD_TIME_COST": 1, "PASSWORD_MEMORY_COST": 64,
                      "RATELIMIT_ENABLED": False,
                      "DB_STATEMENT_TIMEOUT": 0})  # bulk loading outlasts a page's limit
    with app.app_context():
        upgrade()
    return app


def generate(app, tickets: int) -> float:
    """Reference rows through the ORM, tickets with one INSERT ... SELECT."""
    from app.cli import seed_categories
    from app.extensions import db
    from app.models import Customer, CustomerBranch, Technician, TechnicianBranchAssignment
    from app.services import users

    t0 = time.perf_counter()
    with app.app_context():
        seed_categories()
        customer = Customer(name="Bench Foods")
        db.session.add(customer)
        db.session.flush()
        branches = [CustomerBranch(customer_id=customer.id, branch_code=f"BF-{i:04d}", branch_name=f"Bench Store {i}",
                                   latitude=41.2 + (i % 50) * 0.004, longitude=69.1 + (i // 50) * 0.02,
                                   contact_person="Manager", phone="+998900000000") for i in range(BRANCHES)]
        techs = [Technician(name=f"Technician {i:02d}", phone=f"+99890{i:07d}") for i in range(TECHNICIANS)]
        db.session.add_all(branches + techs)
        db.session.flush()
        db.session.add_all(TechnicianBranchAssignment(technician_id=techs[i % TECHNICIANS].id, branch_id=b.id,
                                                      is_primary=True, assigned_date=NOW)
                           for i, b in enumerate(branches))
        users.create_user({"email": "dispatcher@bench.test", "password": PASSWORD, "role": "dispatcher",
                           "name": "Bench Dispatcher"})
        db.session.commit()
        params = {"n": tickets, "recent": RECENT, "now": NOW.replace(tzinfo=None)}
        db.session.execute(text(TICKETS_SQL), params)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return time.perf_counter() - t0


# One row per ticket; `r` is a scrambled 0..99 that decides status and priority.
TICKETS_SQL = """
WITH b AS (SELECT array_agg(id ORDER BY branch_code) AS ids FROM customer_branches),
     t AS (SELECT array_agg(id ORDER BY name) AS ids FROM technicians),
     s AS (SELECT array_agg(id ORDER BY name) AS ids, min(category_id) AS cat FROM issue_subcategories),
     g AS (
       SELECT i,
              (i * 7919) % 100 AS r,
              CAST(:now AS timestamp) - make_interval(secs => (:n - i) * 630) AS created,
              i > :n - :recent AS recent
       FROM generate_series(1, :n) AS i
     ),
     x AS (
       SELECT g.*,
              CASE WHEN NOT recent THEN 'CLOSED'
                   WHEN r < 10 THEN 'NEW' WHEN r < 30 THEN 'ASSIGNED' WHEN r < 55 THEN 'IN_PROGRESS'
                   WHEN r < 65 THEN 'COMPLETED' ELSE 'CLOSED' END AS status,
              CASE WHEN i % 10 = 0 THEN 'CRITICAL' WHEN i % 10 < 3 THEN 'HIGH'
                   WHEN i % 10 < 8 THEN 'NORMAL' ELSE 'LOW' END AS priority
       FROM g
     )
INSERT INTO service_tickets (
  id, ticket_number, external_id, branch_id, contact_name, contact_role, contact_phone,
  category_id, subcategory_id, description, assigned_technician_id, status, priority,
  created_at, first_response_at, arrived_at, completed_at, closed_at, close_reason,
  response_due_at, resolution_due_at, response_warn_at, resolution_warn_at, escalation_level, version, updated_at)
SELECT
  md5('bench' || i), 'TKT-' || to_char(created, 'YYYYMM') || '-' || lpad(i::text, 6, '0'),
  CASE WHEN i % 3 = 0 THEN 'CRM-' || i END,
  b.ids[1 + i % array_length(b.ids, 1)], 'Manager', 'Store Manager', '+998900000000',
  s.cat, s.ids[1 + i % array_length(s.ids, 1)],
  'Bench ticket ' || i || CASE i % 4 WHEN 0 THEN ': cold chamber too warm' WHEN 1 THEN ': glass door cracked'
                               WHEN 2 THEN ': compressor noise at night' ELSE ': water leaking under the fridge' END,
  CASE WHEN status = 'NEW' THEN NULL ELSE t.ids[1 + i % array_length(t.ids, 1)] END,
  status, priority, created,
  CASE WHEN status IN ('IN_PROGRESS', 'COMPLETED', 'CLOSED') THEN created + interval '25 minutes' END,
  CASE WHEN status IN ('IN_PROGRESS', 'COMPLETED', 'CLOSED') AND i % 2 = 0 THEN created + interval '70 minutes' END,
  CASE WHEN status = 'COMPLETED' OR (status = 'CLOSED' AND i % 5 <> 0)
       THEN LEAST(created + make_interval(mins => 90 + r * 7), CAST(:now AS timestamp)) END,
  CASE WHEN status = 'CLOSED' THEN LEAST(created + make_interval(mins => 120 + r * 9), CAST(:now AS timestamp)) END,
  CASE WHEN status = 'CLOSED' AND i % 5 = 0 THEN 'Duplicate' END,
  created + make_interval(mins => CASE priority WHEN 'CRITICAL' THEN 60 WHEN 'HIGH' THEN 240
                                                WHEN 'NORMAL' THEN 1440 ELSE 2880 END),
  created + make_interval(mins => CASE priority WHEN 'CRITICAL' THEN 240 WHEN 'HIGH' THEN 1440
                                                WHEN 'NORMAL' THEN 2880 ELSE 4320 END),
  created + make_interval(mins => CASE priority WHEN 'CRITICAL' THEN 60 WHEN 'HIGH' THEN 240
                                                WHEN 'NORMAL' THEN 1440 ELSE 2880 END) * 0.75,
  created + make_interval(mins => CASE priority WHEN 'CRITICAL' THEN 240 WHEN 'HIGH' THEN 1440
                                                WHEN 'NORMAL' THEN 2880 ELSE 4320 END) * 0.75,
  0, 1 + r % 4,
  LEAST(created + make_interval(mins => 120 + r * 9), CAST(:now AS timestamp))
FROM x, b, t, s
"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))
    return ordered[k]


def measure(app, requests: int) -> list[dict]:
    from app.extensions import db

    with app.app_context():
        engine = db.engine
        branch_id = db.session.execute(text("SELECT id FROM customer_branches ORDER BY branch_code LIMIT 1")).scalar()
        tech_id = db.session.execute(text("SELECT id FROM technicians ORDER BY name LIMIT 1")).scalar()
        number = db.session.execute(text(
            "SELECT ticket_number FROM service_tickets WHERE status = 'IN_PROGRESS' ORDER BY created_at DESC LIMIT 1"
        )).scalar()
        counts = dict(db.session.execute(text("SELECT status, count(*) FROM service_tickets GROUP BY status")).all())
    print("tickets by status:", counts)

    client = app.test_client()
    resp = client.post("/login", data={"email": "dispatcher@bench.test", "password": PASSWORD})
    assert resp.status_code == 302, resp.status_code
    token = client.post("/api/auth/token", json={"email": "dispatcher@bench.test", "password": PASSWORD}).json["token"]

    hx = {"HX-Request": "true"}
    board = client.get("/dispatcher/tickets", headers=hx).get_data(as_text=True)
    stamp = re.search(r'data-stamp="([^"]+)"', board).group(1)
    # A cursor 20 pages deep into the list.
    url = "/dispatcher/tickets/list"
    for _ in range(20):
        page = client.get(url).get_data(as_text=True)
        after = page.split('href="/dispatcher/tickets/list?after=', 1)[1].split('"', 1)[0]
        url = "/dispatcher/tickets/list?after=" + after
    deep = url

    scenarios = [
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
        ("list, 21st page (keyset)", deep, {}, 200),
        ("list, CLOSED of one branch", f"/dispatcher/tickets/list?status=CLOSED&branchId={branch_id}", {}, 200),
        ("list, search number", f"/dispatcher/tickets/list?q={number}", {}, 200),
        ("list, search text (all 100k)", "/dispatcher/tickets/list?q=compressor", {}, 200),
        ("API GET /api/tickets?limit=50", "/api/tickets?limit=50", {"Authorization": f"Bearer {token}"}, 200),
    ]
    statements: list[str] = []
    sql_time = [0.0]

    def _count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def _sql_start(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()

    def _sql_end(conn, cursor, statement, parameters, context, executemany):
        sql_time[0] += time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())

    # Time spent waiting on PostgreSQL (statement sent to result back), per request.
    event.listen(engine, "before_cursor_execute", _sql_start)
    event.listen(engine, "after_cursor_execute", _sql_end)

    rows = []
    for name, path, headers, expected in scenarios:
        for _ in range(5):  # warm-up
            client.get(path, headers=headers)
        times, cpu, db_ms = [], [], []
        event.listen(engine, "before_cursor_execute", _count)
        statements.clear()
        r = client.get(path, headers=headers)
        event.remove(engine, "before_cursor_execute", _count)
        assert r.status_code == expected, (name, r.status_code, r.get_data(as_text=True)[:300])
        sql = len([s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))])
        for _ in range(requests):
            sql_time[0] = 0.0
            t0, c0 = time.perf_counter(), time.process_time()
            r = client.get(path, headers=headers)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            db_ms.append(sql_time[0] * 1000)
            assert r.status_code == expected
        rows.append({"name": name, "p50": statistics.median(times), "p95": percentile(times, 95),
                     "p99": percentile(times, 99), "max": max(times), "sql": sql, "bytes": len(r.data),
                     "cpu": statistics.median(cpu), "db": statistics.median(db_ms)})
        print(f"  {name:<32} p50 {rows[-1]['p50']:6.1f}  p95 {rows[-1]['p95']:6.1f}  "
              f"p99 {rows[-1]['p99']:6.1f} ms  app cpu p50 {rows[-1]['cpu']:5.1f} ms  "
              f"db p50 {rows[-1]['db']:5.1f} ms  sql {sql}", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="keep the data of a previous run")
    args = parser.parse_args()

    from app import clock

    clock.set_now(NOW)
    prepare_postgres(PG_URL, reset=not args.reuse)
    app = make_app(PG_URL)
    if not args.reuse:
        took = generate(app, args.tickets)
        print(f"generated {args.tickets} tickets in {took:.1f} s")
    rows = measure(app, args.requests)

    print()
    load = os.getloadavg()
    print(f"{os.cpu_count()} cores · load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} · "
          f"Python {platform.python_version()} · PostgreSQL · {args.tickets} tickets · {args.requests} requests each")
    print()
    print("| request | p50 ms | p95 ms | p99 ms | max ms | app CPU p50 ms | SQL wait p50 ms | SQL statements |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['name']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | {r['cpu']:.1f} "
              f"| {r['db']:.1f} | {r['sql']} |")
    worst = max(r["p95"] for r in rows if not r["name"].startswith(("list, search text", "API")))
    print(f"\nworst board/list p95 (text search over every ticket and the API aside): {worst:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
