"""`pfa-policy hook`, pre-commit's entry: the hook's args are scan options, the staged files follow whatever their
names (the real pre-commit run is in tests/integrations/test_precommit_hooks.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pfa_policy.cli import main, scan, split_hook_arguments
from tests.conftest import write_tree

_SERVICE = "import requests\n\n\ndef fetch(url):\n    return requests.get(url).json()\n"


@pytest.mark.parametrize(("words", "options", "files"), [
    ([], [], []),
    (["app.py"], [], ["app.py"]),
    (["-dash.py", "b.py"], [], ["-dash.py", "b.py"]),
    (["--policy", "strict", "-q", "-dash.py"], ["--policy", "strict", "-q"], ["-dash.py"]),
    (["--policy=strict", "-qq", "--no-cache", "x.py"], ["--policy=strict", "-qq", "--no-cache"], ["x.py"]),
    (["-o", "report.txt", "--select", "PFA-OP-003", "a.py"], ["-o", "report.txt", "--select", "PFA-OP-003"],
     ["a.py"]),
    (["-oreport.txt", "a.py"], ["-oreport.txt"], ["a.py"]),
    (["-q", "--", "-q", "--policy"], ["-q"], ["-q", "--policy"]),
    # A word after the first file is a file, even when it looks like an option.
    (["a.py", "--verbose"], [], ["a.py", "--verbose"]),
    (["-qx.py"], [], ["-qx.py"]),
])
def test_split_hook_arguments(words: list[str], options: list[str], files: list[str]) -> None:
    assert split_hook_arguments(words, scan) == (options, files)


def test_hook_scans_files_whose_names_start_with_a_dash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {"-dash.py": _SERVICE, "with space.py": _SERVICE, "clean.py": "VALUE = 1\n"})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["hook", "--fail-on", "warning", "--no-cache", "-dash.py", "with space.py",
                                       "clean.py"])
    assert result.exit_code == 1, result.output
    assert "-dash.py\n      5:12  warning  PFA-OP-003" in result.output
    assert "with space.py\n      5:12  warning  PFA-OP-003" in result.output
    assert "in 3 file(s)" in result.output


def test_hook_without_files_does_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["hook", "--policy", "strict"])
    assert (result.exit_code, result.output) == (0, "")


def test_hook_reports_a_bad_option_value_like_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {"app.py": _SERVICE})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["hook", "--fail-on", "sometimes", "app.py"])
    assert result.exit_code == 2
    assert "'sometimes' is not one of" in result.output and "see `pfa-policy scan --help`" in result.output
