import json
from pathlib import Path

from click.testing import CliRunner

from pfa_policy.cli import main

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "parity-shop"
PARITY_RULES = "PFA-OP-201,PFA-OP-202,PFA-OP-203,PFA-TE-201,PFA-AU-201,PFA-AC-201,PFA-EN-201,PFA-AI-201,PFA-CI-201"


def test_parity_table_text_json_markdown() -> None:
    runner = CliRunner()
    text = runner.invoke(main, ["parity", str(FIXTURE)])
    assert text.exit_code == 0, text.output
    assert "deploy/k8s [kustomize]: staging -> prod" in text.output
    assert "size (not a finding)" in text.output and "not compared: read from a secret" in text.output
    data = json.loads(runner.invoke(main, ["parity", "--format", "json", str(FIXTURE)]).output)
    assert data["summary"]["kind"] == 18 and len(data["systems"]) == 5
    first = data["comparisons"][0]["differences"][0]
    assert set(first) >= {"status", "rule", "key", "pilot", "production"}
    markdown = runner.invoke(main, ["parity", "--format", "markdown", str(FIXTURE)]).output
    assert markdown.startswith("# Environment parity") and "| status | rule | key |" in markdown


def test_parity_applies_the_policy_section(tmp_path: Path) -> None:
    config = tmp_path / "policy.yaml"
    config.write_text("parity:\n  waivers:\n    - key: 'component:*'\n      system: deploy/k8s\n"
                      "      justification: staging runs without the cluster add-ons (ML-1)\n")
    data = json.loads(CliRunner().invoke(main, ["parity", "--format", "json", "--config", str(config),
                                                str(FIXTURE)]).output)
    assert data["summary"]["waived"] == 3


def test_scan_findings_point_at_production_with_the_pilot_as_related_location() -> None:
    result = CliRunner().invoke(main, ["scan", "--no-cache", "--format", "sarif", "--select", PARITY_RULES,
                                       "--fail-on", "never", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    results = json.loads(result.output)["runs"][0]["results"]
    stores = [r for r in results if r["ruleId"] == "PFA-OP-201"
              and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("prod/api.yaml")]
    # The staging overlay and the compose pilot both run SQLite where production runs PostgreSQL.
    assert sorted(r["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in stores) == [
        "deploy/k8s/overlays/staging/api.yaml", "docker-compose.yml"]
    store = next(r for r in stores if "staging" in r["relatedLocations"][0]["message"]["text"])
    assert store["locations"][0]["physicalLocation"]["region"]["startLine"] == 15
    related = store["relatedLocations"][0]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "deploy/k8s/overlays/staging/api.yaml"
    assert related["message"]["text"] == "staging: sqlite" and related["id"] == 1
    assert "staging has sqlite (deploy/k8s/overlays/staging/api.yaml:13)" in store["message"]["text"]
    assert len(results) == 18
