"""A warm scan answers from the cache: it must not pay for gitpython outside git. libcst is not used at all:
Python is analysed on CPython's own `ast`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import write_tree

# Runs the real CLI in a fresh interpreter, then says which heavy modules were executed (a lazily bound module
# that nothing used is still a `_LazyModule`, not a plain module).
_PROBE = """
import json, sys, types
from pfa_policy.cli import main
sys.argv = ["pfa-policy", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
state = {n: "absent" if sys.modules.get(n) is None else
         "loaded" if type(sys.modules[n]) is types.ModuleType else "lazy" for n in ("libcst", "git")}
print(json.dumps(state), file=sys.stderr)
"""

_SERVICE = '''"""Scoring service."""
import requests
from fastapi import FastAPI

app = FastAPI()


@app.post("/predict")
def predict(payload: dict) -> dict:
    return requests.post("https://features.internal.example.com/v1", json=payload).json()
'''


def _scan(root: Path, cache: Path, report: Path, output: str = "json") -> tuple[dict[str, str], str]:
    done = subprocess.run([sys.executable, "-c", _PROBE, "scan", str(root), "--cache-dir", str(cache),
                           "--format", output, "-o", str(report), "--fail-on", "never", "--jobs", "1"],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stderr.strip().splitlines()[-1]), report.read_text(encoding="utf-8")


def test_a_warm_scan_executes_neither_libcst_nor_gitpython(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", {"serving/app.py": _SERVICE, "requirements.txt": "fastapi\nrequests\n"})
    cold, cold_report = _scan(root, tmp_path / "cache", tmp_path / "cold.json")
    assert cold == {"libcst": "absent", "git": "absent"}  # a plain directory: no work tree to ask
    warm, warm_report = _scan(root, tmp_path / "cache", tmp_path / "warm.json")
    assert warm == {"libcst": "absent", "git": "absent"}
    findings = json.loads(warm_report)["findings"]
    assert any(f["rule_id"] == "PFA-OP-003" and f["path"] == "serving/app.py" for f in findings)
    assert json.loads(warm_report)["findings"] == json.loads(cold_report)["findings"]
    # SARIF asks git for version-control provenance: outside a work tree it need not import gitpython either.
    sarif_state, sarif = _scan(root, tmp_path / "cache", tmp_path / "warm.sarif", "sarif")
    assert sarif_state == {"libcst": "absent", "git": "absent"}
    assert "versionControlProvenance" not in sarif
