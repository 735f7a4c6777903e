"""Hostile files cost their own findings, never the scan: each is a notification naming it, and every finding of
the normal files around it is kept."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pfa_policy.engine.isolation import WorkerFailure, WorkerSetup, report_step, supervise
from pfa_policy.engine.loader import Catalog
from tests.conftest import scan_tree, write_tree

_SERVICE = "import requests\n\n\ndef fetch(url):\n    return requests.get(url).json()\n"
_HEAD = "import requests\n\n"
_DEPTH = 1600
_HOSTILE: dict[str, str | bytes] = {
    "serving/deep_parens.py": _HEAD + "x = " + "(" * _DEPTH + "1" + ")" * _DEPTH + "\n",
    "serving/deep_lists.py": _HEAD + "x = " + "[" * _DEPTH + "]" * _DEPTH + "\n",
    "serving/deep_calls.py": _HEAD + "x = " + "f(" * _DEPTH + "1" + ")" * _DEPTH + "\n",
    "serving/long_expression.py": _HEAD + "x = " + " + ".join(["a"] * 10_000) + "\n",
    "deploy/deep.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: "
                        + "[" * 3000 + "]" * 3000 + "\n",
    "deploy/deep.json": '{"apiVersion": "v1", "kind": "ConfigMap", "data": ' + "[" * 3000 + "]" * 3000 + "}\n",
    "serving/klingon.py": b"# -*- coding: klingon -*-\nimport requests\n\n\ndef f(u):\n    return requests.get(u)\n",
    # Line-start patterns (`^\s*`) ran across every blank line from every line start: minutes per file.
    "deploy/blank_lines.yaml": "\n" * 40_000 + "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    ".github/workflows/blank.yml": "\n" * 40_000 + "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n"
                                   "    steps:\n      - run: make test\n",
    "train/blank.py": "\n" * 40_000 + "import random\n",
    "serving/utf16.py": _SERVICE.encode("utf-16"),
}
# Unusual names are scanned like any other file; their findings carry the exact name.
_ODD_NAMES = ["with space.py", "new\nline.py", "100%.py", "a::b.py", "-dash.py"]


def _scan_json(root: Path, *args: str, timeout: float = 180) -> tuple[int, dict[str, object], str]:
    completed = subprocess.run([sys.executable, "-m", "pfa_policy", "scan", str(root), "--format", "json",
                                "--no-cache", *args], capture_output=True, text=True, timeout=timeout,
                               env={**os.environ, "PFA_POLICY_DEBUG": ""})
    return completed.returncode, json.loads(completed.stdout or "{}"), completed.stderr


def _notes_by_path(report: dict[str, object]) -> dict[str, list[str]]:
    notes: dict[str, list[str]] = {}
    for note in report["notifications"]:  # type: ignore[attr-defined]
        notes.setdefault(note["path"], []).append(note["message"])
    return notes


def test_hostile_files_are_notifications_and_the_service_keeps_its_findings(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", {"serving/app.py": _SERVICE, **_HOSTILE,
                                          **{f"odd/{name}": _SERVICE for name in _ODD_NAMES}})
    started = time.monotonic()
    code, report, stderr = _scan_json(root)
    elapsed = time.monotonic() - started
    assert code in (0, 1), stderr
    assert "Traceback" not in stderr and "internal error" not in json.dumps(report)
    timeouts = [f for f in report["findings"] if f["rule_id"] == "PFA-OP-003"]  # type: ignore[attr-defined]
    assert sorted((f["path"], f["line"]) for f in timeouts) == sorted(
        [("serving/app.py", 5), ("serving/klingon.py", 6), *((f"odd/{name}", 5) for name in _ODD_NAMES)])

    notes = _notes_by_path(report)
    for path in ("serving/deep_parens.py", "serving/deep_lists.py", "serving/deep_calls.py"):
        assert notes[path] == ["could not parse python: brackets nested more than 200 levels deep (Python's own "
                               "limit); not parsed"], path
    assert notes["serving/long_expression.py"] == [
        "could not parse python: expression nested too deeply for Python's own parser; not parsed"]
    # libyaml 0.2.5 stops at its own flow-depth limit; a libyaml without one (or the pure-Python
    # loader) reaches the converter's limit. Either way the file is one notification.
    assert len(notes["deploy/deep.yaml"]) == 1
    assert re.search(r"nesting depth|nesting exceeds 256 levels", notes["deploy/deep.yaml"][0])
    assert notes["deploy/deep.json"] == ["could not parse document: JSON nesting exceeds 256 levels"]
    assert notes["serving/klingon.py"] == ["ignored the coding cookie (unknown encoding: klingon)"]
    assert notes["serving/utf16.py"] == ["not scanned: binary content"]
    assert not {"deploy/blank_lines.yaml", ".github/workflows/blank.yml", "train/blank.py"} & set(notes)
    # Well under the 60 s a single file took before each file's analysis was bounded.
    print(f"hostile repository scanned in {elapsed:.1f} s")


def _drop_read_override() -> list[str] | None:
    """A command prefix under which this process cannot read a mode-000 file (root reads anything)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [setpriv, "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]


def test_unreadable_files_and_directories_are_notifications(tmp_path: Path) -> None:
    prefix = _drop_read_override()
    if prefix is None:
        pytest.skip("running as root without setpriv: every file is readable")
    root = write_tree(tmp_path / "repo", {"serving/app.py": _SERVICE, "serving/secret.py": _SERVICE,
                                          "private/job.py": _SERVICE})
    (root / "serving" / "secret.py").chmod(0)
    (root / "private").chmod(0)
    try:
        completed = subprocess.run([*prefix, sys.executable, "-m", "pfa_policy", "scan", str(root), "--format",
                                    "json", "--no-cache"], capture_output=True, text=True, timeout=120)
    finally:
        (root / "private").chmod(0o755)
        (root / "serving" / "secret.py").chmod(0o644)
    assert completed.returncode in (0, 1), completed.stderr
    report = json.loads(completed.stdout)
    notes = _notes_by_path(report)
    assert any("Permission denied" in m for m in notes["serving/secret.py"]), notes
    assert any("directory not scanned" in m and "Permission denied" in m for m in notes["private/"]), notes
    assert [f["path"] for f in report["findings"] if f["rule_id"] == "PFA-OP-003"] == ["serving/app.py"]


def test_a_file_over_its_time_budget_is_a_notification(tmp_path: Path) -> None:
    # 40,000 statements take libcst seconds; the budget below is a fraction of that.
    slow = "import requests\n\n" + "".join(f"value_{i} = requests.get(URL_{i}, timeout=5)\n" for i in range(40_000))
    root = write_tree(tmp_path / "repo", {"serving/app.py": _SERVICE, "serving/huge.py": slow})
    code, report, stderr = _scan_json(root, "--file-timeout", "0.5", "--jobs", "1")
    assert code in (0, 1), stderr
    notes = _notes_by_path(report)
    assert len(notes["serving/huge.py"]) == 1
    assert re.match(r"not analysed: the analysis took longer than 0\.5 s in (reading the file|a first look|"
                    r"PFA-|parsing)", notes["serving/huge.py"][0]), notes
    assert notes["serving/huge.py"][0].endswith("(the per-file budget; raise it with --file-timeout); the rest of the "
                                                 "scan is complete")
    assert [f["path"] for f in report["findings"] if f["rule_id"] == "PFA-OP-003"] == ["serving/app.py"]


# Module-level, as workers need them (they are pickled when a platform spawns its workers).
def _behave(item: str) -> str:
    report_step(f"handling {item}")
    if item == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if item == "exit":
        os._exit(3)
    if item == "hang":
        time.sleep(120)
    if item == "raise":
        raise ValueError("bad input")
    if item == "deep":
        return _behave(item)
    return item.upper()


def _no_setup() -> None:
    pass


def _run(items: list[str], workers: int, budget: float) -> dict[int, str | WorkerFailure]:
    def numbered() -> Iterator[tuple[int, str]]:
        yield from enumerate(items)

    return dict(supervise(numbered(), WorkerSetup(_behave, _no_setup, (), "test"), workers, budget))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_dead_or_stuck_worker_costs_only_its_item(workers: int) -> None:
    items = ["a", "crash", "b", "hang", "c", "raise", "d", "deep", "exit", "e"]
    results = _run(items, workers, budget=2.0)
    assert {results[i] for i in (0, 2, 4, 6, 9)} == {"A", "B", "C", "D", "E"}
    assert results[1] == WorkerFailure("the analysis crashed (SIGSEGV) in handling crash")
    assert results[3] == WorkerFailure("the analysis took longer than 2 s in handling hang (the per-file budget; "
                                       "raise it with --file-timeout)")
    assert results[5] == WorkerFailure("analysis failed: ValueError('bad input')")
    assert results[7] == WorkerFailure("nested too deeply to analyse (Python's recursion limit)")
    assert results[8] == WorkerFailure("the analysis process exited unexpectedly (exit code 3) in handling exit")


def test_workers_kept_between_runs_take_the_new_setup() -> None:
    assert _run(["x"], 1, 5.0) == {0: "X"}
    assert _run(["y", "z"], 2, 5.0) == {0: "Y", 1: "Z"}


_CHART_VALUES = """replicaCount: 1
image:
  repository: registry.example.com/churn/model-server
  tag: latest
service:
  type: LoadBalancer
  port: 80
securityContext:
  runAsUser: 0
  privileged: true
"""
_TEMPLATE = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-server
spec:
  template:
    spec:
      containers:
        - name: server
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
"""


def test_cached_scans_follow_a_chart_added_and_removed(tmp_path: Path, catalog: Catalog) -> None:
    """Chart.yaml makes values.yaml Helm values: the cache must not serve the answer from before."""
    root = write_tree(tmp_path / "repo", {"deploy/values.yaml": _CHART_VALUES,
                                          "deploy/templates/deployment.yaml": _TEMPLATE})
    cache = tmp_path / "cache"

    def both() -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int]]]:
        cached, uncached = (sorted((f.rule_id, f.path, f.span.line) for f in scan_tree(root, catalog, cache_dir=c)
                                   .findings) for c in (cache, None))
        return cached, uncached

    before, plain_before = both()
    assert before == plain_before
    (root / "deploy" / "Chart.yaml").write_text("apiVersion: v2\nname: churn\nversion: 0.1.0\n")
    with_chart, plain_with_chart = both()
    assert with_chart == plain_with_chart
    assert set(with_chart) > set(before), "Helm-values rules read values.yaml once it belongs to a chart"
    (root / "deploy" / "Chart.yaml").unlink()
    after, plain_after = both()
    assert after == plain_after == before
