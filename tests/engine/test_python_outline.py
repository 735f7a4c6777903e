"""The `ast` first look may only ever say "cannot hit" when libcst's full match finds nothing, and what it
answers itself (plain import patterns) is exactly what libcst's path reports.

Checked on every Python example of the catalogue, the fixtures and this repository's own code, for every
Python rule and fact with its default parameters (and each example's own)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import libcst as cst
import pytest

from pfa_policy.engine import predicates
from pfa_policy.engine.compiled import TokenScanner
from pfa_policy.engine.loader import load_catalog
from pfa_policy.engine.python_match import match_python
from pfa_policy.engine.values import MAYBE
from pfa_policy.engine.worker import _first_look
from pfa_policy.parsers.python import PythonFile, literal_value, parse_python
from pfa_policy.parsers.python_outline import build_outline
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
def test_the_first_look_never_hides_a_hit(source: str, example_params: Mapping[str, Any]) -> None:
    outline = build_outline(source)
    assert outline is not None
    file = PythonFile(parse_python(source), source)
    for key, matcher, params in _python_matchers():
        merged = {**params, **example_params}
        hits = list(match_python(matcher.python, file, merged, predicates.PYTHON))
        if hits:
            assert matcher.could_match_python(outline, merged, predicates.PYTHON_POSSIBLE), (key, hits[0])
        answered = matcher.outline_hits(outline, merged, predicates.PYTHON_POSSIBLE)
        if answered is not None:  # read off the outline instead of libcst: must be the very same hits
            assert answered == hits, key


def test_the_outline_resolves_names_like_the_index() -> None:
    source = (
        "import requests as rq\nfrom yaml import load as yload\nimport os.path\n\n"
        "class Client:\n    def __init__(self):\n        self.session = rq.Session()\n\n"
        "    def fetch(self, url):\n        return self.session.get(url)\n"
    )
    outline = build_outline(source)
    index = PythonFile(parse_python(source), source).index
    assert outline is not None
    for raw in ("rq.get", "yload", "os.path.join", "self.session.get", "Client"):
        assert outline.qualify(raw) == index.qualify(raw)
    assert outline.qualify("self.session.get") == "requests.Session().get"


@pytest.mark.parametrize(("expression", "expected"), [
    ("'plain'", "plain"),
    ("b'\\xe9t\\xe9'", "\u00e9t\u00e9"),
    ("-3", -3),
    ("f'http://{host}/v1'", "http://{}/v1"),
    ("f'line\\n{x}'", MAYBE),  # libcst keeps the escape as written, CPython decodes it
    ("f'{{{{ ds }}}}/{x}'", "{{{{ ds }}}}/{}"),  # libcst keeps doubled braces as written
    ("name", None),
])
def test_literals_agree_with_libcst_or_say_maybe(expression: str, expected: object) -> None:
    outline = build_outline(f"value = {expression}\n")
    assert outline is not None
    (value,) = [node for target, node in outline.assignments if target == "value"]
    result = outline.literal(value)
    if expected is None:
        assert result is not MAYBE and not isinstance(result, (str, int))
    elif expected is MAYBE:
        assert result is MAYBE
    else:
        assert result == expected
        assert literal_value(cst.parse_expression(expression)) == expected  # what libcst makes of it


def test_a_module_with_only_look_alikes_is_not_parsed_by_libcst() -> None:
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
    assert _first_look(python_checks, clean) == ([], {}, True)
    violation = clean.replace("timeout=5", "verify=True")
    assert "PFA-OP-003" in [c.key for c in _first_look(python_checks, violation)[0]]


def test_imports_of_tracked_libraries_are_answered_without_libcst() -> None:
    from pfa_policy.engine.runner import build_plan

    plan = build_plan(_CATALOG, _POLICY, frozenset())
    source = "import os\n\nclass Trainer:\n    def fit(self):\n        import mlflow ;  x = 1\n\n\nimport mlflow\n"
    lineage = [c for c in plan.checks if c.key == "fact:dg-lineage-tracking"]
    assert _first_look(lineage, source)[1] == {}  # `import mlflow ;`: libcst's code includes the `;`
    kept, answered, _ = _first_look(lineage, source.replace(" ;  x = 1", ""))
    assert [c.key for c in kept] == ["fact:dg-lineage-tracking"]
    assert [(h.span.line, h.anchor) for h in answered["fact:dg-lineage-tracking"]] == [
        (5, "import@Trainer.fit:importmlflow"), (8, "import@:importmlflow")]


def test_a_carriage_return_line_break_leaves_imports_to_libcst() -> None:
    outline = build_outline("import os\rimport mlflow\r")  # the engine normalises these; the outline copes
    assert outline is not None
    assert [outline.statement_code(site.node) for site in outline.import_sites] == ["importos", None]
