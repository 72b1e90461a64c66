"""`publish` behind a proxy that breaks Grafana's answers (tests/fault_proxy.py): every bad answer is an exit-1
error naming Grafana's URL, never a traceback or the token, and a rerun without faults converges."""
from __future__ import annotations

import pytest

from generator.cli import main

from conftest import model_yaml
from fault_proxy import KINDS, SHAPES, FaultProxy
from test_publish import INVENTORY, TOKEN, assert_converged, grafana, grafana_environment, write_dashboards  # noqa: F401 - grafana is a fixture

ENDPOINTS = {
    "version": ("GET", r"^/api/frontend/settings"),
    "folders": ("GET", r"^/api/folders$"),
    "search": ("GET", r"^/api/search"),
    "read back": ("GET", r"^/api/dashboards/uid/"),
    "save": ("POST", r"^/api/dashboards/db"),
    "delete": ("DELETE", r"^/api/dashboards/uid/"),
}


@pytest.fixture
def proxy(grafana):  # noqa: F811
    with FaultProxy(grafana.url) as running:
        yield running


@pytest.fixture
def run(monkeypatch, proxy, tmp_path, capsys):
    grafana_environment(monkeypatch, proxy.url, RETRY_BACKOFF="0.001", RETRIES="3")
    path = tmp_path / "inventory.yaml"

    def publish(*args: str, text: str = INVENTORY) -> tuple[int, str]:
        path.write_text(text)
        write_dashboards(path, tmp_path / "out")
        capsys.readouterr()
        code = main(["publish", "--inventory", str(path), "--output", str(tmp_path / "out"), *args])
        out, err = capsys.readouterr()
        shown = out + err
        assert TOKEN not in shown
        assert code in (0, 1), shown
        assert "Traceback" not in shown, shown
        if code == 1 and "error:" in err and "settings are not usable" not in err:
            assert proxy.url in shown, shown  # an error about Grafana's answers names where it was sent
        return code, shown
    return publish


CHANGED = INVENTORY.replace("kv_cache_usage: 0.9", "kv_cache_usage: 0.8")
SMALLER = INVENTORY.replace(model_yaml("medium"), "")  # the medium model removed


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_kind_of_broken_answer_is_an_error_and_a_rerun_converges(grafana, proxy, run, endpoint):  # noqa: F811
    """Each kind of broken answer on every try of one endpoint: exit 1 naming Grafana, then a clean rerun converges."""
    assert run()[0] == 0
    method, path = ENDPOINTS[endpoint]
    offset = list(ENDPOINTS).index(endpoint)
    shapes = [SHAPES[(offset * 2 + i) % len(SHAPES)] for i in range(2)]  # two shapes per endpoint, all covered
    base = SMALLER if endpoint == "delete" else INVENTORY
    changes = [base.replace("kv_cache_usage: 0.9", f"kv_cache_usage: 0.{80 + i}") for i in range(20)]
    faults = [(kind, None) for kind in KINDS if kind != "shape"] + [("shape", shape) for shape in shapes]
    codes = []
    for i, (kind, shape) in enumerate(faults):
        proxy.calm()
        if endpoint == "delete":  # a broken answer may come after the deletion took effect: bring it back
            assert run(text=INVENTORY)[0] == 0
        proxy.fail(kind, method=method, path=path, times=50, shape=shape)
        before = len(proxy.log)
        code, shown = run("--prune", text=changes[i])
        assert any(entry[2] for entry in proxy.log[before:]), f"the {endpoint} request was never made"
        codes.append(code)
        if code == 0:  # only when the broken answers came after the work took effect, and a retry saw it
            assert_converged(grafana, changes[i])
    assert codes.count(1) >= len(faults) - 2, codes
    proxy.calm()
    assert run("--prune", text=changes[-1])[0] == 0
    assert_converged(grafana, changes[-1])


@pytest.mark.parametrize("seed", range(6))
def test_random_faults_on_a_third_of_the_requests_never_crash_and_a_rerun_converges(
        grafana, proxy, run, seed):  # noqa: F811
    assert run()[0] == 0
    proxy.chaos(seed, 0.33)
    for text in (CHANGED, SMALLER, INVENTORY):
        run("--prune", text=text)
    proxy.calm()
    assert run("--prune")[0] == 0
    assert_converged(grafana)


def test_an_auth_proxy_login_page_is_named_as_not_grafana(proxy, run):
    proxy.fail("html", path=r"^/api/frontend/settings", times=10)
    code, shown = run()
    assert code == 1 and "not Grafana's JSON API" in shown and "GRAFANA_URL" in shown


def test_a_token_placed_in_the_url_is_refused_and_never_shown(run, monkeypatch, proxy):
    monkeypatch.setenv("GRAFANA_URL", f"{proxy.url}/{TOKEN}/")
    code, shown = run()
    assert code == 1 and "GRAFANA_URL" in shown and not proxy.log


@pytest.mark.parametrize("value", ["inf", "nan", "1e400", "-1", "many"])
def test_retry_settings_that_are_not_usable_numbers_are_refused(run, monkeypatch, proxy, value):
    monkeypatch.setenv("GRAFANA_RETRIES", value)
    code, shown = run()
    assert code == 1 and "GRAFANA_RETRIES" in shown and not proxy.log
