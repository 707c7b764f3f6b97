"""A real HTTP server on 127.0.0.1 playing the Telegram Bot API and the SMS gateway.

It records every request (path, headers, JSON body, the status it answered) and
answers from a script: `fail(...)` queues answers for the next matching requests;
otherwise sendMessage/editMessageText succeed with a fresh message_id and the SMS
gateway with an id. `stop()` closes the socket (connection refused); `start()` binds
the same port again. `slow(...)` makes matching requests wait a bounded time before
they are answered (a hanging or slow Telegram); the request still "arrives" and is
recorded with its answer, as Telegram delivers a message whose answer we stopped
waiting for. `release()` (and `reset()`, `stop()`) ends every such wait at once.
"""
from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "123456:TEST-token"
SMS_PATH = "/sms/send"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: dict | None
    status: int
    response: dict | str | None = None

    @property
    def api_method(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class _Answer:
    match: str
    status: int
    body: dict | str | None = None
    headers: dict = field(default_factory=dict)


class StandIn:
    def __init__(self):
        self.requests: list[Recorded] = []
        self._script: deque[_Answer] = deque()
        self._holds: list[tuple[str, threading.Event, threading.Event]] = []
        self._slow: list[list] = []  # [match, seconds, times left or None]
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._busy = threading.Condition(self._lock)
        self.in_flight = 0
        self._message_id = 1000
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- lifecycle -----------------------------------------------------------------
    def start(self) -> "StandIn":
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                stand_in._enter()
                try:
                    stand_in._wait_if_held(self.path)
                    stand_in._wait_if_slow(self.path)
                    status, payload, headers = stand_in._answer(self.path, body)
                    stand_in._record(Recorded("POST", self.path, dict(self.headers.items()), body, status, payload))
                    data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                    try:
                        self.send_response(status)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(data)))
                        for k, v in headers.items():
                            self.send_header(k, v)
                        self.end_headers()
                        self.wfile.write(data)
                    except OSError:
                        pass  # the client stopped waiting (its read timed out): the message was taken anyway
                finally:
                    stand_in._leave()

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Down entirely: nothing listens on the port (connection refused)."""
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def telegram_base(self) -> str:
        return f"{self.url}/tg"

    @property
    def sms_url(self) -> str:
        return f"{self.url}{SMS_PATH}"

    # --- script and record -----------------------------------------------------------
    def reset(self) -> None:
        self.release()
        with self._lock:
            self.requests.clear()
            self._script.clear()
            for _, _, release in self._holds:
                release.set()
            self._holds.clear()

    def slow(self, match: str, seconds: float, times: int | None = None) -> None:
        """The next `times` requests whose path ends with `match` (all of them when None)
        are answered only after `seconds`, or when `release()` is called if sooner."""
        with self._lock:
            self._slow.append([match, seconds, times])

    def release(self) -> None:
        """Answer every slowed request now, and slow no more."""
        with self._lock:
            self._slow.clear()
            released, self._released = self._released, threading.Event()
        released.set()

    def wait_in_flight(self, count: int, timeout: float) -> bool:
        """Block until at least `count` requests are being handled (received, not yet answered)."""
        with self._busy:
            return self._busy.wait_for(lambda: self.in_flight >= count, timeout)

    def settle(self, timeout: float = 30) -> bool:
        """Block until every request received so far has been answered and recorded."""
        with self._busy:
            return self._busy.wait_for(lambda: self.in_flight == 0, timeout)

    def _enter(self) -> None:
        with self._busy:
            self.in_flight += 1
            self._busy.notify_all()

    def _leave(self) -> None:
        with self._busy:
            self.in_flight -= 1
            self._busy.notify_all()

    def _wait_if_slow(self, path: str) -> None:
        with self._lock:
            rule = next((r for r in self._slow if path.endswith(r[0])), None)
            if rule is None:
                return
            if rule[2] is not None:
                rule[2] -= 1
                if rule[2] <= 0:
                    self._slow.remove(rule)
            seconds, released = rule[1], self._released
        released.wait(seconds)

    def fail(self, match: str, status: int, times: int = 1, body=None, headers=None) -> None:
        """The next `times` requests whose path ends with `match` get this answer."""
        for _ in range(times):
            self._script.append(_Answer(match, status, body, headers or {}))

    def hold(self, match: str) -> tuple[threading.Event, threading.Event]:
        """Hold the next matching request before answering: (entered, release) events."""
        entered, release = threading.Event(), threading.Event()
        with self._lock:
            self._holds.append((match, entered, release))
        return entered, release

    def _wait_if_held(self, path: str) -> None:
        with self._lock:
            hold = next((h for h in self._holds if path.endswith(h[0])), None)
            if hold:
                self._holds.remove(hold)
        if hold:
            hold[1].set()
            hold[2].wait(30)

    def _answer(self, path: str, body) -> tuple[int, dict | str, dict]:
        with self._lock:
            for answer in list(self._script):
                if path.endswith(answer.match):
                    self._script.remove(answer)
                    payload = answer.body if answer.body is not None else {
                        "ok": False, "error_code": answer.status, "description": f"Error {answer.status}"}
                    return answer.status, payload, answer.headers
            if path == SMS_PATH:
                self._message_id += 1
                return 200, {"id": f"sms-{self._message_id}", "status": "queued"}, {}
            if path.endswith("/sendMessage") or path.endswith("/editMessageText"):
                self._message_id += 1
                chat = (body or {}).get("chat_id")
                return 200, {"ok": True, "result": {"message_id": self._message_id, "chat": {"id": chat},
                                                    "text": (body or {}).get("text")}}, {}
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, {}

    def _record(self, rec: Recorded) -> None:
        with self._lock:
            self.requests.append(rec)

    # --- what tests read ---------------------------------------------------------------
    def telegram(self, method: str = "sendMessage", *, ok_only: bool = True) -> list[Recorded]:
        return [r for r in list(self.requests)
                if r.path.startswith(f"/tg/bot{TOKEN}/") and r.api_method == method and (r.ok or not ok_only)]

    def sms(self, *, ok_only: bool = True) -> list[Recorded]:
        return [r for r in list(self.requests) if r.path == SMS_PATH and (r.ok or not ok_only)]

    def telegram_to(self, chat_id: str) -> list[Recorded]:
        return [r for r in self.telegram() if str(r.body.get("chat_id")) == str(chat_id)]
