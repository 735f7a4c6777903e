"""What a verbose scan records: every file it left out with why, and how long each stage took."""

from __future__ import annotations

from pathlib import Path

from pfa_policy.engine.loader import Catalog
from pfa_policy.engine.trace import Trace
from pfa_policy.engine.worker import MAX_BYTES
from tests.conftest import make_git_repo, scan_tree


def test_skipped_files_and_stage_timings(tmp_path: Path, catalog: Catalog) -> None:
    make_git_repo(tmp_path, {
        "serving/app.py": "import requests\n\n\ndef f(url):\n    return requests.get(url)\n",
        "serving/blob.py": b"\x00\x01binary\x00",
        "data/huge.yaml": "a: 1\n" * (MAX_BYTES // 5 + 1),
        "LICENSE": "MIT\n",
        "tests/test_app.py": "def test_f():\n    assert True\n",
        "build/gen.py": "",
        "out/report.json": "{}",
    })
    (tmp_path / "link.py").symlink_to(tmp_path / "serving" / "app.py")
    trace = Trace()
    result = scan_tree(tmp_path, catalog, rules=["PFA-OP-003"], trace=trace, own_outputs=frozenset({"out"}))
    assert [(f.rule_id, f.path) for f in result.findings] == [("PFA-OP-003", "serving/app.py")]
    assert sorted(trace.skipped) == [
        ("LICENSE", "no rule applies"),
        ("build/gen.py", "excluded by build"),
        ("data/huge.yaml", "no rule applies"),  # PFA-OP-003 reads Python only: the size does not matter
        ("link.py", "symbolic link"),
        ("out/report.json", "pfa-policy's own output"),
        ("serving/blob.py", "binary content"),
        ("tests/test_app.py", "no rule applies"),  # a production-only rule
    ]
    assert trace.scopes == {"tests/test_app.py": ("test", "default test glob tests/**")}
    assert "scope test tests/test_app.py: default test glob tests/**" in trace.lines()
    assert list(trace.timings) == ["discover", "analyse", "repository rules"]
    assert all(seconds >= 0 for seconds in trace.timings.values())
    assert trace.lines()[-1].startswith("timings: discover ")


def test_a_file_too_large_to_read(tmp_path: Path, catalog: Catalog) -> None:
    make_git_repo(tmp_path, {"serving/huge.py": "x = 1\n" * (MAX_BYTES // 6 + 1)})
    trace = Trace()
    scan_tree(tmp_path, catalog, rules=["PFA-OP-003"], trace=trace)
    assert trace.skipped == {("serving/huge.py", f"larger than {MAX_BYTES // 1048576} MiB")}
