"""Escape-hatch predicates of the cicd pillar.

Repository predicates here read CI definitions as text (or parse them with the engine's YAML parser) and
never execute anything. Every hit carries a stable anchor (a rule-specific label plus the relevant path or
value, never a line number).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pfa_policy.engine.predicates.types import (
    DockerfilePredicate,
    DocumentPredicate,
    PythonPredicate,
    RepositoryApplies,
    RepositoryPredicate,
)
from pfa_policy.engine.repository import RepoContext, RepoFile, yaml_documents
from pfa_policy.model import FILE_START, REPOSITORY_ANCHOR, FactOccurrence, Hit, ParseError, Span
from pfa_policy.parsers.tree import Document, Node

# Where CI pipelines are defined (the same list as the shared `ci-pipeline` fact).
CI_GLOBS: tuple[str, ...] = (
    ".github/workflows/*.yml", ".github/workflows/*.yaml", ".gitlab-ci.yml", "Jenkinsfile", "azure-pipelines.yml",
    ".circleci/config.yml", "bitbucket-pipelines.yml", ".buildkite/pipeline.yml", ".drone.yml", "cloudbuild.yaml",
)
# Local composite actions and CI include files whose steps count as the pipeline's own.
_CI_EXTRA_GLOBS: tuple[str, ...] = (".github/actions/**/action.yml", ".github/actions/**/action.yaml",
                                    ".gitlab/**/*.yml", ".gitlab/**/*.yaml", "ci/**/*.yml", "ci/**/*.yaml")

# A command that runs a Python test suite.
TEST_COMMAND = re.compile(
    r"(?<![\w./-])(?:py\.?test|tox|nox|nosetests|unittest|hatch\s+test|coverage\s+run|manage\.py\s+test"
    r"|make\s+(?:-\S+\s+)*(?:[\w-]*\s+)*(?:test|tests|check|ci|unit|unittest|unit-tests?|test-\w+)\b"
    r"|just\s+(?:test|tests|check)\b|task\s+(?:test|tests|check)\b|mise\s+(?:run|r)\s+(?:test|tests|check)\b"
    r"|(?:poetry|uv|pdm|hatch|pipenv)\s+run\s+(?:-\S+\s+)*\S*test)(?![\w-])",
    re.IGNORECASE,
)
# A make target that the pipeline invokes, and the recipe lines of a Makefile target.
_MAKE_CALL = re.compile(r"(?<![\w-])make\s+((?:-\S+\s+)*[\w\s-]+)")
_SCRIPT_CALL = re.compile(r"(?<![\w-])((?:\./)?[\w./-]+\.(?:sh|bash|py))\b")
# A command that deploys something.
DEPLOY_COMMAND = re.compile(
    r"(?:kubectl\s+(?:-\S+\s+)*(?:apply|create|replace|rollout|set\s+image|kustomize)|helm\s+(?:-\S+\s+)*"
    r"(?:upgrade|install)|helmfile|skaffold\s+(?:run|deploy)|argocd\s+app|flux\s+reconcile|kustomize\s+build"
    r"|aws\s+sagemaker|sagemaker|cdk\s+deploy|sam\s+deploy|serverless\s+deploy|terraform\s+apply|pulumi\s+up"
    r"|gcloud\s+[\w\s-]*deploy|az\s+ml|k8s-deploy|aks-set-context|deploy)",
    re.IGNORECASE,
)
_REUSABLE_WORKFLOW = re.compile(r"^\s*uses:\s*['\"]?[\w.-]+/[\w.-]+/\.github/workflows/", re.MULTILINE)
_SHA = re.compile(r"^[0-9a-f]{40}$")


def _is_test_file(repo_file: RepoFile) -> bool:
    name = repo_file.name
    if not name.endswith(".py"):
        return False
    if repo_file.scope == "test" and name not in ("noxfile.py",):
        return True
    parts = repo_file.path.split("/")
    return (name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
            or any(p in ("tests", "test") for p in parts[:-1]))


def _ci_files(context: RepoContext) -> list[RepoFile]:
    return context.files_matching(CI_GLOBS)


def _code_lines(text: str) -> Iterator[tuple[int, str]]:
    """Non-comment lines with their 1-based numbers (YAML, shell and Groovy `//` comments skipped)."""
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", "//")):
            yield number, line


def _ci_text(context: RepoContext, ci: Iterable[RepoFile]) -> str:
    paths = [f.path for f in ci] + [f.path for f in context.files_matching(_CI_EXTRA_GLOBS)]
    chunks = []
    for path in dict.fromkeys(paths):
        chunks.append("\n".join(line for _, line in _code_lines(context.read_text(path))))
    return "\n".join(chunks)


def _line_of(text: str, pattern: re.Pattern[str]) -> Span:
    for number, line in _code_lines(text):
        if pattern.search(line):
            column = len(line) - len(line.lstrip()) + 1
            return Span(number, column, number, len(line) + 1)
    return FILE_START


def _make_targets(text: str) -> dict[str, str]:
    """Makefile target -> its recipe text (one level; prerequisites' names included)."""
    targets: dict[str, str] = {}
    current: list[str] = []
    for line in text.split("\n"):
        if line.startswith("\t"):
            for name in current:
                targets[name] += line + "\n"
            continue
        head = re.match(r"^([\w.-]+(?:\s+[\w.-]+)*)\s*:(?!=)(.*)$", line)
        if head:
            current = head.group(1).split()
            for name in current:
                targets[name] = head.group(2) + "\n"
        elif line.strip():
            current = []
    return targets


def _runs_tests(context: RepoContext, ci_text: str) -> bool:
    """Whether the pipeline text, or a make target / script it calls (one level deep), runs tests."""
    if TEST_COMMAND.search(ci_text):
        return True
    present = {f.path for f in context.files}
    makefile = next((p for p in ("Makefile", "makefile", "GNUmakefile") if p in present), "")
    if makefile:
        targets = _make_targets(context.read_text(makefile))
        for call in _MAKE_CALL.finditer(ci_text):
            for name in call.group(1).split():
                recipe = targets.get(name, "")
                if TEST_COMMAND.search(recipe) or any(
                    TEST_COMMAND.search(targets.get(dep, "")) for dep in recipe.split("\n")[0].split()
                ):
                    return True
    for call in _SCRIPT_CALL.finditer(ci_text):
        path = call.group(1).removeprefix("./")
        if path in present and TEST_COMMAND.search(context.read_text(path)):
            return True
    return False


def _has_ci_and_tests(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    return bool(_ci_files(context)) and any(_is_test_file(f) for f in context.files)


def ci_tests_not_run(context: RepoContext, params: Mapping[str, Any],
                     scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """A CI pipeline exists and the repository has tests, but no CI job runs them (CI-2)."""
    if not _has_ci_and_tests(context, params, scopes):
        return
    ci = _ci_files(context)
    text = _ci_text(context, ci)
    if _REUSABLE_WORKFLOW.search(text) or _runs_tests(context, text):
        return  # a reusable workflow from another repository may run them: unknowable here
    first = ci[0]
    span = _line_of(context.read_text(first.path), re.compile(r"^\s*(jobs|stages|steps|pipeline|script)\s*[:{(]"))
    names = ", ".join(f.path for f in ci)
    yield first.path, Hit(span, (("name", names),), "ci-tests-not-run")


_NOT_PRODUCTION_CODE = frozenset({"setup.py", "noxfile.py", "conf.py", "__init__.py", "manage.py"})


def _production_modules(context: RepoContext, scopes: frozenset[str]) -> list[RepoFile]:
    return [f for f in context.files if f.scope in scopes and f.path.endswith(".py")
            and f.name not in _NOT_PRODUCTION_CODE and not _is_test_file(f)]


def _has_production_code(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    return len(_production_modules(context, scopes)) >= int(params.get("min_production_files", 1))


def ci_no_tests(context: RepoContext, params: Mapping[str, Any],
                scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """Production Python code and not a single automated test in the repository (CI-3)."""
    if not _has_production_code(context, params, scopes):
        return
    production = _production_modules(context, scopes)
    if any(_is_test_file(f) for f in context.files):
        return
    yield context.root_file(), Hit(FILE_START, (("name", str(len(production))),), f"{REPOSITORY_ANCHOR}:no-tests")


def _step_uses(steps: Node | None) -> Iterator[Node]:
    for step in steps.elements() if steps is not None else ():
        uses = step.get("uses")
        if uses is not None:
            yield uses


def _workflow_uses(root: Node) -> Iterator[Node]:
    """Every `uses:` node of a workflow (job steps and reusable-workflow jobs) or of a composite action."""
    jobs = root.get("jobs")
    for _, job in jobs.items() if jobs is not None else ():
        uses = job.get("uses")
        if uses is not None:
            yield uses
        yield from _step_uses(job.get("steps"))
    runs = root.get("runs")
    if runs is not None:
        yield from _step_uses(runs.get("steps"))


def ci_unpinned_action(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """`uses:` references to actions or reusable workflows that are not pinned to a full commit SHA (CI-5).

    Local actions (`./...`) are skipped; `docker://` images must carry a digest; owners listed in the
    `exempt_owners` parameter (default: GitHub's own `actions` and `github`) are skipped.
    """
    exempt = {str(o).lower() for o in params.get("exempt_owners", ())}
    for node in _workflow_uses(document.root):
        value = node.value
        if not isinstance(value, str) or value.startswith("./") or "${{" in value:
            continue
        if value.startswith("docker://"):
            if "@sha256:" not in value:
                yield Hit(node.anchor_span, (("value", value),), f"uses:{value}")
            continue
        reference, _, ref = value.partition("@")
        owner = reference.split("/")[0].lower()
        if owner in exempt or _SHA.fullmatch(ref):
            continue
        yield Hit(node.anchor_span, (("value", value),), f"uses:{value}")


def _deploy_artifacts(context: RepoContext, scopes: frozenset[str]) -> list[FactOccurrence]:
    return context.occurrences("ci-deploy-artifact", scopes) + context.occurrences("ci-deploy-endpoint-code", scopes)


def _has_ci_and_deploy_artifacts(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    return bool(_ci_files(context)) and bool(_deploy_artifacts(context, scopes))


def ci_deploy_not_automated(context: RepoContext, params: Mapping[str, Any],
                            scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """Deployment artifacts exist, CI exists, but no CI job deploys and no GitOps controller pulls (CI-6)."""
    if not _has_ci_and_deploy_artifacts(context, params, scopes) or context.occurrences("ci-gitops"):
        return
    ci = _ci_files(context)
    artifacts = _deploy_artifacts(context, scopes)
    if DEPLOY_COMMAND.search(_ci_text(context, ci)):
        return
    manual = context.occurrences("ci-manual-deploy", scopes)
    where = manual[0] if manual else artifacts[0]
    looked = ", ".join(f.path for f in ci)
    values = (("name", where.value or where.path), ("looked_for", looked))
    yield where.path, Hit(where.span, values, f"ci-deploy-not-automated:{where.path}")


# Push filters that name only long-lived branches: such a workflow runs after merge.
_POST_MERGE_BRANCH = re.compile(r"^(main|master|trunk|develop|development|prod|production|release[\w./-]*"
                                r"|releases?/\*\*?|stable|v?\d[\w.]*)$")


def _github_premerge(root: Node) -> bool:
    on = root.get("on")
    if on is None:
        return False
    if isinstance(on.value, str):
        triggers: dict[str, Node | None] = {on.value: None}
    elif isinstance(on.value, list):
        triggers = {str(t.value): None for t in on.value}
    elif isinstance(on.value, dict):
        triggers = dict(on.value)
    else:
        return False
    if any(t in triggers for t in ("pull_request", "pull_request_target", "merge_group")):
        return True
    if "push" not in triggers:
        return False
    push = triggers["push"]
    if push is None or not isinstance(push.value, dict):
        return True  # every branch, feature branches included
    if "branches-ignore" in push.value:
        return True
    branches = push.get("branches")
    if branches is None:
        return "tags" not in push.value and "tags-ignore" not in push.value
    names = [str(b.value) for b in branches.elements()] if branches.is_sequence else [str(branches.value)]
    return any(not _POST_MERGE_BRANCH.match(n) for n in names)


def _gitlab_premerge(root: Node) -> bool:
    workflow = root.get("workflow")
    rules = workflow.get("rules") if workflow is not None else None
    if rules is None or not rules.is_sequence:
        return True  # branch pipelines run on every pushed branch
    for rule in rules.elements():
        condition = rule.get("if")
        when = rule.get("when")
        if when is not None and when.value == "never":
            continue
        if condition is None:
            return True
        text = str(condition.value)
        if "merge_request" in text or ("CI_COMMIT_BRANCH" in text and "==" not in text):
            return True
    return False


def _is_github_workflow(repo_file: RepoFile) -> bool:
    return repo_file.path.startswith(".github/workflows/")


def _has_only_github_or_gitlab_ci(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    ci = _ci_files(context)
    return bool(ci) and all(_is_github_workflow(f) or f.path == ".gitlab-ci.yml" for f in ci)


def _parse(context: RepoContext, path: str) -> Node | None:
    try:
        documents = yaml_documents(context.read_text(path))
    except ParseError:
        return None
    return documents[0].root if documents else None


def ci_no_premerge_trigger(context: RepoContext, params: Mapping[str, Any],
                           scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """GitHub Actions / GitLab CI exist but no pipeline runs on pull or merge requests (CI-7).

    Other CI systems configure pre-merge builds outside the repository: their presence keeps this quiet.
    """
    if not _has_only_github_or_gitlab_ci(context, params, scopes):
        return
    ci = _ci_files(context)
    github = [f for f in ci if _is_github_workflow(f)]
    gitlab = [f for f in ci if not _is_github_workflow(f)]
    for repo_file in github:
        root = _parse(context, repo_file.path)
        if root is None or _github_premerge(root):
            return
    for repo_file in gitlab:
        root = _parse(context, repo_file.path)
        if root is None or _gitlab_premerge(root):
            return
    first = ci[0]
    span = _line_of(context.read_text(first.path), re.compile(r"^\s*(on|workflow)\s*:"))
    looked = ", ".join(f.path for f in ci)
    yield first.path, Hit(span, (("looked_for", looked),), "ci-no-premerge-trigger")


PYTHON: dict[str, PythonPredicate] = {}
DOCUMENT: dict[str, DocumentPredicate] = {"ci_unpinned_action": ci_unpinned_action}
DOCKERFILE: dict[str, DockerfilePredicate] = {}
REPOSITORY: dict[str, RepositoryPredicate] = {
    "ci_tests_not_run": ci_tests_not_run,
    "ci_no_tests": ci_no_tests,
    "ci_deploy_not_automated": ci_deploy_not_automated,
    "ci_no_premerge_trigger": ci_no_premerge_trigger,
}
# When each has something to judge (readiness counts it only then): the predicate's own precondition.
REPOSITORY_APPLIES: dict[str, RepositoryApplies] = {
    "ci_tests_not_run": _has_ci_and_tests,
    "ci_no_tests": _has_production_code,
    "ci_deploy_not_automated": _has_ci_and_deploy_artifacts,
    "ci_no_premerge_trigger": _has_only_github_or_gitlab_ci,
}
