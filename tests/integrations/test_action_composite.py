"""Runs every `run:` step of action.yml with bash in a faked GitHub Actions environment.

`uses:` steps are checked (pinned, conditions) but not run. The install step honours PFA_POLICY_ACTION_PYTHON
(documented in scripts/action/install.sh) so the test uses this checkout instead of building a venv.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import git
import jsonschema
import pytest
import yaml

from tests.conftest import REPO_ROOT, SARIF_SCHEMA, make_git_repo, write_tree
from tests.integrations.policykit import violation_module, write_policy

ACTION = yaml.safe_load((REPO_ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_CONTEXT = re.compile(r"\b(?:inputs|github|steps)(?:\.[A-Za-z_][\w-]*)+")


@dataclass
class Run:
    inputs: dict[str, str]
    github: dict[str, Any]
    env: dict[str, str]
    steps: dict[str, dict[str, str]] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    failed_step: str | None = None
    exit_code: int = 0

    def lookup(self, path: str) -> Any:
        head, *rest = path.split(".")
        value: Any = {"inputs": self.inputs, "github": self.github,
                      "steps": {k: {"outputs": v} for k, v in self.steps.items()}}[head]
        for part in rest:
            value = value.get(part, "") if isinstance(value, Mapping) else ""
        return value

    def expand(self, text: str) -> str:
        return _EXPRESSION.sub(lambda m: str(self.lookup(m.group(1))), str(text))

    def condition(self, text: str) -> bool:
        """The few operators action.yml uses: ==, !=, &&, ||, parentheses, string literals, contexts."""
        python = _CONTEXT.sub(lambda m: repr(self.lookup(m.group(0))), text.replace("\n", " "))
        python = python.replace("&&", " and ").replace("||", " or ")
        return bool(eval(python, {"__builtins__": {}}, {}))  # our own action.yml, after substitution


def _read_outputs(path: Path) -> dict[str, str]:
    outputs: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index + 1)
            outputs[name] = "\n".join(lines[index + 1:end])
            index = end + 1
            continue
        name, _, value = line.partition("=")
        outputs[name] = value
        index += 1
    return outputs


def run_action(tmp: Path, inputs: Mapping[str, str], github: dict[str, Any], env: Mapping[str, str]) -> Run:
    defaults = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    run = Run({**defaults, **inputs}, github, dict(env))
    for position, step in enumerate(STEPS):
        name = step.get("id") or f"step{position}"
        if "if" in step and not run.condition(step["if"]):
            continue
        if "uses" in step:
            continue  # checked in test_action_definition
        files = {key: tmp / f"{name}.{key.lower()}" for key in
                 ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE")}
        for file in files.values():
            file.write_text("", encoding="utf-8")
        script = tmp / f"{name}.sh"
        script.write_text(step["run"], encoding="utf-8")
        step_env = {**run.env, **{k: str(v) for k, v in files.items()},
                    **{k: run.expand(v) for k, v in step.get("env", {}).items()}}
        cwd = run.expand(step.get("working-directory", "${{ github.workspace }}"))
        completed = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd,
                                   env=step_env, capture_output=True, text=True, timeout=300, check=False)
        run.logs[name] = completed.stdout + completed.stderr
        run.steps[name] = _read_outputs(files["GITHUB_OUTPUT"])
        run.summary += files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8")
        if completed.returncode != 0:
            run.failed_step, run.exit_code = name, completed.returncode
            break
    return run


def github_env(tmp: Path, workspace: Path, base: str, head: str, head_repo: str = "acme/models",
               ) -> tuple[dict[str, Any], dict[str, str]]:
    event = {"action": "synchronize", "number": 7, "pull_request": {
        "number": 7,
        "base": {"ref": "main", "sha": base, "repo": {"full_name": "acme/models"}},
        "head": {"ref": "feature", "sha": head, "repo": {"full_name": head_repo}},
    }, "repository": {"full_name": "acme/models"}}
    event_path = tmp / "event.json"
    event_path.write_text(json.dumps(event), encoding="utf-8")
    runner_temp = tmp / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(tmp)), "LANG": "C.UTF-8",
        "PYTHONPATH": str(REPO_ROOT), "PFA_POLICY_ACTION_PYTHON": sys.executable,
        "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_ACTION_PATH": str(REPO_ROOT), "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event_path), "GITHUB_BASE_REF": "main", "GITHUB_HEAD_REF": "feature",
        "GITHUB_REF": "refs/pull/7/merge", "GITHUB_SHA": head, "GITHUB_REPOSITORY": "acme/models",
        "GITHUB_SERVER_URL": "https://github.com", "RUNNER_OS": "Linux", "RUNNER_TEMP": str(runner_temp),
    }
    github = {"workspace": str(workspace), "action_path": str(REPO_ROOT), "event_name": "pull_request",
              "repository": "acme/models", "event": event, "sha": head}
    return github, env


def _pr_repo(root: Path, head_source: str) -> tuple[git.Repo, str, str]:
    repo = make_git_repo(root, {"app.py": violation_module(2), "README.md": "demo\n"})
    base = repo.head.commit.hexsha
    repo.git.checkout("-b", "feature")
    write_tree(root, {"app.py": head_source})
    repo.git.add("-A")
    head = repo.index.commit("head").hexsha
    return repo, base, head


def test_action_definition() -> None:
    assert ACTION["runs"]["using"] == "composite"
    for step in STEPS:
        if "run" in step:
            assert step.get("shell") == "bash", step
            assert "${{" not in step["run"], f"expression inside a run body: {step['run']!r}"
            for value in step.get("env", {}).values():
                assert str(value).startswith("${{") or "${{" not in str(value)
        else:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
    for name, spec in ACTION["outputs"].items():
        assert spec["description"] and spec["value"].startswith("${{ steps."), name
    for name in ("path", "policy", "config", "fail-on", "diff-base", "baseline", "upload-sarif", "category",
                 "python-version", "version"):
        assert "default" in ACTION["inputs"][name] and ACTION["inputs"][name]["description"], name
    upload = next(s for s in STEPS if "upload-sarif" in s.get("uses", ""))
    assert upload["with"] == {"sarif_file": "${{ steps.scan.outputs.sarif-file }}",
                              "category": "${{ inputs.category }}"}
    assert STEPS.index(upload) < len(STEPS) - 1  # the gate comes after the upload


def test_upload_condition_skips_fork_pull_requests(tmp_path: Path) -> None:
    upload = next(s for s in STEPS if "upload-sarif" in s.get("uses", ""))
    github, env = github_env(tmp_path, tmp_path, "a" * 40, "b" * 40)
    same = Run({"upload-sarif": "true"}, github, env, {"scan": {"sarif-file": "x.sarif"}})
    assert same.condition(upload["if"])
    fork_github, _ = github_env(tmp_path, tmp_path, "a" * 40, "b" * 40, head_repo="someone/fork")
    fork = Run({"upload-sarif": "true"}, fork_github, env, {"scan": {"sarif-file": "x.sarif"}})
    assert not fork.condition(upload["if"])
    assert not Run({"upload-sarif": "false"}, github, env, {"scan": {"sarif-file": "x.sarif"}}).condition(upload["if"])
    push = Run({"upload-sarif": "true"}, {**github, "event_name": "push", "event": {}}, env,
               {"scan": {"sarif-file": "x.sarif"}})
    assert push.condition(upload["if"])


def test_only_the_new_violation_fails_the_pull_request(tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "policy")
    head_source = "# moved down\n" + violation_module(2) + "def leak() -> None:\n    os.system('env')\n"
    _, base, head = _pr_repo(tmp_path / "ws", head_source)
    github, env = github_env(tmp_path, tmp_path / "ws", base, head)

    run = run_action(tmp_path, {"policy": str(policy)}, github, env)

    assert run.failed_step == "gate" and run.exit_code == 1, run.logs
    new_line = head_source.splitlines().index("    os.system('env')") + 1
    annotations = [line for line in run.logs["scan"].splitlines() if line.startswith("::")]
    assert len(annotations) == 1 and annotations[0].startswith(f"::error file=app.py,line={new_line},")
    outputs = run.steps["scan"]
    assert outputs["findings"] == "1" and outputs["exit-code"] == "1"
    assert float(outputs["score"]) < 100
    sarif = json.loads(Path(outputs["sarif-file"]).read_text(encoding="utf-8"))
    assert Path(outputs["sarif-file"]).name == "pfa-policy.sarif"
    assert not list(jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).iter_errors(sarif))
    results = sarif["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == [
        ("TEST-PY-001", new_line)]
    assert "❌ **Failing**" in run.summary
    assert f"[`app.py:{new_line}`](https://github.com/acme/models/blob/{head}/app.py#L{new_line})" in run.summary
    assert "TEST-REPO-001" not in run.summary  # repository-level, but already on the base
    assert "finding(s) reported, at least one at or above fail-on" in run.logs["gate"]
    # The scan kept its per-file results where the action's actions/cache step saves them.
    assert list((tmp_path / "runner-temp" / "pfa-policy-cache").rglob("*.json"))


def test_a_clean_change_passes_and_reports_zero(tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "policy")
    _, base, head = _pr_repo(tmp_path / "ws", "# only a comment\n" + violation_module(2))
    github, env = github_env(tmp_path, tmp_path / "ws", base, head)
    run = run_action(tmp_path, {"policy": str(policy)}, github, env)
    assert run.failed_step is None, run.logs
    assert run.steps["scan"]["findings"] == "0" and run.steps["scan"]["exit-code"] == "0"
    assert "✅ **Passing**" in run.summary and "No open findings" in run.summary


def test_a_shallow_merge_checkout_fetches_the_base(tmp_path: Path) -> None:
    """Like actions/checkout on a PR: depth 1 at the test-merge commit; the base commit is not present."""
    policy = write_policy(tmp_path / "policy")
    upstream, base, _ = _pr_repo(tmp_path / "upstream", violation_module(2) + "def leak() -> None:\n"
                                 "    os.system('env')\n")
    upstream.git.checkout("main")
    write_tree(tmp_path / "upstream", {"NEWS.md": "main moved on\n"})
    upstream.git.add("-A")
    base = upstream.index.commit("main moves on").hexsha
    upstream.git.checkout("--detach", "main")
    upstream.git.merge("--no-ff", "-m", "Merge feature into main", "feature")
    upstream.git.update_ref("refs/pull/7/merge", "HEAD")
    merge = upstream.head.commit.hexsha
    workspace = tmp_path / "ws"
    clone = git.Repo.init(workspace)
    clone.create_remote("origin", f"file://{tmp_path / 'upstream'}")
    clone.git.fetch("--depth=1", "--no-tags", "origin", "refs/pull/7/merge")
    clone.git.checkout("--detach", merge)
    assert clone.git.rev_parse("--is-shallow-repository") == "true"
    assert clone.git.cat_file("-t", merge) == "commit"
    with pytest.raises(git.GitCommandError):
        clone.git.cat_file("-e", f"{base}^{{commit}}")
    github, env = github_env(tmp_path, workspace, base, merge)

    run = run_action(tmp_path, {"policy": str(policy)}, github, env)

    assert run.exit_code == 1 and run.steps["scan"]["findings"] == "1", run.logs
    assert "fetching the diff base" in run.logs["scan"]


def test_an_unreachable_base_fails_with_exit_2(tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "policy")
    _, _, head = _pr_repo(tmp_path / "ws", violation_module(2))
    github, env = github_env(tmp_path, tmp_path / "ws", "f" * 40, head)
    run = run_action(tmp_path, {"policy": str(policy)}, github, env)
    assert run.failed_step == "scan" and run.exit_code == 2
    assert "cannot resolve git reference" in run.logs["scan"]


@pytest.mark.parametrize("diff_base", ["none", "main"])
def test_explicit_diff_base_inputs(tmp_path: Path, diff_base: str) -> None:
    policy = write_policy(tmp_path / "policy")
    _, base, head = _pr_repo(tmp_path / "ws", violation_module(3))
    github, env = github_env(tmp_path, tmp_path / "ws", base, head)
    run = run_action(tmp_path, {"policy": str(policy), "diff-base": diff_base, "fail-on": "never"}, github, env)
    assert run.failed_step is None, run.logs
    # none: the full scan sees 3 violations and the repository-level finding; main: only the added function.
    assert run.steps["scan"]["findings"] == {"none": "4", "main": "1"}[diff_base]
