"""Policy and configuration files -> validated layers; where a project's configuration is found.

A layer is one file: a policy pack (YAML), a `.pfa-policy.yaml` / `.yml`, or the `[tool.pfa-policy]` table of
a pyproject.toml. Every layer keeps a position tree, so a problem found later (an unknown rule id, a bad
parameter) still names its file, line and key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pfa_policy.engine.validation import format_location, line_of, parse_data_file, schema_problems, validator
from pfa_policy.model import PfaError
from pfa_policy.parsers.toml_lines import plain, toml_lines, toml_tree
from pfa_policy.parsers.tree import MAX_DEPTH, Node
from pfa_policy.resources import is_shipped

CONFIG_FILES = (".pfa-policy.yaml", ".pfa-policy.yml")
PYPROJECT = "pyproject.toml"
_TABLE = ("tool", "pfa-policy")
_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")


@dataclass(frozen=True)
class Layer:
    """One policy or configuration file, validated against the schema."""

    data: Mapping[str, Any]
    source: str
    directory: Path
    root: Node | None = None  # positions; None for a layer built in code
    prefix: tuple[str, ...] = ()  # where the data sits in its file: ("tool", "pfa-policy") in pyproject.toml

    def line(self, location: Sequence[str | int]) -> int | None:
        return line_of(self.root, list(location)) if self.root is not None else None

    def error(self, location: Sequence[str | int], message: str) -> PfaError:
        """A problem at `location` (a key path in data): file, line, key path and message on one line."""
        where = format_location([*self.prefix, *location])
        return PfaError(f"at '{where}': {message}", path=self.source, line=self.line(location))

    @property
    def parent(self) -> str | None:
        """The pack this layer starts from: `extends`, or `policy` (the spelling of project configurations)."""
        value = self.data.get("extends", self.data.get("policy"))
        return value if isinstance(value, str) else None

    @property
    def parent_key(self) -> str:
        return "extends" if "extends" in self.data else "policy"


def load_policy_file(path: Path) -> Layer:
    """A policy pack or configuration file, YAML or pyproject.toml (its [tool.pfa-policy] table); the first
    problem raises."""
    layer, problems = read_policy_file(path)
    for problem in problems:
        raise problem
    return layer


def read_policy_file(path: Path) -> tuple[Layer, list[PfaError]]:
    """The layer and every schema problem it has (a file that cannot be parsed raises)."""
    if path.suffix == ".toml":
        found = pyproject_layer(path)
        if found is None:
            raise PfaError("no [tool.pfa-policy] table", path=str(path))
        layer = found
    else:
        data, root = parse_data_file(path)
        layer = Layer(data, str(path), path.parent, root)
        if is_shipped(path, "policies"):
            return layer, []  # a wheel's own policy packs passed the schema in the test suite
    return layer, schema_check(layer)


def schema_check(layer: Layer) -> list[PfaError]:
    assert layer.root is not None
    problems = schema_problems(layer.data, layer.root, validator("policy.schema.yaml"), layer.source, layer.prefix)
    if "extends" in layer.data and "policy" in layer.data:
        problems.append(layer.error(["policy"], "give either 'policy' or 'extends' (they mean the same: the pack "
                                                "to start from), not both"))
    return problems


def pyproject_layer(path: Path) -> Layer | None:
    """The [tool.pfa-policy] table as a layer, not yet checked against the schema; None when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
        document = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as error:
        raise PfaError(f"cannot read file: {error}", path=str(path)) from None
    except tomllib.TOMLDecodeError as error:
        found = _TOML_POSITION.search(str(error))
        reason = _TOML_POSITION.sub("", str(error)).strip()
        raise PfaError(f"invalid TOML: {reason}", path=str(path), line=int(found.group(1)) if found else None) \
            from None
    except RecursionError:
        raise PfaError("invalid TOML: nested too deeply", path=str(path)) from None
    tool = document.get("tool")
    data = tool.get("pfa-policy") if isinstance(tool, dict) else None
    if data is None:
        return None
    lines = toml_lines(text)
    if not isinstance(data, dict):
        raise PfaError("at 'tool.pfa-policy': expected a table", path=str(path), line=lines.get(_TABLE))
    if _depth(data) > MAX_DEPTH:
        raise PfaError(f"[tool.pfa-policy] nests more than {MAX_DEPTH} levels", path=str(path),
                       line=lines.get(_TABLE))
    data = plain(data)
    return Layer(data, str(path), path.parent, toml_tree(data, lines, _TABLE), _TABLE)


def _depth(value: Any) -> int:
    depth, level = 0, [value]
    while level:
        depth += 1
        level = [c for v in level if isinstance(v, (dict, list)) for c in (v.values() if isinstance(v, dict) else v)]
    return depth


@dataclass(frozen=True)
class ConfigSearch:
    """Where a project's configuration was looked for, and what was found."""

    layer: Layer | None
    start: Path
    stop: Path  # the directory holding the file found, else the git root or the filesystem root
    git_root: Path | None
    shadowed: tuple[Path, ...] = ()  # other configuration files beside the one used, which it hides

    def describe(self) -> str:
        if self.layer is not None:
            hidden = f"; it hides {', '.join(str(p) for p in self.shadowed)}" if self.shadowed else ""
            return f"{self.layer.source} (the nearest configuration from {self.start}){hidden}"
        names = f"{', '.join(CONFIG_FILES)} or [tool.pfa-policy] in {PYPROJECT}"
        until = f"the git root {self.git_root}" if self.git_root else f"{self.stop} (not in a git repository)"
        return f"none found: no {names} from {self.start} up to {until}"


def discover(start: Path) -> ConfigSearch:
    """The nearest configuration, as ruff finds its own: in `start` (a directory, or a file's directory), then
    each parent, up to and including the git root (a directory holding `.git`), else up to the filesystem
    root. In one directory `.pfa-policy.yaml` comes before `.pfa-policy.yml`, both before a pyproject.toml
    with a [tool.pfa-policy] table; a pyproject.toml without one does not count."""
    directory = (start if start.is_dir() else start.parent).resolve()
    for current in (directory, *directory.parents):
        layer, shadowed = _configurations(current)
        if layer is not None:
            git_root = next((d for d in (current, *current.parents) if (d / ".git").exists()), None)
            return ConfigSearch(layer, directory, current, git_root, shadowed)
        if (current / ".git").exists():
            return ConfigSearch(None, directory, current, current)
    return ConfigSearch(None, directory, Path(directory.anchor), None)


def _configurations(directory: Path) -> tuple[Layer | None, tuple[Path, ...]]:
    """The configuration of one directory (loaded and checked) and the other files there it hides."""
    candidates = [directory / name for name in CONFIG_FILES if (directory / name).is_file()]
    pyproject = directory / PYPROJECT
    if pyproject.is_file() and _mentions_us(pyproject):
        candidates.append(pyproject)
    if not candidates:
        return None, ()
    if candidates[0] == pyproject:
        found = pyproject_layer(pyproject)
        for problem in schema_check(found) if found is not None else ():
            raise problem
        return found, ()
    return load_policy_file(candidates[0]), tuple(p for p in candidates[1:] if _is_configuration(p))


def _mentions_us(pyproject: Path) -> bool:
    """Cheap first look: a pyproject.toml that never says pfa-policy has no table for it (and a broken one
    that does not concern us is not our error)."""
    try:
        return "pfa-policy" in pyproject.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def _is_configuration(path: Path) -> bool:
    if path.name != PYPROJECT:
        return True
    try:
        tool = tomllib.loads(path.read_text(encoding="utf-8")).get("tool")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return False
    return isinstance(tool, dict) and "pfa-policy" in tool
