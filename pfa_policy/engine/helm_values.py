"""What a Helm values file switches off: the components its own `enabled: false` disables.

Helm charts switch a component off with `enabled: false` in its values mapping (`pgbouncer.enabled: false`,
`volumePermissions.enabled: false`): the templates that would use the rest of the mapping are guarded by
`{{ if .Values.pgbouncer.enabled }}` and render nothing. Rules that judge values (kind `helm-values`) therefore
skip such a mapping and everything below it (the matcher in `document_match`); a predicate sees the document
without them. The document root is not a component: a chart's own top-level `enabled` switches nothing.
"""

from __future__ import annotations

from pfa_policy.engine.memo import IdentityMemo
from pfa_policy.parsers.tree import Document, Node

HELM_VALUES = "helm-values"


def switched_off(node: Node) -> bool:
    """A mapping whose `enabled` is the literal false (or the string "false", as some charts quote it)."""
    enabled = node.get("enabled")
    if enabled is None:
        return False
    value = enabled.value
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def under(path: str, prefixes: tuple[str, ...]) -> bool:
    """Whether a matcher path (`a.b[name=x].c`) is one of `prefixes` or below one."""
    return any(path == p or path.startswith((p + ".", p + "[")) for p in prefixes)


_ENABLED: IdentityMemo[Document] = IdentityMemo(64)


def enabled_only(document: Document) -> Document:
    """The document without the mappings it switches off (the root is kept whatever it says)."""
    if document.kind != HELM_VALUES:
        return document
    return _ENABLED.get(document.root, lambda: _pruned_document(document))


def _pruned_document(document: Document) -> Document:
    root = _pruned(document.root)
    return document if root is document.root else Document(root, document.index, document.kind)


def _pruned(node: Node) -> Node:
    """`node` without the switched-off mappings below it; the same object when there is nothing to remove."""
    if isinstance(node.value, dict):
        changed = False
        kept: dict[str, Node] = {}
        for key, child in node.value.items():
            if child.is_mapping and switched_off(child):
                changed = True
                continue
            pruned = _pruned(child)
            changed = changed or pruned is not child
            kept[key] = pruned
        return Node(kept, node.span, node.key_span, node.tag) if changed else node
    if isinstance(node.value, list):
        items = [item for item in node.value if not (item.is_mapping and switched_off(item))]
        pruned_items = [_pruned(item) for item in items]
        if len(items) == len(node.value) and all(a is b for a, b in zip(pruned_items, node.value, strict=True)):
            return node
        return Node(pruned_items, node.span, node.key_span, node.tag)
    return node
