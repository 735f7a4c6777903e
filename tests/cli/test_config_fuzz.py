"""Deterministic fuzzing of what users write: policies, pyproject.toml configurations and rule files, each
mutated many ways (wrong types, nulls, huge numbers, deep nesting, unicode, broken YAML/TOML, duplicate keys,
stray bytes) and fed to the CLI. Whatever the value, the answer is an exit code of 0, 1 or 2 and one-line
errors: never a traceback, never `internal error`."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from pfa_policy.cli import main

SEED = 20261203

_POLICY: dict[str, Any] = {
    "name": "team-ml",
    "extends": "production",
    "fail_on": "warning",
    "rules": {"include": ["*"], "extend_include": ["PFA-OP-*"], "exclude": ["tag:strict-only", "PFA-CI-005"]},
    "severity": {"PFA-OP-003": "error"},
    "params": {"PFA-DG-002": {"max_size_mb": 20, "extensions": [".csv", ".pt"]}},
    "scopes": {"production": ["services/**"], "dev": ["sandbox/**"]},
    "exclude": ["vendor/**"],
    "exceptions": [{"rules": ["PFA-AC-001"], "paths": ["deploy/legacy/**"],
                    "justification": "Legacy batch image runs as root until the Q1 migration",
                    "expires": "2027-03-31", "approved_by": "platform"}],
}

_RULE: dict[str, Any] = {
    "id": "TEAM-OPS-001", "name": "no-print", "pillar": "operability", "severity": "warning",
    "confidence": "medium", "tags": ["team"], "targets": ["python"], "scopes": ["production"],
    "message": "`{name}` in {path}: use {param.logger}", "fix": "Use logging.",
    "params": {"logger": {"description": "The logger.", "type": "string", "default": "structlog"}},
    "docs": {"what": "a", "why": "b", "example": "c", "instead": "d"},
    "references": [{"title": "t", "url": "https://example.com"}],
    "match": {"python": [{"call": ["print"], "keyword_absent": ["file"], "outside_main_guard": True}]},
    "examples": {"invalid": [{"path": "job.py", "code": "print(1)\n", "lines": [1], "params": {"logger": "x"}}],
                 "valid": [{"path": "ok.py", "code": "x = 1\n"}]},
}

_DOCUMENT_RULE: dict[str, Any] = {
    **_RULE, "id": "TEAM-AC-001", "name": "privileged", "pillar": "access-control", "targets": ["kubernetes"],
    "message": "`{resource}` sets `{path}: {value}`",
    "params": {"names": {"description": "Names.", "type": "array", "items": {"type": "string"}, "default": ["a"]}},
    "match": {"document": [{"kinds": ["Deployment"], "api_versions": ["apps/*"], "for_each": "$containers",
                            "where": [{"path": "securityContext.privileged", "equals": True},
                                      {"not": {"path": "name", "param_one_of": "names"}},
                                      {"any": [{"path": "image", "matches": ":latest$"},
                                               {"path": "x", "missing": True}]}],
                            "report": "securityContext.privileged"}]},
    "examples": {"invalid": [{"path": "k8s/d.yaml", "lines": [7], "code": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n"
        "      containers: [{name: c, image: 'x:latest', securityContext: {privileged: true}}]\n")}],
        "valid": [{"path": "k8s/ok.yaml", "code": "apiVersion: v1\nkind: Service\n"}]},
}

_REPOSITORY_RULE: dict[str, Any] = {
    **_RULE, "id": "TEAM-CI-001", "name": "no-ci", "pillar": "cicd", "targets": ["repository"],
    "message": "no CI ({looked_for})", "params": {},
    "match": {"repository": {"require": [{"files": ["**/*.py"]}, {"no_files": [".github/workflows/*.y*ml"]},
                                         {"no_fact": "serving-app", "scopes": ["production"]}]}},
    "examples": {"invalid": [{"path": "a.py", "code": "x = 1\n", "lines": [1]}],
                 "valid": [{"path": "b.txt", "code": ""}]},
}

_WEIRD: list[Any] = [
    None, True, 0, -1, 10**30, -(10**400), 1.5e308, float("inf"), float("nan"), "", " ", "ü\u202e漢字🙂",
    "\x7f\u0085\u2028", "a" * 5000, "{nope}", "*", "[", "/abs/**", "sub\\x", "2025-02-30", "31/03/2027",
    "(?P<", "a{99999}", "a{1,99999999999}", "(a+)+$", "[z-a]", "**/*.py", "pfa-op-003", "$bogus", "$pod.x",
    [], [[[[]]]], [None], [1, "a", None], {}, {"": None}, {"x": {"y": [1]}}, {"PFA-OP-003": []},
    ["tag:", "pillar:", "PFA-", "PFA-OP-003", "pfa-op-003"],
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _mutate(data: Any, rng: random.Random) -> Any:
    """A copy of `data` with one to three changes at random places."""
    data = json.loads(json.dumps(data))
    for _ in range(rng.randint(1, 3)):
        path = rng.choice([p for p in _paths(data) if p])
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        choice = rng.random()
        if choice < 0.35:  # the same type, an odd value: it passes the schema and reaches the deeper checks
            parent[key] = _same_type(parent[key], rng)
        elif choice < 0.55:
            parent[key] = rng.choice(_WEIRD)
        elif choice < 0.7:
            parent[key] = _nest(rng.randint(20, 120))
        elif choice < 0.85 and isinstance(parent, dict):
            del parent[key]
        elif isinstance(parent, dict):
            parent[rng.choice(["unknown", "Extends", "rules ", "ñ", "1"])] = rng.choice(_WEIRD)
        else:
            parent[key] = [parent[key], parent[key]]
    return data


def _same_type(value: Any, rng: random.Random) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return rng.choice([0, -1, 2**63, 10**400, 7])
    if isinstance(value, float):
        return rng.choice([0.0, -1e308, 1e-300])
    if isinstance(value, str):
        return rng.choice([w for w in _WEIRD if isinstance(w, str) and w]) + rng.choice(["", value])
    if isinstance(value, list):
        return rng.choice([[], value * 3, [*value, rng.choice(_WEIRD)], value[::-1]])
    if isinstance(value, dict):
        return rng.choice([{}, {**value, rng.choice(["PFA-XX-001", "pfa-op-003", "x"]): rng.choice(_WEIRD)}])
    return value


def _nest(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value] if depth % 2 else {"k": value}
    return value


def _yaml_text(data: Any, rng: random.Random) -> bytes:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=rng.choice([80, 10**6]))
    roll = rng.random()
    if roll < 0.08:  # a key given twice
        first = text.splitlines()[0]
        text = f"{text}{first}\n"
    elif roll < 0.16:  # broken YAML
        cut = rng.randrange(len(text))
        text = text[:cut] + rng.choice(["\t", ": : ", "[", "{", "'", "&a", "*b", "!!python/object:os.system ", "%"]) \
            + text[cut:]
    elif roll < 0.2:
        return b"\xff\xfe" + text.encode("utf-16-le")
    elif roll < 0.24:
        return text.encode("utf-8")[: rng.randrange(1, len(text))] + b"\x80\xc3"
    elif roll < 0.27:
        text = "---\n" + text + "---\n" + text
    elif roll < 0.3:
        text = "a: &x [*x]\n" if rng.random() < 0.5 else "- 1\n- 2\n"
    elif roll < 0.34:  # deeper than any parser should follow
        depth = rng.choice([300, 5000])
        text += f"deep: {'[' * depth}{']' * depth}\n"
    return text.encode("utf-8")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(repr(value), repr(value))
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None) + "}"
    return '""'


def _toml_text(data: Any, rng: random.Random) -> bytes:
    lines = ['[project]\nname = "churn"\n', "[tool.pfa-policy]"]
    tables = []
    for key, value in (data.items() if isinstance(data, dict) else []):
        if value is None:
            continue
        if isinstance(value, dict) and rng.random() < 0.5:
            tables.append(f"\n[tool.pfa-policy.{json.dumps(key)}]")
            tables += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value) and rng.random() < 0.5:
            for item in value:
                tables.append(f"\n[[tool.pfa-policy.{json.dumps(key)}]]")
                tables += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in item.items() if v is not None]
        else:
            lines.append(f"{json.dumps(key)} = {_toml_value(value)}")
    text = "\n".join(lines + tables) + "\n"
    if rng.random() < 0.15:
        cut = rng.randrange(len(text))
        text = text[:cut] + rng.choice(["[", "=", '"', "\n[tool.pfa-policy]\n", "a = 1\na = 2\n"]) + text[cut:]
    return text.encode("utf-8")


def _policy_case(rng: random.Random, tmp_path: Path) -> list[str]:
    data = _mutate(_POLICY, rng)
    target = tmp_path / rng.choice(["team.yaml", ".pfa-policy.yaml"])
    target.write_bytes(_yaml_text(data, rng))
    if target.name == "team.yaml":
        return ["policy", "validate", str(target)]
    if rng.random() < 0.7:
        return ["config", str(tmp_path)]
    # A few whole scans: values the checks let through reach the engine.
    (tmp_path / "services").mkdir()
    (tmp_path / "services" / "app.py").write_text("import requests\nrequests.get('http://x')\n")
    return ["scan", str(tmp_path), "--no-cache", "--jobs", "1", "--no-progress"]


def _pyproject_case(rng: random.Random, tmp_path: Path) -> list[str]:
    config = {("policy" if k == "extends" else k): v for k, v in _POLICY.items()}
    (tmp_path / "pyproject.toml").write_bytes(_toml_text(_mutate(config, rng), rng))
    return rng.choice([["policy", "validate", str(tmp_path / "pyproject.toml")], ["config", str(tmp_path)]])


def _rule_case(rng: random.Random, tmp_path: Path) -> list[str]:
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    base = rng.choice([_RULE, _DOCUMENT_RULE, _REPOSITORY_RULE])
    (rules / f"{base['id']}.yaml").write_bytes(_yaml_text(_mutate(base, rng), rng))
    # `rules test` also runs the examples through the engine.
    return ["rules", "test" if rng.random() < 0.2 else "list", *([] if rng.random() < 0.25 else ["--rules"]),
            str(rules)]


_CASES: list[tuple[str, Callable[[random.Random, Path], list[str]], int]] = [
    ("policy", _policy_case, 26), ("pyproject", _pyproject_case, 14), ("rule", _rule_case, 18)]


@pytest.mark.parametrize(("kind", "make", "count"), _CASES, ids=[c[0] for c in _CASES])
def test_mutated_files_never_crash_the_cli(tmp_path: Path, kind: str, make: Callable[[random.Random, Path],
                                                                                    list[str]], count: int) -> None:
    rng = random.Random(f"{SEED}-{kind}")
    runner = CliRunner()
    exits = set()
    for case in range(count):
        workdir = tmp_path / str(case)
        workdir.mkdir()
        args = make(rng, workdir)
        result = runner.invoke(main, args)
        where = f"{kind} case {case}: {args}\n{result.output[-2000:]}"
        assert result.exit_code in (0, 1, 2), where
        assert result.exception is None or isinstance(result.exception, SystemExit), where
        assert "internal error" not in result.output and "Traceback" not in result.output, where
        if result.exit_code == 2:
            errors = [line for line in result.output.splitlines() if line.startswith("pfa-policy: error: ")]
            assert errors and all(len(line) < 1200 for line in errors), where
        exits.add(result.exit_code)
    assert 2 in exits  # the mutations do reach the checks


def test_the_unmutated_files_are_valid(tmp_path: Path) -> None:
    policy = tmp_path / "team.yaml"
    policy.write_text(yaml.safe_dump(_POLICY))
    assert CliRunner().invoke(main, ["policy", "validate", str(policy)]).exit_code == 0
    (tmp_path / "rules").mkdir()
    for rule in (_RULE, _DOCUMENT_RULE, _REPOSITORY_RULE):
        (tmp_path / "rules" / f"{rule['id']}.yaml").write_text(yaml.safe_dump(rule))
    result = CliRunner().invoke(main, ["rules", "test", str(tmp_path / "rules")])
    assert result.exit_code == 0, result.output
