"""Write a bundle of generated files all or nothing, remove only what generation wrote before, or diff.

- **Ownership.** A manifest at the output root (`MANIFEST`) lists every file generation wrote, with its
  SHA-256. A file is removed only when the previous manifest lists it, it is no longer generated, and it
  still holds what was written; anything else (a hand-written README, a copy in a subfolder, a generated
  file edited since) is left in place. Nothing is written or removed through a symbolic link that leads
  out of the output folder.
- **All or nothing.** Every file is encoded before anything is touched. New contents are staged in
  temporary files beside their targets; only when all are staged are they renamed into place, the
  manifest last. A failure while staging removes the temporary files; a failure while renaming puts the
  previous bytes back, so the tree is as it was. A journal written before the first rename and removed
  after the last marks a run killed half way: `check` refuses such a tree and the next `generate`
  completes it, removing what the interrupted run wrote.
- **One run at a time.** An exclusive lock on the output folder (a shared one for `check`) makes a
  concurrent run fail at once, with a message, instead of leaving a tree that matches neither inventory.
"""
from __future__ import annotations

import contextlib
import difflib
import errno
import fcntl
import hashlib
import json
import logging
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from generator.conventions import GENERATED_HEADER
from generator.errors import GeneratorError

log = logging.getLogger(__name__)

MANIFEST = ".llm-observability-manifest.json"
JOURNAL = ".llm-observability-journal.json"
TEMP_PREFIX = ".llm-obs-"  # staged files, beside their targets
MANIFEST_NOTE = (f"{GENERATED_HEADER} The files generate wrote, with their SHA-256: generate removes a file only "
                 "when it is listed here, no longer generated and unchanged.")


class OutputError(GeneratorError):
    """The output folder cannot be written safely, or writing failed (and was undone)."""


@dataclass
class Changes:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)  # files in owned folders generation did not write
    kept: list[str] = field(default_factory=list)  # previously generated, no longer generated, edited since


def encode(files: dict[str, str]) -> dict[str, bytes]:
    """Every file as UTF-8, before anything is written; a string that cannot be encoded is a located error."""
    encoded = {}
    for rel, content in files.items():
        try:
            encoded[rel] = content.encode("utf-8")
        except UnicodeEncodeError as exc:
            line = content.count("\n", 0, exc.start) + 1
            raise OutputError(f"{rel}:{line}: cannot write {content[exc.start:exc.end]!r}: it is not valid Unicode "
                              "(a lone surrogate); fix the inventory value it came from. Nothing was written.") \
                from None
    return encoded


def manifest_bytes(data: dict[str, bytes], inventory: str = "") -> bytes:
    """`inventory` is the digest of the inventory the files were generated from, when known."""
    doc: dict = {"note": MANIFEST_NOTE,
                 "files": {rel: hashlib.sha256(content).hexdigest() for rel, content in sorted(data.items())}}
    if inventory:
        doc["inventory"] = inventory
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


def read_manifest(root: Path) -> dict:
    """The manifest generate last wrote under `root`: {"files": {path: sha256}, "inventory": digest}."""
    path = root / MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputError(f"{path}: no generated output under {root}: run `generate` first") from None
    except (OSError, ValueError) as exc:
        raise OutputError(f"{path}: cannot read the manifest generate writes ({exc}): run `generate` again") \
            from None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), dict):
        raise OutputError(f"{path}: not a manifest written by generate: run `generate` again")
    return doc


def write(files: dict[str, str], root: Path, owned: tuple[str, ...], *, inventory: str = "") -> Changes:
    """`inventory`: the digest of the inventory `files` were generated from, recorded in the manifest."""
    data = encode(files)
    _check_paths(data, owned)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {root}: {exc.strerror}") from None
    with _locked(root, exclusive=True):
        _refuse_links_out(root, data, owned)
        _remove_leftover_temporaries(root, owned)
        previous = _previous(root)
        changes = Changes()
        writes: dict[str, bytes] = {}
        for rel, content in data.items():
            if _current(root / rel) == content:
                changes.unchanged.append(rel)
            else:
                writes[rel] = content
        removals = {}
        for rel, digest in sorted(previous.items()):
            if rel in data:
                continue
            current = _current(root / rel)
            if current is None:
                continue
            if hashlib.sha256(current).hexdigest() == digest:
                removals[rel] = current
            else:
                changes.kept.append(rel)
        manifest = manifest_bytes(data, inventory)
        if _current(root / MANIFEST) != manifest:
            writes[MANIFEST] = manifest
        _commit(root, writes, removals)
        changes.written = sorted(rel for rel in writes if rel != MANIFEST)
        changes.removed = sorted(removals)
        changes.foreign = sorted(rel for rel in _walk(root, owned) if rel not in data and rel not in previous)
        return changes


def diff(files: dict[str, str], root: Path, owned: tuple[str, ...], *, inventory: str = "") -> str:
    """A unified diff from what is on disk to what generation would write; empty when current."""
    data = encode(files)
    _check_paths(data, owned)
    if not root.is_dir():
        previous: dict[str, str] = {}
        on_disk: dict[str, bytes | None] = {}
    else:
        with _locked(root, exclusive=False):
            if (root / JOURNAL).exists():
                raise OutputError(f"{root / JOURNAL}: an interrupted `generate` left {root} half-written: run "
                                  "`generate` again")
            _refuse_links_out(root, data, owned)
            previous = _previous(root)
            on_disk = {rel: _current(root / rel) for rel in (*data, *previous, MANIFEST)}
    expected = {**data, MANIFEST: manifest_bytes(data, inventory)}
    stale = {rel for rel, digest in previous.items() if rel not in data
             and (content := on_disk.get(rel)) is not None and hashlib.sha256(content).hexdigest() == digest}
    out: list[str] = []
    for rel in sorted(set(expected) | stale):
        old_bytes = on_disk.get(rel)
        old = old_bytes.decode("utf-8", errors="replace") if old_bytes is not None else ""
        new = expected[rel].decode() if rel in expected else ""
        if old_bytes != expected.get(rel):
            out.extend(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                            f"a/{rel}" if old_bytes is not None else "/dev/null",
                                            f"b/{rel}" if rel in expected else "/dev/null"))
            if old == new:  # same text, different bytes (encoding): still stale
                out.append(f"--- a/{rel}\n+++ b/{rel}\n(differs in bytes only)\n")
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)


# -- ownership ---------------------------------------------------------------------------------------------


def _check_paths(data: dict[str, bytes], owned: tuple[str, ...]) -> None:
    for rel in data:
        parts = rel.split("/")
        if rel.startswith("/") or ".." in parts or parts[0] not in owned or "" in parts:
            raise OutputError(f"refusing to write {rel!r}: generated files stay in {', '.join(owned)}/")


def _refuse_links_out(root: Path, data: dict[str, bytes], owned: tuple[str, ...]) -> None:
    """No folder a file goes into may resolve outside the output folder (a symlinked dashboards/, say)."""
    real_root = os.path.realpath(root)
    for folder in sorted({str(Path(rel).parent) for rel in data} | set(owned)):
        real = os.path.realpath(root / folder)
        if os.path.commonpath([real_root, real]) != real_root:
            raise OutputError(f"{root / folder} leads to {real}, outside the output folder {root}: generate "
                              "never writes or deletes through a symbolic link that leaves --output. Replace "
                              "the link with a folder (and point the other place at it), or pass that place as "
                              "--output. Nothing was written.")


def _previous(root: Path) -> dict[str, str]:
    """What earlier runs wrote: the manifest, plus the journal of a run killed half way."""
    previous: dict[str, str] = {}
    for name in (MANIFEST, JOURNAL):
        path = root / name
        raw = _current(path)
        if raw is None:
            continue
        try:
            files = json.loads(raw.decode("utf-8"))["files"]
            if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                      and len(v) == 64 for k, v in files.items()):
                raise ValueError
        except (ValueError, KeyError, TypeError, RecursionError):
            raise OutputError(f"{path}: not a manifest written by generate (it lists the files generate may "
                              "remove). Restore it from Git, or delete it: generate then removes nothing and "
                              "reports files it did not write.") from None
        for rel, digest in files.items():
            parts = rel.split("/")
            if rel.startswith("/") or ".." in parts or "" in parts:
                raise OutputError(f"{path}: lists {rel!r}, which is not a path inside the output folder")
            previous.setdefault(rel, digest)
    return previous


def _current(path: Path) -> bytes | None:
    """The bytes of a regular file (never through a symlink), or None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return handle.read()


def _remove_leftover_temporaries(root: Path, owned: tuple[str, ...]) -> None:
    """Staged files of a run that was killed (kill -9) before it could clean up: only ever ours, by name."""
    for d in owned:
        base = root / d
        if base.is_symlink() or not base.is_dir():
            continue
        for folder, _, names in os.walk(base):
            for name in names:
                if name.startswith(TEMP_PREFIX) and name.endswith(".tmp"):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(folder, name))


def _walk(root: Path, owned: tuple[str, ...]) -> list[str]:
    found = []
    for d in owned:
        base = root / d
        if base.is_symlink() or not base.is_dir():
            continue
        for folder, dirs, names in os.walk(base):  # does not follow symlinked folders
            dirs.sort()
            for name in sorted(names):
                path = Path(folder) / name
                if path.is_file() and not path.is_symlink() and not name.startswith(TEMP_PREFIX):
                    found.append(path.relative_to(root).as_posix())
    return found


# -- all or nothing ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(root: Path, *, exclusive: bool):
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            raise OutputError(f"another `generate` is writing into {root} right now: run again when it has "
                              "finished (two runs at once could leave files of both). Nothing was written.") \
                from None
        yield
    finally:
        os.close(fd)


def _commit(root: Path, writes: dict[str, bytes], removals: dict[str, bytes]) -> None:
    """Stage every write, then swap them in (manifest last) and remove; on failure, undo."""
    if not writes and not removals:  # the tree is what was asked for: any interrupted run is completed
        (root / JOURNAL).unlink(missing_ok=True)
        return
    staged: list[tuple[str, str]] = []  # (rel, temporary path)
    made_dirs: list[Path] = []
    try:
        for rel, content in writes.items():
            target = root / rel
            for parent in reversed(target.parents):
                if parent != root and parent.is_relative_to(root) and not parent.exists():
                    parent.mkdir()
                    made_dirs.append(parent)
            fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=target.parent)
            staged.append((rel, tmp))
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            os.chmod(tmp, 0o644)
    except OSError as exc:
        _discard(staged, made_dirs)
        raise OutputError(f"cannot write {_where(exc, root)}: {exc.strerror or exc}. Nothing was changed.") \
            from None
    except BaseException:
        _discard(staged, made_dirs)
        raise

    order = sorted(staged, key=lambda item: item[0] == MANIFEST)  # the manifest last
    journal = root / JOURNAL
    earlier_journal = _current(journal)
    done: list[tuple[str, bytes | None]] = []  # (rel, previous bytes or None when it did not exist)
    try:
        _write_journal(journal, writes, _previous_journal(journal))
        for rel, tmp in order:
            previous = _current(root / rel)
            os.replace(tmp, root / rel)
            done.append((rel, previous))
        for rel, previous in removals.items():
            os.unlink(root / rel)
            done.append((rel, previous))
    except BaseException as exc:
        _discard([item for item in order if os.path.exists(item[1])], [])
        restored = _undo(root, done)
        if restored:
            if earlier_journal is None:
                journal.unlink(missing_ok=True)
            else:
                _undo(root, [(JOURNAL, earlier_journal)])
            _remove_empty(made_dirs)
        if isinstance(exc, OSError):
            state = ("the previous files were put back" if restored else
                     f"the previous files could not all be put back: run generate again ({journal} lists what "
                     "this run wrote)")
            raise OutputError(f"cannot write {_where(exc, root)}: {exc.strerror or exc}; {state}.") from None
        raise
    journal.unlink()


def _previous_journal(journal: Path) -> dict[str, str]:
    """The files an interrupted run wrote (already checked by `_previous`), kept until a run completes."""
    raw = _current(journal)
    return json.loads(raw)["files"] if raw is not None else {}


def _write_journal(journal: Path, writes: dict[str, bytes], earlier: dict[str, str]) -> None:
    files = {**earlier, **{rel: hashlib.sha256(content).hexdigest() for rel, content in writes.items()
                           if rel != MANIFEST}}
    doc = {"note": "generate was interrupted while writing these files; run generate again.",
           "files": dict(sorted(files.items()))}
    journal.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")


def _undo(root: Path, done: list[tuple[str, bytes | None]]) -> bool:
    ok = True
    for rel, previous in reversed(done):
        target = root / rel
        try:
            if previous is None:
                target.unlink(missing_ok=True)
            else:
                fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=target.parent)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(previous)
                os.chmod(tmp, 0o644)
                os.replace(tmp, target)
        except OSError as exc:
            log.error("could not restore %s: %s", rel, exc)
            ok = False
    return ok


def _discard(staged: list[tuple[str, str]], made_dirs: list[Path]) -> None:
    for _, tmp in staged:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    _remove_empty(made_dirs)


def _remove_empty(made_dirs: list[Path]) -> None:
    for folder in reversed(made_dirs):
        with contextlib.suppress(OSError):
            folder.rmdir()


def _where(exc: OSError, root: Path) -> str:
    name = exc.filename
    if not name:
        return str(root)
    with contextlib.suppress(ValueError):
        return Path(name).relative_to(root).as_posix()
    return str(name)
