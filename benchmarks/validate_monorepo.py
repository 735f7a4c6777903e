#!/usr/bin/env python3
"""Check a repository made by gen_monorepo.py: everything parses and violations are where recorded.

Usage::

    python benchmarks/validate_monorepo.py REPO [--violations-file FILE]

* every ``.yaml``/``.yml`` (and MLproject) loads with ``yaml.safe_load_all``;
* every ``.json`` loads with ``json.loads``; every ``.ipynb`` too, and is checked for the
  nbformat 4 shape (and against the nbformat schema when the ``nbformat`` package is there);
* every ``.py`` compiles with ``compile()``;
* Python files are reported by size (the generator aims at 100-400 lines, ``__init__.py``
  and ``conftest.py`` aside);
* with ``--violations-file``, each recorded violation line exists.

Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import yaml


def check_notebook(data: Any) -> list[str]:
    problems = []
    if data.get("nbformat") != 4:
        problems.append("nbformat is not 4")
    if not isinstance(data.get("cells"), list):
        return [*problems, "cells is not a list"]
    for i, cell in enumerate(data["cells"]):
        if cell.get("cell_type") not in ("code", "markdown", "raw"):
            problems.append(f"cell {i}: bad cell_type")
        if not isinstance(cell.get("source"), (list, str)):
            problems.append(f"cell {i}: bad source")
        if cell.get("cell_type") == "code" and not isinstance(cell.get("outputs"), list):
            problems.append(f"cell {i}: code cell without outputs list")
    try:
        import nbformat  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return problems
    try:
        nbformat.validate(nbformat.from_dict(data))
    except Exception as exc:  # nbformat raises its own ValidationError
        problems.append(f"nbformat: {str(exc).splitlines()[0]}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo", type=Path)
    ap.add_argument("--violations-file", type=Path)
    args = ap.parse_args(argv)
    failures: list[str] = []
    counts = {"yaml": 0, "json": 0, "ipynb": 0, "py": 0}
    py_sizes: list[int] = []
    small: list[str] = []
    for path in sorted(args.repo.rglob("*")):
        if ".git" in path.relative_to(args.repo).parts or not path.is_file():
            continue
        rel = str(path.relative_to(args.repo))
        text = path.read_text(encoding="utf-8")
        try:
            if path.suffix in (".yaml", ".yml") or path.name == "MLproject":
                list(yaml.safe_load_all(text))
                counts["yaml"] += 1
            elif path.suffix == ".json":
                json.loads(text)
                counts["json"] += 1
            elif path.suffix == ".ipynb":
                problems = check_notebook(json.loads(text))
                failures += [f"{rel}: {p}" for p in problems]
                counts["ipynb"] += 1
            elif path.suffix == ".py":
                compile(text, rel, "exec")
                counts["py"] += 1
                n = text.count("\n")
                if path.name not in ("__init__.py", "conftest.py"):
                    py_sizes.append(n)
                    if n < 100 or n > 420:
                        small.append(f"{rel} ({n} lines)")
        except Exception as exc:
            failures.append(f"{rel}: {type(exc).__name__}: {exc}")
    print("parsed: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    if py_sizes:
        q = statistics.quantiles(py_sizes, n=10)
        print(f"python modules (excluding __init__/conftest): n={len(py_sizes)} min={min(py_sizes)} "
              f"p10={q[0]:.0f} median={statistics.median(py_sizes):.0f} p90={q[-1]:.0f} max={max(py_sizes)}")
    if small:
        print(f"{len(small)} python modules outside 100-420 lines, e.g. {small[:5]}")
    if args.violations_file:
        violations = json.loads(args.violations_file.read_text(encoding="utf-8"))
        for v in violations:
            lines = (args.repo / v["path"]).read_text(encoding="utf-8").splitlines()
            line = v.get("line")
            if not isinstance(line, int) or not 1 <= line <= len(lines):
                failures.append(f"{v['path']}: violation {v['kind']} has no valid line ({line})")
        print(f"violations checked: {len(violations)}")
    for f in failures[:50]:
        print("FAIL", f)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
