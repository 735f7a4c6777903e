"""Escape-hatch predicates of the access-control pillar.

Each one covers a check the declarative vocabulary cannot express: an effective value that a container
inherits from its pod, the final user of a multi-stage Dockerfile, a YAML loader given positionally, a CORS
policy spread over several keyword arguments, and a workflow trigger written as a key with no value.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pfa_policy.engine.ci_jobs import trigger_names
from pfa_policy.engine.document_match import DocumentPattern, document_identity
from pfa_policy.engine.predicates.types import (
    DockerfilePredicate,
    DocumentPredicate,
    PythonPredicate,
    RepositoryPredicate,
)
from pfa_policy.engine.values import as_text
from pfa_policy.model import Hit
from pfa_policy.parsers.dockerfile import Instruction
from pfa_policy.parsers.python import PythonFile, dotted_name, literal_value
from pfa_policy.parsers.tree import Document, Node

# --- Kubernetes: containers that run as root -------------------------------------------------------------

_CONTAINERS = DocumentPattern.compile({"for_each": "$containers"})


def _security_value(context: Node | None, key: str) -> Node | None:
    if context is None:
        return None
    node = context.get(key)
    return node if node is not None and node.value is not None else None


def _is_uid(node: Node | None, *, root: bool) -> bool:
    """Whether `node` is a literal UID that is 0 (root=True) or a positive one (root=False)."""
    if node is None or isinstance(node.value, bool):
        return False
    value = node.value
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int):
        return False
    return value == 0 if root else value > 0


def _root_reason(own: Node | None, pod: Node | None) -> tuple[str, Node | None]:
    """Why a container with these security contexts runs as root, and the node to report; ("", None): it does not.

    The container's own setting wins over the pod's, as in Kubernetes."""
    user = _security_value(own, "runAsUser")
    user_level = "container"
    if user is None:
        user, user_level = _security_value(pod, "runAsUser"), "pod"
    non_root = _security_value(own, "runAsNonRoot")
    root_level = "container"
    if non_root is None:
        non_root, root_level = _security_value(pod, "runAsNonRoot"), "pod"
    if _is_uid(user, root=True):
        return f"{user_level} securityContext.runAsUser is 0", user
    if _is_uid(user, root=False):
        return "", None
    if non_root is not None and non_root.value is True:
        return "", None
    if non_root is not None and non_root.value is False:
        return f"{root_level} securityContext.runAsNonRoot is false and no non-zero runAsUser is set", non_root
    if user is not None:
        return "", None  # a non-literal UID (a template, a variable): cannot tell
    return ("neither runAsNonRoot: true nor a non-zero runAsUser is set on the container or its pod "
            "securityContext", None)


def container_runs_as_root(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """Containers whose effective securityContext lets them run as UID 0."""
    identity = document_identity(document)
    metadata = document.root.get("metadata")
    name_node = metadata.get("name") if metadata is not None else None
    resource = as_text(name_node.value) if name_node is not None else ""
    reported: set[int] = set()
    for element in _CONTAINERS.elements(document):
        own = element.node.get("securityContext")
        pod = element.pod.get("securityContext") if element.pod is not None else None
        reason, node = _root_reason(own, pod)
        if not reason:
            continue
        if node is not None:
            if id(node) in reported:
                continue  # one pod-level setting inherited by several containers: one finding
            reported.add(id(node))
        container = element.node.get("name")
        label = as_text(container.value) if container is not None else element.path.rsplit(".", 1)[-1]
        template = element.pod.get("name") if element.pod is not None and container is None else None
        if template is not None and label in ("container", "script"):
            label = f"{as_text(template.value)}.{label}"  # an Argo step's unnamed container: its template
        target = node or element.node
        yield Hit(target.anchor_span, (("name", label), ("resource", resource), ("value", reason)),
                  f"{identity}:{element.path}")


# --- Dockerfile: the user the final image runs as --------------------------------------------------------

_ROOT_USER = re.compile(r"^(root|0)(:\S*)?$")
_STAGE_ALIAS = re.compile(r"\s+as\s+(\S+)\s*$", re.IGNORECASE)
# Base images whose default user is not root: distroless `:nonroot`, Chainguard, Bitnami, the Jupyter
# docker-stacks (`jovyan`, uid 1000), and AWS Lambda base images (Lambda runs every container image as its own
# unprivileged user, whatever the image says).
_NON_ROOT_BASES = re.compile(
    r"(?i)(nonroot|non-root|rootless|^cgr\.dev/|^(docker\.io/)?bitnami/"
    r"|^(docker\.io/|quay\.io/)?jupyter/[a-z-]+-notebook(:|@|$)"
    r"|^public\.ecr\.aws/lambda/|^(docker\.io/)?amazon/aws-lambda-)"
)


def _stage_image(instruction: Instruction) -> tuple[str, str]:
    """(base image, stage alias) of a FROM instruction."""
    args = instruction.args.strip()
    alias = ""
    found = _STAGE_ALIAS.search(args)
    if found is not None:
        alias = found.group(1).lower()
        args = args[: found.start()]
    return args.strip(), alias


def _final_user(instructions: list[Instruction], stage: int, seen: frozenset[int] = frozenset()
                ) -> tuple[Instruction | None, Instruction | None, bool]:
    """(last USER of `stage` or of the stage it builds on, its FROM, base image runs as non-root)."""
    stage_from = next((i for i in instructions if i.keyword == "FROM" and i.stage == stage), None)
    users = [i for i in instructions if i.keyword == "USER" and i.stage == stage]
    if users:
        return users[-1], stage_from, False
    if stage_from is None:
        return None, None, False
    image, _ = _stage_image(stage_from)
    if _NON_ROOT_BASES.search(image):
        return None, stage_from, True
    aliases = {_stage_image(i)[1]: i.stage for i in instructions if i.keyword == "FROM" and i.stage < stage}
    parent = aliases.get(image.lower())
    if parent is not None and parent not in seen:
        user, _, non_root = _final_user(instructions, parent, seen | {stage})
        return user, stage_from, non_root
    return None, stage_from, False


def dockerfile_runs_as_root(instructions: list[Instruction], params: Mapping[str, Any]) -> Iterator[Hit]:
    """The final stage runs as root: its last USER (inherited from a parent stage too) is root/0, or none."""
    last_stage = max((i.stage for i in instructions), default=-1)
    if last_stage < 0:
        return
    user, stage_from, non_root = _final_user(instructions, last_stage)
    if non_root:
        return
    if user is not None:
        if _ROOT_USER.match(user.args.strip().strip("\"'")):
            yield Hit(user.span, (("value", f"its final user is `{user.args.strip()}`"),),
                      f"USER:{user.args.strip()}")
        return
    if stage_from is not None:
        image, _ = _stage_image(stage_from)
        if image.lower() == "scratch":
            return  # a static binary image: no user database, nothing to switch to
        yield Hit(stage_from.span, (("value", "its final stage sets no USER"),), f"FROM:{image}")


# --- Python: yaml.load with an unsafe or missing Loader --------------------------------------------------

_YAML_LOADS = frozenset({"yaml.load", "yaml.load_all"})
_SAFE_LOADER = re.compile(r"(^|\.)(C?SafeLoader|C?BaseLoader)$")
_UNSAFE_LOADER = re.compile(r"^yaml(\.\w+)*\.(C?Loader|C?UnsafeLoader|C?FullLoader)$")


def yaml_load_without_safe_loader(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """`yaml.load(...)` / `yaml.load_all(...)` whose Loader is missing or a known unsafe PyYAML loader.

    A Loader that does not resolve to a PyYAML class (a project's own subclass, a variable) stays quiet."""
    index = file.index
    for site in index.calls:
        qualified = index.qualify(site.raw)
        if qualified not in _YAML_LOADS or site.has_star:
            continue
        loader_arg = site.keywords.get("Loader")
        if loader_arg is None and len(site.positional) > 1:
            loader_arg = site.positional[1]
        if loader_arg is None:
            yield Hit(file.span_of(site.node), (("name", qualified), ("value", "no Loader")),
                      f"call:{file.code_of(site.node)}")
            continue
        raw = dotted_name(loader_arg.value)
        loader = index.qualify(raw) if raw is not None else ""
        if loader and not _SAFE_LOADER.search(loader) and _UNSAFE_LOADER.match(loader):
            yield Hit(file.span_of(loader_arg), (("name", qualified), ("value", f"Loader={loader}")),
                      f"call:{file.code_of(site.node)}")


# --- Python: CORS that lets any origin send credentialed requests ----------------------------------------

_CORS_MIDDLEWARE = re.compile(r"^(fastapi|starlette)(\.\w+)*\.CORSMiddleware$")
_MIDDLEWARE_WRAPPER = re.compile(r"^((fastapi|starlette)(\.\w+)*\.Middleware|.*\.add_middleware)$")
_FLASK_CORS = frozenset({"flask_cors.CORS", "flask_cors.cross_origin", "flask_cors.extension.CORS",
                         "flask_cors.decorator.cross_origin"})
_ANY_ORIGIN_REGEX = frozenset({".*", "^.*$", ".*$", "^.*", ".+", "^.+$", "https?://.*", "^https?://.*$"})


def _literal_items(node: ast.expr) -> list[Any] | None:
    """A literal string, or the literal elements of a list/tuple/set; None when not literal."""
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [literal_value(e.value if isinstance(e, ast.Starred) else e) for e in node.elts]
    value = literal_value(node)
    return None if not isinstance(value, str) else [value]


def _is_wildcard(node: ast.expr) -> bool:
    items = _literal_items(node)
    return items is not None and "*" in items


def _cors_hit(file: PythonFile, site_node: ast.Call, report: ast.AST, name: str) -> Hit:
    return Hit(file.span_of(report), (("name", name), ("value", "any origin")), f"cors:{file.code_of(site_node)}")


def permissive_cors(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """Starlette/FastAPI CORSMiddleware or flask-cors allowing every origin together with credentials."""
    index = file.index
    for site in index.calls:
        qualified = index.qualify(site.raw)
        keywords = site.keywords
        if qualified in _FLASK_CORS:
            credentials = keywords.get("supports_credentials")
            if credentials is None or literal_value(credentials.value) is not True or site.has_star:
                continue
            origins = keywords.get("origins")
            if origins is None and "resources" not in keywords:
                yield _cors_hit(file, site.node, credentials, qualified)  # flask-cors defaults to "*"
            elif origins is not None and _is_wildcard(origins.value):
                yield _cors_hit(file, site.node, origins, qualified)
            continue
        is_cors = bool(_CORS_MIDDLEWARE.match(qualified))
        if not is_cors and _MIDDLEWARE_WRAPPER.match(qualified) and site.positional:
            inner = dotted_name(site.positional[0].value)
            is_cors = inner is not None and bool(_CORS_MIDDLEWARE.match(index.qualify(inner)))
        if not is_cors:
            continue
        credentials = keywords.get("allow_credentials")
        if credentials is None or literal_value(credentials.value) is not True:
            continue
        origins = keywords.get("allow_origins")
        if origins is not None and _is_wildcard(origins.value):
            yield _cors_hit(file, site.node, origins, "CORSMiddleware")
            continue
        regex = keywords.get("allow_origin_regex")
        if regex is not None and literal_value(regex.value) in _ANY_ORIGIN_REGEX:
            yield _cors_hit(file, site.node, regex, "CORSMiddleware")


# --- GitHub Actions: pull_request_target workflows that check out the pull request's code ----------------

_HEAD_REF = re.compile(
    r"github\.event\.pull_request\.head\.(sha|ref)|github\.head_ref|github\.event\.pull_request\.merge_commit_sha"
    r"|refs/pull/"
)
_RUN_CHECKOUT = re.compile(r"\b(git\s+(fetch|checkout|switch|pull)|gh\s+pr\s+checkout)\b")


def _checkout_of_head(step: Node) -> Node | None:
    uses = step.get("uses")
    if uses is not None and isinstance(uses.value, str) and uses.value.lower().startswith("actions/checkout@"):
        with_node = step.get("with")
        ref = with_node.get("ref") if with_node is not None else None
        if ref is not None and isinstance(ref.value, str) and _HEAD_REF.search(ref.value):
            return ref
        repository = with_node.get("repository") if with_node is not None else None
        if repository is not None and isinstance(repository.value, str) and (
            "pull_request.head.repo" in repository.value
        ):
            return repository
    run = step.get("run")
    if run is not None and isinstance(run.value, str):
        for line in run.value.splitlines():
            if _RUN_CHECKOUT.search(line) and (_HEAD_REF.search(line) or "gh pr checkout" in line):
                return run
    return None


def pull_request_target_head_checkout(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """A `pull_request_target` workflow step that checks out (or fetches) the pull request's head."""
    if "pull_request_target" not in trigger_names(document.root):
        return
    jobs = document.root.get("jobs")
    if jobs is None:
        return
    for job_name, job in jobs.items():
        steps = job.get("steps")
        if steps is None:
            continue
        for position, step in enumerate(steps.elements()):
            found = _checkout_of_head(step)
            if found is not None:
                yield Hit(found.anchor_span, (("name", job_name), ("value", as_text(found.value).strip())),
                          f"workflow:jobs.{job_name}.steps[{position}]")


PYTHON: dict[str, PythonPredicate] = {
    "ac_yaml_load_without_safe_loader": yaml_load_without_safe_loader,
    "ac_permissive_cors": permissive_cors,
}
DOCUMENT: dict[str, DocumentPredicate] = {
    "ac_container_runs_as_root": container_runs_as_root,
    "ac_pull_request_target_head_checkout": pull_request_target_head_checkout,
}
DOCKERFILE: dict[str, DockerfilePredicate] = {
    "ac_dockerfile_runs_as_root": dockerfile_runs_as_root,
}
REPOSITORY: dict[str, RepositoryPredicate] = {}
