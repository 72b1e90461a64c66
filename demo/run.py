#!/usr/bin/env python3
"""`make demo`: the simulated LLM fleet, Prometheus and Alertmanager on this machine, on 127.0.0.1.

Builds the rules and dashboards from the inventory (with every alert's `for`
shortened to --for, through the inventory's own `alerts:` overrides, so alerts
fire within a minute), starts the fleet simulator, Prometheus with the rules and
Alertmanager, prints where to look and how to switch scenarios, and prints every
notification Alertmanager sends. Ctrl-C stops everything it started.

    python demo/run.py [--inventory inventory.yaml] [--scenario ttft-spike:llama-3-1-8b] [--for 30s]
"""
from __future__ import annotations

import argparse
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from generator import conventions as c  # noqa: E402
from generator import inventory as inventory_mod  # noqa: E402
from generator.build import OUTPUT_DIRS, build  # noqa: E402
from generator.errors import GeneratorError  # noqa: E402
from generator.output import write  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", default=str(ROOT / "inventory.yaml"))
    parser.add_argument("--scenario", action="append", default=[], metavar="NAME[:MODEL]",
                        help="scenario to start with (repeatable); switch later with POST /scenarios")
    parser.add_argument("--for", dest="for_", default="30s",
                        help="every alert's `for` (default: %(default)s); `keep` keeps the inventory's")
    parser.add_argument("--interval", default="5s", help="scrape and evaluation interval (default: %(default)s)")
    parser.add_argument("--prometheus-port", type=int, default=9090)
    parser.add_argument("--alertmanager-port", type=int, default=9093)
    parser.add_argument("--simulator-port", type=int, default=9300)
    parser.add_argument("--prometheus", default=shutil.which("prometheus"), help="Prometheus binary")
    parser.add_argument("--alertmanager", default=shutil.which("prometheus-alertmanager") or shutil.which("alertmanager"),
                        help="Alertmanager binary")
    args = parser.parse_args(argv)
    for name, binary in (("prometheus", args.prometheus), ("alertmanager", args.alertmanager)):
        if not binary:
            print(f"error: {name} not found; on Debian: apt-get install prometheus prometheus-alertmanager",
                  file=sys.stderr)
            return 1

    work = Path(tempfile.mkdtemp(prefix="llm-observability-demo-"))
    children: list[Child] = []
    receiver = None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        inventory = _inventory(Path(args.inventory), work, args.for_)
        write(build(inventory_mod.load(inventory)), work / "out", OUTPUT_DIRS)
        receiver = Receiver()
        am_port = _port(args.alertmanager_port, "Alertmanager")
        am = Child("alertmanager", [args.alertmanager, f"--config.file={_alertmanager_config(work, receiver.url)}",
                                    f"--storage.path={work / 'alertmanager'}", f"--web.listen-address=127.0.0.1:{am_port}",
                                    "--cluster.listen-address=", "--log.level=warn"], work)
        children.append(am)
        sim_port = _port(args.simulator_port, "the simulator")
        config = work / "prometheus.yml"
        scenarios = [arg for spec in args.scenario for arg in ("--scenario", spec)]
        sim = Child("simulator", [sys.executable, "-m", "generator.simulate", "--inventory", str(inventory),
                                  "--port", str(sim_port), "--prometheus-config", str(config),
                                  "--scrape-interval", args.interval, "--alertmanager", f"127.0.0.1:{am_port}",
                                  "--rule-files", str(work / "out" / "alerts" / "*.rules.yaml"), *scenarios],
                    work, cwd=ROOT)
        children.append(sim)
        _wait(lambda: config.exists(), sim, "the simulator")
        prom_port = _port(args.prometheus_port, "Prometheus")
        prom = Child("prometheus", [args.prometheus, f"--config.file={config}",
                                    f"--storage.tsdb.path={work / 'prometheus'}",
                                    f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"], work)
        children.append(prom)
        _wait(lambda: _get(f"http://127.0.0.1:{am_port}/-/ready"), am, "Alertmanager")
        _wait(lambda: _get(f"http://127.0.0.1:{prom_port}/-/ready"), prom, "Prometheus")
        _wait(lambda: _get(f"http://127.0.0.1:{sim_port}/"), sim, "the simulator")
        _banner(inventory, args, prom_port, am_port, sim_port, work)
        while not stop.wait(1):
            for child in children:
                if not child.alive():
                    print(f"\n{child.name} exited ({child.popen.returncode}); its log:\n{child.tail()}", file=sys.stderr)
                    return 1
        print("\nstopping ...")
        return 0
    except (GeneratorError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        for child in reversed(children):
            child.stop()
        if receiver is not None:
            receiver.stop()
        shutil.rmtree(work, ignore_errors=True)


def _inventory(source: Path, work: Path, for_: str) -> Path:
    """The inventory as given, or a copy whose alerts all have `for: <for_>` (the inventory's own overrides)."""
    if for_ == "keep":
        return source
    doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    doc.setdefault("defaults", {})["alerts"] = {name: {"for": for_} for name in c.ALERTS}
    for scope in [*doc.get("teams", {}).values(), *doc.get("models", [])]:
        if isinstance(scope, dict) and "alerts" in scope:
            scope["alerts"] = {name: {"for": for_} for name in scope["alerts"]}
    target = work / "inventory.yaml"
    target.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return target


def _alertmanager_config(work: Path, webhook: str) -> Path:
    path = work / "alertmanager.yml"
    path.write_text(json.dumps({
        "route": {"receiver": "console", "group_by": ["alertname", "model", "severity"],
                  "group_wait": "5s", "group_interval": "10s", "repeat_interval": "1h",
                  "routes": []},
        "receivers": [{"name": "console", "webhook_configs": [{"url": webhook, "send_resolved": True}]}],
    }))
    return path


class Child:
    def __init__(self, name: str, argv: list[str], work: Path, cwd: Path | None = None):
        self.name = name
        self.log = work / f"{name}.log"
        self._file = self.log.open("wb")
        # Its own session: Ctrl-C reaches only this script, which then stops the children in order.
        self.popen = subprocess.Popen(argv, stdout=self._file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      cwd=cwd, start_new_session=True)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self) -> str:
        self._file.flush()
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])

    def stop(self) -> None:
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        self._file.close()


class Receiver:
    """Alertmanager's webhook: prints one line per alert it is sent."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                for alert in body.get("alerts", []):
                    labels, notes = alert["labels"], alert.get("annotations", {})
                    state = "FIRING  " if alert["status"] == "firing" else "resolved"
                    print(f"[alertmanager] {state} {labels.get('alertname')} model={labels.get('model')} "
                          f"team={labels.get('team')} severity={labels.get('severity')}: "
                          f"{notes.get('description', '')}", flush=True)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _port(wanted: int, what: str) -> int:
    """The wanted port if it is free, else any free one (said so)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", wanted))
            return wanted
        except OSError:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
    print(f"note: port {wanted} is taken; {what} uses {port}")
    return port


def _get(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _wait(check, child: Child, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if not child.alive():
            raise RuntimeError(f"{what} exited ({child.popen.returncode}):\n{child.tail()}")
        time.sleep(0.25)
    raise RuntimeError(f"{what} did not start within {timeout:.0f} s:\n{child.tail()}")


def _banner(inventory: Path, args, prom: int, am: int, sim: int, work: Path) -> None:
    models = [m.name for m in inventory_mod.load(inventory).models]
    example = models[0]
    print(f"""
LLM observability demo: {len(models)} simulated models ({', '.join(models)})
alerts `for`: {args.for_}; scrape and evaluation every {args.interval}; files in {work}

  Prometheus    http://127.0.0.1:{prom}/alerts    (also /rules, /targets, /graph)
  Alertmanager  http://127.0.0.1:{am}/            (notifications are printed below)
  Simulator     http://127.0.0.1:{sim}/            (scenarios, endpoints)

Switch scenarios (sets the named models' scenarios; several at once with commas):
  curl -X POST http://127.0.0.1:{sim}/scenarios -d 'ttft-spike:{example}'
  curl -X POST http://127.0.0.1:{sim}/scenarios -d 'error-burst:{example},gpu-xid:{example}'
  curl -X POST http://127.0.0.1:{sim}/scenarios -d healthy
  curl http://127.0.0.1:{sim}/scenarios        # what runs where, and every scenario

Grafana (optional, needs Docker): docker compose -f demo/compose.yaml up, then http://localhost:3000
(the committed dashboards/; Grafana cannot run on the machines this project is built on).

Ctrl-C stops everything.
""", flush=True)


if __name__ == "__main__":
    sys.exit(main())
