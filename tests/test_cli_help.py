"""Golden ``--help`` texts: what users read is reviewed like code.

After a deliberate change, regenerate with ``KMEANSKIT_UPDATE_GOLDEN=1 pytest
tests/test_cli_help.py`` and review the diff of tests/golden/.
"""

import os
from pathlib import Path

import pytest

from kmeanskit import cli

GOLDEN = Path(__file__).parent / "golden"
COMMANDS = ["", "fit", "predict", "evaluate", "choose-k", "datasets", "info", "demo", "explore"]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c or "kmeanskit")
def test_help_is_golden(capsys, monkeypatch, command):
    monkeypatch.setenv("COLUMNS", "80")
    args = [command, "--help"] if command else ["--help"]
    assert cli.main(args) == 0
    out, err = capsys.readouterr()
    assert err == ""
    path = GOLDEN / f"help-{command or 'kmeanskit'}.txt"
    if os.environ.get("KMEANSKIT_UPDATE_GOLDEN"):
        path.write_text(out)
    assert out == path.read_text()


def test_exit_codes_are_documented(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    cli.main(["fit", "--help"])
    out = capsys.readouterr().out
    for code in (0, 1, 2, 3, 4, 130):
        assert f"\n    {code} " in out
    docs = (Path(__file__).parents[1] / "docs" / "cli.md").read_text()
    for line in cli.EXIT_CODES.splitlines()[2:]:
        if line.strip()[:1].isdigit():
            assert f"| {line.split()[0]} |" in docs
