"""`make run` end to end, and the Procfile's worker on its own.

`make run` is started as a developer would (minus the install step: the suite's
.venv is reused with `make -o .venv/.installed`), on a free loopback port, with its
own INSTANCE_DIR and huey file so it never touches a developer's instance/. It must
migrate, seed, load the demo, print the logins, serve /login and start the worker;
Ctrl-C (SIGINT to the foreground process group) must stop the web server and the
worker. Everything is bounded in time; nothing leaves 127.0.0.1.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STARTUP_SECONDS = 300  # migrate + seed + demo + two processes, on a busy 2-core machine
STOP_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path: Path, **extra) -> dict:
    """The caller's environment minus anything that would point the app elsewhere."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MAKE", "MFLAGS", "TELEGRAM_", "SMS_", "PYTEST_"))
           and k not in {"DATABASE_URL", "REDIS_URL", "UPLOAD_DIR", "RATELIMIT_STORAGE_URI", "PORT"}}
    env.update(INSTANCE_DIR=str(tmp_path / "instance"), HUEY_SQLITE_PATH=str(tmp_path / "instance" / "huey.db"),
               PYTHONUNBUFFERED="1", **extra)
    return env


class Output:
    """Lines of a child's merged stdout/stderr, collected by a thread; wait on them."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self.closed = False
        self.cond = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for raw in iter(stream.readline, b""):
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace"))
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    @property
    def text(self) -> str:
        with self.cond:
            return "".join(self.lines)

    def wait(self, predicate, timeout: float) -> bool:
        """Block until predicate(text) holds, the stream closes, or `timeout` passes."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                text = "".join(self.lines)
                if predicate(text):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    return False
                self.cond.wait(remaining)

    def wait_for(self, needle: str, timeout: float) -> bool:
        return self.wait(lambda text: needle in text, timeout)


def _get(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def _wait_http_200(url: str, out: Output, timeout: float) -> bool:
    """Poll the URL; between attempts wait for new output (the server logs as it starts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _get(url) == 200:
            return True
        seen = len(out.lines)
        if not out.wait(lambda _t: len(out.lines) > seen, 0.3) and out.closed:
            return _get(url) == 200
    return False


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has stopped


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


def test_make_run_sets_up_serves_with_the_worker_and_stops_on_ctrl_c(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(["make", "-o", ".venv/.installed", "run"], cwd=ROOT, env=_env(tmp_path, PORT=str(port)),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    out = Output(proc.stdout)
    pids: dict[str, int] = {}
    try:
        assert out.wait_for("Demo logins (password for all: evercold)", STARTUP_SECONDS), out.text[-3000:]
        assert out.wait_for("Huey consumer started", 120), out.text[-3000:]
        assert out.wait_for("executed in", 60), out.text[-3000:]  # the worker runs its periodic jobs
        assert _wait_http_200(f"http://127.0.0.1:{port}/login", out, 120), out.text[-3000:]

        text = out.text
        # Served by gunicorn (issue 13, item 11), not Flask's development server.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as resp:
            assert resp.headers["Server"].startswith("gunicorn"), resp.headers["Server"]
        assert f"Listening at: http://127.0.0.1:{port}" in text
        assert "development server" not in text.lower()
        assert "Issue categories seeded." in text
        assert re.search(r"admin\s+admin@evercold\.example", text)
        assert re.search(r"store_manager\s+manager\.bm-01@evercold\.example", text)
        for name in ("web", "worker"):
            pids[name] = int(re.search(rf"{name}\.1 started \(pid=(\d+)\)", text).group(1))
            assert _alive(pids[name])
        # The database, the demo data and huey's queue are in the temporary instance dir.
        db = sqlite3.connect(tmp_path / "instance" / "evercold.db")
        try:
            assert db.execute("SELECT count(*) FROM service_tickets").fetchone()[0] >= 180
        finally:
            db.close()
        assert (tmp_path / "instance" / "huey.db").exists()

        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        proc.wait(timeout=STOP_SECONDS)
        assert out.wait(lambda _t: out.closed, 10)
        text = out.text
        assert "web.1 stopped" in text and "worker.1 stopped" in text, text[-3000:]
        assert "Consumer exiting." in text
        assert "Traceback" not in text, text[-3000:]
        assert not _alive(pids["web"]) and not _alive(pids["worker"])
        assert not _port_open(port)
    finally:
        _stop(proc)
        for pid in pids.values():  # never leave a server behind, even when an assert failed
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_procfile_worker_starts_from_the_repository_root_and_stops_cleanly_on_sigint(tmp_path):
    env = _env(tmp_path)
    subprocess.run([str(VENV / "bin" / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=120)
    # Only the system's PATH: the Procfile line itself must put .venv/bin first.
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    command = _procfile()["worker"].strip()
    assert "--flush-locks" in command
    proc = subprocess.Popen(["/bin/sh", "-c", command], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    out = Output(proc.stdout)
    try:
        assert out.wait_for("Huey consumer started", 120), out.text[-3000:]
        assert out.wait_for("app.jobs.sla.sla_sweep", 30), out.text[-3000:]  # our tasks are registered
        # huey installs its signal handlers after its threads start: wait until it works.
        assert out.wait_for("executed in", 60), out.text[-3000:]

        os.kill(proc.pid, signal.SIGINT)  # the shell exec'd: this is huey_consumer itself
        assert proc.wait(timeout=STOP_SECONDS) == 0, out.text[-3000:]
        assert out.wait(lambda _t: out.closed, 10)
        assert "Consumer exiting." in out.text
        assert "Traceback" not in out.text, out.text[-3000:]
    finally:
        _stop(proc)

