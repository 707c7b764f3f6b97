"""Analytics benchmark: the /dispatcher/analytics page over one million tickets on PostgreSQL.

    .venv/bin/python bench/analytics_bench.py                   # generate once (a few minutes), then measure
    .venv/bin/python bench/analytics_bench.py --regenerate      # rebuild the data set
    .venv/bin/python bench/analytics_bench.py --without-indexes # also measure with migration 0003 rolled back

Data (database `evercold_analytics_bench`, built set-based with generate_series): 20
customers, 500 branches, 60 technicians, 3 categories x 5 subcategories, 1,000,000
tickets created over the three years before "now" (2026-11-20 12:00Z) in creation
order, with ~1.05M completions (8% of jobs rejected once before approval) and ~6.6M
timeline events (created, assigned, declined, escalated, accepted, arrived, completed,
rejected, approved, closed). Outcomes are drawn so that about 70% of responses and
resolutions are on time; the last days hold open tickets in every status.

Measured in-process through the Flask test client (server time, no network): the page
for the last 90 days and the last 365 days (APP_TIMEZONE=Asia/Tashkent), one warm-up
then --runs timed requests each; time per SQL statement; peak memory per request
(tracemalloc peak of the Python heap, in separate runs, and the process's peak RSS,
VmHWM, reset through /proc/self/clear_refs before each case).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

DB_NAME = "evercold_analytics_bench"
SERVER = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
URL = f"{SERVER}/{DB_NAME}"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
YEARS = 3
ZONE = "Asia/Tashkent"
EMAIL, PASSWORD = "bench.dispatcher@example.com", "bench-password-1"


def log(msg: str) -> None:
    print(msg, flush=True)


def ensure_database() -> None:
    engine = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": DB_NAME}).first():
            conn.exec_driver_sql(f'CREATE DATABASE "{DB_NAME}"')
    engine.dispose()


def make_app():
    from app import create_app
    from app.config import TestConfig

    return create_app({
        **{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
        "TESTING": False,
        "DB_STATEMENT_TIMEOUT": 0,  # loading a million tickets takes longer than a page may
        "SQLALCHEMY_DATABASE_URI": URL,
        "APP_TIMEZONE": ZONE,
        "UPLOAD_DIR": "/tmp/evercold-analytics-bench-uploads",
    })


# --- data ------------------------------------------------------------------------------

RESPONSE = "CASE pri WHEN 'CRITICAL' THEN 60 WHEN 'HIGH' THEN 240 WHEN 'NORMAL' THEN 1440 ELSE 2880 END"
RESOLUTION = "CASE pri WHEN 'CRITICAL' THEN 240 WHEN 'HIGH' THEN 1440 WHEN 'NORMAL' THEN 2880 ELSE 4320 END"


def _steps(n: int) -> list[tuple[str, str]]:
    start = NOW - timedelta(days=365 * YEARS)
    span = (NOW - start).total_seconds()
    now = NOW.strftime("%Y-%m-%d %H:%M:%S")
    return [
        ("reference data", f"""
            INSERT INTO customers (id, name, created_at, updated_at)
              SELECT md5('cu' || i), 'Chain ' || i, TIMESTAMP '{now}', TIMESTAMP '{now}' FROM generate_series(1, 20) i;
            INSERT INTO customer_branches (id, customer_id, branch_code, branch_name, is_active, created_at, updated_at)
              SELECT md5('br' || i), md5('cu' || (1 + (i - 1) % 20)), 'B' || lpad(i::text, 4, '0'), 'Store ' || i,
                     true, TIMESTAMP '{now}', TIMESTAMP '{now}' FROM generate_series(1, 500) i;
            INSERT INTO technicians (id, name, phone, status, created_at, updated_at)
              SELECT md5('te' || k), 'Technician ' || k, '+99890' || lpad(k::text, 7, '0'), 'ACTIVE',
                     TIMESTAMP '{now}', TIMESTAMP '{now}' FROM generate_series(1, 60) k;
            INSERT INTO issue_categories (id, name, created_at, updated_at)
              SELECT md5('ca' || c), (ARRAY['Cooling Equipment Problems', 'Electrical', 'Doors and Glass'])[c],
                     TIMESTAMP '{now}', TIMESTAMP '{now}' FROM generate_series(1, 3) c;
            INSERT INTO issue_subcategories (id, category_id, name, sla_response_critical, sla_response_high,
                sla_response_normal, sla_response_low, sla_resolution_critical, sla_resolution_high,
                sla_resolution_normal, sla_resolution_low, created_at, updated_at)
              SELECT md5('su' || j), md5('ca' || (1 + (j - 1) / 5)), 'Fault type ' || j,
                     60, 240, 1440, 2880, 240, 1440, 2880, 4320, TIMESTAMP '{now}', TIMESTAMP '{now}'
              FROM generate_series(1, 15) j;
        """),
        ("draws", f"""
            SET max_parallel_workers_per_gather = 0;
            SELECT setseed(0.2026);
            DROP TABLE IF EXISTS bench_draws;
            CREATE UNLOGGED TABLE bench_draws AS
            SELECT g, md5('t' || g) AS id,
                   TIMESTAMP '{start.strftime("%Y-%m-%d %H:%M:%S")}'
                     + make_interval(secs => ((g - 1 + random()) * {span} / {n})) AS created_at,
                   1 + floor(random() * 500)::int AS b,
                   1 + floor(random() * 15)::int AS s,
                   CASE WHEN random() < 0.10 THEN 'CRITICAL' WHEN random() < 0.30 THEN 'HIGH'
                        WHEN random() < 0.80 THEN 'NORMAL' ELSE 'LOW' END AS pri,
                   random() AS r_resp, random() AS r_arr, random() AS r_res, random() AS r_out,
                   random() AS r_parts, random() AS r_hours, random() AS r_rej, random() AS r_esc
            FROM generate_series(1, {n}) g;
        """),
        ("timeline facts", f"""
            DROP TABLE IF EXISTS bench_t;
            CREATE UNLOGGED TABLE bench_t AS
            SELECT d.*, {RESPONSE} AS resp_min, {RESOLUTION} AS res_min,
                   md5('te' || (1 + (d.b - 1) % 60)) AS primary_tech,
                   md5('te' || (1 + d.b % 60)) AS secondary_tech,
                   d.r_out < 0.03 AS cancelled,
                   d.r_esc < 0.05 AS escalated,
                   d.r_esc >= 0.05 AND d.r_esc < 0.08 AS declined,
                   d.r_rej < 0.08 AS rejected_once
            FROM bench_draws d;
            ALTER TABLE bench_t ADD COLUMN responded_at timestamp, ADD COLUMN arrived_at timestamp,
              ADD COLUMN completed_at timestamp, ADD COLUMN approved_at timestamp, ADD COLUMN escalated_at timestamp,
              ADD COLUMN first_completed_at timestamp;
            UPDATE bench_t SET
              escalated_at = CASE WHEN escalated THEN created_at + make_interval(mins => resp_min + 1) END,
              responded_at = CASE WHEN cancelled THEN NULL
                                  WHEN escalated THEN created_at + make_interval(secs => (resp_min + 1) * 60 + 1800 * r_resp)
                                  ELSE created_at + make_interval(secs => resp_min * 60 * 1.4 * r_resp * r_resp) END,
              completed_at = CASE WHEN cancelled THEN NULL
                                  ELSE created_at + make_interval(secs => res_min * 60 * (0.25 + 1.05 * r_res)) END;
            UPDATE bench_t SET
              responded_at = LEAST(responded_at, completed_at - interval '10 minutes'),
              arrived_at = CASE WHEN r_arr < 0.85 AND NOT cancelled
                                THEN LEAST(responded_at + make_interval(secs => resp_min * 20 * r_arr),
                                           completed_at - interval '5 minutes') END,
              approved_at = completed_at + make_interval(secs => 14400 * r_out),
              first_completed_at = CASE WHEN rejected_once THEN completed_at - make_interval(secs => res_min * 6 * (1 + r_hours)) END;
        """),
        ("tickets", f"""
            INSERT INTO service_tickets (id, ticket_number, branch_id, category_id, subcategory_id, description,
                assigned_technician_id, status, priority, created_at, first_response_at, arrived_at, completed_at,
                closed_at, close_reason, response_due_at, resolution_due_at, response_warn_at, resolution_warn_at,
                escalation_level, escalated_at, version, updated_at)
            SELECT id, 'TKT-' || to_char(created_at, 'YYYYMM') || '-' || lpad(g::text, 7, '0'),
                   md5('br' || b), md5('ca' || (1 + (s - 1) / 5)), md5('su' || s), 'Bench ticket ' || g,
                   CASE WHEN escalated AND escalated_at <= TIMESTAMP '{now}' THEN secondary_tech
                        WHEN declined THEN secondary_tech ELSE primary_tech END,
                   CASE WHEN cancelled AND created_at + interval '30 minutes' <= TIMESTAMP '{now}' THEN 'CLOSED'
                        WHEN cancelled THEN 'ASSIGNED'
                        WHEN approved_at <= TIMESTAMP '{now}' THEN 'CLOSED'
                        WHEN completed_at <= TIMESTAMP '{now}' THEN 'COMPLETED'
                        WHEN responded_at <= TIMESTAMP '{now}' THEN 'IN_PROGRESS'
                        ELSE 'ASSIGNED' END,
                   pri, created_at,
                   CASE WHEN responded_at <= TIMESTAMP '{now}' THEN responded_at END,
                   CASE WHEN arrived_at <= TIMESTAMP '{now}' THEN arrived_at END,
                   CASE WHEN completed_at <= TIMESTAMP '{now}' THEN completed_at END,
                   CASE WHEN cancelled AND created_at + interval '30 minutes' <= TIMESTAMP '{now}'
                          THEN created_at + interval '30 minutes'
                        WHEN approved_at <= TIMESTAMP '{now}' THEN approved_at END,
                   CASE WHEN cancelled THEN 'Duplicate report' END,
                   created_at + make_interval(mins => resp_min), created_at + make_interval(mins => res_min),
                   created_at + make_interval(mins => resp_min) * 0.75, created_at + make_interval(mins => res_min) * 0.75,
                   CASE WHEN escalated AND escalated_at <= TIMESTAMP '{now}' THEN 1 ELSE 0 END,
                   CASE WHEN escalated_at <= TIMESTAMP '{now}' THEN escalated_at END,
                   1, created_at
            FROM bench_t WHERE created_at <= TIMESTAMP '{now}' ORDER BY g;
        """),
        ("completions", f"""
            INSERT INTO service_completions (id, ticket_id, technician_id, completed_by, completed_at, work_description,
                labor_hours, labor_cost_per_hour, parts_cost, labor_cost, total_cost, approval_status, approval_notes,
                decided_at, created_at, updated_at)
            SELECT md5('cr' || g), id, CASE WHEN escalated OR declined THEN secondary_tech ELSE primary_tech END,
                   'Bench', first_completed_at, 'First attempt', hrs, 45.00, parts, hrs * 45, parts + hrs * 45,
                   'REJECTED', 'Still not cold', first_completed_at + interval '1 hour', first_completed_at,
                   first_completed_at
            FROM (SELECT *, 0.5 + floor(r_hours * 6) * 0.5 AS hrs,
                         round((r_parts * 200)::numeric, 2) AS parts FROM bench_t) t
            WHERE rejected_once AND completed_at <= TIMESTAMP '{now}' AND NOT cancelled
            ORDER BY g;
            INSERT INTO service_completions (id, ticket_id, technician_id, completed_by, completed_at, work_description,
                labor_hours, labor_cost_per_hour, parts_cost, labor_cost, total_cost, approval_status, decided_at,
                created_at, updated_at)
            SELECT md5('c' || g), id, CASE WHEN escalated OR declined THEN secondary_tech ELSE primary_tech END,
                   'Bench', completed_at, 'Repaired', hrs, 45.00, parts, hrs * 45, parts + hrs * 45,
                   CASE WHEN approved_at <= TIMESTAMP '{now}' THEN 'APPROVED' ELSE 'PENDING' END,
                   CASE WHEN approved_at <= TIMESTAMP '{now}' THEN approved_at END, completed_at, completed_at
            FROM (SELECT *, 0.5 + floor(r_hours * 12) * 0.5 AS hrs,
                         CASE WHEN r_parts < 0.3 THEN 0 ELSE round((r_parts * 600)::numeric, 2) END AS parts
                  FROM bench_t) t
            WHERE completed_at <= TIMESTAMP '{now}' AND NOT cancelled
            ORDER BY g;
        """),
        ("events", f"""
            INSERT INTO ticket_events (id, ticket_id, at, kind, data)
            SELECT md5(e.kind || ':' || t.g || ':' || coalesce(e.n, '')), t.id, e.at, e.kind, e.data
            FROM bench_t t
            CROSS JOIN LATERAL (VALUES
              ('created', t.created_at, json_build_object('technicianId', t.primary_tech), NULL),
              ('assigned', t.created_at + interval '1 microsecond',
                 json_build_object('technicianId', t.primary_tech, 'automatic', true), NULL),
              ('declined', CASE WHEN t.declined THEN t.created_at + interval '10 minutes' END,
                 json_build_object('technicianId', t.primary_tech, 'reason', 'Too far'), NULL),
              ('assigned', CASE WHEN t.declined THEN t.created_at + interval '10 minutes 1 microsecond' END,
                 json_build_object('technicianId', t.secondary_tech, 'previousTechnicianId', t.primary_tech), '2'),
              ('escalated', t.escalated_at,
                 json_build_object('technicianId', t.secondary_tech, 'previousTechnicianId', t.primary_tech), NULL),
              ('accepted', t.responded_at,
                 json_build_object('technicianId', CASE WHEN t.escalated OR t.declined THEN t.secondary_tech
                                                        ELSE t.primary_tech END), NULL),
              ('arrived', t.arrived_at, json_build_object('distanceMeters', 40), NULL),
              ('completed', t.first_completed_at, json_build_object('completionId', md5('cr' || t.g)), '1'),
              ('rejected', t.first_completed_at + interval '1 hour',
                 json_build_object('completionId', md5('cr' || t.g)), NULL),
              ('completed', t.completed_at, json_build_object('completionId', md5('c' || t.g)), NULL),
              ('approved', t.approved_at, json_build_object('completionId', md5('c' || t.g)), NULL),
              ('closed', CASE WHEN t.cancelled THEN t.created_at + interval '30 minutes' END,
                 json_build_object('reason', 'Duplicate report'), NULL)
            ) AS e(kind, at, data, n)
            WHERE e.at IS NOT NULL AND e.at <= TIMESTAMP '{now}';
        """),
        ("clean up", """
            DROP TABLE bench_draws;
            DROP TABLE bench_t
        """),
    ]


def generate(app, n: int) -> None:
    from flask_migrate import upgrade

    from app.extensions import db
    from app.models import Role
    from app.services import users

    engine = sa.create_engine(URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    with app.app_context():
        upgrade()
    t_all = time.perf_counter()
    with engine.connect() as conn:
        raw = conn.connection.driver_connection  # psycopg, autocommit: plain SQL, no placeholders
        raw.execute("SET maintenance_work_mem = '512MB'")
        raw.execute("SET work_mem = '256MB'")
        # Bulk load as pg_restore does: the rows are consistent by construction, so the
        # foreign-key triggers are skipped for this session (superuser), and the secondary
        # indexes of the big tables are dropped first and built again at the end.
        raw.execute("SET session_replication_role = replica")
        indexes = raw.execute("""
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = 'public' AND i.tablename IN ('service_tickets', 'service_completions', 'ticket_events')
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""").fetchall()
        for name, _ in indexes:
            raw.execute(f'DROP INDEX "{name}"')
        for name, sql in _steps(n):
            t0 = time.perf_counter()
            for statement in [s.strip() for s in sql.split(";") if s.strip()]:
                raw.execute(statement)
            log(f"  {name}: {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        for _, definition in indexes:
            raw.execute(definition)
        # VACUUM as autovacuum would have done on a live database: hint bits and the
        # visibility map set, statistics fresh.
        raw.execute("VACUUM ANALYZE")
        log(f"  {len(indexes)} indexes built again, vacuumed and analyzed: {time.perf_counter() - t0:.1f} s")
    with app.app_context():
        users.create_user({"email": EMAIL, "password": PASSWORD, "role": Role.DISPATCHER.value, "name": "Bench"})
        db.session.commit()
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE TABLE bench_done AS SELECT {n} AS tickets")
    engine.dispose()
    log(f"generated in {time.perf_counter() - t_all:.0f} s")


def counts() -> dict:
    engine = sa.create_engine(URL)
    out = {}
    with engine.connect() as conn:
        try:  # written last by generate(): a half-built data set is built again
            out["complete"] = conn.exec_driver_sql("SELECT tickets FROM bench_done").scalar()
        except sa.exc.ProgrammingError:
            return {}
        for table in ("service_tickets", "service_completions", "ticket_events"):
            out[table] = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
        out["size"] = conn.exec_driver_sql("SELECT pg_size_pretty(pg_database_size(current_database()))").scalar()
    engine.dispose()
    return out


# --- measuring --------------------------------------------------------------------------

def _vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_hwm() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


class StatementTimer:
    """Wall time per SQL statement of a request (first words of the statement as its name)."""

    def __init__(self, engine):
        self.engine = engine
        self.times: list[tuple[str, float]] = []
        self.backend_ticks: dict[int, int] = {}
        self.cpu: list[tuple[str, float]] = []

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._before)
        sa.event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._before)
        sa.event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, params, context, executemany):
        pid = conn.connection.driver_connection.info.backend_pid
        self.backend_ticks.setdefault(pid, _ticks(pid))
        conn.info["t0"] = time.perf_counter()
        conn.info["c0"] = (pid, _ticks(pid))

    def backend_cpu_ms(self) -> float:
        """CPU time the PostgreSQL backends spent since this request's first statement."""
        hz = os.sysconf("SC_CLK_TCK")
        return sum(_ticks(pid) - t for pid, t in self.backend_ticks.items()) * 1000 / hz

    def _after(self, conn, cursor, statement, params, context, executemany):
        pid, c0 = conn.info.pop("c0")
        cpu = (_ticks(pid) - c0) * 1000 / os.sysconf("SC_CLK_TCK")
        self.times.append((_name(statement), (time.perf_counter() - conn.info.pop("t0")) * 1000))
        self.cpu.append((_name(statement), cpu))


def _ticks(pid: int) -> int:
    """utime + stime of a process, in clock ticks (the PostgreSQL backend runs here too)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


NAMES = (
    (("WITH f AS MATERIALIZED", "resp_measured"), "SLA: compliance in 8 groupings, medians and p90"),
    (("WITH f AS MATERIALIZED", "parts_cost"), "cost: 7 groupings, labour-hours medians"),
    (("slots AS",), "repeat faults"),
    (("ticket_events",), "technician events"),
    (("AS tech",), "technician completions"),
    (("AS due",), "at risk (list)"),
    (("count(*) AS n",), "at risk (count)"),
    (("FROM customers",), "filter options"),
    (("FROM technicians",), "technician names"),
    (("SET LOCAL",), "SET LOCAL"),
)


def _name(statement: str) -> str:
    s = " ".join(statement.split())
    for markers, name in NAMES:
        if all(m in s for m in markers):
            return name
    return s[:60]


def measure(app, runs: int) -> list[dict]:
    from app.extensions import db
    from app import clock

    clock.set_now(NOW)
    client = app.test_client()
    with app.app_context():
        resp = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
        assert resp.status_code == 302, resp.status_code
        engine = db.engine
    today = NOW.astimezone(__import__("zoneinfo").ZoneInfo(ZONE)).date()
    cases = [("90 days", today - timedelta(days=89)), ("365 days", today - timedelta(days=364))]
    results = []
    for label, first in cases:
        url = f"/dispatcher/analytics?preset=custom&from={first.isoformat()}&to={today.isoformat()}"
        resp = client.get(url)  # warm-up: caches, compiled statements, PostgreSQL buffers
        assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
        walls, cpus, db_cpus, statements, statement_cpu = [], [], [], {}, {}
        for _ in range(runs):
            with app.app_context():
                timer = StatementTimer(engine)
            with timer:
                w0, c0 = time.perf_counter(), time.process_time()
                resp = client.get(url)
                walls.append((time.perf_counter() - w0) * 1000)
                cpus.append((time.process_time() - c0) * 1000)
            assert resp.status_code == 200
            db_cpus.append(timer.backend_cpu_ms())
            for name, ms in timer.times:
                statements.setdefault(name, []).append(ms)
            for name, ms in timer.cpu:
                statement_cpu.setdefault(name, []).append(ms)
        _reset_hwm()
        hwm0 = _vm_hwm_mb()
        tracemalloc.start()
        resp = client.get(url)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        html_kb = len(resp.get_data()) / 1024
        results.append({
            "case": label, "from": first.isoformat(), "to": today.isoformat(),
            "median_ms": statistics.median(walls), "max_ms": max(walls), "min_ms": min(walls),
            "cpu_ms": statistics.median(cpus), "db_cpu_ms": statistics.median(db_cpus),
            "py_peak_mb": peak / 1024 / 1024, "rss_before_mb": hwm0, "rss_peak_mb": _vm_hwm_mb(),
            "html_kb": html_kb,
            "statements": {k: statistics.median(v) for k, v in statements.items()},
            "statement_cpu": {k: statistics.median(v) for k, v in statement_cpu.items()},
            "tickets": _tickets_in(first, today),
        })
    return results


def _tickets_in(first: date, last: date) -> int:
    from app.services.analytics import local_midnight
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(ZONE)
    engine = sa.create_engine(URL)
    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM service_tickets WHERE created_at >= :a AND created_at < :b"),
                         {"a": local_midnight(first, zone).replace(tzinfo=None),
                          "b": local_midnight(last + timedelta(days=1), zone).replace(tzinfo=None)}).scalar()
    engine.dispose()
    return n


def report(results: list[dict], title: str) -> None:
    log(f"\n{title}")
    for r in results:
        log(f"  {r['case']} ({r['from']} .. {r['to']}, {r['tickets']:,} tickets created): "
            f"median {r['median_ms']:.0f} ms (min {r['min_ms']:.0f}, max {r['max_ms']:.0f}), "
            f"CPU: app {r['cpu_ms']:.0f} ms + PostgreSQL {r['db_cpu_ms']:.0f} ms; Python heap peak {r['py_peak_mb']:.1f} MB, "
            f"RSS peak {r['rss_peak_mb']:.0f} MB (before {r['rss_before_mb']:.0f} MB); page {r['html_kb']:.0f} KB")
        for name, ms in sorted(r["statements"].items(), key=lambda kv: -kv[1]):
            if ms >= 1:
                log(f"      {ms:7.1f} ms wall, {r['statement_cpu'].get(name, 0):6.0f} ms PostgreSQL CPU  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--threads", type=int, default=None,
                        help="ANALYTICS_THREADS for the page (default: the app's, 5; 1 = one query at a time)")
    parser.add_argument("--without-indexes", action="store_true",
                        help="also measure with migration 0003 (the analytics indexes) rolled back")
    args = parser.parse_args()

    ensure_database()
    app = make_app()
    if args.threads is not None:
        app.config["ANALYTICS_THREADS"] = args.threads
    have = counts()
    if args.regenerate or have.get("complete") != args.tickets:
        log(f"generating {args.tickets:,} tickets in {DB_NAME} ...")
        generate(app, args.tickets)
        have = counts()
    log(f"data: {have}")
    log(f"load average: {os.getloadavg()}")
    report(measure(app, args.runs), "with the analytics indexes (migration 0003)")
    if args.without_indexes:
        from flask_migrate import downgrade, upgrade

        with app.app_context():
            downgrade(revision="0002")
        try:
            report(measure(app, args.runs), "without them (downgraded to 0002)")
        finally:
            with app.app_context():
                upgrade()
    log(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
