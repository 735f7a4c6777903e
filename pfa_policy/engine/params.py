"""Rule parameters: each rule declares its own with a JSON schema; values from policies and examples are checked
against those declarations."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pfa_policy.engine.rule import Rule
from pfa_policy.engine.validation import explain
from pfa_policy.lazy import lazy_module
from pfa_policy.model import PfaError
from pfa_policy.suggest import did_you_mean

if TYPE_CHECKING:
    import jsonschema
else:
    jsonschema = lazy_module("jsonschema")  # executed on first use: a warm scan validates no schema

ErrorAt = Callable[[list[Any], str], PfaError]


def param_problems(rule: Rule, values: Mapping[str, Any], error: ErrorAt,
                   location: Sequence[str | int]) -> list[PfaError]:
    """Parameters a rule does not declare, and values its declaration (a JSON schema) refuses. `error` makes
    the PfaError for a location (Layer.error, or the rule loader's equivalent for an example's params)."""
    declared = rule.params_schema
    if not declared:
        return [error(list(location), f"{rule.id} takes no parameters")]
    problems = []
    for name, value in values.items():
        if name not in declared:
            problems.append(error([*location, name], f"{rule.id} has no parameter '{name}'"
                                  f"{did_you_mean(name, declared)}; its parameters are {', '.join(declared)}"))
            continue
        for failure in sorted(param_validator(declared[name]).iter_errors(value), key=lambda e: len(e.path)):
            problems.append(error([*location, name, *failure.absolute_path], explain(failure)))
            break
    return problems


def param_validator(schema: Mapping[str, Any]) -> jsonschema.protocols.Validator:
    body = {k: v for k, v in schema.items() if k not in ("default", "description")}
    return jsonschema.Draft7Validator(body, format_checker=jsonschema.FormatChecker())
