"""IPython syntax in a cell becomes plain Python line for line, and only where IPython would read it."""

from __future__ import annotations

import ast

import pytest

from pfa_policy.parsers.ipython import to_python


@pytest.mark.parametrize(
    ("line", "python"),
    [
        # Line magics.
        ("%pip install torch==2.3.1", "pass  # magic"),
        ("%matplotlib inline", "pass  # magic"),
        ("%env HF_HOME=/data/hf", "pass  # magic"),
        ("%load_ext autoreload", "pass  # magic"),
        ("rows = %sql SELECT * FROM churn", "rows = None  # magic"),
        # Magics whose argument is Python keep it at its column.
        ("%time model.fit(X, y)", "if 1: model.fit(X, y)"),
        ("%timeit -n 10 -r 3 predict(X)", "if 1:              predict(X)"),
        ("%timeit -qn10 predict(X)", "if 1:         predict(X)"),
        ("%prun -s cumulative train()", "if 1:               train()"),
        ("%time -x + 1", "if 1: -x + 1"),  # `%time` has no options
        ("%time", "pass  # magic"),
        ("%time for row in rows: pass", "pass  # magic"),  # a compound statement cannot follow `if 1:`
        # Shell escapes.
        ("!pip install -q transformers", "pass  # magic"),
        ("!!ls", "pass  # magic"),
        ("files = !ls data/", "files = None  # magic"),
        ("train, test = !ls splits", "train, test = None  # magic"),
        # Automagic: a magic's name without the %, where the line cannot be Python.
        ("pip install xgboost", "pass  # magic"),
        ("conda install -y numpy", "pass  # magic"),
        ("cd data", "pass  # magic"),
        ("cd ..", "pass  # magic"),
        ("autoreload 2", "pass  # magic"),
        ("time model.fit(X)", "if 1:model.fit(X)"),
        # ... and where it is Python, it stays Python.
        ("ls", "ls"),
        ("ls -la", "ls -la"),
        ("cd /tmp", "cd /tmp"),
        ("time = 3", "time = 3"),
        ("env = {", "env = {"),
        ("print(df)", "print(df)"),
        # Help.
        ("df.groupby?", "pass  # magic"),
        ("pd.read_csv??", "pass  # magic"),
        ("??pd", "pass  # magic"),
        ("?os.path", "pass  # magic"),
        ("np.*load*?", "pass  # magic"),
        # Autocall escapes.
        ("/print x", "pass  # magic"),
        (",my_function a b", "pass  # magic"),
    ],
)
def test_one_line(line: str, python: str) -> None:
    assert to_python([line]) == [python]


def test_indentation_is_kept() -> None:
    lines = ["for name in names:", "    !echo {name}", "    %time load(name)", "    print(name)"]
    assert to_python(lines) == ["for name in names:", "    pass  # magic", "    if 1: load(name)", "    print(name)"]


def test_only_the_start_of_a_logical_line_is_read_as_ipython() -> None:
    lines = [
        "ratio = (hits",
        "         % total)",
        "same = a \\",
        "    != b",
        'HELP = """',
        "!pip install pfa",
        "pip install pfa",
        '%s"""',
        "usage = '%s' % name  # it's formatted",
        "!ls",
        'marker = "# ("',
        "?marker",
    ]
    assert to_python(lines) == [*lines[:9], "pass  # magic", lines[10], "pass  # magic"]


def test_a_continued_magic_takes_its_continuation_lines() -> None:
    lines = ["!pip install \\", "    torch \\", "    torchvision", "import torch"]
    assert to_python(lines) == ["pass  # magic", "", "", "import torch"]


@pytest.mark.parametrize("first", ["%%bash", "%%writefile train.py", "%%sql", "%%html", "  %%bash"])
def test_other_language_cells_have_no_python(first: str) -> None:
    assert to_python(["", first, "import os", "pip install x"]) == ["", "", "", ""]


@pytest.mark.parametrize("first", ["%%time", "%%capture output --no-stderr", "%%timeit -n 3"])
def test_python_cell_magics_keep_their_body(first: str) -> None:
    lines = [first, "!nvidia-smi", "model.fit(X, y)"]
    python = to_python(lines)
    assert python == ["pass  # magic", "pass  # magic", "model.fit(X, y)"]
    ast.parse("\n".join(python))
