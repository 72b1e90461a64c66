"""Print how long generation takes and how much it writes, for the example inventory and larger fleets.

Run on demand: `.venv/bin/python benchmarks/generate.py` (`--commands [MODELS]`: only generate, check and
validate, at 1,000 models or MODELS, against the serialisation floor). Not a test: it asserts nothing.
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import inventory, output  # noqa: E402
from generator.build import OUTPUT_DIRS, build  # noqa: E402
from generator.kubernetes.names import ANNOTATION_LIMIT  # noqa: E402
from generator.validate import validate  # noqa: E402


def fleet(size: int) -> str:
    """The example inventory with its models repeated until there are `size`, each copy a model of its own: a
    new id, served name and pods (the copies' selectors match only their own series, as distinct models'
    do)."""
    doc = yaml.safe_load((ROOT / "inventory.yaml").read_text())
    base = doc["models"]
    models = []
    for i in range(size):
        model = {**base[i % len(base)], "name": f"{base[i % len(base)]['name'][:36]}-{i}"}
        model["served_name"] = f"{model['served_name']}-{i}"
        model.pop("pod_regex", None)  # pods named after the copy's id
        models.append(model)
    doc["models"] = models
    return yaml.safe_dump(doc, sort_keys=False)


def measure(label: str, text: str, repeat: int) -> None:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        files = build(inventory.parse(text, label))
        timings.append(time.perf_counter() - started)
    size = sum(len(c.encode()) for c in files.values())
    rules = sum(c.count("- record:") + c.count("- alert:") for p, c in files.items() if p.endswith(".rules.yaml"))
    groups = sum(c.count("\n- name: ") for p, c in files.items() if p.endswith(".rules.yaml"))
    manifest = max((len(c.encode()) for p, c in files.items() if p.startswith("kubernetes/")), default=0)
    print(f"{label:>22}: {statistics.median(timings) * 1000:8.1f} ms median of {repeat}, {len(files):5d} files, "
          f"{size / 1e6:6.2f} MB, {rules:6d} rules in {groups:5d} groups, largest manifest {manifest / 1e3:5.1f} KB "
          f"(limit {ANNOTATION_LIMIT / 1e3:.0f} KB)")


def measure_write(label: str, text: str) -> None:
    """Writing to disk (staged, swapped, manifest): a first write, a no-op rewrite, a rewrite of every file."""
    files = build(inventory.parse(text, label))
    changed = {rel: content + "\n" for rel, content in files.items()}
    timings = []
    with tempfile.TemporaryDirectory() as folder:
        for bundle in (files, files, changed):
            started = time.perf_counter()
            output.write(bundle, Path(folder), OUTPUT_DIRS)
            timings.append(time.perf_counter() - started)
    print(f"{label:>22}: write {timings[0] * 1000:8.1f} ms first, {timings[1] * 1000:8.1f} ms no-op, "
          f"{timings[2] * 1000:8.1f} ms all changed ({len(files)} files)")


def measure_against_floor(label: str, text: str) -> None:
    """CPU seconds of build, check and validate, each as a multiple of the floor: serialising the same
    output (its data, read back) with libyaml and json, which no generator can go below."""
    inv = inventory.parse(text, label)
    started = time.process_time()
    files = build(inv)
    built = time.process_time() - started
    data = {rel: (json.loads(content) if rel.endswith(".json") else yaml.load(content, Loader=yaml.CSafeLoader))
            for rel, content in files.items() if rel.endswith((".json", ".yaml"))}
    started = time.process_time()
    for rel, value in data.items():
        if rel.endswith(".json"):
            json.dumps(value, indent=2, sort_keys=True)
        else:
            yaml.dump(value, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False)
    floor = time.process_time() - started
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "inventory.yaml"
        source.write_text(text)
        output.write(files, Path(folder), OUTPUT_DIRS)
        started = time.process_time()
        output.diff(build(inventory.load(source)), Path(folder), OUTPUT_DIRS)
        checked = time.process_time() - started
        started = time.process_time()
        validate(source, folder)
        validated = time.process_time() - started
    print(f"{label:>22}: CPU-s build {built:6.2f} ({built / floor:4.1f}x the floor), check {checked:6.2f} "
          f"({checked / floor:4.1f}x), validate {validated:6.2f} ({validated / floor:4.1f}x); floor {floor:5.2f} "
          f"(libyaml + json serialising the same output)")


def timed(command: list[str], cwd: str | Path = ROOT, ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """Wall and CPU seconds of `command` in a fresh process; an exit code outside `ok` stops the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(command[:6])} failed ({done.returncode}): {done.stdout[-2000:]}"
                         f"{done.stderr[-2000:]}")
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def _command(*args: str, findings_ok: bool = False) -> tuple[float, float]:
    """`python -m generator ARGS` as a user runs it; `findings_ok`: exit code 1 (validate reporting findings)
    counts as done."""
    return timed([sys.executable, "-m", "generator", *args], ok=(0, 1) if findings_ok else (0,))


def _floor(folder: Path) -> float:
    """CPU seconds to serialise the data of every generated .yaml and .json file under `folder` with libyaml
    and json: what no generator writing these files can go below."""
    data = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".json" and path.name != output.MANIFEST:
            data[path] = json.loads(path.read_text())
        elif path.suffix == ".yaml" and path.name != "inventory.yaml":
            data[path] = list(yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader))
    started = time.process_time()
    for path, value in data.items():
        if path.suffix == ".json":
            json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
        else:
            for document in value:
                yaml.dump(document, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False,
                          allow_unicode=True, width=1 << 16)
    return time.process_time() - started


def measure_commands(size: int) -> None:
    """The commands as a user runs them, each in a fresh process, in one run: generate (into an empty
    folder), check and validate, wall and CPU, against the serialisation floor of what generate wrote."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "inventory.yaml"
        source.write_text(fleet(size))
        common = ("--inventory", str(source), "--output", folder)
        generated = _command("generate", *common)
        floor = _floor(Path(folder))
        print(f"{size} models, one run, load average {os.getloadavg()[0]:.1f} (wall / CPU seconds, CPU as a "
              f"multiple of the floor; floor: libyaml + json serialising the same output, {floor:.2f} CPU-s):",
              flush=True)
        for label, run in (("generate", lambda: generated), ("check", lambda: _command("check", *common)),
                           ("validate", lambda: _command("validate", *common, findings_ok=True))):
            wall, cpu = run()
            print(f"{label:>22}: {wall:7.2f} s wall, {cpu:7.2f} s CPU ({cpu / floor:5.1f}x the floor, "
                  f"{cpu / generated[1]:4.2f}x generate)", flush=True)


def main() -> None:
    if "--commands" in sys.argv:  # only the commands against the floor: `--commands [MODELS]`, 1,000 by default
        after = sys.argv[sys.argv.index("--commands") + 1:]
        measure_commands(int(after[0]) if after else 1000)
        return
    measure("example inventory", (ROOT / "inventory.yaml").read_text(), repeat=5)
    for size in (50, 200, 1000):
        measure(f"{size} models", fleet(size), repeat=3 if size < 1000 else 1)
    measure_write("example inventory", (ROOT / "inventory.yaml").read_text())
    for size in (200, 1000):
        measure_write(f"{size} models", fleet(size))
    for size in (50, 200):
        measure_against_floor(f"{size} models", fleet(size))
    measure_commands(1000)


if __name__ == "__main__":
    main()
