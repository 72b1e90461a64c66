"""Print what the generated rules cost a real Prometheus, against the same Prometheus without them.

Run on demand: `.venv/bin/python benchmarks/rules.py --models 50 --minutes 5`. Not a test: it
asserts nothing. It generates the example inventory repeated to `--models` models, backfills the history
the long windows read (`backfill.py`: every recorded series a range selector of 1h or longer reads, at its
group's interval, over the longest window that reads it, 30 days for the error budget, as TSDB blocks put in
every server's data folder), starts the fleet simulator and two Prometheus servers scraping it (Debian's
`prometheus`), one evaluating the generated rules and one not, waits for their startup work to settle, and
after `--minutes` prints, for each, CPU seconds per evaluation interval, resident memory and head series,
and for the one with rules the summed duration of its rule groups per interval (per kind of group: raw
recording, derived windows, budget, alerts, each fast or slow; from /api/v1/rules), as a share of the
interval, the iterations it missed, the rules that keep it busiest, and the samples its rule evaluations
touch per interval (from the query log, switched on for one longest group interval after the measurement,
so its own cost stays out of the CPU figures). `--baseline REV` adds a third server evaluating the rules
that commit generates for the same fleet (`git archive` of its generator), with the same backfill, for
before/after figures from one run. The ratios between servers are the figures to compare across changes:
they share the machine and its noise.
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
from pathlib import Path
from urllib.parse import quote

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from backfill import BLOCK, Reads, backfill, long_reads  # noqa: E402
from generate import fleet  # noqa: E402

from generator import inventory, output  # noqa: E402
from generator.build import OUTPUT_DIRS, build  # noqa: E402
from generator.prometheus_syntax import duration_seconds  # noqa: E402
from generator.simulate.stack import HOST, Processes, free_port, http, wait_for  # noqa: E402

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


def rule_groups(url: str) -> list[dict]:
    status, body = http("GET", f"{url}/api/v1/rules", timeout=300)  # megabytes at 200 models
    return json.loads(body)["data"]["groups"] if status == 200 else []


def group_durations(groups: list[dict]) -> dict[str, tuple[int, float, float]]:
    """Per kind of group: (groups, summed last evaluation seconds, evaluations per interval-second)."""
    kinds: dict[str, list] = defaultdict(lambda: [0, 0.0, 0.0])
    for group in groups:
        entry = kinds[group_kind(group["name"])]
        entry[0] += 1
        entry[1] += group["evaluationTime"]
        entry[2] += group["evaluationTime"] / group["interval"]  # seconds of work per second
    return {k: tuple(v) for k, v in sorted(kinds.items())}


def rule_costs(groups: list[dict]) -> list[tuple[str, int, str, float]]:
    """Per record or alert name, busiest first: (name, rules, their groups' intervals, summed busy share: each
    rule's last evaluation seconds over its group's interval)."""
    rules: dict[str, list] = defaultdict(lambda: [0, set(), 0.0])
    for group in groups:
        for rule in group["rules"]:
            entry = rules[rule["name"]]
            entry[0] += 1
            entry[1].add(group["interval"])
            entry[2] += rule["evaluationTime"] / group["interval"]
    return sorted(((name, count, "/".join(f"{i:g}s" for i in sorted(every)), busy)
                   for name, (count, every, busy) in rules.items()), key=lambda r: -r[3])


def samples_touched(log: Path, groups: list[dict], interval: float) -> tuple[float, int, dict[str, float]]:
    """From the query log (one JSON line per query; rule evaluations carry their `ruleGroup`): the samples the
    rule evaluations touch per `interval`, each rule's mean per evaluation times its group's evaluations per
    interval; the evaluations logged; the same samples per record or alert name."""
    every = {g["name"]: g["interval"] for g in groups}
    names = {(g["name"], r["query"]): r["name"] for g in groups for r in g["rules"]}
    seen: dict[tuple[str, str], list[float]] = defaultdict(list)
    logged = 0
    for line in log.read_text().splitlines() if log.exists() else []:
        entry = json.loads(line)
        if "ruleGroup" in entry and "samples" in entry.get("stats", {}):
            logged += 1
            seen[(entry["ruleGroup"]["name"], entry["params"]["query"])].append(
                entry["stats"]["samples"]["totalQueryableSamples"])
    per_name: dict[str, float] = defaultdict(float)
    for (group, query), samples in seen.items():
        per_name[names.get((group, query), query[:40])] += sum(samples) / len(samples) * interval / every[group]
    return sum(per_name.values()), logged, dict(sorted(per_name.items(), key=lambda x: -x[1]))


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


def start_prometheus(processes: Processes, name: str, binary: str, config: dict, blocks: Path,
                     retention: float) -> tuple[str, int]:
    """A Prometheus with `config`, its data folder holding the backfilled `blocks` (hard links: it never
    changes a block's files), keeping `retention` seconds of data, its compaction ranges up to the blocks'
    duration, so it has nothing to compact."""
    path = processes.work / f"{name}.yml"
    path.write_text(yaml.safe_dump(config))
    data = processes.work / (name + "-data")
    shutil.copytree(blocks, data, copy_function=os.link)
    url = f"http://{HOST}:{free_port()}"
    process = processes.start(name, [binary, f"--config.file={path}", f"--storage.tsdb.path={data}",
                                     f"--storage.tsdb.retention.time={retention:.0f}s",
                                     f"--storage.tsdb.max-block-duration={BLOCK // 3600}h", "--web.enable-lifecycle",
                                     f"--web.listen-address={url.removeprefix('http://')}", "--log.level=error"])
    wait_for(lambda: http("GET", f"{url}/-/ready")[0] == 200, 600, f"{name} to be ready", process)
    return url, process.popen.pid


def continued(url: str, reads: Reads) -> int:
    """How many backfilled series have a sample from the rules now and one from the backfill a day ago: those
    whose label sets the backfill derived right."""
    total = 0
    for name in sorted({s.name for s in reads.spans}):
        query = quote(f"count({name} and {name} offset 1d)")
        _, body = http("GET", f"{url}/api/v1/query?query={query}", timeout=120)
        result = json.loads(body)["data"]["result"]
        total += int(float(result[0]["value"][1])) if result else 0
    return total


def reload(processes: Processes, name: str, url: str, config: dict) -> str | None:
    """Apply `config` to the running server; why it failed, if it did. An overloaded server applies it only
    once its lagging rule groups let it (at 200 models on this machine, not within 5 minutes)."""
    (processes.work / f"{name}.yml").write_text(yaml.safe_dump(config))
    try:
        status, body = http("POST", f"{url}/-/reload", timeout=RELOAD_TIMEOUT)
    except OSError as error:
        return f"no answer to /-/reload within {RELOAD_TIMEOUT} s ({error.__class__.__name__})"
    return None if status == 200 else f"/-/reload answered {status}: {body[:300]!r}"


RELOAD_TIMEOUT = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--interval", default="15s", help="scrape and evaluation interval")
    parser.add_argument("--baseline", metavar="REV", help="also run the rules this commit generates")
    args = parser.parse_args()
    binary = shutil.which("prometheus")
    if binary is None or shutil.which("promtool") is None:
        sys.exit("prometheus or promtool not found: apt-get install prometheus")
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
        old = baseline_rules(args.baseline, source, work / "baseline") if args.baseline else []
        reads = long_reads(rule_files + old, interval)
        history = backfill(reads, work / "backfill", int(time.time()) - int(interval))
        longest = max(reads.spans.values(), default=0.0)
        print(f"backfill: {history.samples / 1e6:.1f} M samples of {history.series} recorded series "
              f"({', '.join(sorted({s.name for s in reads.spans}))}), up to {longest / 86400:.1f} days, in "
              f"{history.seconds:.0f} s ({history.text_bytes / 1e9:.1f} GB of OpenMetrics in {history.slices} "
              f"slices); long windows over scraped series, not backfilled: {', '.join(sorted(reads.raw)) or 'none'}"
              + (f"; label sets not derivable: {', '.join(sorted(reads.unknown))}" if reads.unknown else ""),
              flush=True)
        _, config_path = processes.simulator(source, str(work / "out" / "alerts" / "*.rules.yaml"),
                                             f"{HOST}:9", args.interval)
        config = yaml.safe_load(config_path.read_text())
        config.pop("alerting", None)
        bare = {k: v for k, v in config.items() if k != "rule_files"}
        retention = 2 * longest + 86400
        servers = [("with rules", "prometheus-rules", config)]
        if args.baseline:
            servers.append((f"rules of {args.baseline}", "prometheus-baseline", {**bare, "rule_files": old}))
        servers.append(("without rules", "prometheus-bare", bare))
        started_at = time.monotonic()
        running = [(label, name, conf, *start_prometheus(processes, name, binary, conf, history.blocks, retention))
                   for label, name, conf in servers]
        settle(running, interval)
        print(f"servers ready and settled in {time.monotonic() - started_at:.0f} s; backfilled series the rules "
              f"record now too (history and present joined): {continued(running[0][3], reads)} of "
              f"{history.series}", flush=True)
        compactions = {pid: sum(own_metrics(url, "prometheus_tsdb_compactions_total")) for *_, url, pid in running}
        started = time.monotonic()
        cpu = {pid: cpu_seconds(pid) for *_, pid in running}
        load = os.getloadavg()[0]
        time.sleep(args.minutes * 60)
        elapsed = time.monotonic() - started
        used = {pid: cpu_seconds(pid) - before for pid, before in cpu.items()}
        intervals = elapsed / interval
        print(f"{args.models} models, {rules} rules in {len(rule_files)} files, {elapsed / 60:.1f} min at "
              f"{args.interval}, {os.cpu_count()} cores, load average {load:.1f} at the start and "
              f"{os.getloadavg()[0]:.1f} at the end")
        bare_pid = running[-1][-1]
        for label, _, _, url, pid in running:
            against = (f", CPU {used[pid] / max(used[bare_pid], 1e-9):.1f}x and RSS "
                       f"{rss_mib(pid) / rss_mib(bare_pid):.1f}x without rules") if pid != bare_pid else ""
            done = sum(own_metrics(url, "prometheus_tsdb_compactions_total")) - compactions[pid]
            print(f"  {label:>22}: {used[pid] / intervals:6.2f} CPU-s per interval ({used[pid] / elapsed:5.2f} cores), "
                  f"{rss_mib(pid):7.0f} MiB RSS, {sum(own_metrics(url, 'prometheus_tsdb_head_series')):8.0f} "
                  f"head series, {sum(own_metrics(url, 'prometheus_tsdb_blocks_loaded')):.0f} blocks, "
                  f"{done:.0f} compactions while measured{against}")
        groups_of = {}
        for label, _, _, url, pid in running[:-1]:
            groups = groups_of[pid] = rule_groups(url)
            durations = own_metrics(url, "prometheus_rule_group_last_duration_seconds")
            missed = sum(own_metrics(url, "prometheus_rule_group_iterations_missed_total"))
            kinds = group_durations(groups)
            share = sum(k[2] for k in kinds.values())
            print(f"  {label}: {len(durations)} rule groups, last evaluations {sum(durations):.2f} s summed, "
                  f"{share:.1%} of the time (each group's duration over its interval), slowest group "
                  f"{max(durations, default=0):.2f} s, {missed:.0f} iterations missed")
            for kind, (count, seconds, busy) in kinds.items():
                print(f"    {kind:>14}: {count:5d} groups, {seconds:7.3f} s summed, {busy:6.1%} of the time")
            print("    busiest rules (by record or alert name: rules, interval, summed evaluation time over interval):")
            for name, count, every, busy in rule_costs(groups)[:TOP]:
                print(f"    {name:>42}: {count:5d} x {every:>7}, {busy:6.2%}")
        measure_samples(processes, running, groups_of, interval)


TOP = 10


def settle(running: list, interval: float) -> None:
    """Wait out startup: each server's first compaction check (TSDB runs one a minute after opening) and its
    rules' first evaluations, then until no server has compacted for two intervals."""
    time.sleep(max(70.0, 2 * interval))

    def compactions() -> list[float]:
        return [sum(own_metrics(url, "prometheus_tsdb_compactions_total")) for *_, url, _ in running]

    for _ in range(20):
        before = compactions()
        time.sleep(2 * interval)
        if compactions() == before:
            return


def measure_samples(processes: Processes, running: list, groups_of: dict, interval: float) -> None:
    """The query log of every server with rules, switched on for one longest group interval (plus one
    interval), then off: samples its rule evaluations touch per interval, and per rule name."""
    longest = max((g["interval"] for groups in groups_of.values() for g in groups), default=interval)
    logs, failed = {}, {}
    for _, name, conf, url, pid in running[:-1]:
        logs[pid] = processes.work / f"{name}-queries.log"
        query_log = {**conf, "global": {**conf.get("global", {}), "query_log_file": str(logs[pid])}}
        failed[pid] = reload(processes, name, url, query_log)
    time.sleep(longest + interval)
    for _, name, conf, url, _ in running[:-1]:
        reload(processes, name, url, conf)
    for label, _, _, _, pid in running[:-1]:
        if failed[pid]:
            print(f"  {label}: samples touched not measured: the query log could not be switched on: {failed[pid]}")
            continue
        total, logged, per_name = samples_touched(logs[pid], groups_of[pid], interval)
        print(f"  {label}: rule evaluations touch {total / 1e6:.2f} M samples per {interval:g} s interval "
              f"({logged} evaluations in the query log over {(longest + interval) / 60:.1f} min); most:")
        for name, samples in list(per_name.items())[:TOP]:
            print(f"    {name:>42}: {samples / 1e6:8.3f} M ({samples / max(total, 1):6.1%})")


if __name__ == "__main__":
    main()
