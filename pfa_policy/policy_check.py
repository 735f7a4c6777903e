"""What a schema cannot see in a policy or configuration layer: rule ids, selectors, parameters, globs and dates
checked against the catalogue. Every problem is one line naming file, line and key, with the closest id."""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pfa_policy.engine.globs import glob_problem
from pfa_policy.engine.loader import Catalog
from pfa_policy.engine.params import param_problems
from pfa_policy.layers import Layer
from pfa_policy.model import PILLARS, PfaError
from pfa_policy.suggest import did_you_mean

SELECTION_KEYS = ("include", "extend_include", "exclude")


def layer_problems(layer: Layer, catalog: Catalog) -> list[PfaError]:
    """Every problem of one schema-valid layer, in file order of the sections."""
    data = layer.data
    problems: list[PfaError] = []
    selection = data.get("rules", {})
    for key in SELECTION_KEYS:
        for position, selector in enumerate(selection.get(key, ())):
            message = selector_problem(selector, catalog)
            if message:
                problems.append(layer.error(["rules", key, position], message))
    for section in ("severity", "params"):
        for rule_id in data.get(section, {}):
            if rule_id not in catalog.rules:
                problems.append(layer.error([section, rule_id], _unknown_id(rule_id, catalog)))
    for rule_id, values in data.get("params", {}).items():
        if rule_id in catalog.rules:
            problems.extend(param_problems(catalog.rules[rule_id], values, layer.error, ["params", rule_id]))
    problems.extend(_glob_problems(layer, ["exclude"], data.get("exclude", ())))
    for scope, globs in data.get("scopes", {}).items():
        problems.extend(_glob_problems(layer, ["scopes", scope], globs))
    for position, exception in enumerate(data.get("exceptions", ())):
        problems.extend(_exception_problems(layer, position, exception, catalog))
    for position, waiver in enumerate(data.get("parity", {}).get("waivers", ())):
        problems.extend(_rule_pattern_problems(layer, ["parity", "waivers", position, "rules"], waiver.get("rules", ()),
                                               catalog))
    return problems


def selector_problem(selector: str, catalog: Catalog) -> str | None:
    """Why a rules.include / exclude selector selects nothing, or None when it names something."""
    if selector == "*":
        return None
    rules = catalog.rules.values()
    if selector.startswith("pillar:"):
        pillar = selector.removeprefix("pillar:")
        return None if pillar in PILLARS else (f"unknown pillar '{pillar}'{did_you_mean(pillar, PILLARS)}; the "
                                               f"pillars are {', '.join(PILLARS)}")
    if selector.startswith("tag:"):
        tag = selector.removeprefix("tag:")
        tags = sorted({t for rule in rules for t in rule.tags})
        return None if tag in tags else f"no rule has the tag '{tag}'{did_you_mean(tag, tags)}"
    if any(fnmatch.fnmatchcase(rule_id, selector) for rule_id in catalog.rules):
        return None
    return _unknown_id(selector, catalog) if not _is_glob(selector) else f"no rule id matches '{selector}'"


def _unknown_id(rule_id: str, catalog: Catalog) -> str:
    suggestion = did_you_mean(rule_id.upper(), catalog.rules) if rule_id.upper() != rule_id else ""
    if rule_id.upper() in catalog.rules:
        suggestion = f" (rule ids are upper case: {rule_id.upper()})"
    return f"unknown rule id {rule_id}{suggestion or did_you_mean(rule_id, catalog.rules)}"


def _is_glob(text: str) -> bool:
    return any(char in text for char in "*?[")


def _glob_problems(layer: Layer, location: list[str | int], globs: Sequence[str]) -> list[PfaError]:
    problems = []
    for position, glob in enumerate(globs):
        message = glob_problem(glob)
        if message:
            problems.append(layer.error([*location, position], message))
    return problems


def _exception_problems(layer: Layer, position: int, exception: Mapping[str, Any],
                        catalog: Catalog) -> list[PfaError]:
    location: list[str | int] = ["exceptions", position]
    problems = _rule_pattern_problems(layer, [*location, "rules"], exception["rules"], catalog)
    problems.extend(_glob_problems(layer, [*location, "paths"], exception.get("paths", ())))
    if "expires" in exception:
        wrong = date_problem(exception["expires"])
        if wrong:
            problems.append(layer.error([*location, "expires"], wrong))
    return problems


def _rule_pattern_problems(layer: Layer, location: list[str | int], patterns: Sequence[str],
                           catalog: Catalog) -> list[PfaError]:
    """Rule id globs (exceptions, parity waivers) that match no rule."""
    problems = []
    for index, pattern in enumerate(patterns):
        try:
            matches = any(fnmatch.fnmatchcase(rule_id, pattern) for rule_id in catalog.rules)
        except re.error as error:
            problems.append(layer.error([*location, index], f"bad rule pattern '{pattern}': {error}"))
            continue
        if not matches:
            message = f"no rule id matches '{pattern}'" if _is_glob(pattern) else _unknown_id(pattern, catalog)
            problems.append(layer.error([*location, index], message))
    return problems


def date_problem(text: str) -> str | None:
    """Why `text` is not a calendar date written YYYY-MM-DD, or None."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return f"'{text[:40]}' is not a date written YYYY-MM-DD (e.g. 2027-03-31)"
    try:
        dt.date.fromisoformat(text)
    except ValueError as error:
        return f"'{text}' is not a real date ({error})"
    return None
