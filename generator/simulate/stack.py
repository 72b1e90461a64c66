"""The simulated fleet with a real Prometheus and Alertmanager, as child processes on 127.0.0.1.

One way to run the stack for both `make demo` (demo/run.py) and the end-to-end
tests (tests/e2e): an inventory copy whose alerts fire sooner, a webhook that
receives Alertmanager's notifications, and the three processes, started in a
work folder with their output in `<work>/<name>.log` and stopped by their own
handle (terminate, then kill), never by name. Alertmanager runs the generated
configuration (alerts/alertmanager.yaml: routes per team, inhibit rules) with
the webhook added to every receiver.

    with Processes(work) as processes:
        webhook = Webhook(on_notification=print)
        alertmanager = processes.alertmanager(alertmanager_bin, webhook.url, generated_config)
        simulator, config = processes.simulator(inventory, "out/alerts/*.rules.yaml", alertmanager, "5s")
        prometheus = processes.prometheus(prometheus_bin, config)

Standard library only, apart from the generator's own modules.
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from generator import located_yaml
from generator.rules.alert_table import NAMES as ALERT_NAMES
from generator.yaml_out import comment, dump

HOST = "127.0.0.1"
START_TIMEOUT = 60  # seconds a process may take to be ready
SOURCE_ROOT = Path(__file__).resolve().parents[2]  # where `python -m generator.simulate` imports this package from


# -- an inventory whose alerts fire sooner ---------------------------------------------------------


def shortened_inventory(source: Path, target: Path, for_: str, overrides: Mapping[str, str] | None = None,
                        collectors: Mapping | None = None) -> Path:
    """Write to `target` a copy of the inventory whose every alert has `for: <for_>` (or `overrides[alert]`).

    Set through the inventory's own `alerts:` overrides: `defaults.alerts` for every alert, and any
    team's or model's own `alerts:` rewritten too, since those would win over the defaults.
    `collectors`, if given, replaces the inventory's `collectors:` block. The error budget is recorded
    every `for_` too (`slo_policy.budget_interval`), and the slow SLO windows (`slo_policy.window_interval`),
    so their series exist as soon as the others.
    """
    def durations(names) -> dict:
        return {name: {"for": (overrides or {}).get(name, for_)} for name in names}

    doc = _plain(located_yaml.load(source.read_text(encoding="utf-8"), str(source)))
    doc.setdefault("defaults", {})["alerts"] = durations(ALERT_NAMES)
    for scope in [*doc.get("teams", {}).values(), *doc.get("models", [])]:
        if isinstance(scope, dict) and "alerts" in scope:
            scope["alerts"] = durations(scope["alerts"])
    if collectors is not None:
        doc["collectors"] = _plain(dict(collectors))
    doc.setdefault("slo_policy", {})["budget_interval"] = for_
    doc["slo_policy"]["window_interval"] = for_
    header = comment(f"A copy of {source} whose alerts all have a shortened `for`, through its own alerts: overrides, "
                     f"and whose error budget and slow SLO windows are recorded that often.")
    target.write_text(header + dump(doc), encoding="utf-8")
    return target


def _plain(value):
    """The loader's located mappings and lists as plain ones, which the YAML writer knows."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


# -- HTTP and waiting ---------------------------------------------------------------------------------


def free_port(wanted: int = 0) -> int:
    """`wanted` if it is free on 127.0.0.1, else (or for 0) any free port."""
    with socket.socket() as sock:
        try:
            sock.bind((HOST, wanted))
        except OSError:
            sock.bind((HOST, 0))
        return sock.getsockname()[1]


def http(method: str, url: str, data: bytes | None = None, timeout: float = 10) -> tuple[int, bytes]:
    """(status, body) of one request; HTTP errors are returned, connection errors raised."""
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_for(check: Callable, timeout: float, what: str, process: Process | None = None, interval: float = 0.25):
    """Poll `check()` until it returns a truthy value, and return that.

    Raises RuntimeError as soon as `process` (if given) has exited, and TimeoutError after `timeout`
    seconds. OSError, ValueError and KeyError from `check` count as "not yet".
    """
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = check()
            if value:
                return value
        except (OSError, ValueError, KeyError) as exc:
            last_error = exc
        if process is not None:
            process.check_alive()
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    message = f"timed out after {timeout:.0f} s waiting for {what}"
    if last_error:
        message += f" (last error: {last_error})"
    if process is not None:
        message += f"; the end of its log:\n{process.tail()}"
    raise TimeoutError(message)


# -- processes -------------------------------------------------------------------------------------


class Process:
    """A child process with its output in `<log_dir>/<name>.log`.

    `new_session`: the child gets its own session, so a Ctrl-C in the terminal reaches only the
    parent, which then stops its children itself, in order.
    """

    def __init__(self, name: str, argv: list[str], log_dir: Path, cwd: Path | None = None,
                 new_session: bool = False):
        self.name = name
        self.log = log_dir / f"{name}.log"
        self._file = self.log.open("wb")
        self.popen = subprocess.Popen(argv, stdout=self._file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      cwd=cwd, start_new_session=new_session)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        self._file.flush()
        return self.log.read_text(errors="replace")

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def check_alive(self) -> None:
        if not self.alive():
            raise RuntimeError(f"{self.name} exited with {self.popen.returncode}; the end of its log:\n{self.tail()}")

    def stop(self) -> None:
        """Terminate, wait up to 15 s, then kill."""
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        self._file.close()


class Processes:
    """The processes of one stack, in the work folder `work`; `stop()` (or leaving `with`) stops them newest first.

    Each start method returns once its process is ready; a process is stopped with the rest even
    if it never got ready.
    """

    def __init__(self, work: Path, new_session: bool = False):
        self.work = work
        self.new_session = new_session
        self.started: list[Process] = []

    def start(self, name: str, argv: list[str], cwd: Path | None = None) -> Process:
        process = Process(name, argv, self.work, cwd=cwd, new_session=self.new_session)
        self.started.append(process)
        return process

    def alertmanager(self, binary: str, webhook_url: str, config: Mapping | None = None, port: int = 0,
                     group_wait: str = "5s", group_interval: str = "10s") -> str:
        """Start Alertmanager with `config` (the generated one; without it, one catch-all receiver), every
        receiver also sending every notification, resolved ones too, to `webhook_url`; its URL."""
        base = config or {"route": {"receiver": "webhook", "group_by": ["alertname", "model", "severity"]},
                          "receivers": [{"name": "webhook"}]}
        path = self.work / "alertmanager.yml"
        path.write_text(json.dumps(with_webhook(base, webhook_url, group_wait, group_interval), indent=2))
        url = f"http://{HOST}:{port or free_port()}"
        process = self.start("alertmanager", [
            binary, f"--config.file={path}", f"--storage.path={self.work / 'alertmanager-data'}",
            f"--web.listen-address={url.removeprefix('http://')}", "--cluster.listen-address=", "--log.level=warn",
        ])
        _wait_ready(process, url)
        return url

    def simulator(self, inventory: Path, rule_files: str, alertmanager_url: str, interval: str, port: int = 0,
                  scenarios: Sequence[str] = ()) -> tuple[str, Path]:
        """Start the fleet simulator; its URL and the Prometheus configuration it wrote to scrape it."""
        config = self.work / "prometheus.yml"
        process = self.start("simulator", [
            sys.executable, "-m", "generator.simulate", "--inventory", str(inventory), "--host", HOST,
            "--port", str(port), "--prometheus-config", str(config), "--scrape-interval", interval,
            "--rule-files", rule_files, "--alertmanager", alertmanager_url.removeprefix("http://"),
            *[arg for spec in scenarios for arg in ("--scenario", spec)],
        ], cwd=SOURCE_ROOT)

        def address():  # from the line it prints once it listens: "simulating ... on http://HOST:PORT/ ..."
            for line in process.output().splitlines():
                if " on http://" in line:
                    return line.split(" on http://", 1)[1].split("/", 1)[0]
            return None

        url = "http://" + wait_for(address, START_TIMEOUT, "the simulator to listen", process)
        wait_for(config.exists, START_TIMEOUT, "the simulator's Prometheus configuration", process)
        return url, config

    def prometheus(self, binary: str, config: Path, port: int = 0, name: str = "prometheus", agent: bool = False,
                   flags: Sequence[str] = ()) -> str:
        """Start Prometheus with `config` (in agent mode: scrape and remote-write only), named `name` for its log
        and data folder, with any further `flags` (e.g. `--web.enable-remote-write-receiver`); its URL."""
        url = f"http://{HOST}:{port or free_port()}"
        storage = (f"--storage.agent.path={self.work / (name + '-data')}" if agent
                   else f"--storage.tsdb.path={self.work / (name + '-data')}")
        process = self.start(name, [
            binary, f"--config.file={config}", storage, *(["--enable-feature=agent"] if agent else []), *flags,
            f"--web.listen-address={url.removeprefix('http://')}", "--log.level=warn",
        ])
        _wait_ready(process, url)
        return url

    def exited(self) -> Process | None:
        """The first process that is no longer running, if any."""
        return next((p for p in self.started if not p.alive()), None)

    def stop(self) -> None:
        while self.started:
            self.started.pop().stop()

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def with_webhook(config: Mapping, url: str, group_wait: str, group_interval: str) -> dict:
    """A copy of an Alertmanager configuration whose every receiver also posts to the webhook `url`
    (resolved notifications too), and whose routes wait `group_wait` and `group_interval` (shortened for
    tests and demos; the routes, receivers and inhibit rules stay as they are)."""
    result = json.loads(json.dumps(config))
    for receiver in result.get("receivers", []):
        receiver["webhook_configs"] = [*receiver.get("webhook_configs", []), {"url": url, "send_resolved": True}]

    def inherit(route: dict) -> None:  # child routes take the top route's (shortened) timings
        for child in route.get("routes", []):
            child.pop("group_wait", None)
            child.pop("group_interval", None)
            inherit(child)

    route = result.setdefault("route", {})
    route["group_wait"], route["group_interval"] = group_wait, group_interval
    inherit(route)
    return result


def _wait_ready(process: Process, url: str) -> None:
    wait_for(lambda: http("GET", f"{url}/-/ready", timeout=2)[0] == 200, START_TIMEOUT,
             f"{process.name} to be ready ({url})", process)


# -- Alertmanager's webhook ----------------------------------------------------------------------------


class Webhook:
    """Alertmanager's webhook receiver on a free port: keeps every notification it is sent, oldest first,
    and hands each to `on_notification` (if given) as it arrives."""

    def __init__(self, on_notification: Callable[[dict], None] | None = None):
        self.notifications: list[dict] = []
        self._lock = threading.Lock()
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                notification = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                with webhook._lock:
                    webhook.notifications.append(notification)
                if on_notification is not None:
                    on_notification(notification)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://{HOST}:{self.server.server_address[1]}/alerts"

    def alerts(self) -> list[dict]:
        """Every alert of every notification, oldest first, with the notification's `receiver` added."""
        with self._lock:
            return [{**alert, "receiver": n.get("receiver")}
                    for n in self.notifications for alert in n.get("alerts", [])]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
