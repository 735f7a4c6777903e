"""Merge-base and changed-line detection on real git repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfa_policy.integrations.git import changes_since, parse_unified_zero, repository_uri, unquote_path
from pfa_policy.model import PfaError, Span
from tests.conftest import make_git_repo, write_tree


def test_added_changed_deleted_lines_renames_and_untracked(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path, {
        "keep.py": "a\nb\nc\nd\ne\n",
        "old_name.py": "".join(f"line {n}\n" for n in range(1, 21)),
        "gone.py": "x\n",
        "same.py": "unchanged\n",
    })
    repo.git.checkout("-b", "feature")
    write_tree(tmp_path, {"keep.py": "a\nB\nc\ne\nf\ng\n"})  # 2 changed, d deleted, f and g added
    repo.git.mv("old_name.py", "new_name.py")
    write_tree(tmp_path, {"new_name.py": "".join(f"line {n}\n" for n in range(1, 21)).replace("line 7", "LINE 7")})
    repo.git.rm("gone.py")
    repo.git.add("-A")
    repo.index.commit("feature work")
    write_tree(tmp_path, {"untracked.py": "new\n", "café.py": "x = 1\n"})

    changes = changes_since(tmp_path, "main")

    assert changes.merge_base == repo.git.rev_parse("main")
    assert set(changes.files) == {"keep.py", "new_name.py", "untracked.py", "café.py"}
    keep = changes.files["keep.py"]
    assert keep.status == "modified"
    assert keep.added_lines == {2, 5, 6}
    assert keep.deletions == {3}  # `d` removed after line 3
    renamed = changes.files["new_name.py"]
    assert (renamed.status, renamed.old_path, renamed.added_lines) == ("renamed", "old_name.py", {7})
    assert changes.files["untracked.py"].whole_file
    assert changes.files["café.py"].touches(Span(1))


def test_uncommitted_and_staged_edits_count(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path, {"a.py": "1\n2\n3\n"})
    repo.git.branch("base")
    write_tree(tmp_path, {"a.py": "1\n2\n3\n4\n"})
    repo.git.add("a.py")
    write_tree(tmp_path, {"a.py": "0\n1\n2\n3\n4\n"})
    assert changes_since(tmp_path, "base").files["a.py"].added_lines == {1, 5}


def test_deletion_inside_a_multiline_finding_touches_it() -> None:
    patch = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -5 +4,0 @@\n-    timeout=5,\n"
    added, deletions = parse_unified_zero(patch)["x.py"]
    assert (added, deletions) == (frozenset(), frozenset({4}))
    from pfa_policy.integrations.git import FileChange

    change = FileChange("x.py", "modified", None, added, deletions)
    assert change.touches(Span(3, 1, 5, 2))  # the call spans lines 3-5, the keyword was removed after line 4
    assert not change.touches(Span(5, 1, 6, 1))
    assert not change.touches(Span(1))


def test_scan_root_below_the_git_root_gets_relative_paths(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path, {"svc/app.py": "x\n", "other/b.py": "y\n"})
    repo.git.checkout("-b", "feature")
    write_tree(tmp_path, {"svc/app.py": "x\nz\n", "other/b.py": "y\nw\n"})
    changes = changes_since(tmp_path / "svc", "main")
    assert list(changes.files) == ["app.py"]
    assert changes.files["app.py"].added_lines == {2}


def test_unknown_ref_is_a_clear_error(tmp_path: Path) -> None:
    make_git_repo(tmp_path, {"a.py": "x\n"})
    with pytest.raises(PfaError, match="cannot resolve git reference 'origin/nope'"):
        changes_since(tmp_path, "origin/nope")
    with pytest.raises(PfaError, match="invalid git reference"):
        changes_since(tmp_path, "--output=/tmp/x")


def test_outside_a_git_repository(tmp_path: Path) -> None:
    with pytest.raises(PfaError, match="not inside a git repository"):
        changes_since(tmp_path, "main")


def test_unrelated_histories_have_no_merge_base(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path, {"a.py": "x\n"})
    repo.git.checkout("--orphan", "other")
    repo.index.commit("unrelated root")
    repo.git.branch("-f", "lonely")
    repo.git.checkout("main")
    with pytest.raises(PfaError, match="no common ancestor"):
        changes_since(tmp_path, "lonely")


def test_git_path_quoting_and_remote_urls() -> None:
    assert unquote_path('"b/caf\\303\\251 \\"q\\".py"') == 'b/café "q".py'
    assert unquote_path("b/plain.py") == "b/plain.py"
    assert repository_uri("git@github.com:org/repo.git") == "https://github.com/org/repo"
    assert repository_uri("https://x-access-token:secret@github.com/org/repo.git") == "https://github.com/org/repo"
    assert repository_uri("ssh://git@example.com/org/repo.git") == "https://example.com/org/repo"
