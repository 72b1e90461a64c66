"""An HTTP proxy on 127.0.0.1 that sits between `publish` and the Grafana double and breaks answers on purpose.

What a flaky network, an auth proxy or a misconfigured load balancer does to Grafana's answers: an HTML login
page with status 200, JSON of the wrong shape, a body cut short, a connection closed without an answer, a 502
page, bytes that are not JSON. Faults are switched on per request (method and path regex, `times`), or at
random with a seeded generator (`chaos`), and every request is logged with the fault it got.
"""
from __future__ import annotations

import http.client
import json
import random
import re
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOGIN_PAGE = (b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><form action=\"/oauth2/start\">"
              b"<button>Sign in with SSO</button></form></body></html>")
KINDS = ("html", "shape", "truncate", "drop", "bad_gateway", "garbage", "empty")
SHAPES = ([], {}, "text", 1, None, [1, "x", None], {"dashboard": "x", "meta": []}, [{"uid": 5}], {"version": {}},
          [{"title": "no uid"}], {"dashboard": {"uid": 1, "tags": "x"}, "meta": {"version": "seven"}})


@dataclass
class Fault:
    kind: str
    method: str | None = None
    path: re.Pattern | None = None
    times: int = 1
    shape: object = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or bool(self.path.search(path)))


class FaultProxy:
    def __init__(self, upstream: str):
        host_port = upstream.split("://", 1)[1].rstrip("/")
        self.upstream_host, port = host_port.rsplit(":", 1)
        self.upstream_port = int(port)
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, str | None]] = []  # (method, path, fault kind or None)
        self.rng: random.Random | None = None
        self.chance = 0.0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle stalls

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                proxy._handle(self)

            do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- controls ----------------------------------------------------------------

    def fail(self, kind: str, *, method: str | None = None, path: str | None = None, times: int = 1,
             shape=None) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}")
        with self._lock:
            self.faults.append(Fault(kind, method, re.compile(path) if path else None, times, shape))

    def chaos(self, seed: int, chance: float) -> None:
        """Break each request with probability `chance`, with a random kind (and shape), reproducibly."""
        with self._lock:
            self.rng, self.chance = random.Random(seed), chance

    def calm(self) -> None:
        with self._lock:
            self.faults.clear()
            self.rng, self.chance = None, 0.0

    # -- handling ----------------------------------------------------------------

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    return fault
            if self.rng is not None and self.rng.random() < self.chance:
                kind = self.rng.choice(KINDS)
                return Fault(kind, shape=self.rng.choice(SHAPES))
        return None

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        method, path = handler.command, handler.path
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        fault = self._take(method, path.split("?", 1)[0])
        with self._lock:
            self.log.append((method, path, fault.kind if fault else None))
        if fault is not None and fault.kind == "drop":
            return self._drop(handler)
        if fault is not None and fault.kind == "bad_gateway":
            return self._send(handler, 502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
        if fault is not None and fault.kind == "html":  # an auth proxy's login page, answered with 200
            return self._send(handler, 200, LOGIN_PAGE, "text/html; charset=utf-8")
        status, data, headers = self._forward(handler, method, path, body)
        if fault is None:
            return self._send(handler, status, data, headers.get("Content-Type", "application/json"), headers)
        if fault.kind == "shape":
            return self._send(handler, status, json.dumps(fault.shape).encode(), "application/json")
        if fault.kind == "garbage":
            return self._send(handler, status, b"\xff\xfe{not json" + data[:20], "application/json")
        if fault.kind == "empty":
            return self._send(handler, status, b"", "application/json")
        if fault.kind == "truncate":  # promise the whole body, send half, hang up
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data[:len(data) // 2])
            return self._drop(handler)

    def _forward(self, handler, method: str, path: str, body: bytes):
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=10)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "connection")}
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.read(), dict(response.getheaders())
        finally:
            connection.close()

    def _send(self, handler, status: int, data: bytes, content_type: str, headers: dict | None = None) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                if name.lower() == "retry-after":
                    handler.send_header(name, value)
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    def _drop(self, handler) -> None:
        handler.close_connection = True
        try:
            handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
