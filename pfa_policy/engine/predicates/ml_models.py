"""Escape-hatch predicates about how models are fetched, loaded and served (issue 13), across pillars.

- `dg_hub_download_unpinned` (data governance): a Hugging Face Hub / torch.hub / timm download whose revision
  is absent or a branch, with repository ids and revisions resolved through module-level constants.
- `op_model_loaded_per_request` (operability): a model loader called inside a request handler.
- `ai_placeholder_model` (authentic integrations): `sklearn.dummy` estimators or `fit()` at start-up in a
  serving module.

How models are trained, promoted, deployed and watched is `ml_pipelines`. Nothing here imports or executes
scanned code; names resolve through the engine's index like patterns do.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pfa_policy.engine.globs import compile_name_globs
from pfa_policy.engine.predicates.types import PythonPredicate
from pfa_policy.engine.values import UNKNOWN
from pfa_policy.model import Hit
from pfa_policy.parsers.python import (
    Arg,
    CallSite,
    PythonFile,
    dotted_name,
    literal_value,
    visit_children,
    walk_in_visit_order,
)

# ---------------------------------------------------------------------------------------------------------
# Module-level constants


def module_constants(module: ast.Module) -> dict[str, Any]:
    """`NAME = "literal"` (or annotated) at module level; a name bound twice to different values is UNKNOWN."""
    constants: dict[str, Any] = {}
    for statement in module.body:
        pairs: list[tuple[ast.expr, ast.expr]] = []
        if isinstance(statement, ast.Assign):
            pairs = [(target, statement.value) for target in statement.targets]
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            pairs = [(statement.target, statement.value)]
        for target, value in pairs:
            if isinstance(target, ast.Name):
                literal = literal_value(value)
                known = constants.get(target.id, literal)
                constants[target.id] = literal if known == literal else UNKNOWN
    return constants


def _resolved(node: ast.expr, constants: Mapping[str, Any]) -> Any:
    value = literal_value(node)
    if value is UNKNOWN and isinstance(node, ast.Name):
        return constants.get(node.id, UNKNOWN)
    return value


def _argument(site: CallSite, keyword: str, position: int | None) -> Arg | None:
    arg = site.keywords.get(keyword)
    if arg is None and position is not None and position < len(site.positional):
        arg = site.positional[position]
    return arg


# ---------------------------------------------------------------------------------------------------------
# Hub downloads pinned to a commit

_LOCAL_PREFIX = r"(?:models?|artifacts?|outputs?|checkpoints?|ckpt|data|saved_models?|tmp|weights|model_dir|exports?)/"
_HUB_ID = re.compile(rf"^(?!{_LOCAL_PREFIX})[A-Za-z0-9][\w.-]*/[\w.-]+$")
_GITHUB_ID = re.compile(r"^(?!\.)[\w.-]+/[\w.-]+(?::(?P<ref>[\w./-]+))?$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
# Branch names: a revision that names one follows it. Release tags carry a digit and are left alone.
_BRANCHES = frozenset({"main", "master", "dev", "develop", "development", "staging", "latest", "head", "trunk",
                       "fp16", "bf16", "onnx", "flax", "openvino", "nightly"})


def is_branch(revision: str) -> bool:
    revision = revision.strip()
    if not revision or "{" in revision:
        return False  # built at run time (an f-string): unknown
    lowered = revision.lower()
    if lowered.startswith(("refs/heads/", "refs/pr/")) or lowered in _BRANCHES:
        return True
    return not _COMMIT.match(revision) and not any(char.isdigit() for char in revision)


# (qualified-name globs, argument keyword, position) of the repository id.
_HF_LOADERS: tuple[tuple[tuple[str, ...], str, int | None], ...] = (
    (("transformers.*.from_pretrained", "diffusers.*.from_pretrained", "peft.*.from_pretrained",
      "setfit.*.from_pretrained", "optimum.*.from_pretrained"), "pretrained_model_name_or_path", 0),
    (("sentence_transformers.SentenceTransformer", "sentence_transformers.CrossEncoder",
      "sentence_transformers.cross_encoder.CrossEncoder"), "model_name_or_path", 0),
    (("transformers.pipeline",), "model", 1),
    (("huggingface_hub.hf_hub_download", "huggingface_hub.snapshot_download",
      "huggingface_hub.file_download.hf_hub_download"), "repo_id", 0),
    (("datasets.load_dataset",), "path", 0),
    (("vllm.LLM",), "model", 0),
)
_HF_PATTERNS = tuple((compile_name_globs(globs), keyword, position) for globs, keyword, position in _HF_LOADERS)
_TIMM = "timm.create_model"
_ALL_HUB = compile_name_globs([g for globs, _, _ in _HF_LOADERS for g in globs] + [_TIMM, "torch.hub.load"])


def _hub_hit(file: PythonFile, node: ast.AST, name: str, value: str, source: str, reason: str) -> Hit:
    site_code = file.code_of(node)
    return Hit(file.span_of(node), (("name", name), ("reason", reason), ("source", source), ("value", value)),
               f"call:{name}@{file.scope_of(node)}:{site_code}")


def _hugging_face(file: PythonFile, site: CallSite, name: str, constants: Mapping[str, Any]) -> Iterator[Hit]:
    for names, keyword, position in _HF_PATTERNS:
        if not names.fullmatch(name):
            continue
        arg = _argument(site, keyword, position)
        repo = _resolved(arg.value, constants) if arg is not None else UNKNOWN
        if not isinstance(repo, str) or not _HUB_ID.match(repo.strip()):
            return
        revision_arg = site.keywords.get("revision")
        if revision_arg is None:
            if not site.has_star:
                yield _hub_hit(file, site.node, name, repo, "the Hugging Face Hub", "without `revision=`")
            return
        revision = _resolved(revision_arg.value, constants)
        if revision is None:
            yield _hub_hit(file, revision_arg, name, repo, "the Hugging Face Hub", "with `revision=None`")
        elif isinstance(revision, str) and is_branch(revision):
            yield _hub_hit(file, revision_arg, name, repo, "the Hugging Face Hub",
                           f"at `{revision}`, a branch")
        return


def _timm(file: PythonFile, site: CallSite, constants: Mapping[str, Any]) -> Iterator[Hit]:
    pretrained = site.keywords.get("pretrained")
    if pretrained is None or _resolved(pretrained.value, constants) is not True or site.has_star:
        return
    if "pretrained_cfg_overlay" in site.keywords or "checkpoint_path" in site.keywords:
        return  # weights from a file the caller names
    arg = _argument(site, "model_name", 0)
    model = _resolved(arg.value, constants) if arg is not None else UNKNOWN
    if not isinstance(model, str) or not model.strip():
        return
    _, _, revision = model.partition("@")
    if revision and not is_branch(revision):
        return
    yield _hub_hit(file, pretrained, _TIMM, model, "the Hugging Face Hub (timm weights)",
                   "without a pinned revision (`hf-hub:org/name@<sha>`)")


def _torch_hub(file: PythonFile, site: CallSite, constants: Mapping[str, Any]) -> Iterator[Hit]:
    source = site.keywords.get("source")
    if source is not None and _resolved(source.value, constants) != "github":
        return
    arg = _argument(site, "repo_or_dir", 0)
    repo = _resolved(arg.value, constants) if arg is not None else UNKNOWN
    if not isinstance(repo, str):
        return
    found = _GITHUB_ID.match(repo.strip())
    if found is None:
        return
    ref = found.group("ref")
    if ref is None:
        yield _hub_hit(file, site.node, "torch.hub.load", repo, "GitHub (torch.hub)", "without a `:ref`")
    elif is_branch(ref):
        yield _hub_hit(file, site.node, "torch.hub.load", repo, "GitHub (torch.hub)", f"at `{ref}`, a branch")


def _hub_environments(file: PythonFile) -> Iterator[Hit]:
    """`{"HF_MODEL_ID": "org/name", ...}` without `HF_MODEL_REVISION`: the environment of a SageMaker Hugging
    Face model or TGI container, which downloads the model from the Hub when the endpoint starts."""
    constants = module_constants(file.module)
    for mapping in walk_in_visit_order(file, file.module):
        if not isinstance(mapping, ast.Dict):
            continue
        keys: dict[str, tuple[ast.expr, ast.expr]] = {}
        for key_node, value in zip(mapping.keys, mapping.values, strict=True):
            if key_node is not None:
                key = literal_value(key_node)
                if isinstance(key, str):
                    keys[key] = (key_node, value)
        model = keys.get("HF_MODEL_ID")
        if model is None or "HF_MODEL_REVISION" in keys or None in mapping.keys:
            continue
        repo = _resolved(model[1], constants)
        if isinstance(repo, str) and _HUB_ID.match(repo.strip()):
            yield Hit(file.span_of(model[0]), (("name", "HF_MODEL_ID"), ("reason", "without `HF_MODEL_REVISION`"),
                                               ("source", "the Hugging Face Hub"), ("value", repo)),
                      f"env:HF_MODEL_ID@{file.scope_of(model[0])}:{repo}")


def dg_hub_download_unpinned(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    if "HF_MODEL_ID" in file.source:
        yield from _hub_environments(file)
    constants: dict[str, Any] | None = None
    for site in file.index.calls:
        name = file.index.qualify(site.raw)
        if not _ALL_HUB.fullmatch(name):
            continue
        if constants is None:
            constants = module_constants(file.module)
        if name == _TIMM:
            yield from _timm(file, site, constants)
        elif name == "torch.hub.load":
            yield from _torch_hub(file, site, constants)
        else:
            yield from _hugging_face(file, site, name, constants)


# ---------------------------------------------------------------------------------------------------------
# Model loaded per request

_LOADERS = compile_name_globs([
    "joblib.load", "sklearn.externals.joblib.load", "pickle.load", "torch.load", "torch.jit.load",
    "transformers.*.from_pretrained", "diffusers.*.from_pretrained", "peft.*.from_pretrained",
    "sentence_transformers.*.from_pretrained",
    "transformers.pipeline", "sentence_transformers.SentenceTransformer", "sentence_transformers.CrossEncoder",
    "mlflow.*.load_model", "keras.models.load_model", "keras.saving.load_model", "tensorflow.keras.models.load_model",
    "tensorflow.saved_model.load", "tf_keras.models.load_model", "onnxruntime.InferenceSession",
    "xgboost.*.load_model", "lightgbm.Booster", "catboost.*.load_model", "skops.io.load", "cloudpickle.load",
    "dill.load", "bentoml.*.load_model", "spacy.load", "fasttext.load_model", "gensim.models.*.load",
])
_ROUTE_VERBS = frozenset({"get", "post", "put", "patch", "delete", "route", "api_route", "websocket"})
_WEB_FRAMEWORKS = re.compile(r"^(fastapi|flask|starlette|litestar|quart|sanic|aiohttp)(\.|$)")
_SAGEMAKER_HANDLERS = frozenset({"predict_fn", "transform_fn", "input_fn", "output_fn"})
_SERVING_BASES = compile_name_globs(["kserve.Model", "kserve.model.Model", "mlserver.MLModel",
                                     "mlserver.model.MLModel", "seldon_core.user_model.SeldonComponent"])
_REQUEST_METHODS = frozenset({"predict", "preprocess", "postprocess", "explain", "__call__"})
# Endpoints whose job is to (re)load: swapping the served model on demand is not loading it per request.
_RELOAD_WORDS = re.compile(r"(?i)(re)?load|refresh|swap|switch|promot|rollout|deploy|update|admin|warm")


def _route_path(file: PythonFile, call: ast.expr) -> str:
    arguments = file.arguments(call) if isinstance(call, ast.Call) else []
    if arguments:
        value = literal_value(arguments[0].value)
        if isinstance(value, str):
            return value
    return ""


Function = ast.FunctionDef | ast.AsyncFunctionDef


def _handler_kind(file: PythonFile, node: Function, owner: ast.ClassDef | None, web: bool) -> str:
    """'route', 'sagemaker', 'model server' or '' for a function that is not a request handler."""
    for decorator in node.decorator_list:
        expression = decorator
        raw = dotted_name(expression.func if isinstance(expression, ast.Call) else expression) or ""
        qualified = file.index.qualify(raw)
        if qualified == "bentoml.api" or (qualified.startswith("bentoml.") and qualified.endswith(".api")):
            return "BentoML API"
        if web and "." in raw and raw.rsplit(".", 1)[1] in _ROUTE_VERBS:
            return "" if _RELOAD_WORDS.search(_route_path(file, decorator)) else "route"
    if owner is None and node.name in _SAGEMAKER_HANDLERS:
        return "SageMaker"
    if owner is not None and node.name in _REQUEST_METHODS and any(
        _SERVING_BASES.fullmatch(file.index.qualify(dotted_name(base.value if isinstance(base, ast.Starred) else base)
                                                    or "")) for base in owner.bases
    ):
        return "model server"
    return ""


def _lazy_guard(test: ast.expr) -> bool:
    """`if model is None:` / `if not self.model:` / `if name not in cache:` - a load that happens once."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return True
    if isinstance(test, ast.Compare):
        return any(isinstance(op, (ast.Is, ast.IsNot, ast.NotIn, ast.In)) for op in test.ops)
    return False


def _loader_calls(file: PythonFile, children: list[ast.AST]) -> Iterator[tuple[ast.Call, str]]:
    for child in children:
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(child, ast.If) and _lazy_guard(child.test):
            continue
        if isinstance(child, ast.Call):
            raw = dotted_name(child.func)
            name = file.index.qualify(raw) if raw is not None else ""
            if name and _LOADERS.fullmatch(name):
                yield child, name
        yield from _loader_calls(file, visit_children(file, child))


def _functions(file: PythonFile, children: list[ast.AST], owner: ast.ClassDef | None
               ) -> Iterator[tuple[Function, ast.ClassDef | None]]:
    for child in children:
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield child, owner
        elif isinstance(child, ast.ClassDef):
            yield from _functions(file, list(child.body), child)
        elif not isinstance(child, ast.Lambda):
            yield from _functions(file, visit_children(file, child), owner)


def op_model_loaded_per_request(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    web = any(_WEB_FRAMEWORKS.match(module) for module in file.index.imported_modules())
    for function, owner in _functions(file, list(file.module.body), None):
        kind = _handler_kind(file, function, owner, web)
        if not kind or _RELOAD_WORDS.search(function.name.removesuffix("_fn").replace("predict", "")):
            continue
        handler = function.name if owner is None else f"{owner.name}.{function.name}"
        for call, name in _loader_calls(file, list(function.body)):
            yield Hit(file.span_of(call), (("handler", handler), ("kind", kind), ("name", name)),
                      f"per-request:{handler}:{file.code_of(call)}")


# ---------------------------------------------------------------------------------------------------------
# Placeholder model in a serving module

_DUMMIES = frozenset({"sklearn.dummy.DummyClassifier", "sklearn.dummy.DummyRegressor"})
_SERVING_MODULES = re.compile(r"^(fastapi|flask|starlette|litestar|bentoml|kserve|mlserver|sagemaker_inference|"
                              r"ray\.serve|seldon_core|gradio|streamlit)(\.|$)")
_FIT_METHODS = frozenset({"fit", "fit_transform", "partial_fit", "train"})
_STARTUP_NAMES = re.compile(r"(?i)^(lifespan|startup|on_startup|startup_event|load_model|model_fn|load|__init__|"
                            r"init_model|setup)$")
_STARTUP_DECORATORS = re.compile(r"\.on_event$|\.before_first_request$|\.on_startup$")


def _serving_module(file: PythonFile) -> bool:
    if any(_SERVING_MODULES.match(module) for module in file.index.imported_modules()):
        return True
    return any(node.name in ("model_fn", "predict_fn", "transform_fn") for node, _, _ in file.index.functions)


def _at_start_up(file: PythonFile, site: CallSite, startup: set[str]) -> bool:
    scope = file.scope_of(site.node)
    return scope == "" or scope.rsplit(".", 1)[-1] in startup


def _fit_call(file: PythonFile, site: CallSite) -> bool:
    method = site.raw.rsplit(".", 1)[-1]
    if "." not in site.raw or method not in _FIT_METHODS:
        return False
    if method == "train":  # `xgb.train(...)` / `lgb.train(...)`, not any object's train()
        return file.index.qualify(site.raw) in ("xgboost.train", "lightgbm.train")
    return True


def ai_placeholder_model(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    if not _serving_module(file):
        return
    startup = {node.name for node, decorators, _ in file.index.functions
               if _STARTUP_NAMES.match(node.name) or any(_STARTUP_DECORATORS.search(d) for d in decorators)}
    for site in file.index.calls:
        name = file.index.qualify(site.raw)
        if name in _DUMMIES:
            yield Hit(file.span_of(site.node), (("name", name), ("reason", "is a placeholder estimator")),
                      f"dummy:{name}@{file.scope_of(site.node)}")
        elif _fit_call(file, site) and _at_start_up(file, site, startup):
            yield Hit(file.span_of(site.node), (("name", site.raw), ("reason", "trains the model at serving start-up")),
                      f"fit:{site.raw}@{file.scope_of(site.node)}:{file.code_of(site.node)}")


PYTHON: dict[str, PythonPredicate] = {
    "dg_hub_download_unpinned": dg_hub_download_unpinned,
    "op_model_loaded_per_request": op_model_loaded_per_request,
    "ai_placeholder_model": ai_placeholder_model,
}
