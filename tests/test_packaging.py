"""The wheel carries the built-in rules and policies: an installed copy scans from any directory."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from pfa_policy.engine.loader import load_catalog
from tests.conftest import REPO_ROOT


@pytest.mark.slow
def test_installed_wheel_finds_builtin_rules_and_policies(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO_ROOT)],
                   check=True, capture_output=True, timeout=600)
    wheel = next(dist.glob("pfa_policy-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "pfa_policy/_builtin/policies/production.yaml" in names
    assert "pfa_policy/schemas/rule.schema.yaml" in names
    shipped_rules = {n for n in names if n.startswith("pfa_policy/_builtin/rules/") and n.endswith(".yaml")}
    source_rules = {f"pfa_policy/_builtin/rules/{p.relative_to(REPO_ROOT / 'rules').as_posix()}"
                    for p in (REPO_ROOT / "rules").rglob("*.yaml")}
    assert shipped_rules == source_rules

    # A separate, empty environment: the wheel and its declared dependencies, nothing else.
    environment = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(environment)
    python = environment / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True,
                   timeout=600)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    located = subprocess.run([str(python), "-c", "import pfa_policy.resources as r; print(r.builtin_dir('rules'))"],
                             cwd=elsewhere, capture_output=True, text=True, check=True)
    assert str(environment) in located.stdout
    fixture = REPO_ROOT / "fixtures" / "churn-pilot"
    scanned = subprocess.run([str(environment / "bin" / "pfa-policy"), "scan", str(fixture), "--format", "json",
                              "--no-cache"], cwd=elsewhere, capture_output=True, text=True, timeout=300)
    assert scanned.returncode in (0, 1), scanned.stderr
    report = json.loads(scanned.stdout)
    assert report["policy"] == "production" and report["summary"]["rules"] > 0
    # The wheel loads its own rule files without validating them again: the same rules, the same findings.
    checkout = subprocess.run([sys.executable, "-m", "pfa_policy", "scan", str(fixture), "--format", "json",
                               "--no-cache"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert [(f["rule_id"], f["path"], f["line"]) for f in json.loads(checkout.stdout)["findings"]] == [
        (f["rule_id"], f["path"], f["line"]) for f in report["findings"]]
    listed = subprocess.run([str(environment / "bin" / "pfa-policy"), "rules", "list", "--format", "json"],
                            cwd=elsewhere, capture_output=True, text=True, check=True)
    assert json.loads(listed.stdout)["count"] == len(load_catalog().rules)
