"""`simulate`: serve a simulated LLM fleet's /metrics, as each engine and exporter really exposes them.

For every model of the inventory and each replica (replicas.min, at least one):
the engine's /metrics in the metric names, suffixes, units and labels its engine
version uses (from generator/catalog), plus kube-state-metrics pod series and
dcgm-exporter GPU series. Counters and histograms grow with wall-clock time at
realistic rates. Scenarios (`--scenario NAME[:MODEL]`, or POST /scenarios while
running) play the README's fault model: each failure fires one alert (and
declares what else the same failure raises); `busy-but-healthy` and
`scale-to-zero` fire nothing.

    python -m generator simulate --inventory inventory.yaml --port 9300 \\
        --scenario ttft-spike:llama-3-1-8b --prometheus-config prometheus.yml
"""
from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from generator import inventory as inventory_mod
from generator.errors import GeneratorError
from generator.simulate.scenarios import SCENARIOS
from generator.simulate.server import SimulatorServer
from generator.simulate.simulation import Simulation
from generator.simulate.targets import prometheus_config
from generator.yaml_out import dump

HELP = "serve a simulated fleet's /metrics for every model in the inventory"


def register(subparsers) -> argparse.ArgumentParser:
    cmd = subparsers.add_parser("simulate", help=HELP, description=HELP)
    add_arguments(cmd)
    cmd.set_defaults(func=run)
    return cmd


def add_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--inventory", default="inventory.yaml", help="model inventory (default: %(default)s)")
    cmd.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    cmd.add_argument("--port", type=int, default=9300,
                     help="port to listen on; 0 picks a free one (default: %(default)s)")
    cmd.add_argument("--scenario", action="append", default=[], metavar="NAME[:MODEL]",
                     help=f"scenario to play, on one model or (without :MODEL) every model it fits; repeatable. "
                          f"One of: {', '.join(SCENARIOS)}")
    cmd.add_argument("--prometheus-config", metavar="FILE",
                     help="write a Prometheus configuration that scrapes the simulator (after binding the port)")
    cmd.add_argument("--scrape-interval", default="15s", help="scrape and rule evaluation interval in that file "
                                                              "(default: %(default)s)")
    cmd.add_argument("--rule-files", action="append", default=[], metavar="GLOB",
                     help="rule_files entry for that file (e.g. alerts/*.rules.yaml); repeatable")
    cmd.add_argument("--alertmanager", action="append", default=[], metavar="HOST:PORT",
                     help="Alertmanager for that file; repeatable")
    cmd.add_argument("--list-scenarios", action="store_true", help="print the scenarios and exit")


def run(args) -> int:
    if args.list_scenarios:
        for s in SCENARIOS.values():
            also = f" (also: {', '.join(s.also)})" if s.also else ""
            print(f"{s.name:20} {s.alert or '-':28} {s.description}{also}")
        return 0
    if not 0 <= args.port <= 65535:
        raise GeneratorError(f"--port {args.port} is not a TCP port (0 to 65535; 0 picks a free one)")
    simulation = Simulation(inventory_mod.load(args.inventory), args.scenario)
    try:
        server = SimulatorServer(simulation, args.host, args.port)
    except (OSError, OverflowError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise GeneratorError(f"cannot listen on {args.host}:{args.port}: {reason} (another process may hold the "
                             "port: pick another with --port, or 0 for a free one)") from None
    if args.prometheus_config:
        config = prometheus_config(simulation.fleet, server.address, args.scrape_interval, args.rule_files,
                                   args.alertmanager)
        path = Path(args.prometheus_config)
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text(dump(config), encoding="utf-8")
            tmp.replace(path)  # readers never see half a file
        except OSError as exc:
            server.server_close()
            raise GeneratorError(f"cannot write --prometheus-config {path}: {exc.strerror or exc}") from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    print(f"simulating {len(simulation.fleet.models)} models on http://{server.address}/ "
          f"(scenarios: {_describe(simulation.state())})", flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()
    return 0


def _describe(state: dict[str, list[str]]) -> str:
    active = [f"{','.join(names)} on {model}" for model, names in state.items() if names]
    return "; ".join(active) or "all healthy"
