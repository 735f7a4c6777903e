"""Escape-hatch predicates of the cicd pillar.

Repository predicates here read CI definitions as text (or parse them with the engine's YAML parser) and
never execute anything. Every hit carries a stable anchor (a rule-specific label plus the relevant path or
value, never a line number).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pfa_policy.engine.ci_jobs import (
    Job,
    checks_conclusion,
    ci_system,
    gate_of,
    needs,
    pipeline_jobs,
    waits_for,
    workflow_run_trigger,
)
from pfa_policy.engine.classify import CI_KINDS
from pfa_policy.engine.deploy import (
    DEPLOY_ACTION,
    DEPLOY_COMMAND,
    DEPLOY_ENTRY_POINT,
    DEPLOY_TASK,
    LOCAL_CLUSTER,
    LOCAL_CLUSTER_ACTION,
    change_command,
    deploy_command,
    deploys_repository,
    is_deploy_sdk_call,
    logical_lines,
    repository_chart,
)
from pfa_policy.engine.document_match import document_identity
from pfa_policy.engine.predicates.ml_pipelines import github_jobs
from pfa_policy.engine.predicates.types import (
    DockerfilePredicate,
    DocumentPredicate,
    PythonPredicate,
    RepositoryApplies,
    RepositoryPredicate,
)
from pfa_policy.engine.repository import RepoContext, RepoFile, yaml_documents
from pfa_policy.model import FILE_START, REPOSITORY_ANCHOR, FactOccurrence, Hit, ParseError, Span
from pfa_policy.parsers.python import PythonFile
from pfa_policy.parsers.tree import Document, Node

# What PFA-CI-001 names when it finds no pipeline.
CI_SYSTEMS = ("GitHub Actions (also a project's nested .github/workflows), GitLab CI, Jenkinsfile, Azure Pipelines, "
              "CircleCI, Bitbucket Pipelines, Buildkite, Google Cloud Build, AWS CodeBuild, Drone, Prow, Tekton "
              "and Argo Workflows pipelines")
# Local composite actions and CI include files whose steps count as the pipeline's own.
_CI_EXTRA_GLOBS: tuple[str, ...] = ("**/.github/actions/**/action.yml", "**/.github/actions/**/action.yaml",
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
_REUSABLE_WORKFLOW = re.compile(r"^[ \t]*uses:\s*['\"]?[\w.-]+/[\w.-]+/\.github/workflows/", re.MULTILINE)
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


def ci_files(context: RepoContext, scopes: frozenset[str]) -> list[RepoFile]:
    """The CI pipelines in these scopes: the files of a CI kind wherever they are (a monorepo project's own
    `.github/workflows` too, which the document rules read) and what the `ci-pipeline` fact found (a
    Jenkinsfile, Azure Pipelines under any name, Tekton and Argo Workflows pipelines, Prow job configs)."""
    found = {o.path for o in context.occurrences("ci-pipeline", scopes)}
    return [f for f in context.files if f.scope in scopes and (not CI_KINDS.isdisjoint(f.kinds) or f.path in found)]


def _has_python(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    return any(f.path.endswith(".py") and f.scope in scopes for f in context.files)


def ci_no_pipeline(context: RepoContext, params: Mapping[str, Any],
                   scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """Python code in the rule's scopes and no CI pipeline of any system in them (CI-1): no CI file, and no
    CodePipeline / CodeBuild declared in Terraform or CloudFormation (`ci-pipeline-resource`)."""
    if (not _has_python(context, params, scopes) or ci_files(context, scopes)
            or context.occurrences("ci-pipeline-resource", scopes)):
        return
    anchor = context.root_file()
    if anchor:
        yield anchor, Hit(FILE_START, (("looked_for", CI_SYSTEMS),), REPOSITORY_ANCHOR)


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
    return bool(ci_files(context, scopes)) and any(_is_test_file(f) for f in context.files)


def ci_tests_not_run(context: RepoContext, params: Mapping[str, Any],
                     scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """A CI pipeline exists and the repository has tests, but no CI job runs them (CI-2)."""
    if not _has_ci_and_tests(context, params, scopes):
        return
    ci = ci_files(context, scopes)
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


# Tests of the repository's other languages: a Go operator with `*_test.go` beside a few Python scripts has tests,
# but one Java sample's JUnit test does not test eighteen Python handlers. A language's tests count when the
# repository has more files of that language than production Python modules.
_OTHER_LANGUAGE_TESTS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"_test\.go$"), (".go",)),
    (re.compile(r"\.(?:test|spec)\.[cm]?[jt]sx?$"), (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".mts", ".cts")),
    (re.compile(r"_spec\.rb$"), (".rb",)),
    (re.compile(r"(?<=[a-z])Tests?\.(?:java|kt)$"), (".java", ".kt")),
    (re.compile(r"_test\.rs$"), (".rs",)),
)


def _tested_in_main_language(context: RepoContext, python_modules: int) -> bool:
    return any(any(test_name.search(f.name) for f in context.files)
               and sum(1 for f in context.files if f.name.endswith(suffixes)) > python_modules
               for test_name, suffixes in _OTHER_LANGUAGE_TESTS)


def ci_no_tests(context: RepoContext, params: Mapping[str, Any],
                scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """Production Python code and not a single automated test in the repository (CI-3)."""
    if not _has_production_code(context, params, scopes):
        return
    production = _production_modules(context, scopes)
    if any(_is_test_file(f) for f in context.files) or _tested_in_main_language(context, len(production)):
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


def _mutable_image(value: str) -> bool:
    """An image reference with no tag or the `latest` tag (and no digest): whatever was pushed last runs."""
    if "@sha256:" in value or "$" in value or "{{" in value:
        return False
    last = value.rsplit("/", 1)[-1]
    return ":" not in last or last.rsplit(":", 1)[1] == "latest"


def _step_images(document: Document) -> Iterator[Node]:
    """The images the steps and jobs of a non-GitHub pipeline run in (engine.ci_jobs), once each; GitLab's
    top-level and `default:` images too."""
    seen: set[int] = set()
    root = document.root
    default = root.get("default")
    extra = [root.get("image"), default.get("image") if default is not None else None]
    found = [n for job in pipeline_jobs(document, templates=True).values() for n in job.images]
    for node in [*found, *(n for n in (_image(e) for e in extra) if n is not None)]:
        if id(node) not in seen:
            seen.add(id(node))
            yield node


def _image(node: Node | None) -> Node | None:
    if node is not None and node.is_mapping:
        node = node.get("name")
    return node if node is not None and node.is_scalar and isinstance(node.value, str) else None


def ci_unpinned_action(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """`uses:` references to actions or reusable workflows that are not pinned to a full commit SHA (CI-5).

    Local actions (`./...`) are skipped; `docker://` images must carry a digest; owners listed in the
    `exempt_owners` parameter (default: GitHub's own `actions` and `github`) are skipped. In the other CI
    systems (engine.ci_jobs) the images steps and jobs run in are reported when untagged or `:latest`.
    """
    if ci_system(document) not in ("", "github-workflow"):
        for node in _step_images(document):
            value = str(node.value)
            if _mutable_image(value):
                what = "has no tag" if ":" not in value.rsplit("/", 1)[-1] else "is tagged `latest`"
                yield Hit(node.anchor_span, (("value", value), ("name", f"step image `{value}` {what}")),
                          f"image:{value}")
        return
    exempt = {str(o).lower() for o in params.get("exempt_owners", ())}
    for node in _workflow_uses(document.root):
        if not isinstance(node.value, str) or node.value.startswith("./") or "${{" in node.value:
            continue
        value = node.value
        if value.startswith("docker://"):
            if "@sha256:" not in value:
                yield Hit(node.anchor_span, (("value", value), ("name", f"`uses: {value}` has no digest")),
                          f"uses:{value}")
            continue
        reference, _, ref = value.partition("@")
        owner = reference.split("/")[0].lower()
        if owner in exempt or _SHA.fullmatch(ref):
            continue
        yield Hit(node.anchor_span, (("value", value), ("name", f"`uses: {value}` is not pinned to a full commit "
                                                                 "SHA")), f"uses:{value}")


def _deploy_artifacts(context: RepoContext, scopes: frozenset[str]) -> list[FactOccurrence]:
    return context.occurrences("ci-deploy-artifact", scopes) + context.occurrences("ci-deploy-endpoint-code", scopes)


def _has_ci_and_deploy_artifacts(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    return bool(ci_files(context, scopes)) and bool(_deploy_artifacts(context, scopes))


def ci_deploy_not_automated(context: RepoContext, params: Mapping[str, Any],
                            scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """Deployment artifacts exist, CI exists, but no CI job deploys and no GitOps controller pulls (CI-6)."""
    if not _has_ci_and_deploy_artifacts(context, params, scopes) or context.occurrences("ci-gitops"):
        return
    ci = ci_files(context, scopes)
    artifacts = _deploy_artifacts(context, scopes)
    text = _ci_text(context, ci)
    # Installing published charts or manifests (`helm install pg bitnami/postgresql`) is not deploying these.
    if (deploys_repository(text, repository_chart(f.path for f in context.files)) or DEPLOY_ENTRY_POINT.search(text)
            or _uses_deploy_action(text) or _runs_deploy_code(context, text, scopes)):
        return
    manual = _manual_deploy(context, scopes)
    where_path, where_span, name = manual or (artifacts[0].path, artifacts[0].span,
                                               artifacts[0].value or artifacts[0].path)
    looked = ", ".join(f.path for f in ci)
    values = (("name", name), ("looked_for", looked))
    yield where_path, Hit(where_span, values, f"ci-deploy-not-automated:{where_path}")


def _runs_deploy_code(context: RepoContext, ci_text: str, scopes: frozenset[str]) -> bool:
    """CI runs a script that deploys through an SDK (a Cloud Build step `python build/utils.py --mode
    deploy-model` whose module calls `Endpoint.deploy`): named by its path, or by a path it ends with."""
    deploying = {o.path for o in context.occurrences("ci-deploy-endpoint-code", scopes)}
    for call in _SCRIPT_CALL.finditer(ci_text):
        path = call.group(1).removeprefix("./")
        if any(d == path or ("/" in path and d.endswith("/" + path)) for d in deploying):
            return True
    return False


_USES = re.compile(r"^[ \t]*-?[ \t]*uses:\s*['\"]?(\S+?)['\"]?\s*$", re.MULTILINE)


def _uses_deploy_action(text: str) -> bool:
    return any(DEPLOY_ACTION.match(uses) for uses in _USES.findall(text))


_SCRIPT_NAMES = ("Makefile", "makefile", "GNUmakefile", "justfile", "Justfile", "Taskfile.yml")


def _manual_deploy(context: RepoContext, scopes: frozenset[str]) -> tuple[str, Span, str] | None:
    """The first shell script or Makefile line in these scopes that deploys by hand (path, span, command)."""
    for repo_file in context.files:
        if repo_file.scope not in scopes or not (repo_file.name.endswith((".sh", ".bash"))
                                                 or repo_file.name in _SCRIPT_NAMES):
            continue
        text = context.read_text(repo_file.path)
        if not DEPLOY_COMMAND.search(text):
            continue
        for number, line in _code_lines(text):
            command = deploy_command(line)
            if command:
                column = len(line) - len(line.lstrip()) + 1
                return repo_file.path, Span(number, column, number, len(line) + 1), command
    return None


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
    return "github-workflow" in repo_file.kinds


def _has_only_github_or_gitlab_ci(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    ci = ci_files(context, scopes)
    return bool(ci) and all(_is_github_workflow(f) or "gitlab-ci" in f.kinds for f in ci)


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
    ci = ci_files(context, scopes)
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


# ---------------------------------------------------------------------------------------------------------
# The shared deploy vocabulary, read by facts and document rules


def ci_deploy_sdk_call(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """A Python call that deploys a model (`pfa_policy.engine.deploy.DEPLOY_SDK_CALLS`)."""
    for site in file.index.calls:
        name = file.index.qualify(site.raw)
        if is_deploy_sdk_call(name):
            yield Hit(file.span_of(site.node), (("name", name),), f"call:{name}")


def _scalar_texts(node: Node | None) -> list[Node]:
    if node is None:
        return []
    return [item for item in node.walk() if item.is_scalar and isinstance(item.value, str)]


def github_job_deploys(job: Node) -> Node | None:
    """The first step value (`run:` or `uses:`) with which a GitHub job deploys; None when it does not, or when
    it first creates a throw-away cluster to deploy to (an end-to-end test)."""
    steps = job.get("steps")
    if steps is None or not steps.is_sequence:
        return None
    runs = [step.get("run") for step in steps.elements() if step.is_mapping]
    uses = [step.get("uses") for step in steps.elements() if step.is_mapping]
    if any(r is not None and LOCAL_CLUSTER.search(str(r.value)) for r in runs) or any(
            u is not None and LOCAL_CLUSTER_ACTION.match(str(u.value)) for u in uses):
        return None
    for step in steps.elements():
        if not step.is_mapping:
            continue
        run, use = step.get("run"), step.get("uses")
        if run is not None and DEPLOY_COMMAND.search(str(run.value)):
            return run
        if use is not None and DEPLOY_ACTION.match(str(use.value)):
            return use
    return None


def _deploying_command(job: Job, teardown: bool = False) -> tuple[Node, str] | None:
    """The first command (or deploy action / task / pipe) with which a job of any CI system deploys, and what
    it is; None when it does not, or when it first creates a throw-away cluster (an end-to-end test).
    `teardown`: a command that tears a deployed environment down (`terraform destroy` ...) counts too."""
    texts = [command.text for command in job.commands()]
    if any(LOCAL_CLUSTER.search(text) for text in texts) or any(
            step.uses is not None and LOCAL_CLUSTER_ACTION.match(str(step.uses.value)) for step in job.steps):
        return None
    for step in job.steps:
        for command in step.commands:
            shown = change_command(command.text) if teardown else deploy_command(command.text)
            if shown:
                return command.node, shown
        uses = str(step.uses.value) if step.uses is not None and step.uses.is_scalar else ""
        if uses and (DEPLOY_ACTION.match(uses) or DEPLOY_TASK.match(uses)):
            return step.uses, uses  # type: ignore[return-value]
    return None


# What each system offers to hold a deploy job for a person (engine.ci_jobs documents how each is read).
_APPROVAL_MISSING = {
    "github-workflow": "no GitHub `environment:` (required reviewers, wait timer, branch rules)",
    "azure-pipelines": "no deployment job `environment:` (approvals and checks) and no ManualValidation task",
    "circleci": "no `type: approval` job in its `requires:`",
    "bitbucket-pipelines": "no `trigger: manual` step before it and no `deployment:` environment",
    "buildkite": "no `block` / `input` step before it",
    "cloudbuild": "a Cloud Build file cannot hold a build for approval: only the trigger's `approvalConfig` can",
    "drone": "no promotion (`trigger: event: [promote]`) runs it",
}


def ci_github_deploy_step_without_environment(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """The deploying (or tearing-down: `terraform destroy` ...) step of a CI job that no approval or environment
    guards (PFA-AU-008 and PFA-CI-010 both report it): GitHub `environment:`, Azure deployment environments and
    ManualValidation, CircleCI approval jobs, Bitbucket manual steps and deployments, Buildkite block steps,
    Drone promotions; Cloud Build has none in the file. GitLab (PFA-AU-009) and CodeBuild (its approval is a
    CodePipeline action) are not read."""
    system = ci_system(document) or "github-workflow"  # a workflow under another name (a test's document)
    missing = _APPROVAL_MISSING.get(system)
    if missing is None:
        return
    identity = document_identity(document)
    jobs = pipeline_jobs(document)
    for name, job in jobs.items():
        found = _deploying_command(job, teardown=True)
        if found is None or gate_of(jobs, name):
            continue
        node, shown = found
        where = f"jobs.{name}" if system == "github-workflow" else name
        values = (("path", where), ("value", shown), ("name", name),
                  ("looked_for", missing))
        yield Hit(node.anchor_span, values, f"{identity}:jobs.{name}")


def ci_workflow_run_deploy_ignores_conclusion(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """A job of a GitHub workflow triggered by `workflow_run` that deploys or tears down while nothing in it (or
    in the jobs it needs) reads `github.event.workflow_run.conclusion` (engine.ci_jobs.checks_conclusion)."""
    if document.kind != "github-workflow":
        return
    followed = workflow_run_trigger(document.root)
    if followed is None:
        return
    upstream = ", ".join(f"`{name}`" for name in followed) or "the workflow it follows"
    jobs = pipeline_jobs(document)
    for name, job in jobs.items():
        found = _deploying_command(job, teardown=True)
        if found is None or checks_conclusion(jobs, name):
            continue
        yield Hit(job.node.anchor_span, (("name", name), ("value", found[1]), ("path", upstream)),
                  f"ci-workflow-run-conclusion:{name}")


# ---------------------------------------------------------------------------------------------------------
# Credentials a step mints at run time and exposes: unmasked in the log, or handed to every later step (PFA-CI-019)

# Commands that print a fresh credential (GitHub masks registered secrets, not what a step mints).
_MINT = re.compile(
    r"(?i)\bACTIONS_ID_TOKEN_REQUEST_(?:URL|TOKEN)\b|\bgcloud\s+(?:auth\s+(?:application-default\s+)?"
    r"print-(?:access|identity)-token)\b|\baz\s+account\s+get-access-token\b"
    r"|\baws\s+(?:ecr(?:-public)?\s+get-login-password|sts\s+(?:assume-role(?:-with-web-identity)?|get-session-token"
    r"|get-federation-token)|codeartifact\s+get-authorization-token|eks\s+get-token)\b|\bgh\s+auth\s+token\b"
    r"|\bkubectl\s+create\s+token\b|\bvault\s+(?:token\s+create|login)\b")
_ASSIGNED = re.compile(r"^\s*(?:export\s+|local\s+|declare\s+(?:-\w+\s+)?)?([A-Za-z_]\w*)=(.*)$")
_TO_GITHUB_FILE = re.compile(r">>?\s*[\"']?\$\{?(GITHUB_OUTPUT|GITHUB_ENV)\b")
_SET_OUTPUT = re.compile(r"::set-(?:output|env)\s")
_PRINTS = re.compile(r"^\s*(?:echo|printf)\b")
# Output sent to a file (not $GITHUB_OUTPUT / $GITHUB_ENV / the job summary): not the log.
_OTHER_REDIRECT = re.compile(r"(?<![0-9&])>>?\s*(?![\"']?\$\{?GITHUB_(?:OUTPUT|ENV|STEP_SUMMARY)\b)(?!&)\S")
_CONSUMED = re.compile(r"\|\s*(?:docker|podman|helm|oras|skopeo|crane|buildah|nerdctl)\b[^|]*\blogin\b|--password-stdin"
                       r"|\|\s*(?:kubectl|aws|gcloud|az|vault|gh)\b")
_SECRET_PRINTED = re.compile(r"\$\{\{\s*secrets\.(\w+)\s*\}\}")
_UNMASKING = re.compile(r"\|\s*(?:base64|xxd|od|rev|hexdump|sed\s+['\"]?s/\./|tr\s)")


def _references(line: str, names: set[str]) -> str:
    return next((name for name in sorted(names)
                 if re.search(rf"\$(?:{name}\b|\{{{name}\b)", line)), "")


def _exposures(script: str) -> Iterator[tuple[str, str]]:
    """(what, where) for each way a script exposes a credential it minted: a variable holding the output of a
    minting command (or a value derived from one) written to $GITHUB_OUTPUT / $GITHUB_ENV or echoed to the log
    without `::add-mask::`, a minting command's output written there directly; a `${{ secrets.X }}` echoed
    through a transformation that defeats the log masking (base64, rev ...)."""
    minted: set[str] = set()
    masked: set[str] = set()
    for line in logical_lines(script):
        if line.lstrip().startswith("#"):
            continue
        if "::add-mask::" in line:
            masked |= {name for name in minted if _references(line, {name})}
            continue
        assigned = _ASSIGNED.match(line)
        if assigned is not None and (_MINT.search(assigned.group(2)) or _references(assigned.group(2), minted)):
            minted.add(assigned.group(1))
            masked.discard(assigned.group(1))
            continue
        exposed = _references(line, minted - masked)
        if not exposed and _MINT.search(line) and "$(" in line:
            exposed = _MINT.search(line).group(0)  # type: ignore[union-attr]
        if exposed:
            target = _TO_GITHUB_FILE.search(line)
            if target is not None:
                yield exposed, f"writes it to ${target.group(1)} (every later step of the job reads it)"
                continue
            if _SET_OUTPUT.search(line):
                yield exposed, "writes it as a step output (every later step of the job reads it)"
                continue
            if _PRINTS.match(line) and not _OTHER_REDIRECT.search(line) and not _CONSUMED.search(line):
                yield exposed, "prints it to the log (unmasked)"
                continue
        secret = _SECRET_PRINTED.search(line)
        if secret is not None and _PRINTS.match(line) and _UNMASKING.search(line) and not _OTHER_REDIRECT.search(
                line):
            yield f"secrets.{secret.group(1)}", "prints it transformed (the log masking does not recognise it)"


def ci_step_exposes_minted_credential(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """A GitHub Actions `run:` script that exposes a credential (`_exposures`); one finding per step."""
    if document.kind != "github-workflow":
        return
    identity = document_identity(document)
    for name, job in pipeline_jobs(document).items():
        for index, step in enumerate(job.steps):
            for command in step.commands:
                if not _MINT.search(command.text) and "secrets." not in command.text:
                    continue
                found = next(_exposures(command.text), None)
                if found is not None:
                    yield Hit(command.node.anchor_span, (("name", found[0]), ("value", found[1]),
                                                         ("path", f"jobs.{name}")),
                              f"{identity}:ci-exposed-credential:{name}:{index}")


# ---------------------------------------------------------------------------------------------------------
# Gates that cannot gate: a deploy job that does not wait for the tests (PFA-CI-015)


def github_needs(jobs: Mapping[str, Node], name: str) -> set[str]:
    """Every job `name` waits for, transitively (engine.ci_jobs.waits_for over the jobs' `needs:`)."""
    return waits_for({other: Job(other, job, after=needs(job)) for other, job in jobs.items()}, name)


def _runs_tests_text(text: str) -> bool:
    return bool(TEST_COMMAND.search(text))


def _tests_before_deploy(job: Job, deploy: Node) -> bool:
    """Whether a test command runs in the same job before its deploying command (a failed step stops the job)."""
    for command in job.commands():
        if command.node is deploy:
            return False
        if _runs_tests_text(command.text):
            return True
    return False


def ci_deploy_not_after_tests(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """A deploying job of a pipeline that has a test job, and does not wait for it (engine.ci_jobs: needs:,
    stages, dependsOn, requires, step order, waits, waitFor; `when: always` and `always()` do not wait)."""
    jobs = pipeline_jobs(document)
    testers = [name for name, job in jobs.items() if any(_runs_tests_text(c.text) for c in job.commands())]
    for name, job in jobs.items():
        found = _deploying_command(job)
        if found is None or (name in testers and not job.always and _tests_before_deploy(job, found[0])):
            continue
        waited = waits_for(jobs, name)
        missing = [t for t in testers if t != name and (t not in waited or job.always)]
        if missing:
            yield Hit(job.node.anchor_span, (("name", name), ("value", missing[0])),
                      f"ci-deploy-not-after-tests:{name}")


# ---------------------------------------------------------------------------------------------------------
# Test steps that cannot fail (PFA-CI-016)

_TEST_NAME = re.compile(r"(?i)(?<![a-z])(?:tests?|pytest|unit[-_ ]?tests?|integration[-_ ]?tests?|e2e)(?![a-z])")
_ECHO_ONLY = re.compile(r"^(?:echo\b.*|printf\b.*|true|:|exit\s+0|#.*|)$")
_PIPED_TEST = re.compile(TEST_COMMAND.pattern + r"[^|\n]*\|(?!\|)\s*(?:tee|grep|sed|awk|cat|head|tail|python3?|sort)\b",
                         re.IGNORECASE)
_PIPEFAIL = re.compile(r"set\s+-\w*o\s+pipefail|set\s+-o\s+pipefail|pipefail")


def _shell_of(root: Node, job: Node, step: Node) -> str:
    """The shell a step runs in: its own `shell:`, else the job's, else the workflow's `defaults.run.shell`."""
    shell = step.get("shell")
    if shell is not None:
        return str(shell.value)
    for owner in (job, root):
        defaults = owner.get("defaults")
        run = defaults.get("run") if defaults is not None and defaults.is_mapping else None
        shell = run.get("shell") if run is not None and run.is_mapping else None
        if shell is not None:
            return str(shell.value)
    return ""


# GitHub's named shells stop at the first failing command (bash -e, sh -e, pwsh's $ErrorActionPreference = 'stop').
_NAMED_SHELLS = frozenset({"", "bash", "sh", "pwsh", "powershell", "cmd", "python"})


def _not_last_without_errexit(script: str, shell: str) -> str:
    """A test command that is not the script's last, under a custom shell without -e: its failure is lost."""
    if shell in _NAMED_SHELLS or re.search(r"(?:^|\s)-\w*e|errexit", shell) or _SET_E.search(script):
        return ""
    lines = [line.strip() for line in script.split("\n") if line.strip() and not line.strip().startswith("#")]
    tested = [i for i, line in enumerate(lines) if TEST_COMMAND.search(line)]
    return lines[tested[-1]][:100] if tested and tested[-1] < len(lines) - 1 else ""


def _echo_only(text: str) -> bool:
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    return bool(lines) and all(_ECHO_ONLY.match(line) for line in lines)


def _echo_only_job(steps: list[Node]) -> bool:
    """Whether every `run:` step of the job only echoes (its name then says what the steps claim to do)."""
    runs = [step.get("run") for step in steps if step.is_mapping and step.get("run") is not None]
    return bool(runs) and all(_echo_only(str(run.value)) for run in runs if run is not None)


_SET_E = re.compile(r"(?m)^[ \t]*set\s+-\w*e|\bset\s+-o\s+errexit\b")


def _azure_cannot_fail(root: Node) -> Iterator[Hit]:
    """Azure Pipelines runs a `script:` / `bash:` step as `bash <file>`, without -e or pipefail: only the last
    command's exit status counts."""
    for step in root.walk():
        if not step.is_mapping:
            continue
        for key in ("script", "bash"):
            run = step.get(key)
            if run is None or not isinstance(run.value, str) or _SET_E.search(run.value):
                continue
            lines = [line.strip() for line in run.value.split("\n")
                     if line.strip() and not line.strip().startswith("#")]
            tested = [i for i, line in enumerate(lines) if TEST_COMMAND.search(line)]
            if not tested:
                continue
            piped = _PIPED_TEST.search(lines[tested[-1]])
            if tested[-1] < len(lines) - 1:
                why = f"`{lines[tested[-1]][:100]}` is not the script's last command and nothing sets -e"
            elif piped is not None and not _PIPEFAIL.search(run.value):
                why = f"`{piped.group(0).strip()[:100]}` without pipefail: the pipe's last command decides"
            else:
                continue
            label = step.get("displayName")
            name = str(label.value) if label is not None and label.is_scalar else f"{key}: {lines[0][:60]}"
            yield Hit(run.anchor_span, (("name", name), ("value", why)),
                      f"ci-test-cannot-fail:azure:{lines[tested[-1]]}")


def ci_test_step_cannot_fail(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """GitHub Actions steps that look like tests and cannot fail the job: an echo-only "test" step, or a test
    command piped into another program under the default shell (`bash -e`, no pipefail); Azure Pipelines
    scripts whose test command is not the last one, or is piped, with no `set -e` / pipefail."""
    root = document.root
    if document.kind == "azure-pipelines":
        yield from _azure_cannot_fail(root)
        return
    for name, job in github_jobs(root).items():
        steps = job.get("steps")
        listed = list(steps.elements()) if steps is not None and steps.is_sequence else []
        for index, step in enumerate(listed):
            run = step.get("run") if step.is_mapping else None
            if run is None or not isinstance(run.value, str):
                continue
            label = step.get("name")
            title = f"{label.value if label is not None else ''} {name if _echo_only_job(listed) else ''}"
            where = f"jobs.{name}.steps[{index}]"
            if _TEST_NAME.search(title) and _echo_only(run.value):
                yield Hit(run.anchor_span, (("name", where), ("value", "only echoes: nothing is tested")),
                          f"ci-test-cannot-fail:{where}:echo")
                continue
            shell = _shell_of(root, job, step).strip()
            unmasked = _not_last_without_errexit(run.value, shell)
            if unmasked:
                yield Hit(run.anchor_span, (("name", where), ("value", f"`{unmasked}` is not the script's last "
                                             f"command and `shell: {shell}` does not stop at errors (no -e)")),
                          f"ci-test-cannot-fail:{where}:errexit")
                continue
            piped = _PIPED_TEST.search(run.value)
            if piped is None or _PIPEFAIL.search(run.value):
                continue
            if shell == "bash" or "pipefail" in shell:
                continue  # an explicit `shell: bash` is `bash -eo pipefail`
            shown = piped.group(0).strip()[:120]
            yield Hit(run.anchor_span, (("name", where), ("value", f"`{shown}` without pipefail: the pipe's last "
                                         "command decides the exit status")), f"ci-test-cannot-fail:{where}:pipe")


# ---------------------------------------------------------------------------------------------------------
# Long-lived cloud keys in CI (PFA-CI-017)

_LONG_LIVED_ENV = re.compile(r"^(?:AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AZURE_CLIENT_SECRET|ARM_CLIENT_SECRET"
                             r"|GOOGLE_CREDENTIALS|GOOGLE_APPLICATION_CREDENTIALS_JSON|GCP_SA_KEY|GCLOUD_SERVICE_KEY)$")
_SECRET_REF = re.compile(r"\$\{\{\s*secrets\.")
# Credential inputs of the cloud login actions that take a long-lived key instead of an OIDC role.
_KEY_INPUTS = {
    "aws-actions/configure-aws-credentials": ("aws-access-key-id", "aws-secret-access-key"),
    "google-github-actions/auth": ("credentials_json",),
    "azure/login": ("creds",),
}


def _env_keys(env: Node | None) -> Iterator[tuple[str, Node]]:
    for key, value in env.items() if env is not None and env.is_mapping else ():
        if _LONG_LIVED_ENV.match(key) and value.is_scalar and _SECRET_REF.search(str(value.value)):
            yield key, value


def ci_long_lived_cloud_keys(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """Long-lived cloud keys from repository secrets in a GitHub workflow, where OIDC federation is the standard;
    at workflow level they reach every step of every job (third-party actions included)."""
    root = document.root
    for key, value in _env_keys(root.get("env")):
        yield Hit(value.anchor_span, (("name", key), ("value", "the workflow's `env:`: every step of every job, "
                                       "third-party actions included, gets it")), f"ci-cloud-key:env:{key}")
    for name, job in github_jobs(root).items():
        for key, value in _env_keys(job.get("env")):
            yield Hit(value.anchor_span, (("name", key), ("value", f"job `{name}`'s `env:`")),
                      f"ci-cloud-key:{name}:{key}")
        steps = job.get("steps")
        for index, step in enumerate(steps.elements() if steps is not None and steps.is_sequence else ()):
            if not step.is_mapping:
                continue
            for key, value in _env_keys(step.get("env")):
                yield Hit(value.anchor_span, (("name", key), ("value", f"a step of job `{name}`")),
                          f"ci-cloud-key:{name}:{index}:{key}")
            uses = step.get("uses")
            action = str(uses.value).partition("@")[0].lower() if uses is not None else ""
            inputs = step.get("with")
            for input_name in _KEY_INPUTS.get(action, ()):
                given = inputs.get(input_name) if inputs is not None and inputs.is_mapping else None
                if given is not None and given.is_scalar and _SECRET_REF.search(str(given.value)):
                    yield Hit(given.anchor_span, (("name", f"{action} {input_name}"),
                                                  ("value", f"a step of job `{name}`")),
                              f"ci-cloud-key:{name}:{index}:{input_name}")
                    break


PYTHON: dict[str, PythonPredicate] = {"ci_deploy_sdk_call": ci_deploy_sdk_call}
DOCUMENT: dict[str, DocumentPredicate] = {
    "ci_unpinned_action": ci_unpinned_action,
    "ci_github_deploy_step_without_environment": ci_github_deploy_step_without_environment,
    "ci_deploy_not_after_tests": ci_deploy_not_after_tests,
    "ci_test_step_cannot_fail": ci_test_step_cannot_fail,
    "ci_long_lived_cloud_keys": ci_long_lived_cloud_keys,
    "ci_workflow_run_deploy_ignores_conclusion": ci_workflow_run_deploy_ignores_conclusion,
    "ci_step_exposes_minted_credential": ci_step_exposes_minted_credential,
}
DOCKERFILE: dict[str, DockerfilePredicate] = {}
REPOSITORY: dict[str, RepositoryPredicate] = {
    "ci_no_pipeline": ci_no_pipeline,
    "ci_tests_not_run": ci_tests_not_run,
    "ci_no_tests": ci_no_tests,
    "ci_deploy_not_automated": ci_deploy_not_automated,
    "ci_no_premerge_trigger": ci_no_premerge_trigger,
}
# When each has something to judge (readiness counts it only then): the predicate's own precondition.
REPOSITORY_APPLIES: dict[str, RepositoryApplies] = {
    "ci_no_pipeline": _has_python,
    "ci_tests_not_run": _has_ci_and_tests,
    "ci_no_tests": _has_production_code,
    "ci_deploy_not_automated": _has_ci_and_deploy_artifacts,
    "ci_no_premerge_trigger": _has_only_github_or_gitlab_ci,
}
