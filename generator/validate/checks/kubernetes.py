"""Checks on the Kubernetes manifests under kubernetes/: CRD structure, references, kustomization, freshness."""
from __future__ import annotations

from pathlib import Path

import yaml

from generator import conventions as c
from generator.kubernetes import structure
from generator.validate import fast_yaml
from generator.validate.checks.base import Check
from generator.validate.context import Context
from generator.validate.findings import WARNING, Finding, Location


class KubernetesManifests(Check):
    """Manifests have the structure their CRDs require, fit client-side apply, are all listed and match what ships.

    A manifest that no longer holds what its rule file or dashboard holds is a warning (`make check` fails on it).
    """

    id = "kubernetes/manifests"

    def check(self, ctx: Context) -> list[Finding]:
        base = ctx.root / c.MANIFESTS_DIR
        wanted = ctx.inventory is not None and ctx.inventory.kubernetes is not None
        if not base.is_dir():
            return [self.finding(Location(ctx.inventory_file, key="kubernetes"),
                                 f"no {c.MANIFESTS_DIR}/ manifests: run `make generate`")] if wanted else []
        found: list[Finding] = []
        objects: dict[str, dict] = {}
        for path in sorted(base.rglob("*.yaml")):
            rel = path.relative_to(ctx.root).as_posix()
            if rel == c.KUSTOMIZATION_FILE:
                continue
            obj = self._read(path, rel, found)
            if obj is None:
                continue
            found += [self.finding(Location(rel, key=key or None), message)
                      for key, message in structure.problems(obj)]
            if isinstance(obj, dict):
                objects[rel] = obj
        found += self._kustomization(ctx.root, set(objects) | _unreadable(found))
        found += self._references(objects)
        found += self._fresh(ctx, objects, wanted)
        return found

    def _read(self, path: Path, rel: str, found: list[Finding]):
        try:
            docs = [d for d in fast_yaml.load_all(path.read_text(encoding="utf-8")) if d is not None]
        except (yaml.YAMLError, OSError, UnicodeDecodeError, RecursionError) as exc:
            found.append(self.finding(Location(rel), f"cannot read the manifest: {str(exc).splitlines()[0]}"))
            return None
        if len(docs) != 1:
            found.append(self.finding(Location(rel), f"expected one object per file, found {len(docs)}"))
            return None
        return docs[0]

    def _kustomization(self, root: Path, manifests: set[str]) -> list[Finding]:
        rel = c.KUSTOMIZATION_FILE
        try:
            data = fast_yaml.load((root / rel).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return [self.finding(Location(rel), "missing: Argo CD and Flux apply the folder through it")]
        except (yaml.YAMLError, OSError, UnicodeDecodeError, RecursionError) as exc:
            return [self.finding(Location(rel), f"cannot read it: {str(exc).splitlines()[0]}")]
        resources = data.get("resources") if isinstance(data, dict) else None
        if not isinstance(resources, list):
            return [self.finding(Location(rel, key="resources"), "`resources` lists the manifests")]
        listed = {f"{c.MANIFESTS_DIR}/{r}" for r in resources if isinstance(r, str)}
        found = [self.finding(Location(rel, key="resources"), f"lists {r.removeprefix(c.MANIFESTS_DIR + '/')}, "
                                                               f"which does not exist")
                 for r in sorted(listed - manifests)]
        found += [self.finding(Location(m), "not listed in kustomization.yaml: it would never be applied")
                  for m in sorted(manifests - listed)]
        return found

    def _references(self, objects: dict[str, dict]) -> list[Finding]:
        def named(kind):
            return {o["metadata"]["name"]: o for o in objects.values() if o.get("kind") == kind and _name(o)}

        configmaps, folders = named("ConfigMap"), named("GrafanaFolder")
        found = []
        for rel, obj in objects.items():
            spec = obj.get("spec") if obj.get("kind") == "GrafanaDashboard" else None
            if not isinstance(spec, dict):
                continue
            ref = spec.get("configMapRef")
            if isinstance(ref, dict) and isinstance(ref.get("name"), str):
                data = (configmaps.get(ref["name"]) or {}).get("data")
                if not isinstance(data, dict) or ref.get("key") not in data:
                    found.append(self.finding(Location(rel, key="spec.configMapRef"),
                                              f"no ConfigMap {ref['name']} with key {ref.get('key')!r} among the "
                                              f"manifests"))
            if isinstance(spec.get("folderRef"), str) and spec["folderRef"] not in folders:
                found.append(self.finding(Location(rel, key="spec.folderRef"),
                                          f"no GrafanaFolder {spec['folderRef']} among the manifests"))
        return found

    def _fresh(self, ctx: Context, objects: dict[str, dict], wanted: bool) -> list[Finding]:
        """PrometheusRules hold the shipped rule files' groups, ConfigMaps the shipped dashboards, byte for byte."""
        found = []
        rules = {c.rule_object_name(m.name): c.rules_file(m.name) for m in ctx.inventory.models} \
            | {name: path for path, name in c.SHARED_RULE_OBJECTS.items()} if ctx.inventory is not None else {}
        boards = {Path(b.file).name: b.file for b in ctx.dashboards}
        seen_rules, seen_boards = set(), set()
        for rel, obj in objects.items():
            name, kind = _name(obj), obj.get("kind")
            if kind == "PrometheusRule" and name in rules:
                seen_rules.add(name)
                spec = obj.get("spec")
                if isinstance(spec, dict) and _same_as_read(ctx, rules[name], spec.get("groups")):
                    continue
                shipped = _load_yaml(ctx.root / rules[name])
                if isinstance(shipped, dict) and isinstance(spec, dict) and spec.get("groups") != shipped.get("groups"):
                    found.append(self.finding(Location(rel, key="spec.groups"),
                                              f"differs from {rules[name]}: run `make generate`", WARNING))
            elif kind == "ConfigMap" and isinstance(obj.get("data"), dict):
                for key, text in obj["data"].items():
                    if key in boards:
                        seen_boards.add(key)
                        if _read_text(ctx.root / boards[key]) != text:
                            found.append(self.finding(Location(rel, key=f"data.{key}"),
                                                      f"differs from {boards[key]}: run `make generate`", WARNING))
        if wanted:
            where = Location(ctx.inventory_file, key="kubernetes")
            found += [self.finding(where, f"no PrometheusRule {name} for {rules[name]}: run `make generate`")
                      for name in sorted(set(rules) - seen_rules)]
            found += [self.finding(where, f"no ConfigMap holds {boards[key]}: run `make generate`")
                      for key in sorted(set(boards) - seen_boards)]
        return found


def _name(obj: dict) -> str | None:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else None


def _unreadable(found: list[Finding]) -> set[str]:
    """Files reported as unreadable still exist: the kustomization may list them."""
    return {f.location.file for f in found if f.location.key is None and f.location.file.endswith(".yaml")}


def _same_as_read(ctx: Context, rel: str, groups) -> bool:
    """The rule file's groups as validate read them equal `groups`, and the file still holds that text.

    Then yaml.load would give the same groups: located_yaml read the text with libyaml's composer and the
    constructor's values, and would have refused what yaml.load reads otherwise (duplicate or merge keys,
    keys that are not strings). Where libyaml refused the text and PyYAML's composer read it, yaml.load
    fails and nothing is compared, as when the groups differ here and the file is read again.
    """
    read = ctx.rule_documents.get(rel)
    if read is None or not isinstance(read[1], dict) or read[1].get("groups") != groups:
        return False
    return _read_text(ctx.root / rel) == read[0]


def _load_yaml(path: Path):
    try:
        return fast_yaml.load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError, UnicodeDecodeError, RecursionError):
        return None


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


CHECKS = (KubernetesManifests(),)
