"""Kustomize without kustomize: resources, bases and components gathered, then strategic-merge and JSON 6902
patches and the `images` transformer applied. Names, namespaces and replicas are left alone (sizes and names are
never compared); remote bases and Helm charts are not rendered and say so."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from pfa_policy.model import ParseError, Span
from pfa_policy.parity.located import PatchError, Val, json_patch, load, located, strategic_merge
from pfa_policy.parsers.yaml_doc import parse_yaml

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_REMOTE = re.compile(r"^(https?://|git@|github\.com/|ssh://)|\?ref=|//")
_MAX_DEPTH = 12


@dataclass
class Rendered:
    resources: list[Val] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    unrendered: list[str] = field(default_factory=list)  # why parts could not be rendered ("not compared")


@dataclass(frozen=True)
class Tree:
    """The repository's files, as the renderer reads them."""

    paths: frozenset[str]
    read: Callable[[str], str]

    def kustomization(self, directory: str) -> str | None:
        for name in KUSTOMIZATION_NAMES:
            candidate = posixpath.join(directory, name) if directory else name
            if candidate in self.paths:
                return candidate
        return None

    def documents(self, path: str) -> list[Val]:
        return [d for d in load(path, self.read(path)) if isinstance(d.value, dict)]


def render(tree: Tree, directory: str) -> Rendered:
    out = Rendered()
    out.resources = _render(tree, directory, out, 0, ())
    return out


def _render(tree: Tree, directory: str, out: Rendered, depth: int, stack: tuple[str, ...]) -> list[Val]:
    path = tree.kustomization(directory)
    if path is None or path in stack or depth > _MAX_DEPTH:
        return []
    out.files.append(path)
    documents = tree.documents(path)
    if not documents:
        out.unrendered.append(f"{path}: not readable")
        return []
    k = documents[0]
    resources: list[Val] = []
    for entry in _strings(k, "resources", "bases", "components"):
        resources.extend(_resource(tree, directory, entry, out, depth, (*stack, path)))
    for generator in _list(k, "configMapGenerator"):
        resources.append(_config_map(generator, path))
    if k.get("helmCharts") is not None or k.get("helmChartInflationGenerator") is not None:
        out.unrendered.append(f"{path}: Helm charts inflated by kustomize are not rendered")
    for entry in _strings(k, "patchesStrategicMerge"):
        for patch in _patch_documents(tree, directory, entry, k, path):
            resources = _apply_smp(resources, patch, None)
    for item in _list(k, "patches"):
        resources = _apply_patch_entry(tree, directory, item, resources, out, path)
    for item in _list(k, "patchesJson6902"):
        resources = _apply_patch_entry(tree, directory, item, resources, out, path)
    images = k.get("images")
    if images is not None:
        resources = [_set_images(r, list(images.elements())) for r in resources]
    return resources


def _list(value: Val, key: str) -> list[Val]:
    child = value.get(key)
    return list(child.elements()) if child is not None else []


def _strings(k: Val, *keys: str) -> Iterable[str]:
    for key in keys:
        value = k.get(key)
        for element in value.elements() if value is not None else ():
            if element.text():
                yield element.text()


def _resource(tree: Tree, directory: str, entry: str, out: Rendered, depth: int,
              stack: tuple[str, ...]) -> list[Val]:
    if _REMOTE.search(entry):
        out.unrendered.append(f"remote base {entry} is not rendered")
        return []
    target = posixpath.normpath(posixpath.join(directory, entry))
    if target in tree.paths:
        out.files.append(target)
        return [d for d in tree.documents(target) if d.get("kind") is not None]
    if tree.kustomization(target) is not None:
        return _render(tree, target, out, depth + 1, stack)
    out.unrendered.append(f"{entry} (from {directory or '.'}) is not in the repository")
    return []


def _config_map(generator: Val, source: str) -> Val:
    data: dict[str, Val] = {}
    for literal in _list(generator, "literals"):
        key, _, value = literal.text().partition("=")
        data[key.strip()] = Val(value.strip(), literal.file, literal.span)
    name = generator.get("name") or Val("", source)
    metadata = Val({"name": name}, source, generator.span)
    return Val({"kind": Val("ConfigMap", source, generator.span), "metadata": metadata,
                "data": Val(data, source, generator.span)}, source, generator.span)


def _patch_documents(tree: Tree, directory: str, entry: str, k: Val, path: str) -> list[Val]:
    if "\n" in entry or (":" in entry and not entry.endswith((".yaml", ".yml", ".json"))):
        return _inline(entry, k, path)
    target = posixpath.normpath(posixpath.join(directory, entry))
    return tree.documents(target) if target in tree.paths else []


def _inline(text: str, k: Val, path: str) -> list[Val]:
    """An inline patch (a block scalar in the kustomization): positions shifted to where it stands."""
    try:
        nodes = [d.root for d in parse_yaml(text)]
    except ParseError:
        return []
    line = _inline_line(k, text)
    return [_shift(located(n, path), line) for n in nodes]


def _inline_line(k: Val, text: str) -> int:
    for value in _walk(k):
        if value.value == text:
            return value.span.line
    return 0


def _walk(value: Val) -> Iterable[Val]:
    yield value
    for _, child in value.items():
        yield from _walk(child)
    for child in value.elements():
        yield from _walk(child)


def _shift(value: Val, lines: int) -> Val:
    def moved(span: Span | None) -> Span | None:
        if span is None:
            return None
        return Span(span.line + lines, span.column, span.end_line + lines, span.end_column)

    if isinstance(value.value, dict):
        inner: object = {k: _shift(v, lines) for k, v in value.value.items()}
    elif isinstance(value.value, list):
        inner = [_shift(v, lines) for v in value.value]
    else:
        inner = value.value
    return Val(inner, value.file, moved(value.span) or value.span, moved(value.key_span))  # type: ignore[arg-type]


def _identity(resource: Val) -> tuple[str, str]:
    kind = (resource.get("kind") or Val("", "")).text()
    name = (resource.path("metadata.name") or Val("", "")).text()
    return kind, name


def _targets(resource: Val, target: Val | None, patch: Val | None) -> bool:
    kind, name = _identity(resource)
    if target is not None:
        want_kind = (target.get("kind") or Val("", "")).text()
        want_name = (target.get("name") or Val("", "")).text()
        if want_kind and want_kind != kind:
            return False
        return not want_name or re.fullmatch(want_name, name) is not None
    if patch is None:
        return False
    return _identity(patch) == (kind, name)


def _apply_smp(resources: list[Val], patch: Val, target: Val | None) -> list[Val]:
    out = []
    for resource in resources:
        if _targets(resource, target, patch):
            merged = strategic_merge(resource, patch)
            if merged is not None:
                out.append(merged)
        else:
            out.append(resource)
    return out


def _apply_patch_entry(tree: Tree, directory: str, item: Val, resources: list[Val], out: Rendered,
                       path: str) -> list[Val]:
    target = item.get("target")
    documents: list[Val] = []
    inline = item.get("patch")
    file = item.get("path")
    if inline is not None and inline.text():
        documents = _inline_any(inline, path)
    elif file is not None and file.text():
        target_file = posixpath.normpath(posixpath.join(directory, file.text()))
        if target_file not in tree.paths:
            out.unrendered.append(f"{path}: patch {file.text()} is not in the repository")
            return resources
        out.files.append(target_file)
        documents = _any_documents(tree, target_file)
    for document in documents:
        if isinstance(document.value, list):
            resources = _apply_json(resources, document, target, out, path)
        else:
            resources = _apply_smp(resources, document, target)
    return resources


def _inline_any(inline: Val, path: str) -> list[Val]:
    try:
        nodes = [d.root for d in parse_yaml(inline.text())]
    except ParseError:
        return []
    return [_shift(located(n, path), inline.span.line) for n in nodes]


def _any_documents(tree: Tree, path: str) -> list[Val]:
    return load(path, tree.read(path))


def _apply_json(resources: list[Val], operations: Val, target: Val | None, out: Rendered, path: str) -> list[Val]:
    if target is None:
        return resources
    patched = []
    for resource in resources:
        if _targets(resource, target, None):
            try:
                resource = json_patch(resource, operations)
            except PatchError as error:
                out.unrendered.append(f"{path}: JSON patch does not apply to {'/'.join(_identity(resource))}: "
                                      f"{error}")
        patched.append(resource)
    return patched


def _set_images(resource: Val, images: list[Val]) -> Val:
    spec = _pod_spec_path(resource)
    if spec is None:
        return resource
    return _rewrite(resource, spec, images)


_POD_PATHS = {"Deployment": ("spec", "template", "spec"), "StatefulSet": ("spec", "template", "spec"),
              "DaemonSet": ("spec", "template", "spec"), "ReplicaSet": ("spec", "template", "spec"),
              "Job": ("spec", "template", "spec"), "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
              "Pod": ("spec",)}


def _pod_spec_path(resource: Val) -> tuple[str, ...] | None:
    return _POD_PATHS.get(_identity(resource)[0])


def _rewrite(node: Val, path: tuple[str, ...], images: list[Val]) -> Val:
    if not path:
        if not isinstance(node.value, dict):
            return node
        children = dict(node.value)
        for key in ("containers", "initContainers"):
            if key in children:
                children[key] = replace(children[key], value=[_image(c, images) for c in children[key].elements()])
        return replace(node, value=children)
    child = node.get(path[0])
    if child is None or not isinstance(node.value, dict):
        return node
    return replace(node, value={**node.value, path[0]: _rewrite(child, path[1:], images)})


def _image(container: Val, images: list[Val]) -> Val:
    image = container.get("image")
    if image is None or not isinstance(container.value, dict):
        return container
    reference = image.text()
    name = re.split(r"[@]", reference)[0]
    name = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
    for entry in images:
        if (entry.get("name") or Val("", "")).text() != name:
            continue
        new_name = entry.get("newName")
        new_tag = entry.get("newTag")
        digest = entry.get("digest")
        source = new_name or new_tag or digest or entry
        repo = new_name.text() if new_name is not None else name
        tag = reference[len(name):]
        if new_tag is not None:
            tag = ":" + new_tag.text()
        if digest is not None:
            tag = "@" + digest.text()
        return replace(container, value={**container.value, "image": Val(repo + tag, source.file, source.span,
                                                                         source.key_span)})
    return container
