"""gunicorn for the scale-out profile: `gunicorn -c gunicorn.conf.py wsgi:app`.

The dispatcher board polls every few seconds and most requests are short DB reads, so
threads (gthread) carry the polling cheaply while processes use the cores:
workers = 2 x cores + 1, 4 threads each. Tune with WEB_CONCURRENCY / WEB_THREADS.
"""
import multiprocessing
import os

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", 4))
timeout = int(os.environ.get("WEB_TIMEOUT", 30))
graceful_timeout = 20
keepalive = 5
max_requests = 2000  # recycle workers slowly against leaks
max_requests_jitter = 200
limit_request_line = 8190
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # the app logs each request itself, as JSON with its request id
errorlog = "-"
preload_app = False  # each worker opens its own DB pool after fork
