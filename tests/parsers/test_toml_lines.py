"""Line numbers recovered from TOML text: tables, dotted and quoted keys, arrays, [[arrays of tables]]."""

from __future__ import annotations

import tomllib

from pfa_policy.parsers.toml_lines import plain, toml_lines, toml_tree

_TEXT = '''\
[project]
name = "x"  # [tool.pfa-policy] in a comment is no header
description = """a "quoted" [tool.pfa-policy]
still the string \\""" """
literal = \'\'\'x = 1
[not.a.table]\'\'\'

[ tool . "pfa-policy" ]
policy = 'strict'
exclude = [
  "a/**",  # one
  'b/**',
]
scopes.test = ["t/**"]

[tool.pfa-policy.severity]
"PFA-OP-003" = "error"
'PFA-AC-001' = "note"

[[tool.pfa-policy.exceptions]]
rules = ["PFA-OP-003"]
expires = 2027-03-31

[[tool.pfa-policy.exceptions]]
rules = ["PFA-AC-*"]
paths = {a = 1, b = [1,
  2]}
'''


def test_every_key_table_and_element_has_its_line() -> None:
    tomllib.loads(_TEXT)  # the fixture is valid TOML
    lines = toml_lines(_TEXT)
    tool = ("tool", "pfa-policy")
    assert lines[("project", "description")] == 3 and lines[("project", "literal")] == 5
    assert ("not",) not in lines and lines[tool] == 8
    assert lines[(*tool, "policy")] == 9
    assert [lines[(*tool, "exclude", i)] for i in (0, 1)] == [11, 12]
    assert lines[(*tool, "scopes", "test", 0)] == 14
    assert lines[(*tool, "severity", "PFA-OP-003")] == 17 and lines[(*tool, "severity", "PFA-AC-001")] == 18
    assert lines[(*tool, "exceptions", 0)] == 20 and lines[(*tool, "exceptions", 0, "expires")] == 22
    assert lines[(*tool, "exceptions", 1, "rules", 0)] == 25
    assert lines[(*tool, "exceptions", 1, "paths", "b", 1)] == 27


def test_tree_carries_lines_and_dates_become_text() -> None:
    data = plain(tomllib.loads(_TEXT)["tool"]["pfa-policy"])
    root = toml_tree(data, toml_lines(_TEXT), ("tool", "pfa-policy"))
    exception = root.get("exceptions").value[0]  # type: ignore[union-attr,index]
    assert exception.get("expires").value == "2027-03-31"  # type: ignore[union-attr]
    assert exception.get("expires").anchor_span.line == 22  # type: ignore[union-attr]
    assert root.get("severity").get("PFA-OP-003").anchor_span.line == 17  # type: ignore[union-attr]


def test_a_table_only_named_by_its_subtables_takes_the_first_header_line() -> None:
    text = '[project]\nname = "x"\n\n[tool.pfa-policy.severity]\n"PFA-OP-003" = "error"\n'
    assert toml_lines(text)[("tool", "pfa-policy")] == 4


def test_unusual_but_valid_text_never_raises() -> None:
    for text in ('a = """\n"""""\nb = 1\n', "a = [[1, 2], [3]]\n", 'a = { b.c = 1 }\n', "x = 1979-05-27 07:32:00Z\n",
                 "'quoted key' = 1\n", "a = [\n]\n"):
        tomllib.loads(text)
        assert toml_lines(text)


def test_every_key_of_many_generated_documents_is_found() -> None:
    """The fuzz test's pyproject.toml writer (tables, arrays of tables, inline tables, odd strings), with no
    syntax damage: every key and element tomllib reads has a line, and a key's line names the key."""
    import json
    import random

    from tests.cli.test_config_fuzz import _POLICY, _mutate, _paths, _toml_text

    rng = random.Random(7)
    checked = 0
    for _ in range(60):
        data = _mutate(_POLICY, rng)
        text = _toml_text(data, random.Random(rng.random() + 1)).decode()
        try:
            table = tomllib.loads(text)["tool"]["pfa-policy"]
        except (tomllib.TOMLDecodeError, KeyError):
            continue
        lines = toml_lines(text)
        source = text.splitlines()
        for path in _paths(table):
            full = ("tool", "pfa-policy", *path)
            assert full in lines, (full, text)
            if path and isinstance(path[-1], str) and not isinstance(table, list):
                assert json.dumps(path[-1]) in source[lines[full] - 1] or path[-1] in source[lines[full] - 1]
        checked += 1
    assert checked > 30
