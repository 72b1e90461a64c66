"""Runbooks escape what they interpolate for Markdown, as rule files escape it for PromQL and Go templates."""
from markdown_it import MarkdownIt

from generator import inventory
from generator.rules.alert_table import DEFINITIONS, NAMES
from generator.runbooks import code_span, fence, link_target, runbooks

from conftest import MINIMAL, ROOT

HOSTILE = "x` [click](https://evil.test) <b>y</b> ``` `z"


def tokens(text: str):
    return MarkdownIt("commonmark").parse(text)


def walk(items):
    for token in items:
        yield token
        yield from walk(token.children or [])


def test_a_served_name_with_backticks_and_markdown_stays_inside_code():
    text = MINIMAL.replace("served_name: org/small-1.0", f"served_name: {HOSTILE!r}".replace("'", '"', 1)[:-1] + '"')
    files = runbooks(inventory.parse(text, "inv.yaml"))
    plain = runbooks(inventory.parse(MINIMAL, "inv.yaml"))
    assert files.keys() == plain.keys()
    for rel, content in files.items():
        parsed = list(walk(tokens(content)))
        structure = [(t.type, t.tag) for t in parsed if t.type not in ("text", "code_inline", "fence", "inline")]
        assert structure == [(t.type, t.tag) for t in walk(tokens(plain[rel]))
                             if t.type not in ("text", "code_inline", "fence", "inline")], rel
        links = [t.attrs.get("href") for t in parsed if t.type == "link_open"]
        assert all("evil.test" not in href for href in links), rel
        html = [t.content for t in parsed if t.type in ("html_inline", "html_block")]
        assert html == [t.content for t in walk(tokens(plain[rel])) if t.type in ("html_inline", "html_block")]
        if rel.endswith("/LLMCollectorDown.md"):
            continue  # per site, not per model: no served name in it
        shown = [t.content for t in parsed if t.type in ("fence", "code_inline")]
        assert any("evil.test" in s for s in shown), f"{rel}: the served name is not shown as code"


def test_a_code_span_and_a_fence_hold_any_run_of_backticks():
    for text in ("plain", "`", "a`b", "``x``", "```", "ends with `", " spaced "):
        parsed = [t for t in walk(tokens(f"before {code_span(text)} after")) if t.type == "code_inline"]
        assert [t.content for t in parsed] == [text]
        block = f"{fence(text)}promql\n{text}\n{fence(text)}\nafter\n"
        fences = [t for t in tokens(block) if t.type == "fence"]
        assert [t.content for t in fences] == [text + "\n"]


def test_a_link_target_cannot_end_the_link_early():
    url = "https://grafana.test/d/x) [evil](https://evil.test"
    links = [t.attrs["href"] for t in walk(tokens(f"[dashboard]({link_target(url)})")) if t.type == "link_open"]
    assert links == ["https://grafana.test/d/x%29%20%5Bevil%5D%28https://evil.test"]


def test_the_readme_alert_table_lists_every_alert_of_the_table_in_order_with_its_severity():
    rows = [line.split("|")[1].strip() for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("| `LLM")]
    listed = []
    for cell in rows:
        names, _, severity = cell.partition(" (")
        for name in names.split(", "):
            listed.append(name.strip("`"))
            assert (severity.rstrip(")") or None) == DEFINITIONS[name.strip("`")].severity, cell
    assert listed == list(NAMES)
