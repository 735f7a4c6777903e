"""Positions and texts from CPython's `ast` are the ones libcst gave (findings and their fingerprints carry them).

`python_positions_libcst.json` was written by the libcst implementation (pfa-policy 15ff1fa) for the snippets
below: every node the index reports, with its span, its `code_of` text and its scope. They hold what the two
trees disagree on: parentheses (libcst's positions leave an expression's own out, its code keeps them), an
argument's comma and the comments after it, a decorator's `@` and the comment lines before it, an import's
`;`, lines continued in brackets (libcst drops the block's indentation from them, so the text is not found in
the source), handlers (their body is indented relative to them: a nested handler whose text so equals a
module-level one's was located there, and still is), UTF-8 columns, f-string text as written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pfa_policy.model import ParseError, Span
from pfa_policy.parsers.python import PythonFile, literal_value, parse_python

_EXPECTED = json.loads((Path(__file__).parent / "python_positions_libcst.json").read_text(encoding="utf-8"))

_SNIPPETS = {
    "decorators": (
        "import functools\n\n\n"
        "@functools.cache  # first\n"
        "# between the two\n"
        "@ (functools.wraps)(print)  # second\n"
        "def cached():\n    pass\n\n\n"
        "class Service:\n"
        "    @app.route(\n"
        "        \"/predict\",\n"
        "        methods=[\"POST\"],\n"
        "    )\n"
        "    # a comment line\n"
        "    @app.route(\"/p\")\n"
        "    def predict(self):\n        pass\n"
    ),
    "arguments": (
        "import requests\n\n\n"
        "def fetch(url):\n"
        "    requests.get(url,  # the url\n"
        "                 verify=(False),\n"
        "                 timeout=None  # forever\n"
        "                 )\n"
        "    requests.post(url, json={\"a\": 1}, verify=False,)\n"
        "    sum(x for x in range(3))\n"
        "    sorted((x for x in range(3)), key=len)\n"
        "    print((\"tool\", \"name\"), ((url)))\n"
        "requests.get(url, verify=False)\n"
        "requests.get(url, verify=False)\n"
    ),
    "imports": (
        "import os; import sys\n"
        "import os\n\n\n"
        "def load():\n"
        "    from yaml import (\n"
        "        load,\n"
        "        Loader,  # unsafe\n"
        "    )\n"
        "    import os\n"
        "    import mlflow ;  x = 1\n"
        "from . import sibling\n"
        "from json import *\n"
    ),
    "parentheses": (
        "URL = (\n    \"http://example.com/v1\"\n)\n"
        "TIMEOUT = ((30))\n\n\n"
        "def run():\n"
        "    target = (\n"
        "        \"http://example.com/v2\"\n"
        "        \"/predict\"\n"
        "    )\n"
        "    other = (  # why\n"
        "        settings.DRY_RUN)\n"
        "    if (settings.USE_MOCK\n"
        "            and ready):\n"
        "        return (target, other)\n"
        "    return other if (not target) else None\n"
    ),
    "handlers": (
        "try:\n    import orjson\nexcept ImportError:\n    orjson = None  # type: ignore\n\n"
        "try:\n    run()\nexcept Exception:  # noqa\n    pass  # ignore\n\n\n"
        "def work():\n"
        "    try:\n        run()\n"
        "    except:\n        pass\n"
        "        # nothing to do\n"
        "    try:\n        run()\n    except (ValueError, Exception): ...\n"
    ),
    "nested_handlers": (
        "try:\n    import orjson\nexcept ImportError:\n    pass\n\n\n"
        "def load():\n"
        "    try:\n        import orjson\n    except ImportError:\n        pass\n"
        "    try:\n        run()\n    except (SyntaxError, ValueError):\n        pass  # why\n"
        "    from os import (\n        path,\n    ) ; x = 1\n"
    ),
    "unicode": (
        "\"\"\"Modèle — prévision.\"\"\"\n"
        "label = \"é\" ; token = \"hf_é_secret\"\n"
        "headers = {\"Authorization\": \"Bearer é\", \"x\": f\"{label}é\"}\n"
        "données = requests.get(\"http://é.example.com\", verify=False)\n"
    ),
    "fstrings": (
        "host = \"db\"\n"
        "a = f\"http://{host}:5432/{{db}}\\n\"\n"
        "b = \"http://\" f\"{host}/v1\"\n"
        "c = f\"{host!r:>{width}}x\"\n"
        "d = f'''multi\n{host}\nline'''\n"
        "e = rb'\\x00' b\"raw\"\n"
    ),
    "names": (
        "import ssl\n"
        "ctx = ssl.create_default_context()\n"
        "ctx.verify_mode = ssl.CERT_NONE\n"
        "value = make().attribute.other\n"
        "flag = None if True else False\n"
        "x[ssl.CERT_NONE] = 1\n"
        "def f(a: int = ssl.CERT_NONE, *args, b=None, **kw) -> None: \"doc\"\n"
        "lambda q=ssl.CERT_REQUIRED: q\n"
    ),
    "structure": (
        "\"\"\"Module docstring.\"\"\"\n"
        "CONFIG = {\"outer\": {\"inner\": 1, \"password\": \"hunter2\"}, \"after\": dict(seed=1)}\n"
        "\"not a docstring\"; y = 2\n"
        "if __name__ == \"__main__\":\n"
        "    main(debug=True)\n"
        "elif __name__ != \"__main__\":\n"
        "    other()\n"
        "else:\n"
        "    print(\"x\")\n"
        "for item in items: \"suite string\"\n"
        "with open(path) as handle, requests.Session() as s:\n"
        "    s.get(\"http://a.b\")\n"
    ),
}


def _project(file: PythonFile) -> list[list[Any]]:
    def sp(s: Span) -> list[int]:
        return [s.line, s.column, s.end_line, s.end_column]

    def info(node: Any) -> list[Any]:
        return [sp(file.span_of(node)), file.code_of(node), file.scope_of(node)]


    index = file.index
    rows = []
    rows += [["import", module, *info(node), guard] for node, module, guard in index.imports]
    for site in index.calls:
        rows.append(["call", site.raw, *info(site.node), site.has_star, site.in_main_guard])
        rows += [["keyword", keyword, *info(arg), repr(literal_value(arg.value))]
                 for keyword, arg in site.keywords.items()]
        rows += [["positional", site.raw, *info(arg), sp(file.span_of(arg.value)), file.code_of(arg.value)]
                 for arg in site.positional]
    rows += [["reference", raw, *info(node), guard] for node, raw, guard in index.references]
    rows += [["string", value, *info(node), guard] for node, value, guard in index.strings]
    rows += [["class", node.name, sp(file.name_span(node)), bases, guard] for node, bases, guard in index.classes]
    rows += [["function", node.name, sp(file.name_span(node)), names, guard] for node, names, guard in index.functions]
    rows += [["decorator", raw, *info(node), guard] for node, raw, guard in index.decorators]
    rows += [["assignment", a.target, *info(a.report), file.code_of(a.value), repr(literal_value(a.value)),
              a.in_main_guard] for a in index.assignments]
    rows += [["handler", sp(file.span_of(h)), file.body_code(h), guard] for h, guard in index.handlers]
    rows += [["branch", *info(test)] for test in index.branch_tests]
    return rows



@pytest.mark.parametrize("name", sorted(_SNIPPETS))
def test_spans_texts_and_scopes_are_libcsts(name: str) -> None:
    source = _SNIPPETS[name]
    rows = _project(PythonFile(parse_python(source), source))
    assert rows == _EXPECTED[name]


def test_the_expectations_cover_every_list_of_the_index() -> None:
    kinds = {row[0] for rows in _EXPECTED.values() for row in rows}
    assert kinds == {"import", "call", "keyword", "positional", "reference", "string", "class", "function",
                     "decorator", "assignment", "handler", "branch"}


@pytest.mark.parametrize(
    ("source", "reason", "line", "column"),
    [
        ("def train(epochs:\n    return epochs\n", "'(' was never closed", 1, 10),
        ("def f(:\n    pass\n", "invalid syntax", 1, 7),
        ('import os\nprint "starting"\n', "Missing parentheses in call to 'print'. Did you mean print(...)?", 2, 1),
        ('label = "é" +* 2\n', "invalid syntax", 1, 14),
        ("if ready:\ntrain()\n", "expected an indented block after 'if' statement on line 1", 2, 1),
    ],
)
def test_syntax_errors_point_at_the_mistake(source: str, reason: str, line: int, column: int) -> None:
    with pytest.raises(ParseError) as caught:
        parse_python(source)
    assert (caught.value.reason, caught.value.line, caught.value.column) == (f"Python syntax error: {reason}",
                                                                             line, column)
