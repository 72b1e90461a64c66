"""Deterministic YAML: keys in the order given, multi-line strings as `|` blocks."""
from __future__ import annotations

import yaml


def _str(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _dumper(base: type) -> type:
    class Dumper(base):
        def ignore_aliases(self, data):
            return True

    Dumper.add_representer(str, _str)
    return Dumper


# libyaml's emitter when present, PyYAML's own otherwise: the same bytes (tests/test_output.py), libyaml's
# several times faster.
PURE_PYTHON = _dumper(yaml.SafeDumper)
_DUMPER = _dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper))


def dump(data, dumper: type = _DUMPER) -> str:
    return yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=1 << 16)


def comment(text: str) -> str:
    """A `#` comment line; control characters in user text cannot end the comment early."""
    safe = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return f"# {safe}\n"
