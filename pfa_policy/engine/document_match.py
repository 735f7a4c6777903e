"""The structured-document half of the match vocabulary: selectors, paths and conditions over Node trees."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pfa_policy.engine.globs import NameGlobs, compile_name_globs
from pfa_policy.engine.helm_values import HELM_VALUES, enabled_only, switched_off, under
from pfa_policy.engine.iam_statements import iam_statements
from pfa_policy.engine.memo import IdentityMemo
from pfa_policy.engine.terraform_match import TerraformResource, companions, select_resources
from pfa_policy.engine.values import UNKNOWN, VALUE_KEYS, ValueCondition, as_text
from pfa_policy.model import Hit, PfaError
from pfa_policy.parsers.terraform import BLOCKS, expression_of
from pfa_policy.parsers.terraform_module import TerraformDocument
from pfa_policy.parsers.tree import Document, Node

DocumentPredicate = Callable[[Document, Mapping[str, Any]], Iterator[Hit]]

_SEGMENT = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|\[(\*|\d+)\]|\.?(\*\*|[^.\[\]]+)')

# Workload kinds and where their pod spec lives.
_POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
# KServe components whose spec is pod-like, and the framework keys that are container-like.
_KSERVE_COMPONENTS = ("predictor", "transformer", "explainer")
_KSERVE_FRAMEWORKS = ("model", "sklearn", "xgboost", "tensorflow", "pytorch", "triton", "onnx", "lightgbm",
                      "paddle", "pmml", "huggingface", "alibi", "art")
_ENV_KEYS = frozenset({"env", "environment", "variables", "extraEnv", "envVars"})


@dataclass(frozen=True, slots=True)
class Element:
    """One node a pattern iterates over, with the context its conditions may refer to."""

    node: Node
    path: str
    pod: Node | None
    doc: Node
    resource: TerraformResource | None = None  # the Terraform resource the element is (in)


Segment = tuple[str, str]  # ("key", name) | ("index", n) | ("any", "*") | ("deep", "**")


def parse_path(text: str) -> tuple[str, tuple[Segment, ...]]:
    """`$pod.securityContext.runAsNonRoot` -> ("pod", segments). Bases: element (default), pod, doc."""
    base = "element"
    for prefix in ("$pod", "$doc"):
        if text == prefix or text.startswith(prefix + ".") or text.startswith(prefix + "["):
            base = prefix[1:]
            text = text[len(prefix):]
            break
    segments: list[Segment] = []
    position = 0
    while position < len(text):
        found = _SEGMENT.match(text, position)
        if found is None or found.end() == position:
            raise PfaError(f"invalid path expression {text!r} at character {position + 1}")
        quoted, bracket, plain = found.groups()
        if quoted is not None:
            segments.append(("key", quoted.replace('\\"', '"')))
        elif bracket is not None:
            segments.append(("any", "*") if bracket == "*" else ("index", bracket))
        elif plain == "**":
            segments.append(("deep", "**"))
        elif plain == "*":
            segments.append(("any", "*"))
        else:
            segments.append(("key", plain))
        position = found.end()
    return base, tuple(segments)


def resolve(node: Node, segments: tuple[Segment, ...], path: str = "") -> Iterator[tuple[str, Node]]:
    if not segments:
        yield path, node
        return
    (kind, name), rest = segments[0], segments[1:]
    if kind == "key" and node.tag == BLOCKS and isinstance(node.value, list):
        # Terraform nested blocks repeat: `rule.apply_server_side_encryption_by_default` reads every `rule`.
        for position, block in enumerate(node.value):
            yield from resolve(block, segments, f"{path}[{position}]")
    elif kind == "key":
        child = node.get(name)
        if child is not None:
            yield from resolve(child, rest, _join(path, name))
    elif kind == "index":
        if isinstance(node.value, list) and int(name) < len(node.value):
            yield from resolve(node.value[int(name)], rest, f"{path}[{name}]")
    elif kind == "any":
        yield from _each_child(node, rest, path)
    else:  # deep: zero or more levels, i.e. `rest` from every node of the subtree, in document order
        every, by_key = _subtree(node, path)
        if rest and rest[0][0] == "key" and by_key is not None:
            for child_path, child in by_key.get(rest[0][1], ()):
                yield from resolve(child, rest[1:], child_path)
        else:
            for deep_path, deep_node in every:
                yield from resolve(deep_node, rest, deep_path)


_Located = list[tuple[str, Node]]
# Rules ask `**` of the same documents again and again (a manifest-heavy repository spent most of its time
# re-walking them): each subtree is listed once.
_SUBTREES: IdentityMemo[tuple[_Located, dict[str, _Located] | None]] = IdentityMemo(512)


def _subtree(node: Node, path: str) -> tuple[_Located, dict[str, _Located] | None]:
    """Every node of the subtree with its path (the node first, then depth first), and the children under each
    mapping key among them (None when Terraform blocks, which a key reads through, make that index wrong)."""
    return _SUBTREES.get(node, lambda: _index_subtree(node, path), path)


def _index_subtree(node: Node, path: str) -> tuple[_Located, dict[str, _Located] | None]:
    every: _Located = []
    _list_subtree(node, path, every)
    by_key: dict[str, _Located] = {}
    for located_path, located in every:
        if located.tag == BLOCKS:
            return every, None
        if isinstance(located.value, dict):
            for key, child in located.value.items():
                by_key.setdefault(key, []).append((_join(located_path, key), child))
    return every, by_key


def _list_subtree(node: Node, path: str, into: _Located) -> None:
    into.append((path, node))
    for child_path, child in _children(node, path):
        _list_subtree(child, child_path, into)


def _each_child(node: Node, rest: tuple[Segment, ...], path: str) -> Iterator[tuple[str, Node]]:
    for child_path, child in _children(node, path):
        yield from resolve(child, rest, child_path)


def _children(node: Node, path: str) -> Iterator[tuple[str, Node]]:
    if isinstance(node.value, dict):
        for key, child in node.value.items():
            yield _join(path, key), child
    elif isinstance(node.value, list):
        for position, child in enumerate(node.value):
            yield f"{path}[{_element_label(child, position)}]", child


def _element_label(node: Node, position: int) -> str:
    """List elements are named by their `name` when they have one: stable when the list is reordered."""
    name = node.get("name")
    if name is not None and isinstance(name.value, str):
        return f"name={name.value}"
    return str(position)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


@dataclass(frozen=True, slots=True)
class Condition:
    base: str
    segments: tuple[Segment, ...] | None
    exists: bool | None
    value: ValueCondition | None
    any_of: tuple[Condition, ...] = ()
    all_of: tuple[Condition, ...] = ()
    negated: Condition | None = None
    attached: Attached | None = None
    key: ValueCondition | None = None  # on the last key of the element's path (a Terraform block's label)

    @classmethod
    def compile(cls, spec: Mapping[str, Any]) -> Condition:
        base, segments = parse_path(spec["path"]) if "path" in spec else ("element", None)
        exists: bool | None = None
        if spec.get("missing"):
            exists = False
        elif "exists" in spec:
            exists = bool(spec["exists"])
        value_spec = {k: v for k, v in spec.items() if k in VALUE_KEYS}
        return cls(
            base,
            segments,
            exists,
            ValueCondition.compile(value_spec) if value_spec else None,
            tuple(cls.compile(s) for s in spec.get("any", ())),
            tuple(cls.compile(s) for s in spec.get("all", ())),
            cls.compile(spec["not"]) if "not" in spec else None,
            Attached.compile(spec["attached"]) if "attached" in spec else None,
            ValueCondition.compile(spec["key"]) if "key" in spec else None,
        )

    def evaluate(self, element: Element, params: Mapping[str, Any]) -> tuple[bool, Node | None]:
        """Whether the condition holds, and the node a finding should point at when it does."""
        if self.any_of:
            for condition in self.any_of:
                holds, report = condition.evaluate(element, params)
                if holds:
                    return True, report
            return False, None
        if self.all_of:
            return _all_hold(self.all_of, element, params)
        if self.negated is not None:
            holds, _ = self.negated.evaluate(element, params)
            return not holds, None
        if self.attached is not None:
            return self.attached.evaluate(element, params), None
        if self.key is not None:
            return self.key.holds(element.path.rpartition(".")[2], params), None
        present = [n for _, n in self._targets(element)]
        if self.exists is True and self.value is None:
            return bool(present), present[0] if present else None  # a key written with no value exists
        nodes = [n for n in present if n.value is not None or n.tag]
        if self.exists is False:
            return (not nodes), None  # missing: absent, or present without a value
        if self.value is None:
            return bool(nodes), nodes[0] if nodes else None
        for node in nodes:
            # A list satisfies a value condition when one of its scalar items does (e.g. a `script:` list).
            for candidate in (node.value if isinstance(node.value, list) else [node]):
                if candidate.is_scalar and self.value.holds(candidate.value, params):
                    return True, candidate
        return False, None

    def tokens(self) -> Requirements | None:
        """What a file's text must contain for the condition to hold (see `DocumentPattern.prefilter_tokens`):
        a condition that needs a key to be there (exists, or a value test: a missing key fails both) needs its
        name; `any` needs one of its branches'. None: it may hold on a file without any literal (missing, not,
        a Terraform label or companion)."""
        if self.any_of:
            union: set[tuple[str, ...]] = set()
            for condition in self.any_of:
                branch = condition.tokens()
                if branch is None:
                    return None
                union.update(branch)
            return frozenset(union)
        if self.all_of:
            return _all_of([c.tokens() for c in self.all_of])
        if self.negated is not None or self.attached is not None or self.key is not None or self.exists is False:
            return None
        if self.exists is None and self.value is None:
            return None
        return _key_requirement(self.segments)

    def _targets(self, element: Element) -> Iterator[tuple[str, Node]]:
        start = {"element": element.node, "pod": element.pod, "doc": element.doc}[self.base]
        if start is None:
            return iter(())
        return resolve(start, self.segments or ())


@dataclass(frozen=True, slots=True)
class Attached:
    """A Terraform companion resource that names the element's resource (`aws_s3_bucket_versioning` with
    `bucket = aws_s3_bucket.models.id`) and satisfies `where`."""

    types: NameGlobs
    by: tuple[str, ...]
    where: tuple[Condition, ...]

    @classmethod
    def compile(cls, spec: Mapping[str, Any]) -> Attached:
        by = spec.get("by", "bucket")
        return cls(compile_name_globs(spec["resource_types"]), (by,) if isinstance(by, str) else tuple(by),
                   tuple(Condition.compile(c) for c in spec.get("where", ())))

    def evaluate(self, element: Element, params: Mapping[str, Any]) -> bool:
        if element.resource is None:
            return False
        for companion in companions(element.resource, self.types, self.by):
            inner = Element(companion.body, f"resource.{companion.address}", None, element.doc, companion)
            if _all_hold(self.where, inner, params)[0]:
                return True
        return False


def _all_hold(conditions: tuple[Condition, ...], element: Element,
              params: Mapping[str, Any]) -> tuple[bool, Node | None]:
    first_report: Node | None = None
    for condition in conditions:
        holds, report = condition.evaluate(element, params)
        if not holds:
            return False, None
        first_report = first_report or report
    return True, first_report


@dataclass(frozen=True, slots=True)
class DocumentPattern:
    kinds: frozenset[str] | None
    api_versions: NameGlobs | None
    resource_types: NameGlobs | None
    for_each: str | None
    where: tuple[Condition, ...]
    report: tuple[str, tuple[Segment, ...]] | None
    predicate: str

    @classmethod
    def compile(cls, spec: Mapping[str, Any]) -> DocumentPattern:
        for_each = spec.get("for_each")
        if for_each is not None and not for_each.startswith("$"):
            parse_path(for_each)  # reject a malformed path at load time
        elif for_each is not None and for_each not in FOR_EACH_MACROS:
            raise PfaError(f"unknown for_each macro {for_each!r} (the macros are {', '.join(FOR_EACH_MACROS)})")
        return cls(
            frozenset(spec["kinds"]) if "kinds" in spec else None,
            compile_name_globs(spec["api_versions"]) if "api_versions" in spec else None,
            compile_name_globs(spec["resource_types"]) if "resource_types" in spec else None,
            for_each,
            tuple(Condition.compile(c) for c in spec.get("where", ())),
            parse_path(spec["report"]) if "report" in spec else None,
            spec.get("predicate", ""),
        )

    def prefilter_tokens(self) -> Requirements | None:
        """What a file's lower-cased text must contain for this pattern to possibly hit: any one of the
        requirements, each a tuple of literals that must all appear. None: the pattern cannot be pre-filtered.

        A document is selected by the `kind`, `apiVersion` and resource `Type` / Terraform resource type it spells,
        and a path it tests spells its last key: those are in the text of the file (or, for a Helm template, of
        its chart, which the worker scans with it), and so is every key a path it tests goes through. The elements
        `_BUILT_ELEMENTS` macros make may name keys the file spells otherwise, so conditions on them are not used;
        a predicate sees every selected document, so only the selectors count for it."""
        parts: list[Requirements | None] = [_any_literal(self.kinds), _any_literal(self.api_versions),
                                            _any_literal(self.resource_types) if not self.predicate else None]
        if not self.predicate:
            if self.for_each is not None and not self.for_each.startswith("$"):
                parts.append(_key_requirement(parse_path(self.for_each)[1]))
            built = self.for_each in _BUILT_ELEMENTS
            parts.extend(c.tokens() for c in self.where if not (built and c.base == "element"))
        return _all_of(parts)

    def selects(self, document: Document) -> bool:
        root = document.root
        if self.kinds is not None:
            kind = root.get("kind")
            if kind is None or kind.value not in self.kinds:
                return False
        if self.api_versions is not None:
            api = root.get("apiVersion")
            if api is None or not self.api_versions.fullmatch(as_text(api.value)):
                return False
        return True

    def elements(self, document: Document) -> Iterator[Element]:
        root = document.root
        bases: list[tuple[str, Node, TerraformResource | None]] = [("", root, None)]
        if isinstance(document, TerraformDocument) and document.module is not None:
            # Blocks that are not resources (providers, modules) still see their module's resources.
            bases = [("", root, TerraformResource("", "", root, document.module))]
        if self.resource_types is not None and isinstance(document, TerraformDocument):
            bases = [(path, r.body, r) for path, r in select_resources(document, self.resource_types)]
        elif self.resource_types is not None:
            bases = [(path, node, None) for path, node in _resources(root, self.resource_types)]
        for base_path, base, resource in bases:
            if self.for_each is None:
                yield Element(base, base_path, None, root, resource)
            elif self.for_each.startswith("$"):
                yield from _macro(self.for_each, base, base_path, root)
            else:
                _, segments = parse_path(self.for_each)
                for path, node in resolve(base, segments, base_path):
                    yield Element(node, path, None, root, resource)


Requirements = frozenset[tuple[str, ...]]
# Requirements combined by `all` multiply; past this many, a condition's tokens are left out (still exact, only
# less selective).
_MAX_REQUIREMENTS = 64
_GLOB_SPECIAL = re.compile(r"[*?\[\]]")


def _key_requirement(segments: tuple[Segment, ...] | None) -> Requirements | None:
    """A path that resolves passes through every key it names."""
    keys = tuple(dict.fromkeys(name.lower() for kind, name in segments or () if kind == "key" and name))
    return frozenset({keys}) if keys else None


def _any_literal(names: frozenset[str] | NameGlobs | None) -> Requirements | None:
    """One of the names (kinds, or the longest literal run of each glob) must be spelled."""
    if names is None:
        return None
    literals = set()
    for name in sorted(names) if isinstance(names, frozenset) else names.globs:
        longest = max(_GLOB_SPECIAL.split(name), key=len).lower()
        if len(longest) < 3:
            return None  # a glob like `*` spells nothing worth searching for
        literals.add((longest,))
    return frozenset(literals) or None


def _all_of(parts: list[Requirements | None]) -> Requirements | None:
    """Requirements that must all be met, as alternatives of literals; None when none of them is known."""
    combined: Requirements | None = None
    for part in parts:
        if part is None:
            continue
        if combined is None:
            combined = part
        elif len(combined) * len(part) <= _MAX_REQUIREMENTS:
            combined = frozenset(tuple(dict.fromkeys(a + b)) for a in combined for b in part)
    return combined


def _resources(root: Node, types: NameGlobs) -> Iterator[tuple[str, Node]]:
    resources = root.get("Resources")
    if resources is None:
        return
    for logical_id, resource in resources.items():
        resource_type = resource.get("Type")
        if resource_type is not None and isinstance(resource_type.value, str) and types.fullmatch(
            resource_type.value
        ):
            yield f"Resources.{logical_id}", resource


def pod_specs(root: Node, base: Node, base_path: str) -> Iterator[tuple[str, Node]]:
    kind_node = root.get("kind")
    kind = kind_node.value if kind_node is not None else None
    api = as_text(root.get("apiVersion").value) if root.get("apiVersion") is not None else ""  # type: ignore[union-attr]
    if isinstance(kind, str) and kind in _POD_SPEC_PATHS:
        yield from resolve(base, tuple(("key", k) for k in _POD_SPEC_PATHS[kind]), base_path)
    elif api.startswith("serving.kserve.io"):
        for component in _KSERVE_COMPONENTS:
            yield from resolve(base, (("key", "spec"), ("key", component)), base_path)
    elif api.startswith("machinelearning.seldon.io"):
        segments: tuple[Segment, ...] = (("key", "spec"), ("key", "predictors"), ("any", "*"),
                                         ("key", "componentSpecs"), ("any", "*"), ("key", "spec"))
        yield from resolve(base, segments, base_path)


# Argo Workflows kinds and where their workflow spec lives. Each template with a `container`, `script` or
# `containerSet` is one pod: its containers are workloads like a Job's (resources, securityContext, images).
ARGO_WORKFLOW_SPECS: dict[str, tuple[str, ...]] = {
    "Workflow": ("spec",),
    "WorkflowTemplate": ("spec",),
    "ClusterWorkflowTemplate": ("spec",),
    "CronWorkflow": ("spec", "workflowSpec"),
}


def _merged(defaults: Node | None, own: Node) -> Node:
    """`own` with the keys it does not set taken from `defaults` (Argo `templateDefaults`, the workflow's
    pod-level `securityContext`), keeping `own`'s position for findings."""
    if defaults is None or not defaults.is_mapping or not own.is_mapping:
        return own
    merged = dict(defaults.value)  # type: ignore[arg-type]
    merged.update(own.value)  # type: ignore[arg-type]
    return Node(merged, own.span, own.key_span, own.tag)


def argo_containers(root: Node, base: Node, base_path: str, *, all_containers: bool = False
                    ) -> Iterator[tuple[str, Node, Node, str]]:
    """(path, container, pod-like template, "container" | "script" | "containerSet" | list name) of every step
    container of an Argo Workflow / WorkflowTemplate / ClusterWorkflowTemplate / CronWorkflow. A container
    inherits the keys it does not set from `spec.templateDefaults.<container|script>`; the template, standing
    for the pod, inherits the workflow's pod-level `securityContext`."""
    kind_node = root.get("kind")
    api = root.get("apiVersion")
    kind = kind_node.value if kind_node is not None else None
    if not isinstance(kind, str) or kind not in ARGO_WORKFLOW_SPECS or api is None or not as_text(
            api.value).startswith("argoproj.io/"):
        return
    for spec_path, spec in resolve(base, tuple(("key", k) for k in ARGO_WORKFLOW_SPECS[kind]), base_path):
        defaults = spec.get("templateDefaults")
        pod_context = spec.get("securityContext")
        for template_path, template in resolve(spec, (("key", "templates"), ("any", "*")), spec_path):
            if not template.is_mapping:
                continue
            pod = template
            if pod_context is not None and template.get("securityContext") is None:
                pod = _merged(Node({"securityContext": pod_context}, template.span), template)
            for key in ("container", "script"):
                own = template.get(key)
                if own is not None and own.is_mapping:
                    inherited = defaults.get(key) if defaults is not None else None
                    yield _join(template_path, key), _merged(inherited, own), pod, key
            lists: list[tuple[tuple[str, ...], str]] = [(("containerSet",), "containers")]
            if all_containers:
                lists += [((), "initContainers"), ((), "sidecars")]
            for parents, list_name in lists:
                segments: tuple[Segment, ...] = (*(("key", k) for k in (*parents, list_name)), ("any", "*"))
                for path, own in resolve(template, segments, template_path):
                    if own.is_mapping:
                        yield path, own, pod, list_name


FOR_EACH_MACROS = ("$pod_specs", "$containers", "$all_containers", "$env", "$iam_statements")
# Macros whose elements are built, not found: an env pair or an IAM statement normalised from Terraform names keys
# the file may spell otherwise (`not_actions` for `NotAction`).
_BUILT_ELEMENTS = frozenset({"$env", "$iam_statements"})


def _macro(name: str, base: Node, base_path: str, root: Node) -> Iterator[Element]:
    if name == "$pod_specs":
        for path, pod in pod_specs(root, base, base_path):
            yield Element(pod, path, pod, root)
    elif name in ("$containers", "$all_containers"):
        lists = ("containers", "initContainers") if name == "$all_containers" else ("containers",)
        for path, pod in pod_specs(root, base, base_path):
            for list_name in lists:
                for child_path, container in resolve(pod, (("key", list_name), ("any", "*")), path):
                    yield Element(container, child_path, pod, root)
            for framework in _KSERVE_FRAMEWORKS:
                spec = pod.get(framework)
                if spec is not None and spec.is_mapping:
                    yield Element(spec, _join(path, framework), pod, root)
        for path, container, pod, _ in argo_containers(root, base, base_path,
                                                      all_containers=name == "$all_containers"):
            yield Element(container, path, pod, root)
    elif name == "$env":
        yield from _env_elements(base, base_path, root)
    elif name == "$iam_statements":
        for path, statement in iam_statements(base, base_path):
            yield Element(statement, path, None, root)
    else:
        raise PfaError(f"unknown for_each macro {name!r}")


def _env_elements(base: Node, base_path: str, root: Node) -> Iterator[Element]:
    """Every environment variable in a document, whatever its shape, as a {name, value} element."""
    for path, node in resolve(base, (("deep", "**"),), base_path):
        for key, child in node.items():
            if key not in _ENV_KEYS:
                continue
            env_path = _join(path, key)
            if isinstance(child.value, dict):
                for name, value in child.value.items():
                    yield Element(_pair(name, value.key_span or value.span, value), f"{env_path}.{name}", None, root)
            elif isinstance(child.value, list):
                for item in child.value:
                    element = _env_item(item)
                    if element is not None:
                        yield Element(element, f"{env_path}[{_element_label(element, 0)}]", None, root)


def _env_item(item: Node) -> Node | None:
    if isinstance(item.value, dict) and "name" in item.value:
        return item
    if isinstance(item.value, str) and "=" in item.value:
        name, _, text = item.value.partition("=")
        return _pair(name.strip(), item.span, Node(text, item.span))
    return None


def _pair(name: str, key_span: Any, value: Node) -> Node:
    return Node({"name": Node(name, key_span), "value": value}, value.span, key_span)


def match_documents(patterns: tuple[DocumentPattern, ...], document: Document, params: Mapping[str, Any],
                    predicates: Mapping[str, DocumentPredicate]) -> Iterator[Hit]:
    """Hits of the patterns on one document. In Helm values, a component switched off (`enabled: false`,
    `engine.helm_values`) is not judged: no element at or below it, and predicates see the document without it."""
    off = _switched_off_paths(document)
    for pattern in patterns:
        if not pattern.selects(document):
            continue
        if pattern.predicate:
            yield from predicates[pattern.predicate](enabled_only(document), params)
            continue
        identity = document_identity(document)
        for element in pattern.elements(document):
            if off and under(element.path, off):
                continue
            holds, report = _all_hold(pattern.where, element, params) if pattern.where else (True, None)
            if not holds:
                continue
            if pattern.report is not None:
                base, segments = pattern.report
                start = {"element": element.node, "pod": element.pod, "doc": element.doc}[base]
                found = next(resolve(start, segments), None) if start is not None else None
                report = found[1] if found is not None else None
            target = report or element.node
            yield Hit(target.anchor_span, _values(element, target), f"{identity}:{element.path}")


_SWITCHED_OFF: IdentityMemo[tuple[str, ...]] = IdentityMemo(64)


def _switched_off_paths(document: Document) -> tuple[str, ...]:
    """The paths of the mappings a Helm values document switches off (outermost first, the root excluded)."""
    if document.kind != HELM_VALUES:
        return ()
    return _SWITCHED_OFF.get(document.root, lambda: tuple(
        path for path, node in _subtree(document.root, "")[0] if path and node.is_mapping and switched_off(node)))


def document_identity(document: Document) -> str:
    root = document.root
    kind = root.get("kind")
    metadata = root.get("metadata")
    name = metadata.get("name") if metadata is not None else None
    if kind is not None and name is not None:
        return f"{as_text(kind.value)}/{as_text(name.value)}"
    return f"doc{document.index}"


def _values(element: Element, target: Node) -> tuple[tuple[str, str], ...]:
    values = {"path": element.path}
    if target.is_scalar:
        values["value"] = _text(target)
    name = element.node.get("name")
    if name is not None and name.is_scalar:
        values["name"] = _text(name)
    metadata = element.doc.get("metadata")
    named = _metadata_name(metadata) if metadata is not None else None
    if named is not None:
        values["resource"] = named
    elif element.path.startswith("Resources."):
        values["resource"] = element.path.split(".")[1]
    elif element.resource is not None and element.resource.type:
        values["resource"] = element.resource.address
    elif element.path.startswith(("data.", "module.", "provider.", "variable.")):
        values["resource"] = ".".join(element.path.split(".")[:3 if element.path.startswith("data.") else 2])
    return tuple(sorted(values.items()))


def _metadata_name(metadata: Node) -> str | None:
    """A Kubernetes object's name; `prefix-*` for one named by `generateName` (Jobs, perf-test pods)."""
    name = metadata.get("name")
    if name is not None:
        return as_text(name.value)
    prefix = metadata.get("generateName")
    if prefix is not None and prefix.is_scalar:
        return f"{as_text(prefix.value)}*"
    return None


def _text(node: Node) -> str:
    """A scalar's text; a Terraform expression's source (`var.key_arn`)."""
    if node.value is UNKNOWN:
        return expression_of(node) or ""
    return as_text(node.value)
