"""`--format github`, `--format markdown`, several outputs in one run, SARIF version-control provenance."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from pfa_policy.cli import main
from pfa_policy.reporters.github import escape_data, escape_property
from tests.conftest import SARIF_SCHEMA, make_git_repo, write_tree
from tests.integrations.policykit import violation_module, write_policy

WORKFLOW_ENV = {"GITHUB_SERVER_URL": None, "GITHUB_REPOSITORY": None, "GITHUB_SHA": None, "GITHUB_WORKSPACE": None}


def test_escaping_follows_the_toolkit() -> None:
    assert escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert escape_property("dir,x/a:b%.py") == "dir%2Cx/a%3Ab%25.py"


def test_annotations_capped_per_level_with_a_pointer_to_the_summary(tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "policy")
    root = write_tree(tmp_path / "repo", {"jobs, v2/run.py": violation_module(12), "OWNERS": "x\n"})
    result = CliRunner().invoke(main, ["scan", str(root), "--policy", str(policy), "--format", "github"],
                                env=WORKFLOW_ENV)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    assert len(errors) == 10
    assert errors[0].startswith("::error file=jobs%2C v2/run.py,line=4,endLine=4,col=5,endColumn=")
    assert ",title=TEST-PY-001 os-system-call::`os.system` runs a shell command%0Afix: Use subprocess" in errors[0]
    assert lines[-1].startswith("::notice title=pfa-policy::2 more finding(s) not annotated here")


def test_paths_in_annotations_are_relative_to_the_workspace(tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "policy")
    write_tree(tmp_path / "ws", {"svc/app.py": violation_module(1), "svc/OWNERS": "x\n"})
    env = {**WORKFLOW_ENV, "GITHUB_WORKSPACE": str(tmp_path / "ws")}
    result = CliRunner().invoke(main, ["scan", str(tmp_path / "ws" / "svc"), "--policy", str(policy),
                                       "--format", "github"], env=env)
    assert result.stdout.startswith("::error file=svc/app.py,line=4,")


def test_several_outputs_in_one_run_and_deterministic_sarif_with_provenance(tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "policy")
    root = tmp_path / "repo"
    repo = make_git_repo(root, {"app.py": violation_module(2)})
    repo.create_remote("origin", "git@github.com:acme/models.git")
    sha = repo.head.commit.hexsha
    out = tmp_path / "out"
    args = ["scan", str(root), "--policy", str(policy), "--format", f"sarif:{out / 'a.sarif'}",
            "--format", f"markdown:{out / 'summary.md'}", "--output-sarif", str(out / "b.sarif"), "-j", "1"]
    first = CliRunner().invoke(main, args, env=WORKFLOW_ENV)
    assert first.exit_code == 1
    assert "error(s)" in first.stdout and "TEST-PY-001" in first.stdout  # the text report on stdout
    sarif_a = (out / "a.sarif").read_text()
    assert sarif_a == (out / "b.sarif").read_text()
    document = json.loads(sarif_a)
    validator = jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text()))
    assert sorted(str(e.message) for e in validator.iter_errors(document)) == []
    run = document["runs"][0]
    assert run["versionControlProvenance"] == [
        {"repositoryUri": "https://github.com/acme/models", "revisionId": sha, "branch": "main"}]
    assert [r["ruleId"] for r in run["results"]] == ["TEST-REPO-001", "TEST-PY-001", "TEST-PY-001"]
    assert all(set(r["partialFingerprints"]) == {"pfaPolicy/v1"} for r in run["results"])
    second = CliRunner().invoke(main, args, env=WORKFLOW_ENV)
    assert second.exit_code == 1 and (out / "a.sarif").read_text() == sarif_a


def test_markdown_summary_links_and_repository_level_section(tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "policy")
    root = write_tree(tmp_path / "repo", {"app.py": violation_module(1), "nb.ipynb": "{}"})
    env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/models", "GITHUB_SHA": "abc123",
           "GITHUB_WORKSPACE": str(root)}
    result = CliRunner().invoke(main, ["scan", str(root), "--policy", str(policy), "--format", "markdown"], env=env)
    assert result.exit_code == 1
    text = result.stdout
    assert "❌ **Failing**" in text and "policy `integration-test`" in text
    assert "| 2 | 1 | 0 | 0 |" in text  # errors, warnings, notes, suppressed
    assert "| operability | 0% | 1 of 1 |" in text
    top, repo_level = text.split("### Repository-level findings (2)")
    assert "[`app.py:4`](https://github.com/acme/models/blob/abc123/app.py#L4)" in top
    assert "`TEST-REPO-001`" in repo_level and "`TEST-REPO-002`" in repo_level and "TEST-PY-001" not in repo_level


def test_format_option_errors(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"a.py": "x = 1\n"})
    for args, message in ((["--format", "yaml"], "unknown format 'yaml'"),
                          (["--format", "json", "--format", "text"], "only one format"),
                          (["--format", "sarif:"], "give a file after the colon")):
        result = CliRunner().invoke(main, ["scan", str(root), *args])
        assert result.exit_code == 2, result.output
        assert message in result.output
