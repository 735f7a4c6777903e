"""What a Helm values file switches off: the components its own `enabled: false` disables.

Helm charts switch a component off with `enabled: false` in its values mapping (`pgbouncer.enabled: false`,
`volumePermissions.enabled: false`): the templates that would use the rest of the mapping are guarded by
`{{ if .Values.pgbouncer.enabled }}` and render nothing. Rules that judge values (kind `helm-values`) therefore
skip such a mapping and everything below it (the matcher in `document_match`); a predicate sees the document
without them. The document root is not a component: a chart's own top-level `enabled` switches nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from pathlib import PurePosixPath
from typing import Any

from pfa_policy.engine.memo import IdentityMemo
from pfa_policy.parsers.helm import load_mapping, merge_values
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


# A subchart's defaults (`<parent>/charts/<sub>/values.yaml`) are what its parent leaves them: the parent's values
# under the subchart's key (its alias in the parent's `dependencies`, else its name) override them as Helm merges
# them, and a subchart the parent switches off (a `condition:` that is false, or `<key>.enabled: false`) is not
# deployed at all. The parent's own values are judged in the parent's file; the subchart's file keeps the rest.
SUBCHART_DEFAULTS = ("values.yaml", "values.yml")


def parent_charts(chart: str) -> list[str]:
    """The charts `chart` would be a subchart of by its path, innermost first: `a/charts/b` is `a`'s."""
    found: list[str] = []
    parts = PurePosixPath(chart).parts
    while len(parts) >= 2 and parts[-2] == "charts":
        parts = parts[:-2]
        found.append("/".join(parts) or ".")
    return found


def _in(chart: str, name: str) -> str:
    return name if chart == "." else f"{chart}/{name}"


def as_subchart(path: str, documents: list[Document], files: tuple[tuple[str, bytes], ...]) -> list[Document]:
    """A subchart's default values as its parents deploy them: nothing when a parent switches it off, else
    without the parts a parent overrides. `files`: the parents' and the subchart's Chart.yaml and values.yaml
    (`engine.helm.parent_files`); without them the documents are returned as they are."""
    named = {name: data.decode("utf-8", "replace") for name, data in files}
    chart = str(PurePosixPath(path).parent) if "/" in path else "."
    chain = [c for c in reversed(parent_charts(chart)) if _in(c, "Chart.yaml") in named]
    if not chain or not documents:
        return documents
    chain.append(chart)
    effective = load_mapping(named.get(_in(chain[0], "values.yaml"), ""))
    override: dict[str, Any] = {}
    for parent, child in pairwise(chain):
        metadata = load_mapping(named.get(_in(parent, "Chart.yaml"), ""))
        own = load_mapping(named.get(_in(child, "Chart.yaml"), ""))
        defaults = load_mapping(named.get(_in(child, "values.yaml"), ""))
        name: str = own["name"] if isinstance(own.get("name"), str) else PurePosixPath(child).name
        dependencies = [d for d in metadata.get("dependencies") or () if isinstance(d, dict) and d.get("name") == name]
        if len(dependencies) > 1:
            return documents  # deployed more than once, under several aliases: no single set of values applies
        dependency = dependencies[0] if dependencies else {}
        key: str = dependency["alias"] if isinstance(dependency.get("alias"), str) else name
        given = effective.get(key)
        override = dict(given) if isinstance(given, dict) else {}
        if isinstance(effective.get("global"), dict):
            override["global"] = merge_values(override.get("global") or {}, effective["global"])
        if not _deployed(dependency, merge_values({key: defaults}, effective), key):
            return []
        effective = merge_values(defaults, override)
    if not override:
        return documents
    return [Document(_without(d.root, override) or Node({}, d.root.span), d.index, d.kind) for d in documents]


def _deployed(dependency: Mapping[str, Any], values: Mapping[str, Any], key: str) -> bool:
    """Helm's `condition:` (the first of its comma-separated paths that holds a boolean decides), else
    `<key>.enabled: false` in the parent's values, the convention of the values themselves."""
    condition = dependency.get("condition")
    for text in condition.split(",") if isinstance(condition, str) else ():
        node: Any = values
        for part in text.strip().split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, bool):
            return node
    component = values.get(key)
    enabled = component.get("enabled") if isinstance(component, dict) else None
    return not (enabled is False or (isinstance(enabled, str) and enabled.strip().lower() == "false"))


def _without(node: Node, override: object) -> Node | None:
    """`node` without what `override` sets over it (None: replaced whole). Mappings merge key by key, so an
    override of a non-empty mapping removes only the keys it gives; anything else replaces the node."""
    if not isinstance(override, dict) or not isinstance(node.value, dict) or (not node.value and override):
        return None
    kept: dict[str, Node] = {}
    for key, child in node.value.items():
        if key not in override:
            kept[key] = child
            continue
        rest = _without(child, override[key])
        if rest is not None:
            kept[key] = rest
    return Node(kept, node.span, node.key_span, node.tag) if kept else None  # all of it given: judged in the parent
