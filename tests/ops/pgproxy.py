"""A TCP relay in front of the real PostgreSQL that can play a bad day: `freeze()` (the
server is there but says nothing, as under SIGSTOP), `stop()` (every connection closed,
new ones closed at once, as when the server is down) and `resume()`.

The suite shares one PostgreSQL with everybody else, so the fault is played here on
loopback, between the app and the server, not by stopping the server itself."""
from __future__ import annotations

import socket
import threading


class PgProxy:
    def __init__(self, target=("127.0.0.1", 5432)):
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._running = threading.Event()  # cleared while frozen: nothing is relayed
        self._running.set()
        self._down = False
        self._closing = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def url(self, database="test", user="postgres") -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    # --- the faults ------------------------------------------------------------------
    def freeze(self) -> None:
        self._running.clear()

    def stop(self) -> None:
        self._down = True
        self._drop_all()

    def resume(self) -> None:
        self._down = False
        self._running.set()

    def close(self) -> None:
        self._closing = True
        self._running.set()
        self._drop_all()
        self._acceptor.join(timeout=2)
        self._listener.close()

    # --- relaying --------------------------------------------------------------------
    def _drop_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._down:
                client.close()
                continue
            # A frozen server still completes the TCP handshake (the kernel does it) but
            # answers nothing: the upstream connection is made, and nothing is relayed.
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                while not self._running.wait(0.2):
                    if self._closing:
                        return
                data = source.recv(65536)
                if not data:
                    break
                self._running.wait()  # data that arrived just as we froze waits too
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
