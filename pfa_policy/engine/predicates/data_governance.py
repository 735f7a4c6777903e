"""Escape-hatch predicates of the data-governance pillar.

Nothing here imports or executes scanned code: Python is looked at through the engine's PythonIndex, other
files are read as text or parsed with the engine's YAML parser / the standard TOML parser. Anchors are
normalised values (an image reference, a path, a requirement name), never line numbers.
"""

from __future__ import annotations

import ast
import fnmatch
import posixpath
import re
import shlex
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any, TypeVar

from pfa_policy.engine.ci_jobs import pipeline_jobs
from pfa_policy.engine.classify import CI_KINDS, azureml_schema
from pfa_policy.engine.deploy import DEPLOY_COMMAND, LOCAL_CLUSTER, LOCAL_CLUSTER_ACTION
from pfa_policy.engine.globs import path_matches
from pfa_policy.engine.predicates.types import (
    DockerfilePredicate,
    DocumentPredicate,
    PythonPredicate,
    RepositoryApplies,
    RepositoryPredicate,
)
from pfa_policy.engine.repository import RepoContext, RepoFile, yaml_documents
from pfa_policy.engine.rule import PYTHON_KINDS
from pfa_policy.model import FILE_START, Hit, ParseError, Span
from pfa_policy.parsers.dockerfile import Instruction
from pfa_policy.parsers.python import PythonFile, dotted_name, literal_value
from pfa_policy.parsers.tree import Document, Node

# ---------------------------------------------------------------------------------------------------------
# Shared helpers


def image_floats(image: str) -> str:
    """'latest' or 'untagged' when a container image reference is not pinned, '' when it is (or is unknown).

    A digest pins; a tag other than `latest` is taken as pinned; references built from variables or
    templates are unknown and never reported.
    """
    image = image.strip().strip("\"'")
    if not image or "@" in image or "$" in image or "{{" in image or image.lower() == "scratch":
        return ""
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        return "latest" if last.rsplit(":", 1)[1] == "latest" else ""
    return "untagged"


_CFN_VARIABLE = re.compile(r"\$\{[^}]*\}")


def cfn_image_floats(image: str) -> str:
    """`image_floats` for an image a CloudFormation template writes, `!Sub` variables included: a variable in
    the registry or repository path is not the tag (`${AWS::AccountId}.dkr.ecr.../monitor:latest` is `latest`);
    one in the last segment may be (`churn:${ImageTag}`, `${Repository}`) and makes the image unknown, unless
    its tag is a literal `latest`."""
    last = image.rsplit("/", 1)[-1]
    if "${" in last:
        return "latest" if ":" in last and last.rsplit(":", 1)[1] == "latest" else ""
    return image_floats(_CFN_VARIABLE.sub("x", image))


_REASON_TEXT = {"latest": "tagged `:latest`", "untagged": "untagged (no tag, no digest)"}


def _normal(path: str) -> str:
    return str(PurePosixPath(path.strip()))


def _parse_yaml_roots(text: str) -> list[Node]:
    try:
        return [d.root for d in yaml_documents(text)]
    except ParseError:
        return []


def _scalars(node: Node | None) -> Iterator[str]:
    if node is None:
        return
    for item in node.walk():
        if item.is_scalar and isinstance(item.value, str):
            yield item.value
        elif item.is_mapping:
            yield from (k for k, _ in item.items())


def dvc_tracked(context: RepoContext) -> set[str]:
    """Paths DVC governs: `X.dvc` pointer files and the deps/outs of every dvc.yaml stage."""
    tracked: set[str] = set()
    for repo_file in context.files:
        if not repo_file.name.endswith((".dvc", "dvc.yaml", "dvc.yml")):
            continue
        pure = PurePosixPath(repo_file.path)
        if pure.suffix == ".dvc" and pure.name != ".dvc":
            tracked.add(str(pure.with_suffix("")))
        elif pure.name in ("dvc.yaml", "dvc.yml"):
            base = pure.parent
            for root in _parse_yaml_roots(context.read_text(repo_file.path)):
                stages = root.get("stages")
                for _, stage in stages.items() if stages is not None else ():
                    wdir = stage.get("wdir")
                    stage_base = base / str(wdir.value) if wdir is not None and wdir.is_scalar else base
                    for key in ("deps", "outs", "metrics", "plots"):
                        for entry in _scalars(stage.get(key)):
                            if "/" in entry or "." in entry:
                                tracked.add(_normal(str(stage_base / entry)))
    return {t.removeprefix("./") for t in tracked}


def _under(path: str, roots: Iterable[str]) -> bool:
    path = _normal(path)
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def lfs_patterns(context: RepoContext) -> list[str]:
    """Path globs that .gitattributes files route through Git LFS (`filter=lfs`)."""
    patterns: list[str] = []
    for repo_file in context.files:
        if repo_file.name != ".gitattributes":
            continue
        pure = PurePosixPath(repo_file.path)
        prefix = "" if str(pure.parent) == "." else str(pure.parent) + "/"
        for line in context.read_text(repo_file.path).split("\n"):
            parts = line.split()
            if len(parts) < 2 or parts[0].startswith("#") or "filter=lfs" not in parts[1:]:
                continue
            glob = parts[0]
            if "/" in glob.rstrip("/"):
                patterns.append(prefix + glob.lstrip("/"))
            else:
                patterns.append(prefix + "**/" + glob if prefix else glob)
    return patterns


# ---------------------------------------------------------------------------------------------------------
# DG-1: data read from local file literals

_READERS = re.compile(
    r"^(?:pandas\.read_(?:csv|parquet|json|feather|excel|pickle|table|orc|hdf|fwf|sas|spss|stata|xml)"
    r"|polars\.(?:read|scan)_(?:csv|parquet|ndjson|ipc|json|excel|delta|avro)"
    r"|pyarrow\.parquet\.read_table|pyarrow\.csv\.read_csv|pyarrow\.feather\.read_(?:table|feather)"
    r"|numpy\.(?:load|loadtxt|genfromtxt|fromfile)|dask\.dataframe\.read_(?:csv|parquet|json)"
    r"|datasets\.load_from_disk)$"
)
A = TypeVar("A")  # a call argument
_OPEN = frozenset({"open", "io.open", "builtins.open"})
_PATH_KEYWORDS = ("filepath_or_buffer", "path", "source", "file", "fname", "filename", "dataset_path")
_DATA_SUFFIX = re.compile(r"\.(?:csv|tsv|parquet|pq|feather|arrow|jsonl|ndjson|xlsx?|npy|npz|h5|hdf5|avro|orc)"
                          r"(?:\.(?:gz|bz2|zip|xz|zst))?$", re.IGNORECASE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Where managed platforms mount data they copied from governed storage (SageMaker channels, Vertex, Azure ML).
_MANAGED_MOUNTS = ("/opt/ml/", "/gcs/", "/mnt/azureml/", "/dbfs/", "/Volumes/", "/Workspace/")


def _module_constants(file: PythonFile) -> dict[str, ast.expr]:
    """Names bound exactly once by a plain `NAME = value` (a path constant used later), with their values."""
    seen: dict[str, list[ast.expr]] = {}
    for assignment in file.index.assignments:
        if isinstance(assignment.report, ast.Name):
            seen.setdefault(assignment.target, []).append(assignment.value)
    return {name: values[0] for name, values in seen.items() if len(values) == 1}


# A path relative to the directory of the scanned file (`Path(__file__).parent / "data"`) is written with this
# prefix; the repository predicate resolves it against the file's directory. `__file__` itself is _THIS_FILE.
FILE_RELATIVE = "__file__/"
_THIS_FILE = "\0__file__"
_PATH_TYPES = frozenset({"Path", "PurePath", "PosixPath", "PurePosixPath", "WindowsPath"})
_SAME_PATH_METHODS = frozenset({"resolve", "absolute", "expanduser"})
_SAME_PATH_CALLS = frozenset({"os.path.abspath", "os.path.realpath", "os.path.normpath", "os.path.expanduser",
                              "os.fspath", "str"})


def _join(base: str, part: str) -> str | None:
    if base == _THIS_FILE:
        return None  # `__file__ / "x"` is not a path
    if part.startswith("/"):
        return part
    if base.startswith(FILE_RELATIVE):
        return FILE_RELATIVE + posixpath.normpath(posixpath.join(base[len(FILE_RELATIVE):], part))
    return posixpath.join(base, part) if base not in ("", ".") else part


def _join_all(path: str | None, parts: Sequence[str]) -> str | None:
    for part in parts:
        path = None if path is None else _join(path, part)
    return path


def _parent(path: str, levels: int = 1) -> str | None:
    if path == _THIS_FILE:
        path, levels = FILE_RELATIVE + ".", levels - 1
    for _ in range(levels):
        if path.startswith(FILE_RELATIVE):
            path = FILE_RELATIVE + posixpath.normpath(posixpath.join(path[len(FILE_RELATIVE):], ".."))
        elif path.startswith("/") or not path:
            return None
        else:
            path = posixpath.dirname(path.rstrip("/")) or "."
    return path


def _path_literal(file: PythonFile, node: ast.expr, constants: Mapping[str, ast.expr],
                  depth: int = 0) -> str | None:
    """The path an expression names when it is known statically: a string, a constant holding one, `Path(…)`,
    `/` and `joinpath` on such paths, `os.path.join`, and `__file__`-relative paths (`Path(__file__).parent`,
    `.parents[1]`, `os.path.dirname(__file__)`, `.resolve()`), which come back prefixed with FILE_RELATIVE."""
    if depth > 12:
        return None
    value = literal_value(node)
    if isinstance(value, str):
        return value

    def inner(child: ast.expr) -> str | None:
        return _path_literal(file, child, constants, depth + 1)

    if isinstance(node, ast.Name):
        if node.id == "__file__":
            return _THIS_FILE
        bound = constants.get(node.id)
        return None if bound is None else inner(bound)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        left, right = inner(node.left), inner(node.right)
        return None if left is None or right is None else _join(left, right)
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        base = inner(node.value)
        return None if base is None else _parent(base)
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "parents"
            and isinstance(literal_value(node.slice), int) and not isinstance(literal_value(node.slice), bool)):
        base = inner(node.value.value)
        return None if base is None else _parent(base, int(literal_value(node.slice)) + 1)
    if not isinstance(node, ast.Call):
        return None
    arguments = file.arguments(node)
    if any(a.keyword is not None or a.star for a in arguments):
        return None
    values = [inner(a.value) for a in arguments]
    if any(v is None for v in values):
        return None
    parts = [v for v in values if v is not None]
    if isinstance(node.func, ast.Attribute) and not arguments and node.func.attr in _SAME_PATH_METHODS:
        return inner(node.func.value)  # Path(...).resolve(), .absolute()
    if isinstance(node.func, ast.Attribute) and node.func.attr == "joinpath" and parts:
        return _join_all(inner(node.func.value), parts)
    qualified = file.index.qualify(dotted_name(node.func) or "")
    head = qualified.rsplit(".", 1)[-1]
    if (qualified.startswith("pathlib.") or qualified == head) and head in _PATH_TYPES and parts:
        return _join_all(parts[0], parts[1:])
    if qualified == "os.path.join" and parts:
        return _join_all(parts[0], parts[1:])
    if qualified == "os.path.dirname" and len(parts) == 1:
        return _parent(parts[0])
    if qualified in _SAME_PATH_CALLS and len(parts) == 1:
        return parts[0]
    return None


def is_local_data_path(text: str, *, require_suffix: bool) -> bool:
    text = text.strip()
    if not text or text.startswith("{") or _SCHEME.match(text) or text.startswith(_MANAGED_MOUNTS):
        return False
    if "\n" in text or " " in text.strip() or text.startswith(("-", "<")):
        return False
    if require_suffix:
        return bool(_DATA_SUFFIX.search(text))
    return bool(_DATA_SUFFIX.search(text)) or "/" in text


def _data_read(qualified: str, positional: Sequence[A], keywords: Mapping[str, A]) -> tuple[A, bool] | None:
    """For a call to a data reader or `open`, the argument naming what it reads and whether that path needs a
    data-file suffix to count; None for any other call. Shared by the predicate and its first look."""
    is_open = qualified in _OPEN
    if not is_open and not _READERS.match(qualified):
        return None
    argument = positional[0] if positional else next((keywords[k] for k in _PATH_KEYWORDS if k in keywords), None)
    return None if argument is None else (argument, is_open or qualified.endswith("load"))


def dg_local_data_read(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """Calls that load data from a literal local path (pandas/polars/pyarrow/numpy readers, open() of data files).

    Yields the path literal (name = the path) at the argument, so repository rules can exempt DVC-tracked paths.
    """
    constants = _module_constants(file)
    for site in file.index.calls:
        qualified = file.index.qualify(site.raw)
        read = _data_read(qualified, site.positional, site.keywords)
        if read is None:
            continue
        argument, require_suffix = read
        mode = site.positional[1] if len(site.positional) > 1 else site.keywords.get("mode")
        if qualified in _OPEN and mode is not None and re.search(r"[wax]", str(literal_value(mode.value))):
            continue  # writing a file is not reading data
        path = _path_literal(file, argument.value, constants)
        if path is None or path == _THIS_FILE:
            continue
        if not is_local_data_path(path.removeprefix(FILE_RELATIVE), require_suffix=require_suffix):
            continue
        yield Hit(file.span_of(argument), (("name", path), ("call", qualified)), f"read:{qualified}:{path}")


def dg_ungoverned_local_reads(context: RepoContext, params: Mapping[str, Any],
                              scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """DG-1: local-file reads in pipeline / serving code that DVC does not track."""
    tracked = dvc_tracked(context)
    for occurrence in context.occurrences("dg-local-data-read", scopes):
        path = occurrence.value
        if path.startswith(FILE_RELATIVE):  # next to the code: resolved against the file's directory
            path = posixpath.normpath(posixpath.join(posixpath.dirname(occurrence.path),
                                                     path.removeprefix(FILE_RELATIVE)))
            candidates = [path]
        elif path.startswith("/"):
            candidates = [path]
        else:
            base = PurePosixPath(occurrence.path).parent
            candidates = [path, str(base / path)]
        if any(_under(c, tracked) for c in candidates):
            continue
        yield occurrence.path, Hit(occurrence.span, (("name", path),), f"local-read:{path}")


# ---------------------------------------------------------------------------------------------------------
# DG-2: large data / model binaries committed without LFS or DVC


def _has_files(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    return any(f.scope in scopes for f in context.files)


def dg_large_binaries(context: RepoContext, params: Mapping[str, Any],
                      scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    limit = float(params.get("max_size_mb", 10)) * 1024 * 1024
    suffixes = tuple(str(s).lower() for s in params.get("extensions", ()))
    candidates = [f for f in context.files
                  if f.scope in scopes and f.size > limit and f.path.lower().endswith(suffixes)]
    if not candidates:
        return
    lfs = lfs_patterns(context)
    tracked = dvc_tracked(context)
    for repo_file in candidates:
        if (lfs and path_matches(repo_file.path, lfs)) or _under(repo_file.path, tracked):
            continue
        megabytes = repo_file.size / 1048576
        size = f"{megabytes:.1f} MB" if megabytes >= 0.1 else f"{repo_file.size} bytes"
        yield repo_file.path, Hit(FILE_START, (("name", repo_file.path), ("value", size)),
                                  f"large-binary:{repo_file.path}")


# ---------------------------------------------------------------------------------------------------------
# DG-3: training without any versioning or lineage

_LINEAGE_FILES = ("dvc.yaml", "*.dvc", ".dvc/config", "MLproject", "dvc.lock")


def _trains_models(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    return bool(context.occurrences("dg-training-code", scopes))


def dg_no_lineage(context: RepoContext, params: Mapping[str, Any],
                  scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    if not _trains_models(context, params, scopes):
        return
    training = context.occurrences("dg-training-code", scopes)
    evidence_scopes = ("production", "notebook", "dev")
    if (context.occurrences("dg-lineage-tracking", evidence_scopes)
            or context.occurrences("dg-model-registry-iac", evidence_scopes)
            or context.files_matching(_LINEAGE_FILES) or lfs_patterns(context)):
        return
    ordered = sorted(training, key=lambda o: (o.scope != "production", o.path, o.span.line))
    first = ordered[0]
    yield first.path, Hit(first.span, (("name", first.value),), f"no-lineage:{first.value}")


# ---------------------------------------------------------------------------------------------------------
# DG-4: floating container images in Kubernetes-style manifests


def dg_manifest_images(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """Every `image:` value of a manifest that floats (`:latest` or no tag and no digest); name = the image."""
    for node in document.root.walk():
        for key, child in node.items():
            if key != "image" or not isinstance(child.value, str):
                continue
            reason = image_floats(child.value)
            if reason:
                yield Hit(child.anchor_span, (("name", child.value), ("value", _REASON_TEXT[reason])),
                          f"image:{child.value}")


# Azure ML CLI v2: an environment's `image:` (an environment specification, or one written inline in a job,
# component or deployment), and a registered environment taken by label or by name alone instead of a version
# (`azureml:churn-env@latest`, `azureml:churn-env`, `azureml://registries/<r>/environments/<n>/labels/latest`).
_AZUREML_FLOATING_ENVIRONMENT = re.compile(
    r"(?i)^azureml:[^:@/\s${}]+(@latest)?$|^azureml://(?:[^/\s]+/)*environments/[^/\s${}]+(/labels/[^/\s]+)?/?$")


def azureml_environment_floats(reference: str) -> str:
    """'label' or 'unversioned' for a floating Azure ML environment reference, '' otherwise."""
    reference = reference.strip()
    if not _AZUREML_FLOATING_ENVIRONMENT.match(reference):
        return ""
    lower = reference.lower()
    return "label" if lower.endswith("@latest") or "/labels/" in lower else "unversioned"


def dg_azureml_images(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """The floating images and environment references of an Azure ML specification; name = the reference.
    An `image:` is an environment's: at the top of an `environment` specification or in an `environment:`
    mapping (not an input or variable of that name)."""
    root = document.root
    images = [root.get("image")] if azureml_schema(root) == "environment" else []
    for node in root.walk():
        for key, child in node.items():
            if key != "environment":
                continue
            if isinstance(child.value, str) and azureml_environment_floats(child.value):
                yield Hit(child.anchor_span, (("name", child.value.strip()),), f"azureml-environment:{child.value}")
            elif child.is_mapping:
                images.append(child.get("image"))
    for image in images:
        if image is not None and isinstance(image.value, str) and image_floats(image.value):
            yield Hit(image.anchor_span, (("name", image.value.strip()),), f"azureml-image:{image.value}")


# The image a CI deploy command ships: `aws lambda update-function-code --image-uri`, `gcloud run deploy --image`,
# `az containerapp update --image`, `kubectl set image deployment/x api=IMAGE`.
_DEPLOY_IMAGE_OPTION = re.compile(r"(?<![\w-])--image(?:-uri)?(?:=|\s+)(['\"]?)([^\s'\"]+)\1")
_SET_IMAGE = re.compile(r"\bkubectl\s+(?:-{1,2}[\w-]+(?:[= ][^\s-]\S*)?\s+)*set\s+image\s+(?:-\S+\s+)*\S+"
                        r"((?:\s+[\w.-]+=\S+)+)")
_EFFECT = {"manifest": "the pods of this workload can run different code after any restart",
           "deploy": "each run deploys whatever was pushed under that name last, and nothing records which build it "
                     "was",
           "cloudformation": "the job, function or task this template creates runs whatever was pushed under that "
                             "name last, and rolling the stack back does not bring the previous build back",
           "azureml": "the next environment version, job or deployment created from this file can run on a "
                      "different build than the one tested, and the file does not say which one ran"}
_AZUREML_REASON_TEXT = {"label": "an Azure ML environment taken by its `@latest` label, not a version",
                        "unversioned": "an Azure ML environment named without a version"}


def _deploy_images(line: str) -> Iterator[str]:
    if not DEPLOY_COMMAND.search(line) or LOCAL_CLUSTER.search(line):
        return
    for found in _DEPLOY_IMAGE_OPTION.finditer(line):
        yield found.group(2)
    for found in _SET_IMAGE.finditer(line):
        for pair in found.group(1).split():
            yield pair.partition("=")[2]


def _deploying_scalars(root: Node) -> Iterator[Node]:
    """The scalars of a pipeline, but those of a GitHub job that starts a throw-away cluster (an end-to-end test)
    and any scalar that starts one itself."""
    jobs = root.get("jobs")
    per_job = jobs is not None and jobs.is_mapping
    for part in [job for _, job in jobs.items()] if jobs is not None and per_job else [root]:
        scalars = [(n, n.value) for n in part.walk() if n.is_scalar and isinstance(n.value, str)]
        if per_job and any(LOCAL_CLUSTER.search(text) or LOCAL_CLUSTER_ACTION.match(text) for _, text in scalars):
            continue
        yield from (n for n, text in scalars if not LOCAL_CLUSTER.search(text))


def dg_deploy_command_images(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """The images CI deploy commands ship that float (`--image-uri repo:latest`, `kubectl set image c=repo`);
    name = the image. Images built from variables (`$IMAGE:$GITHUB_SHA`) are not judged."""
    for node in _deploying_scalars(document.root):
        if not isinstance(node.value, str) or ("--image" not in node.value and "set" not in node.value):
            continue
        for line in node.value.replace("\\\n", " ").splitlines():
            if line.lstrip().startswith("#"):
                continue
            for image in _deploy_images(line):
                reason = image_floats(image)
                if reason:
                    yield Hit(node.anchor_span, (("name", image), ("value", _REASON_TEXT[reason])),
                              f"deploy-image:{image}")


def _kustomize_overrides(context: RepoContext) -> set[str]:
    names: set[str] = set()
    for repo_file in context.files_matching(["kustomization.yaml", "kustomization.yml", "Kustomization"]):
        for root in _parse_yaml_roots(context.read_text(repo_file.path)):
            images = root.get("images")
            for entry in images.elements() if images is not None else ():
                name = entry.get("name")
                if name is not None and isinstance(name.value, str) and (
                    entry.get("newTag") is not None or entry.get("digest") is not None
                ):
                    names.add(name.value)
    return names


def dg_floating_k8s_images(context: RepoContext, params: Mapping[str, Any],
                           scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """DG-4 on manifests: floating images, unless a kustomization pins that image with newTag / digest; the
    floating images that CI deploy commands ship; those of CloudFormation / SAM templates; and the images and
    environment references of Azure ML specifications."""
    occurrences = context.occurrences("dg-floating-manifest-image", scopes)
    deployed = context.occurrences("dg-floating-deploy-image", scopes)
    pinned = _kustomize_overrides(context) if occurrences else set()
    for occurrence in occurrences:
        image = occurrence.value
        if image_floats(image) == "untagged" and image in pinned:
            continue
        reason = image_floats(image)
        yield occurrence.path, Hit(occurrence.span, (("name", image), ("value", _REASON_TEXT.get(reason, reason)),
                                                     ("effect", _EFFECT["manifest"])), f"image:{image}")
    for occurrence in deployed:
        image = occurrence.value
        reason = image_floats(image)
        yield occurrence.path, Hit(occurrence.span, (("name", image), ("value", _REASON_TEXT.get(reason, reason)),
                                                     ("effect", _EFFECT["deploy"])), f"deploy-image:{image}")
    for occurrence in context.occurrences("dg-floating-azureml-image", scopes):
        reference = occurrence.value
        environment = azureml_environment_floats(reference)
        reason = _AZUREML_REASON_TEXT[environment] if environment else _REASON_TEXT.get(image_floats(reference), "")
        if reason:
            yield occurrence.path, Hit(occurrence.span, (("name", reference), ("value", reason),
                                                         ("effect", _EFFECT["azureml"])), f"azureml-image:{reference}")
    for occurrence in context.occurrences("dg-floating-cfn-image", scopes):
        image = occurrence.value
        reason = cfn_image_floats(image)
        yield occurrence.path, Hit(occurrence.span, (("name", image), ("value", _REASON_TEXT.get(reason, reason)),
                                                     ("effect", _EFFECT["cloudformation"])), f"cfn-image:{image}")


# ---------------------------------------------------------------------------------------------------------
# DG-4 on Dockerfiles: FROM without tag or digest

_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::?[-+]([^}]*))?\}?")


def _substitute(image: str, defaults: Mapping[str, str]) -> str | None:
    """Expand ARG references with their defaults; None when one has no default (set at build time)."""
    unknown = False

    def expand(match: re.Match[str]) -> str:
        nonlocal unknown
        value = defaults.get(match.group(1)) or match.group(2)
        if not value:
            unknown = True
            return ""
        return value

    expanded = _VARIABLE.sub(expand, image)
    return None if unknown else expanded


def dg_from_unpinned(instructions: list[Instruction], params: Mapping[str, Any]) -> Iterator[Hit]:
    """FROM images that are `:latest` or carry neither tag nor digest.

    Earlier stage names (`FROM x AS builder` then `FROM builder`), `scratch`, and images built from ARGs without
    a default are not reported; ARGs with a default are expanded first.
    """
    defaults: dict[str, str] = {}
    stages: set[str] = set()
    for instruction in instructions:
        if instruction.keyword == "ARG" and instruction.stage < 0:
            for word in instruction.args.split():
                name, _, value = word.partition("=")
                defaults[name] = value.strip("\"'")
            continue
        if instruction.keyword != "FROM":
            continue
        words = instruction.args.split()
        if not words:
            continue
        image = words[0]
        alias = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else ""
        expanded = _substitute(image, defaults) if "$" in image else image
        if expanded is not None and expanded.lower() not in stages:
            reason = image_floats(expanded)
            if reason:
                yield Hit(instruction.span, (("name", expanded), ("value", _REASON_TEXT[reason])), f"FROM:{image}")
        if alias:
            stages.add(alias)


# ---------------------------------------------------------------------------------------------------------
# DG-5: unpinned Python dependencies

_PIP_INSTALL = re.compile(r"(?:^|[\s;&|(])(?:python\d?(?:\.\d+)?\s+-m\s+)?(?:uv\s+)?pip\d?(?:\.\d+)?\s+install\b")
_OPTIONS_WITH_VALUE = frozenset({
    "-r", "--requirement", "-e", "--editable", "-i", "--index-url", "--extra-index-url", "-f", "--find-links",
    "-t", "--target", "--prefix", "--root", "--trusted-host", "--platform", "--python-version",
    "--implementation", "--abi", "--only-binary", "--no-binary", "--progress-bar", "--cache-dir", "--src",
    "--upgrade-strategy", "--config-settings", "-C", "--global-option", "--log", "--timeout", "--retries",
    "--proxy", "--python", "-p", "--report", "--cert", "--client-cert", "--exists-action", "--group",
})
_CONSTRAINT_OPTIONS = ("-c", "--constraint", "--require-hashes")
_REDIRECTION = re.compile(r"(?:\d*|&)[<>]+&?")  # `>`, `2>`, `2>&1`, `&>`, `>>log`: a shell redirection
_PINNED = re.compile(r"===?\s*[^\s;*,<>=!~]+\s*$")


def _requirement_name(spec: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
    return match.group(0).lower().replace("_", "-") if match else ""


def _exempt(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(name, str(p).lower()) for p in patterns)


def unpinned_packages(command: str, exempt: Iterable[str]) -> list[str]:
    """Package arguments of every `pip install` in a shell command that are not pinned with `==`."""
    found: list[str] = []
    # A lone `&` (run in the background) separates commands too; `2>&1`, `&>` are redirections.
    for segment in re.split(r"&&|\|\||;|\||\n|(?<![<>&])&(?![>&])", command):
        match = _PIP_INSTALL.search(segment)
        if match is None:
            continue
        try:
            words = shlex.split(segment[match.end():], comments=True)
        except ValueError:
            words = segment[match.end():].split()
        if any(w in _CONSTRAINT_OPTIONS or w.startswith("--constraint=") for w in words):
            continue
        skip_next = False
        pinned: set[str] = set()
        unpinned: list[tuple[str, str]] = []
        for position, word in enumerate(words):
            if skip_next:
                skip_next = False
                continue
            if word.startswith("-"):
                skip_next = word in _OPTIONS_WITH_VALUE
                continue
            if word == "@" or (position > 0 and words[position - 1] == "@"):
                continue
            if position + 1 < len(words) and words[position + 1] == "@":
                continue  # `name @ url`: a direct reference pins
            if _REDIRECTION.match(word):
                skip_next = _REDIRECTION.fullmatch(word) is not None  # `> log.txt`: the file comes next
                continue
            if ("$" in word or "/" in word or word.startswith(".") or "://" in word
                    or word.endswith((".whl", ".tar.gz", ".zip"))):
                continue
            spec = word.split(";", 1)[0]
            name = _requirement_name(spec)
            if _PINNED.search(spec):
                pinned.add(name)
            elif name and not _exempt(name, exempt):
                unpinned.append((word, name))
        # `pkg==1.4.2 pkg[extra]`: the extra installs with the version the same command pins.
        found += [word for word, name in unpinned if name not in pinned]
    return found


def dg_dockerfile_pip_unpinned(instructions: list[Instruction], params: Mapping[str, Any]) -> Iterator[Hit]:
    """RUN pip install of package names without `==` (no constraints file given)."""
    exempt = params.get("exempt_packages", ())
    for instruction in instructions:
        if instruction.keyword != "RUN":
            continue
        command = " ".join(instruction.exec_form) if instruction.exec_form else instruction.args
        packages = unpinned_packages(command, exempt)
        if packages:
            yield Hit(instruction.span, (("name", ", ".join(packages)),), f"RUN:pip:{' '.join(packages)}")


def _script_lines(node: Node) -> Iterator[tuple[int, str]]:
    """Lines of a run/script scalar with their file line numbers (block scalars start one line down)."""
    if not isinstance(node.value, str):
        return
    text = node.value
    block = node.span.end_line > node.span.line and text.endswith("\n")
    start = node.span.line + 1 if block else node.span.line
    for offset, line in enumerate(text.split("\n")):
        yield start + offset if block else start, line


def dg_ci_pip_unpinned(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """`pip install` of unpinned package names in the commands of any CI system (engine.ci_jobs: GitHub `run:`,
    GitLab scripts and templates, Azure scripts, CircleCI `run:`, Bitbucket / Buildkite / Drone scripts, Cloud
    Build steps, CodeBuild buildspec commands)."""
    exempt = params.get("exempt_packages", ())
    for job in pipeline_jobs(document, templates=True).values():
        for command in job.commands():
            lines = _script_lines(command.node) if command.exact else iter([(command.node.span.line, command.text)])
            for line, text in lines:
                if "pip" not in text:
                    continue
                packages = unpinned_packages(text, exempt)
                if packages:
                    column = len(text) - len(text.lstrip()) + 1 if command.exact else command.node.span.column
                    yield Hit(Span(line, column), (("name", ", ".join(packages)),), f"ci-pip:{' '.join(packages)}")


_DEV_REQUIREMENTS = re.compile(r"(?i)(^|[-_.])(dev|devel|test|tests|testing|doc|docs|lint|ci|tox|bench|typing|"
                               r"style|notebook|jupyter)([-_.]|$)")


def _runtime_requirements(context: RepoContext, scopes: frozenset[str]) -> list[RepoFile]:
    """Requirements files in the scopes, but not pip-compile inputs or dev / test / docs requirements."""
    found = []
    for repo_file in context.files:
        if repo_file.scope not in scopes or not repo_file.name.startswith("requirements"):
            continue
        pure = PurePosixPath(repo_file.path)
        if pure.suffix == ".txt" and not _DEV_REQUIREMENTS.search(pure.stem.removeprefix("requirements")):
            found.append(repo_file)
    return found


def _has_runtime_requirements(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    return bool(_runtime_requirements(context, scopes)) or any(
        f.scope in scopes and not _dev_environment_file(f.path) for f in context.files_of_kind("conda"))


def _unpinned_requirement(raw: str) -> tuple[str, str] | None:
    """(spec, name) of a requirements line (or a conda `pip:` entry) that names a package without an exact `==`
    / `===` pin; None for a pinned one, a comment, an option (`-r`, `-e`, `--hash`, indexes), a path, a URL or a
    `name @ url` direct reference. Environment markers do not matter (`pkg==1.2 ; python_version < "3.12"`)."""
    line = re.sub(r"(^|\s)#.*$", "", raw).strip().rstrip("\\").strip()
    if not line or line.startswith(("-", ".", "/")) or "://" in line or " @ " in line or "@" in line:
        return None
    spec = line.split(";", 1)[0].strip()
    name = _requirement_name(spec)
    if not name or _PINNED.search(spec):
        return None
    return spec, name


_CONSTRAINT_LINE = re.compile(r"\s*(-c|--constraint)\b")


def dg_unpinned_requirements(context: RepoContext, params: Mapping[str, Any],
                             scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """Lines of production requirements files that do not pin an exact version, and the unpinned dependencies
    of production conda environment files (`dg-unpinned-conda-dependency`, see `dg_conda_unpinned`).

    Skipped: `.in` inputs of pip-compile, dev/test/docs files (by name), files that apply a constraints file
    (`-c`), options (`-r`, `-e`, `--hash`, indexes), paths and URLs, and `name @ url` direct references.
    Environment markers are ignored when judging the pin (`pkg==1.2 ; python_version < "3.12"` is pinned).
    """
    for repo_file in _runtime_requirements(context, scopes):
        text = context.read_text(repo_file.path)
        lines = text.split("\n")
        if any(_CONSTRAINT_LINE.match(line) for line in lines):
            continue
        for number, raw in enumerate(lines, start=1):
            unpinned = _unpinned_requirement(raw)
            if unpinned is None:
                continue
            spec, name = unpinned
            column = len(raw) - len(raw.lstrip()) + 1
            yield repo_file.path, Hit(Span(number, column, number, len(raw) + 1), (("name", spec),),
                                      f"requirement:{name}")
    for occurrence in context.occurrences("dg-unpinned-conda-dependency", scopes):
        if not _dev_environment_file(occurrence.path):
            yield occurrence.path, Hit(occurrence.span, (("name", occurrence.value),),
                                       f"conda:{_conda_name(occurrence.value)}")


def _dev_environment_file(path: str) -> bool:
    return bool(_DEV_REQUIREMENTS.search(PurePosixPath(path).stem))


# A conda match spec: `[channel::]name[ version[ build]]` or `name<op>version`; `=1.26` is `1.26.*`, `==1.26.4`
# and `=1.26.4` (or `=1.26.4=<build>`) name one release. The interpreter is pinned by its minor version
# (`python=3.11`: patch releases are bug and security fixes; PFA-OP-104 judges end-of-life ones), and `pip`, the
# installer of the `pip:` section, is not judged.
_CONDA_SPEC = re.compile(r"^(?:[\w.\-/:]+::)?([A-Za-z0-9_][A-Za-z0-9_.\-]*)\s*(.*)$")
_CONDA_EXACT = re.compile(r"^(?:==?|\s*)\s*v?(\d+(?:\.[0-9A-Za-z_]+){2,})(?:[=\s]\S+)?$|^==\s*[^\s*,|<>=!~]+$")
_CONDA_PYTHON_MINOR = re.compile(r"^(?:==?|\s*)\s*\d+\.\d+(?:\.\d+|\.\*)?(?:[=\s]\S+)?$")


def _conda_name(spec: str) -> str:
    match = _CONDA_SPEC.match(spec.strip())
    return match.group(1).lower() if match else spec


def _conda_unpinned(spec: str) -> bool:
    match = _CONDA_SPEC.match(spec.strip())
    if match is None:
        return False
    name, version = match.group(1).lower(), match.group(2).strip()
    if name == "pip":
        return False
    if name == "python":
        return not _CONDA_PYTHON_MINOR.match(version)
    return not _CONDA_EXACT.match(version)


def dg_conda_unpinned(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """The dependencies of a conda environment file without an exact version: conda specs that are bare names,
    ranges (`>=`, `<`, `~=`, `,`, `|`), wildcards or `=X.Y` (every X.Y.* release); and the entries of its `pip:`
    section that a requirements file would not pin (the section is not judged when it applies a constraints
    file: `-c constraints.txt`). name = the spec as written."""
    root = document.root
    dependencies = root.get("dependencies") if root.is_mapping else None
    if dependencies is None:
        return
    for item in dependencies.elements():
        if item.is_scalar and isinstance(item.value, str):
            if _conda_unpinned(item.value):
                yield Hit(item.anchor_span, (("name", item.value.strip()),), f"conda:{_conda_name(item.value)}")
            continue
        pip = item.get("pip") if item.is_mapping else None
        if pip is None:
            continue
        entries = [e for e in pip.elements() if e.is_scalar and isinstance(e.value, str)]
        if any(_CONSTRAINT_LINE.match(str(e.value)) for e in entries):
            continue
        for entry in entries:
            unpinned = _unpinned_requirement(str(entry.value))
            if unpinned is not None:
                yield Hit(entry.anchor_span, (("name", unpinned[0]),), f"conda-pip:{unpinned[1]}")


_LOCK_FILES = ("poetry.lock", "uv.lock", "pdm.lock", "Pipfile.lock", "pylock.toml", "pylock.*.toml",
               "conda-lock.yml", "requirements*.txt", "constraints*.txt")


def _dependencies(data: Mapping[str, Any]) -> list[str]:
    project = data.get("project")
    deps: list[str] = []
    if isinstance(project, dict) and isinstance(project.get("dependencies"), list):
        deps += [str(d) for d in project["dependencies"]]
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict) and isinstance(poetry.get("dependencies"), dict):
        for name, spec in poetry["dependencies"].items():
            if name.lower() != "python":
                deps.append(f"{name}=={spec}" if isinstance(spec, str) and re.fullmatch(r"\d[\w.]*", spec)
                            else f"{name} {spec}")
    return deps


def _pyprojects(context: RepoContext, scopes: frozenset[str]) -> list[RepoFile]:
    return [f for f in context.files if f.name == "pyproject.toml" and f.scope in scopes]


def _is_deployed_pyproject_project(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    deployable = bool(context.files_of_kind("dockerfile") or context.occurrences("serving-app", scopes))
    return deployable and bool(_pyprojects(context, scopes))


def dg_pyproject_no_lock(context: RepoContext, params: Mapping[str, Any],
                         scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """A deployed project declares version ranges in pyproject.toml and has no lock file beside it."""
    if not _is_deployed_pyproject_project(context, params, scopes):
        return
    for repo_file in _pyprojects(context, scopes):
        beside = context.files_in(repo_file.directory)
        if any(fnmatch.fnmatchcase(f.name, glob) for f in beside for glob in _LOCK_FILES):
            continue
        text = context.read_text(repo_file.path)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            continue
        floating = [d for d in _dependencies(data) if not _PINNED.search(d.split(";", 1)[0].strip())]
        if not floating:
            continue
        span = FILE_START
        for number, line in enumerate(text.split("\n"), start=1):
            if re.match(r"\s*(dependencies\s*=|\[tool\.poetry\.dependencies\])", line):
                span = Span(number, 1, number, len(line) + 1)
                break
        yield repo_file.path, Hit(span, (("name", ", ".join(floating[:5])), ("value", str(len(floating)))),
                                  f"pyproject-no-lock:{repo_file.path}")


PYTHON: dict[str, PythonPredicate] = {"dg_local_data_read": dg_local_data_read}
DOCUMENT: dict[str, DocumentPredicate] = {
    "dg_manifest_images": dg_manifest_images,
    "dg_deploy_command_images": dg_deploy_command_images,
    "dg_ci_pip_unpinned": dg_ci_pip_unpinned,
    "dg_conda_unpinned": dg_conda_unpinned,
    "dg_azureml_images": dg_azureml_images,
}
DOCKERFILE: dict[str, DockerfilePredicate] = {
    "dg_from_unpinned": dg_from_unpinned,
    "dg_dockerfile_pip_unpinned": dg_dockerfile_pip_unpinned,
}
REPOSITORY: dict[str, RepositoryPredicate] = {
    "dg_ungoverned_local_reads": dg_ungoverned_local_reads,
    "dg_large_binaries": dg_large_binaries,
    "dg_no_lineage": dg_no_lineage,
    "dg_unpinned_requirements": dg_unpinned_requirements,
    "dg_pyproject_no_lock": dg_pyproject_no_lock,
}
_MANIFEST_KINDS = frozenset({"kubernetes", "kserve", "seldon"})


def judges_floating_images(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    """Whether `dg_floating_k8s_images` has something to judge: manifests, CI files, CloudFormation templates or
    Azure ML specifications."""
    return context.has_kinds(_MANIFEST_KINDS | CI_KINDS | {"cloudformation", "azureml"}, scopes)


# When each has something to judge (readiness counts it only then): the code or files it is about are there.
REPOSITORY_APPLIES: dict[str, RepositoryApplies] = {
    "dg_ungoverned_local_reads": lambda context, params, scopes: context.has_kinds(PYTHON_KINDS, scopes),
    "dg_large_binaries": _has_files,
    "dg_no_lineage": _trains_models,
    "dg_unpinned_requirements": _has_runtime_requirements,
    "dg_pyproject_no_lock": _is_deployed_pyproject_project,
}
