"""`simulate` refuses ports it cannot use with exit 1 and a message, not a traceback."""
import socket

import pytest

from generator.cli import main

from conftest import ROOT


@pytest.mark.parametrize("port", ["-1", "65536", "99999999999999999999"])
def test_a_port_out_of_range_is_an_error(capsys, port):
    assert main(["simulate", "--inventory", str(ROOT / "inventory.yaml"), "--port", port]) == 1
    err = capsys.readouterr().err
    assert "not a TCP port" in err and "Traceback" not in err


def test_a_port_in_use_is_an_error(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["simulate", "--inventory", str(ROOT / "inventory.yaml"), "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "Traceback" not in err
