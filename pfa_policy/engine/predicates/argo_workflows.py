"""Escape-hatch predicates over Argo Workflows steps (Workflow, WorkflowTemplate, ClusterWorkflowTemplate,
CronWorkflow): the shell a step runs. Their containers are workloads for the `$containers` rules already
(engine.document_match.argo_containers); what those rules cannot read is the script: a `script:` template's
`source` when its command is a shell, or the `-c` argument of a `sh` / `bash` container.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pfa_policy.engine.document_match import argo_containers
from pfa_policy.engine.predicates.data_governance import unpinned_packages
from pfa_policy.engine.predicates.types import DocumentPredicate
from pfa_policy.model import Hit, Span
from pfa_policy.parsers.tree import Document, Node

_SHELL = re.compile(r"(?:^|/)(?:sh|bash|ash|dash|zsh)$")
_SHELL_SCRIPT_FLAG = re.compile(r"-[a-z]*c[a-z]*")  # -c, -ec, -xc, -euxc
_PIP = re.compile(r"(?:^|/)(?:pip3?(?:\.\d+)?|python3?(?:\.\d+)?|uv)$")


def _words(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if node.is_sequence:
        return [item for item in node.elements() if item.is_scalar and isinstance(item.value, str)]
    return [node] if isinstance(node.value, str) else []


def _lines(node: Node) -> Iterator[tuple[int, int, str]]:
    """(line, column, text) of each line of a scalar: a block scalar starts one line below its key."""
    text = str(node.value)
    block = node.span.end_line > node.span.line and text.endswith("\n")
    for offset, line in enumerate(text.split("\n")):
        if block:
            yield node.span.line + 1 + offset, len(line) - len(line.lstrip()) + 1, line
        else:
            yield node.span.line, node.span.column, line


def step_shell_lines(container: Node, kind: str) -> Iterator[tuple[int, int, str]]:
    """The shell lines an Argo step container runs, with their positions: a `script:` whose command is a shell
    (its `source`), a container whose command (or command + args) is `sh -c <script>`, or a container whose
    command is `pip` / `python -m pip` itself (command and args as one line). A container that only passes
    `args` to its image's entrypoint, and a Python `script:`, run no shell this can read."""
    command = _words(container.get("command"))
    args = _words(container.get("args"))
    if kind == "script":
        source = container.get("source")
        if command and _SHELL.search(str(command[0].value)) and source is not None and isinstance(source.value, str):
            yield from _lines(source)
        return
    if not command:
        return
    words = command + args
    if _SHELL.search(str(command[0].value)):
        for position, word in enumerate(words[1:-1], start=1):
            if not str(word.value).startswith("-"):
                return  # `sh run.sh -c x`: a script file, whose arguments are not the shell's options
            if _SHELL_SCRIPT_FLAG.fullmatch(str(word.value)):
                yield from _lines(words[position + 1])
                return
    elif _PIP.search(str(command[0].value)):
        yield command[0].span.line, command[0].span.column, " ".join(str(word.value) for word in words)


def dg_argo_pip_unpinned(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """`pip install` of unpinned package names in the shell an Argo Workflows step runs."""
    exempt = params.get("exempt_packages", ())
    root = document.root
    for path, container, _, kind in argo_containers(root, root, "", all_containers=True):
        for line, column, text in step_shell_lines(container, kind):
            if "pip" not in text:
                continue
            packages = unpinned_packages(text, exempt)
            if packages:
                yield Hit(Span(line, column), (("name", ", ".join(packages)),),
                          f"argo-pip:{path}:{' '.join(packages)}")


DOCUMENT: dict[str, DocumentPredicate] = {
    "dg_argo_pip_unpinned": dg_argo_pip_unpinned,
}
