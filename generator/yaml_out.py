"""Deterministic YAML: keys in the order given, multi-line strings as `|` blocks."""
from __future__ import annotations

import yaml


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # libyaml when present: same output, faster
    def ignore_aliases(self, data):
        return True


def _str(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(data) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=1 << 16)


def comment(text: str) -> str:
    """A `#` comment line; control characters in user text cannot end the comment early."""
    safe = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return f"# {safe}\n"
