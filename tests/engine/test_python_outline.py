"""One `ast` walk answers every Python check: no first look decides which modules a second tree must parse.

Every Python rule and fact runs on every Python example of the catalogue, the fixtures and this repository's
own code without an error; names, literals and imports read off the tree as libcst's index read them (the
values below are what the libcst implementation gave)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from pfa_policy.engine import predicates
from pfa_policy.engine.compiled import TokenScanner
from pfa_policy.engine.loader import load_catalog
from pfa_policy.engine.python_match import match_python
from pfa_policy.engine.values import UNKNOWN
from pfa_policy.model import Span
from pfa_policy.parsers.python import PythonFile, literal_value, parse_python
from pfa_policy.policy import Layer, combine
from tests.conftest import REPO_ROOT

_CATALOG = load_catalog()
_POLICY = combine(_CATALOG, [Layer({"name": "all", "rules": {"include": ["*"]}}, "<test>", REPO_ROOT)])


def _python_matchers() -> Iterator[tuple[str, Any, Mapping[str, Any]]]:
    for key, matcher in sorted(_CATALOG.matchers.items()):
        if matcher.python:
            yield key, matcher, _POLICY.params.get(key, {})


def _corpus() -> Iterator[Any]:
    for rule in _CATALOG.rules.values():
        for kind, examples in (("invalid", rule.invalid_examples), ("valid", rule.valid_examples)):
            for position, example in enumerate(examples):
                files = {example.path: example.code, **dict(example.files)}
                for name, code in files.items():
                    if name.endswith(".py") and isinstance(code, str):
                        yield pytest.param(code, dict(example.params), id=f"{rule.id}/{kind}-{position}/{name}")
    for directory in ("fixtures", "pfa_policy", "tests", "benchmarks"):
        for path in sorted((REPO_ROOT / directory).rglob("*.py")):
            if ".work" not in path.parts:
                yield pytest.param(path.read_text(encoding="utf-8"), {}, id=str(path.relative_to(REPO_ROOT)))


@pytest.mark.parametrize(("source", "example_params"), list(_corpus()))
def test_every_python_check_runs_on_the_one_tree(source: str, example_params: Mapping[str, Any]) -> None:
    file = PythonFile(parse_python(source), source)
    for key, matcher, params in _python_matchers():
        for hit in match_python(matcher.python, file, {**params, **example_params}, predicates.PYTHON):
            assert 1 <= hit.span.line <= (hit.span.end_line or hit.span.line), key
            assert hit.span.column >= 1, key


def test_names_resolve_through_imports_and_bindings() -> None:
    source = (
        "import requests as rq\nfrom yaml import load as yload\nimport os.path\n\n"
        "class Client:\n    def __init__(self):\n        self.session = rq.Session()\n\n"
        "    def fetch(self, url):\n        return self.session.get(url)\n"
    )
    index = PythonFile(parse_python(source), source).index
    assert [index.qualify(raw) for raw in ("rq.get", "yload", "os.path.join", "self.session.get", "Client")] == [
        "requests.get", "yaml.load", "os.path.join", "requests.Session().get", "Client"]


@pytest.mark.parametrize(("expression", "expected"), [
    ("'plain'", "plain"),
    ("b'\\xe9t\\xe9'", "\u00e9t\u00e9"),
    ("-3", -3),
    ("-2.5", -2.5),
    ("True", True),
    ("None", None),
    ("f'http://{host}/v1'", "http://{}/v1"),
    ("f'line\\n{x}'", "line\\n{}"),  # escapes as written, not decoded
    ("f'{{{{ ds }}}}/{x}'", "{{{{ ds }}}}/{}"),  # doubled braces as written
    ("f'{x!r:>{width}}.'", "{}."),  # a field's format spec is part of the field
    ("'http://' f'{host}'", UNKNOWN),  # an implicit concatenation with an f-string has no literal value
    ("'a' 'b'", "ab"),
    ("-True", UNKNOWN),
    ("1j", UNKNOWN),
    ("...", UNKNOWN),
    ("name", UNKNOWN),
])
def test_literals_are_libcsts(expression: str, expected: object) -> None:
    source = f"value = {expression}\n"
    file = PythonFile(parse_python(source), source)
    (assignment,) = [a for a in file.index.assignments if a.target == "value"]
    assert literal_value(assignment.value) == expected or literal_value(assignment.value) is expected


def test_a_module_with_only_look_alikes_has_no_python_hits() -> None:
    from pfa_policy.engine.runner import build_plan

    plan = build_plan(_CATALOG, _POLICY, frozenset())
    clean = (
        "import logging\nimport requests\nimport yaml\n\nlogger = logging.getLogger(__name__)\n\n\n"
        "def fetch(url: str, payload: dict) -> dict:\n"
        "    response = requests.get(url, params=payload, timeout=5)\n"
        "    response.raise_for_status()\n    return response.json()\n\n\n"
        "def settings(path: str) -> dict:\n    with open(path) as handle:\n        return yaml.safe_load(handle)\n"
    )
    present = TokenScanner.for_matchers(c.matcher for c in plan.checks).present(clean.lower())
    python_checks = [c for c in plan.checks if c.matcher.python and c.matcher.admits(present)]
    assert {"PFA-OP-003", "PFA-AC-013"} <= {c.key for c in python_checks}  # the text pre-filter lets them in

    def hits(source: str) -> dict[str, int]:
        file = PythonFile(parse_python(source), source)
        found = {c.key: len(list(match_python(c.matcher.python, file, c.params, predicates.PYTHON)))
                 for c in python_checks if not c.key.startswith("fact:")}
        return {key: count for key, count in found.items() if count}

    assert "PFA-OP-003" not in hits(clean) and "PFA-AC-013" not in hits(clean)
    assert hits(clean.replace("timeout=5", "verify=True")).get("PFA-OP-003") == 1


def test_import_anchors_keep_the_semicolon_libcst_gave_them() -> None:
    source = "import os\n\nclass Trainer:\n    def fit(self):\n        import mlflow ;  x = 1\n\n\nimport mlflow\n"
    matcher = _CATALOG.matchers["fact:dg-lineage-tracking"]
    file = PythonFile(parse_python(source), source)
    assert [(h.span, h.anchor) for h in match_python(matcher.python, file, {}, predicates.PYTHON)] == [
        (Span(5, 9, 5, 24), "import@Trainer.fit:importmlflow;"), (Span(8, 1, 8, 14), "import@:importmlflow")]


@pytest.mark.parametrize(("source", "second"), [
    ("import os\rimport mlflow\r", Span(1, 11, 1, 24)),  # a lone carriage return: located by its text
    ("import os\r\nimport mlflow\r\n", Span(2, 1, 2, 14)),
])
def test_carriage_returns_give_libcsts_positions(source: str, second: Span) -> None:
    file = PythonFile(parse_python(source), source)
    assert [(file.span_of(node), file.code_of(node)) for node, _, _ in file.index.imports] == [
        (Span(1, 1, 1, 10), "importos"), (second, "importmlflow")]
