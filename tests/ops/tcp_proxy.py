"""A small TCP proxy for fault tests: forward, refuse (reset every connection), or blackhole (accept and
read, never answer), switchable while it runs. Loopback only."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from typing import Literal

Mode = Literal["forward", "refuse", "blackhole"]


def _reset(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, mode: Mode = "forward") -> None:
        self.target = (target_host, target_port)
        self.mode: Mode = mode
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port: int = self.listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def set_mode(self, mode: Mode) -> None:
        """Switch. To blackhole: open connections stay open and go silent. To refuse or forward: every open
        connection is reset (one that was blackholed has lost data)."""
        with self._lock:
            self.mode = mode
            if mode == "blackhole":
                return
            victims, self._open = self._open, set()
        for sock in victims:
            _reset(sock)

    def close(self) -> None:
        self._closed = True
        self.set_mode("refuse")
        self.listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            mode = self.mode
            if mode == "refuse":
                _reset(client)
                continue
            if mode == "blackhole":
                with self._lock:
                    self._open.add(client)
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _swallow(self, sock: socket.socket) -> None:
        try:
            while sock.recv(65536):
                pass
        except OSError:
            pass

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if self.mode == "blackhole":
                    continue  # read and dropped: the peer waits for an answer that never comes
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
