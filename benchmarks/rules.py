"""Print what the generated rules cost a real Prometheus, against the same Prometheus without them.

Run on demand: `.venv/bin/python benchmarks/rules.py --models 50 --minutes 5`. Not a test: it
asserts nothing. It generates the example inventory repeated to `--models` models, starts the
fleet simulator and two Prometheus servers scraping it (Debian's `prometheus`), one evaluating
the generated rules and one not, and after `--minutes` prints, for each, CPU seconds per
evaluation interval, resident memory and head series, and for the one with rules the summed
duration of its rule groups per interval (per kind of group: raw recording, derived windows,
budget, alerts, each fast or slow; from /api/v1/rules), as a share of the interval, and the iterations it missed.
`--baseline REV` adds a third server evaluating the rules that commit generates for the same
fleet (`git archive` of its generator), for before/after figures from one run. The ratios between
servers are the figures to compare across changes: they share the machine and its noise.

Every server starts empty: a window reads at most `--minutes` of data, so the raw long windows of
older rules (`rate(...[3d])` over buckets) cost less here than in steady state, where they read
every sample of their window; the derived windows grow the same way over recorded series.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import promql_parser as pp
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import fleet  # noqa: E402

from generator import inventory, output  # noqa: E402
from generator.build import OUTPUT_DIRS, build  # noqa: E402
from generator.prometheus_syntax import duration_seconds  # noqa: E402
from generator.simulate.stack import HOST, Processes, free_port, http, wait_for  # noqa: E402
from generator.validate.expr import walk  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def rss_mib(pid: int) -> float:
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def own_metrics(url: str, name: str) -> list[float]:
    """The values of every series of `name` on the server's own /metrics (it does not scrape itself)."""
    status, body = http("GET", f"{url}/metrics")
    values = []
    for line in body.decode().splitlines() if status == 200 else []:
        if line.startswith(name) and line[len(name):len(name) + 1] in ("{", " "):
            values.append(float(line.rsplit(" ", 1)[1]))
    return values


def group_kind(name: str) -> str:
    """`llm-<model>-slow-windows-2` -> `slow-windows`; other groups by their last word."""
    name = re.sub(r"-[0-9]+$", "", name)
    for kind in ("slow-windows", "slow-recording", "slow-alerts", "windows", "recording", "budget", "alerts"):
        if name.endswith("-" + kind):
            return kind
    return name


def group_durations(url: str) -> dict[str, tuple[int, float, float]]:
    """Per kind of group: (groups, summed last evaluation seconds, evaluations per interval-second)."""
    status, body = http("GET", f"{url}/api/v1/rules", timeout=120)  # megabytes at 200 models
    kinds: dict[str, list] = defaultdict(lambda: [0, 0.0, 0.0])
    for group in json.loads(body)["data"]["groups"] if status == 200 else []:
        entry = kinds[group_kind(group["name"])]
        entry[0] += 1
        entry[1] += group["evaluationTime"]
        entry[2] += group["evaluationTime"] / group["interval"]  # seconds of work per second
    return {k: tuple(v) for k, v in sorted(kinds.items())}


def long_range_reads(url: str, rule_files: list[str], interval: float) -> float:
    """Samples per minute the range selectors of 1h and longer read once their windows are full: the series
    each matches now times the samples its window holds (one per `interval`) times its group's evaluations
    per minute. From one copy of the example fleet (model files `-0` to `-5`), scaled to the whole fleet."""
    models = [f for f in rule_files if re.search(r"-[0-9]+\.rules\.yaml$", f)]
    chosen = [f for f in models if int(re.search(r"-([0-9]+)\.rules\.yaml$", f)[1]) < 6]
    counted: dict[str, float] = {}
    total = 0.0
    for path in chosen:
        for group in yaml.safe_load(Path(path).read_text())["groups"]:
            every = duration_seconds(group["interval"]) if "interval" in group else interval
            for rule in group["rules"]:
                for node, _ in walk(pp.parse(rule["expr"])):
                    if isinstance(node, pp.MatrixSelector) and node.range >= timedelta(hours=1):
                        text = node.vector_selector.prettify()
                        if text not in counted:
                            _, body = http("GET", f"{url}/api/v1/query?query={quote(f'count({text})')}", timeout=120)
                            result = json.loads(body)["data"]["result"]
                            counted[text] = float(result[0]["value"][1]) if result else 0.0
                        total += counted[text] * node.range.total_seconds() / interval * 60 / every
    return total * len(models) / max(len(chosen), 1)


def baseline_rules(revision: str, source: Path, target: Path) -> list[str]:
    """The rule files the generator of `revision` writes for the inventory `source`."""
    tree = target / "tree"
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "generator"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    subprocess.run([sys.executable, "-m", "generator", "generate", "--inventory", str(source), "--output",
                    str(target / "out")], cwd=tree, check=True, capture_output=True)
    return sorted(str(p) for p in (target / "out" / "alerts").glob("*.rules.yaml"))


def start_prometheus(processes: Processes, name: str, binary: str, config: dict) -> tuple[str, int]:
    path = processes.work / f"{name}.yml"
    path.write_text(yaml.safe_dump(config))
    url = f"http://{HOST}:{free_port()}"
    process = processes.start(name, [binary, f"--config.file={path}",
                                     f"--storage.tsdb.path={processes.work / (name + '-data')}",
                                     f"--web.listen-address={url.removeprefix('http://')}", "--log.level=error"])
    wait_for(lambda: http("GET", f"{url}/-/ready")[0] == 200, 60, f"{name} to be ready", process)
    return url, process.popen.pid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--interval", default="15s", help="scrape and evaluation interval")
    parser.add_argument("--baseline", metavar="REV", help="also run the rules this commit generates")
    args = parser.parse_args()
    binary = shutil.which("prometheus")
    if binary is None:
        sys.exit("prometheus not found: apt-get install prometheus")
    interval = duration_seconds(args.interval)
    with tempfile.TemporaryDirectory() as folder, Processes(Path(folder)) as processes:
        work = Path(folder)
        source = work / "inventory.yaml"
        source.write_text(fleet(args.models))
        files = build(inventory.load(source))
        output.write(files, work / "out", OUTPUT_DIRS)
        rule_files = sorted(str(p) for p in (work / "out" / "alerts").glob("*.rules.yaml"))
        rules = sum(p.read_text().count("\n  - record:") + p.read_text().count("\n  - alert:")
                    for p in map(Path, rule_files))
        _, config_path = processes.simulator(source, str(work / "out" / "alerts" / "*.rules.yaml"),
                                             f"{HOST}:9", args.interval)
        config = yaml.safe_load(config_path.read_text())
        config.pop("alerting", None)
        bare = {k: v for k, v in config.items() if k != "rule_files"}
        servers = [("with rules", *start_prometheus(processes, "prometheus-rules", binary, config))]
        files_of = {servers[0][2]: rule_files}
        if args.baseline:
            old = baseline_rules(args.baseline, source, work / "baseline")
            servers.append((f"rules of {args.baseline}",
                            *start_prometheus(processes, "prometheus-baseline", binary, {**bare, "rule_files": old})))
            files_of[servers[-1][2]] = old
        servers.append(("without rules", *start_prometheus(processes, "prometheus-bare", binary, bare)))
        time.sleep(2 * interval)  # first scrapes and the rules' first evaluations done
        started = time.monotonic()
        cpu = {pid: cpu_seconds(pid) for _, _, pid in servers}
        load = os.getloadavg()[0]
        time.sleep(args.minutes * 60)
        elapsed = time.monotonic() - started
        used = {pid: cpu_seconds(pid) - before for pid, before in cpu.items()}
        intervals = elapsed / interval
        print(f"{args.models} models, {rules} rules in {len(rule_files)} files, {elapsed / 60:.1f} min at "
              f"{args.interval}, {os.cpu_count()} cores, load average {load:.1f} at the start and "
              f"{os.getloadavg()[0]:.1f} at the end")
        bare_pid = servers[-1][2]
        for name, url, pid in servers:
            against = (f", CPU {used[pid] / max(used[bare_pid], 1e-9):.1f}x and RSS "
                       f"{rss_mib(pid) / rss_mib(bare_pid):.1f}x without rules") if pid != bare_pid else ""
            print(f"  {name:>22}: {used[pid] / intervals:6.2f} CPU-s per interval ({used[pid] / elapsed:5.2f} cores), "
                  f"{rss_mib(pid):7.0f} MiB RSS, {sum(own_metrics(url, 'prometheus_tsdb_head_series')):8.0f} "
                  f"head series{against}")
        for name, url, pid in servers[:-1]:
            durations = own_metrics(url, "prometheus_rule_group_last_duration_seconds")
            missed = sum(own_metrics(url, "prometheus_rule_group_iterations_missed_total"))
            kinds = group_durations(url)
            share = sum(k[2] for k in kinds.values())
            print(f"  {name}: {len(durations)} rule groups, last evaluations {sum(durations):.2f} s summed, "
                  f"{share:.1%} of the time (each group's duration over its interval), slowest group "
                  f"{max(durations, default=0):.2f} s, {missed:.0f} iterations missed")
            for kind, (count, seconds, busy) in kinds.items():
                print(f"    {kind:>14}: {count:5d} groups, {seconds:7.3f} s summed, {busy:6.1%} of the time")
            reads = long_range_reads(url, files_of[pid], interval)
            print(f"    steady state: windows of 1h and longer read {reads / 1e6:.1f} M samples per minute once full")


if __name__ == "__main__":
    main()
