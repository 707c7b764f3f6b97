"""Benchmark: search by a rare word over 1,000,000 tickets, and what the search index
costs each ticket write, in one run (issue 16 item 6).

    .venv/bin/python bench/search.py [--tickets 1000000] [--requests 100] [--writes 500] [--reuse]
    .venv/bin/python bench/search.py --sqlite 100000      # SQLite: the scan it does instead

Data: bench/board_load.py's generator (`INSERT ... SELECT generate_series`, reference
rows through the ORM) with descriptions of 8 words drawn from a mixed English, Russian
and Uzbek vocabulary of a refrigeration service desk ("Холодильник не морозит",
"sovutgich", "compressor" ...), a third of the tickets with an external id, and one
ticket in 100,003 carrying the rare word `vibroizolyator` (10 at 1M). Loaded without
the search index; then, in this order, on the same database:

1. searches without the index (`--slow-requests` each after one warm-up: they read
   every ticket);
2. ticket writes without the index: `--writes` inserts (a new ticket, INSERT + COMMIT),
   description edits (UPDATE of an indexed column + COMMIT) and status changes (UPDATE
   of a column the index does not cover + COMMIT), each timed on its own;
3. CREATE INDEX ix_service_tickets_search (migration 0012's), timed, and its size;
4. the same searches with the index (`--requests` each after 5 warm-ups; a fifth of
   that for the common word and the two-character query, which match ~15 % and most
   tickets, and which the board counts in full);
5. the same writes with the index.

Searches are timed three ways: the service function (ticket_queries.ticket_page as the
dispatcher, 50 newest matches, the API's query), the API route (`GET /api/tickets?q=`,
Flask test client in-process: routing, auth, query, JSON) and the board and list pages
(`/dispatcher/tickets?q=` as htmx, `/dispatcher/tickets/list?q=`). Figures: p50 / p95 /
max ms, warm. Writes: mean / p50 / p95 / max ms per write, commit included (each commit
waits for the WAL flush, as in production).

PostgreSQL: database `evercold_search_bench` on 127.0.0.1 (created if missing; its
public schema is reset unless `--reuse`), or BENCH_SEARCH_PG_URL.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import board_load  # noqa: E402  (sets the environment, sys.path and the app factory up)

from sqlalchemy import text  # noqa: E402

PG_URL = os.environ.get("BENCH_SEARCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/evercold_search_bench")
RARE = "vibroizolyator"
INDEX = "ix_service_tickets_search"

WORDS = ["холодильник", "не", "морозит", "витрина", "течёт", "компрессор", "шумит", "дверь", "уплотнитель",
         "sovutgich", "ishlamayapti", "muzlatgich", "eshik", "shovqin", "suv", "oqmoqda", "harorat", "yuqori",
         "compressor", "noise", "at", "night", "glass", "door", "cracked", "water", "leaking", "under", "the",
         "fridge", "cold", "chamber", "too", "warm", "display", "case", "ice", "on", "evaporator", "fan",
         "stopped", "light", "flickers", "drain", "blocked", "thermostat", "shows", "12°C", "alarm", "beeping",
         "seal", "torn", "freezer"]
# Eight words per ticket, picked by scrambles of the ticket's number; the rare word in 1 of 100,003.
SEARCH_DESCRIPTION = ("(" + " || ' ' || ".join(
    f"(ARRAY[{', '.join(repr(w) for w in WORDS)}])[1 + (i * {m} + {k}) % {len(WORDS)}]"
    for k, m in enumerate((1, 7, 13, 31, 61, 97, 131, 197))) + ")"
    f" || CASE WHEN i % 100003 = 77 THEN ' {RARE}' ELSE '' END")


def percentile(values: list[float], p: float) -> float:
    return board_load.percentile(values, p)


def load(app, tickets: int) -> dict:
    from app.extensions import db

    with app.app_context():
        db.session.execute(text(f"DROP INDEX IF EXISTS {INDEX}"))
        db.session.commit()
    took = board_load.generate(app, tickets, realistic=False, description_sql=SEARCH_DESCRIPTION)
    return {"load_s": took}


def create_index(app) -> dict:
    from app.extensions import db
    from app.models.ticket import SEARCH_DOCUMENT

    with app.app_context():
        t0 = time.perf_counter()
        db.session.execute(text("SET maintenance_work_mem = '256MB'"))
        db.session.execute(text(f"CREATE INDEX {INDEX} ON service_tickets "
                                f"USING gin (({SEARCH_DOCUMENT}) gin_trgm_ops)"))
        db.session.commit()
        took = time.perf_counter() - t0
        t1 = time.perf_counter()
        db.session.execute(text("ANALYZE service_tickets"))  # as migration 0012 does: the expression's statistics
        db.session.commit()
        analyze = time.perf_counter() - t1
        size = db.session.execute(text(
            f"SELECT pg_relation_size('{INDEX}'), pg_relation_size('service_tickets')")).one()
    return {"index_s": took, "analyze_s": analyze, "index_mb": size[0] / 2**20, "table_mb": size[1] / 2**20}


def has_index(app) -> bool:
    from app.extensions import db

    with app.app_context():
        return db.session.execute(text("SELECT 1 FROM pg_class WHERE relname = :n"), {"n": INDEX}).first() is not None


def queries(app) -> list[tuple[str, str]]:
    from app.extensions import db

    with app.app_context():
        number = db.session.execute(text("SELECT ticket_number FROM service_tickets ORDER BY id LIMIT 1")).scalar()
        external = db.session.execute(text(
            "SELECT external_id FROM service_tickets WHERE external_id IS NOT NULL ORDER BY id LIMIT 1")).scalar()
    # (name, q, share of --requests): common strings match a large share of the tickets, and
    # the board counts every match, so they are timed fewer times.
    return [
        ("rare word", RARE, 1),
        ("rare word, other case", RARE.upper(), 1),
        ("ticket number", number, 1),
        ("external id", external.lower(), 1),
        ("common Cyrillic word", "Холодильник", 0.2),
        ("two characters", "te", 0.2),
    ]


def time_searches(app, qs, requests: int, warmup: int = 5) -> list[dict]:
    from app.extensions import db
    from app.models import User
    from app.services import ticket_queries

    client = app.test_client()
    resp = client.post("/login", data={"email": "dispatcher@bench.test", "password": board_load.PASSWORD})
    assert resp.status_code == 302, resp.status_code
    token = client.post("/api/auth/token", json={"email": "dispatcher@bench.test",
                                                 "password": board_load.PASSWORD}).json["token"]
    api = {"Authorization": f"Bearer {token}"}
    rows = []
    for name, q, share in qs:
        n = max(3, int(requests * share)) if requests > 3 else requests
        with app.app_context():
            user = db.session.execute(db.select(User).filter_by(email="dispatcher@bench.test")).scalar_one()

            def service():
                found, _ = ticket_queries.ticket_page(user, {"q": q}, 50, None)
                db.session.rollback()
                return len(found)

            hits = service()
            targets = [
                ("service", service),
                ("API", lambda: client.get("/api/tickets", query_string={"q": q, "limit": 50}, headers=api)),
                ("board", lambda: client.get("/dispatcher/tickets", query_string={"q": q},
                                             headers={"HX-Request": "true"})),
                ("list", lambda: client.get("/dispatcher/tickets/list", query_string={"q": q})),
            ]
            for where, call in targets:
                for _ in range(warmup):
                    r = call()
                    assert where == "service" or r.status_code == 200, (where, r.status_code)
                times = []
                for _ in range(n):
                    t0 = time.perf_counter()
                    call()
                    times.append((time.perf_counter() - t0) * 1000)
                rows.append({"query": name, "q": q, "hits": hits, "where": where, "p50": statistics.median(times),
                             "p95": percentile(times, 95), "max": max(times), "n": n})
                print(f"  {name:<30} {where:<8} x{n:<4} hits {hits:>3}  p50 {rows[-1]['p50']:7.1f}  "
                      f"p95 {rows[-1]['p95']:7.1f}  max {rows[-1]['max']:7.1f} ms", flush=True)
    return rows


def time_writes(app, writes: int, tag: str) -> dict:
    """Per-write wall time (statement + COMMIT) of inserts, description edits and status
    changes, on a raw connection: the index's own cost, without the app's."""
    from app.extensions import db

    words = WORDS
    out = {}
    with app.app_context():
        engine = db.engine
        template = db.session.execute(text("SELECT id FROM service_tickets ORDER BY id LIMIT 1")).scalar()
        cols = [c for c in db.session.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'service_tickets' "
            "ORDER BY ordinal_position")).scalars()]
        db.session.rollback()
    own = {"id": ":id", "ticket_number": ":number", "external_id": ":ext", "description": ":description"}
    insert = text(f"INSERT INTO service_tickets ({', '.join(cols)}) SELECT "
                  f"{', '.join(own.get(c, c) for c in cols)} FROM service_tickets WHERE id = :template")
    edit = text("UPDATE service_tickets SET description = :description, version = version + 1 WHERE id = :id")
    status = text("UPDATE service_tickets SET status = CASE status WHEN 'CLOSED' THEN 'COMPLETED' ELSE 'CLOSED' END, "
                  "version = version + 1 WHERE id = :id")

    def description(k: int) -> str:
        return " ".join(words[(k * m + j) % len(words)] for j, m in enumerate((3, 11, 17, 29, 41, 59, 83, 101, 127)))

    with engine.connect() as conn:
        ids = [f"w{tag}{k:08d}" for k in range(writes)]
        for name, stmt, params in (
            ("insert", insert, lambda k: {"id": ids[k], "number": f"W{tag}-{k:06d}", "ext": f"EXT-{tag}-{k}",
                                          "description": description(k), "template": template}),
            ("edit description", edit, lambda k: {"id": ids[k], "description": description(k + 7) + " edited"}),
            ("change status", status, lambda k: {"id": ids[k]}),
        ):
            times, statement = [], []
            for k in range(writes):
                t0 = time.perf_counter()
                conn.execute(stmt, params(k))
                t1 = time.perf_counter()
                conn.commit()
                times.append((time.perf_counter() - t0) * 1000)
                statement.append((t1 - t0) * 1000)
            out[name] = {"mean": statistics.fmean(times), "p50": statistics.median(times),
                         "p95": percentile(times, 95), "max": max(times), "statement": statistics.fmean(statement)}
            print(f"  {name:<18} mean {out[name]['mean']:6.2f}  p50 {out[name]['p50']:6.2f}  "
                  f"p95 {out[name]['p95']:6.2f}  max {out[name]['max']:7.2f} ms  "
                  f"(statement alone mean {out[name]['statement']:.2f} ms)", flush=True)
    return out


def sqlite_scan(tickets: int, requests: int) -> None:
    """SQLite has no search index (docs/search.md): the service function's time for a rare
    word, a common word and a 2-character query over `tickets` tickets in a file database."""
    import random
    import tempfile

    from app import create_app
    from app.cli import seed_categories
    from app.extensions import db
    from app.models import Customer, CustomerBranch, IssueSubcategory, User
    from app.services import ticket_queries, tickets as ticket_service, users
    from flask_migrate import upgrade

    path = Path(tempfile.mkdtemp(prefix="evercold-search-sqlite-")) / "bench.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "TESTING": False, "WTF_CSRF_ENABLED": False,
                      "HUEY_IMMEDIATE": True, "PASSWORD_TIME_COST": 1, "PASSWORD_MEMORY_COST": 64,
                      "RATELIMIT_ENABLED": False})
    rng = random.Random(16)
    with app.app_context():
        upgrade()
        category = seed_categories()
        sub = db.session.query(IssueSubcategory).filter_by(category_id=category.id).first()
        customer = Customer(name="Bench Foods")
        db.session.add(customer)
        db.session.flush()
        branch = CustomerBranch(customer_id=customer.id, branch_code="BF-0001", branch_name="Bench Store",
                                latitude=41.3, longitude=69.2, contact_person="Manager", phone="+998900000000")
        db.session.add(branch)
        db.session.flush()
        user = users.create_user({"email": "dispatcher@bench.test", "password": board_load.PASSWORD,
                                  "role": "dispatcher", "name": "Bench Dispatcher"})
        template = ticket_service.create_ticket(user, {
            "branchId": branch.id, "categoryId": category.id, "subcategoryId": sub.id,
            "description": "template", "priority": "NORMAL"})
        db.session.commit()
        row = dict(db.session.execute(text("SELECT * FROM service_tickets WHERE id = :id"),
                                      {"id": template.id}).mappings().one())
        cols = list(row)
        insert = text(f"INSERT INTO service_tickets ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})")
        t0 = time.perf_counter()
        batch = []
        for i in range(1, tickets + 1):
            words = [WORDS[rng.randrange(len(WORDS))] for _ in range(8)]
            batch.append({**row, "id": f"s{i:031d}", "ticket_number": f"TKT-202611-{i:07d}",
                          "external_id": f"CRM-{i}" if i % 3 == 0 else None,
                          "description": " ".join(words) + (f" {RARE}" if i % 100003 == 77 else "")})
            if len(batch) == 10_000:
                db.session.execute(insert, batch)
                batch = []
        if batch:
            db.session.execute(insert, batch)
        db.session.commit()
        print(f"SQLite: {tickets} tickets written in {time.perf_counter() - t0:.1f} s", flush=True)
        user = db.session.execute(db.select(User).filter_by(email="dispatcher@bench.test")).scalar_one()
        print("| query (SQLite, service function, 50 newest) | hits | p50 ms | p95 ms |")
        print("|---|---:|---:|---:|")
        for name, q in (("rare word", RARE), ("common Cyrillic word", "Холодильник"), ("two characters", "te")):
            times = []
            for k in range(requests + 2):
                t0 = time.perf_counter()
                found, _ = ticket_queries.ticket_page(user, {"q": q}, 50, None)
                db.session.rollback()
                if k >= 2:
                    times.append((time.perf_counter() - t0) * 1000)
            print(f"| {name} | {len(found)} | {statistics.median(times):.1f} | {percentile(times, 95):.1f} |",
                  flush=True)


def make_twin(app) -> float:
    """search_twin: a copy of service_tickets with every index and foreign key but the
    search index, for writes timed side by side (`time_writes_paired`)."""
    from app.extensions import db

    t0 = time.perf_counter()
    with app.app_context():
        db.session.execute(text("SET maintenance_work_mem = '256MB'"))
        db.session.execute(text("DROP TABLE IF EXISTS search_twin"))
        db.session.execute(text("CREATE TABLE search_twin (LIKE service_tickets INCLUDING DEFAULTS)"))
        db.session.execute(text("INSERT INTO search_twin SELECT * FROM service_tickets"))
        for name, ddl in db.session.execute(text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'service_tickets' AND indexname <> :n"),
                {"n": INDEX}).all():
            db.session.execute(text(ddl.replace(f"INDEX {name} ON public.service_tickets",
                                                f"INDEX twin_{name} ON public.search_twin")))
        for name, ddl in db.session.execute(text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'service_tickets'::regclass AND contype = 'f'")).all():
            db.session.execute(text(f"ALTER TABLE search_twin ADD CONSTRAINT twin_{name} {ddl} NOT VALID"))
        db.session.execute(text("ANALYZE search_twin"))
        db.session.commit()
    return time.perf_counter() - t0


def time_writes_paired(app, writes: int, tag: str) -> dict:
    """The same writes on service_tickets (with the search index) and search_twin (the same
    table without it), one after the other, alternating which goes first: a busy
    machine's drift falls on both alike. Per write: statement + COMMIT, ms."""
    from app.extensions import db

    with app.app_context():
        template = db.session.execute(text("SELECT id FROM service_tickets ORDER BY id LIMIT 1")).scalar()
        cols = [c for c in db.session.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'service_tickets' "
            "ORDER BY ordinal_position")).scalars()]
        db.session.rollback()
    own = {"id": ":id", "ticket_number": ":number", "external_id": ":ext", "description": ":description"}

    def statements(table):
        return (
            ("insert", text(f"INSERT INTO {table} ({', '.join(cols)}) SELECT "
                            f"{', '.join(own.get(c, c) for c in cols)} FROM {table} WHERE id = :template")),
            ("edit description", text(f"UPDATE {table} SET description = :description, version = version + 1 "
                                      "WHERE id = :id")),
            ("change status", text(f"UPDATE {table} SET status = CASE status WHEN 'CLOSED' THEN 'COMPLETED' "
                                   "ELSE 'CLOSED' END, version = version + 1 WHERE id = :id")),
        )

    def description(k: int) -> str:
        return " ".join(WORDS[(k * m + j) % len(WORDS)] for j, m in enumerate((3, 11, 17, 29, 41, 59, 83, 101, 127)))

    ids = [f"p{tag}{k:08d}" for k in range(writes)]
    params = {
        "insert": lambda k: {"id": ids[k], "number": f"P{tag}-{k:06d}", "ext": f"EXT-{tag}-{k}",
                             "description": description(k), "template": template},
        "edit description": lambda k: {"id": ids[k], "description": description(k + 7) + " edited"},
        "change status": lambda k: {"id": ids[k]},
    }
    out = {}
    with app.app_context(), db.engine.connect() as conn:
        for (name, with_index), (_, without) in zip(statements("service_tickets"), statements("search_twin")):
            times = {"with": [], "without": []}
            for k in range(writes):
                pair = [("with", with_index), ("without", without)]
                for which, stmt in (pair if k % 2 == 0 else pair[::-1]):
                    t0 = time.perf_counter()
                    conn.execute(stmt, params[name](k))
                    conn.commit()
                    times[which].append((time.perf_counter() - t0) * 1000)
            out[name] = {w: {"mean": statistics.fmean(t), "p50": statistics.median(t), "p95": percentile(t, 95),
                             "max": max(t)} for w, t in times.items()}
            a, b = out[name]["with"], out[name]["without"]
            print(f"  {name:<18} with index mean {a['mean']:6.2f} p95 {a['p95']:6.2f} · without mean "
                  f"{b['mean']:6.2f} p95 {b['p95']:6.2f} ms · index cost {a['mean'] - b['mean']:+.2f} ms", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--slow-requests", type=int, default=3, help="searches per target without the index")
    parser.add_argument("--writes", type=int, default=500)
    parser.add_argument("--reuse", action="store_true", help="keep the data of a previous run (with its index)")
    parser.add_argument("--paired-writes", action="store_true",
                        help="also time writes side by side on a twin table without the index")
    parser.add_argument("--sqlite", type=int, metavar="TICKETS",
                        help="instead: the SQLite scan over this many tickets (no index there)")
    args = parser.parse_args()
    if args.sqlite:
        sqlite_scan(args.sqlite, min(args.requests, 20))
        return 0

    from app import clock

    clock.set_now(board_load.NOW)
    board_load.prepare_postgres(PG_URL, reset=not args.reuse)
    app = board_load.make_app(PG_URL)
    figures: dict = {}
    if not args.reuse:
        figures.update(load(app, args.tickets))
        print(f"loaded {args.tickets} tickets without the search index in {figures['load_s']:.1f} s", flush=True)
    qs = queries(app)
    before = writes_before = None
    if not has_index(app):
        print("searches without the index:", flush=True)
        before = time_searches(app, qs, args.slow_requests, warmup=1)
        print("writes without the index:", flush=True)
        writes_before = time_writes(app, args.writes, "a")
        figures.update(create_index(app))
        print(f"CREATE INDEX {INDEX}: {figures['index_s']:.1f} s, {figures['index_mb']:.0f} MB "
              f"(table {figures['table_mb']:.0f} MB); ANALYZE {figures['analyze_s']:.1f} s", flush=True)
    print("searches with the index:", flush=True)
    after = time_searches(app, qs, args.requests)
    print("writes with the index:", flush=True)
    writes_after = time_writes(app, args.writes, f"b{int(time.time()) % 100000:05d}")

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1]).stdout.strip()
    load_avg = os.getloadavg()
    print()
    print(f"commit {commit} · {os.cpu_count()} cores · load average {load_avg[0]:.1f} / {load_avg[1]:.1f} / "
          f"{load_avg[2]:.1f} · Python {platform.python_version()} · PostgreSQL · {args.tickets} tickets")
    if "load_s" in figures:
        print(f"load {figures['load_s']:.0f} s; index build {figures.get('index_s', 0):.0f} s, "
              f"{figures.get('index_mb', 0):.0f} MB (table {figures.get('table_mb', 0):.0f} MB), "
              f"ANALYZE {figures.get('analyze_s', 0):.1f} s")
    print()
    print("| query | hits (≤ 50) | where | requests | p50 ms | p95 ms | max ms | without index p50 ms |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    slow = {(r["query"], r["where"]): r for r in before or []}
    for r in after:
        old = slow.get((r["query"], r["where"]))
        print(f"| {r['query']} | {r['hits']} | {r['where']} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | "
              + (f"{old['p50']:.0f} |" if old else "– |"))
    print()
    print("| write (statement + COMMIT) | without index mean / p95 ms | with index mean / p95 / max ms | "
          "index cost per write ms | statement alone without / with ms |")
    print("|---|---:|---:|---:|---:|")
    for name, w in writes_after.items():
        b = (writes_before or {}).get(name)
        print(f"| {name} | " + (f"{b['mean']:.2f} / {b['p95']:.2f}" if b else "–")
              + f" | {w['mean']:.2f} / {w['p95']:.2f} / {w['max']:.1f} | "
              + (f"{w['mean'] - b['mean']:+.2f}" if b else "–")
              + (f" | {b['statement']:.2f} / {w['statement']:.2f} |" if b else f" | – / {w['statement']:.2f} |"))
    if args.paired_writes:
        print("\nwrites side by side (twin table without the search index):", flush=True)
        took = make_twin(app)
        print(f"  twin table copied and indexed in {took:.0f} s", flush=True)
        paired = time_writes_paired(app, args.writes, f"{int(time.time()) % 100000:05d}")
        print()
        print("| write (statement + COMMIT), side by side | with index mean / p50 / p95 ms | "
              "without mean / p50 / p95 ms | index cost per write, mean ms |")
        print("|---|---:|---:|---:|")
        for name, w in paired.items():
            a, b = w["with"], w["without"]
            print(f"| {name} | {a['mean']:.2f} / {a['p50']:.2f} / {a['p95']:.2f} | "
                  f"{b['mean']:.2f} / {b['p50']:.2f} / {b['p95']:.2f} | {a['mean'] - b['mean']:+.2f} |")
    rare = max(r["p95"] for r in after if r["query"].startswith("rare word") and r["where"] in ("service", "API"))
    print(f"\nrare-word search p95 (service function and API route): {rare:.1f} ms (goal: under 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
