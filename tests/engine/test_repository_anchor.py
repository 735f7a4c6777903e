"""Findings about the repository as a whole point at the root manifest, never at a template or a nested package."""

from __future__ import annotations

from pathlib import Path

from pfa_policy.engine.loader import Catalog
from tests.conftest import scan_tree, write_tree

_CODE = "def score(x):\n    return x\n"
_NESTED = {
    "{{cookiecutter.project_slug}}/pyproject.toml": "[project]\nname = '{{cookiecutter.project_slug}}'\n",
    "templates/service/setup.py": "from setuptools import setup\nsetup()\n",
    "packages/features/pyproject.toml": "[project]\nname = 'features'\n",
    "packages/features/features/core.py": _CODE,
}


def _absence_findings(catalog: Catalog, root: Path) -> list[tuple[str, str, int]]:
    result = scan_tree(root, catalog, rules=["PFA-CI-001", "PFA-CI-003"])
    return [(f.rule_id, f.path, f.span.line) for f in result.findings]


def test_root_readme_wins_over_nested_and_template_manifests(catalog: Catalog, tmp_path: Path) -> None:
    write_tree(tmp_path, {**_NESTED, "README.md": "# Models\n", "model/score.py": _CODE})
    assert _absence_findings(catalog, tmp_path) == [("PFA-CI-001", "README.md", 1), ("PFA-CI-003", "README.md", 1)]


def test_root_pyproject_comes_before_the_readme(catalog: Catalog, tmp_path: Path) -> None:
    write_tree(tmp_path, {**_NESTED, "README.md": "# Models\n", "setup.py": "from setuptools import setup\n",
                          "pyproject.toml": "[project]\nname = 'models'\n", "model/score.py": _CODE})
    assert _absence_findings(catalog, tmp_path) == [("PFA-CI-001", "pyproject.toml", 1),
                                                    ("PFA-CI-003", "pyproject.toml", 1)]


def test_without_a_root_manifest_the_least_nested_production_file_outside_templates(catalog: Catalog,
                                                                                     tmp_path: Path) -> None:
    write_tree(tmp_path, {"{{cookiecutter.project_slug}}/setup.py": "from setuptools import setup\n",
                          "docs/conf.py": "project = 'x'\n", "serving/app/main.py": _CODE})
    assert _absence_findings(catalog, tmp_path) == [("PFA-CI-001", "serving/app/main.py", 1),
                                                    ("PFA-CI-003", "serving/app/main.py", 1)]
