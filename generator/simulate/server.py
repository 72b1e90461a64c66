"""The simulator's HTTP server (standard library only): every endpoint's /metrics and scenario control.

    GET  /                                   what is served, and how to switch scenarios
    GET  /pods/<namespace>/<pod><path>       one replica's engine on its engine's metrics path (/metrics;
                                             /prometheus/metrics for trtllm-serve); 503 while its engine is
                                             crashed or its metrics endpoint fails, 404 while the model is
                                             scaled to zero
    GET  /kube-state-metrics/<site>/metrics  kube-state-metrics of one site (selector label set; 503 while down)
    GET  /dcgm/<node>/metrics                dcgm-exporter of one GPU node (503 while down)
    GET  /scenarios                          scenarios per model, and every scenario known (JSON)
    POST /scenarios                          body `NAME[:MODEL]`, several separated by commas or lines;
                                             sets the named models' scenarios (`healthy` clears)
    GET  /targets                            the scrape targets (JSON)
"""
from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from generator.catalog import ENGINES
from generator.errors import GeneratorError
from generator.simulate import dcgm_metrics, pod_metrics
from generator.simulate.renderers import RENDERERS
from generator.simulate.scenarios import DCGM_EXPORTER, KUBE_STATE_METRICS, SCENARIOS
from generator.simulate.simulation import Simulation
from generator.simulate.targets import targets

log = logging.getLogger(__name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, simulation: Simulation, host: str = "127.0.0.1", port: int = 0):
        self.simulation = simulation
        super().__init__((host, port), _Handler)

    @property
    def address(self) -> str:
        host, port = self.server_address[:2]
        return f"{host.decode() if isinstance(host, bytes) else host}:{port}"

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="simulator", daemon=True)
        thread.start()
        return thread


class _Handler(BaseHTTPRequestHandler):
    server: SimulatorServer
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: Prometheus scrapes every second
        log.debug("%s " + fmt, self.address_string(), *args)

    def _send(self, status: int, body: str, content_type: str = "text/plain; charset=utf-8") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        sim = self.server.simulation
        parts = [unquote(p) for p in self.path.split("?", 1)[0].strip("/").split("/")]
        try:
            if parts == [""]:
                return self._send(200, _index(sim, self.server.address))
            if parts == ["scenarios"]:
                return self._send(200, json.dumps(_scenarios(sim), indent=2) + "\n", "application/json")
            if parts == ["targets"]:
                body = [{"job": t.job, "path": t.path, "labels": dict(t.labels)} for t in targets(sim.fleet)]
                return self._send(200, json.dumps(body, indent=2) + "\n", "application/json")
            t = sim.now()
            timelines = sim.snapshot()
            if len(parts) >= 4 and parts[0] == "pods":
                replica = sim.fleet.replica(parts[1], parts[2])
                if replica is None:
                    return self._send(404, "no such pod\n")
                if "/" + "/".join(parts[3:]) != ENGINES[replica.model.engine].metrics_path:
                    return self._send(404, f"{ENGINES[replica.model.engine].title} serves Prometheus text on "
                                           f"{ENGINES[replica.model.engine].metrics_path}\n")
                timeline = timelines[replica.model.name]
                load = timeline.at(t).load
                if load.scaled_to_zero:
                    return self._send(404, "no such pod (the model is scaled to zero)\n")
                if replica.index not in timeline.at(t).serving:
                    return self._send(503, "engine not running (crash loop)\n")
                if replica.index in load.scrape_failing:
                    return self._send(503, "metrics endpoint failing\n")
                return self._send(200, RENDERERS[replica.model.engine](replica, timeline, t), CONTENT_TYPE)
            if len(parts) == 3 and parts[0] == "kube-state-metrics" and parts[2] == "metrics":
                if parts[1] not in sim.fleet.sites:
                    return self._send(404, "no such site\n")
                if _collector_down(sim, timelines, parts[1], KUBE_STATE_METRICS, t):
                    return self._send(503, "kube-state-metrics down (scenario kube-state-metrics-down)\n")
                return self._send(200, pod_metrics.render(sim.fleet, parts[1], timelines, t, sim.start), CONTENT_TYPE)
            if len(parts) == 3 and parts[0] == "dcgm" and parts[2] == "metrics":
                node = sim.fleet.nodes.get(parts[1])
                if node is None:
                    return self._send(404, "no such node\n")
                if _collector_down(sim, timelines, node.site, DCGM_EXPORTER, t):
                    return self._send(503, "dcgm-exporter down (scenario dcgm-down)\n")
                return self._send(200, dcgm_metrics.render(sim.fleet, node, timelines, t, sim.start), CONTENT_TYPE)
            return self._send(404, "not found; GET / lists the endpoints\n")
        except Exception:  # a bug: say so to the scraper, keep serving
            log.exception("rendering %s failed", self.path)
            return self._send(500, "simulator error; see its log\n")

    def do_POST(self):  # noqa: N802
        if self.path.split("?", 1)[0].rstrip("/") != "/scenarios":
            return self._send(404, "POST /scenarios only\n")
        length = int(self.headers.get("Content-Length") or 0)
        text = self.rfile.read(length).decode() if length else ""
        specs = [s.strip() for s in text.replace("\n", ",").split(",") if s.strip()]
        if not specs:
            return self._send(400, "send NAME[:MODEL], e.g. ttft-spike:llama-3-1-8b, or healthy\n")
        try:
            self.server.simulation.apply(specs)
        except GeneratorError as exc:
            return self._send(400, f"{exc}\n")
        log.info("scenarios now %s", self.server.simulation.state())
        return self._send(200, json.dumps(_scenarios(self.server.simulation), indent=2) + "\n", "application/json")


def _collector_down(sim: Simulation, timelines, site: str, collector: str, t: float) -> bool:
    """Whether a scenario on some model of the site took this collector down."""
    return any(collector in timelines[name].at(t).load.collectors_down
               for name, model_site in sim.fleet.site_of.items() if model_site == site)


def _scenarios(sim: Simulation) -> dict:
    return {"models": sim.state(),
            "scenarios": {s.name: {"alert": s.alert, "description": s.description} for s in SCENARIOS.values()}}


def _index(sim: Simulation, address: str) -> str:
    lines = ["LLM fleet simulator", "", "Scenarios per model:"]
    for model, names in sim.state().items():
        lines.append(f"  {model}: {', '.join(names) or 'healthy'}")
    lines += ["", "Switch (sets the named models' scenarios; `healthy` clears):",
              f"  curl -X POST http://{address}/scenarios -d 'ttft-spike:{next(iter(sim.fleet.models))}'",
              f"  curl -X POST http://{address}/scenarios -d healthy", "", "Scenarios:"]
    for s in SCENARIOS.values():
        lines.append(f"  {s.name:20} {s.alert or '-':28} {s.description}")
    lines += ["", "Endpoints:"]
    lines += [f"  {t.path}" for t in targets(sim.fleet)]
    return "\n".join(lines) + "\n"
