"""What a workload's name, path and command line say about it: the vocabulary that tells a model server from
the platform around it, shared by the serving, pipeline, storage and Lambda predicates."""

from __future__ import annotations

import re

from pfa_policy.engine.values import as_text
from pfa_policy.parsers.tree import Node

# A workload whose name says it serves a model; controllers, UIs, tracking servers, model registries and
# catalogues (and their databases) and other platform components that run beside the model are not what an
# inference alert watches.
MODEL_SERVER_NAME = re.compile(r"(?i)model|predict|inference|infer\b|serving|scor(e|er|ing)\b|classif|recommend"
                               r"|ranker|embedding|llm|vllm|tgi|triton|torchserve|mlserver|bento")
PLATFORM_NAME = re.compile(r"(?i)controller|operator|webhook|manager|web-?app|dashboard|console|-ui$|-epp$|gateway"
                           r"|router|proxy|exporter|tracking|registry|catalog")

# Manifests under these directories are test data or release smoke tests, not deployments.
TEST_DATA_DIRECTORY = re.compile(r"(?i)(^|/)(hack|e2e|smoke[-_]?tests?[\w-]*|test[-_]?data|testdata|fixtures?"
                                 r"|testing)/")


def container_command_line(container: Node) -> str:
    """A container's `command` and `args` scalars joined by spaces."""
    words = []
    for key in ("command", "args"):
        node = container.get(key)
        for item in (node.elements() if node is not None and node.is_sequence else [node] if node else []):
            if item.is_scalar:
                words.append(as_text(item.value))
    return " ".join(words)
