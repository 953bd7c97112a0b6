"""A minimal HTTP/1.1 keep-alive client for GET and POST requests on one socket.

It exists so the REST figures measure the gateway, not the client: httpx spends a few hundred microseconds
of Python per request, and on a 2-core machine the load generator's CPU is taken from the server's.
It handles exactly what the benchmarks need (GET, POST with a body, Content-Length or chunked bodies,
reconnect on close).
"""

from __future__ import annotations

import socket
from collections.abc import Sequence


class HttpError(RuntimeError):
    pass


class KeepAliveClient:
    def __init__(self, host: str, port: int, *, timeout: float = 10.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._sock: socket.socket | None = None
        self._buffer = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock, self._buffer = sock, b""
        return sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def get(self, path: str, headers: Sequence[tuple[str, str]] = ()) -> tuple[int, bytes]:
        """Send GET path and return (status, body)."""
        return self.request("GET", path, headers)

    def post(self, path: str, body: bytes, headers: Sequence[tuple[str, str]] = ()) -> tuple[int, bytes]:
        """Send POST path with body (the caller names its content type) and return (status, body)."""
        return self.request("POST", path, (*headers, ("Content-Length", str(len(body)))), body)

    def request(
        self, method: str, path: str, headers: Sequence[tuple[str, str]] = (), body: bytes = b""
    ) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", *(f"{k}: {v}" for k, v in headers)]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        sock = self._sock or self._connect()
        try:
            sock.sendall(request)
            return self._read_response()
        except (ConnectionError, HttpError):
            # The server may close an idle keep-alive connection between two requests: retry once, fresh.
            self.close()
            sock = self._connect()
            sock.sendall(request)
            return self._read_response()

    def _recv(self) -> None:
        assert self._sock is not None
        chunk = self._sock.recv(65536)
        if not chunk:
            raise HttpError("connection closed by the server")
        self._buffer += chunk

    def _read_until(self, marker: bytes) -> bytes:
        while (end := self._buffer.find(marker)) < 0:
            self._recv()
        head, self._buffer = self._buffer[:end], self._buffer[end + len(marker) :]
        return head

    def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._recv()
        body, self._buffer = self._buffer[:size], self._buffer[size:]
        return body

    def _read_response(self) -> tuple[int, bytes]:
        head = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        fields = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if "content-length" in fields:
            body = self._read_exactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while size := int(self._read_until(b"\r\n").split(b";")[0], 16):
                parts.append(self._read_exactly(size))
                self._read_exactly(2)
            self._read_until(b"\r\n")  # no trailers are sent to GETs here; skip the final CRLF
            body = b"".join(parts)
        else:
            raise HttpError("response has neither Content-Length nor chunked encoding")
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status, body
