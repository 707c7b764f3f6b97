"""gunicorn, the one web server: `make run` (SQLite, one machine) and production
(`DATABASE_URL` pointing to PostgreSQL) both start `gunicorn -c gunicorn.conf.py wsgi:app`.
`make dev` is the only place Flask's development server (with the reloader) runs.

Most requests are short database reads (the dispatcher board polls every few seconds),
so threads (gthread) carry the polling cheaply while processes use the cores.
- SQLite (no DATABASE_URL): 2 processes x 4 threads. SQLite takes one writer at a time
  whatever we do; a second process keeps one slow request (a photo being re-encoded)
  from holding up every page, and more would only queue on the write lock.
- PostgreSQL: 2 x cores + 1 processes x 4 threads.
Tune with WEB_CONCURRENCY / WEB_THREADS; PORT (default 5000) or BIND choose the address.
"""
import multiprocessing
import os

_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql"))

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT') or '5000'}"
workers = int(os.environ.get("WEB_CONCURRENCY") or (multiprocessing.cpu_count() * 2 + 1 if _postgres else 2))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS") or 4)
# Above the app's own database limits (DB_STATEMENT_TIMEOUT + grace): a request that is
# stuck is answered by the app with the 503 page before gunicorn would kill the worker.
timeout = int(os.environ.get("WEB_TIMEOUT") or 30)
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT") or 10)
keepalive = 5
max_requests = 2000  # recycle workers slowly against leaks
max_requests_jitter = 200
limit_request_line = 8190
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # the app logs each request itself, as JSON with its request id
errorlog = "-"
preload_app = False  # each worker opens its own DB pool after fork
