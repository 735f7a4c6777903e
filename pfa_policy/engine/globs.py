"""Glob helpers: dotted-name globs for Python names and path globs for repository files."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from functools import lru_cache


class NameGlobs:
    """Dotted-name globs as one regex, translated and compiled on first use: the catalogue and the predicate
    modules hold hundreds, and a scan answered from the cache matches none of them."""

    __slots__ = ("_globs", "_regex", "_submodules")

    def __init__(self, globs: Iterable[str], submodules: bool) -> None:
        self._globs = tuple(globs)
        self._submodules = submodules
        self._regex: re.Pattern[str] | None = None

    @property
    def regex(self) -> re.Pattern[str]:
        if self._regex is None:
            parts = []
            for glob in self._globs:
                parts.append(fnmatch.translate(glob))
                if self._submodules:
                    parts.append(fnmatch.translate(glob + ".*"))
            self._regex = re.compile("|".join(f"(?:{p})" for p in parts))
        return self._regex

    @property
    def globs(self) -> tuple[str, ...]:
        return self._globs

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NameGlobs) and (self._globs, self._submodules) == (other._globs, other._submodules)

    def __hash__(self) -> int:
        return hash((self._globs, self._submodules))

    def fullmatch(self, name: str) -> re.Match[str] | None:
        return self.regex.fullmatch(name)

    def match(self, name: str) -> re.Match[str] | None:
        return self.regex.match(name)

    def search(self, name: str) -> re.Match[str] | None:
        return self.regex.search(name)


def compile_name_globs(globs: Iterable[str], *, submodules: bool = False) -> NameGlobs:
    """One matcher for a list of dotted-name globs; with submodules, `mock` also matches `mock.patch`."""
    return NameGlobs(globs, submodules)


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
