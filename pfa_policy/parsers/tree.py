"""A position-carrying tree for structured documents (YAML, JSON).

Every mapping value remembers where its key stands, so a finding can point at the offending key rather than
at the start of the document.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pfa_policy.model import Span

Scalar = str | int | float | bool | None
# Deeper than any real manifest or notebook. Matchers and conversions walk trees recursively, so a deeper
# document is refused at parse time rather than allowed to exhaust Python's recursion limit in a rule.
MAX_DEPTH = 256


@dataclass(slots=True)
class Node:
    """One value in a document. `value` is dict[str, Node], list[Node] or a scalar."""

    value: dict[str, Node] | list[Node] | Scalar
    span: Span
    key_span: Span | None = None
    tag: str | None = None  # a non-standard tag such as CloudFormation's "!Ref"

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_sequence(self) -> bool:
        return isinstance(self.value, list)

    @property
    def is_scalar(self) -> bool:
        return not isinstance(self.value, (dict, list))

    @property
    def anchor_span(self) -> Span:
        """Where a finding about this node should point: its key if it has one, else its value."""
        return self.key_span or self.span

    def get(self, key: str) -> Node | None:
        if isinstance(self.value, dict):
            return self.value.get(key)
        return None

    def items(self) -> Iterator[tuple[str, Node]]:
        if isinstance(self.value, dict):
            yield from self.value.items()

    def elements(self) -> Iterator[Node]:
        if isinstance(self.value, list):
            yield from self.value

    def to_python(self) -> object:
        if isinstance(self.value, dict):
            return {k: v.to_python() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.to_python() for v in self.value]
        return self.value

    def walk(self) -> Iterator[Node]:
        """Every node below and including this one, depth first, in document order."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            if isinstance(node.value, dict):
                stack.extend(reversed(list(node.value.values())))
            elif isinstance(node.value, list):
                stack.extend(reversed(node.value))


@dataclass(slots=True)
class Document:
    """One document of a (possibly multi-document) file."""

    root: Node
    index: int = 0
    kind: str = "yaml"  # refined by classification: kubernetes, kserve, cloudformation ...


def nested(node: Node | None, *keys: str) -> Node | None:
    """`node[keys[0]][keys[1]]...`, or None where a key is missing."""
    for key in keys:
        if node is None:
            return None
        node = node.get(key)
    return node
