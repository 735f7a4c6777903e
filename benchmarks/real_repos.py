"""The pinned public repositories of repositories.toml, exported as plain directories for the harness.

Every tool reads the same tree: the files of the pinned commit, no `.git` (as in the peer measurements of
shared/references/peers.md), so pfa-policy walks the directory like the others instead of asking git. The
exports live outside the checkout: inside its git-ignored `benchmarks/.work`, semgrep (which asks git what to
scan) scanned nothing and measured only its rule loading. A
source is a local git directory (a mirror: `--mirror-root DIR/<owner>+<name>/repo`) or the URL, cloned once.
Blobs a partial mirror lacks (large binaries) are left out and counted.
"""

from __future__ import annotations

import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Repository:
    name: str
    url: str
    commit: str
    shape: str

    @property
    def owner_and_name(self) -> str:
        return "+".join(self.url.rstrip("/").split("/")[-2:])


def pinned(path: Path = HERE / "repositories.toml") -> list[Repository]:
    with path.open("rb") as stream:
        return [Repository(**entry) for entry in tomllib.load(stream)["repository"]]


def export(repository: Repository, work: Path, exports: Path, mirror_root: Path | None = None) -> tuple[Path, int]:
    """The directory under `exports` (outside any git work tree) holding the pinned commit's files, and how many
    blobs the source lacked."""
    target = exports / f"{repository.name}-{repository.commit[:12]}"
    stamp = target.with_suffix(".missing")
    if target.is_dir() and stamp.is_file():
        return target, int(stamp.read_text())
    git_dir = _source(repository, work, mirror_root)
    listing = subprocess.run(["git", "--git-dir", str(git_dir), "ls-tree", "-r", "-z", repository.commit],
                             capture_output=True, check=True).stdout
    blobs = []
    for entry in filter(None, listing.split(b"\0")):
        meta, path = entry.split(b"\t", 1)
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode != b"120000":  # symbolic links are not followed by any tool measured
            blobs.append((sha, path.decode("utf-8", "surrogateescape")))
    missing = 0
    with subprocess.Popen(["git", "--git-dir", str(git_dir), "cat-file", "--batch"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE) as batch:
        assert batch.stdin is not None and batch.stdout is not None
        for sha, path in blobs:
            batch.stdin.write(sha + b"\n")
            batch.stdin.flush()
            header = batch.stdout.readline().split()
            if header[-1] == b"missing":
                missing += 1
                continue
            data = batch.stdout.read(int(header[2]))
            batch.stdout.read(1)
            file = target / path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(data)
        batch.stdin.close()
    stamp.write_text(str(missing))
    return target, missing


def _source(repository: Repository, work: Path, mirror_root: Path | None) -> Path:
    if mirror_root is not None:
        mirror = mirror_root / repository.owner_and_name / "repo"
        if mirror.is_dir():
            return mirror
    clone = work / "clones" / f"{repository.name}.git"
    if not clone.is_dir():
        subprocess.run(["git", "clone", "--bare", "--quiet", repository.url, str(clone)], check=True)
    return clone
