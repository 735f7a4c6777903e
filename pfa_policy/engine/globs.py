"""Glob helpers: dotted-name globs for Python names and path globs for repository files."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from functools import lru_cache


def compile_name_globs(globs: Iterable[str], *, submodules: bool = False) -> re.Pattern[str]:
    """One regex for a list of dotted-name globs; with submodules, `mock` also matches `mock.patch`."""
    parts = []
    for glob in globs:
        parts.append(fnmatch.translate(glob))
        if submodules:
            parts.append(fnmatch.translate(glob + ".*"))
    return re.compile("|".join(f"(?:{p})" for p in parts))


@lru_cache(maxsize=4096)
def _path_regex(glob: str) -> re.Pattern[str]:
    """Gitignore-like path globs: `**` crosses directories, `*` does not; a glob without `/` matches a basename."""
    if "/" not in glob.rstrip("/"):
        glob = "**/" + glob
    glob = glob.rstrip("/")
    out = []
    i = 0
    while i < len(glob):
        char = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = glob.find("]", i)
            if end == -1:
                out.append(re.escape(char))
            else:
                out.append("[" + glob[i + 1:end].replace("!", "^", 1) + "]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    # A glob naming a directory also covers everything below it.
    return re.compile("".join(out) + "(?:/.*)?")


def path_regex(glob: str) -> re.Pattern[str]:
    """The regex of one path glob; raises re.error for a glob that cannot compile (`[z-a]`, `x[]`)."""
    return _path_regex(glob)


def glob_problem(glob: str) -> str | None:
    """Why a path glob can never mean what its author meant, or None."""
    if "\\" in glob:
        return f"bad glob '{glob}': write paths with '/', not '\\'"
    if glob.startswith("/"):
        return f"bad glob '{glob}': paths are relative to the repository root, drop the leading '/'"
    try:
        _path_regex(glob)
    except re.error as error:
        return f"bad glob '{glob}': {error.msg}"
    return None


def path_matches(path: str, globs: Iterable[str]) -> bool:
    patterns = globs if isinstance(globs, tuple) else tuple(globs)
    return _any_path_regex(patterns).fullmatch(path) is not None


@lru_cache(maxsize=4096)
def _any_path_regex(globs: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for a list of globs: scopes and excludes test every path of a repository against ~20 globs."""
    if not globs:
        return re.compile(r"(?!)")  # matches nothing
    return re.compile("|".join(f"(?:{_path_regex(glob).pattern})" for glob in globs))
