"""Bad input is reported, never fatal: every broken file becomes a notification and real findings survive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_git_repo, write_tree

_VIOLATION = "import requests\n\n\ndef fetch(url):\n    return requests.get(url).json()\n"
_BOMB = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n" + "".join(
    f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" if i else '  l0: &l0 ["lol"]\n' for i in range(10)
)
_FILES: dict[str, str | bytes] = {
    "serving/good.py": _VIOLATION,
    # Files are parsed only when some rule could match them (the pre-filter): these two could.
    "serving/broken.py": "import requests\n\ndef predict(features:\n    return requests.post(URL, json=features)\n",
    "legacy/py2_job.py": 'import requests\nprint "starting"\ntry:\n    requests.get(URL)\nexcept Exception, e:\n'
                         '    print e\n',
    "deploy/broken.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec: [unclosed\n",
    "deploy/bomb.yaml": _BOMB,
    "serving/model.py": b"\x00\x01\x02PK\x03\x04 not python at all \x00\xff",
    "serving/latin1.py": "# -*- coding: latin-1 -*-\n# Modèle de prévision\nimport requests\n\n\n"
                         "def fetch(url):\n    return requests.get(url)\n".encode("latin-1"),
    "serving/nocookie.py": "# Modèle\nimport requests\n\n\ndef fetch(url):\n    return requests.get(url)\n"
                           .encode("latin-1"),
}


def _broken_repo(root: Path, use_git: bool) -> Path:
    if use_git:
        make_git_repo(root, _FILES)
    else:
        write_tree(root, _FILES)
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "serving" / "outside").symlink_to("/etc", target_is_directory=True)
    return root


@pytest.mark.parametrize("use_git", [False, True], ids=["directory", "git"])
def test_broken_inputs_scan_to_completion(tmp_path: Path, use_git: bool) -> None:
    root = _broken_repo(tmp_path / "repo", use_git)
    completed = subprocess.run(
        [sys.executable, "-m", "pfa_policy", "scan", str(root), "--format", "json"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PFA_POLICY_DEBUG": ""},
    )
    assert completed.returncode in (0, 1), completed.stderr
    assert "Traceback" not in completed.stderr
    report = json.loads(completed.stdout)
    notes = {(n["path"], n["level"]): n for n in report["notifications"]}
    by_path: dict[str, list[str]] = {}
    for note in report["notifications"]:
        by_path.setdefault(note["path"], []).append(note["message"])

    assert any("could not parse python" in m for m in by_path["serving/broken.py"])
    assert notes[("serving/broken.py", "error")]["line"] >= 1
    assert any("could not parse python" in m for m in by_path["legacy/py2_job.py"])
    assert any("could not parse document" in m for m in by_path["deploy/broken.yaml"])
    assert any("alias expansion" in m for m in by_path["deploy/bomb.yaml"])
    assert any("binary" in m for m in by_path["serving/model.py"])
    assert any("Latin-1" in m for m in by_path["serving/nocookie.py"])
    assert any("symbolic link" in m for m in by_path["loop"])
    found = {(f["path"], f["line"]) for f in report["findings"] if f["rule_id"] == "PFA-OP-003"}
    assert {("serving/good.py", 5), ("serving/latin1.py", 7), ("serving/nocookie.py", 6)} <= found
