"""Teaching material that a CI pipeline of the repository builds and deploys: production, whatever its name.

The teaching-material globs (`week_9/`, `labs/`, `homework/` ...) put a course's lessons in the example scope. A
course whose own CI builds one of them and deploys it (MLOps-Basics builds the image of `week_9_monitoring/` and
updates a Lambda function with it) runs that lesson in production, so its files keep the production scope.

Decided once per scan from the text of the CI files of the production scope (`ci_files()`, by path kind):

- the pipeline deploys (the shared vocabulary of `engine/deploy.py`; a throw-away kind / minikube cluster is an
  end-to-end test, not a deployment);
- a directory is built there when a build or deploy command runs in it or builds it: a GitHub job's or step's
  `working-directory:` (and `defaults.run.working-directory`), a `cd DIR` before the command in the same script,
  the build context of `docker build` / `docker buildx build` / `podman build` / `gcloud builds submit` /
  `az acr build` and the directory of its `-f DIR/Dockerfile`, `context:` / `file:` of docker/build-push-action;
- in GitHub Actions the building job deploys, or a deploying job `needs:` it (directly or transitively); in GitLab
  CI the pipeline deploys and the job's script builds; in other CI files the pipeline deploys and one line
  (`cd DIR && docker build .`) builds.

A directory CI only tests or lints (`cd week_1 && pytest`) is not built; a pipeline that builds but deploys nothing
leaves its lessons examples. Only a directory inside teaching material counts (a build context above the lessons,
or the root, does not), and only the teaching-material globs give way: the policy's `scopes:`, the vendored, test
and dev globs and documentation (`docs/`, `*.md`) still decide.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from pfa_policy.engine.classify import CI_KINDS, TEACHING_GLOBS, DeployedDirectory, ScopeRules, path_kind
from pfa_policy.engine.deploy import DEPLOY_COMMAND, LOCAL_CLUSTER, deploys
from pfa_policy.engine.globs import path_matches
from pfa_policy.engine.predicates.cicd import ci_files, github_job_deploys, github_needs
from pfa_policy.engine.predicates.ml_pipelines import github_jobs, gitlab_jobs
from pfa_policy.engine.repository import RepoContext, RepoFile, yaml_documents
from pfa_policy.model import ParseError
from pfa_policy.parsers.tree import Node

# A command that builds an image from a directory (its context) and, for most, a Dockerfile (`-f`).
_BUILD = re.compile(r"^(?:sudo\s+)?(?:(?:docker|podman)\s+(?:buildx\s+|image\s+)?build|buildah\s+(?:bud|build)"
                    r"|gcloud\s+(?:beta\s+)?builds\s+submit|az\s+acr\s+build)\b")
_BUILD_ACTION = re.compile(r"(?i)^docker/build-push-action@")
# Options of those commands that take no value (every other option takes one, as `--tag x` or `--tag=x`).
_FLAGS = frozenset({"--no-cache", "--pull", "--push", "--load", "-q", "--quiet", "--rm", "--force-rm", "--squash",
                    "--compress", "--async", "--no-source", "--suppress-logs", "--no-logs", "--no-wait"})
_SEPARATOR = re.compile(r"\s*(?:&&|\|\||;|\|)\s*")


def deployed_directories(root: Path, paths: Iterable[str], rules: ScopeRules,
                         read: Callable[[str], str]) -> tuple[DeployedDirectory, ...]:
    """The teaching-material directories the repository's production CI builds and deploys, sorted."""
    candidates = []
    for path in paths:
        kind = path_kind(path, frozenset())
        if kind in CI_KINDS:
            candidates.append(RepoFile(path, 0, rules.scope_of(path), frozenset({kind})))
    if not candidates:
        return ()
    context = RepoContext(root, tuple(candidates), (), reader=read)
    found: dict[str, DeployedDirectory] = {}
    for ci in ci_files(context, frozenset({"production"})):
        for directory, job in _built(ci, read(ci.path)):
            if directory and path_matches(directory + "/", TEACHING_GLOBS):
                found.setdefault(directory, DeployedDirectory(directory, ci.path, job))
    return tuple(found[d] for d in sorted(found))


def _built(ci: RepoFile, text: str) -> Iterator[tuple[str, str]]:
    """(directory, job) pairs a deploying pipeline builds."""
    if "github-workflow" in ci.kinds or "gitlab-ci" in ci.kinds:
        try:
            documents = yaml_documents(text)
        except ParseError:
            return
        for document in documents:
            if document.root.is_mapping:
                found = _github(document.root) if "github-workflow" in ci.kinds else _gitlab(document.root)
                yield from found
        return
    if not deploys(text):
        return
    for line in text.replace("\\\n", " ").splitlines():
        for directory in _script_directories(line, ""):
            yield directory, ""


def _github(root: Node) -> Iterator[tuple[str, str]]:
    jobs = github_jobs(root)
    deploying = [name for name, job in jobs.items() if github_job_deploys(job) is not None]
    shipped = set(deploying).union(*(github_needs(jobs, name) for name in deploying))
    workflow_directory = _working_directory(root, "")
    for name in sorted(shipped):
        job = jobs[name]
        job_directory = _working_directory(job, workflow_directory)
        steps = job.get("steps")
        for step in steps.elements() if steps is not None and steps.is_sequence else ():
            if not step.is_mapping:
                continue
            run, uses = step.get("run"), step.get("uses")
            if run is not None and run.is_scalar:
                own = step.get("working-directory")
                base = _join("", str(own.value)) if own is not None and own.is_scalar else job_directory
                for directory in _script_directories(str(run.value), base):
                    yield directory, name
            elif uses is not None and _BUILD_ACTION.match(str(uses.value)):
                yield from ((d, name) for d in _action_directories(step.get("with")))


def _gitlab(root: Node) -> Iterator[tuple[str, str]]:
    jobs = gitlab_jobs(root)
    scripts = {name: _script(job) for name, job in jobs.items()}
    if not any(DEPLOY_COMMAND.search(s) and not LOCAL_CLUSTER.search(s) for s in scripts.values()):
        return
    for name, script in scripts.items():
        yield from ((d, name) for d in _script_directories(script, ""))


def _script(job: Node) -> str:
    lines: list[str] = []
    for key in ("before_script", "script"):
        node = job.get(key)
        if node is None:
            continue
        items = [node] if node.is_scalar else list(node.elements()) if node.is_sequence else []
        lines.extend(str(item.value) for item in items if item.is_scalar)
    return "\n".join(lines)


def _working_directory(node: Node, inherited: str | None) -> str | None:
    """`defaults.run.working-directory` of a workflow or job, else what it inherits."""
    defaults = node.get("defaults")
    run = defaults.get("run") if defaults is not None and defaults.is_mapping else None
    directory = run.get("working-directory") if run is not None and run.is_mapping else None
    if directory is None:
        return inherited
    return _join("", str(directory.value)) if directory.is_scalar else None


def _action_directories(inputs: Node | None) -> Iterator[str]:
    if inputs is None or not inputs.is_mapping:
        return
    context, dockerfile = inputs.get("context"), inputs.get("file")
    if context is not None and context.is_scalar:
        found = _join("", str(context.value))
        if found:
            yield found
    if dockerfile is not None and dockerfile.is_scalar:
        found = _join("", posixpath.dirname(str(dockerfile.value)))
        if found:
            yield found


def _script_directories(script: str, base: str | None) -> Iterator[str]:
    """The directories a script's build and deploy commands run in or build, `cd` followed from `base` (None:
    a directory the script cannot tell, as `cd $DIR`)."""
    for line in script.replace("\\\n", " ").splitlines():
        if line.lstrip().startswith("#"):
            continue
        for command in _SEPARATOR.split(line.strip()):
            words = _words(command)
            if not words:
                continue
            if words[0] == "cd":
                base = _join(base, words[1]) if len(words) == 2 and base is not None else None
            elif _BUILD.match(command):
                if base:
                    yield base
                yield from _build_arguments(words, base)
            elif base and DEPLOY_COMMAND.search(command) and not LOCAL_CLUSTER.search(command):
                yield base


def _build_arguments(words: list[str], base: str | None) -> Iterator[str]:
    """The build context (the first positional argument after the sub-command) and the Dockerfile's directory."""
    if base is None:
        return
    start = next((i for i, w in enumerate(words) if w in ("build", "bud", "submit")), len(words)) + 1
    index, context = start, None
    while index < len(words):
        word = words[index]
        if word.startswith("-"):
            name, _, value = word.partition("=")
            if not value and name not in _FLAGS:
                value = words[index + 1] if index + 1 < len(words) else ""
                index += 1
            if name in ("-f", "--file") and value:
                found = _join(base, posixpath.dirname(value))
                if found:
                    yield found
        elif context is None:
            context = word
        index += 1
    found = _join(base, context) if context else None
    if found:
        yield found


def _words(command: str) -> list[str]:
    try:
        return shlex.split(command, comments=True)
    except ValueError:  # an unbalanced quote
        return command.split()


def _join(base: str | None, path: str) -> str | None:
    """`path` from `base`, normalised ("" for the root); None when a variable, an absolute path or a path out of
    the repository leaves it unknown."""
    path = path.strip().strip("\"'")
    if base is None or not path or path.startswith(("/", "~", "-")) or any(c in path for c in "$`*{}"):
        return None
    joined = posixpath.normpath(posixpath.join(base, path))
    if joined == ".":
        return ""
    return None if joined == ".." or joined.startswith("../") else joined
