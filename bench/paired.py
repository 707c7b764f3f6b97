"""Paired run against django-helpdesk: both apps, one PostgreSQL, one client, interleaved.

    .venv/bin/python bench/paired.py                # set up what is missing, then 3 interleaved rounds
    .venv/bin/python bench/paired.py --reuse        # keep both data sets (else ours is regenerated if absent)
    .venv/bin/python bench/paired.py --seconds 5 --rounds 1 --only bare,board

Issue 16 item 2 and its "Done when". The peer is django-helpdesk (`PEER_VERSION`) from
PyPI, installed into its own virtualenv at bench/.peer/venv with gunicorn and psycopg,
serving a minimal Django project this script writes into bench/.peer/site (helpdesk's
required apps, teams mode off since 2.x no longer ships pinax-teams, DEBUG off, persistent
database connections (`CONN_MAX_AGE`) as in any production Django, a bare view `/bare`
answering a constant as our `/healthz` does). Nothing of it is committed (bench/.peer/ is
ignored); each step is skipped when already done.

Data, 100,000 tickets each, in two databases of the same PostgreSQL server:
- ours: bench/board_load.py's realistic data (timelines, completions with parts, photo
  rows) in `evercold_paired_bench` (BENCH_PAIRED_PG_URL), generated when absent;
- peer: `evercold_peer_bench`, shaped the same way set-based (generate_series): 5 queues,
  81 staff users (a dispatcher, whom the client signs in as, and 80 technicians who share
  the tickets with them), one ticket every ~10.5 minutes over two years, all closed but the
  last 4,000 (open, some unassigned, resolved, closed as ours), and 8-15 followups per
  ticket (comments by the staff and the store, status changes with their TicketChange
  rows): the peer's timeline.

Servers: gunicorn, 2 sync workers each (`--max-requests 0`); ours with its production
config otherwise (JSON access log at INFO to a file, CSRF, in-memory limits) and the clock
frozen at board_load.NOW, so the board is board_load.py's board (open cards and the last
24 h's closed column); the peer with gunicorn's access log to a file.

Client: the same for both, wrk (Debian's `wrk`; HTTP/1.1 keep-alive, reconnecting when a
sync worker closes the connection) with 4 connections on 2 threads, signed in on each app
(session cookies); without wrk, a Python client with 4 threads. Pairs (ours / peer):
bare route (`/healthz` / `/bare`); ticket list, first page (`/dispatcher/tickets/list` /
`/tickets/`, whose rows come from a second request, hence also `list rows`: the same page
of ours against the peer's datatables JSON for its first 25 rows); ticket detail of the
newest closed ticket with its timeline; the full board (`/dispatcher/tickets`, full page /
the peer's `/dashboard/`); and our board's idle poll (204), reported against our
`/healthz`. Each phase runs `--seconds`; in each round the two sides of a pair run back to
back, the side going first alternating by round.

Per phase: req/s, p50 / p95 latency (wrk's), app CPU ms per request (the two workers' user
+ system time from /proc) and database CPU ms per request (the PostgreSQL backends whose
application_name is the server's). Medians over rounds; ratios peer p95 / ours p95 and
ours req/s / peer req/s; the load average before and after.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
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
SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432"
OURS_URL = os.environ.get("BENCH_PAIRED_PG_URL", f"{SERVER_URL}/evercold_paired_bench")
os.environ["BENCH_FLOOR_PG_URL"] = OURS_URL  # request_floor.Server's database

import request_floor as rf  # noqa: E402  (its servers, CPU readings and sign-in)

PEER_VERSION = "2.6.1"
PEER_DIR = ROOT / "bench" / ".peer"
PEER_VENV = PEER_DIR / "venv"
PEER_SITE = PEER_DIR / "site"
PEER_DB = "evercold_peer_bench"
PEER_USER, PEER_PASSWORD = "dispatcher", "bench-password-1"
RECENT = 4000
# The peer's dashboard takes seconds per request at 100k tickets: both sides of that pair
# run SLOW_FACTOR times as long, so that the peer answers more than a handful.
SLOW_PAIRS = ("full board / dashboard",)
SLOW_FACTOR = 3
_TMP = rf._TMP

# --- the peer's Django project (written at run time, never committed) ----------------

PEER_SETTINGS = f'''import os
SECRET_KEY = "paired-bench-peer"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.messages", "django.contrib.staticfiles",
    "django.contrib.sites",  # helpdesk: the domain in e-mail links
    "django.contrib.humanize",  # helpdesk: elapsed times
    "rest_framework",  # helpdesk's API and datatables views
    "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware", "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware", "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware", "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "peersite.urls"
TEMPLATES = [{{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True,
              "OPTIONS": {{"context_processors": [
                  "django.template.context_processors.request", "django.contrib.auth.context_processors.auth",
                  "django.contrib.messages.context_processors.messages"]}}}}]
WSGI_APPLICATION = "peersite.wsgi.application"
DATABASES = {{"default": {{
    "ENGINE": "django.db.backends.postgresql", "NAME": "{PEER_DB}", "USER": "postgres", "HOST": "127.0.0.1",
    "PORT": "5432", "CONN_MAX_AGE": 600,  # persistent connections, as in production
    "OPTIONS": {{"application_name": os.environ.get("PEER_APP_NAME", "floor-peer")}}}}}}
SITE_ID = 1
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LOGIN_URL = "helpdesk:login"
LOGIN_REDIRECT_URL = "helpdesk:home"
HELPDESK_TEAMS_MODE_ENABLED = False  # pinax-teams is not a dependency of helpdesk 2.x
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING = {{"version": 1, "disable_existing_loggers": False, "handlers": {{"console": {{"class": "logging.StreamHandler"}}}},
           "loggers": {{"django.request": {{"handlers": ["console"], "level": "ERROR"}}}}}}
'''

PEER_URLS = '''from django.http import HttpResponse
from django.urls import include, path


def bare(request):
    return HttpResponse(b'{"status":"ok"}', content_type="application/json")


urlpatterns = [path("bare", bare), path("", include("helpdesk.urls", namespace="helpdesk"))]
'''

PEER_WSGI = '''import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peersite.settings")
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
'''

PEER_MANAGE = '''import os
import sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peersite.settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
'''

# Runs under the peer's Python (`manage.py shell`): staff, queues, then tickets and their
# followups set-based. The same shape as board_load.py's data; NOW is board_load.NOW.
PEER_SEED = '''
import time
from django.contrib.auth.models import User
from django.db import connection, transaction
from helpdesk.models import Queue, UserSettings

N, RECENT, NOW = {n}, {recent}, "{now}"
t0 = time.perf_counter()
with transaction.atomic():
    with connection.cursor() as c:
        c.execute("TRUNCATE helpdesk_ticketchange, helpdesk_followup, helpdesk_ticket, helpdesk_queue, "
                  "django_session, auth_user CASCADE")
        # Each queue's post_save made a permission of its own: gone with its queue.
        c.execute("DELETE FROM auth_permission WHERE codename LIKE 'queue_access_%'")
    me = User.objects.create_user("{user}", "dispatcher@bench.test", "{password}", is_staff=True,
                                  is_superuser=True, first_name="Bench", last_name="Dispatcher")
    techs = [User(username=f"tech{{i:02d}}", email=f"tech{{i:02d}}@bench.test", is_staff=True,
                  first_name="Technician", last_name=f"{{i:02d}}", password=me.password) for i in range(80)]
    User.objects.bulk_create(techs)
    for user in User.objects.filter(usersettings_helpdesk__isnull=True):  # bulk_create sends no post_save
        UserSettings.objects.create(user=user)
    for title in ("Refrigeration", "Display cases", "Electrical", "Plumbing", "Store equipment"):
        Queue.objects.create(title=title, slug=title.lower().replace(" ", "-"),
                             email_address=title.lower().replace(" ", "") + "@bench.test")
    with connection.cursor() as c:
        c.execute(TICKETS, {{"n": N, "recent": RECENT, "now": NOW}})
        print("tickets", c.rowcount, flush=True)
        c.execute(FOLLOWUPS)
        print("followups", c.rowcount, flush=True)
        c.execute(CHANGES)
        print("ticket changes", c.rowcount, flush=True)
        c.execute("SELECT setval(pg_get_serial_sequence('helpdesk_ticket', 'id'), (SELECT max(id) FROM helpdesk_ticket))")
        c.execute("SELECT setval(pg_get_serial_sequence('helpdesk_followup', 'id'), "
                  "(SELECT max(id) FROM helpdesk_followup))")
with connection.cursor() as c:
    c.execute("ANALYZE")
print(f"peer data in {{time.perf_counter() - t0:.1f}} s", flush=True)
'''

PEER_TICKETS_SQL = r"""
WITH q AS (SELECT array_agg(id ORDER BY id) AS ids FROM helpdesk_queue),
     u AS (SELECT array_agg(id ORDER BY id) AS ids FROM auth_user),
     g AS (
       SELECT i, CAST((CAST(i AS bigint) * 7919) %% 100 AS integer) AS r,
              CAST(%(now)s AS timestamptz) - make_interval(secs => (%(n)s - i) * 630) AS created,
              i > %(n)s - %(recent)s AS recent
       FROM generate_series(1, %(n)s) AS i
     ),
     x AS (
       SELECT g.*, CASE WHEN NOT recent THEN 4 WHEN r < 55 THEN 1 WHEN r < 65 THEN 3 ELSE 4 END AS status
       FROM g
     )
INSERT INTO helpdesk_ticket (id, title, created, modified, submitter_email, status, on_hold, description,
  resolution, priority, due_date, assigned_to_id, queue_id, secret_key)
SELECT i,
  'Store ' || (i %% 300) || ': ' || (ARRAY['cold chamber too warm', 'glass door cracked', 'compressor noise at night',
                                          'water leaking under the fridge'])[1 + i %% 4],
  created, LEAST(created + make_interval(mins => 120 + r * 9), CAST(%(now)s AS timestamptz)),
  'store' || (i %% 300) || '@bench.test', status, false,
  'Bench ticket ' || i || ': ' || (ARRAY['cold chamber too warm', 'glass door cracked', 'compressor noise at night',
                                         'water leaking under the fridge'])[1 + i %% 4]
    || '. The store manager reports it since this morning; products moved to the next case.',
  CASE WHEN status IN (3, 4) THEN 'Replaced the failed part and checked two full cooling cycles.' END,
  CASE WHEN i %% 10 = 0 THEN 1 WHEN i %% 10 < 3 THEN 2 WHEN i %% 10 < 8 THEN 3 ELSE 4 END,
  created + interval '1 day',
  CASE WHEN recent AND r < 10 THEN NULL ELSE u.ids[1 + i %% array_length(u.ids, 1)] END,
  q.ids[1 + i %% array_length(q.ids, 1)], md5('s' || i)::uuid::text
FROM x, q, u
"""

# 8-15 followups per ticket, spread from its creation to its last change: a "Ticket
# opened" first, comments by the dispatcher, the technician and the store, and the status
# change last for a resolved or closed ticket.
PEER_FOLLOWUPS_SQL = r"""
WITH u AS (SELECT (SELECT id FROM auth_user WHERE username = 'dispatcher') AS disp),
     tt AS (SELECT t.*, 8 + (t.id * 13) % 8 AS n, t.modified - t.created AS span FROM helpdesk_ticket t)
INSERT INTO helpdesk_followup (ticket_id, date, title, comment, public, new_status, user_id, time_spent)
SELECT tt.id, tt.created + tt.span * ((p - 1) / CAST(tt.n AS double precision)),
  CASE WHEN p = 1 THEN 'Ticket Opened'
       WHEN p = tt.n AND tt.status = 3 THEN 'Resolved'
       WHEN p = tt.n AND tt.status = 4 THEN 'Closed'
       ELSE 'Comment' END,
  CASE WHEN p = 1 THEN tt.description
       WHEN p = tt.n AND tt.status IN (3, 4) THEN tt.resolution
       ELSE (ARRAY[
         'Called the store: the technician is on the way, about 40 minutes.',
         'Compressor starts and stops every few minutes: bring a start relay and a capacitor.',
         'Parts ordered from the warehouse, delivery tomorrow morning.',
         'The chamber is at 9 °C since the morning delivery; we moved the dairy to the next one.',
         'Please come before 10:00, the shop gets crowded after that.',
         'Same fault as last month at this branch; check the condenser fan first.',
         'Door closes now but the light inside still flickers.'])[1 + (tt.id * 3 + p) % 7] END,
  p % 3 <> 0,
  CASE WHEN p = tt.n AND tt.status IN (3, 4) THEN tt.status END,
  CASE WHEN p % 3 = 0 THEN NULL WHEN p % 2 = 0 THEN u.disp ELSE tt.assigned_to_id END,
  CASE WHEN p % 4 = 2 THEN interval '25 minutes' END
FROM tt, u, generate_series(1, tt.n) AS p
"""

PEER_CHANGES_SQL = r"""
INSERT INTO helpdesk_ticketchange (field, old_value, new_value, followup_id)
SELECT 'Status', 'Open', CASE f.new_status WHEN 3 THEN 'Resolved' ELSE 'Closed' END, f.id
FROM helpdesk_followup f WHERE f.new_status IS NOT NULL
"""


def peer_python() -> str:
    return str(PEER_VENV / "bin" / "python")


def setup_peer(tickets: int, reuse: bool) -> str:
    """The peer's virtualenv, project, schema and data; returns the installed version."""
    import board_load

    PEER_DIR.mkdir(parents=True, exist_ok=True)
    if not (PEER_VENV / "bin" / "gunicorn").exists():
        print(f"peer: creating {PEER_VENV} (django-helpdesk {PEER_VERSION}, gunicorn, psycopg)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "-q", f"django-helpdesk=={PEER_VERSION}",
                        "gunicorn", "psycopg[binary]"], check=True)
    version = subprocess.run([peer_python(), "-c", "import importlib.metadata as m; "
                              "print(m.version('django-helpdesk'), m.version('Django'), m.version('gunicorn'))"],
                             capture_output=True, text=True, check=True).stdout.split()
    (PEER_SITE / "peersite").mkdir(parents=True, exist_ok=True)
    for rel, content in (("peersite/__init__.py", ""), ("peersite/settings.py", PEER_SETTINGS),
                         ("peersite/urls.py", PEER_URLS), ("peersite/wsgi.py", PEER_WSGI), ("manage.py", PEER_MANAGE)):
        path = PEER_SITE / rel
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
    board_load.prepare_postgres(f"{SERVER_URL}/{PEER_DB}", reset=False)
    manage = [peer_python(), "manage.py"]
    subprocess.run(manage + ["migrate", "-v", "0"], cwd=PEER_SITE, check=True)
    count = _scalar(f"{SERVER_URL}/{PEER_DB}", "SELECT count(*) FROM helpdesk_ticket")
    if count == 0 or (count != tickets and not reuse):
        print(f"peer: generating {tickets} tickets with followups (~20 s)", flush=True)
        seed = PEER_SEED.format(n=tickets, recent=RECENT, now=board_load.NOW.isoformat(), user=PEER_USER,
                                password=PEER_PASSWORD)
        seed = (f"TICKETS = {PEER_TICKETS_SQL!r}\nFOLLOWUPS = {PEER_FOLLOWUPS_SQL!r}\nCHANGES = {PEER_CHANGES_SQL!r}\n"
                + seed)
        subprocess.run(manage + ["shell", "-c", seed], cwd=PEER_SITE, check=True)
    return " ".join(f"{name} {v}" for name, v in zip(("django-helpdesk", "Django", "gunicorn"), version))


def setup_ours(tickets: int) -> None:
    import board_load

    board_load.prepare_postgres(OURS_URL, reset=False)
    try:
        count = _scalar(OURS_URL, "SELECT count(*) FROM service_tickets")
        events = _scalar(OURS_URL, "SELECT count(*) > 0 FROM ticket_events")
    except Exception:  # noqa: BLE001 - no schema yet
        count, events = 0, False
    if count == tickets and events:
        app = board_load.make_app(OURS_URL)  # kept data, brought up to this code's schema
        from app.extensions import db

        with app.app_context():
            db.engine.dispose()
        return
    print(f"ours: generating {tickets} realistic tickets into {OURS_URL.rsplit('/', 1)[1]} (~2-3 min)", flush=True)
    board_load.prepare_postgres(OURS_URL, reset=True)
    app = board_load.make_app(OURS_URL)
    took = board_load.generate(app, tickets, realistic=True)
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()
    print(f"ours: {tickets} tickets in {took:.1f} s", flush=True)


def _scalar(url: str, sql: str):
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar()
    finally:
        engine.dispose()


# --- servers ---------------------------------------------------------------------------

def start_ours() -> rf.Server:
    """Ours under gunicorn (request_floor's server) with the clock at board_load.NOW."""
    import board_load

    shim = Path(_TMP) / "paired_wsgi.py"
    shim.write_text("from datetime import datetime\nfrom app import clock\n"
                    f"clock.set_now(datetime.fromisoformat({board_load.NOW.isoformat()!r}))\n"
                    "from wsgi import app  # noqa: E402,F401\n")
    return rf.Server("ours", ROOT, app_module="paired_wsgi:app", env={"PYTHONPATH": f"{ROOT}:{_TMP}"})


def start_peer() -> rf.Server:
    gunicorn = str(PEER_VENV / "bin" / "gunicorn")
    return rf.Server("peer", PEER_SITE, env={"PEER_APP_NAME": "floor-peer", "PYTHONPATH": str(PEER_SITE)},
                     command=[gunicorn, "--workers", "2", "--worker-class", "sync", "--max-requests", "0",
                              "--bind", "127.0.0.1:{port}", "--access-logfile", os.path.join(_TMP, "peer-access.log"),
                              "peersite.wsgi:application"])


# --- signing in and finding the pages -------------------------------------------------

def peer_session(port: int):
    import requests

    s = requests.Session()
    base = f"http://127.0.0.1:{port}"
    page = s.get(f"{base}/login/", timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    r = s.post(f"{base}/login/", data={"username": PEER_USER, "password": PEER_PASSWORD,
                                       "csrfmiddlewaretoken": token, "next": "/dashboard/"},
               headers={"Referer": f"{base}/login/"}, allow_redirects=False, timeout=60)
    if r.status_code != 302:
        raise RuntimeError(f"peer sign-in answered {r.status_code}")
    return s, "; ".join(f"{c.name}={c.value}" for c in s.cookies)


def pages(ours: rf.Server, peer: rf.Server) -> tuple[dict, dict]:
    """{pair: (ours path, peer path)} and {side: cookie}, each page checked once."""
    import requests

    ours_cookie = rf.sign_in(ours.port)
    stamp = rf.board_stamp(ours.port, ours_cookie)
    s, peer_cookie = peer_session(peer.port)
    ours_closed = _scalar(OURS_URL, "SELECT id FROM service_tickets WHERE status = 'CLOSED' AND completed_at IS NOT "
                                    "NULL ORDER BY created_at DESC LIMIT 1")
    peer_closed = _scalar(f"{SERVER_URL}/{PEER_DB}", "SELECT max(id) FROM helpdesk_ticket WHERE status = 4")
    shell = s.get(f"http://127.0.0.1:{peer.port}/tickets/", timeout=60).text
    rows = re.search(r'"url": "(/datatables_ticket_list/[^"]+)"', shell).group(1)
    paths = {
        "bare route": ("/healthz", "/bare"),
        "list, first page": ("/dispatcher/tickets/list", "/tickets/"),
        "list rows": ("/dispatcher/tickets/list", rows + "?draw=1&start=0&length=25"),
        "ticket detail, closed": (f"/tickets/{ours_closed}", f"/tickets/{peer_closed}/"),
        "full board / dashboard": ("/dispatcher/tickets", "/dashboard/"),
        "idle poll (ours)": (f"/dispatcher/tickets/poll?stamp={stamp}", None),
    }
    sizes = {}
    for pair, (mine, theirs) in paths.items():
        headers = {"Cookie": ours_cookie, **({"HX-Request": "true"} if "poll" in mine else {})}
        r = requests.get(f"http://127.0.0.1:{ours.port}{mine}", headers=headers, allow_redirects=False, timeout=60)
        if r.status_code not in (200, 204):
            raise RuntimeError(f"ours {mine}: {r.status_code}")
        sizes[pair] = [len(r.content), None]
        if theirs:
            r = requests.get(f"http://127.0.0.1:{peer.port}{theirs}", headers={"Cookie": peer_cookie},
                             allow_redirects=False, timeout=60)
            if r.status_code != 200:
                raise RuntimeError(f"peer {theirs}: {r.status_code}")
            sizes[pair][1] = len(r.content)
    return paths, {"ours": ours_cookie, "peer": peer_cookie, "sizes": sizes}


# --- the client -----------------------------------------------------------------------

WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
    .. '"status_errors": %d, "socket_errors": %d}\\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


def run_wrk(port: int, path: str, headers: dict, clients: int, seconds: float) -> dict:
    script = Path(_TMP) / "report.lua"
    if not script.exists():
        script.write_text(WRK_SCRIPT)
    cmd = ["wrk", "-t", str(min(2, clients)), "-c", str(clients), "-d", f"{seconds:g}s", "--timeout", "10s",
           "-s", str(script)]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    data = json.loads(out.split("WRK ", 1)[1].splitlines()[0])
    elapsed = data["duration_us"] / 1e6
    return {"n": data["requests"], "rps": data["requests"] / elapsed, "p50": data["p50_us"] / 1000,
            "p95": data["p95_us"] / 1000, "errors": data["status_errors"] + data["socket_errors"]}


def run_python(port: int, path: str, headers: dict, clients: int, seconds: float) -> dict:
    """Fallback client: `clients` threads, HTTP/1.1 keep-alive, reconnecting when told to close."""
    import http.client

    times: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def loop():
        mine, bad, conn = [], 0, None
        while time.monotonic() < stop_at:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                mine.append(time.perf_counter() - t0)
                bad += resp.status >= 400
                if resp.will_close:
                    conn.close()
                    conn = None
            except OSError:
                bad += 1
                conn.close()
                conn = None
        with lock:
            times.extend(mine)
            errors[0] += bad

    t0 = time.monotonic()
    threads = [threading.Thread(target=loop) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    times_ms = sorted(t * 1000 for t in times) or [0.0]
    pick = lambda p: times_ms[min(len(times_ms) - 1, int(p / 100 * len(times_ms)))]  # noqa: E731
    return {"n": len(times), "rps": len(times) / elapsed, "p50": pick(50), "p95": pick(95), "errors": errors[0]}


def measure(server: rf.Server, conn, path: str, headers: dict, clients: int, seconds: float, client) -> dict:
    pids = server.workers()
    backends = rf.db_backends(conn, server.name)
    conn.rollback()
    app0, db0 = rf.cpu_seconds(pids), rf.cpu_seconds(backends)
    row = client(server.port, path, headers, clients, seconds)
    app1, db1 = rf.cpu_seconds(pids), rf.cpu_seconds(backends)
    n = max(row["n"], 1)
    row.update(app_ms=(app1 - app0) / n * 1000, db_ms=(db1 - db0) / n * 1000)
    drain(pids)
    return row


def drain(pids, limit: float = 60.0) -> None:
    """Wait until the workers are idle: requests the client gave up on at the end of a
    phase (a slow page's) are still being answered, and would slow down the next phase."""
    deadline = time.monotonic() + limit
    last = rf.cpu_seconds(pids)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = rf.cpu_seconds(pids)
        if now - last < 0.02:
            return
        last = now


# --- main -----------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="keep the peer's data even if its count differs")
    parser.add_argument("--seconds", type=float, default=8.0, help="per phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--only", default="", help="comma-separated words matched against the pair names")
    parser.add_argument("--python-client", action="store_true", help="the Python client even if wrk is installed")
    args = parser.parse_args()

    versions = setup_peer(args.tickets, args.reuse)
    setup_ours(args.tickets)
    client = run_python if args.python_client or not shutil.which("wrk") else run_wrk
    client_name = "Python threads" if client is run_python else "wrk"

    import sqlalchemy as sa

    servers: dict[str, rf.Server] = {}
    results: dict[tuple[str, str], list[dict]] = {}
    engines = {"ours": sa.create_engine(OURS_URL), "peer": sa.create_engine(f"{SERVER_URL}/{PEER_DB}")}
    try:
        servers["ours"] = start_ours()
        servers["peer"] = start_peer()
        paths, cookies = pages(servers["ours"], servers["peer"])
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        pairs = [p for p in paths if not wanted or any(w in p for w in wanted)]
        if any("poll" in p for p in pairs) and not any(p == "bare route" for p in pairs):
            pairs.insert(0, "bare route")  # the poll is reported against our /healthz
        for pair in pairs:  # warm both workers of each side (pools, imports, template caches)
            for side, path in zip(("ours", "peer"), paths[pair]):
                if path:
                    client(servers[side].port, path, _headers(side, path, cookies), args.clients, 1.0)
                    drain(servers[side].workers())
        load_before = os.getloadavg()
        t_start = time.monotonic()
        conns = {side: engine.connect() for side, engine in engines.items()}
        for rnd in range(args.rounds):
            order = ("ours", "peer") if rnd % 2 == 0 else ("peer", "ours")
            for pair in pairs:
                for side in order:
                    if side == "ours":
                        # A browser keeps the cookie and the stamp it is sent back; a fixed
                        # header would not: a cookie over a minute old is signed again on
                        # every answer (SESSION_REFRESH_SECONDS), and a stamp over 5 minutes
                        # old (board.POLL_MAX_AGE) turns every "idle" poll into a full board.
                        cookies["ours"] = rf.sign_in(servers["ours"].port)
                        if "poll" in pair:
                            stamp = rf.board_stamp(servers["ours"].port, cookies["ours"])
                            paths[pair] = (f"/dispatcher/tickets/poll?stamp={stamp}", paths[pair][1])
                        drain(servers["ours"].workers())
                    path = paths[pair][0 if side == "ours" else 1]
                    if not path:
                        continue
                    seconds = args.seconds * (SLOW_FACTOR if pair in SLOW_PAIRS else 1)
                    row = measure(servers[side], conns[side], path, _headers(side, path, cookies), args.clients,
                                  seconds, client)
                    results.setdefault((pair, side), []).append(row)
                    print(f"round {rnd + 1} {pair:24} {side:4}: {row['rps']:7.1f} req/s  p50 {row['p50']:6.1f}  "
                          f"p95 {row['p95']:6.1f} ms  app {row['app_ms']:6.2f} + db {row['db_ms']:5.2f} ms CPU/req"
                          f"{'  ERRORS ' + str(row['errors']) if row['errors'] else ''}", flush=True)
        for conn in conns.values():
            conn.close()
        load_after = os.getloadavg()
        took = time.monotonic() - t_start
    finally:
        for server in servers.values():
            server.stop()
        for engine in engines.values():
            engine.dispose()
        if not os.environ.get("BENCH_KEEP_LOGS"):
            shutil.rmtree(_TMP, ignore_errors=True)

    report(args, results, pairs, cookies["sizes"], versions, client_name, load_before, load_after, took)
    return 0


def _headers(side: str, path: str, cookies: dict) -> dict:
    headers = {"Cookie": cookies[side]}
    if side == "ours" and "/poll" in path:
        headers["HX-Request"] = "true"
    return headers


def report(args, results, pairs, sizes, versions, client_name, load_before, load_after, took) -> None:
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    print(f"\n{time.strftime('%d %b %Y %H:%M UTC', time.gmtime())}; ours: {commit}{' + uncommitted changes' if dirty else ''}"
          f"; peer: {versions}; {os.cpu_count()} cores; load average {load_before[0]:.2f} / {load_before[1]:.2f} / "
          f"{load_before[2]:.2f} before, {load_after[0]:.2f} / {load_after[1]:.2f} / {load_after[2]:.2f} after")
    print(f"{args.tickets:,} tickets each, one PostgreSQL; gunicorn 2 sync workers each; {client_name}, "
          f"{args.clients} connections; {args.seconds:g} s per phase; median of {args.rounds} interleaved rounds "
          f"({took:.0f} s)\n")
    print("| page | side | req/s | p50 ms | p95 ms | app CPU ms/req | db CPU ms/req | KB | errors |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    med = {}
    for pair in pairs:
        for i, side in enumerate(("ours", "peer")):
            rows = results.get((pair, side))
            if not rows:
                continue
            m = med[(pair, side)] = {k: statistics.median(r[k] for r in rows)
                                     for k in ("rps", "p50", "p95", "app_ms", "db_ms")}
            size = sizes[pair][i]
            print(f"| {pair} | {side} | {m['rps']:,.1f} | {m['p50']:.1f} | {m['p95']:.1f} | {m['app_ms']:.2f} | "
                  f"{m['db_ms']:.2f} | {size / 1024:.1f} | {sum(r['errors'] for r in rows)} |")
    print("\n| page | peer p95 / ours p95 | ours req/s / peer req/s | CPU per request, peer / ours |")
    print("|---|---:|---:|---:|")
    for pair in pairs:
        o, p = med.get((pair, "ours")), med.get((pair, "peer"))
        if o and p and p["rps"] and o["p95"]:
            cpu = (p["app_ms"] + p["db_ms"]) / max(o["app_ms"] + o["db_ms"], 1e-9)
            print(f"| {pair} | {p['p95'] / o['p95']:.2f}x | {o['rps'] / p['rps']:.2f}x | {cpu:.2f}x |")
    print()
    board = med.get(("full board / dashboard", "ours"))
    if board:
        print(f"goal (item 2): our full board p95 {board['p95']:.1f} ms at c={args.clients} (< 100 ms: "
              f"{'met' if board['p95'] < 100 else 'NOT met'})")
    poll, bare = med.get(("idle poll (ours)", "ours")), med.get(("bare route", "ours"))
    if poll and bare:
        ratio = poll["rps"] / bare["rps"]
        print(f"goal (item 1): idle poll / our /healthz req/s = {ratio:.2f} (>= 0.5: {'met' if ratio >= 0.5 else 'NOT met'})")
    peer_bare = med.get(("bare route", "peer"))
    if bare and peer_bare:
        ok = bare["rps"] >= peer_bare["rps"]
        print(f"goal (item 5): /healthz {bare['rps']:,.0f} req/s vs the peer's bare view {peer_bare['rps']:,.0f} "
              f"({'met' if ok else 'NOT met'})")


if __name__ == "__main__":
    sys.exit(main())
