"""Vertex AI and Kubeflow Pipelines (KFP) Python SDK checks: the container images a training job, an uploaded
model or a pipeline component runs (for PFA-DG-004), and where the Vertex AI SDK is given a customer-managed key
(for PFA-EN-114)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pfa_policy.engine.predicates.data_governance import (
    dg_floating_k8s_images,
    image_floats,
    judges_floating_images,
)
from pfa_policy.engine.predicates.types import PythonPredicate, RepositoryApplies, RepositoryPredicate
from pfa_policy.engine.repository import RepoContext
from pfa_policy.engine.rule import PYTHON_KINDS
from pfa_policy.engine.values import UNKNOWN
from pfa_policy.model import Hit
from pfa_policy.parsers.python import PythonFile, literal_value

# Keywords that name a container image in the Vertex AI SDK (CustomTrainingJob(container_uri=...,
# model_serving_container_image_uri=...), CustomContainerTrainingJob, Model.upload(serving_container_image_uri=...),
# CustomJob.from_local_script(container_uri=...)) and in pipeline code that forwards them to a component
# (`train_container_uri=`, `serving_container_uri=`): any keyword ending so, in a module that uses these SDKs.
_IMAGE_KEYWORD_SUFFIXES = ("container_uri", "container_image_uri", "image_uri")
# Dictionary keys of a worker pool spec (`{"container_spec": {"image_uri": ...}}`) and of a KFP container spec.
_IMAGE_KEYS = frozenset({"image_uri", "imageUri"})
_SDK_MODULES = ("google.cloud.aiplatform", "vertexai", "kfp", "google_cloud_pipeline_components", "tfx")
# A module constant named for a container image URI (`SERVING_IMAGE_URI = ".../tf2-cpu.2-5:latest"`).
_IMAGE_CONSTANT = re.compile(r"(?i)(?:^|_)(?:container_image_uri|container_uri|image_uri)$")
# KFP: the image of a lightweight Python component and of a container component.
_BASE_IMAGE_CALLS = frozenset({"kfp.dsl.component", "kfp.v2.dsl.component", "kfp.components.create_component_from_func",
                               "kfp.components.func_to_container_op", "kfp.dsl.python_component"})
_CONTAINER_SPEC_CALLS = frozenset({"kfp.dsl.ContainerSpec", "kfp.dsl.ContainerOp", "kfp.dsl.container_component"})


def _uses_sdk(file: PythonFile) -> bool:
    return any(module == prefix or module.startswith(prefix + ".")
               for _, module, _ in file.index.imports for prefix in _SDK_MODULES)


def _image(node: ast.AST, constants: Mapping[str, ast.expr]) -> tuple[ast.AST, str] | None:
    """The literal image a value holds (a string, an f-string's static text or a module constant) and the node
    that writes it: a constant is reported where it is defined, once however often it is used."""
    if isinstance(node, ast.Name) and node.id in constants:
        node = constants[node.id]
    value = literal_value(node)
    if value is UNKNOWN or not isinstance(value, str) or not value.strip():
        return None
    return node, value.strip()


def _floats(image: str) -> str:
    """image_floats, with an f-string's `{}` fields unknown unless the tag is a literal `latest`."""
    if any(c.isspace() for c in image) or image.startswith(("gs://", "/", "http://", "https://", ".")):
        return ""  # not an image reference (a script path, a URL, a sentence)
    last = image.rsplit("/", 1)[-1]
    if "{" in last:
        return "latest" if ":" in last and last.rsplit(":", 1)[1] == "latest" else ""
    return image_floats(image.replace("{}", "x"))


def _constants(file: PythonFile) -> dict[str, ast.expr]:
    seen: dict[str, list[ast.expr]] = {}
    for assignment in file.index.assignments:
        if isinstance(assignment.report, ast.Name):
            seen.setdefault(assignment.target, []).append(assignment.value)
    return {name: values[0] for name, values in seen.items() if len(values) == 1}


def dg_vertex_sdk_images(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """Floating (`:latest` or untagged) container images given to the Vertex AI / KFP SDK: `*container_uri=`,
    `*container_image_uri=`, `*image_uri=` keywords and `image_uri` dictionary keys in a module that imports the
    SDK, KFP `@dsl.component(base_image=...)` and `dsl.ContainerSpec(image=...)`. The value is the image."""
    if not _uses_sdk(file):
        return
    constants = _constants(file)
    seen: set[int] = set()

    def hit(found: tuple[ast.AST, str] | None, how: str, bare: bool = False) -> Iterator[Hit]:
        """`bare`: a name without a registry path (`python`) is an image here (base_image, ContainerSpec)."""
        if found is None or id(found[0]) in seen:
            return
        node, image = found
        if not bare and "/" not in image:
            return  # `image_uri="photo.jpg"`: not a registry path
        reason = _floats(image)
        if reason:
            seen.add(id(node))
            yield Hit(file.span_of(node), (("name", image), ("value", reason)), f"sdk-image:{how}:{image}")

    for site in file.index.calls:
        qualified = file.index.qualify(site.raw)
        for keyword, argument in site.keywords.items():
            if keyword.endswith(_IMAGE_KEYWORD_SUFFIXES):
                yield from hit(_image(argument.value, constants), keyword)
            elif (keyword == "base_image" and qualified in _BASE_IMAGE_CALLS) \
                    or (keyword == "image" and qualified in _CONTAINER_SPEC_CALLS):
                yield from hit(_image(argument.value, constants), keyword, bare=True)
    for name, value in constants.items():
        if _IMAGE_CONSTANT.search(name):
            yield from hit(_image(value, constants), name)
    for node in ast.walk(file.module):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in _IMAGE_KEYS:
                    yield from hit(_image(value, constants), str(key.value))


_INIT_CALLS = frozenset({"google.cloud.aiplatform.init", "vertexai.init"})


def en_vertex_sdk_default_cmek(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """`aiplatform.init(encryption_spec_key_name=...)` / `vertexai.init(...)` with a key that is not a literal
    None or empty string: every resource the SDK creates afterwards in the process uses that key by default."""
    for site in file.index.calls:
        if file.index.qualify(site.raw) not in _INIT_CALLS:
            continue
        argument = site.keywords.get("encryption_spec_key_name")
        if argument is None:
            continue
        value = literal_value(argument.value)
        if value is None or value == "":
            continue
        yield Hit(file.span_of(argument.node), (("name", "encryption_spec_key_name"),), "vertex-init-cmek")


_REASON_TEXT = {"latest": "tagged `:latest`", "untagged": "untagged (no tag, no digest)"}
_SDK_EFFECT = ("every training job, model upload or pipeline run started from this code pulls whatever was pushed "
               "under that name last, so the same pipeline version trains or serves different code and its "
               "metadata records only the tag")


def dg_floating_images(context: RepoContext, params: Mapping[str, Any],
                       scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """PFA-DG-004: the floating images of manifests, CI deploy commands and CloudFormation
    (`dg_floating_k8s_images`), and those given to the Vertex AI / KFP SDK in Python."""
    yield from dg_floating_k8s_images(context, params, scopes)
    for occurrence in context.occurrences("dg-floating-sdk-image", scopes):
        image = occurrence.value
        reason = _floats(image)
        if not reason:
            continue
        yield occurrence.path, Hit(occurrence.span, (("name", image), ("value", _REASON_TEXT[reason]),
                                                     ("effect", _SDK_EFFECT)), f"sdk-image:{image}")


PYTHON: dict[str, PythonPredicate] = {
    "dg_vertex_sdk_images": dg_vertex_sdk_images,
    "en_vertex_sdk_default_cmek": en_vertex_sdk_default_cmek,
}

REPOSITORY: dict[str, RepositoryPredicate] = {"dg_floating_images": dg_floating_images}
REPOSITORY_APPLIES: dict[str, RepositoryApplies] = {
    "dg_floating_images": lambda context, params, scopes: (
        judges_floating_images(context, params, scopes) or context.has_kinds(PYTHON_KINDS, scopes)),
}
