"""The Python match vocabulary: qualified names through aliases, argument conditions, positions."""

from __future__ import annotations

from typing import Any

import pytest

from pfa_policy.engine.python_match import PythonPattern, match_python
from pfa_policy.parsers.python import PythonFile, parse_python


def _lines(spec: dict[str, Any], code: str) -> list[int]:
    file = PythonFile(parse_python(code))
    return [hit.span.line for hit in match_python((PythonPattern.compile(spec),), file, {}, {})]


@pytest.mark.parametrize("code", [
    "import requests\nrequests.get(u)\n",
    "import requests as rq\nrq.get(u)\n",
    "from requests import get\nget(u)\n",
    "from requests import get as fetch\nfetch(u)\n",
    "import requests\ns = requests.Session()\ns.get(u)\n",
    "import requests\nclass C:\n    def __init__(self):\n        self.http = requests.Session()\n"
    "    def f(self):\n        return self.http.get(u)\n",
])
def test_calls_resolve_through_aliases(code: str) -> None:
    spec = {"call": ["requests.get", "requests.Session().get"]}
    assert _lines(spec, code) == [code.count("\n")]


def test_unrelated_names_do_not_match() -> None:
    code = "import httpx\nget = dict.get\nget(u)\nsession.get(u)\ncache.get(u)\n"
    assert _lines({"call": ["requests.get"]}, code) == []


def test_keyword_conditions_report_the_keyword_line() -> None:
    code = "import requests\nrequests.post(\n    url,\n    verify=False,\n)\nrequests.post(url, verify=True)\n"
    assert _lines({"call": ["requests.post"], "keyword": {"verify": {"equals": False}}}, code) == [4]


def test_keyword_absent_and_star_kwargs() -> None:
    code = "import requests\nrequests.get(u)\nrequests.get(u, timeout=3)\nrequests.get(u, **opts)\n"
    assert _lines({"call": ["requests.get"], "keyword_absent": ["timeout"]}, code) == [2]


def test_keyword_not_stays_quiet_on_non_literals() -> None:
    code = ("import torch\ntorch.load(p)\ntorch.load(p, weights_only=False)\ntorch.load(p, weights_only=True)\n"
            "torch.load(p, weights_only=flag)\n")
    assert _lines({"call": ["torch.load"], "keyword_not": {"weights_only": {"equals": True}}}, code) == [2, 3]


def test_positional_condition() -> None:
    code = 'import yaml\nyaml.load(f, yaml.Loader)\nimport pandas as pd\npd.read_csv("data/train.csv")\n' \
           'pd.read_csv("s3://bucket/train.csv")\n'
    assert _lines({"call": ["pandas.read_csv"], "positional": {"0": {"not_matches": "^[a-z0-9]+://"}}}, code) == [4]


def test_imports_match_modules_and_submodules() -> None:
    code = "from unittest import mock\nimport unittest\nimport mock\nfrom moto import mock_aws\nimport motor\n"
    assert _lines({"import": ["unittest.mock", "mock", "moto"]}, code) == [1, 3, 4]


def test_strings_skip_docstrings_and_see_fstrings() -> None:
    code = '"""Talks to http://localhost:8080."""\nURL = "http://localhost:8080/v1"\nu = f"http://localhost:{port}/x"\n'
    assert _lines({"string": {"matches": "^https?://localhost"}}, code) == [2, 3]


def test_classes_functions_decorators_and_assignments() -> None:
    code = ("from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/predict')\ndef predict():\n    pass\n\n"
            "class FakeFeatureStoreClient:\n    pass\n\nPASSWORD = 'hunter2'\nconnect(password='s3cret')\n"
            "config = {'api_token': 'abc'}\n")
    assert _lines({"decorator": ["fastapi.FastAPI().get"]}, code) == [4]
    assert _lines({"function": {"decorators": ["fastapi.FastAPI().*"]}}, code) == [5]
    assert _lines({"class": {"name": "^Fake"}}, code) == [8]
    assert _lines({"assign": {"target": "(?i)password|token", "value": {"matches": ".+"}}}, code) == [11, 12, 13]


def test_main_guard_and_file_imports() -> None:
    code = "import flask\napp = flask.Flask(__name__)\nprint('x')\nif __name__ == '__main__':\n    print('y')\n"
    assert _lines({"call": ["print"], "outside_main_guard": True}, code) == [3]
    assert _lines({"call": ["print"], "file_imports": ["fastapi"]}, code) == []
    assert _lines({"call": ["print"], "file_imports": ["flask"]}, code) == [3, 5]


def test_prefilter_tokens() -> None:
    def tokens(spec: dict[str, Any]) -> object:
        return PythonPattern.compile(spec).prefilter_tokens()

    assert tokens({"call": ["requests.get", "httpx.*"]}) == {("requests", "get"), ("httpx",)}
    assert tokens({"call": ["*.get"]}) == {("get",)}
    assert tokens({"call": ["*"]}) is None
    assert tokens({"string": {"matches": "x"}}) is None
    assert tokens({"call": ["numpy.load"], "keyword": {"allow_pickle": {"equals": True}}}) == {
        ("numpy", "load", "allow_pickle")}
    assert tokens({"call": ["requests.Session().get"]}) == {("requests", "session", "get")}
    assert tokens({"class": {"bases": ["kserve.Model"]}}) == {("kserve", "model")}
    assert tokens({"call": ["print"], "file_imports": ["fastapi", "flask"]}) == {("print", "fastapi"),
                                                                              ("print", "flask")}
    assert tokens({"string": {"matches": "x"}, "file_imports": ["flask"]}) == {("flask",)}


@pytest.mark.parametrize("code", [
    "import requests as rq\nrq.get(u)\n",
    "from requests import get as fetch\nfetch(u)\n",
    "import requests\ns = requests.Session()\ns.get(u)\n",
    "import numpy as np\nnp.load(p, allow_pickle=True)\n",
])
def test_prefilter_admits_every_form_the_matcher_resolves(code: str) -> None:
    from pfa_policy.engine.compiled import FileMatcher, TokenScanner

    matcher = FileMatcher.compile({"python": [{"call": ["requests.get", "requests.Session().get"]},
                                              {"call": ["numpy.load"], "keyword": {"allow_pickle": {"equals": True}}}]},
                                  None)
    assert _lines({"call": ["requests.get", "requests.Session().get", "numpy.load"]}, code)
    assert matcher.admits(TokenScanner.for_matchers([matcher]).present(code.lower()))


def test_with_statement_binds_its_target() -> None:
    code = "import aiohttp\nasync def f():\n    async with aiohttp.ClientSession() as s:\n        await s.get(u)\n"
    assert _lines({"call": ["aiohttp.ClientSession().get"]}, code) == [4]


def test_assignment_target_is_not_a_reference_to_its_value() -> None:
    code = "import ssl\nctx = ssl.create_default_context()\nctx.verify_mode = ssl.CERT_NONE\nx[ssl.CERT_NONE] = 1\n"
    assert _lines({"reference": ["ssl.CERT_NONE"]}, code) == [3, 4]


def test_positional_condition_reports_the_argument_unless_a_keyword_is_missing() -> None:
    code = 'import requests\nrequests.get(\n    "http://api.acme.io/v1",\n)\n'
    assert _lines({"call": ["requests.get"], "positional": {"0": {"matches": "^http://"}}}, code) == [3]
    assert _lines({"call": ["requests.get"], "positional": {"0": {"matches": "^http://"}},
                   "keyword_absent": ["timeout"]}, code) == [2]


def test_references_are_not_parameters_labels_or_variables_holding_the_value() -> None:
    code = ("import ssl\nimport urllib3\n\n\ndef pool(cert_reqs=None):\n    if not cert_reqs:\n"
            "        cert_reqs = ssl.CERT_NONE\n    return urllib3.PoolManager(cert_reqs=cert_reqs)\n")
    assert _lines({"reference": ["ssl.CERT_NONE"]}, code) == [7]
