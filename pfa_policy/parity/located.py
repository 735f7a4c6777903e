"""Documents whose every value remembers its file and position, and the merges environments are built with:
Helm's deep merge, Kubernetes strategic merge and JSON 6902 patches."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from pfa_policy.model import FILE_START, ParseError, Span
from pfa_policy.parsers.json_doc import parse_json
from pfa_policy.parsers.tree import Node, Scalar
from pfa_policy.parsers.yaml_doc import parse_yaml

# Lists a strategic-merge patch merges element by element, and the key naming an element.
MERGE_KEYS = {"containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
              "volumes": "name", "volumeMounts": "mountPath", "ports": "containerPort", "imagePullSecrets": "name",
              "envFrom": "", "sidecars": "name"}


@dataclass(frozen=True, slots=True)
class Val:
    """A value of an environment's configuration with the file and span it came from."""

    value: dict[str, Val] | list[Val] | Scalar
    file: str
    span: Span = FILE_START
    key_span: Span | None = None

    @property
    def at(self) -> Span:
        return self.key_span or self.span

    def get(self, key: str) -> Val | None:
        return self.value.get(key) if isinstance(self.value, dict) else None

    def path(self, dotted: str) -> Val | None:
        node: Val | None = self
        for part in dotted.split("."):
            node = node.get(part) if node is not None else None
        return node

    def items(self) -> Iterator[tuple[str, Val]]:
        if isinstance(self.value, dict):
            yield from self.value.items()

    def elements(self) -> Iterator[Val]:
        if isinstance(self.value, list):
            yield from self.value

    def text(self) -> str:
        """The scalar as text (booleans as YAML spells them); '' for collections and null."""
        value = self.value
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None or isinstance(value, (dict, list)):
            return ""
        return str(value)


def load(path: str, text: str) -> list[Val]:
    """The documents of a YAML or JSON file as located values; [] when it does not parse."""
    try:
        nodes = [parse_json(text)] if path.endswith(".json") else [d.root for d in parse_yaml(text)]
    except (ParseError, RecursionError):
        return []
    return [located(node, path) for node in nodes]


def located(node: Node, file: str) -> Val:
    if isinstance(node.value, dict):
        return Val({k: located(v, file) for k, v in node.value.items()}, file, node.span, node.key_span)
    if isinstance(node.value, list):
        return Val([located(v, file) for v in node.value], file, node.span, node.key_span)
    return Val(node.value, file, node.span, node.key_span)


def flatten(value: Val, prefix: str = "") -> Iterator[tuple[str, Val]]:
    """Every scalar leaf as (dotted path, value); list elements by their `name` when they have one."""
    if isinstance(value.value, dict):
        if not value.value and prefix:
            yield prefix, value
        for key, child in value.value.items():
            yield from flatten(child, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value.value, list):
        for index, child in enumerate(value.value):
            name = child.get("name")
            label = name.text() if name is not None and name.text() else str(index)
            yield from flatten(child, f"{prefix}[{label}]")
    else:
        yield prefix, value


def deep_merge(base: Val | None, overlay: Val) -> Val:
    """Helm's values merge: mappings merge key by key, a null removes the key, anything else replaces."""
    if base is None or not isinstance(base.value, dict) or not isinstance(overlay.value, dict):
        return overlay
    merged = dict(base.value)
    for key, child in overlay.value.items():
        if child.value is None:
            merged.pop(key, None)
        else:
            merged[key] = deep_merge(merged.get(key), child)
    return replace(base, value=merged)


def strategic_merge(base: Val, patch: Val, field: str = "") -> Val | None:
    """A strategic-merge patch over `base`; None when the patch deletes it."""
    if isinstance(patch.value, dict) and isinstance(base.value, dict):
        directive = patch.get("$patch")
        if directive is not None and directive.text() == "delete":
            return None
        if directive is not None and directive.text() == "replace":
            return replace(patch, value={k: v for k, v in patch.value.items() if k != "$patch"})
        merged = dict(base.value)
        for key, child in patch.value.items():
            if key.startswith("$"):
                continue
            if child.value is None:
                merged.pop(key, None)
            elif key in merged:
                result = strategic_merge(merged[key], child, key)
                if result is None:
                    merged.pop(key)
                else:
                    merged[key] = result
            else:
                merged[key] = child
        return replace(base, value=merged)
    if isinstance(patch.value, list) and isinstance(base.value, list) and MERGE_KEYS.get(field):
        return replace(base, value=_merge_list(base.value, patch.value, MERGE_KEYS[field]))
    return patch


def _merge_list(base: list[Val], patch: list[Val], key: str) -> list[Val]:
    merged = list(base)
    for element in patch:
        name = element.get(key)
        if name is None:
            merged.append(element)
            continue
        index = next((i for i, b in enumerate(merged) if (b.get(key) or Val(None, "")).text() == name.text()), None)
        if index is None:
            merged.append(element)
            continue
        result = strategic_merge(merged[index], element)
        if result is None:
            del merged[index]
        else:
            merged[index] = result
    return merged


class PatchError(Exception):
    """A JSON patch operation that does not apply to the document."""


def json_patch(document: Val, operations: Val, load: Callable[[Val], Val] = lambda v: v) -> Val:
    """RFC 6902 operations (add, remove, replace, move, copy; test is ignored) applied to `document`."""
    for operation in operations.elements():
        op = (operation.get("op") or Val(None, "")).text()
        path = (operation.get("path") or Val(None, "")).text()
        if op in ("add", "replace"):
            value = operation.get("value")
            if value is None:
                raise PatchError(f"{op} {path}: no value")
            document = _set(document, _pointer(path), load(value), op == "add")
        elif op == "remove":
            document = _remove(document, _pointer(path))
        elif op in ("move", "copy"):
            source = (operation.get("from") or Val(None, "")).text()
            moved = _lookup(document, _pointer(source))
            if op == "move":
                document = _remove(document, _pointer(source))
            document = _set(document, _pointer(path), moved, True)
    return document


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise PatchError(f"not a JSON pointer: {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _lookup(document: Val, parts: list[str]) -> Val:
    node = document
    for part in parts:
        if isinstance(node.value, dict) and part in node.value:
            node = node.value[part]
        elif isinstance(node.value, list) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
        else:
            raise PatchError(f"no {part!r} in the document")
    return node


def _set(document: Val, parts: list[str], value: Val, insert: bool) -> Val:
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    if isinstance(document.value, dict):
        children = dict(document.value)
        if rest:
            if head not in children:
                raise PatchError(f"no {head!r} in the document")
            children[head] = _set(children[head], rest, value, insert)
        else:
            children[head] = value
        return replace(document, value=children)
    if isinstance(document.value, list):
        elements = list(document.value)
        if head == "-" and not rest:
            elements.append(value)
            return replace(document, value=elements)
        if not head.isdigit() or int(head) > len(elements):
            raise PatchError(f"no element {head!r}")
        index = int(head)
        if rest:
            elements[index] = _set(elements[index], rest, value, insert)
        elif insert:
            elements.insert(index, value)
        elif index < len(elements):
            elements[index] = value
        else:
            raise PatchError(f"no element {head!r}")
        return replace(document, value=elements)
    raise PatchError(f"cannot descend into a scalar at {head!r}")


def _remove(document: Val, parts: list[str]) -> Val:
    if not parts:
        raise PatchError("cannot remove the document")
    head, rest = parts[0], parts[1:]
    if isinstance(document.value, dict) and head in document.value:
        children = dict(document.value)
        if rest:
            children[head] = _remove(children[head], rest)
        else:
            del children[head]
        return replace(document, value=children)
    if isinstance(document.value, list) and head.isdigit() and int(head) < len(document.value):
        elements = list(document.value)
        if rest:
            elements[int(head)] = _remove(elements[int(head)], rest)
        else:
            del elements[int(head)]
        return replace(document, value=elements)
    raise PatchError(f"no {head!r} to remove")
