"""Load a YAML data file (rule, facts, policy, config) and validate it, reporting path, line and key."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from pfa_policy.engine.regex_safety import format_checker, format_problem
from pfa_policy.model import ParseError, PfaError
from pfa_policy.parsers.tree import Node
from pfa_policy.parsers.yaml_doc import parse_yaml
from pfa_policy.resources import schema_text


@cache
def validator(schema_name: str, definition: str | None = None) -> jsonschema.protocols.Validator:
    schema: dict[str, Any] = yaml.safe_load(schema_text(schema_name))
    if definition is not None:
        schema = {"$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]}
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=format_checker())


def load_data_file(path: Path, schema_name: str, definition: str | None = None,
                   text: str | None = None) -> tuple[dict[str, Any], Node]:
    """Parse one YAML mapping and validate it; any problem raises PfaError naming path and line."""
    display = str(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise PfaError(f"cannot read file: {error}", path=display) from None
    try:
        documents = parse_yaml(text)
    except ParseError as error:
        raise PfaError(f"invalid YAML: {error.reason}", path=display, line=error.line) from None
    if len(documents) != 1 or not documents[0].root.is_mapping:
        raise PfaError("expected exactly one YAML mapping", path=display, line=1)
    root = documents[0].root
    data = root.to_python()
    assert isinstance(data, dict)
    check(data, root, validator(schema_name, definition), display)
    return data, root


def check(data: Mapping[str, Any], root: Node, schema: jsonschema.protocols.Validator, display: str) -> None:
    errors = sorted(schema.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if not errors:
        return
    error = _most_specific(errors[0])
    location = list(error.absolute_path)
    message = format_problem(error) or error.message
    raise PfaError(f"at '{format_location(location)}': {message}", path=display,
                   line=line_of(root, location))


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
