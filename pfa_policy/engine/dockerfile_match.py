"""Dockerfile patterns: instructions with argument conditions, environment pairs, and predicates."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pfa_policy.engine.values import ValueCondition
from pfa_policy.model import Hit
from pfa_policy.parsers.dockerfile import Instruction, env_pairs

DockerfilePredicate = Callable[[list[Instruction], Mapping[str, Any]], Iterator[Hit]]


@dataclass(frozen=True, slots=True)
class DockerfilePattern:
    instructions: frozenset[str] | None
    args: ValueCondition | None
    final_stage: bool
    env_name: re.Pattern[str] | None
    env_value: ValueCondition | None
    predicate: str

    @classmethod
    def compile(cls, spec: Mapping[str, Any]) -> DockerfilePattern:
        env = spec.get("env")
        return cls(
            frozenset(spec["instruction"]) if "instruction" in spec else None,
            ValueCondition.compile(spec["args"]) if "args" in spec else None,
            bool(spec.get("final_stage", False)),
            re.compile(env["name"]) if env else None,
            ValueCondition.compile(env["value"]) if env and "value" in env else None,
            spec.get("predicate", ""),
        )


def match_dockerfile(patterns: tuple[DockerfilePattern, ...], instructions: list[Instruction],
                     params: Mapping[str, Any], predicates: Mapping[str, DockerfilePredicate]) -> Iterator[Hit]:
    last_stage = max((i.stage for i in instructions), default=0)
    for pattern in patterns:
        if pattern.predicate:
            yield from predicates[pattern.predicate](instructions, params)
            continue
        for instruction in instructions:
            if pattern.final_stage and instruction.stage != last_stage:
                continue
            if pattern.env_name is not None:
                yield from _env_hits(pattern, instruction, params)
                continue
            if pattern.instructions is not None and instruction.keyword not in pattern.instructions:
                continue
            if pattern.args is not None and not pattern.args.holds(instruction.args, params):
                continue
            yield Hit(instruction.span, (("instruction", instruction.keyword), ("value", instruction.args)),
                      f"{instruction.keyword}:{' '.join(instruction.args.split())}")


def _env_hits(pattern: DockerfilePattern, instruction: Instruction, params: Mapping[str, Any]) -> Iterator[Hit]:
    assert pattern.env_name is not None
    if instruction.keyword not in (pattern.instructions or frozenset({"ENV", "ARG"})):
        return
    for name, value in env_pairs(instruction):
        if not pattern.env_name.search(name):
            continue
        if pattern.env_value is not None and not pattern.env_value.holds(value, params):
            continue
        yield Hit(instruction.span, (("name", name), ("value", value)), f"{instruction.keyword}:{name}")
