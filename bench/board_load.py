"""Benchmark: the dispatcher's live board, ticket list and ticket page over 100,000 tickets.

    .venv/bin/python bench/board_load.py [--tickets 100000] [--requests 200] [--reuse] [--thin]

Data (set-based `INSERT ... SELECT generate_series`, about 10 s): one customer with
300 branches, 80 technicians (each the primary of some branches), the plan's six
subcategories, a dispatcher, and `--tickets` tickets created every ~10 minutes over two
years. Everything older than the last 4,000 is CLOSED; of the last 4,000, roughly 10 %
NEW, 20 % ASSIGNED, 25 % IN_PROGRESS, 10 % COMPLETED and 35 % CLOSED, so the board
has ~2,600 open cards to choose from and a few hundred tickets closed in the last 24 h.
Unless `--thin`, each ticket also gets what months of use leave (REALISTIC_SQL): 8-15
timeline events, a completion with 1-4 parts when it was completed, and 4 photo rows
when it was closed with a completion (about 12 s more per 100k tickets).

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


def generate(app, tickets: int, realistic: bool = False, description_sql: str | None = None) -> float:
    """Reference rows through the ORM, tickets with one INSERT ... SELECT; with
    `realistic` (this script's default; load_mixed.py keeps the thin data it was
    measured with), each ticket's timeline, completions with parts and photo rows too
    (REALISTIC_SQL, set-based as well), and the technician and store manager who act
    on those timelines."""
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
        if realistic:
            users.create_user({"email": "tech@bench.test", "password": PASSWORD, "role": "technician",
                               "name": techs[0].name, "technicianId": techs[0].id})
            users.create_user({"email": "manager@bench.test", "password": PASSWORD, "role": "store_manager",
                               "name": "Dilnoza Store Manager", "branchIds": [branches[0].id]})
        db.session.commit()
        params = {"n": tickets, "recent": RECENT, "now": NOW.replace(tzinfo=None)}
        db.session.execute(text(TICKETS_SQL.replace("{description}", description_sql or DESCRIPTION_SQL)), params)
        if realistic:
            for step, sql in REALISTIC_SQL:
                t1 = time.perf_counter()
                count = db.session.execute(text(sql), params).rowcount
                print(f"  {step}: {count} rows in {time.perf_counter() - t1:.1f} s", flush=True)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return time.perf_counter() - t0


DESCRIPTION_SQL = """'Bench ticket ' || i || CASE i % 4 WHEN 0 THEN ': cold chamber too warm' WHEN 1 THEN ': glass door cracked'
                               WHEN 2 THEN ': compressor noise at night' ELSE ': water leaking under the fridge' END"""

# One row per ticket; `r` is a scrambled 0..99 that decides status and priority. The due
# times are the plan's minutes added around the clock: the bench's branches have no working
# calendar (calendar_id NULL), which is what sla_clock.deadlines gives them too (a branch with
# a calendar would need services/calendars.py's arithmetic, which SQL does not have).
TICKETS_SQL = """
WITH b AS (SELECT array_agg(id ORDER BY branch_code) AS ids FROM customer_branches),
     t AS (SELECT array_agg(id ORDER BY name) AS ids FROM technicians),
     s AS (SELECT array_agg(id ORDER BY name) AS ids, min(category_id) AS cat FROM issue_subcategories),
     g AS (
       SELECT i,
              CAST((CAST(i AS bigint) * 7919) % 100 AS integer) AS r,  -- 1M x 7919 overflows integer
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
  {description},
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


# What a ticket carries after months of use (issue 16 item 3), derived from each ticket's
# own number `i` and status, so that every run writes the same rows:
# - a completion for every ticket with a completed_at (COMPLETED: waiting for approval;
#   CLOSED: approved and signed), 1.5-4.5 h of labour at 150,000 UZS an hour;
# - 1-4 parts on each completion, from a list of real refrigeration parts;
# - for every CLOSED ticket with a completion, 4 photo rows (2 before, 2 after the
#   repair, the after ones on the completion; the files are not written: the pages
#   measured show thumbnails by URL);
# - 8-15 timeline events per ticket: created, assigned, accepted, arrived, photos,
#   completed, approved or closed where the status has them, notes by the dispatcher,
#   the technician and the store in between.
_TICKET_I = "CAST(substring(t.ticket_number from '([0-9]+)$') AS integer)"
REALISTIC_SQL = [
    ("completions", f"""
INSERT INTO service_completions (id, ticket_id, technician_id, completed_by_id, completed_by, completed_at,
  work_description, labor_hours, labor_cost_per_hour, parts_cost, labor_cost, total_cost, signature_key, signed_by,
  signed_at, approval_status, approval_notes, decided_at, decided_by_id, created_at, updated_at)
SELECT md5('c' || t.id), t.id, t.assigned_technician_id, NULL, tech.name, t.completed_at,
  (ARRAY['Replaced the start relay and cleaned the condenser; chamber back to 2 °C within 40 minutes.',
         'Door gasket replaced on both doors, hinges adjusted, checked the seal with a paper strip.',
         'Found a refrigerant leak at the evaporator joint, brazed it, evacuated and recharged with R404A.',
         'Fan motor of the condenser seized: replaced it and the capacitor, cleared the drain line.',
         'Thermostat sensor out of calibration: replaced it, set point 3 °C, watched two full cycles.'])[1 + {_TICKET_I} % 5],
  1.5 + ({_TICKET_I} % 4), 150000, 0, (1.5 + ({_TICKET_I} % 4)) * 150000, 0,
  CASE WHEN t.status = 'CLOSED' THEN 'signatures/' || t.id || '.png' END,
  CASE WHEN t.status = 'CLOSED' THEN 'Dilnoza Karimova' END,
  CASE WHEN t.status = 'CLOSED' THEN t.closed_at END,
  CASE WHEN t.status = 'CLOSED' THEN 'APPROVED' ELSE 'PENDING' END,
  CASE WHEN t.status = 'CLOSED' AND {_TICKET_I} % 3 = 0 THEN 'Works again, thank you.' END,
  CASE WHEN t.status = 'CLOSED' THEN t.closed_at END, NULL, t.completed_at, t.completed_at
FROM service_tickets t JOIN technicians tech ON tech.id = t.assigned_technician_id
WHERE t.completed_at IS NOT NULL
"""),
    ("parts", f"""
INSERT INTO completion_parts (id, completion_id, position, name, quantity, unit_cost, total)
SELECT md5('p' || c.id || k), c.id, k,
  (ARRAY['Start relay RKS-0', 'Door gasket 1800 mm', 'Condenser fan motor 10 W', 'Run capacitor 4 uF',
         'Refrigerant R404A, 1 kg', 'Thermostat sensor NTC 5k', 'Drain heater 15 W', 'Filter drier 1/4"'])
    [1 + ({_TICKET_I} + k * 3) % 8],
  1 + k % 2, 45000 + (({_TICKET_I} * 7 + k * 13) % 40) * 5000,
  (1 + k % 2) * (45000 + (({_TICKET_I} * 7 + k * 13) % 40) * 5000)
FROM service_completions c JOIN service_tickets t ON t.id = c.ticket_id,
     generate_series(1, 1 + {_TICKET_I} % 4) AS k
"""),
    ("completion totals", """
UPDATE service_completions c SET parts_cost = p.s, total_cost = c.labor_cost + p.s
FROM (SELECT completion_id, sum(total) AS s FROM completion_parts GROUP BY completion_id) p
WHERE p.completion_id = c.id
"""),
    ("photos", """
INSERT INTO ticket_photos (id, ticket_id, completion_id, type, caption, storage_key, thumb_key, content_type,
  width, height, size_bytes, original_name, uploaded_by_id, created_at)
SELECT md5('ph' || t.id || k), t.id, CASE WHEN k > 2 THEN c.id END, CASE WHEN k > 2 THEN 'after' ELSE 'before' END,
  (ARRAY['Display case from the aisle', 'Thermometer reading', 'Compressor compartment', 'The new part fitted'])[k],
  'photos/' || t.id || '/' || md5('ph' || t.id || k) || '.jpg', 'photos/' || t.id || '/' || md5('ph' || t.id || k) || '_thumb.jpg',
  'image/jpeg', 2048, 1536, 480000 + k * 37000, 'IMG_' || (2000 + k) || '.jpg',
  (SELECT id FROM users WHERE email = 'tech@bench.test'),
  CASE WHEN k > 2 THEN c.completed_at - interval '5 minutes' ELSE t.created_at + interval '75 minutes' END
FROM service_tickets t JOIN service_completions c ON c.ticket_id = t.id, generate_series(1, 4) AS k
WHERE t.status = 'CLOSED'
"""),
    ("events", f"""
WITH u AS (SELECT (SELECT id FROM users WHERE email = 'dispatcher@bench.test') AS disp,
                  (SELECT id FROM users WHERE email = 'tech@bench.test') AS tech,
                  (SELECT id FROM users WHERE email = 'manager@bench.test') AS mgr),
     tt AS (
       SELECT t.*, {_TICKET_I} AS i, 8 + ({_TICKET_I} * 13) % 8 AS n, c.id AS completion_id, c.total_cost,
              tech.name AS tech_name, t.status IN ('IN_PROGRESS', 'COMPLETED', 'CLOSED') AS started,
              COALESCE(t.closed_at, t.completed_at, LEAST(t.created_at + interval '2 days', CAST(:now AS timestamp)))
                - t.created_at AS span
       FROM service_tickets t LEFT JOIN service_completions c ON c.ticket_id = t.id
            LEFT JOIN technicians tech ON tech.id = t.assigned_technician_id
     ),
     e AS (
       SELECT tt.*, p,
              CASE WHEN p = 1 THEN 'created'
                   WHEN p = 2 AND tt.assigned_technician_id IS NOT NULL THEN 'assigned'
                   WHEN p = 3 AND started THEN 'accepted'
                   WHEN p = 4 AND started THEN 'arrived'
                   WHEN p IN (5, 6) AND tt.status = 'CLOSED' AND completion_id IS NOT NULL THEN 'photo_before'
                   WHEN p IN (n - 3, n - 2) AND tt.status = 'CLOSED' AND completion_id IS NOT NULL THEN 'photo_after'
                   WHEN p = n - 1 AND completion_id IS NOT NULL THEN 'completed'
                   WHEN p = n AND tt.status = 'CLOSED' AND completion_id IS NOT NULL THEN 'approved'
                   WHEN p = n AND tt.status = 'CLOSED' THEN 'closed'
                   WHEN (p + i) % 3 = 0 THEN 'store_note'
                   ELSE 'internal_note' END AS what
       FROM tt, generate_series(1, tt.n) AS p
     )
INSERT INTO ticket_events (id, ticket_id, at, kind, actor_id, data)
SELECT md5('e' || e.id || p), e.id, e.created_at + e.span * ((p - 1) / CAST(n AS double precision)),
  CASE WHEN what IN ('photo_before', 'photo_after') THEN 'photo_added' ELSE what END,
  CASE WHEN what IN ('created', 'internal_note', 'closed') AND (what <> 'internal_note' OR p % 2 = 0) THEN u.disp
       WHEN what IN ('accepted', 'arrived', 'photo_before', 'photo_after', 'completed', 'internal_note') THEN u.tech
       WHEN what IN ('store_note', 'approved') THEN u.mgr END,
  CAST(CASE what
    WHEN 'created' THEN json_build_object('ticketNumber', e.ticket_number, 'priority', e.priority,
                                          'technicianId', e.assigned_technician_id)
    WHEN 'assigned' THEN json_build_object('technicianId', e.assigned_technician_id, 'technicianName', e.tech_name,
                                           'automatic', true)
    WHEN 'accepted' THEN json_build_object('technicianId', e.assigned_technician_id)
    WHEN 'arrived' THEN json_build_object('distanceMeters', 20 + i % 180, 'farFromBranch', false)
    WHEN 'photo_before' THEN json_build_object('photoId', md5('ph' || e.id || (p - 4)), 'type', 'before')
    WHEN 'photo_after' THEN json_build_object('photoId', md5('ph' || e.id || (p - n + 6)), 'type', 'after')
    WHEN 'completed' THEN json_build_object('completionId', completion_id, 'totalCost', total_cost::text)
    WHEN 'approved' THEN json_build_object('completionId', completion_id, 'signedBy', 'Dilnoza Karimova')
    WHEN 'closed' THEN json_build_object('reason', e.close_reason)
    WHEN 'store_note' THEN json_build_object('text', (ARRAY[
      'The chamber is at 9 °C since the morning delivery; we moved the dairy to the next one.',
      'Please come before 10:00, the shop gets crowded after that.',
      'The noise is back at night, the guard heard it again at 2 o''clock.',
      'Door closes now but the light inside still flickers.'])[1 + (i + p) % 4])
    ELSE json_build_object('text', (ARRAY[
      'Called the store: the technician is on the way, about 40 minutes.',
      'Compressor starts and stops every few minutes: bring a start relay and a capacitor.',
      'Parts ordered from the warehouse, delivery tomorrow morning.',
      'Same fault as last month at this branch; check the condenser fan first.',
      'Store asked for a call before arrival: +998 90 123 45 67.'])[1 + (i * 3 + p) % 5])
  END AS json)
FROM e, u
"""),
]


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
        closed_id = db.session.execute(text(
            "SELECT id FROM service_tickets WHERE status = 'CLOSED' AND completed_at IS NOT NULL "
            "ORDER BY created_at DESC LIMIT 1")).scalar()
        open_id = db.session.execute(text(
            "SELECT id FROM service_tickets WHERE status = 'IN_PROGRESS' ORDER BY created_at DESC LIMIT 1")).scalar()
        counts = dict(db.session.execute(text("SELECT status, count(*) FROM service_tickets GROUP BY status")).all())
        shape = db.session.execute(text(
            "SELECT (SELECT count(*) FROM ticket_events), (SELECT count(*) FROM service_completions), "
            "(SELECT count(*) FROM completion_parts), (SELECT count(*) FROM ticket_photos)")).one()
    print("events, completions, parts, photos:", tuple(shape))
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
        ("ticket page, closed with completion", f"/tickets/{closed_id}", {}, 200),
        ("ticket page, in progress", f"/tickets/{open_id}", {}, 200),
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
    parser.add_argument("--thin", action="store_true",
                        help="tickets only, no timelines, completions or photos (the data before issue 16)")
    args = parser.parse_args()

    from app import clock

    clock.set_now(NOW)
    prepare_postgres(PG_URL, reset=not args.reuse)
    app = make_app(PG_URL)
    if not args.reuse:
        took = generate(app, args.tickets, realistic=not args.thin)
        print(f"generated {args.tickets} tickets in {took:.1f} s")
    rows = measure(app, args.requests)

    print()
    load = os.getloadavg()
    print(f"{os.cpu_count()} cores · load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} · "
          f"Python {platform.python_version()} · PostgreSQL · {args.tickets} tickets "
          f"({'thin' if args.thin else 'realistic'} data) · {args.requests} requests each")
    print()
    print("| request | p50 ms | p95 ms | p99 ms | max ms | app CPU p50 ms | SQL wait p50 ms | SQL statements | KB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['name']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | {r['cpu']:.1f} "
              f"| {r['db']:.1f} | {r['sql']} | {r['bytes'] / 1024:.1f} |")
    worst = max(r["p95"] for r in rows if not r["name"].startswith(("list, search text", "API", "ticket page")))
    print(f"\nworst board/list p95 (text search over every ticket and the API aside): {worst:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
