"""One file, start to end: read once, classify, pre-filter, parse once, run every applicable rule and fact."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from pfa_policy.engine import helm, predicates, terraform
from pfa_policy.engine.cache import ResultCache
from pfa_policy.engine.classify import (
    HELM_TEMPLATE_KINDS,
    STRUCTURED_KINDS,
    TERRAFORM_KINDS,
    YAML_REFINEMENTS,
    content_kinds,
    document_kind,
    is_resource_definition,
    path_kind,
    reads_kind,
)
from pfa_policy.engine.compiled import TokenScanner
from pfa_policy.engine.dockerfile_match import match_dockerfile
from pfa_policy.engine.document_match import match_documents
from pfa_policy.engine.globs import path_matches
from pfa_policy.engine.helm_values import as_subchart
from pfa_policy.engine.isolation import current_step, report_step
from pfa_policy.engine.memo import IdentityMemo
from pfa_policy.engine.plan import Check, FileOutcome, FileTask, WorkPlan
from pfa_policy.engine.python_match import match_python
from pfa_policy.engine.rule import PYTHON_KINDS
from pfa_policy.engine.suppressions import find_suppressions
from pfa_policy.engine.text_match import match_text
from pfa_policy.model import FILE_START, FactOccurrence, Hit, Notification, ParseError, Span
from pfa_policy.parsers.dockerfile import Instruction, parse_dockerfile
from pfa_policy.parsers.helm import without_printed
from pfa_policy.parsers.json_doc import parse_json
from pfa_policy.parsers.notebook import NotebookCode, parse_notebook
from pfa_policy.parsers.python import PythonFile, parse_python
from pfa_policy.parsers.text import BinaryFileError, decode_source
from pfa_policy.parsers.tree import Document
from pfa_policy.parsers.yaml_doc import blank_documents, parse_yaml

T = TypeVar("T")
# Files larger than this are not parsed (a generated or data file, not something a reviewer writes).
MAX_BYTES = 5 * 1024 * 1024
_POSSIBLE_KINDS: dict[str, frozenset[str]] = {
    "yaml": frozenset({"yaml", "kubernetes", "kserve", "seldon", "cloudformation"}) | YAML_REFINEMENTS,
    "json": frozenset({"json", "cloudformation"}),
    "terraform": TERRAFORM_KINDS,
    "helm-template": HELM_TEMPLATE_KINDS,
}


@dataclass
class _Parsed:
    """Parse results of one file, each produced at most once and only when a check needs it."""

    text: str
    kinds: frozenset[str]
    notebook: NotebookCode | None = None  # set when the Python comes from a notebook, to map spans back
    results: dict[str, Any] = field(default_factory=dict)  # "python" | "document" | "dockerfile" -> parsed
    failed: set[str] = field(default_factory=set)
    module: terraform.ModuleFiles = ()  # a Terraform file's module: the other files of its directory
    chart: str = ""  # a Helm template's chart directory (its module: the chart's values and partials)
    values_lines: frozenset[int] = frozenset()  # a Helm template's lines that print chart values


@dataclass(frozen=True, slots=True)
class Pending:
    """A file that must be analysed: where to read it and, with a cache, the key triage looked it up under and
    the directory its outcome goes to. The worker reads the file itself, so its bytes never cross the pipe, and
    stores the outcome itself only when the bytes it read are those the key names (a file rewritten meanwhile
    is analysed, not cached). A failed analysis still reports the facts its path alone contributes."""

    task: FileTask
    source: str  # the file to read
    possible: frozenset[str]  # the kinds its content may turn out to be
    path_facts: tuple[FactOccurrence, ...]
    module: terraform.ModuleFiles = ()  # a Terraform file's module: its directory's other files; a Helm
    # template's chart files
    key: str = ""  # the cache key; "" without a cache
    cache_dir: str = ""


def triage(plan: WorkPlan, root: Path, task: FileTask, cache: ResultCache | None = None) -> FileOutcome | Pending:
    """Everything short of parsing: the outcome when no check applies, the file cannot be read or the cache
    has it; else the work to do. Cheap and safe, so it runs in the scanning process."""
    kind, possible, checks, facts = _applicable(plan, task)
    if not checks and not (plan.collect_suppressions and kind is not None and not task.facts_only):
        return FileOutcome(task.path, task.scope, possible, facts=facts)
    if task.size > MAX_BYTES:
        note = Notification("note", f"not scanned: larger than {MAX_BYTES // 1048576} MiB", task.path)
        return FileOutcome(task.path, task.scope, possible, (), facts, (note,))
    module = terraform.module_files(root, task.path) if kind == "terraform" else (
        helm.chart_files(root, task.path, plan.charts) if kind == "helm-template" else (
            helm.parent_files(root, task.path, plan.charts) if kind == "helm-values" else ()))
    source = str(root / task.path)
    if cache is None:
        return Pending(task, source, possible, facts, module)
    data = _read(root / task.path, task, possible, facts)
    if isinstance(data, FileOutcome):
        return data
    key = _cache_key(plan, task, kind, data, module, cache)
    cached = cache.get(key)
    if cached is not None:
        return cached
    return Pending(task, source, possible, facts, module, key, str(cache.directory))


def _cache_key(plan: WorkPlan, task: FileTask, kind: str | None, data: bytes, module: terraform.ModuleFiles,
               cache: ResultCache) -> str:
    digest = f"{plan.digest}:facts" if task.facts_only else plan.digest
    # The path kind depends on more than the path (a Chart.yaml beside it makes values.yaml Helm values).
    return cache.key(digest, task.path, task.scope, kind or "", data + terraform.module_digest(module)
                     if module else data)


def _read(path: Path, task: FileTask, possible: frozenset[str],
          facts: tuple[FactOccurrence, ...]) -> bytes | FileOutcome:
    try:
        return path.read_bytes()
    except OSError as error:
        note = Notification("error", f"not scanned: {error.strerror or error}", task.path)
        return FileOutcome(task.path, task.scope, possible, (), facts, (note,))


def analyse(plan: WorkPlan, pending: Pending) -> FileOutcome:
    """Parse once and run every applicable check: the part that may be slow or crash, run in a worker."""
    task = pending.task
    data = _read(Path(pending.source), task, pending.possible, pending.path_facts)
    if isinstance(data, FileOutcome):
        return data
    kind, possible, checks, facts = _applicable(plan, task)
    chart = (helm.chart_of(task.path, plan.charts) or "") if kind == "helm-template" else ""
    outcome = _analyse(task, kind, possible, checks, list(facts), data, _scanner(plan), pending.module, chart)
    if pending.key:
        cache = ResultCache(Path(pending.cache_dir))
        if _cache_key(plan, task, kind, data, pending.module, cache) == pending.key:
            cache.put(pending.key, outcome)
    return outcome


def failed(pending: Pending, reason: str) -> FileOutcome:
    """The outcome of a file whose analysis died: a notification naming it, and its path's facts."""
    task = pending.task
    note = Notification("error", f"not analysed: {reason}; the rest of the scan is complete", task.path)
    return FileOutcome(task.path, task.scope, pending.possible, (), pending.path_facts, (note,))


def _possible(kind: str | None) -> frozenset[str]:
    return _POSSIBLE_KINDS.get(kind or "", frozenset({kind})) if kind else frozenset()


def _applicable(plan: WorkPlan, task: FileTask,
                ) -> tuple[str | None, frozenset[str], list[Check], tuple[FactOccurrence, ...]]:
    """The file's path kind, the kinds its content may turn out to be, the checks to run and the facts its
    path alone contributes."""
    kind = path_kind(task.path, plan.charts)
    possible = _possible(kind)
    checks = _APPLICABLE.get(plan, lambda: _applicable_checks(plan, possible, task.scope, task.facts_only),
                             (possible, task.scope, task.facts_only))
    facts = tuple(FactOccurrence(c.key[5:], task.path, task.scope, FILE_START, task.path)
                  for c in checks if c.files and path_matches(task.path, c.files))
    return kind, possible, [c for c in checks if not c.matcher.empty and c.targets & possible], facts


# The checks a file may need depend on its possible kinds, scope and facts-only flag alone (and path globs,
# tested per file above): a repository has a handful of such combinations and thousands of files.
_APPLICABLE: IdentityMemo[list[Check]] = IdentityMemo(256)


def _applicable_checks(plan: WorkPlan, possible: frozenset[str], scope: str, facts_only: bool) -> list[Check]:
    return [c for c in plan.checks if _applies(c, possible, scope) and (not facts_only or c.key.startswith("fact:"))]


def _analyse(task: FileTask, kind: str | None, possible: frozenset[str], checks: list[Check],
             facts: list[FactOccurrence], data: bytes, scanner: TokenScanner,
             module: terraform.ModuleFiles = (), chart: str = "") -> FileOutcome:
    notifications: list[Notification] = []
    report_step("reading the file")
    try:
        decoded = decode_source(data, python=kind == "python")
    except BinaryFileError:
        notifications.append(Notification("warning", "not scanned: binary content", task.path))
        return FileOutcome(task.path, task.scope, possible, (), tuple(facts), tuple(notifications))
    if decoded.warning:
        notifications.append(Notification("warning", decoded.warning, task.path))
    text = decoded.text
    if kind == "yaml" and "CustomResourceDefinition" in text:
        # API schemas (megabytes of OpenAPI) are not configuration: no rule reads them, not even a text rule; the
        # file's other documents keep their lines.
        text = blank_documents(text, is_resource_definition)
    kinds = content_kinds(kind or "", text)
    checks = [c for c in checks if c.targets & kinds]
    if any(c.matcher.tokens is not None for c in checks):
        lowered = text.lower()
        if chart:  # a template's rendering also spells its chart's values and partials
            lowered += "".join("\n" + data.decode("utf-8", "replace").lower() for _, data in module)
        present = scanner.present(lowered)
        checks = [c for c in checks if c.matcher.admits(present)]
    parsed = _Parsed(text, kinds, module=module, chart=chart)
    hits: list[tuple[str, Hit]] = []
    for check in checks:
        report_step(check.key)
        try:
            found = list(_run(check, parsed, notifications, task.path))
        except ParseError:
            continue  # reported once by _parse; the file's other checks still run
        except RecursionError:
            notifications.append(Notification("error", f"not checked by {check.key}: the file is nested too "
                                              "deeply to analyse", task.path))
            continue
        except Exception as error:  # a defect in one rule must not cost the user the rest of the scan
            notifications.append(Notification("error", f"internal error in {check.key}: {error!r}", task.path))
            continue
        if check.key.startswith("fact:"):
            facts.extend(_occurrence(check.key[5:], task, hit) for hit in found)
        else:
            hits.extend((check.key, hit) for hit in found)
    return FileOutcome(task.path, task.scope, kinds, tuple(hits), tuple(facts), tuple(notifications),
                       () if task.facts_only else find_suppressions(text))


_SCANNERS: dict[str, TokenScanner] = {}


def _scanner(plan: WorkPlan) -> TokenScanner:
    """One per rule set and process: its memo of words grows with the files the process reads."""
    scanner = _SCANNERS.get(plan.digest)
    if scanner is None:
        scanner = _SCANNERS[plan.digest] = TokenScanner.for_matchers(c.matcher for c in plan.checks)
    return scanner


def _applies(check: Check, possible: frozenset[str], scope: str) -> bool:
    if check.scopes is not None and scope not in check.scopes:
        return False
    return bool(check.targets & possible) or bool(check.files)


def _occurrence(name: str, task: FileTask, hit: Hit) -> FactOccurrence:
    values = dict(hit.values)
    return FactOccurrence(name, task.path, task.scope, hit.span, values.get("name") or values.get("value", ""))


def _run(check: Check, parsed: _Parsed, notifications: list[Notification], path: str) -> Iterator[Hit]:
    matcher = check.matcher
    kinds = parsed.kinds
    helm_template = "helm-template" in kinds
    # A fact may combine pattern families; each family only reads the files it understands. A Helm template's
    # source is Go template text: only its rendered documents are read, unless a rule names the kind.
    if matcher.text and (not helm_template or "helm-template" in check.targets):
        yield from match_text(matcher.text, parsed.text, check.params)
    if matcher.python and kinds & PYTHON_KINDS:
        python = _python(parsed, notifications, path)
        hits = match_python(matcher.python, python, check.params, predicates.PYTHON)
        if parsed.notebook is not None:
            notebook = parsed.notebook
            yield from (Hit(notebook.to_file_span(h.span), h.values, h.anchor) for h in hits)
        else:
            yield from hits
    if matcher.document and kinds & STRUCTURED_KINDS:
        documents = _documents(parsed, notifications, path)
        if helm_template and "helm-values" in check.targets:
            # A rule that reads Helm values reports what a template prints from them at the values: in the
            # template those values are unknown to it.
            documents = _once(parsed, "helm-unprinted", lambda: without_printed(documents, parsed.values_lines),
                              notifications, path)
        for document in documents:
            if reads_kind(check.targets, document.kind):
                yield from match_documents(matcher.document, document, check.params, predicates.DOCUMENT)
    if matcher.dockerfile and "dockerfile" in kinds:
        instructions = _instructions(parsed, notifications, path)
        yield from match_dockerfile(matcher.dockerfile, instructions, check.params, predicates.DOCKERFILE)


def _once(parsed: _Parsed, what: str, build: Callable[[], T], notifications: list[Notification], path: str) -> T:
    """Parse `what` the first time a check asks; a failure is reported once and re-raised to every asker."""
    if what in parsed.results:
        return cast(T, parsed.results[what])
    if what in parsed.failed:
        raise ParseError("already failed")
    asking = current_step()
    report_step(f"parsing {what}")
    try:
        value = build()
    except ParseError as error:
        parsed.failed.add(what)
        notifications.append(Notification("error", f"could not parse {what}: {error.reason}", path, error.line,
                                          error.column))
        raise
    finally:
        report_step(asking)
    parsed.results[what] = value
    return value


def _python(parsed: _Parsed, notifications: list[Notification], path: str) -> PythonFile:
    def build() -> PythonFile:
        source = parsed.text
        if "notebook" in parsed.kinds:
            parsed.notebook = parse_notebook(parsed.text)
            source = parsed.notebook.source
        try:
            return PythonFile(parse_python(source), source)
        except ParseError as error:
            if parsed.notebook is None:
                raise
            mapped = parsed.notebook.to_file_span(Span(error.line, error.column))
            raise ParseError(error.reason, mapped.line, mapped.column) from None

    return _once(parsed, "python", build, notifications, path)


def _documents(parsed: _Parsed, notifications: list[Notification], path: str) -> list[Document]:
    if "terraform" in parsed.kinds:
        return _once(parsed, "terraform", lambda: terraform.documents(path, parsed.text, parsed.module),
                     notifications, path)

    def build() -> list[Document]:
        if "helm-template" in parsed.kinds:
            rendered = helm.render(path, parsed.text, parsed.module, parsed.chart or ".")
            parsed.values_lines = rendered.values_lines
            documents = list(rendered.documents)
        elif path.endswith((".json", ".template")) and not parsed.text.lstrip().startswith(("AWSTemplate", "---")):
            documents = [Document(parse_json(parsed.text))]
        else:
            documents = parse_yaml(parsed.text)
        for document in documents:
            document.kind = document_kind(parsed.kinds, document)
        if "helm-values" in parsed.kinds and parsed.module:
            documents = as_subchart(path, documents, parsed.module)  # a subchart's defaults, as its parents leave them
        return documents

    return _once(parsed, "document", build, notifications, path)


def _instructions(parsed: _Parsed, notifications: list[Notification], path: str) -> list[Instruction]:
    return _once(parsed, "dockerfile", lambda: parse_dockerfile(parsed.text), notifications, path)
