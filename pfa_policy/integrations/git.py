"""Git facts a diff-aware scan needs: the merge-base with a ref and the lines changed since it.

Everything goes through gitpython's command wrapper (`repo.git.<command>`), so the user's git and its
configuration (safe directories, alternates, shallow clones) apply as they do on the command line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pfa_policy.engine.discovery import may_be_in_git
from pfa_policy.model import PfaError, Span

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


@dataclass(frozen=True, slots=True)
class FileChange:
    """How one file differs from the merge-base. Line numbers are those of the current file."""

    path: str  # relative to the scan root, POSIX separators
    status: str  # added | modified | renamed | copied | untracked | type-changed
    old_path: str | None = None
    added_lines: frozenset[int] = frozenset()
    # Deletions with nothing added in their place: the line after which lines were removed (0: before line 1).
    deletions: frozenset[int] = frozenset()

    @property
    def whole_file(self) -> bool:
        return self.status in ("added", "untracked")

    def touches(self, span: Span) -> bool:
        """True when the finding's lines include an added line, or straddle a deletion."""
        if self.whole_file:
            return True
        lines = range(span.line, max(span.line, span.end_line) + 1)
        if any(line in self.added_lines for line in lines):
            return True
        return any(span.line <= point < span.end_line for point in self.deletions)


@dataclass(frozen=True, slots=True)
class Changes:
    base_ref: str
    merge_base: str  # full commit sha
    git_root: Path
    files: Mapping[str, FileChange]  # by path relative to the scan root
    deleted: frozenset[str] = frozenset()  # paths (relative to the scan root) the change removes


def open_repo(path: Path) -> Any:
    """The git repository containing `path`, or a PfaError."""
    import git

    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise PfaError(f"{path} is not inside a git repository (needed for --diff-base)") from None
    if repo.bare or repo.working_tree_dir is None:
        raise PfaError(f"{path} is in a bare git repository: a work tree is needed")
    return repo


def resolve_commit(repo: Any, ref: str) -> str:
    import git

    if not ref or ref.startswith("-"):
        raise PfaError(f"invalid git reference {ref!r}")
    try:
        return str(repo.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")).strip()
    except git.GitCommandError:
        raise PfaError(f"cannot resolve git reference {ref!r}: fetch it first (e.g. `git fetch origin {ref}`, "
                       "or actions/checkout with fetch-depth: 0)") from None


def merge_base(repo: Any, ref: str) -> str:
    """The best common ancestor of HEAD and `ref`, as a full sha; a clear error when there is none."""
    import git

    target = resolve_commit(repo, ref)
    try:
        head = str(repo.git.rev_parse("--verify", "HEAD^{commit}")).strip()
    except git.GitCommandError:
        raise PfaError("the repository has no commit yet: nothing to diff against") from None
    try:
        return str(repo.git.merge_base(head, target)).strip()
    except git.GitCommandError:
        shallow = str(repo.git.rev_parse("--is-shallow-repository")).strip() == "true"
        hint = " (this is a shallow clone: fetch more history, e.g. fetch-depth: 0)" if shallow else ""
        raise PfaError(f"HEAD and {ref!r} have no common ancestor{hint}") from None


def head_commit(repo: Any) -> str | None:
    import git

    try:
        return str(repo.git.rev_parse("--verify", "--quiet", "HEAD^{commit}")).strip() or None
    except git.GitCommandError:
        return None


def changes_since(root: Path, ref: str) -> Changes:
    """Files under `root` that differ between the merge-base of HEAD and `ref` and the work tree."""
    repo = open_repo(root)
    git_root = Path(repo.working_tree_dir).resolve()
    base = merge_base(repo, ref)
    prefix = _prefix(root.resolve(), git_root)
    files: dict[str, FileChange] = {}
    deleted = frozenset(relative for path in _deleted(repo, base) if (relative := _under(path, prefix)) is not None)
    for change in _tracked_changes(repo, base):
        relative = _under(change.path, prefix)
        if relative is not None:
            files[relative] = FileChange(relative, change.status, change.old_path, change.added_lines,
                                         change.deletions)
    listing = repo.git.ls_files("-z", "--others", "--exclude-standard")
    for raw in listing.split("\0"):
        relative = _under(raw, prefix) if raw else None
        if relative is not None:
            files[relative] = FileChange(relative, "untracked")
    return Changes(ref, base, git_root, dict(sorted(files.items())), deleted)


def _prefix(root: Path, git_root: Path) -> str:
    try:
        relative = root.relative_to(git_root).as_posix()
    except ValueError:
        raise PfaError(f"{root} is outside the git work tree {git_root}") from None
    return "" if relative == "." else relative + "/"


def _under(path: str, prefix: str) -> str | None:
    if not prefix:
        return path
    return path[len(prefix):] if path.startswith(prefix) else None


_STATUS = {"A": "added", "M": "modified", "R": "renamed", "C": "copied", "T": "type-changed"}


def _deleted(repo: Any, base: str) -> list[str]:
    listing = repo.git.diff("--no-color", "--no-ext-diff", "--find-renames", "--ignore-submodules", "--name-only",
                            "-z", "--diff-filter=D", base, "--")
    return [path for path in listing.split("\0") if path]


def _tracked_changes(repo: Any, base: str) -> Iterator[FileChange]:
    """Work tree (staged or not) against `base`, renames followed; deleted files are left out."""
    common = ("--no-color", "--no-ext-diff", "--no-textconv", "--find-renames", "--ignore-submodules")
    listing = repo.git.diff(*common, "--name-status", "-z", base, "--").split("\0")
    statuses: dict[str, tuple[str, str | None]] = {}
    position = 0
    while position < len(listing) and listing[position]:
        code = listing[position][0]
        if code in "RC":
            old, new = listing[position + 1], listing[position + 2]
            statuses[new] = (_STATUS[code], old)
            position += 3
            continue
        if code in _STATUS:
            statuses[listing[position + 1]] = (_STATUS[code], None)
        position += 2
    if not statuses:
        return
    patch = repo.git.diff(*common, "-U0", "--src-prefix=a/", "--dst-prefix=b/", base, "--")
    lines = parse_unified_zero(patch)
    for path, (status, old_path) in statuses.items():
        added, deletions = lines.get(path, (frozenset(), frozenset()))
        yield FileChange(path, status, old_path, added, deletions)


def parse_unified_zero(patch: str) -> dict[str, tuple[frozenset[int], frozenset[int]]]:
    """Added lines and deletion points per new path, from `git diff -U0` output."""
    result: dict[str, tuple[set[int], set[int]]] = {}
    current: tuple[set[int], set[int]] | None = None
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            current = None
        elif line.startswith("+++ "):
            target = line[4:].rstrip("\t")
            if target == "/dev/null":
                current = None
                continue
            target = unquote_path(target)
            current = result.setdefault(target.removeprefix("b/"), (set(), set()))
        elif current is not None and line.startswith("@@"):
            match = _HUNK.match(line)
            if match is None:
                continue
            start, count = int(match.group(1)), int(match.group(2) or "1")
            if count == 0:
                current[1].add(start)
            else:
                current[0].update(range(start, start + count))
    return {path: (frozenset(added), frozenset(deleted)) for path, (added, deleted) in result.items()}


def unquote_path(text: str) -> str:
    """Undo git's C-style quoting of unusual path names (`"a/caf\\303\\251.py"`)."""
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return text
    body = text[1:-1]
    out = bytearray()
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\" or index + 1 >= len(body):
            out.extend(char.encode("utf-8"))
            index += 1
            continue
        octal = body[index + 1:index + 4]
        if re.fullmatch(r"[0-7]{3}", octal):
            out.append(int(octal, 8))
            index += 4
        else:
            out.extend(bytes([_ESCAPES[body[index + 1]]]) if body[index + 1] in _ESCAPES
                       else body[index + 1].encode("utf-8"))
            index += 2
    return out.decode("utf-8", errors="surrogateescape")


def provenance(root: Path) -> dict[str, str] | None:
    """SARIF versionControlProvenance for the repository containing `root`: origin URL, HEAD sha, branch."""
    if not may_be_in_git(root):
        return None
    import git

    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    sha = head_commit(repo)
    if sha is None:
        return None
    details: dict[str, str] = {"revisionId": sha}
    try:
        url = str(repo.git.config("--get", "remote.origin.url")).strip()
    except git.GitCommandError:
        url = ""
    if url:
        details["repositoryUri"] = repository_uri(url)
    try:
        branch = str(repo.git.symbolic_ref("--quiet", "--short", "HEAD")).strip()
    except git.GitCommandError:
        branch = ""
    if branch:
        details["branch"] = branch
    return details


def repository_uri(url: str) -> str:
    """A remote URL as an absolute https-style URI without credentials (scp-like ssh forms converted)."""
    scp = re.fullmatch(r"(?:[^@/]+@)?([^:/]+):(?!//)(.+)", url)
    if scp:
        url = f"https://{scp.group(1)}/{scp.group(2)}"
    url = re.sub(r"^(\w[\w+.-]*://)[^@/]+@", r"\1", url)  # drop user:token@
    url = re.sub(r"^ssh://", "https://", url)
    url = re.sub(r"^git://", "https://", url)
    if "://" not in url:
        url = Path(url).resolve().as_uri()
    return url.removesuffix(".git")


def tree_id(root: Path, commit: str = "HEAD") -> str | None:
    """The id of the tree `root` corresponds to in `commit` (a subdirectory's own tree), or None."""
    import git

    try:
        repo = git.Repo(root, search_parent_directories=True)
        prefix = _prefix(root.resolve(), Path(str(repo.working_tree_dir)).resolve())
        spec = f"{commit}:{prefix}" if prefix else f"{commit}^{{tree}}"
        return str(repo.git.rev_parse("--verify", "--quiet", spec)).strip() or None
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, git.GitCommandError, PfaError, TypeError):
        return None


def clean_tree_id(root: Path) -> str | None:
    """HEAD's tree at `root` when the work tree there has no staged, unstaged or untracked change, else None:
    only then does the tree id describe every file a scan of `root` saw."""
    import git

    try:
        repo = git.Repo(root, search_parent_directories=True)
        status = repo.git.status("--porcelain", "-z", "--untracked-files=normal", "--ignore-submodules", "--",
                                 str(root.resolve()))
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, git.GitCommandError):
        return None
    return None if status.strip("\0") else tree_id(root)


def blob_bytes(git_root: Path, commit: str, path: str) -> bytes | None:
    """A file's content as of `commit` (path relative to the repository root); None when it did not exist."""
    import git

    try:
        return bytes(git.Repo(git_root).git.show(f"{commit}:{path}", stdout_as_string=False))
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, git.GitCommandError):
        return None


def blob_text(git_root: Path, commit: str, path: str) -> str:
    """A file's text as of `commit`; empty when it did not exist."""
    data = blob_bytes(git_root, commit, path)
    return "" if data is None else data.decode("utf-8", errors="replace")
