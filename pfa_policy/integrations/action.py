"""The scan step of the GitHub Action (`python -m pfa_policy.integrations.action scan`).

Inputs arrive as environment variables set in action.yml's `env:` (never as `${{ }}` inside a script):
PFA_PATH, PFA_POLICY, PFA_CONFIG, PFA_FAIL_ON, PFA_DIFF_BASE, PFA_BASELINE. It works out the diff base (on
pull_request events the PR base sha from $GITHUB_EVENT_PATH, fetched when the checkout lacks it), runs one scan
that prints annotations and writes SARIF, the Markdown summary and a JSON report, appends the summary to
$GITHUB_STEP_SUMMARY and sets the outputs findings, sarif-file, score and exit-code. It exits 0 when the scan
ran, whatever it found, so that the SARIF upload still happens; the action's last step applies the gate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

from pfa_policy.reporters.github import escape_data

PR_EVENTS = ("pull_request", "pull_request_target")
_DEEPEN_STEPS = (1, 10, 100, 1000)


class ActionError(Exception):
    """A problem the user must fix (bad input, base commit not reachable): exit 2 with an ::error line."""


def _git(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=workspace, capture_output=True, text=True, check=False)


def pull_request_base(env: Mapping[str, str]) -> str | None:
    """The PR base commit sha from the event payload, on pull_request(_target) events."""
    if env.get("GITHUB_EVENT_NAME") not in PR_EVENTS or not env.get("GITHUB_EVENT_PATH"):
        return None
    try:
        event = json.loads(Path(env["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8"))
        sha = event["pull_request"]["base"]["sha"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ActionError(f"cannot read pull_request.base.sha from GITHUB_EVENT_PATH: {error!r}") from None
    if not isinstance(sha, str) or len(sha) not in (40, 64) or any(c not in "0123456789abcdef" for c in sha):
        raise ActionError(f"pull_request.base.sha is not a commit sha: {sha!r}")
    return sha


def diff_base(env: Mapping[str, str]) -> str | None:
    """`auto` (default): the PR base on pull_request events, else a full scan; `none`/``: full scan; else a ref."""
    value = env.get("PFA_DIFF_BASE", "auto").strip()
    if value.lower() in ("", "none", "false", "off"):
        return None
    if value.lower() == "auto":
        return pull_request_base(env)
    if value.startswith("-"):
        raise ActionError(f"diff-base {value!r} is not a git reference")
    return value


def ensure_history(workspace: Path, ref: str) -> None:
    """Make `ref` and a merge-base with HEAD available in a shallow checkout (actions/checkout fetches one
    commit): fetch the ref, then deepen step by step, then unshallow."""
    if _git(workspace, "cat-file", "-e", f"{ref}^{{commit}}").returncode != 0:
        print(f"pfa-policy: fetching the diff base {ref}", file=sys.stderr)
        _git(workspace, "fetch", "--no-tags", "--quiet", "--depth=1", "origin", ref)
    for depth in _DEEPEN_STEPS:
        if _git(workspace, "merge-base", "HEAD", ref).returncode == 0:
            return
        if _git(workspace, "rev-parse", "--is-shallow-repository").stdout.strip() != "true":
            return  # full history and still no merge-base: the scan reports it clearly
        _git(workspace, "fetch", "--no-tags", "--quiet", f"--deepen={depth}", "origin", ref)
    if _git(workspace, "merge-base", "HEAD", ref).returncode != 0:
        _git(workspace, "fetch", "--no-tags", "--quiet", "--unshallow", "origin")


def scan_command(env: Mapping[str, str], workspace: Path, out: Path, sarif: Path, base: str | None) -> list[str]:
    command = [sys.executable, "-m", "pfa_policy", "scan", "--format", "github",
               "--format", f"markdown:{out / 'summary.md'}", "--format", f"json:{out / 'report.json'}",
               "--output-sarif", str(sarif)]
    for option, variable in (("--policy", "PFA_POLICY"), ("--config", "PFA_CONFIG"), ("--fail-on", "PFA_FAIL_ON"),
                             ("--baseline", "PFA_BASELINE")):
        value = env.get(variable, "").strip()
        if value:
            command.extend((option, value))
    if base is not None:
        command.extend(("--diff-base", base))
    if env.get("PFA_CACHE", "").strip() == "true" and env.get("RUNNER_TEMP"):
        # The directory the action's actions/cache step restores and saves.
        command.extend(("--cache-dir", str(Path(env["RUNNER_TEMP"]) / "pfa-policy-cache")))
    command.extend(("--", env.get("PFA_PATH", ".").strip() or "."))
    return command


def relocate_sarif(sarif: Path, prefix: str) -> None:
    """Make artifact URIs relative to the repository root when the scanned path is a subdirectory."""
    if not prefix:
        return
    document = json.loads(sarif.read_text(encoding="utf-8"))

    def visit(value: object) -> None:
        if isinstance(value, dict):
            location = value.get("artifactLocation")
            if isinstance(location, dict) and isinstance(location.get("uri"), str):
                location["uri"] = f"{quote(prefix, safe='/')}/{location['uri']}"
            for item in value.values():
                visit(item)
        elif isinstance(value, list):
            for item in value:
                visit(item)

    visit(document)
    sarif.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_outputs(path: str | None, values: Mapping[str, str]) -> None:
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        for name, value in values.items():
            if "\n" in value:
                delimiter = f"pfa_{uuid.uuid4().hex}"
                handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
            else:
                handle.write(f"{name}={value}\n")


def scan(env: Mapping[str, str]) -> int:
    workspace = Path(env.get("GITHUB_WORKSPACE") or os.getcwd()).resolve()
    out = Path(env.get("RUNNER_TEMP") or workspace / ".pfa-policy-action").resolve() / "pfa-policy"
    out.mkdir(parents=True, exist_ok=True)
    sarif = out / "pfa-policy.sarif"
    base = diff_base(env)
    if base is not None:
        ensure_history(workspace, base)
    target = (workspace / (env.get("PFA_PATH", ".").strip() or ".")).resolve()
    try:
        prefix = target.relative_to(workspace).as_posix()
    except ValueError:
        raise ActionError(f"path {env.get('PFA_PATH')!r} is outside the workspace {workspace}") from None
    print(f"pfa-policy: scanning {prefix}" + (f" (changes since the merge-base with {base})" if base else ""),
          flush=True)
    completed = subprocess.run(scan_command(env, workspace, out, sarif, base), cwd=workspace, check=False)
    if completed.returncode not in (0, 1):
        write_outputs(env.get("GITHUB_OUTPUT"), {"exit-code": str(completed.returncode)})
        raise ActionError("the scan could not run (see the error above)")
    relocate_sarif(sarif, "" if prefix == "." else prefix)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    summary = (out / "summary.md").read_text(encoding="utf-8")
    if env.get("GITHUB_STEP_SUMMARY"):
        with open(env["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as handle:
            handle.write(summary)
    counts = report["summary"]["counts"]
    overall = report["summary"]["readiness"]["overall"]
    write_outputs(env.get("GITHUB_OUTPUT"), {
        "findings": str(counts["error"] + counts["warning"] + counts["note"]),
        "sarif-file": str(sarif),
        "score": "" if overall is None else f"{overall:g}",  # None: nothing to assess
        "exit-code": str(completed.returncode),
    })
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args != ["scan"]:
        print("usage: python -m pfa_policy.integrations.action scan", file=sys.stderr)
        return 2
    try:
        return scan(os.environ)
    except ActionError as error:
        print(f"::error title=pfa-policy::{escape_data(str(error))}", flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
