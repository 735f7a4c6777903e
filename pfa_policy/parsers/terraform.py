"""Terraform (`*.tf` with python-hcl2, `*.tf.json` with our JSON parser) to position-carrying Node trees.

The tree of a file:

    resource.<type>.<name>   the block's body (its attributes and nested blocks)
    data.<type>.<name>, module.<name>, provider.<name>, variable.<name>, output.<name>
    terraform, locals, <any other block type>   a BLOCKS list of bodies
    <attribute>              top-level attributes (`*.tfvars`)

A nested block type maps to a BLOCKS list of bodies (blocks repeat: `ingress {}` twice); path keys read through
such a list, so `server_side_encryption_configuration.rule.apply_server_side_encryption_by_default` needs no
`[*]`. A `dynamic "x" { content {...} }` block is an `x` block whose body is its content. A labelled nested
block (`backend "s3" {}`) maps label to a BLOCKS list. Every attribute node has its key's span.

Values: literals are scalars, objects and tuples mappings and lists; `jsonencode(...)`, `tomap(...)` and the
like over a literal are that literal, and a JSON policy document in a string is parsed. Anything else is an
*expression node*: value UNKNOWN, so it satisfies no value condition, and its text in `tag` (`expression_of`).
`terraform_module.module_of` then replaces `var.x` and `local.x` (whole, through attributes, or inside a
template) by their literal values.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pfa_policy.engine.values import UNKNOWN
from pfa_policy.model import ParseError, Span
from pfa_policy.parsers.json_doc import parse_json
from pfa_policy.parsers.tree import MAX_DEPTH, Node

BLOCKS = "tf:blocks"  # the tag of a list of nested block bodies
_EXPRESSION = "tf:expr:"  # the tag prefix of an expression node
_LABELLED_ROOT = {"resource": 2, "data": 2, "module": 1, "provider": 1, "variable": 1, "output": 1}
REFERENCE = re.compile(r"^((?:var|local)\.[A-Za-z_][\w-]*)((?:\.[A-Za-z_][\w-]*|\[\d+\]|\[\"[^\"]*\"\])*)$")
_CONVERSIONS = frozenset({"jsonencode", "tomap", "tolist", "toset", "tostring", "yamlencode"})
LOCK_FILE = ".terraform.lock.hcl"
_INTERPOLATION = re.compile(r"(?<!\$)\$\{")  # a heredoc's `${`, not its escaped `$${`
_JSON_KEYS = ("policy", "assume_role_policy", "access_policies", "policy_document", "container_definitions",
              "inline_policy")


def expression_of(node: Node) -> str | None:
    """The source text of an expression node (`aws_s3_bucket.models.id`), None for a literal."""
    tag = node.tag
    return tag[len(_EXPRESSION):] if tag is not None and tag.startswith(_EXPRESSION) else None


def expression_node(text: str, span: Span, key_span: Span | None = None) -> Node:
    return Node(UNKNOWN, span, key_span, _EXPRESSION + text)


# --- HCL ------------------------------------------------------------------------------------------------------


def parse_terraform(text: str, path: str) -> Node:
    """The tree of one file; ParseError with the position of the first syntax error."""
    if path.endswith(".json"):
        return _from_json(parse_json(text))
    return _parse_hcl(text)


def _parse_hcl(text: str) -> Node:
    import hcl2  # python-hcl2 loads its grammar on import: only when a Terraform file is parsed
    from lark.exceptions import LarkError, UnexpectedInput

    try:
        tree = hcl2.parses(text, discard_comments=True)
    except UnexpectedInput as error:
        raise ParseError(_syntax_reason(error), int(getattr(error, "line", 1) or 1),
                         int(getattr(error, "column", 1) or 1)) from None
    except (LarkError, RuntimeError, ValueError, RecursionError) as error:
        message = str(error)
        if isinstance(error, RecursionError) or "recursion" in message:
            raise ParseError("HCL nesting too deep to analyse") from None
        first = message.strip().splitlines()[0] if message.strip() else "unreadable"
        raise ParseError(f"invalid HCL: {first}") from None
    return _Converter().root(tree.body)


def _syntax_reason(error: Exception) -> str:
    token = getattr(error, "token", None)
    if token is not None and str(token).strip():
        return f"invalid HCL: unexpected {str(token).strip()[:40]!r}"
    if getattr(error, "char", None):
        return f"invalid HCL: unexpected character {error.char!r}"  # type: ignore[attr-defined]
    return "invalid HCL: unexpected end of input"


def _span(rule: Any, fallback: Span | None = None) -> Span:
    meta = getattr(rule, "_meta", None)
    if meta is None or getattr(meta, "empty", True):
        return fallback or Span(1, 1)
    return Span(meta.line, meta.column, meta.end_line, meta.end_column)


class _Converter:
    def __init__(self) -> None:
        from hcl2 import SerializationOptions

        self.options = SerializationOptions(with_comments=False, preserve_heredocs=False)
        self.plain = SerializationOptions(with_comments=False, preserve_heredocs=False, strip_string_quotes=True)

    def root(self, body: Any) -> Node:
        root = Node({}, Span(1, 1))
        mapping: dict[str, Node] = root.value  # type: ignore[assignment]
        for child in body.children:
            kind = type(child).__name__
            if kind == "AttributeRule":
                name, node = self.attribute(child, 0)
                mapping[name] = node
            elif kind == "BlockRule":
                labels = [self.label(label) for label in child.labels]
                body_node = self.body(child.body, _span(child), 1)
                body_node.key_span = _span(child)
                depth = _LABELLED_ROOT.get(labels[0], 0)
                if depth and len(labels) == depth + 1:
                    parent = mapping.setdefault(labels[0], Node({}, body_node.span))
                    for label in labels[1:-1]:
                        parent = _child_mapping(parent, label, body_node.span)
                    _add_labelled(parent, labels[-1], body_node)
                else:
                    _add_block(mapping, labels, body_node)
        return root

    def body(self, body: Any, span: Span, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise ParseError(f"HCL nesting exceeds {MAX_DEPTH} levels", span.line)
        node = Node({}, span)
        mapping: dict[str, Node] = node.value  # type: ignore[assignment]
        for child in body.children:
            kind = type(child).__name__
            if kind == "AttributeRule":
                name, value = self.attribute(child, depth)
                mapping[name] = value
            elif kind == "BlockRule":
                labels = [self.label(label) for label in child.labels]
                block_span = _span(child, span)
                if labels[0] == "dynamic" and len(labels) == 2:
                    content = next((c for c in child.body.children if type(c).__name__ == "BlockRule"
                                    and self.label(c.labels[0]) == "content"), None)
                    inner = self.body(content.body, block_span, depth + 1) if content is not None else Node({},
                                                                                                          block_span)
                    inner.span = block_span
                    inner.key_span = block_span
                    _add_block(mapping, [labels[1]], inner)
                    continue
                inner = self.body(child.body, block_span, depth + 1)
                inner.key_span = block_span
                _add_block(mapping, labels, inner)
        return node

    def label(self, label: Any) -> str:
        return str(label.serialize(self.plain))

    def attribute(self, rule: Any, depth: int) -> tuple[str, Node]:
        name = str(rule.identifier.serialize(self.plain))
        span = _span(rule)
        key_span = Span(span.line, span.column, span.line, span.column + len(name))
        value = self.value(rule.expression, span, depth + 1)
        value.key_span = key_span
        if name in _JSON_KEYS:
            value = _policy(_json_string(value))
        return name, value

    def value(self, rule: Any, span: Span, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise ParseError(f"HCL nesting exceeds {MAX_DEPTH} levels", span.line)
        kind = type(rule).__name__
        if kind == "ExprTermRule":
            inner = self.value(rule.expression, span, depth)
            if not rule.parentheses or expression_of(inner) is None:
                return inner  # `({ ... })`: a literal in parentheses is that literal
        here = _span(rule, span)
        if kind == "ObjectRule":
            mapping: dict[str, Node] = {}
            for element in rule.elements:
                key = element.key.serialize(self.plain)
                element_span = _span(element, here)
                child = self.value(element.expression, element_span, depth + 1)
                child.key_span = Span(element_span.line, element_span.column)
                mapping[str(key).strip('"')] = child
            return Node(mapping, here)
        if kind == "TupleRule":
            return Node([self.value(e, here, depth + 1) for e in rule.elements], here)
        if kind == "FunctionCallRule":
            names = [i.serialize(self.plain) for i in rule.identifiers]
            arguments = rule.arguments.arguments if rule.arguments is not None else []
            if len(names) == 1 and names[0] in _CONVERSIONS and len(arguments) == 1:
                inner = self.value(arguments[0], here, depth + 1)
                if expression_of(inner) is None:
                    return inner
        if kind == "StringRule":
            return self.string(rule, here)
        if kind in ("HeredocTemplateRule", "HeredocTrimTemplateRule"):
            text = self._heredoc(rule)
            return expression_node(text, here) if "${" in text else Node(text, here)
        serialized = rule.serialize(self.options)
        if serialized is None or isinstance(serialized, (bool, int, float)):
            return Node(serialized, here)
        text = str(serialized)
        if text.startswith("${") and text.endswith("}"):
            text = text[2:-1]
        return expression_node(text, here)

    def string(self, rule: Any, span: Span) -> Node:
        if any(not type(getattr(part, "content", None)).__name__.endswith("TOKEN") for part in rule.string_parts):
            return expression_node(str(rule.serialize(self.options)), span)  # a template: "p-${var.env}"
        text = str(rule.serialize(self.plain)).replace("$${", "${").replace("%%{", "%{")
        return Node(text, span)

    def _heredoc(self, rule: Any) -> str:
        """The heredoc's text: the lines between its markers (`<<-` strips their common indentation)."""
        raw = str(getattr(rule.heredoc, "value", rule.heredoc))
        lines = raw.rstrip("\r\n").split("\n")[1:-1]  # the opening `<<EOF` line and the closing marker
        if raw.startswith("<<-"):
            indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
            cut = min(indents, default=0)
            lines = [line[cut:] for line in lines]
        return "\n".join(lines)


def _child_mapping(parent: Node, label: str, span: Span) -> Node:
    mapping: dict[str, Node] = parent.value  # type: ignore[assignment]
    child = mapping.get(label)
    if child is None or not isinstance(child.value, dict):
        child = mapping[label] = Node({}, span)
    return child


def _add_labelled(parent: Node, label: str, body: Node) -> None:
    """`resource "t" "n"` twice (an error Terraform reports) or `provider "aws"` with aliases: a BLOCKS list."""
    mapping: dict[str, Node] = parent.value  # type: ignore[assignment]
    existing = mapping.get(label)
    if existing is None:
        mapping[label] = body
    elif existing.tag == BLOCKS and isinstance(existing.value, list):
        existing.value.append(body)
    else:
        mapping[label] = Node([existing, body], existing.span, existing.key_span, BLOCKS)


def _add_block(mapping: dict[str, Node], labels: list[str], body: Node) -> None:
    target = mapping
    for label in labels[:-1]:
        child = target.get(label)
        if child is None or not isinstance(child.value, dict):
            child = target[label] = Node({}, body.span, body.key_span)
        target = child.value  # type: ignore[assignment]
    name = labels[-1]
    blocks = target.get(name)
    if blocks is None or blocks.tag != BLOCKS or not isinstance(blocks.value, list):
        blocks = target[name] = Node([], body.span, body.key_span, BLOCKS)
    blocks.value.append(body)  # type: ignore[union-attr]


def _policy(node: Node) -> Node:
    """An IAM policy's `Statement` may be one object or a list: always a list, so `Statement[*]` reads both."""
    statement = node.get("Statement")
    if statement is not None and isinstance(statement.value, dict) and isinstance(node.value, dict):
        node.value["Statement"] = Node([statement], statement.span, statement.key_span)
    return node


def _json_string(node: Node) -> Node:
    """A policy written as a JSON string (a heredoc, usually): its document, at the attribute's position. A heredoc
    with `${...}` in its strings is that document too, those strings templates like any other (`$${aws:username}`
    is the IAM policy variable, written literally)."""
    text = node.value if isinstance(node.value, str) else expression_of(node)
    if text is None or not text.lstrip().startswith(("{", "[")) or "%{" in text:
        return node
    try:
        data = json.loads(text)
    except ValueError:
        return node
    converted = _from_python(data, node.span, 0, templates=not isinstance(node.value, str))
    converted.key_span = node.key_span
    return converted


def _from_python(data: object, span: Span, depth: int, templates: bool = False) -> Node:
    """JSON data as nodes at `span`. `templates`: the text was a heredoc, whose `${...}` interpolate (`$${` is a
    literal `${`); in a quoted string Terraform already replaced them."""
    if depth > MAX_DEPTH:
        raise ParseError(f"JSON nesting exceeds {MAX_DEPTH} levels", span.line)
    if isinstance(data, dict):
        return Node({(_unescaped(str(k)) if templates else str(k)): _keyed(_from_python(v, span, depth + 1,
                                                                                          templates), span)
                     for k, v in data.items()}, span)
    if isinstance(data, list):
        return Node([_from_python(v, span, depth + 1, templates) for v in data], span)
    if templates and isinstance(data, str):
        if _INTERPOLATION.search(data):
            return expression_node(_strip_template(data), span)
        return Node(_unescaped(data), span)
    if isinstance(data, str) and "${" in data:
        return expression_node(data, span)
    if data is None or isinstance(data, (str, int, float, bool)):
        return Node(data, span)
    return Node(str(data), span)


def _unescaped(text: str) -> str:
    return text.replace("$${", "${").replace("%%{", "%{")


def _keyed(node: Node, span: Span) -> Node:
    node.key_span = span
    return node


# --- JSON syntax ----------------------------------------------------------------------------------------------


def _from_json(root: Node) -> Node:
    """`*.tf.json`: the same shape; nested blocks are JSON objects or lists of objects, strings may be
    `${...}` templates."""
    if not isinstance(root.value, dict):
        raise ParseError("a Terraform JSON file holds one object", root.span.line, root.span.column)
    _json_values(root, 0)
    for key, child in root.items():
        if key not in _LABELLED_ROOT and isinstance(child.value, (dict, list)):
            root.value[key] = _as_blocks(child)
    return root


def _json_values(node: Node, depth: int) -> None:
    if isinstance(node.value, dict):
        for key, child in list(node.value.items()):
            if isinstance(child.value, str) and "${" in child.value:
                node.value[key] = expression_node(_strip_template(child.value), child.span, child.key_span)
            elif key in _JSON_KEYS and isinstance(child.value, (str, dict)):
                node.value[key] = _policy(_json_string(child))
            else:
                _json_values(child, depth + 1)
                if isinstance(child.value, list) and child.value and all(c.is_mapping for c in child.value):
                    child.tag = BLOCKS
    elif isinstance(node.value, list):
        for index, child in enumerate(node.value):
            if isinstance(child.value, str) and "${" in child.value:
                node.value[index] = expression_node(_strip_template(child.value), child.span, child.key_span)
            else:
                _json_values(child, depth + 1)


def _as_blocks(node: Node) -> Node:
    if node.tag == BLOCKS:
        return node
    items = node.value if isinstance(node.value, list) else [node]
    return Node(list(items), node.span, node.key_span, BLOCKS)


def _strip_template(text: str) -> str:
    if text.startswith("${") and text.endswith("}") and text.count("${") == 1:
        return text[2:-1]
    return '"' + text + '"'
