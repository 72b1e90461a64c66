#!/usr/bin/env python3
"""`make demo`: the simulated LLM fleet, Prometheus and Alertmanager on this machine, on 127.0.0.1.

Builds the rules and dashboards from the inventory (with every alert's `for`
shortened to --for, through the inventory's own `alerts:` overrides, so alerts
fire within a minute), starts the fleet simulator, Prometheus with the rules and
Alertmanager with the generated configuration (routes per team, inhibit rules),
prints where to look and how to switch scenarios, and prints every notification
Alertmanager sends, with the receiver it went to. Ctrl-C stops everything it started.

    python demo/run.py [--inventory inventory.yaml] [--scenario ttft-spike:llama-3-1-8b] [--for 30s]
"""
from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import conventions as c  # noqa: E402
from generator import inventory as inventory_mod  # noqa: E402
from generator.build import OUTPUT_DIRS, build  # noqa: E402
from generator.errors import GeneratorError  # noqa: E402
from generator.output import write  # noqa: E402
from generator.simulate.stack import Processes, Webhook, free_port, shortened_inventory  # noqa: E402


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
    parser.add_argument("--alertmanager",
                        default=shutil.which("prometheus-alertmanager") or shutil.which("alertmanager"),
                        help="Alertmanager binary")
    args = parser.parse_args(argv)
    for name, binary in (("prometheus", args.prometheus), ("alertmanager", args.alertmanager)):
        if not binary:
            print(f"error: {name} not found; on Debian: apt-get install prometheus prometheus-alertmanager",
                  file=sys.stderr)
            return 1

    work = Path(tempfile.mkdtemp(prefix="llm-observability-demo-"))
    # The children get their own session: Ctrl-C reaches only this script, which then stops them in order.
    processes = Processes(work, new_session=True)
    webhook = None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        source = Path(args.inventory)
        inventory = source if args.for_ == "keep" else shortened_inventory(source, work / "inventory.yaml", args.for_)
        write(build(inventory_mod.load(inventory)), work / "out", OUTPUT_DIRS)
        routes = yaml.safe_load((work / "out" / c.ALERTMANAGER_FILE).read_text(encoding="utf-8"))
        webhook = Webhook(on_notification=_print_notification)
        am = processes.alertmanager(args.alertmanager, webhook.url, routes,
                                    _port(args.alertmanager_port, "Alertmanager"))
        sim, config = processes.simulator(inventory, str(work / "out" / "alerts" / "*.rules.yaml"), am, args.interval,
                                          _port(args.simulator_port, "the simulator"), args.scenario)
        prom = processes.prometheus(args.prometheus, config, _port(args.prometheus_port, "Prometheus"))
        _banner(inventory, args, prom, am, sim, work)
        while not stop.wait(1):
            exited = processes.exited()
            if exited:
                print(f"\n{exited.name} exited ({exited.popen.returncode}); its log:\n{exited.tail()}",
                      file=sys.stderr)
                return 1
        print("\nstopping ...")
        return 0
    except (GeneratorError, RuntimeError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        processes.stop()
        if webhook is not None:
            webhook.stop()
        shutil.rmtree(work, ignore_errors=True)


def _print_notification(notification: dict) -> None:
    """One line per alert Alertmanager sends."""
    for alert in notification.get("alerts", []):
        labels, notes = alert["labels"], alert.get("annotations", {})
        state = "FIRING  " if alert["status"] == "firing" else "resolved"
        print(f"[alertmanager -> {notification.get('receiver')}] {state} {labels.get('alertname')} "
              f"model={labels.get('model')} team={labels.get('team')} severity={labels.get('severity')}: "
              f"{notes.get('description', '')}", flush=True)


def _port(wanted: int, what: str) -> int:
    """The wanted port if it is free, else any free one (said so)."""
    port = free_port(wanted)
    if wanted and port != wanted:
        print(f"note: port {wanted} is taken; {what} uses {port}")
    return port


def _banner(inventory: Path, args, prom: str, am: str, sim: str, work: Path) -> None:
    models = [m.name for m in inventory_mod.load(inventory).models]
    example = models[0]
    print(f"""
LLM observability demo: {len(models)} simulated models ({', '.join(models)})
alerts `for`: {args.for_}; scrape and evaluation every {args.interval}; files in {work}

  Prometheus    {prom}/alerts    (also /rules, /targets, /graph)
  Alertmanager  {am}/            (notifications are printed below)
  Simulator     {sim}/            (scenarios, endpoints)

Switch scenarios (sets the named models' scenarios; several at once with commas):
  curl -X POST {sim}/scenarios -d 'ttft-spike:{example}'
  curl -X POST {sim}/scenarios -d 'error-burst:{example},gpu-xid:{example}'
  curl -X POST {sim}/scenarios -d healthy
  curl {sim}/scenarios        # what runs where, and every scenario

Grafana (optional, needs Docker): docker compose -f demo/compose.yaml up, then http://localhost:3000
(the committed dashboards/; Grafana cannot run on the machines this project is built on).

Ctrl-C stops everything.
""", flush=True)


if __name__ == "__main__":
    sys.exit(main())
