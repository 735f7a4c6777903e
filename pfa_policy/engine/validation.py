"""Load a YAML data file (rule, facts, policy, config) and validate it, reporting path, line and key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from pfa_policy.engine.regex_safety import format_checker, format_problem
from pfa_policy.lazy import lazy_module
from pfa_policy.model import ParseError, PfaError
from pfa_policy.parsers.tree import Node
from pfa_policy.parsers.yaml_doc import parse_yaml
from pfa_policy.resources import schema_text
from pfa_policy.suggest import did_you_mean

if TYPE_CHECKING:
    import jsonschema
else:
    jsonschema = lazy_module("jsonschema")  # executed on first use: a warm scan validates no schema


@cache
def validator(schema_name: str, definition: str | None = None) -> jsonschema.protocols.Validator:
    # libyaml's loader when present: the pure-Python one took a fifth of a warm start-up on the schemas alone.
    loader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    schema: dict[str, Any] = yaml.load(schema_text(schema_name), Loader=loader)
    if definition is not None:
        schema = {"$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]}
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=format_checker())


def load_data_file(path: Path, schema_name: str, definition: str | None = None,
                   text: str | None = None) -> tuple[dict[str, Any], Node]:
    """Parse one YAML mapping and validate it; any problem raises PfaError naming path and line."""
    data, root = parse_data_file(path, text)
    check(data, root, validator(schema_name, definition), str(path))
    return data, root


def parse_trusted_data_file(path: Path) -> dict[str, Any]:
    """A data file that passed `parse_data_file` and its schema in the test suite (a wheel's own rules): the
    same data through libyaml, without the positions only a problem would need."""
    loader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    data: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    return data


def parse_data_file(path: Path, text: str | None = None) -> tuple[dict[str, Any], Node]:
    """One YAML mapping, a key given twice refused (the second would silently win), not yet validated."""
    display = str(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise PfaError(f"cannot read file: {error}", path=display) from None
    try:
        documents = parse_yaml(text, unique_keys=True)
    except ParseError as error:
        raise PfaError(f"invalid YAML: {error.reason}", path=display, line=error.line) from None
    if len(documents) != 1 or not documents[0].root.is_mapping:
        raise PfaError("expected exactly one YAML mapping", path=display, line=1)
    root = documents[0].root
    data = root.to_python()
    assert isinstance(data, dict)
    return data, root


def check(data: Mapping[str, Any], root: Node, schema: jsonschema.protocols.Validator, display: str,
          prefix: tuple[str, ...] = ()) -> None:
    """Raise the first schema problem (the shallowest: a wrong type before what it would contain)."""
    for problem in schema_problems(data, root, schema, display, prefix):
        raise problem


def schema_problems(data: Mapping[str, Any], root: Node, schema: jsonschema.protocols.Validator, display: str,
                    prefix: tuple[str, ...] = ()) -> list[PfaError]:
    """Every schema problem, each naming file, line and key path (`prefix` is where the data sits in its file,
    e.g. tool.pfa-policy in pyproject.toml)."""
    errors = sorted(schema.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    problems = []
    for error in errors:
        error = _most_specific(error)
        location = list(error.absolute_path)
        extra = unknown_keys(error)
        if extra:  # point at the unknown key itself, not at the mapping holding it
            location.append(extra[0])
        problems.append(PfaError(f"at '{format_location([*prefix, *location])}': {explain(error)}", path=display,
                                 line=line_of(root, location)))
    return problems


_TYPE_NAMES = {"array": "a list", "object": "a mapping", "string": "a string", "number": "a number",
               "integer": "an integer", "boolean": "true or false", "null": "null"}


def kind_of(value: Any) -> str:
    """What a parsed value is, in the words of the schema messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    for types, name in ((int, "an integer"), (float, "a number"), (str, "a string"), (list, "a list"),
                        (dict, "a mapping")):
        if isinstance(value, types):
            return name
    return type(value).__name__


def short(value: Any, limit: int = 60) -> str:
    """A value quoted for a one-line message, cut when long (a fuzzed file may hold a megabyte in one key)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def short_text(text: str, limit: int = 120) -> str:
    """Text cut for a one-line message."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def explain(error: jsonschema.ValidationError) -> str:
    """One clear sentence for the usual schema failures; jsonschema's own words (shortened) otherwise."""
    value, schema = error.instance, error.schema
    format_message = format_problem(error)
    if format_message is not None:
        return format_message
    if not isinstance(schema, Mapping):
        return one_line(error.message)
    if error.validator == "type":
        wanted = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        expected = " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in wanted)
        got = kind_of(value)
        return f"expected {expected}, got {got}" + (f" {short(value)}" if got not in ("null", "a mapping") else "")
    extra = unknown_keys(error)
    if extra:
        known = list(schema.get("properties", {}))
        return f"unknown key {short(extra[0])}{did_you_mean(str(extra[0]), known)}; the keys are {', '.join(known)}"
    if error.validator == "enum":
        return f"{short(value)} is not one of {', '.join(map(str, schema['enum']))}"
    return one_line(error.message)


def unknown_keys(error: jsonschema.ValidationError) -> list[str]:
    """The keys an `additionalProperties: false` failure refuses (when the schema names the allowed ones)."""
    schema, value = error.schema, error.instance
    if error.validator != "additionalProperties" or not isinstance(schema, Mapping) or not isinstance(value, Mapping):
        return []
    known = schema.get("properties", {})
    if not known:
        return []
    return [str(k) for k in value if k not in known and not _matches_pattern_properties(str(k), schema)]


def _matches_pattern_properties(key: str, schema: Mapping[str, Any]) -> bool:
    return any(re.search(pattern, key) for pattern in schema.get("patternProperties", {}))


def one_line(message: str, limit: int = 300) -> str:
    text = " ".join(message.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _most_specific(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """For oneOf/anyOf failures, the sub-error that went deepest says best what is wrong."""
    best = error
    while best.context:
        best = max(best.context, key=lambda e: len(e.absolute_path))
    return best if len(best.absolute_path) >= len(error.absolute_path) else error


def format_location(location: list[Any]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def line_of(root: Node, location: list[Any]) -> int:
    """The line of the deepest node along a JSON-pointer-like location (the offending key when it exists)."""
    node = root
    line = root.span.line
    for part in location:
        child: Node | None = None
        if isinstance(part, int) and isinstance(node.value, list) and part < len(node.value):
            child = node.value[part]
        elif isinstance(part, str):
            child = node.get(part)
        if child is None:
            break
        node = child
        line = node.anchor_span.line
    return line
