"""Shared test helpers: real files on disk, real git repositories, the real engine."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import git
import pytest

from pfa_policy.engine.loader import Catalog, load_catalog
from pfa_policy.engine.runner import ScanOptions, scan
from pfa_policy.model import ScanResult
from pfa_policy.policy import Layer, combine

REPO_ROOT = Path(__file__).resolve().parent.parent
# The official OASIS schema, shipped unmodified with the tests (tests/data/sarif/README.md names its source).
SARIF_SCHEMA = REPO_ROOT / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return root


def make_git_repo(root: Path, files: Mapping[str, str | bytes], message: str = "initial") -> git.Repo:
    """A real repository with one commit holding `files`."""
    write_tree(root, files)
    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "Test Author")
        config.set_value("user", "email", "author@example.com")
        config.set_value("commit", "gpgsign", "false")
    repo.index.add(list(files))
    repo.index.commit(message)
    return repo


def scan_tree(root: Path, catalog: Catalog, *, rules: Iterable[str] | None = None,
              params: Mapping[str, Mapping[str, Any]] | None = None, policy: Mapping[str, Any] | None = None,
              today: dt.date | None = None, **options: Any) -> ScanResult:
    """Scan `root` with the built-in production pack, or only `rules`, through the real engine."""
    data: dict[str, Any] = {"name": "test", "fail_on": "error"}
    if rules is not None:
        data["rules"] = {"include": list(rules)}
    else:
        data["rules"] = {"include": ["*"], "exclude": ["tag:strict-only"]}
    if params:
        data["params"] = dict(params)
    data.update(policy or {})
    effective = combine(catalog, [Layer(data, "<test policy>", root)])
    if today is not None:
        options["today"] = today
    options.setdefault("jobs", 1)
    return scan(catalog, effective, ScanOptions(root, **options))
