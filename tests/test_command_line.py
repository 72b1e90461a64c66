"""Every command ends the same way: a user error, Ctrl-C or a bug each get a message and their exit code."""
from __future__ import annotations

import json
import signal
import subprocess
import sys

from generator import command_line
from generator.errors import GeneratorError

from conftest import ROOT


def ends(exc: BaseException):
    def func(args):
        raise exc
    return func


def test_a_user_error_is_one_line_on_stderr_and_exit_1(capsys):
    assert command_line.run(ends(GeneratorError("inventory.yaml: no models")), None) == command_line.EXIT_USER
    assert capsys.readouterr().err == "error: inventory.yaml: no models\n"


def test_ctrl_c_is_exit_130_without_a_traceback(capsys):
    assert command_line.run(ends(KeyboardInterrupt()), None) == 130
    err = capsys.readouterr().err
    assert err == "interrupted\n"


def test_a_bug_keeps_its_traceback_and_exits_3(capsys):
    assert command_line.run(ends(ZeroDivisionError("boom")), None) == command_line.EXIT_BUG
    err = capsys.readouterr().err
    assert "Traceback" in err and "ZeroDivisionError: boom" in err and "This is a bug" in err


def test_every_json_command_reports_an_error_in_one_shape(tmp_path, capsys):
    from generator.cli import main
    missing = str(tmp_path / "absent.yaml")
    for command in ("generate", "check", "validate", "publish"):
        code = main([command, "--inventory", missing, "--output", str(tmp_path), "--format", "json"])
        out = capsys.readouterr().out
        if command == "validate":  # validate turns a bad inventory into a finding, not an exception
            assert code == 1 and json.loads(out)["ok"] is False
            continue
        assert code == 1, command
        [error] = json.loads(out)["errors"]
        assert error["message"], command


def test_sigint_to_a_running_simulator_stops_it_cleanly():
    """`simulate` serves until SIGINT or SIGTERM and then exits 0: Ctrl-C is how it is meant to stop."""
    proc = subprocess.Popen([sys.executable, "-m", "generator.simulate", "--inventory",
                             str(ROOT / "tests" / "golden" / "inventory.yaml"), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("simulating ")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
