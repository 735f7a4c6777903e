"""One model of CI jobs, steps and commands for every CI system the engine reads as YAML.

Every CI rule that asks "which commands does this pipeline run", "which images do its steps run in", "what does
a job wait for" or "what makes a person approve before it runs" reads it from here, so a system added here is
known to all of them (PFA-DG-014, PFA-CI-007, PFA-CI-010, PFA-AU-008, PFA-CI-015):

Per system (document kind): what a job is; its commands; what it waits for; what holds it for a person.

- GitHub Actions (`github-workflow`): `jobs.<id>`; `run:`; `needs:`; `environment:`.
- GitLab CI (`gitlab-ci`): a top-level job; `before_script` / `script` / `after_script`; `needs:`, else earlier
  stages (`when: always` does not wait); `environment:`, `when: manual`.
- Azure Pipelines (`azure-pipelines`): a `job:` / `deployment:` (in `stages:`); `script` / `bash` / `pwsh` /
  `powershell` and task `inputs.inlineScript` / `script` / `arguments` (HelmDeploy / Kubernetes / Terraform
  tasks' `inputs.command` as that CLI's verb); `dependsOn:` of jobs and stages (a stage waits for the previous
  one by default; `condition: always()` does not wait); a deployment job's `environment:` (approvals and checks
  are set on it), an agentless `ManualValidation` task; a steps template (`parameters` and `steps` only) is held
  by the job that includes it. `container:` names a `resources.containers` entry or an image.
- CircleCI (`circleci`): a job of a workflow (its `name:` override), its `docker:` images or its executor's;
  `run:` (string or `command:`);
  `requires:`; a required job of `type: approval`.
- Bitbucket Pipelines (`bitbucket-pipelines`): one step of a pipeline; `script` / `after-script` (pipes as
  `uses`); every earlier step of the same pipeline (parallel steps do not wait for each other); `trigger:
  manual` (holds the step and all that follow), `deployment:`.
- Buildkite (`buildkite`): a command step; `command` / `commands`; the steps before the last `wait` / `block`
  and `depends_on:` (`continue_on_failure` waits do not stop on failure); a `block` / `input` step before it.
- Google Cloud Build (`cloudbuild`): one step; `script`, the `-c` argument of a `bash` / `sh` entrypoint, else
  the entrypoint (or the builder's name) and `args`; the earlier steps, or its `waitFor:` ids (`-`: none);
  nothing in the build file (approval is the trigger's `approvalConfig`).
- AWS CodeBuild (`codebuild`): the buildspec; `phases.<phase>.commands` / `finally`; phases in order; nothing in
  the buildspec (approval is a CodePipeline action).
- Drone (`drone`): one step; `commands`; the earlier steps, or `depends_on:`; a pipeline triggered only by
  `promote` / `rollback` events.

Jenkinsfiles (Groovy), Tekton, Argo Workflows and Prow job configs are CI pipelines for `ci_files`, but not
read as jobs here. Nothing is executed; `extends:` / `template:` / orb jobs defined elsewhere have no steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from pfa_policy.parsers.tree import Document, Node

# GitLab CI top-level keys that are not jobs.
GITLAB_RESERVED = frozenset({"stages", "variables", "default", "include", "workflow", "image", "services",
                              "before_script", "after_script", "cache", "pages"})
_SHELLS = frozenset({"bash", "sh", "/bin/bash", "/bin/sh", "/usr/bin/bash", "/usr/bin/env bash", "ash", "zsh"})
_ALWAYS = re.compile(r"\b(?:always|succeededOrFailed|failed)\(\)")


@dataclass(frozen=True, slots=True)
class Command:
    """Shell text one step runs. `exact`: `node` is the scalar holding exactly this text (its lines are the
    file's lines); otherwise the text was assembled (Cloud Build `args:`) and `node` is where to report."""

    text: str
    node: Node
    exact: bool = True


@dataclass(frozen=True, slots=True)
class Step:
    node: Node
    commands: tuple[Command, ...] = ()
    image: Node | None = None  # the image the step runs in, when the step names one (Cloud Build `name:`)
    uses: Node | None = None  # a GitHub action, an Azure task, a Bitbucket pipe


@dataclass(slots=True)
class Job:
    name: str
    node: Node
    steps: list[Step] = field(default_factory=list)
    after: list[str] = field(default_factory=list)  # the jobs it waits for directly
    gate: str = ""  # the job's own approval / environment ("environment: production"), "" when none
    approval: bool = False  # a manual approval every job waiting for it is held by
    always: bool = False  # runs even when what it waits for failed
    images: list[Node] = field(default_factory=list)  # job-level images (GitLab `image:`, CircleCI `docker:`)

    def commands(self) -> Iterator[Command]:
        for step in self.steps:
            yield from step.commands


def _scalar(node: Node | None) -> str:
    return str(node.value) if node is not None and node.is_scalar and node.value is not None else ""


def _strings(node: Node | None) -> list[Node]:
    """A scalar, or the scalar elements of a sequence."""
    if node is None:
        return []
    if node.is_sequence:
        return [item for item in node.elements() if item.is_scalar and isinstance(item.value, str)]
    return [node] if isinstance(node.value, str) else []


def _names(node: Node | None) -> list[str]:
    return [str(item.value) for item in _strings(node)]


def _image_node(node: Node | None) -> Node | None:
    """`image: python:3.12` or `image: {name: python:3.12}`."""
    if node is None:
        return None
    if node.is_mapping:
        node = node.get("name") or node.get("image")
    return node if node is not None and node.is_scalar and isinstance(node.value, str) else None


def _shell_steps(nodes: list[Node]) -> list[Step]:
    return [Step(node, (Command(str(node.value), node),)) for node in nodes]


# ---------------------------------------------------------------------------------------------------------
# GitHub Actions and GitLab CI


def needs(job: Node) -> list[str]:
    """The jobs a GitHub / GitLab job's `needs:` names (strings or `{job: name}` entries)."""
    needs = job.get("needs")
    if needs is None:
        return []
    if needs.is_scalar:
        return [str(needs.value)]
    names = []
    for item in needs.elements():
        target = item.get("job") if item.is_mapping else item
        if target is not None and target.is_scalar:
            names.append(str(target.value))
    return names


def _github(root: Node) -> dict[str, Job]:
    jobs = root.get("jobs")
    found: dict[str, Job] = {}
    for name, job in jobs.items() if jobs is not None else ():
        if not job.is_mapping:
            continue
        steps = []
        listed = job.get("steps")
        for step in listed.elements() if listed is not None else ():
            run = step.get("run") if step.is_mapping else None
            commands = (Command(str(run.value), run),) if run is not None and isinstance(run.value, str) else ()
            steps.append(Step(step, commands, uses=step.get("uses") if step.is_mapping else None))
        environment = job.get("environment")
        gate = f"environment: {_scalar(environment) or _scalar(environment.get('name'))}" if environment else ""
        found[name] = Job(name, job, steps, needs(job), gate.rstrip(": "))
    return found


def gitlab_earlier(root: Node, jobs: dict[str, Node]) -> dict[str, list[str]]:
    """The jobs of earlier stages each job waits for (a job with `needs:` waits for those only)."""
    stages_node = root.get("stages")
    stages = [str(s.value) for s in stages_node.elements()] if stages_node is not None else [
        "build", "test", "deploy"]
    order = {stage: position for position, stage in enumerate(stages)}

    def stage_of(job: Node) -> int:
        stage = job.get("stage")
        return order.get(str(stage.value) if stage is not None else "test", 1)

    earlier: dict[str, list[str]] = {}
    for name, job in jobs.items():
        if job.get("needs") is None:  # `needs:` replaces stage ordering
            earlier[name] = [other for other, o in jobs.items() if stage_of(o) < stage_of(job)]
    return earlier


def _gitlab(root: Node, templates: bool) -> dict[str, Job]:
    jobs = {name: job for name, job in root.items() if job.is_mapping and name not in GITLAB_RESERVED
            and (templates or not name.startswith("."))}
    if templates and root.get("default") is not None and root.get("default").is_mapping:  # type: ignore[union-attr]
        jobs["default"] = root.get("default")  # type: ignore[assignment]
    earlier = gitlab_earlier(root, jobs)
    found: dict[str, Job] = {}
    for name, job in jobs.items():
        steps = _shell_steps([line for key in ("before_script", "script", "after_script")
                              for line in _strings(job.get(key))])
        rules = job.get("rules")
        whens = [_scalar(job.get("when"))] + [_scalar(rule.get("when")) for rule in
                                               (rules.elements() if rules is not None else ()) if rule.is_mapping]
        environment = job.get("environment")
        gate = "when: manual" if "manual" in whens else (
            f"environment: {_scalar(environment) or _scalar(environment.get('name'))}" if environment else "")
        image = _image_node(job.get("image"))
        found[name] = Job(name, job, steps, [*needs(job), *earlier.get(name, ())], gate, always="always" in whens,
                          images=[image] if image is not None else [])
    return found


# ---------------------------------------------------------------------------------------------------------
# Azure Pipelines

_AZURE_SCRIPT_KEYS = ("script", "bash", "pwsh", "powershell")
_AZURE_TASK_INPUTS = ("inlineScript", "script", "arguments")
# Tasks whose `inputs.command` is a CLI verb: `HelmDeploy@0` command upgrade is `helm upgrade`.
_AZURE_TASK_CLI = (("helmdeploy", "helm"), ("kubernetes@", "kubectl"), ("terraform", "terraform"))


def _azure_steps(steps: Node | None) -> list[Step]:
    found = []
    for step in steps.elements() if steps is not None else ():
        if not step.is_mapping:
            continue
        commands = [Command(str(node.value), node) for key in _AZURE_SCRIPT_KEYS
                    for node in _strings(step.get(key))]
        task = step.get("task")
        inputs = step.get("inputs")
        if task is not None and inputs is not None and inputs.is_mapping:
            commands += [Command(str(node.value), node) for key in _AZURE_TASK_INPUTS
                         for node in _strings(inputs.get(key))]
            verb = _scalar(inputs.get("command"))
            cli = next((c for prefix, c in _AZURE_TASK_CLI if _scalar(task).lower().startswith(prefix)), "")
            if cli and verb:
                commands.append(Command(f"{cli} {verb}", task, exact=False))
        found.append(Step(step, tuple(commands), uses=task))
    return found


def _azure_job_steps(job: Node) -> list[Step]:
    steps = _azure_steps(job.get("steps"))
    strategy = job.get("strategy")  # a deployment job: runOnce / rolling / canary hooks
    for node in strategy.walk() if strategy is not None else ():
        if node.is_mapping and node.get("steps") is not None:
            steps += _azure_steps(node.get("steps"))
    return steps


def _azure(root: Node) -> dict[str, Job]:
    stages = root.get("stages")
    if stages is not None and stages.is_sequence:
        listed = [stage for stage in stages.elements() if stage.is_mapping and stage.get("stage") is not None]
    else:
        listed = [root]
    found: dict[str, Job] = {}
    members: dict[str, list[str]] = {}
    previous = ""
    # `container: mlops` names a `resources.containers` entry; a file of `parameters` and `steps` only is a
    # steps template: the job that includes it decides what holds it (its environment), not the template.
    resources = root.get("resources")
    containers = resources.get("containers") if resources is not None else None
    aliases = {_scalar(c.get("container")): c.get("image") for c in
               (containers.elements() if containers is not None else ()) if c.is_mapping}
    included = root.get("parameters") is not None and not any(
        root.get(key) is not None for key in ("trigger", "pr", "pool", "stages", "jobs", "schedules", "resources"))
    for stage in listed:
        stage_name = _scalar(stage.get("stage"))
        depends = stage.get("dependsOn")
        stage_after = _names(depends) if depends is not None else ([previous] if previous else [])
        stage_always = bool(_ALWAYS.search(_scalar(stage.get("condition"))))
        jobs = stage.get("jobs")
        entries = [job for job in jobs.elements() if job.is_mapping] if jobs is not None else (
            [stage] if stage.get("steps") is not None else [])
        for index, job in enumerate(entries):
            own = _scalar(job.get("job")) or _scalar(job.get("deployment")) or f"job{index}"
            name = f"{stage_name}.{own}" if stage_name else own
            steps = _azure_job_steps(job)
            environment = job.get("environment") if job.get("deployment") is not None else None
            env_name = _scalar(environment) or _scalar(environment.get("name")) if environment is not None else ""
            approval = any(_scalar(step.uses).lower().startswith("manualvalidation@") for step in steps)
            after = [f"{stage_name}.{n}" if stage_name else n for n in _names(job.get("dependsOn"))]
            image = _image_node(aliases.get(_scalar(job.get("container"))) or job.get("container"))
            gate = f"environment: {env_name}" if environment is not None else (
                "steps template (the including job decides)" if included else "")
            found[name] = Job(name, job, steps, after, gate,
                              approval=approval, always=stage_always or bool(_ALWAYS.search(
                                  _scalar(job.get("condition")))), images=[image] if image is not None else [])
            members.setdefault(stage_name, []).append(name)
        for name in members.get(stage_name, []):
            found[name].after += [m for s in stage_after for m in members.get(s, [])]
        previous = stage_name
    return found


# ---------------------------------------------------------------------------------------------------------
# CircleCI


def _circleci_steps(job: Node) -> list[Step]:
    found = []
    steps = job.get("steps")
    for step in steps.elements() if steps is not None else ():
        run = step.get("run") if step.is_mapping else None
        if run is not None and run.is_mapping:
            run = run.get("command")
        if run is not None and run.is_scalar and isinstance(run.value, str):
            found.append(Step(step, (Command(str(run.value), run),)))
    return found


def _circleci_images(definition: Node | None, executors: Node | None) -> list[Node]:
    """`docker: [{image}]` of the job, or of the `executors:` entry it names (`executor: py` or `{name: py}`)."""
    docker = definition.get("docker") if definition is not None else None
    executor = definition.get("executor") if definition is not None else None
    named = _scalar(executor.get("name") if executor is not None and executor.is_mapping else executor)
    if docker is None and named and executors is not None and executors.get(named) is not None:
        docker = executors.get(named).get("docker")  # type: ignore[union-attr]
    return [image for item in (docker.elements() if docker is not None else ())
            if (image := _image_node(item)) is not None]


def _circleci(root: Node) -> dict[str, Job]:
    definitions = root.get("jobs")
    defined = {name: job for name, job in definitions.items() if job.is_mapping} if definitions is not None else {}
    found: dict[str, Job] = {}
    workflows = root.get("workflows")
    listed = [(name, wf) for name, wf in workflows.items() if wf.is_mapping] if workflows is not None else []
    for _, workflow in listed:
        jobs = workflow.get("jobs")
        for entry in jobs.elements() if jobs is not None else ():
            job_name, config = (str(entry.value), None) if entry.is_scalar else next(entry.items(), ("", None))
            if not job_name:
                continue
            name = _scalar(config.get("name")) if config is not None and config.is_mapping else ""
            name = name or job_name
            definition = defined.get(job_name)
            approval = config is not None and _scalar(config.get("type")) == "approval"
            images = _circleci_images(definition, root.get("executors"))
            found[name] = Job(name, config or entry, _circleci_steps(definition) if definition is not None else [],
                              _names(config.get("requires")) if config is not None and config.is_mapping else [],
                              "type: approval" if approval else "", approval=approval, images=images)
    for name, definition in defined.items():  # jobs no workflow lists (CircleCI 2.0 runs `build`)
        if name not in found and not any(j.node is definition for j in found.values()):
            images = _circleci_images(definition, root.get("executors"))
            found.setdefault(name, Job(name, definition, _circleci_steps(definition), images=images))
    return found


# ---------------------------------------------------------------------------------------------------------
# Bitbucket Pipelines


def _bitbucket_step(step: Node, default_image: Node | None, label: str, after: list[str],
                    stage: Node | None) -> Job:
    script = [*_strings(step.get("script")), *_strings(step.get("after-script"))]
    pipes = [item.get("pipe") for key in ("script", "after-script") for item in
             (step.get(key).elements() if step.get(key) is not None else ()) if item.is_mapping]  # type: ignore[union-attr]
    steps = _shell_steps(script) + [Step(pipe, uses=pipe) for pipe in pipes if pipe is not None]
    owners = [step, *([stage] if stage is not None else [])]
    manual = any(_scalar(owner.get("trigger")) == "manual" for owner in owners)
    deployment = next((_scalar(owner.get("deployment")) for owner in owners if owner.get("deployment")), "")
    gate = "trigger: manual" if manual else (f"deployment: {deployment}" if deployment else "")
    image = _image_node(step.get("image")) or default_image
    return Job(label, step, steps, list(after), gate, approval=manual, images=[image] if image is not None else [])


def _bitbucket(root: Node) -> dict[str, Job]:
    default_image = _image_node(root.get("image"))
    pipelines = root.get("pipelines")
    groups: list[tuple[str, Node]] = []
    for kind, value in pipelines.items() if pipelines is not None else ():
        if value.is_sequence:
            groups.append((kind, value))
        else:
            groups += [(f"{kind}.{name}", items) for name, items in value.items() if items.is_sequence]
    found: dict[str, Job] = {}
    for pipeline, items in groups:
        before: list[str] = []
        for position, item in enumerate(items.elements()):
            batch: list[Job] = []
            parallel = item.get("parallel")
            if parallel is not None and parallel.is_mapping:
                parallel = parallel.get("steps")
            stage = item.get("stage")
            staged = stage.get("steps") if stage is not None else None
            listed: list[tuple[Node | None, Node | None]] = [
                (s.get("step"), None) for s in (parallel.elements() if parallel is not None else ())]
            listed += [(item.get("step"), None)] if item.get("step") is not None else []
            listed += [(s.get("step"), stage) for s in (staged.elements() if staged is not None else ())]
            for index, (step, owner) in enumerate(listed):
                if step is None or not step.is_mapping:
                    continue
                label = f"{pipeline}[{position}]" + (f"[{index}]" if len(listed) > 1 else "")
                title = _scalar(step.get("name"))
                job = _bitbucket_step(step, default_image, f"{label} {title}".strip(), before, owner)
                if owner is not None and batch:  # steps of a stage run one after another
                    job.after += [b.name for b in batch]
                batch.append(job)
            for job in batch:
                found[job.name] = job
            before = before + [job.name for job in batch]
    return found


# ---------------------------------------------------------------------------------------------------------
# Buildkite, Cloud Build, CodeBuild, Drone


def _buildkite_image(step: Node) -> list[Node]:
    plugins = step.get("plugins")
    found = []
    for plugin in plugins.elements() if plugins is not None else ():
        for name, config in plugin.items():
            image = config.get("image") if config.is_mapping else None
            if name.split("#")[0].endswith(("docker", "docker-compose")) and image is not None and image.is_scalar:
                found.append(image)
    return found


def _buildkite(root: Node) -> dict[str, Job]:
    steps = root.get("steps")
    listed = list(steps.elements()) if steps is not None and steps.is_sequence else []
    flat: list[Node] = []
    for step in listed:  # group steps are their steps
        group = step.get("steps") if step.is_mapping and step.get("group") is not None else None
        flat += list(group.elements()) if group is not None else [step]
    found: dict[str, Job] = {}
    before: list[str] = []  # every job before the last wait / block
    since: list[str] = []
    always = False
    for index, step in enumerate(flat):
        kind = str(step.value) if step.is_scalar else next((k for k in ("wait", "block", "input") if
                                                           step.get(k) is not None), "command")
        if kind in ("wait", "block", "input", "waiter"):
            before = before + since
            since = []
            always = step.is_mapping and _scalar(step.get("continue_on_failure")).lower() == "true"
            if kind in ("block", "input"):
                name = f"steps[{index}] {kind}"
                found[name] = Job(name, step, [], list(before), f"{kind} step", approval=True)
                before = [*before, name]
            continue
        if not step.is_mapping:
            continue
        commands = [Command(str(n.value), n) for key in ("command", "commands") for n in _strings(step.get(key))]
        label = _scalar(step.get("key")) or _scalar(step.get("id")) or _scalar(step.get("label")) or f"steps[{index}]"
        job = Job(label, step, [Step(step, tuple(commands))], [*before, *_names(step.get("depends_on"))],
                  always=always, images=_buildkite_image(step))
        found[label] = job
        since.append(label)
    return found


def _cloudbuild_commands(step: Node) -> tuple[Command, ...]:
    script = step.get("script")
    if script is not None and isinstance(script.value, str):
        return (Command(str(script.value), script),)
    args = step.get("args")
    words = _strings(args) if args is not None and args.is_sequence else []
    entrypoint = _scalar(step.get("entrypoint"))
    if entrypoint in _SHELLS and len(words) >= 2 and str(words[0].value) == "-c":
        return (Command(str(words[1].value), words[1]),)
    program = entrypoint or _scalar(step.get("name")).rsplit("/", 1)[-1].split(":")[0].split("@")[0]
    if not program or args is None:
        return ()
    return (Command(" ".join([program, *(str(w.value) for w in words)]), args, exact=False),)


def _in_order(steps: Node | None, name_key: str, wait_key: str) -> Iterator[tuple[str, Node, list[str]]]:
    """The mapping steps of a list that runs in order, each with its name and the steps it waits for: every earlier
    one, unless `wait_key` names them (Cloud Build `waitFor`, where `-` means none; Drone `depends_on`)."""
    previous: list[str] = []
    for index, step in enumerate(steps.elements() if steps is not None else ()):
        if not step.is_mapping:
            continue
        name = _scalar(step.get(name_key)) or f"steps[{index}]"
        wait = step.get(wait_key)
        yield name, step, list(previous) if wait is None else [n for n in _names(wait) if n != "-"]
        previous.append(name)


def _cloudbuild(root: Node) -> dict[str, Job]:
    found: dict[str, Job] = {}
    for name, step, after in _in_order(root.get("steps"), "id", "waitFor"):
        image = _image_node(step.get("name"))
        found[name] = Job(name, step, [Step(step, _cloudbuild_commands(step), image=image)], after,
                          images=[image] if image is not None else [])
    return found


def _codebuild(root: Node) -> dict[str, Job]:
    phases = root.get("phases")
    if phases is None or not phases.is_mapping:
        return {}
    lines = [line for _, phase in phases.items() if phase.is_mapping
             for key in ("commands", "finally") for line in _strings(phase.get(key))]
    return {"buildspec": Job("buildspec", phases, _shell_steps(lines))}


def _drone(root: Node) -> dict[str, Job]:
    trigger = root.get("trigger")
    events = _names(trigger.get("event")) if trigger is not None and trigger.is_mapping else []
    promoted = bool(events) and all(event in ("promote", "rollback") for event in events)
    found: dict[str, Job] = {}
    for name, step, after in _in_order(root.get("steps"), "name", "depends_on"):
        image = _image_node(step.get("image"))
        found[name] = Job(name, step, _shell_steps(_strings(step.get("commands"))), after,
                          "trigger: event promote" if promoted else "", images=[image] if image is not None else [])
    return found


_AZURE_TOP = ("trigger", "pr", "pool", "parameters", "variables")
_AZURE_STEP = ("script", "task", "bash", "pwsh", "powershell", "template")


_READERS = {"github-workflow": _github, "azure-pipelines": _azure, "circleci": _circleci,
            "bitbucket-pipelines": _bitbucket, "buildkite": _buildkite, "cloudbuild": _cloudbuild,
            "codebuild": _codebuild, "drone": _drone}


def ci_system(document: Document) -> str:
    """The CI system of a document: its kind when it is a CI kind; for a generic YAML document, Google Cloud
    Build or Azure Pipelines under any name (the shapes the `ci-pipeline` fact recognises: `steps` that run an
    image with `args` / `entrypoint` / `script`; `trigger` / `pr` / `pool` / `parameters` / `variables` with
    steps, jobs or stages of Azure's keys); "" for anything else."""
    if document.kind in _READERS or document.kind == "gitlab-ci":
        return document.kind
    root = document.root
    if document.kind != "yaml" or not root.is_mapping or root.get("kind") is not None:
        return ""
    steps = [step for step in root.get("steps").elements() if step.is_mapping] if root.get(  # type: ignore[union-attr]
        "steps") is not None else []
    if steps and root.get("apiVersion") is None and all(
            step.get("name") is not None and any(step.get(k) is not None for k in ("args", "entrypoint", "script"))
            for step in steps):
        return "cloudbuild"
    if any(root.get(key) is not None for key in _AZURE_TOP):
        for key in ("steps", "jobs", "stages"):
            listed = root.get(key)
            for item in listed.elements() if listed is not None else ():
                if item.is_mapping and any(item.get(k) is not None for k in (*_AZURE_STEP, "job", "deployment",
                                                                            "stage")):
                    return "azure-pipelines"
    return ""


def pipeline_jobs(document: Document, templates: bool = False) -> dict[str, Job]:
    """The jobs of one CI document, by name (`ci_system`). `templates`: GitLab hidden `.jobs` and `default:`
    too (they hold commands other jobs run through `extends:`)."""
    root = document.root
    system = ci_system(document)
    if not root.is_mapping or not system:
        return {}
    if system == "gitlab-ci":
        return _gitlab(root, templates)
    return _READERS[system](root)


def follows_pipeline(document: Document) -> bool:
    """Whether the pipeline runs when another one completes (Azure `resources.pipelines[].trigger`): that
    pipeline's conclusion gates it, as a GitHub `workflow_run` is gated by the workflow it follows."""
    resources = document.root.get("resources") if document.root.is_mapping else None
    pipelines = resources.get("pipelines") if resources is not None else None
    return any(item.is_mapping and item.get("trigger") is not None and _scalar(item.get("trigger")) != "none"
               for item in (pipelines.elements() if pipelines is not None else ()))


def workflow_on(root: Node) -> Node | None:
    """A GitHub workflow's `on:`; a YAML 1.1 reader may have turned the key into True."""
    if not root.is_mapping:
        return None
    on = root.get("on")
    return on if on is not None else root.get("True")


def trigger_names(root: Node) -> set[str]:
    """The event names of a workflow's `on:`, whether written as a string, a list or a mapping."""
    on = workflow_on(root)
    if on is None:
        return set()
    return {key for key, _ in on.items()} if on.is_mapping else set(_names(on))


def workflow_run_trigger(root: Node) -> list[str] | None:
    """The workflows a GitHub workflow's `on: workflow_run` follows (`workflows:`; [] when it names none), or
    None when it is not triggered by `workflow_run`."""
    if "workflow_run" not in trigger_names(root):
        return None
    on = workflow_on(root)
    trigger = on.get("workflow_run") if on is not None and on.is_mapping else None
    return _names(trigger.get("workflows")) if trigger is not None and trigger.is_mapping else []


_CONCLUSION = re.compile(r"\bworkflow_run\s*\.\s*conclusion\b|\bworkflow_run\s*\[\s*['\"]conclusion['\"]\s*\]")


def checks_conclusion(jobs: dict[str, Job], name: str) -> bool:
    """Whether a job of a `workflow_run` workflow looks at the followed run's conclusion before it acts: in its
    own `if:`, the `if:` of a job it waits for (a skipped job skips those that need it), or the `if:` or script
    of one of its steps (`if: github.event.workflow_run.conclusion == 'success'` on the deploy step, or a script
    that exits when it is not). Without one, the workflow runs after a failed or cancelled run as well."""
    if name not in jobs:
        return False
    if any(_condition_reads_conclusion(jobs[current].node) for current in {name} | waits_for(jobs, name)):
        return True
    return any(_condition_reads_conclusion(step.node) or any(_CONCLUSION.search(c.text) for c in step.commands)
               for step in jobs[name].steps)


def _condition_reads_conclusion(node: Node) -> bool:
    condition = node.get("if") if node.is_mapping else None
    return condition is not None and bool(_CONCLUSION.search(_scalar(condition)))


def waits_for(jobs: dict[str, Job], name: str) -> set[str]:
    """Every job `name` waits for, transitively."""
    seen: set[str] = set()
    pending = list(jobs[name].after) if name in jobs else []
    while pending:
        current = pending.pop()
        if current in seen or current not in jobs:
            continue
        seen.add(current)
        pending.extend(jobs[current].after)
    return seen


def gate_of(jobs: dict[str, Job], name: str) -> str:
    """What a person must approve before the job runs: its own environment / manual trigger, or a manual
    approval (CircleCI approval job, Bitbucket manual step, Buildkite block, Azure ManualValidation) it waits
    for. "" when nothing."""
    job = jobs[name]
    if job.gate:
        return job.gate
    return next((jobs[other].gate for other in sorted(waits_for(jobs, name)) if jobs[other].approval), "")
