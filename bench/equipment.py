"""Benchmark: the equipment registry with 20,000 units and 1,000,000 tickets (issue 18).

    .venv/bin/python bench/equipment.py [--units 20000] [--tickets 1000000] [--requests 200] [--reuse]

Data (set-based `INSERT ... SELECT generate_series`): bench/board_load.py's reference rows
and thin tickets (300 branches, 80 technicians, one ticket every ~10 minutes, the last
4,000 in every status), then `--units` units spread over the branches (cold rooms,
display cases, condensing units; real refrigerants and charges), every ticket linked to
a unit of its own branch (about 50 tickets per unit over their history; one hot unit
carries every ticket of its branch, ~3,300, each CLOSED one with its repair), and an approved
completion (labour only) for every ticket the technician finished, so a unit's summary
has costs and a last service date to add up.

Measured in-process (Flask test client, no network; the clock frozen at NOW), signed in
as the dispatcher with a bearer token, each request `--requests` times after 5 warm-up
ones: p50 / p95 / p99 / max in ms, and the SQL statements one request sends. The unit
with the most tickets and a unit with none are both measured, so the query count of
the unit's JSON (its `summary` is one aggregate) is seen not to grow with its history.
`/equipment/<id>` (the unit's page) is measured too when the app has it.

PostgreSQL: database `evercold_equip_bench` on 127.0.0.1 (created if missing; its public
schema is reset unless `--reuse`), or BENCH_EQUIP_PG_URL.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import board_load  # noqa: E402  (sets INSTANCE_DIR, HUEY_SQLITE_PATH; no Redis)
from board_load import NOW, PASSWORD, make_app, percentile, prepare_postgres  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

PG_URL = os.environ.get("BENCH_EQUIP_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/evercold_equip_bench")

UNITS_SQL = """
WITH b AS (SELECT array_agg(id ORDER BY branch_code) AS ids FROM customer_branches)
INSERT INTO equipment (id, branch_id, asset_tag, kind, name, manufacturer, model, serial_number, installed_on,
  refrigerant, charge_kg, leak_detection, replacement_cost, sensor_id, setpoint_c, is_active, report_token,
  created_at, updated_at)
SELECT md5('eq' || j), b.ids[1 + j % array_length(b.ids, 1)],
  'BF-' || lpad((j % array_length(b.ids, 1))::text, 4, '0') || '-' || lpad(j::text, 6, '0'),
  (ARRAY['COLD_ROOM', 'DISPLAY_CASE', 'CONDENSING_UNIT', 'FREEZER'])[1 + j % 4],
  (ARRAY['Cold room ', 'Display case ', 'Condensing unit ', 'Freezer '])[1 + j % 4] || (1 + j / 300),
  (ARRAY['Carrier', 'Danfoss', 'Bitzer', 'Epta'])[1 + j % 4], 'M-' || (100 + j % 37), 'SN' || lpad(j::text, 8, '0'),
  DATE '2018-01-01' + (j % 2000),
  (ARRAY['R404A', 'R448A', 'R134a', 'R290', 'R744'])[1 + j % 5],
  (ARRAY[12.5, 8.0, 3.2, 0.15, 25.0])[1 + j % 5], j % 5 = 0,
  5000 + (j % 40) * 500, NULL, (ARRAY[2.0, 3.0, -18.0, -22.0])[1 + j % 4], TRUE,
  substr(md5('token' || j) || md5('token2' || j), 1, 32),
  CAST(:now AS timestamp) - interval '3 years', CAST(:now AS timestamp) - interval '3 years'
FROM generate_series(0, :units - 1) AS j, b
"""

_I = "CAST(substring(ticket_number from '([0-9]+)$') AS integer)"
LINK_SQL = f"""
UPDATE service_tickets SET source = 'STORE',
  equipment_id = md5('eq' || (({_I}) % 300 + 300 * ((({_I}) / 300) % :cycle)))
"""

# One hot unit: every ticket of the first branch (1 in 300) is on its first unit.
HOT_SQL = f"UPDATE service_tickets SET equipment_id = md5('eq0') WHERE ({_I}) % 300 = 0"

# board_load's first branch has CLOSED tickets without completed_at, so the hot unit had no
# completions (no costs; the join to completions found nothing). A unit that busy has its
# repairs: each CLOSED ticket of it completed an hour before it closed (then COMPLETIONS_SQL).
HOT_REPAIRS_SQL = """
UPDATE service_tickets SET completed_at = closed_at - interval '1 hour',
  assigned_technician_id = COALESCE(assigned_technician_id, (SELECT min(id) FROM technicians))
WHERE equipment_id = md5('eq0') AND status = 'CLOSED' AND completed_at IS NULL AND closed_at IS NOT NULL
"""

# An approved (or pending) completion, labour only, for every ticket with completed_at.
COMPLETIONS_SQL = """
INSERT INTO service_completions (id, ticket_id, technician_id, completed_by_id, completed_by, completed_at,
  work_description, labor_hours, labor_cost_per_hour, parts_cost, labor_cost, total_cost, signature_key, signed_by,
  signed_at, approval_status, approval_notes, decided_at, decided_by_id, created_at, updated_at)
SELECT md5('c' || t.id), t.id, t.assigned_technician_id, NULL, 'Technician', t.completed_at,
  'Replaced the start relay and cleaned the condenser.', 2, 150000, 0, 300000, 300000,
  NULL, CASE WHEN t.status = 'CLOSED' THEN 'Store Manager' END, CASE WHEN t.status = 'CLOSED' THEN t.closed_at END,
  CASE WHEN t.status = 'CLOSED' THEN 'APPROVED' ELSE 'PENDING' END, NULL,
  CASE WHEN t.status = 'CLOSED' THEN t.closed_at END, NULL, t.completed_at, t.completed_at
FROM service_tickets t
WHERE t.completed_at IS NOT NULL AND t.assigned_technician_id IS NOT NULL
"""


def generate(app, units: int, tickets: int) -> float:
    from app.extensions import db
    from app.services import users

    t0 = time.perf_counter()
    took = board_load.generate(app, tickets, realistic=False)
    print(f"  tickets: {tickets} in {took:.1f} s", flush=True)
    with app.app_context():
        params = {"units": units, "now": NOW.replace(tzinfo=None), "cycle": max(1, units // board_load.BRANCHES - 1)}
        for step, sql in (("units", UNITS_SQL), ("tickets linked to units", LINK_SQL), ("the hot unit", HOT_SQL),
                          ("the hot unit's repairs", HOT_REPAIRS_SQL), ("completions", COMPLETIONS_SQL)):
            t1 = time.perf_counter()
            count = db.session.execute(text(sql), params).rowcount
            print(f"  {step}: {count} rows in {time.perf_counter() - t1:.1f} s", flush=True)
        branch = db.session.execute(text("SELECT id FROM customer_branches ORDER BY branch_code LIMIT 1")).scalar()
        users.create_user({"email": "manager@bench.test", "password": PASSWORD, "role": "store_manager",
                           "name": "Bench Store Manager", "branchIds": [branch]})
        db.session.commit()
        db.session.commit()
    # What autovacuum does after a bulk load (the test server runs without it): statistics,
    # and the visibility map that lets index-only scans skip the heap.
    with app.app_context():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    return time.perf_counter() - t0


def measure(app, requests: int) -> list[dict]:
    from app.extensions import db

    with app.app_context():
        engine = db.engine
        busiest, busiest_n = db.session.execute(text(
            "SELECT equipment_id, count(*) FROM service_tickets WHERE equipment_id IS NOT NULL "
            "GROUP BY equipment_id ORDER BY count(*) DESC, equipment_id LIMIT 1")).one()
        typical, typical_n = db.session.execute(text(
            "SELECT equipment_id, count(*) FROM service_tickets WHERE equipment_id IS NOT NULL "
            "GROUP BY equipment_id ORDER BY count(*), equipment_id OFFSET 10000 LIMIT 1")).one()  # the median unit
        idle = db.session.execute(text(
            "SELECT e.id FROM equipment e WHERE NOT EXISTS "
            "(SELECT 1 FROM service_tickets t WHERE t.equipment_id = e.id) ORDER BY e.asset_tag LIMIT 1")).scalar()
        branch = db.session.execute(text("SELECT id FROM customer_branches ORDER BY branch_code LIMIT 1")).scalar()
        shape = db.session.execute(text(
            "SELECT (SELECT count(*) FROM equipment), (SELECT count(*) FROM service_tickets), "
            "(SELECT count(*) FROM service_tickets WHERE equipment_id IS NOT NULL), "
            "(SELECT count(*) FROM service_completions)")).one()
        has_page = any(r.rule == "/equipment/<unit_id>" for r in app.url_map.iter_rules())
    print("units, tickets, tickets on a unit, completions:", tuple(shape))
    print(f"busiest unit: {busiest_n} tickets; the median unit: {typical_n}; an idle unit: {idle}")

    client = app.test_client()
    auth = {"Authorization": "Bearer " + client.post(
        "/api/auth/token", json={"email": "dispatcher@bench.test", "password": PASSWORD}).json["token"]}
    mgr = {"Authorization": "Bearer " + client.post(
        "/api/auth/token", json={"email": "manager@bench.test", "password": PASSWORD}).json["token"]}
    first = client.get("/api/equipment?limit=50", headers=auth).json
    url = "/api/equipment?limit=50"
    depth = max(1, min(100, shape[0] // 50 - 2))
    for _ in range(depth):  # 100 pages deep (5,000 units in) on the full data
        url = "/api/equipment?limit=50&cursor=" + client.get(url, headers=auth).json["nextCursor"]
    deep = url
    assert first["items"], "no units"

    scenarios = [
        ("GET /api/equipment (50)", "/api/equipment?limit=50", auth),
        (f"GET /api/equipment, page {depth + 1}", deep, auth),
        ("GET /api/equipment?branchId=", f"/api/equipment?branchId={branch}&limit=100", auth),
        ("GET /api/equipment?q=cold", "/api/equipment?q=cold&limit=50", auth),
        ("GET /api/equipment?q=<serial>", "/api/equipment?q=SN00012345", auth),
        ("GET /api/equipment (store manager)", "/api/equipment?limit=50", mgr),
        (f"GET /api/equipment/<id> ({busiest_n} tickets)", f"/api/equipment/{busiest}", auth),
        (f"GET /api/equipment/<id> ({typical_n} tickets, the median unit)", f"/api/equipment/{typical}", auth),
        ("GET /api/equipment/<id> (no tickets)", f"/api/equipment/{idle}", auth),
        ("GET /api/equipment/<id>/history", f"/api/equipment/{busiest}/history", auth),
    ]
    if has_page:
        client.post("/login", data={"email": "dispatcher@bench.test", "password": PASSWORD})
        scenarios += [(f"page /equipment/<id> ({busiest_n} tickets)", f"/equipment/{busiest}", {}),
                      ("page /equipment/<id> (no tickets)", f"/equipment/{idle}", {})]

    statements: list[str] = []

    def _count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    rows = []
    for name, path, headers in scenarios:
        for _ in range(5):
            client.get(path, headers=headers)
        event.listen(engine, "before_cursor_execute", _count)
        statements.clear()
        r = client.get(path, headers=headers)
        event.remove(engine, "before_cursor_execute", _count)
        assert r.status_code == 200, (name, r.status_code, r.get_data(as_text=True)[:300])
        sql = len([s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))])
        times = []
        for _ in range(requests):
            t0 = time.perf_counter()
            r = client.get(path, headers=headers)
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200
        rows.append({"name": name, "p50": statistics.median(times), "p95": percentile(times, 95),
                     "p99": percentile(times, 99), "max": max(times), "sql": sql, "bytes": len(r.data)})
        print(f"  {name:<44} p50 {rows[-1]['p50']:6.1f}  p95 {rows[-1]['p95']:6.1f}  "
              f"p99 {rows[-1]['p99']:6.1f} ms  sql {sql}", flush=True)
    return rows


def explain(app) -> None:
    """The plans of the two queries that matter (the unit's summary, the list's first page)."""
    from app.extensions import db

    with app.app_context():
        busiest = db.session.execute(text(
            "SELECT equipment_id FROM service_tickets WHERE equipment_id IS NOT NULL "
            "GROUP BY equipment_id ORDER BY count(*) DESC LIMIT 1")).scalar()
        plan = db.session.execute(text(
            "EXPLAIN (ANALYZE, COSTS OFF) SELECT count(t.id), max(c.completed_at) FROM service_tickets t "
            "LEFT JOIN service_completions c ON c.ticket_id = t.id AND c.approval_status = 'APPROVED' "
            "WHERE t.equipment_id = :u"), {"u": busiest}).scalars().all()
        print("summary plan:\n  " + "\n  ".join(plan))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="keep the data of a previous run")
    args = parser.parse_args()

    from app import clock

    clock.set_now(NOW)
    prepare_postgres(PG_URL, reset=not args.reuse)
    app = make_app(PG_URL)
    if not args.reuse:
        took = generate(app, args.units, args.tickets)
        print(f"generated {args.units} units and {args.tickets} tickets in {took:.1f} s")
    explain(app)
    rows = measure(app, args.requests)

    load = os.getloadavg()
    print()
    print(f"{os.cpu_count()} cores · load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} · "
          f"Python {platform.python_version()} · PostgreSQL · {args.units} units · {args.tickets} tickets · "
          f"{args.requests} requests each")
    print()
    print("| request | p50 ms | p95 ms | p99 ms | max ms | SQL statements | KB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['name']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | {r['sql']} "
              f"| {r['bytes'] / 1024:.1f} |")
    worst = max(r["p95"] for r in rows)
    print(f"\nworst p95: {worst:.1f} ms (goal < 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
