"""The catalogue's validated rule files are kept between runs, never at the cost of a stale or wrong rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pfa_policy.engine.loader import load_catalog
from pfa_policy.model import PfaError
from tests.conftest import write_tree

_RULE = """id: TEAM-TX-001
name: todo-in-config
pillar: operability
severity: {severity}
targets: [text]
message: "a TODO is left in the configuration"
fix: "Resolve it."
docs: {{what: Flags TODO lines., why: Testing., example: TODO, instead: done}}
match:
  text:
    - line:
        matches: "TODO"
examples:
  invalid:
    - path: notes.txt
      code: "TODO\\n"
      lines: [1]
  valid:
    - path: notes.txt
      code: "done\\n"
"""


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / "catalog").glob("*.json"))


def test_a_kept_catalogue_equals_the_one_read_from_the_files(tmp_path: Path) -> None:
    rules = write_tree(tmp_path / "rules", {"TEAM-TX-001.yaml": _RULE.format(severity="warning")})
    cache = tmp_path / "cache"
    read = load_catalog([rules], cache_dir=cache)
    assert len(_entries(cache)) == 1
    kept = load_catalog([rules], cache_dir=cache)
    plain = load_catalog([rules])
    assert kept.rules == read.rules == plain.rules
    assert kept.facts == plain.facts and kept.repository == plain.repository
    assert kept.matchers == plain.matchers


def test_an_edited_rule_file_is_read_again(tmp_path: Path) -> None:
    rules = write_tree(tmp_path / "rules", {"TEAM-TX-001.yaml": _RULE.format(severity="warning")})
    cache = tmp_path / "cache"
    assert load_catalog([rules], cache_dir=cache).rules["TEAM-TX-001"].severity.label == "warning"
    (rules / "TEAM-TX-001.yaml").write_text(_RULE.format(severity="error"))
    assert load_catalog([rules], cache_dir=cache).rules["TEAM-TX-001"].severity.label == "error"
    (rules / "TEAM-TX-001.yaml").write_text(_RULE.format(severity="sometimes"))
    with pytest.raises(PfaError) as caught:
        load_catalog([rules], cache_dir=cache)
    assert caught.value.path == str(rules / "TEAM-TX-001.yaml") and caught.value.line == 4
    (rules / "TEAM-TX-001.yaml").unlink()
    assert "TEAM-TX-001" not in load_catalog([rules], cache_dir=cache).rules


@pytest.mark.parametrize("damage", ["{truncated", "[]", '{"key": "another", "files": {}}', "wrong-data"])
def test_a_damaged_entry_is_ignored(tmp_path: Path, damage: str) -> None:
    rules = write_tree(tmp_path / "rules", {"TEAM-TX-001.yaml": _RULE.format(severity="warning")})
    cache = tmp_path / "cache"
    expected = load_catalog([rules], cache_dir=cache).rules
    entry = _entries(cache)[0]
    if damage == "wrong-data":
        raw = json.loads(entry.read_text())
        for data in raw["files"].values():
            data.pop("match", None)  # would fail to build: the files are read again
        entry.write_text(json.dumps(raw))
    else:
        entry.write_text(damage)
    assert load_catalog([rules], cache_dir=cache).rules == expected
