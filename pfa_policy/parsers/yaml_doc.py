"""YAML (multi-document) to position-carrying Node trees.

PyYAML composes a node graph with marks; we convert it ourselves rather than constructing Python objects, so
that keys stay raw strings (GitHub Actions' `on:` is "on", never True), unknown tags never build objects and
alias expansion is bounded.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import yaml
from yaml.constructor import SafeConstructor

from pfa_policy.model import ParseError, Span
from pfa_policy.parsers.tree import MAX_DEPTH, Document, Node, Scalar

# Nodes that alias expansion (including merge keys) may produce in one file: a "billion laughs" document
# stops here instead of exhausting memory.
MAX_ALIAS_NODES = 100_000

_LOADER: type[yaml.SafeLoader | yaml.CSafeLoader] = (
    yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
)

_CORE = "tag:yaml.org,2002:"
_STR = _CORE + "str"
_NULL = _CORE + "null"
_BOOL = _CORE + "bool"
_INT = _CORE + "int"
_FLOAT = _CORE + "float"
_MERGE = _CORE + "merge"
# Core tags whose value we represent natively (timestamps and the like deliberately stay strings).
_PLAIN_TAGS = frozenset(
    _CORE + name
    for name in ("str", "null", "bool", "int", "float", "map", "seq", "omap", "pairs", "set", "timestamp", "binary")
)
# CloudFormation short forms that map to a bare key rather than "Fn::X".
_BARE_INTRINSICS = frozenset({"Ref", "Condition"})

# Only its scalar helpers are used: they read node.value and never build arbitrary objects.
_CONSTRUCTOR = SafeConstructor()


def parse_yaml(text: str, *, unique_keys: bool = False) -> list[Document]:
    """Every non-empty document of `text`; Document.index is the document's position in the stream. With
    `unique_keys` (pfa-policy's own files), a key given twice in one mapping is an error instead of the last
    one silently winning."""
    converter = _Converter(text, unique_keys)
    documents: list[Document] = []
    try:
        for index, root in enumerate(yaml.compose_all(text, Loader=_LOADER)):
            if root is None or _is_empty(root):
                continue
            converter.seen.clear()
            documents.append(Document(converter.convert(root), index))
    except yaml.MarkedYAMLError as exc:
        raise _marked_error(exc) from None
    except yaml.reader.ReaderError as exc:
        line, column = _offset_position(text, exc.position)
        raise ParseError(f"invalid character #x{exc.character:04x}: {exc.reason}", line, column) from None
    except yaml.YAMLError as exc:
        raise ParseError(str(exc)) from None
    except RecursionError:
        # The pure-Python composer (pyyaml built without libyaml) recurses once per nesting level.
        raise ParseError(f"YAML nesting exceeds {MAX_DEPTH} levels") from None
    return documents


# A line that starts a document or ends one; YAML forbids such a line inside a scalar.
# After a newline rather than `^` with re.MULTILINE, which the regex engine tries at every position of a file of
# megabytes; blank_documents never splits before the first line.
_DOCUMENT_MARKER = re.compile(r"\n(?:---|\.\.\.)(?=[ \t\r\n]|$)")
_BARE_START = re.compile(r"---[ \t]*(?:#[^\r\n]*)?(?:\r\n|\r|\n|\Z)")
_LINE_CONTENT = re.compile(r"[^\r\n]+")


def blank_documents(text: str, skip: Callable[[str], bool]) -> str:
    """`text` with the documents `skip` accepts emptied line by line: each becomes an explicit empty document
    (`---`, then a `#` for each line that had text), so the other documents keep their lines, columns and
    stream positions."""
    starts = [0, *(m.start() + 1 for m in _DOCUMENT_MARKER.finditer(text))]
    pieces: list[str] = []
    for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
        chunk = text[start:end]
        explicit = _BARE_START.match(chunk) is not None
        directive = chunk.startswith("%") or "\n%" in chunk
        if (explicit or start == 0) and not directive and skip(chunk):
            # Comment lines rather than empty ones: a pattern like `^\s*key` must not run across thousands of
            # blank lines at every line start.
            first = _LINE_CONTENT.match(chunk)
            chunk = "---" + _LINE_CONTENT.sub("#", chunk[first.end():] if first else chunk)
        pieces.append(chunk)
    return "".join(pieces)


def _is_empty(root: yaml.Node) -> bool:
    """A document with nothing but comments (or nothing at all) composes to an implicit empty null."""
    return isinstance(root, yaml.ScalarNode) and root.tag == _NULL and root.value == ""


def _marked_error(exc: yaml.MarkedYAMLError) -> ParseError:
    reason = exc.problem or exc.context or "invalid YAML"
    if exc.problem == "second occurrence" and exc.context and exc.context_mark:
        # A duplicate anchor: PyYAML splits the message across both marks.
        anchor = exc.context.removesuffix("; first occurrence")
        reason = f"{anchor} (first occurrence at line {exc.context_mark.line + 1})"
    elif exc.context and exc.problem:
        reason = f"{exc.problem} ({exc.context})"
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return ParseError(reason)
    return ParseError(reason, mark.line + 1, mark.column + 1)


def _offset_position(text: str, offset: int) -> tuple[int, int]:
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


class _Expansion(Exception):
    """Raised deep inside alias expansion; frames on the way up record the path for the error position."""

    def __init__(self, cyclic: bool) -> None:
        super().__init__()
        self.cyclic = cyclic
        self.path: list[tuple[yaml.Node, bool]] = []  # innermost first: (node, reached through an alias)


class _Converter:
    def __init__(self, text: str, unique_keys: bool = False) -> None:
        self.text = text
        self.unique_keys = unique_keys
        self.budget = MAX_ALIAS_NODES
        self.seen: set[int] = set()  # collections already converted once: meeting one again means an alias
        self.active: set[int] = set()  # collections being converted: meeting one of these is a cycle
        self._lines: list[str] | None = None

    def convert(self, root: yaml.Node) -> Node:
        try:
            return self._node(root, 0, False)
        except _Expansion as exc:
            raise self._expansion_error(exc) from None

    def _node(self, yn: yaml.Node, depth: int, expanding: bool) -> Node:
        if expanding:
            self.budget -= 1
            if self.budget < 0:
                raise _Expansion(cyclic=False)
        if isinstance(yn, yaml.ScalarNode):
            return self._scalar(yn)
        if depth >= MAX_DEPTH:
            raise ParseError(f"YAML nesting exceeds {MAX_DEPTH} levels", yn.start_mark.line + 1)
        key = id(yn)
        if key in self.active:
            cycle = _Expansion(cyclic=True)
            cycle.path.append((yn, True))
            raise cycle
        revisit = key in self.seen
        self.seen.add(key)
        self.active.add(key)
        try:
            node = self._collection(yn, depth + 1, expanding or revisit)
        except _Expansion as exc:
            exc.path.append((yn, revisit))
            raise
        finally:
            self.active.discard(key)
        return node

    def _collection(self, yn: yaml.Node, depth: int, expanding: bool) -> Node:
        value: dict[str, Node] | list[Node]
        if isinstance(yn, yaml.MappingNode):
            value = self._mapping(yn.value, depth, expanding)
        else:
            value = [self._node(child, depth, expanding) for child in yn.value]
        node = Node(value, self._span(yn))
        return self._tagged(node, yn.tag)

    def _mapping(self, pairs: list[tuple[yaml.Node, yaml.Node]], depth: int, expanding: bool) -> dict[str, Node]:
        own: dict[str, Node] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in pairs:
            if key_node.tag == _MERGE and _is_merge_source(value_node):
                merges.append(value_node)
                continue
            child = self._node(value_node, depth, expanding)
            child.key_span = self._span(key_node)
            key = self._key(key_node, depth, expanding)
            if self.unique_keys and key in own:
                first = own[key].anchor_span.line
                shown = key if len(key) <= 60 else key[:57] + "..."
                raise ParseError(f"key '{shown}' given twice (first at line {first})", child.key_span.line,
                                 child.key_span.column)
            own[key] = child
        if not merges:
            return own
        # YAML merge semantics: the mapping's own keys win, then earlier merge sources over later ones.
        sources: list[yaml.Node] = []
        for merge in merges:
            sources.extend(merge.value if isinstance(merge, yaml.SequenceNode) else [merge])
        merged: dict[str, Node] = {}
        for source in reversed(sources):
            converted = self._node(source, depth, expanding)
            if isinstance(converted.value, dict):
                merged.update(converted.value)
        merged.update(own)
        return merged

    def _key(self, key_node: yaml.Node, depth: int, expanding: bool) -> str:
        if isinstance(key_node, yaml.ScalarNode):
            return str(key_node.value)
        # A complex key (`? [a, b]`) has no natural string form; its Python rendering keeps it distinct.
        return str(self._node(key_node, depth, expanding).to_python())

    def _scalar(self, yn: yaml.ScalarNode) -> Node:
        tag = yn.tag
        raw: str = yn.value
        value: Scalar = raw
        if tag == _STR:
            pass
        elif tag == _NULL:
            value = None
        elif tag == _BOOL:
            value = SafeConstructor.bool_values.get(raw.lower(), raw)
        elif tag in (_INT, _FLOAT):
            try:
                value = _CONSTRUCTOR.construct_yaml_int(yn) if tag == _INT else _CONSTRUCTOR.construct_yaml_float(yn)
            except ValueError:  # an explicit `!!int abc`: keep the text
                value = raw
        node = Node(value, self._span(yn))
        if tag == "!GetAtt":
            return self._get_att(node, yn)
        return self._tagged(node, tag)

    def _tagged(self, node: Node, tag: str) -> Node:
        if tag in _PLAIN_TAGS:
            return node
        if tag.startswith("!") and len(tag) > 1 and not tag.startswith("!!"):
            # A local tag: CloudFormation's short form of an intrinsic function (or e.g. Ansible's !vault).
            name = tag[1:]
            node.key_span = self._tag_span(node.span, tag)
            key = name if name in _BARE_INTRINSICS else f"Fn::{name}"
            return Node({key: node}, node.span, tag=tag)
        if tag != "!":
            node.tag = "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag
        return node

    def _get_att(self, node: Node, yn: yaml.ScalarNode) -> Node:
        """`!GetAtt res.Attr` is short for `Fn::GetAtt: [res, Attr]`; the attribute may itself contain dots."""
        text = str(node.value)
        resource, dot, attribute = text.partition(".")
        if not dot:
            return self._tagged(node, "!GetAtt")
        span = node.span
        first, second = span, span
        if yn.style in (None, "") and span.line == span.end_line:
            # A plain one-line scalar: each part's columns are exact.
            start = span.end_column - len(text)
            first = Span(span.line, start, span.line, start + len(resource))
            second = Span(span.line, start + len(resource) + 1, span.line, span.end_column)
        inner = Node([Node(resource, first), Node(attribute, second)], span, key_span=self._tag_span(span, "!GetAtt"))
        return Node({"Fn::GetAtt": inner}, span, tag="!GetAtt")

    @staticmethod
    def _tag_span(span: Span, tag: str) -> Span:
        # A tagged node's start mark is the tag itself.
        return Span(span.line, span.column, span.line, span.column + len(tag))

    def _span(self, yn: yaml.Node) -> Span:
        start, end = yn.start_mark, yn.end_mark
        if end.column == 0 and end.line > start.line:
            # Block collections and block scalars end at the start of the next token; point at the last
            # line that has content instead.
            line, column = self._content_end(start.line, end.line)
            return Span(start.line + 1, start.column + 1, line, column)
        return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)

    def _content_end(self, first: int, after: int) -> tuple[int, int]:
        if self._lines is None:
            self._lines = self.text.split("\n")
        lines = self._lines
        index = min(after, len(lines)) - 1
        while index > first and _is_blank_or_comment(lines[index]):
            index -= 1
        return index + 1, len(lines[index].rstrip("\r")) + 1

    def _expansion_error(self, exc: _Expansion) -> ParseError:
        path = exc.path
        if exc.cyclic:
            target = path[0][0]
            parent = path[1][0] if len(path) > 1 else target
            reason = "recursive YAML alias"
        else:
            outermost = max((i for i, (_, revisit) in enumerate(path) if revisit), default=0)
            target = path[outermost][0]
            parent = path[outermost + 1][0] if outermost + 1 < len(path) else target
            reason = f"YAML alias expansion exceeds {MAX_ALIAS_NODES} nodes"
        return ParseError(reason, _alias_line(self.text, target, parent))


def _is_merge_source(node: yaml.Node) -> bool:
    if isinstance(node, yaml.MappingNode):
        return True
    return isinstance(node, yaml.SequenceNode) and all(isinstance(n, yaml.MappingNode) for n in node.value)


def _is_blank_or_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _alias_line(text: str, target: yaml.Node, parent: yaml.Node) -> int:
    """The line of the first alias to `target` inside `parent`.

    The composer replaces aliases by the anchored node, so on this (rare) error path we re-read the events,
    which still carry the alias positions.
    """
    anchored = (target.start_mark.line, target.start_mark.column)
    low = (parent.start_mark.line, parent.start_mark.column)
    high = (parent.end_mark.line, parent.end_mark.column)
    anchors: dict[str, tuple[int, int]] = {}
    for event in yaml.parse(text, Loader=_LOADER):
        if not isinstance(event, yaml.NodeEvent) or event.anchor is None or event.start_mark is None:
            continue
        where = (event.start_mark.line, event.start_mark.column)
        if not isinstance(event, yaml.AliasEvent):
            anchors[event.anchor] = where
        elif anchors.get(event.anchor) == anchored and low <= where <= high:
            return where[0] + 1
    return anchored[0] + 1
