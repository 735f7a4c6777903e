"""Rule and fact files -> a validated, compiled catalogue. Every problem names its file and line."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pfa_policy.engine import catalog_cache, predicates
from pfa_policy.engine.catalog_cache import catalog_key
from pfa_policy.engine.classify import CI_KINDS, STRUCTURED_KINDS, YAML_REFINEMENTS
from pfa_policy.engine.compiled import FileMatcher
from pfa_policy.engine.globs import glob_problem
from pfa_policy.engine.params import param_problems, param_validator
from pfa_policy.engine.rule import Docs, Example, FactDefinition, Reference, Rule, placeholders
from pfa_policy.engine.validation import (
    explain,
    format_location,
    line_of,
    load_data_file,
    one_line,
    parse_trusted_data_file,
)
from pfa_policy.lazy import lazy_module
from pfa_policy.model import PfaError, Severity, Span
from pfa_policy.parsers.tree import Node
from pfa_policy.resources import builtin_dir, is_shipped
from pfa_policy.suggest import did_you_mean

if TYPE_CHECKING:
    import jsonschema
else:
    jsonschema = lazy_module("jsonschema")  # executed on first use: a warm scan validates no schema

_ALLOWED_TARGETS: dict[str, frozenset[str]] = {
    "python": frozenset({"python", "notebook"}),
    "document": STRUCTURED_KINDS,
    "dockerfile": frozenset({"dockerfile"}),
    "text": frozenset({"text", "requirements", "pyproject", "dvc-config", "dockerfile", "python", "yaml", "json",
                       "kubernetes", "kserve", "seldon", "github-workflow", "gitlab-ci", "compose",
                       "cloudformation", "helm-values", "mlproject", "dvc", "bentofile", "notebook", "terraform"})
            | CI_KINDS | YAML_REFINEMENTS,
    "repository": frozenset({"repository"}),
}


@dataclass(frozen=True, slots=True)
class RepositoryMatch:
    require: tuple[Mapping[str, Any], ...]
    report_fact: str
    predicate: str
    report_per_module: bool = False  # one finding per Python module, at its first occurrence of the fact


@dataclass(frozen=True)
class Catalog:
    rules: Mapping[str, Rule]
    facts: Mapping[str, FactDefinition]
    matchers: Mapping[str, FileMatcher]  # by rule id, and by "fact:<name>"
    repository: Mapping[str, RepositoryMatch]


def rule_files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise PfaError("rule path does not exist", path=str(path))
    return found


def load_catalog(extra: Sequence[Path] = (), *, builtin: bool = True, cache_dir: Path | None = None) -> Catalog:
    """The rules and facts of the built-in catalogue and `extra` files or directories. With `cache_dir`, the
    validated data of unchanged rule files is read from there (catalog_cache), and kept for the next run."""
    paths = ([builtin_dir("rules")] if builtin else []) + list(extra)
    files = _distinct(rule_files(paths))
    if cache_dir is None:
        return _build(files, _validated_now)
    key = catalog_key(files)
    kept = catalog_cache.load(cache_dir, key)
    if kept is not None:
        try:
            # Kept entries passed every check when they were stored: the parameter schemas (jsonschema) and
            # the predicate names (which would import every predicate module) are not checked again.
            return _build(files, lambda path, definition: (kept[str(path)], _NO_POSITIONS), checked=True)
        except Exception:  # an entry that does not build (it cannot, unless tampered with): read the files
            pass
    validated: dict[str, dict[str, Any]] = {}

    def read(path: Path, definition: str | None) -> tuple[dict[str, Any], Node]:
        data, root = _validated_now(path, definition)
        validated[str(path)] = data
        return data, root

    catalog = _build(files, read)
    catalog_cache.store(cache_dir, key, validated)
    return catalog


# Positions are only ever needed to report a problem, and a kept entry was built without one.
_NO_POSITIONS = Node({}, Span(1, 1, 1, 1))
_Read = Callable[[Path, "str | None"], tuple[dict[str, Any], Node]]


def _validated_now(path: Path, definition: str | None) -> tuple[dict[str, Any], Node]:
    if is_shipped(path, "rules"):
        # A wheel's own rule files passed the schema in the test suite; a cold start need not check them again,
        # nor keep the positions that only a problem would need.
        return parse_trusted_data_file(path), _NO_POSITIONS
    return load_data_file(path, "rule.schema.yaml", definition)


def _distinct(files: list[Path]) -> list[Path]:
    """Each file once: `--rules rules/` beside the built-in catalogue names the same files twice."""
    seen: set[Path] = set()
    distinct = []
    for path in files:
        if path.resolve() not in seen:
            seen.add(path.resolve())
            distinct.append(path)
    return distinct


def _build(files: list[Path], read: _Read, *, checked: bool = False) -> Catalog:
    rules: dict[str, Rule] = {}
    facts: dict[str, FactDefinition] = {}
    matchers: dict[str, FileMatcher] = {}
    repository: dict[str, RepositoryMatch] = {}
    for path in files:
        if path.name == "facts.yaml" or path.name.endswith(".facts.yaml"):
            data, root = read(path, "facts_file")
            for name, body in data["facts"].items():
                if name in facts:
                    raise PfaError(f"fact '{name}' already defined in {facts[name].source}", path=str(path),
                                   line=line_of(root, ["facts", name]))
                _check_globs(body.get("files", ()), root, ["facts", name, "files"], str(path))
                fact = _fact(name, body, str(path))
                matchers[f"fact:{name}"] = _compile(fact.match, body.get("prefilter"), root, ["facts", name],
                                                    str(path), checked)
                facts[name] = fact
            continue
        data, root = read(path, None)
        rule = _rule(data, str(path), root, checked)
        if rule.id in rules:
            raise PfaError(f"rule id {rule.id} already defined in {rules[rule.id].source}", path=str(path),
                           line=line_of(root, ["id"]))
        rules[rule.id] = rule
        if rule.is_repository_rule:
            for position, condition in enumerate(rule.match["repository"].get("require", ())):
                for key in ("files", "no_files"):
                    _check_globs(condition.get(key, ()), root, ["match", "repository", "require", position, key],
                                 str(path))
            repository[rule.id] = _repository_match(rule.match["repository"])
        elif rule.match_type != "engine":
            matchers[rule.id] = _compile(rule.match, data.get("prefilter"), root, ["match"], str(path), checked)
    if not checked:
        _check_references(rules, facts, repository)
    return Catalog(dict(sorted(rules.items())), facts, matchers, repository)


def _check_globs(globs: Sequence[str], root: Node, location: list[Any], display: str) -> None:
    for position, glob in enumerate(globs):
        problem = glob_problem(glob)
        if problem:
            raise PfaError(f"at '{format_location([*location, position])}': {problem}", path=display,
                           line=line_of(root, [*location, position]))


def _compile(match: Mapping[str, Any], prefilter: list[str] | None, root: Node, location: list[Any],
             display: str, checked: bool = False) -> FileMatcher:
    try:
        matcher = FileMatcher.compile(match, prefilter)
    except (PfaError, re.error, OverflowError) as error:
        where = _failing_pattern(match, location)
        raise PfaError(f"at '{format_location(where)}': invalid match: {error}", path=display,
                       line=line_of(root, where)) from None
    for family, name in () if checked else matcher.predicate_names():
        if name not in predicates.REGISTRIES[family]:
            patterns = match.get(family, ())
            index = next((i for i, p in enumerate(patterns) if isinstance(p, Mapping) and p.get("predicate") == name),
                         None)
            where = [*location, family, index, "predicate"] if index is not None else location
            raise PfaError(f"unknown {family} predicate '{name}'", path=display, line=line_of(root, where))
    return matcher


def _failing_pattern(match: Mapping[str, Any], location: list[Any]) -> list[Any]:
    """Where in `match` the pattern is that fails to compile on its own (the compiler names none)."""
    for family, patterns in match.items():
        for index, pattern in enumerate(patterns if isinstance(patterns, list) else ()):
            try:
                FileMatcher.compile({family: [pattern]}, None)
            except (PfaError, re.error, OverflowError):
                return [*location, family, index]
    return location


def _rule(data: dict[str, Any], source: str, root: Node, checked: bool = False) -> Rule:
    match_type = next(iter(data["match"]))
    allowed = _ALLOWED_TARGETS.get(match_type)
    if allowed is not None:
        wrong = sorted(set(data["targets"]) - allowed)
        if wrong:
            raise PfaError(f"targets {wrong} cannot be checked by a '{match_type}' match", path=source,
                           line=line_of(root, ["targets"]))
    examples = data["examples"]
    for position, example in enumerate(examples["invalid"]):
        if not example.get("lines"):
            raise PfaError("an invalid example must list the lines it is expected to report", path=source,
                           line=line_of(root, ["examples", "invalid", position]))
    rule = Rule(
        id=data["id"],
        name=data["name"],
        pillar=data["pillar"],
        severity=Severity.parse(data["severity"]),
        targets=frozenset(data["targets"]),
        scopes=frozenset(data.get("scopes", ["production"])),
        message=data["message"],
        fix=data["fix"],
        docs=Docs(**data["docs"]),
        match=data["match"],
        confidence=data.get("confidence", "high"),
        security_severity=data.get("security_severity"),
        tags=tuple(data.get("tags", ())),
        references=tuple(Reference(**r) for r in data.get("references", ())),
        params={name: declared["default"] for name, declared in data.get("params", {}).items()},
        params_schema=data.get("params", {}),
        invalid_examples=tuple(_example(e) for e in examples["invalid"]),
        valid_examples=tuple(_example(e) for e in examples["valid"]),
        source=source,
    )
    if not checked:
        _check_params(rule, data, root)
    _check_placeholders(rule, root)
    return rule


def _check_params(rule: Rule, data: Mapping[str, Any], root: Node) -> None:
    """Each declaration is a JSON schema its default satisfies; each example's params satisfy theirs."""
    def error(location: list[Any], message: str) -> PfaError:
        return PfaError(f"at '{format_location(location)}': {message}", path=rule.source,
                        line=line_of(root, location))

    for name, declared in rule.params_schema.items():
        try:
            jsonschema.Draft7Validator.check_schema(declared)
        except jsonschema.SchemaError as bad:
            raise error(["params", name, *bad.path], f"not a JSON schema: {one_line(bad.message)}") from None
        for failure in param_validator(declared).iter_errors(declared["default"]):
            raise error(["params", name, "default", *failure.absolute_path], explain(failure))
    for location, reference in _param_references(data["match"], ["match"]):
        if reference not in rule.params_schema:
            names = ", ".join(rule.params_schema) or "none"
            raise error(location, f"'{reference}' is not a parameter of {rule.id}"
                                  f"{did_you_mean(reference, rule.params_schema)} (declared: {names})")
    for kind in ("invalid", "valid"):
        for position, example in enumerate(data["examples"][kind]):
            if "params" in example:
                location = ["examples", kind, position, "params"]
                for problem in param_problems(rule, example["params"], error, location):
                    raise problem


def _param_references(value: Any, location: list[Any]) -> Iterator[tuple[list[Any], str]]:
    """Every `param_one_of` / `not_param_one_of` in a match, with its location."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in ("param_one_of", "not_param_one_of") and isinstance(item, str):
                yield [*location, key], item
            else:
                yield from _param_references(item, [*location, key])
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from _param_references(item, [*location, position])


def _uses_predicate(match: Any) -> bool:
    if isinstance(match, Mapping):
        return "predicate" in match or any(_uses_predicate(v) for v in match.values())
    return isinstance(match, list) and any(_uses_predicate(v) for v in match)


# What each kind of match puts in a message (docs/rule-format.md); `{param.NAME}` names a declared parameter.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "python": frozenset({"name", "value", "module", "path"}),  # {path}: the file, unless the match sets it
    "document": frozenset({"value", "name", "resource", "path"}),
    "dockerfile": frozenset({"value", "name", "instruction", "path"}),
    "text": frozenset({"value", "match", "path"}),
    "repository": frozenset({"looked_for", "name", "path"}),
    "engine": frozenset({"name", "value"}),
}


def _check_placeholders(rule: Rule, root: Node) -> None:
    """A placeholder the match never fills would reach every finding as `{nope}`. An escape-hatch predicate
    yields values of its own choosing: only its `{param.*}` placeholders are checked."""
    family = PLACEHOLDERS.get(rule.match_type)
    known = (family or frozenset()) | {f"param.{name}" for name in rule.params}
    loose = family is None or _uses_predicate(rule.match)
    for placeholder in placeholders(rule.message):
        if placeholder not in known and not (loose and not placeholder.startswith("param.")):
            raise PfaError(f"at 'message': unknown placeholder {{{placeholder}}}{did_you_mean(placeholder, known)}; "
                           f"a {rule.match_type} rule's message can use "
                           f"{', '.join('{' + k + '}' for k in sorted(known))}", path=rule.source,
                           line=line_of(root, ["message"]))


def _example(data: Mapping[str, Any]) -> Example:
    return Example(
        path=data["path"],
        code=data["code"],
        lines=tuple(data.get("lines", ())),
        files=tuple(sorted(data.get("files", {}).items())),
        params=data.get("params", {}),
        name=data.get("name", ""),
    )


def _fact(name: str, body: Mapping[str, Any], source: str) -> FactDefinition:
    match = {k: body[k] for k in ("python", "document", "dockerfile", "text") if k in body}
    return FactDefinition(name, body["description"], frozenset(body["targets"]), match,
                          tuple(body.get("files", ())), source)


def _repository_match(body: Mapping[str, Any]) -> RepositoryMatch:
    report = body.get("report_at", {})
    return RepositoryMatch(tuple(body.get("require", ())), report.get("fact", ""), body.get("predicate", ""),
                           bool(report.get("per_module", False)))


def _check_references(rules: Mapping[str, Rule], facts: Mapping[str, FactDefinition],
                      repository: Mapping[str, RepositoryMatch]) -> None:
    for rule_id, match in repository.items():
        rule = rules[rule_id]
        names = [c.get("fact") or c.get("no_fact") for c in match.require]
        names += [match.report_fact] if match.report_fact else []
        for name in names:
            if name and name not in facts:
                raise PfaError(f"rule {rule_id} refers to unknown fact '{name}'", path=rule.source)
        if match.predicate and match.predicate not in predicates.REPOSITORY:
            raise PfaError(f"rule {rule_id} refers to unknown repository predicate '{match.predicate}'",
                           path=rule.source)
        if not match.predicate and not match.require:
            raise PfaError(f"rule {rule_id}: a repository match needs 'require' or 'predicate'", path=rule.source)
