"""Which files a scan looks at: git-aware listing, default and configured excludes, safe symlink handling."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pfa_policy.engine.globs import path_matches
from pfa_policy.model import Notification

DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "node_modules", "__pycache__", "build", "dist",
    "*.egg-info", ".eggs", ".mypy_cache", ".pytest_cache", ".ruff_cache", "site-packages", ".ipynb_checkpoints",
    ".pfa-cache", ".dvc/cache", ".terraform",
)


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str  # repository-relative, POSIX separators
    size: int


@dataclass(frozen=True, slots=True)
class Discovery:
    root: Path
    files: tuple[FileEntry, ...]
    notifications: tuple[Notification, ...]
    git_root: Path | None
    # (path, why) of what was left out; a directory the walk did not enter ends with '/'.
    skipped: tuple[tuple[str, str], ...] = ()


OWN_OUTPUT = "pfa-policy's own output"


def discover(root: Path, excludes: Sequence[str] = (), own_outputs: Collection[str] = ()) -> Discovery:
    """`own_outputs`: repository-relative files and directories pfa-policy writes (reports, the baseline, the
    cache), never scanned: a report quotes the code it flags."""
    root = root.resolve()
    patterns = tuple(DEFAULT_EXCLUDES) + tuple(excludes)
    git_root = _git_root(root)
    notifications: list[Notification] = []
    skipped: list[tuple[str, str]] = []
    listed = _git_paths(root, git_root) if git_root is not None else None
    if listed == [] and git_root is not None and _ignored_by_git(root, git_root):
        # Asked for by name, a directory git ignores (a build output, an export under an ignored folder) is
        # not part of that repository: walk it rather than scan nothing.
        notifications.append(Notification("note", f"the scanned directory is ignored by git in {git_root}; "
                                                  "it was walked as a plain directory", ""))
        listed, git_root = None, None
    candidates = listed if listed is not None else list(_walk(root, patterns, own_outputs, notifications, skipped))
    files = []
    for relative in sorted(set(candidates)):
        why = _left_out(relative, patterns, own_outputs)
        if why:
            skipped.append((relative, why))
            continue
        entry = _entry(root, relative, notifications, skipped)
        if entry is not None:
            files.append(entry)
    return Discovery(root, tuple(files), tuple(notifications), git_root, tuple(sorted(skipped)))


def _left_out(relative: str, patterns: tuple[str, ...], own_outputs: Collection[str]) -> str:
    """Why a path is not scanned: the exclude glob or the own output that covers it; '' when it is."""
    if any(relative == own or relative.startswith(own + "/") for own in own_outputs):
        return OWN_OUTPUT
    if not path_matches(relative, patterns):
        return ""
    return "excluded by " + next(p for p in patterns if path_matches(relative, (p,)))


def _git_root(root: Path) -> Path | None:
    try:
        import git  # imported here: gitpython is slow to import and a plain directory needs none of it
    except ImportError:
        return None
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    if repo.bare or repo.working_tree_dir is None:
        return None
    return Path(repo.working_tree_dir).resolve()


def _ignored_by_git(root: Path, git_root: Path) -> bool:
    import git

    if root == git_root:
        return False
    try:
        git.Repo(git_root).git.check_ignore("-q", str(root))
    except git.GitCommandError:  # exit status 1: not ignored
        return False
    return True


def _git_paths(root: Path, git_root: Path) -> list[str] | None:
    """Tracked plus untracked-but-not-ignored files under root, relative to root."""
    import git

    try:
        repo = git.Repo(git_root)
        listing = repo.git.ls_files("-z", "--cached", "--others", "--exclude-standard", "--", str(root))
    except git.GitCommandError:
        return None
    prefix = root.relative_to(git_root).as_posix()
    paths = []
    for raw in listing.split("\0"):
        if not raw:
            continue
        if prefix != ".":
            if not raw.startswith(prefix + "/"):
                continue
            raw = raw[len(prefix) + 1:]
        paths.append(raw)
    return paths


def _walk(root: Path, patterns: tuple[str, ...], own_outputs: Collection[str], notifications: list[Notification],
          skipped: list[tuple[str, str]]) -> Iterable[str]:
    def unreadable(error: OSError) -> None:
        relative = Path(str(error.filename)).relative_to(root).as_posix() + "/"
        notifications.append(Notification("warning", f"directory not scanned: {error.strerror or error}", relative))
        skipped.append((relative, "unreadable directory"))

    for directory, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=False):
        relative_dir = Path(directory).relative_to(root).as_posix()
        kept = []
        for name in sorted(dirnames):
            relative = name if relative_dir == "." else f"{relative_dir}/{name}"
            why = _left_out(relative, patterns, own_outputs)
            if why:
                skipped.append((relative + "/", why))
                continue
            if os.path.islink(os.path.join(directory, name)):
                notifications.append(Notification("note", "symbolic link to a directory not followed", relative))
                skipped.append((relative + "/", "symbolic link"))
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in filenames:
            yield name if relative_dir == "." else f"{relative_dir}/{name}"


def _entry(root: Path, relative: str, notifications: list[Notification],
           skipped: list[tuple[str, str]]) -> FileEntry | None:
    absolute = root / relative
    try:
        if absolute.is_symlink():
            # A linked file is scanned where it really lives, if that is inside the root; never through the link.
            notifications.append(Notification("note", "symbolic link not followed", relative))
            skipped.append((relative, "symbolic link"))
            return None
        stat = absolute.stat()
    except FileNotFoundError:
        return None  # listed by git but deleted in the work tree
    except OSError as error:  # e.g. inside a directory this user may not enter
        notifications.append(Notification("error", f"not scanned: {error.strerror or error}", relative))
        skipped.append((relative, "unreadable"))
        return None
    if not absolute.is_file():
        return None
    return FileEntry(relative, stat.st_size)
