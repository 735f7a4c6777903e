"""The real `pre-commit try-repo` against this repository (including uncommitted work), on a temp repo.

pre-commit builds a fresh virtualenv per try-repo call and installs this package with pip, so it needs the
package index (for hatchling and the dependencies) and takes several seconds per call.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import git
import pytest

from tests.conftest import REPO_ROOT, make_git_repo, write_tree
from tests.integrations.policykit import RULES, violation_module

CONFIG = """policy: production
rule_paths: [.pfa/rules]
exclude: [".pfa/**"]
rules:
  include: [TEST-PY-001, TEST-REPO-001, TEST-REPO-002]
"""


def _snapshot_of_this_checkout(target: Path) -> Path:
    """Tracked and untracked (not ignored) files of the working tree, committed into a new repository."""
    listing = git.Repo(REPO_ROOT).git.ls_files("-z", "--cached", "--others", "--exclude-standard")
    files = [p for p in listing.split("\0") if p and not p.startswith("benchmarks/")]
    for relative in files:
        source = REPO_ROOT / relative
        if source.is_file():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)
    repo = git.Repo.init(target)
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "snapshot", "--no-verify", "--no-gpg-sign",
                    env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                         "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})
    return target


def _try_repo(hooks_repo: Path, project: Path, home: Path) -> tuple[int, str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PFA_", "PYTHONPATH"))}
    env["PRE_COMMIT_HOME"] = str(home)
    started = time.monotonic()
    completed = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hooks_repo), "--verbose"],
                               cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False)
    return completed.returncode, completed.stdout + completed.stderr, time.monotonic() - started


@pytest.mark.slow
def test_pre_commit_try_repo_on_staged_files(tmp_path: Path) -> None:
    hooks_repo = _snapshot_of_this_checkout(tmp_path / "pfa-policy")
    project = tmp_path / "project"
    repo = make_git_repo(project, {"README.md": "demo\n", ".pfa-policy.yaml": CONFIG,
                                   **{f".pfa/rules/{name}": text for name, text in RULES.items()}})

    # pre-commit appends file names after the hook's args: a leading dash must not read as an option.
    write_tree(project, {"app.py": violation_module(1), "-dash job.py": violation_module(2)})
    repo.git.add("app.py", "--", "-dash job.py")
    code, output, seconds = _try_repo(hooks_repo, project, tmp_path / "home")
    assert code == 1, output
    assert "app.py" in output and "4:5" in output and "TEST-PY-001" in output
    assert "-dash job.py" in output and "7:5" in output and "No such option" not in output
    assert "pfa-policy (changed files)" in output and "pfa-policy (whole repository)" in output
    print(f"pre-commit try-repo with a violation: {seconds:.1f} s")

    repo.git.rm("--cached", "-q", "--", "app.py", "-dash job.py")
    (project / "app.py").unlink()
    (project / "-dash job.py").unlink()
    write_tree(project, {"clean.py": "import subprocess\n\nsubprocess.run(['ls'], check=True)\n", "OWNERS": "me\n"})
    repo.git.add("clean.py", "OWNERS")
    code, output, seconds = _try_repo(hooks_repo, project, tmp_path / "home")
    assert code == 0, output
    assert "Passed" in output
    print(f"pre-commit try-repo on a clean file: {seconds:.1f} s")
