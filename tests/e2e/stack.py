"""The processes of the end-to-end suite and small clients for their HTTP APIs.

Everything listens on 127.0.0.1 with free ports and works in a temporary folder.
Processes are started with their output in log files, and stopped by their own
handle (terminate, then kill), never by name.
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, timeout: float, what: str, interval: float = 0.25):
    """Poll `check()` until it returns a truthy value; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except (OSError, ValueError, KeyError) as exc:
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}" + (f" (last error: {last_error})"
                                                                               if last_error else ""))


class Process:
    """A child process with its output in `<log_dir>/<name>.log`."""

    def __init__(self, name: str, argv: list[str], log_dir: Path, cwd: Path | None = None):
        self.name = name
        self.log = log_dir / f"{name}.log"
        self._file = self.log.open("wb")
        self.popen = subprocess.Popen(argv, stdout=self._file, stderr=subprocess.STDOUT, cwd=cwd,
                                      stdin=subprocess.DEVNULL)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        self._file.flush()
        return self.log.read_text(errors="replace")

    def check_alive(self) -> None:
        if not self.alive():
            raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.output()[-3000:]}")

    def stop(self) -> None:
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        self._file.close()


def http(method: str, url: str, data: bytes | None = None, timeout: float = 10) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Prometheus:
    def __init__(self, url: str):
        self.url = url

    def api(self, path: str, **params) -> dict:
        query = urllib.parse.urlencode(params)
        status, body = http("GET", f"{self.url}/api/v1/{path}" + (f"?{query}" if query else ""))
        payload = json.loads(body)
        if status != 200 or payload.get("status") != "success":
            raise ValueError(f"{path} {params}: HTTP {status}: {payload.get('error', body[:300])}")
        return payload["data"]

    def query(self, expr: str) -> list[dict]:
        return self.api("query", query=expr)["result"]

    def query_range(self, expr: str, seconds: int = 60, step: int = 5) -> list[dict]:
        end = time.time()
        return self.api("query_range", query=expr, start=f"{end - seconds:.3f}", end=f"{end:.3f}", step=step)["result"]

    def rules(self) -> list[dict]:
        return self.api("rules")["groups"]

    def alerts(self) -> list[dict]:
        return self.api("alerts")["alerts"]

    def targets(self) -> list[dict]:
        return self.api("targets")["activeTargets"]


class Webhook:
    """Alertmanager's webhook receiver: keeps every notification it is sent."""

    def __init__(self):
        self.notifications: list[dict] = []
        self._lock = threading.Lock()
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with webhook._lock:
                    webhook.notifications.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/alerts"

    def alerts(self) -> list[dict]:
        """Every alert of every notification, oldest first."""
        with self._lock:
            return [alert for n in self.notifications for alert in n.get("alerts", [])]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_alertmanager(binary: str, work: Path, webhook_url: str) -> tuple[Process, str]:
    config = work / "alertmanager.yml"
    config.write_text(json.dumps({
        "route": {"receiver": "webhook", "group_by": ["alertname", "model", "severity"],
                  "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
        "receivers": [{"name": "webhook", "webhook_configs": [{"url": webhook_url, "send_resolved": True}]}],
    }))
    port = free_port()
    process = Process("alertmanager", [
        binary, f"--config.file={config}", f"--storage.path={work / 'alertmanager-data'}",
        f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn",
    ], work)
    url = f"http://127.0.0.1:{port}"
    _wait_ready(process, f"{url}/-/ready")
    return process, url


def start_simulator(work: Path, inventory: Path, rule_glob: str, alertmanager: str, interval: str,
                    cwd: Path) -> tuple[Process, str, Path]:
    config = work / "prometheus.yml"
    process = Process("simulator", [
        sys.executable, "-m", "generator.simulate", "--inventory", str(inventory), "--port", "0",
        "--prometheus-config", str(config), "--scrape-interval", interval, "--rule-files", rule_glob,
        "--alertmanager", alertmanager,
    ], work, cwd=cwd)

    def address():
        process.check_alive()
        for line in process.output().splitlines():
            if " on http://" in line:
                return line.split(" on http://", 1)[1].split("/", 1)[0]
        return None

    host = wait_for(address, 30, "the simulator to listen")
    wait_for(config.exists, 10, "the simulator's Prometheus configuration")
    return process, f"http://{host}", config


def start_prometheus(binary: str, work: Path, config: Path) -> tuple[Process, str]:
    port = free_port()
    process = Process("prometheus", [
        binary, f"--config.file={config}", f"--storage.tsdb.path={work / 'prometheus-data'}",
        f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
    ], work)
    url = f"http://127.0.0.1:{port}"
    _wait_ready(process, f"{url}/-/ready")
    return process, url


def _wait_ready(process: Process, url: str) -> None:
    def ready():
        process.check_alive()
        return http("GET", url, timeout=2)[0] == 200
    wait_for(ready, 60, f"{process.name} to be ready ({url})")
