"""Where the built-in rules and policies live: inside the wheel, or beside the package in a source tree."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def builtin_dir(name: str) -> Path:
    """`rules` or `policies`: the wheel ships them as pfa_policy/_builtin/<name>; a checkout has them at the top."""
    for candidate in (_PACKAGE / "_builtin" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"built-in {name} not found next to {_PACKAGE}")


@cache
def shipped(name: str) -> Path | None:
    """`rules` or `policies` as an installed wheel ships them (validated by the test suite before it was
    built); None in a source tree, where they are being written and must be checked on every load."""
    directory = _PACKAGE / "_builtin" / name
    return directory if directory.is_dir() else None


def is_shipped(path: Path, name: str) -> bool:
    """Whether `path` is one of the wheel's own `rules` or `policies` files."""
    directory = shipped(name)
    return directory is not None and path.resolve().is_relative_to(directory)


@cache
def schema_text(name: str) -> str:
    return (_PACKAGE / "schemas" / name).read_text(encoding="utf-8")


@cache
def code_digest() -> str:
    """The engine's own source: cached results must not outlive a change to a matcher or predicate, even
    between two builds that share a version number."""
    digest = hashlib.sha256()
    for source in sorted(_PACKAGE.rglob("*.py")):
        digest.update(source.relative_to(_PACKAGE).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()
