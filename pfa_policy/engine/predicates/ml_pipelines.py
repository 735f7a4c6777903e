"""Escape-hatch predicates about how models are trained, promoted, deployed and watched (issue 13).

- `ci_unconditional_model_approval` (CI/CD, Python): a registration that approves, or a promotion to
  production / `champion`, hard-coded and outside any condition.
- `ci_model_deploy_without_evaluation` (CI/CD, every CI system of engine.ci_jobs): a job that deploys or
  promotes a model with no evaluation in it or in the jobs it waits for (GitLab: also earlier stages).
- `op_served_model_without_rollout` (operability, repository): a model endpoint manifest in a repository with no
  progressive-delivery mechanism (`op-progressive-rollout*` facts).
- `te_served_model_without_alerting` (telemetry, repository): a deployed model (an endpoint manifest, or a
  serving workload of a repository with an inference service) and no alert definition (`te-alerting*` facts;
  a CloudFormation alarm only with actions, and bound to the endpoint or function it watches: cloudwatch_alarms).

CI files are read through the engine's YAML tree; nothing is executed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pfa_policy.engine.ci_jobs import (
    GITLAB_RESERVED,
    Job,
    checks_conclusion,
    ci_system,
    follows_pipeline,
    gitlab_earlier,
    needs,
    pipeline_jobs,
    waits_for,
    workflow_run_trigger,
)
from pfa_policy.engine.deploy import DEPLOY_COMMAND, LOCAL_CLUSTER
from pfa_policy.engine.globs import compile_name_globs
from pfa_policy.engine.predicates.types import (
    DocumentPredicate,
    PythonPredicate,
    RepositoryApplies,
    RepositoryPredicate,
)
from pfa_policy.engine.predicates.workload_names import MODEL_SERVER_NAME, PLATFORM_NAME, TEST_DATA_DIRECTORY
from pfa_policy.engine.repository import RepoContext
from pfa_policy.engine.values import UNKNOWN
from pfa_policy.model import FactOccurrence, Hit
from pfa_policy.parsers.python import PythonFile, dotted_name, literal_value, visit_children
from pfa_policy.parsers.tree import Document, Node

# ---------------------------------------------------------------------------------------------------------
# Model approved or promoted unconditionally

_REGISTER = compile_name_globs(["sagemaker.workflow.step_collections.RegisterModel", "sagemaker.*.register",
                                "sagemaker.workflow.model_step.ModelStep"])
_PACKAGE = compile_name_globs(["boto3.client().create_model_package", "boto3.client().update_model_package",
                               "boto3.session.Session().client().create_model_package"])
_MLFLOW_CLIENT = r"mlflow(\.tracking|\.client)?\.MlflowClient\(\)"
_TRANSITION = re.compile(_MLFLOW_CLIENT + r"\.transition_model_version_stage$")
_ALIAS = re.compile(_MLFLOW_CLIENT + r"\.set_registered_model_alias$")
_PRODUCTION_ALIAS = re.compile(r"(?i)^(champion|production|prod)$")


# A rollback puts back a version that was released before, not a new model without a gate: a function named for
# it (`task_rollback_serving_release`, `revert_champion`, `restore_previous_model`), or an `except` handler whose
# promotion's version names the earlier one (`version=previous_version`, `prior.version`, `last_good`).
_ROLLBACK_FUNCTION = re.compile(r"(?i)roll_?back|revert|restore")
_EARLIER_VERSION = re.compile(r"(?i)previous|prior|(?<![a-z])old|last_?(?:good|known|stable|released)")


def _unconditional_calls(file: PythonFile, node: ast.AST, handler: bool = False) -> Iterator[tuple[ast.Call, bool]]:
    """Calls outside any condition and outside rollback functions, with whether they are in an `except`."""
    for child in visit_children(file, node):
        if isinstance(child, (ast.If, ast.IfExp, ast.While, ast.Match)):  # a branch may not run
            continue
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and _ROLLBACK_FUNCTION.search(child.name):
            continue
        if isinstance(child, ast.Call):
            yield child, handler
        yield from _unconditional_calls(file, child, handler or isinstance(child, ast.ExceptHandler))


def _restores_earlier_version(file: PythonFile, call: ast.Call, name: str) -> bool:
    """An MLflow promotion whose version argument names the earlier release (`version=previous.version`)."""
    if _ALIAS.match(name):
        _, arg = _literal_argument(file, call, "version", 2)
    elif _TRANSITION.match(name):
        _, arg = _literal_argument(file, call, "version", 1)
    else:
        return False
    return arg is not None and bool(_EARLIER_VERSION.search(file.code_of(arg.value)))


def _literal_argument(file: PythonFile, call: ast.Call, keyword: str, position: int) -> Any:
    arguments = file.arguments(call)
    positional = [arg for arg in arguments if arg.keyword is None and not arg.star]
    for arg in arguments:
        if arg.keyword is not None and arg.keyword == keyword:
            return literal_value(arg.value), arg
    if position < len(positional):
        return literal_value(positional[position].value), positional[position]
    return UNKNOWN, None


def _approval(file: PythonFile, call: ast.Call) -> tuple[str, str, ast.AST] | None:
    raw = dotted_name(call.func)
    name = file.index.qualify(raw) if raw is not None else ""
    if not name:
        return None
    if _REGISTER.fullmatch(name):
        value, arg = _literal_argument(file, call, "approval_status", 99)
    elif _PACKAGE.fullmatch(name):
        value, arg = _literal_argument(file, call, "ModelApprovalStatus", 99)
    elif _TRANSITION.match(name):
        value, arg = _literal_argument(file, call, "stage", 2)
        if isinstance(value, str) and value.lower() == "production":
            return name, value, arg or call
        return None
    elif _ALIAS.match(name):
        value, arg = _literal_argument(file, call, "alias", 1)
        if isinstance(value, str) and _PRODUCTION_ALIAS.match(value):
            return name, value, arg or call
        return None
    else:
        return None
    return (name, value, arg or call) if value == "Approved" else None


_CONDITION_STEP = compile_name_globs(["sagemaker.workflow.condition_step.ConditionStep",
                                      "sagemaker.workflow.*ConditionStep"])


def ci_unconditional_model_approval(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    # A SageMaker pipeline that builds a ConditionStep gates its steps on the evaluation in the pipeline DSL.
    gated = any(_CONDITION_STEP.fullmatch(file.index.qualify(site.raw)) for site in file.index.calls)
    for call, in_handler in _unconditional_calls(file, file.module):
        found = _approval(file, call)
        if found is not None and gated and found[0].startswith(("sagemaker.", "boto3.")):
            continue
        if found is not None and in_handler and _restores_earlier_version(file, call, found[0]):
            continue
        if found is not None:
            name, value, report = found
            yield Hit(file.span_of(report), (("name", name), ("value", value)),
                      f"approval:{name}@{file.scope_of(call)}:{value}")


# ---------------------------------------------------------------------------------------------------------
# Model deployed by CI without an evaluation gate

# Promotions that are deployments of a model even when no cluster is touched.
_PROMOTE_COMMAND = re.compile(
    r"(?i)transition[-_]model[-_]version[-_]stage|set[-_]registered[-_]model[-_]alias"
    r"|aws\s+sagemaker\s+update-model-package\b.*\bApproved\b|\bpython3?\s+(?:-m\s+)?(?:\S+[/.])?promote[\w-]*(?:\.py)?\b")
_MODEL_WORDS = re.compile(r"(?i)model|mlflow|sagemaker|kserve|inference|predict|serving|seldon|bentoml|vertex|triton")
_EVALUATION = re.compile(
    r"(?i)evaluat|\beval\b|validat\w*[-_ ]?model|model[-_ ]?(?:validation|check|test|gate|quality)|quality[-_ ]?gate"
    r"|accuracy|threshold|challenger|deepchecks|compare[-_ ]?(?:models?|metrics|with|to|against)"
    r"|metrics?[-_ ]?(?:check|gate|compare)|ConditionStep|pytest\s+\S*(?:model|eval)"
    r"|approv|model[-_]?package")  # deploying an approved registry package: the gate is the approval


def _scalars_text(node: Node | None) -> str:
    if node is None:
        return ""
    return "\n".join(str(item.value) for item in node.walk() if item.is_scalar and item.value is not None)


def _gated(jobs: dict[str, Node], name: str, earlier: Mapping[str, list[str]], text_of: Any) -> bool:
    """Whether the job or any job it depends on (transitively) evaluates the model."""
    seen: set[str] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        if current in seen or current not in jobs:
            continue
        seen.add(current)
        if _EVALUATION.search(current) or _EVALUATION.search(text_of(jobs[current])):
            return True
        pending.extend(needs(jobs[current]))
        pending.extend(earlier.get(current, ()))
    return False


def _deploy_line(text: str) -> str:
    found = DEPLOY_COMMAND.search(text) or _PROMOTE_COMMAND.search(text)
    return found.group(0).strip()[:120] if found is not None else ""


def github_jobs(root: Node) -> dict[str, Node]:
    jobs = root.get("jobs")
    return {name: job for name, job in jobs.items() if job.is_mapping} if jobs is not None else {}


def _github_text(job: Node) -> str:
    return "\n".join((_scalars_text(job.get("name")), _scalars_text(job.get("steps")), _scalars_text(job.get("if"))))


def gitlab_jobs(root: Node) -> dict[str, Node]:
    return {name: job for name, job in root.items()
            if name not in GITLAB_RESERVED and not name.startswith(".") and job.is_mapping}


def _gitlab_text(job: Node) -> str:
    return "\n".join(_scalars_text(job.get(key)) for key in ("script", "before_script", "rules", "only"))


def _model_job_text(job: Job) -> str:
    """What a job of the shared CI job model says: its name and every scalar of its definition (commands, step
    names, labels)."""
    return f"{job.name}\n{_scalars_text(job.node)}"


def _other_ci_ungated(document: Document) -> Iterator[Hit]:
    """The CI systems beyond GitHub Actions and GitLab, through the shared job model (engine.ci_jobs): a job
    that deploys or promotes a model while neither it nor any job it waits for evaluates."""
    if follows_pipeline(document):
        return  # runs after another pipeline (Azure resources.pipelines trigger), whose conclusion gates it
    jobs = pipeline_jobs(document)
    for name, job in jobs.items():
        text = _model_job_text(job)
        commands = "\n".join(command.text for command in job.commands())
        shown = _deploy_line(commands)
        if not shown or LOCAL_CLUSTER.search(commands) or not _MODEL_WORDS.search(text):
            continue
        if any(_EVALUATION.search(_model_job_text(jobs[other])) for other in {name} | waits_for(jobs, name)):
            continue
        yield Hit(job.node.anchor_span, (("name", name), ("value", shown)), f"ci-model-deploy:{name}")


def ci_model_deploy_without_evaluation(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    root = document.root
    if ci_system(document) not in ("", "github-workflow", "gitlab-ci"):
        yield from _other_ci_ungated(document)
        return
    followed: set[str] = set()  # jobs gated by the workflow they follow
    if document.kind == "gitlab-ci":
        jobs, text_of = gitlab_jobs(root), _gitlab_text
        earlier = gitlab_earlier(root, jobs)
    else:
        jobs, text_of, earlier = github_jobs(root), _github_text, {}
        if workflow_run_trigger(root) is not None:
            # Runs after another workflow: that workflow gates a job only if the job reads its conclusion;
            # one that does not runs after a failed run too (PFA-CI-018) and is judged on its own.
            modelled = pipeline_jobs(document)
            followed = {name for name in jobs if checks_conclusion(modelled, name)}
    for name, job in jobs.items():
        if name in followed:
            continue
        text = text_of(job)
        shown = _deploy_line(text)
        if not shown or LOCAL_CLUSTER.search(text) or not _MODEL_WORDS.search(f"{name}\n{text}"):
            continue
        if _gated(jobs, name, earlier, text_of):
            continue
        yield Hit(job.anchor_span, (("name", name), ("value", shown)), f"ci-model-deploy:{name}")


# ---------------------------------------------------------------------------------------------------------
# No alerting on a served model

_ALERTING_FACTS = ("te-alerting", "te-alerting-terraform", "te-alerting-code")


def _endpoints(context: RepoContext, scopes: frozenset[str]) -> list[FactOccurrence]:
    return [o for o in context.occurrences("te-model-served-manifest", scopes)
            if not TEST_DATA_DIRECTORY.search(o.path)]


def op_served_model_without_rollout(context: RepoContext, params: Mapping[str, Any],
                                    scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    if context.occurrences("op-progressive-rollout", scopes) or context.occurrences("op-progressive-rollout-code",
                                                                                      scopes):
        return
    for occurrence in _endpoints(context, scopes):
        yield occurrence.path, Hit(occurrence.span, (("name", occurrence.value),),
                                   f"fact:{occurrence.name}:{occurrence.value}")


def _has_endpoints(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    return bool(_endpoints(context, scopes))


def _deployed_models(context: RepoContext, scopes: frozenset[str]) -> list[FactOccurrence]:
    """Where the repository deploys a model: endpoint manifests (KServe, Seldon, SageMaker), and, when it holds
    an inference service, the workloads that serve traffic under a model-serving name. Serving code alone (a
    framework, a library) deploys nothing that could be alerted on."""
    deployed = _endpoints(context, scopes)
    if context.occurrences("serving-app", scopes):
        places = {(o.path, o.span.line) for o in deployed}
        deployed += [o for o in context.occurrences("te-serving-workload", scopes)
                     if (o.path, o.span.line) not in places and MODEL_SERVER_NAME.search(o.value)
                     and not PLATFORM_NAME.search(o.value) and not TEST_DATA_DIRECTORY.search(o.path)]
    return deployed


def te_served_model_without_alerting(context: RepoContext, params: Mapping[str, Any],
                                     scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """Alert rules, Terraform alert resources and alarms created from code count for the whole repository; a
    CloudFormation alarm counts only if it notifies someone, and for a CloudFormation endpoint or function only
    if it names it (cloudwatch_alarms)."""
    if any(context.occurrences(fact, scopes) for fact in _ALERTING_FACTS):
        return
    # Imported here: cloudwatch_alarms reads lambda_functions, which imports this module's vocabulary.
    from pfa_policy.engine.predicates.cloudwatch_alarms import CloudWatchAlarms

    alarms = CloudWatchAlarms(context, scopes)
    for occurrence in _deployed_models(context, scopes):
        resource = alarms.served_resource(occurrence)
        if alarms.alerts_on(resource) if resource is not None else alarms.any_notifying:
            continue
        yield occurrence.path, Hit(occurrence.span, (("name", occurrence.value),),
                                   f"fact:{occurrence.name}:{occurrence.value}")


def _deploys_models(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    return bool(_deployed_models(context, scopes))


PYTHON: dict[str, PythonPredicate] = {"ci_unconditional_model_approval": ci_unconditional_model_approval}
DOCUMENT: dict[str, DocumentPredicate] = {"ci_model_deploy_without_evaluation": ci_model_deploy_without_evaluation}
REPOSITORY: dict[str, RepositoryPredicate] = {
    "te_served_model_without_alerting": te_served_model_without_alerting,
    "op_served_model_without_rollout": op_served_model_without_rollout,
}
REPOSITORY_APPLIES: dict[str, RepositoryApplies] = {
    "te_served_model_without_alerting": _deploys_models,
    "op_served_model_without_rollout": _has_endpoints,
}
