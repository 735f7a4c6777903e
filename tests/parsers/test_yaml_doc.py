from __future__ import annotations

import itertools

import pytest
import yaml

from pfa_policy.model import ParseError, Span
from pfa_policy.parsers import yaml_doc
from pfa_policy.parsers.tree import MAX_DEPTH, Node
from pfa_policy.parsers.yaml_doc import MAX_ALIAS_NODES, blank_documents, parse_yaml


def only_root(text: str) -> Node:
    documents = parse_yaml(text)
    assert len(documents) == 1
    return documents[0].root


def items(node: Node) -> list[Node]:
    assert isinstance(node.value, list)
    return node.value


def child(node: Node | None, *path: str) -> Node:
    for key in path:
        assert node is not None
        node = node.get(key)
    assert node is not None
    return node


WORKFLOW = """\
name: ci
on:
  push:
    branches: [main]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: |
          pip install .
          pytest

# trailing comment
"""


def test_on_key_stays_a_string() -> None:
    root = only_root(WORKFLOW)
    assert list(root.value) == ["name", "on", "jobs"]  # type: ignore[arg-type]
    assert child(root, "on", "push", "branches").to_python() == ["main"]


def test_nested_key_and_value_positions() -> None:
    root = only_root(WORKFLOW)
    on = child(root, "on")
    assert on.key_span == Span(2, 1, 2, 3)
    assert on.span == Span(3, 3, 4, 21)
    branches = child(on, "push", "branches")
    assert branches.key_span == Span(4, 5, 4, 13)
    assert branches.span == Span(4, 15, 4, 21)
    assert items(branches)[0].span == Span(4, 16, 4, 20)
    runs_on = child(root, "jobs", "build", "runs-on")
    assert runs_on.key_span == Span(7, 5, 7, 12)
    assert runs_on.span == Span(7, 14, 7, 27)


def test_block_collection_and_block_scalar_end_at_their_last_content_line() -> None:
    root = only_root(WORKFLOW)
    steps = child(root, "jobs", "build", "steps")
    # Not at the blank line or the comment that follow.
    assert steps.span == Span(9, 7, 12, 17)
    run = child(items(steps)[1], "run")
    assert run.value == "pip install .\npytest\n"
    assert run.span == Span(10, 14, 12, 17)
    assert root.span == Span(1, 1, 12, 17)


def test_scalar_resolution() -> None:
    root = only_root(
        "s: hello\nq: 'yes'\nb: yes\nf: false\ni: 0x1F\nn: ~\nx: 1.5e+3\ninf: .inf\n"
        "ts: 2001-12-14\nnum_str: '42'\nempty:\nexplicit: !!str 12\nbad_int: !!int abc\n"
    )
    assert root.to_python() == {
        "s": "hello",
        "q": "yes",
        "b": True,
        "f": False,
        "i": 31,
        "n": None,
        "x": 1500.0,
        "inf": float("inf"),
        "ts": "2001-12-14",
        "num_str": "42",
        "empty": None,
        "explicit": "12",
        "bad_int": "abc",
    }
    assert child(root, "ts").tag is None


def test_keys_are_raw_strings_even_when_they_look_like_other_types() -> None:
    root = only_root("on: 1\nyes: 2\n3: three\nnull: 4\n")
    assert list(root.value) == ["on", "yes", "3", "null"]  # type: ignore[arg-type]


def test_multi_document_line_numbers_and_empty_documents() -> None:
    text = "a: 1\n---\n# only a comment\n---\nkind: Service\nspec:\n  port: 80\n---\n--- plain scalar\n"
    documents = parse_yaml(text)
    assert [d.index for d in documents] == [0, 2, 4]
    assert documents[0].root.to_python() == {"a": 1}
    service = documents[1].root
    assert child(service, "kind").key_span == Span(5, 1, 5, 5)
    assert child(service, "spec", "port").span == Span(7, 9, 7, 11)
    assert documents[2].root.value == "plain scalar"
    assert documents[2].root.span == Span(9, 5, 9, 17)


def test_empty_text_has_no_documents() -> None:
    assert parse_yaml("") == []
    assert parse_yaml("# nothing\n") == []


def test_merge_keys_are_applied() -> None:
    root = only_root(
        "base: &base\n  image: nginx\n  replicas: 1\nextra: &extra\n  replicas: 5\n  port: 80\n"
        "svc:\n  <<: [*base, *extra]\n  replicas: 3\n"
    )
    svc = child(root, "svc")
    assert svc.to_python() == {"image": "nginx", "replicas": 3, "port": 80}
    # A merged value keeps the position of the key it was defined under.
    assert child(svc, "image").key_span == Span(2, 3, 2, 8)
    assert child(svc, "replicas").key_span == Span(9, 3, 9, 11)


def test_merge_key_earlier_source_wins() -> None:
    root = only_root("a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n")
    assert child(root, "c").to_python() == {"x": 1, "y": 2}


def test_duplicate_keys_last_wins() -> None:
    root = only_root("a: 1\nb: 2\na: 3\n")
    assert root.to_python() == {"a": 3, "b": 2}
    assert child(root, "a").key_span == Span(3, 1, 3, 2)


def test_plain_aliases_are_copied() -> None:
    root = only_root("x: &v [1, 2]\ny: *v\n")
    x, y = child(root, "x"), child(root, "y")
    assert y.to_python() == [1, 2]
    assert x is not y
    assert y.key_span == Span(2, 1, 2, 2)


CFN = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub '${AWS::StackName}-data'
      Arn: !GetAtt Role.Arn
      Nested: !GetAtt Db.Endpoint.Address
      Listed: !GetAtt [Role, Arn]
      Choice: !If [IsProd, !Ref ProdName, !Ref DevName]
      Zones: !Select [0, !GetAZs '']
      Joined: !Join
        - ','
        - [a, b]
    Condition: !Condition IsProd
"""


def test_cloudformation_short_forms() -> None:
    properties = child(only_root(CFN), "Resources", "Bucket", "Properties")
    assert properties.to_python() == {
        "BucketName": {"Fn::Sub": "${AWS::StackName}-data"},
        "Arn": {"Fn::GetAtt": ["Role", "Arn"]},
        "Nested": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
        "Listed": {"Fn::GetAtt": ["Role", "Arn"]},
        "Choice": {"Fn::If": ["IsProd", {"Ref": "ProdName"}, {"Ref": "DevName"}]},
        "Zones": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
        "Joined": {"Fn::Join": [",", ["a", "b"]]},
    }
    condition = child(only_root(CFN), "Resources", "Bucket", "Condition")
    assert condition.to_python() == {"Condition": "IsProd"}
    assert condition.tag == "!Condition"


def test_cloudformation_tag_and_positions() -> None:
    properties = child(only_root(CFN), "Resources", "Bucket", "Properties")
    arn = child(properties, "Arn")
    assert arn.tag == "!GetAtt"
    assert arn.key_span == Span(7, 7, 7, 10)
    assert arn.span == Span(7, 12, 7, 28)
    inner = child(arn, "Fn::GetAtt")
    assert inner.key_span == Span(7, 12, 7, 19)  # the tag itself
    role, attribute = items(inner)
    assert role.span == Span(7, 20, 7, 24)
    assert attribute.span == Span(7, 25, 7, 28)

    choice = child(properties, "Choice")
    assert choice.tag == "!If"
    branches = items(child(choice, "Fn::If"))
    assert branches[1].tag == "!Ref"
    assert branches[1].span == Span(10, 28, 10, 41)
    assert child(branches[1], "Ref").value == "ProdName"


def test_unknown_tags_never_construct_objects() -> None:
    root = only_root(
        "a: !!python/object/apply:os.system ['echo pwned']\n"
        "b: !!python/name:os.system ''\n"
        "c: !vault |\n  $ANSIBLE_VAULT;1.1\n"
        "d: !<tag:example.com,2024:thing> {k: 1}\n"
    )
    a = child(root, "a")
    assert a.to_python() == ["echo pwned"]
    assert a.tag == "!!python/object/apply:os.system"
    assert child(root, "b").value == ""
    assert child(root, "b").tag == "!!python/name:os.system"
    assert child(root, "c").to_python() == {"Fn::vault": "$ANSIBLE_VAULT;1.1\n"}
    d = child(root, "d")
    assert d.to_python() == {"k": 1}
    assert d.tag == "tag:example.com,2024:thing"


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in itertools.pairwise("abcdefghijklmnopqrstuvwxyz"[:levels]):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_fails_fast() -> None:
    # Fast because it stops counting at the limit: 9**6 > MAX_ALIAS_NODES, so the level that first overflows is
    # the one on line 6 ("f: [*e, ...]"), long before the 9**10 nodes of the whole expansion.
    with pytest.raises(ParseError) as caught:
        parse_yaml(billion_laughs())
    assert caught.value.reason == f"YAML alias expansion exceeds {MAX_ALIAS_NODES} nodes"
    assert caught.value.line == 6


def test_small_alias_fan_out_is_fine() -> None:
    root = only_root(billion_laughs(4))
    assert len(child(root, "d").to_python()) == 9  # type: ignore[arg-type]


def test_recursive_alias_is_rejected() -> None:
    with pytest.raises(ParseError) as caught:
        parse_yaml("x: 1\nloop: &a\n  self: *a\n")
    assert caught.value.reason == "recursive YAML alias"
    assert caught.value.line == 3

    with pytest.raises(ParseError) as caught:
        parse_yaml("a: &a [1, *a]\n")
    assert caught.value.reason == "recursive YAML alias"
    assert caught.value.line == 1


def test_depth_limit() -> None:
    deep = "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    with pytest.raises(ParseError, match="nesting exceeds"):
        parse_yaml(deep)


@pytest.mark.parametrize("loader", [yaml.SafeLoader, yaml.CSafeLoader] if yaml.__with_libyaml__ else [yaml.SafeLoader])
def test_nesting_beyond_the_loaders_own_limits_is_a_parse_error(monkeypatch: pytest.MonkeyPatch,
                                                                 loader: type[yaml.SafeLoader]) -> None:
    # libyaml 0.2.5 stops at 1000 flow levels; the pure-Python composer recurses once per level.
    monkeypatch.setattr(yaml_doc, "_LOADER", loader)
    with pytest.raises(ParseError, match="nesting"):
        parse_yaml("a: " + "[" * 3000 + "]" * 3000 + "\n")


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        # libyaml and pure-Python PyYAML word this one differently.
        ("a: 1\n\tb: 2\n", 2, 1, "tab|'\\t'"),
        ("a: &x 1\nb: &x 2\n", 2, 4, "duplicate anchor"),
        ("a: [1, 2\nb: 3\n", 2, 2, "expected ',' or ']'"),
        ("a: *missing\n", 1, 4, "undefined alias"),
        ("a: b: c\n", 1, 5, "mapping values are not allowed"),
        ("key: 'unterminated\n", 2, 1, "quoted scalar"),
        ("a: \x00\n", 1, 4, "#x0000"),
    ],
)
def test_errors_carry_position(text: str, line: int, column: int, fragment: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_yaml(text)
    assert any(alternative in caught.value.reason for alternative in fragment.split("|"))
    assert (caught.value.line, caught.value.column) == (line, column)


_STREAM = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: models.serving.example.com
spec:
  versions: [{name: v1, schema: {openAPIV3Schema: {type: object
---
apiVersion: v1
kind: Service
metadata:
  name: model
---   # the second definition
apiVersion: "apiextensions.k8s.io/v1"
kind: CustomResourceDefinition\r
spec: {}
--- {kind: CustomResourceDefinition, apiVersion: apiextensions.k8s.io/v1}
---
apiVersion: apps/v1
kind: Deployment
"""


def test_skipped_documents_are_not_parsed_and_the_others_keep_lines_and_positions() -> None:
    from pfa_policy.engine.classify import is_resource_definition

    kept = parse_yaml(blank_documents(_STREAM, is_resource_definition))
    # The first definition is not even valid YAML: skipped documents are never parsed. A document that starts
    # on its marker's line is parsed as usual.
    assert [(d.index, d.root.get("kind").value, d.root.get("kind").span.line) for d in kept] == [  # type: ignore[union-attr]
        (1, "Service", 9), (3, "CustomResourceDefinition", 16), (4, "Deployment", 19)]
    whole = parse_yaml(_STREAM.replace("object\n", "object}}}]\n"))
    assert [(d.index, d.root.get("kind").span.line) for d in whole] == [  # type: ignore[union-attr]
        (0, 2), (1, 9), (2, 14), (3, 16), (4, 19)]
