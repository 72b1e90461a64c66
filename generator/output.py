"""Write a bundle of generated files atomically, remove stale ones, or diff against disk.

Each file is written to a temporary file beside it and renamed into place, so a
reader never sees half a file; the whole bundle is built in memory first, so a
failure writes nothing. Files whose content is unchanged are not touched.
"""
from __future__ import annotations

import difflib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from generator.conventions import GENERATED_HEADER

log = logging.getLogger(__name__)


@dataclass
class Changes:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)  # files in owned folders we did not generate


def _existing(root: Path, dirs: tuple[str, ...]) -> dict[str, Path]:
    found = {}
    for d in dirs:
        base = root / d
        if base.is_dir():
            for path in sorted(base.rglob("*")):
                if path.is_file():
                    found[path.relative_to(root).as_posix()] = path
    return found


def _is_generated(path: Path) -> bool:
    try:
        return GENERATED_HEADER in path.read_text(encoding="utf-8", errors="replace")[:4096]
    except OSError:
        return False


def write(files: dict[str, str], root: Path, owned: tuple[str, ...]) -> Changes:
    changes = Changes()
    for rel, content in files.items():
        target = root / rel
        data = content.encode("utf-8")
        if target.is_file() and target.read_bytes() == data:
            changes.unchanged.append(rel)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        changes.written.append(rel)
    for rel, path in _existing(root, owned).items():
        if rel in files:
            continue
        if _is_generated(path):
            path.unlink()
            changes.removed.append(rel)
        else:
            log.warning("leaving %s alone: it is not a generated file", rel)
            changes.foreign.append(rel)
    return changes


def diff(files: dict[str, str], root: Path, owned: tuple[str, ...]) -> str:
    """A unified diff from what is on disk to what generation would write; empty when current."""
    out = []
    existing = _existing(root, owned)
    for rel in sorted(set(files) | {r for r, p in existing.items() if _is_generated(p)}):
        old = existing[rel].read_text(encoding="utf-8", errors="replace") if rel in existing else ""
        new = files.get(rel, "")
        if old != new:
            out.extend(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                            f"a/{rel}" if rel in existing else "/dev/null",
                                            f"b/{rel}" if rel in files else "/dev/null"))
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)
