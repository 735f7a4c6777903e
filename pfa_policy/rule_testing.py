"""A rule file's own examples, run through the real engine (`pfa-policy rules test`, like `semgrep --test`; the
test-suite runs the built-in rules' examples the same way): an invalid example must report exactly the lines it
lists, a valid one nothing."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pfa_policy.engine.loader import Catalog, load_catalog, rule_files
from pfa_policy.engine.rule import Example, Rule, placeholders
from pfa_policy.engine.runner import ScanOptions, scan
from pfa_policy.model import PfaError
from pfa_policy.policy import Layer, combine

Location = tuple[str, int]  # (path, line)


@dataclass(frozen=True)
class Case:
    rule: Rule
    label: str  # "invalid-0", "valid-1": kind and position in the rule file
    example: Example

    @property
    def name(self) -> str:
        return f"{self.rule.id}/{self.label}"


@dataclass(frozen=True)
class Outcome:
    case: Case
    expected: tuple[Location, ...]
    reported: tuple[Location, ...]
    errors: tuple[str, ...] = ()  # internal errors of the engine while it ran the example

    @property
    def passed(self) -> bool:
        return self.reported == self.expected and not self.errors

    def describe(self) -> str:
        """`ok  ID/label`, or `FAIL  ID/label: expected ...; reported ...` naming every line."""
        if self.passed:
            return f"ok    {self.case.name}"
        problems = [f"expected {_locations(self.expected)}; reported {_locations(self.reported)}"]
        problems += self.errors
        return f"FAIL  {self.case.name}: {'; '.join(problems)}"


def _locations(locations: tuple[Location, ...]) -> str:
    return ", ".join(f"{path}:{line}" for path, line in locations) or "nothing"


def cases(rules: Iterable[Rule]) -> list[Case]:
    return [Case(rule, f"{kind}-{position}", example)
            for rule in rules
            for kind, examples in (("invalid", rule.invalid_examples), ("valid", rule.valid_examples))
            for position, example in enumerate(examples)]


def run_case(catalog: Catalog, case: Case, workdir: Path, *, placeholders_filled: bool = False) -> Outcome:
    """Write the example's files into the empty `workdir` and scan it with the rule alone enabled. With
    `placeholders_filled`, a finding whose message still shows one of the rule's `{placeholders}` fails too
    (an escape-hatch predicate that yields no such value; declarative matches are checked at load)."""
    example, rule = case.example, case.rule
    for relative, code in ((example.path, example.code), *example.files):
        target = workdir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code, encoding="utf-8")
    data = {"name": "rule-examples", "fail_on": "never", "rules": {"include": [rule.id]},
            "params": {rule.id: dict(example.params)} if example.params else {}}
    policy = combine(catalog, [Layer(data, "<rule examples>", workdir)])
    result = scan(catalog, policy, ScanOptions(workdir, jobs=1))
    reported = tuple(sorted((f.path, f.span.line) for f in result.findings if f.rule_id == rule.id))
    errors = tuple(f"{n.path}: {n.message}" for n in result.notifications if "internal error" in n.message)
    if placeholders_filled:
        errors += tuple(sorted({f"message placeholder {{{name}}} left unfilled" for finding in result.findings
                                if finding.rule_id == rule.id for name in placeholders(rule.message)
                                if f"{{{name}}}" in finding.message}))
    return Outcome(case, tuple(sorted((example.path, line) for line in example.lines)), reported, errors)


def check_rule_path(path: Path) -> list[Outcome]:
    """Every example of every rule defined in the file or directory `path` (loaded beside the built-in rules,
    whose facts it may use)."""
    catalog = load_catalog([path])
    sources = {file.resolve() for file in rule_files([path])}
    rules = [rule for rule in catalog.rules.values() if Path(rule.source).resolve() in sources]
    if not rules:
        raise PfaError("no rule defined here", path=str(path))
    outcomes = []
    for case in cases(rules):
        with tempfile.TemporaryDirectory(prefix="pfa-policy-example-") as workdir:
            outcomes.append(run_case(catalog, case, Path(workdir), placeholders_filled=True))
    return outcomes
