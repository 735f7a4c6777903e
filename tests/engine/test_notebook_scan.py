"""Notebooks through the engine: IPython syntax does not stop the scan; findings and parse errors point into the
.ipynb file."""

from __future__ import annotations

import json
from pathlib import Path

from pfa_policy.engine.loader import Catalog
from pfa_policy.model import Notification, Span
from tests.conftest import scan_tree, write_tree

_KERNEL = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
           "language_info": {"name": "python", "version": "3.11.7"}}


def _notebook(*sources: list[str]) -> str:
    """The file as Jupyter writes it."""
    cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
             for source in sources]
    document = {"cells": cells, "metadata": _KERNEL, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def test_findings_after_magics_point_at_the_notebook_line_and_column(tmp_path: Path, catalog: Catalog) -> None:
    text = _notebook(
        ["%pip install huggingface_hub\n", "!pip install -q datasets"],
        ["%%bash\n", "huggingface-cli whoami\n"],
        ["from huggingface_hub import login\n", "cd data\n",
         "%time login(token=\"hf_kT3vQz8LmN2pR7sW4xY6bC9dF1gH5jK0\")"],
    )
    write_tree(tmp_path, {"notebooks/login.ipynb": text})
    result = scan_tree(tmp_path, catalog, rules=["PFA-EN-009"])
    assert result.notifications == ()
    assert text.split("\n")[30] == '    "%time login(token=\\"hf_kT3vQz8LmN2pR7sW4xY6bC9dF1gH5jK0\\")"'
    # From `token=` through the closing quote, each quote two characters in the file (`\"`).
    assert [(f.rule_id, f.span) for f in result.findings] == [("PFA-EN-009", Span(31, 18, 31, 63))]


def test_a_syntax_error_in_cell_3_points_at_its_line_in_the_file(tmp_path: Path, catalog: Catalog) -> None:
    text = _notebook(
        ["!pip install -q scikit-learn\n", "import os"],
        ["password = os.environ[\"DB_PASSWORD\"]\n"],
        ["%%time\n", "def train(epochs:\n", "    return epochs\n"],
    )
    write_tree(tmp_path, {"notebooks/train.ipynb": text})
    result = scan_tree(tmp_path, catalog, rules=["PFA-EN-009"])
    assert text.split("\n")[28] == '    "def train(epochs:\\n",'
    assert result.notifications == (
        Notification("error", "could not parse python: Python syntax error: '(' was never closed",
                     "notebooks/train.ipynb", 29, 15),
    )
