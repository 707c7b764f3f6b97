"""Structured (JSON lines) logs with the request id, for production log pipelines."""
from __future__ import annotations

import json
import logging
import os
import sys
import time


_FIELDS = ("request_id", "method", "path", "status", "ms", "user_id", "remote")
_encode = json.JSONEncoder(ensure_ascii=False).encode


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Every request writes one (the access-log line), so
    this is kept lean: the timestamp's seconds part is formatted once per second."""

    _second: int = -1
    _prefix: str = ""

    def _ts(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._prefix}.{int(record.msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": self._ts(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        attrs = record.__dict__
        for key in _FIELDS:
            if key in attrs:
                out[key] = attrs[key]
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return _encode(out)


def configure_logging(app) -> None:
    if app.testing or getattr(configure_logging, "_done", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("LOG_FORMAT", "json") == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    # Not the logging HOWTO's "Optimization" flags (logProcesses, logThreads, _srcfile):
    # they are process-wide, and gunicorn's and huey's own formats print the process and
    # thread (a record without them fails to format: "%d ... not NoneType").
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    huey_logger = logging.getLogger("huey")
    if huey_logger.handlers:  # huey_consumer set up its own output: don't print each line twice
        huey_logger.propagate = False
    configure_logging._done = True
