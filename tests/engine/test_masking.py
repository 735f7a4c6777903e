"""Credentials found by secret rules are masked in every output and in the baseline; fingerprints stay stable."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pfa_policy.cli import main
from pfa_policy.engine.loader import Catalog
from pfa_policy.engine.masking import mask
from pfa_policy.fingerprint import fingerprints
from tests.conftest import REPO_ROOT, scan_tree, write_tree

_PILOT = REPO_ROOT / "fixtures" / "churn-pilot"
# Every literal credential of the pilot that a rule reports (fixtures/README.md lists them).
_PILOT_CREDENTIALS = ("Churn-Pilot-2023!", "mlflow-pilot-pass-42", "AKIAIOSFODNN7EXAMPLE")
_WORKFLOW_ENV = {"GITHUB_SERVER_URL": None, "GITHUB_REPOSITORY": None, "GITHUB_SHA": None, "GITHUB_WORKSPACE": None}


@pytest.mark.parametrize(("secret", "shown"), [
    ("hunter2hunter2", "hunt****"),   # four characters at most
    ("Tr4ck!ng", "Tr****"),           # never more than a third
    ("abc", "a****"),
    ("ab", "****"),
])
def test_mask_shows_a_short_prefix_and_a_fixed_mask(secret: str, shown: str) -> None:
    assert mask(secret) == shown


@pytest.mark.parametrize("format_name", ["text", "json", "sarif", "github", "markdown"])
def test_no_pilot_credential_in_any_output_format(format_name: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["scan", str(_PILOT), "--format", format_name, "--no-cache", "-j", "1",
                                       "--fail-on", "never"], env=_WORKFLOW_ENV)
    assert result.exit_code == 0, result.output
    for credential in _PILOT_CREDENTIALS:
        assert credential not in result.stdout


def test_masked_forms_are_what_the_findings_show() -> None:
    output = CliRunner().invoke(main, ["scan", str(_PILOT), "--format", "json", "--no-cache", "-j", "1"]).stdout
    messages = {(f["rule_id"], f["line"]): f["message"] for f in json.loads(output)["findings"]
                if f["path"] == "docker-compose.yml" and f["rule_id"] == "PFA-EN-013"}
    assert messages == {("PFA-EN-013", 13): "A connection string carries an inline password: "
                                            "`DATABASE_URL: postgresql://churn_app:Chur****@db:5432/churn`"}


def test_no_pilot_credential_in_the_baseline_file(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    result = CliRunner().invoke(main, ["baseline", "create", str(_PILOT), "--output", str(baseline), "-j", "1"])
    assert result.exit_code == 0, result.output
    text = baseline.read_text(encoding="utf-8")
    assert "Chur****" in text
    for credential in _PILOT_CREDENTIALS:
        assert credential not in text


def test_anchors_hold_no_credential_and_fingerprints_survive_moved_lines(catalog: Catalog, tmp_path: Path) -> None:
    root = tmp_path / "pilot"
    shutil.copytree(_PILOT, root)
    before = scan_tree(root, catalog)
    secret_findings = [f for f in before.findings if "secrets" in catalog.rules[f.rule_id].tags]
    assert len(secret_findings) == 5
    assert not [f.anchor for f in before.findings for c in _PILOT_CREDENTIALS if c in f.anchor]
    compose = root / "docker-compose.yml"
    compose.write_text("# moved down\n\n" + compose.read_text(encoding="utf-8"), encoding="utf-8")
    after = scan_tree(root, catalog)
    moved = {f.rule_id: fp for f, fp in zip(after.findings, fingerprints(after.findings), strict=True)
             if f.path == "docker-compose.yml" and f.rule_id in ("PFA-EN-010", "PFA-EN-013")}
    kept = {f.rule_id: fp for f, fp in zip(before.findings, fingerprints(before.findings), strict=True)
            if f.path == "docker-compose.yml" and f.rule_id in ("PFA-EN-010", "PFA-EN-013")}
    assert moved == kept and len(kept) == 2
    assert fingerprints(scan_tree(root, catalog).findings) == fingerprints(after.findings)


def test_a_credential_across_the_cut_of_a_long_line_is_masked_whole(catalog: Catalog, tmp_path: Path) -> None:
    key = "AKIAZ7QW3ERT5YUI8OPA"  # characters 187-206: across the 200-character cut of a shown line
    line = "echo " + "sync the model artefacts; " * 6 + f"export AWS_ACCESS_KEY_ID={key}"
    write_tree(tmp_path, {"scripts/sync.sh": line + "\n"})
    [finding] = scan_tree(tmp_path, catalog, rules=["PFA-EN-012"]).findings
    assert finding.anchor == "line:" + line.replace(key, "AKIA****")
