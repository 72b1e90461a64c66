"""Located YAML reads the same through libyaml as through PyYAML's own parser, and refuses the same input."""
from __future__ import annotations

import pytest
import yaml

from generator import inventory, located_yaml
from generator.conventions import rules_file
from generator.errors import InventoryError

from conftest import ROOT


def test_libyaml_is_there_to_be_used():
    assert hasattr(yaml, "CSafeLoader"), "PyYAML without libyaml: install the binary wheel"


def located(value):
    """Every value with the lines the loader recorded for it, as plain data to compare."""
    if isinstance(value, dict):
        return ("map", value.line, {k: (value.key_lines[k], located(v)) for k, v in value.items()})
    if isinstance(value, list):
        return ("list", value.line, value.item_lines, [located(v) for v in value])
    return value


def python_only(text: str, file: str):
    return located_yaml._Builder(file, None).build(located_yaml._compose(text, file), 0)


# Both inventories, every example model's rule file (each engine writes rules of its own shape), and one
# promtool test file (the largest kind of generated YAML, alike in shape for every model).
DOCUMENTS = ["inventory.yaml", "tests/golden/inventory.yaml",
             *(rules_file(m.name) for m in inventory.load(ROOT / "inventory.yaml").models),
             "alerts/tests/qwen2-5-72b.test.yaml"]


@pytest.mark.parametrize("path", DOCUMENTS)
def test_both_parsers_give_the_same_values_and_lines(path):
    text = (ROOT / path).read_text()
    assert located_yaml._compose_fast(text) is not located_yaml._NOT_FAST
    assert located(located_yaml.load(text, path)) == located(python_only(text, path))


@pytest.mark.parametrize("text, says", [
    ("a: 1\nb: [1, 2\n", "invalid YAML"),
    ("a: 1\n---\nb: 2\n", "invalid YAML"),
    ("a: \x07\n", "not allowed in YAML"),
    ("[" * (located_yaml.MAX_DEPTH + 1) + "]" * (located_yaml.MAX_DEPTH + 1), "levels deep"),
])
def test_what_the_fast_path_cannot_take_gets_the_python_parsers_located_error(text, says):
    assert located_yaml._compose_fast(text) is located_yaml._NOT_FAST
    with pytest.raises(InventoryError) as raised:
        located_yaml.load(text, "x.yaml")
    assert says in str(raised.value) and "x.yaml" in str(raised.value)
