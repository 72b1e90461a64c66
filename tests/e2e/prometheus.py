"""A small client for the Prometheus HTTP API, for the end-to-end tests' assertions."""
from __future__ import annotations

import json
import time
import urllib.parse

from generator.simulate.stack import http


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
