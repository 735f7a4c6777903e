"""SARIF output: valid against the official 2.1.0 schema, shaped for GitHub, byte-identical across runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from pfa_policy.cli import main
from tests.conftest import REPO_ROOT, SARIF_SCHEMA, write_tree

_APP = """import pickle
import requests
from unittest import mock


def load(path):
    with open(path, "rb") as handle:
        return pickle.load(handle)


def features(user):
    return requests.get(f"https://fs.internal/{user}", verify=False).json()  # pfa-policy: ignore[PFA-OP-003] deadline
"""


def _validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))


def _scan(root: Path, output: Path, *extra: str) -> int:
    result = CliRunner().invoke(main, ["scan", str(root), "--format", "sarif", "--output", str(output), *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code


def _targets() -> list[Path]:
    return [p for p in sorted((REPO_ROOT / "fixtures").glob("*")) if p.is_dir()]


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "repo", {"serving/app.py": _APP, "README.md": "# sample\n"})


def test_sarif_is_valid_and_deterministic(sample: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.sarif", tmp_path / "b.sarif"
    assert _scan(sample, first) in (0, 1)
    assert _scan(sample, second, "--jobs", "2") in (0, 1)
    assert first.read_bytes() == second.read_bytes()
    document = json.loads(first.read_text(encoding="utf-8"))
    errors = [e.message for e in _validator().iter_errors(document)]
    assert errors == []
    _assert_github_shape(document)


@pytest.mark.parametrize("fixture", _targets(), ids=lambda p: p.name)
def test_fixture_sarif_is_valid(fixture: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.sarif"
    _scan(fixture, output)
    document = json.loads(output.read_text(encoding="utf-8"))
    assert [e.message for e in _validator().iter_errors(document)] == []
    _assert_github_shape(document)
    again = tmp_path / "again.sarif"
    _scan(fixture, again)
    assert output.read_bytes() == again.read_bytes()


def _assert_github_shape(document: dict[str, Any]) -> None:
    assert document["version"] == "2.1.0"
    assert len(document["runs"]) == 1
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "pfa-policy"
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and rule["help"]["markdown"]
        properties = rule["properties"]
        assert properties["pillar"] in properties["tags"]
        assert len(properties["tags"]) <= 10
        if "security-severity" in properties:
            assert "security" in properties["tags"]
            assert 0.0 < float(properties["security-severity"]) <= 10.0
        else:
            assert "security" not in properties["tags"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    assert "results" in run
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        assert len(result["locations"]) == 1
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        assert not uri.startswith(("/", "./", "file:")) and "\\" not in uri
        assert location["region"]["startLine"] >= 1
        assert result["partialFingerprints"]["pfaPolicy/v1"]


def test_suppressed_result_carries_its_justification(sample: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.sarif"
    _scan(sample, output)
    results = json.loads(output.read_text(encoding="utf-8"))["runs"][0]["results"]
    suppressed = [r for r in results if r.get("suppressions")]
    assert [(r["ruleId"], r["suppressions"]) for r in suppressed] == [
        ("PFA-OP-003", [{"kind": "inSource", "status": "accepted", "justification": "deadline"}])
    ]


def test_unparsable_file_is_a_tool_notification(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", {"serving/app.py": "import requests\ndef broken(:\n"})
    output = tmp_path / "out.sarif"
    _scan(root, output)
    invocation = json.loads(output.read_text(encoding="utf-8"))["runs"][0]["invocations"][0]
    notes = invocation["toolExecutionNotifications"]
    assert notes[0]["level"] == "error"
    assert notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "serving/app.py"
    assert notes[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
