"""Where a project's configuration comes from: the nearest file from the scanned path up to the git root, as
ruff finds its own; `pfa-policy config` names it, or says none was found and the built-in default applies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git
from click.testing import CliRunner

from pfa_policy.cli import main
from pfa_policy.layers import discover
from tests.conftest import make_git_repo, write_tree

_VIOLATION = "import requests\n\n\ndef fetch(url):\n    return requests.get(url).json()\n"


def _config(path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["config", str(path)])
    assert result.exit_code == 0, result.output
    body: dict[str, Any] = json.loads(result.output)
    return body


def test_the_nearest_configuration_wins(tmp_path: Path) -> None:
    make_git_repo(tmp_path, {
        ".pfa-policy.yaml": "policy: strict\n",
        "services/api/pyproject.toml": '[project]\nname = "api"\n\n[tool.pfa-policy]\npolicy = "pilot"\n',
        "services/api/src/app/main.py": _VIOLATION,
        "services/batch/job.py": "print(1)\n",
    })
    nested = _config(tmp_path / "services" / "api" / "src" / "app")
    assert nested["config"]["file"] == str(tmp_path / "services" / "api" / "pyproject.toml")
    assert nested["policy"] == "pilot" and nested["fail_on"] == "never"
    sibling = _config(tmp_path / "services" / "batch")
    assert sibling["config"]["file"] == str(tmp_path / ".pfa-policy.yaml") and sibling["policy"] == "strict"
    # The scan of a subdirectory applies the configuration found above it: pilot never fails.
    result = CliRunner().invoke(main, ["scan", str(tmp_path / "services" / "api"), "--no-cache"])
    assert result.exit_code == 0 and "PFA-OP-003" in result.output


def test_the_search_stops_at_the_git_root(tmp_path: Path) -> None:
    write_tree(tmp_path, {".pfa-policy.yaml": "policy: strict\n"})  # outside the repository: not its config
    repo = tmp_path / "repo"
    make_git_repo(repo, {"src/app.py": _VIOLATION})
    body = _config(repo / "src")
    assert body["config"]["file"] is None and body["policy"] == "production"
    assert body["config"]["found"] == (
        f"none found: no .pfa-policy.yaml, .pfa-policy.yml or [tool.pfa-policy] in pyproject.toml from {repo / 'src'}"
        f" up to the git root {repo}; the built-in default policy 'production' applies")


def test_outside_git_the_search_goes_up_to_the_filesystem_root(tmp_path: Path) -> None:
    write_tree(tmp_path, {".pfa-policy.yml": "policy: pilot\n", "a/b/c.py": "x = 1\n"})
    search = discover(tmp_path / "a" / "b" / "c.py")
    assert search.layer is not None and search.layer.source == str(tmp_path / ".pfa-policy.yml")
    assert search.start == tmp_path / "a" / "b" and search.git_root is None


def test_a_git_worktree_or_submodule_file_is_a_git_root(tmp_path: Path) -> None:
    write_tree(tmp_path, {".pfa-policy.yaml": "policy: strict\n", "sub/.git": "gitdir: ../.git/modules/sub\n"})
    search = discover(tmp_path / "sub")
    assert search.layer is None and search.git_root == tmp_path / "sub"


def test_precedence_in_one_directory_and_what_is_hidden(tmp_path: Path) -> None:
    git.Repo.init(tmp_path)
    write_tree(tmp_path, {
        ".pfa-policy.yaml": "policy: strict\n",
        ".pfa-policy.yml": "policy: pilot\n",
        "pyproject.toml": '[tool.pfa-policy]\npolicy = "pilot"\n',
    })
    body = _config(tmp_path)
    assert body["policy"] == "strict"
    assert body["config"]["found"].endswith(
        f"; it hides {tmp_path / '.pfa-policy.yml'}, {tmp_path / 'pyproject.toml'}")


def test_a_pyproject_without_the_table_does_not_stop_the_search(tmp_path: Path) -> None:
    make_git_repo(tmp_path, {
        "pyproject.toml": '[tool.pfa-policy]\npolicy = "pilot"\n',
        "pkg/pyproject.toml": '[project]\nname = "pkg"  # pfa-policy is mentioned, but has no table\n',
        "pkg/broken/pyproject.toml": "this is [not toml\n",  # never mentions us: not our error
        "pkg/broken/x.py": "x = 1\n",
    })
    assert _config(tmp_path / "pkg" / "broken")["config"]["file"] == str(tmp_path / "pyproject.toml")


def test_explicit_config_is_named_too(tmp_path: Path) -> None:
    config = write_tree(tmp_path, {"team.yaml": "policy: pilot\n"}) / "team.yaml"
    body = json.loads(CliRunner().invoke(main, ["config", str(tmp_path), "--config", str(config)]).output)
    assert body["config"] == {"file": str(config), "found": f"{config} (given with --config)"}


def test_a_broken_configuration_on_the_way_up_is_an_error_with_its_line(tmp_path: Path) -> None:
    make_git_repo(tmp_path, {".pfa-policy.yaml": "policy: production\nfail_on: sometimes\n", "src/a.py": "x = 1\n"})
    result = CliRunner().invoke(main, ["scan", str(tmp_path / "src")])
    assert result.exit_code == 2
    assert result.output.startswith(f"pfa-policy: error: {tmp_path / '.pfa-policy.yaml'}:2: at 'fail_on': ")


def test_scan_verbose_names_the_configuration(tmp_path: Path) -> None:
    make_git_repo(tmp_path, {"pyproject.toml": '[tool.pfa-policy]\npolicy = "pilot"\n', "src/a.py": "x = 1\n"})
    result = CliRunner().invoke(main, ["scan", str(tmp_path / "src"), "-v", "--no-cache", "--jobs", "1"])
    assert result.exit_code == 0
    assert (f"pfa-policy: configuration: {tmp_path / 'pyproject.toml'} (the nearest configuration from "
            f"{tmp_path / 'src'})") in result.output
