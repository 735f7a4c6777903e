"""Terraform: positions, module resolution (variables, tfvars, locals), companions, unknowns, parse errors, and
the repository facts Terraform contributes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfa_policy.engine.loader import Catalog, load_catalog
from pfa_policy.engine.runner import ScanOptions, ScanResult, scan
from pfa_policy.engine.values import UNKNOWN
from pfa_policy.model import ParseError
from pfa_policy.parsers.terraform import BLOCKS, expression_of, parse_terraform
from pfa_policy.parsers.terraform_module import module_of, terraform_document
from pfa_policy.policy import Layer, combine

_CATALOG: Catalog = load_catalog()

_MAIN = """\
variable "algorithm" {
  default = "aws:kms"
}

locals {
  prefix = "acme-${var.env}"
  key    = var.key_arn
}

resource "aws_s3_bucket" "models" {
  bucket = "${local.prefix}-models"

  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm     = var.algorithm
        kms_master_key_id = local.key
      }
    }
  }

  dynamic "logging" {
    for_each = var.log_targets
    content {
      target_bucket = logging.value
    }
  }
}
"""


def _document(text: str, *siblings: tuple[str, str]) -> object:
    root = parse_terraform(text, "main.tf")
    trees = [("main.tf", root)] + [(name, parse_terraform(code, name)) for name, code in siblings]
    return terraform_document("main.tf", root, module_of(trees))


def test_attributes_and_blocks_keep_their_lines() -> None:
    root = parse_terraform(_MAIN, "main.tf")
    bucket = root.get("resource").get("aws_s3_bucket").get("models")  # type: ignore[union-attr]
    assert bucket is not None and bucket.key_span is not None and bucket.key_span.line == 10
    sse = bucket.get("server_side_encryption_configuration")
    assert sse is not None and sse.tag == BLOCKS and sse.span.line == 13
    algorithm = sse.value[0].get("rule").value[0].get("apply_server_side_encryption_by_default").value[0].get(  # type: ignore[index,union-attr]
        "sse_algorithm")
    assert algorithm.key_span.line == 16 and expression_of(algorithm) == "var.algorithm"
    logging = bucket.get("logging")  # a dynamic block is its content, at the dynamic block's line
    assert logging is not None and logging.span.line == 22
    assert expression_of(logging.value[0].get("target_bucket")) == "logging.value"  # type: ignore[index,union-attr]


def test_variables_with_literal_defaults_and_literal_locals_resolve_and_unknowns_stay_unknown() -> None:
    document = _document(_MAIN, ("terraform.tfvars", 'env = "prod"\n'))
    bucket = document.root.get("resource").get("aws_s3_bucket").get("models")  # type: ignore[attr-defined]
    assert bucket.get("bucket").value == "acme-prod-models"
    default = bucket.get("server_side_encryption_configuration").value[0].get("rule").value[0].get(
        "apply_server_side_encryption_by_default").value[0]
    assert default.get("sse_algorithm").value == "aws:kms"
    assert default.get("sse_algorithm").key_span.line == 16  # reported where it is used
    assert default.get("kms_master_key_id").value is UNKNOWN  # var.key_arn has no default


def test_tfvars_value_wins_over_the_default() -> None:
    document = _document(_MAIN, ("terraform.tfvars", 'algorithm = "AES256"\n'))
    bucket = document.root.get("resource").get("aws_s3_bucket").get("models")  # type: ignore[attr-defined]
    default = bucket.get("server_side_encryption_configuration").value[0].get("rule").value[0].get(
        "apply_server_side_encryption_by_default").value[0]
    assert default.get("sse_algorithm").value == "AES256"


def test_syntax_error_has_a_position() -> None:
    with pytest.raises(ParseError) as raised:
        parse_terraform('resource "aws_s3_bucket" "x" {\n  bucket = \n}\n', "main.tf")
    assert raised.value.line == 2


def test_tf_json_has_the_same_shape() -> None:
    root = parse_terraform('{"resource": {"aws_kms_key": {"k": {"enable_key_rotation": "${var.rotate}"}}}}',
                           "main.tf.json")
    key = root.get("resource").get("aws_kms_key").get("k")  # type: ignore[union-attr]
    assert key is not None and expression_of(key.get("enable_key_rotation")) == "var.rotate"  # type: ignore[arg-type]


def _scan(tmp_path: Path, files: dict[str, str], *rules: str) -> ScanResult:
    for name, code in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code, encoding="utf-8")
    data = {"name": "t", "fail_on": "never", "rules": {"include": list(rules)}}
    return scan(_CATALOG, combine(_CATALOG, [Layer(data, "<test>", tmp_path)]), ScanOptions(tmp_path, jobs=1))


def test_an_unparsable_file_is_a_notification_and_the_scan_goes_on(tmp_path: Path) -> None:
    result = _scan(tmp_path, {"infra/broken.tf": 'resource "aws_kms_key" "k" {\n',
                              "infra/keys.tf": 'resource "aws_kms_key" "k2" {\n}\n'}, "PFA-EN-102")
    assert [(f.path, f.span.line) for f in result.findings] == [("infra/keys.tf", 1)]
    assert [(n.path, n.level) for n in result.notifications if "terraform" in n.message] == [
        ("infra/broken.tf", "error")]


def test_companions_in_another_file_of_the_module_count(tmp_path: Path) -> None:
    files = {"infra/main.tf": 'resource "aws_s3_bucket" "a" {\n  bucket = "a"\n}\n'
                              'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n',
             "infra/versioning.tf": 'resource "aws_s3_bucket_versioning" "a" {\n  bucket = aws_s3_bucket.a.id\n'
                                    '  versioning_configuration {\n    status = "Enabled"\n  }\n}\n',
             # Another directory is another module: its companion does not count.
             "other/versioning.tf": 'resource "aws_s3_bucket_versioning" "b" {\n  bucket = "b"\n'
                                    '  versioning_configuration {\n    status = "Enabled"\n  }\n}\n'}
    result = _scan(tmp_path, files, "PFA-DG-101")
    assert [(f.path, f.span.line) for f in result.findings] == [("infra/main.tf", 4)]


def test_terraform_contributes_deploy_and_serving_facts(tmp_path: Path) -> None:
    files = {"infra/serving.tf": 'resource "aws_sagemaker_endpoint" "churn" {\n  name = "churn"\n'
                                 '  endpoint_config_name = aws_sagemaker_endpoint_configuration.c.name\n}\n',
             "scripts/deploy.sh": "#!/bin/sh\nterraform -chdir=infra apply -auto-approve\n",
             ".github/workflows/ci.yml": "on: pull_request\njobs:\n  t:\n    runs-on: ubuntu-latest\n"
                                         "    steps:\n      - run: pytest\n",
             "app.py": "print(1)\n"}
    result = _scan(tmp_path, files, "PFA-CI-008", "PFA-TE-003")
    found = sorted((f.rule_id, f.path, f.span.line) for f in result.findings)
    # CI-008 points at the manual deploy; TE-003 at the endpoint served without drift monitoring.
    assert found == [("PFA-CI-008", "scripts/deploy.sh", 2), ("PFA-TE-003", "infra/serving.tf", 1)]


@pytest.mark.parametrize(("bucket", "companion", "versioned"), [
    ('bucket = "a"', "bucket = aws_s3_bucket.b.id", False),  # names another bucket
    ('bucket = "a"', 'bucket = "a"', True),  # the literal name
    ("bucket = var.name", "bucket = var.name", True),  # the same expression as the bucket's own name
    ('bucket = "a"', "bucket = var.other", False),  # a known name and a different, unknown one
    ("bucket = var.name", "bucket = var.other", True),  # both unknown: cannot be told apart, never reported
    ('bucket = "a"', "for_each = aws_s3_bucket.a\n  bucket = each.value.id", True),  # through its for_each
])
def test_a_companion_names_its_resource(tmp_path: Path, bucket: str, companion: str, versioned: bool) -> None:
    code = (f'resource "aws_s3_bucket" "a" {{\n  {bucket}\n}}\n'
            f'resource "aws_s3_bucket_versioning" "v" {{\n  {companion}\n'
            '  versioning_configuration {\n    status = "Enabled"\n  }\n}\n')
    result = _scan(tmp_path, {"infra/main.tf": code}, "PFA-DG-101")
    assert [f.span.line for f in result.findings if "aws_s3_bucket.a`" in f.message] == ([] if versioned else [1])


def test_attributes_and_elements_of_literal_variable_objects_resolve() -> None:
    text = ('variable "variant" {\n  default = { count = 1, kms = null, zones = ["a", "b"] }\n}\n'
            'resource "aws_x" "y" {\n  n = var.variant.count\n  k = var.variant.kms\n  z = var.variant.zones[1]\n'
            '  w = "${var.variant.zones[0]}-x"\n}\n')
    body = _document(text).root.get("resource").get("aws_x").get("y")  # type: ignore[attr-defined]
    assert body.get("n").value == 1 and body.get("n").key_span.line == 5
    assert body.get("k").value is UNKNOWN  # null: left to the caller
    assert body.get("z").value == "b" and body.get("w").value == "a-x"


def test_suppressions_in_terraform_comments(tmp_path: Path) -> None:
    code = ('# pfa-policy: ignore[PFA-EN-102] rotated by the central key service\nresource "aws_kms_key" "a" {\n}\n'
            '// pfa-policy: ignore[PFA-EN-102] retired in Q1\nresource "aws_kms_key" "b" {\n}\n'
            'resource "aws_kms_key" "c" {\n}\n')
    result = _scan(tmp_path, {"infra/kms.tf": code}, "PFA-EN-102")
    assert [(f.span.line, f.suppression is not None) for f in result.findings] == [(2, True), (5, True), (7, False)]


def test_nesting_too_deep_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="too deep"):
        parse_terraform("a = " + "[" * 400 + "]" * 400 + "\n", "main.tf")


def test_a_heredoc_policy_with_interpolations_is_read_as_a_document() -> None:
    text = '''resource "aws_iam_role" "ci" {
  assume_role_policy = <<-EOF
    {"Statement": [{"Effect": "Allow",
      "Principal": {"Federated": "arn:aws:iam::${var.account}:oidc-provider/token.actions.githubusercontent.com"},
      "Resource": "arn:aws:s3:::b/$${aws:username}",
      "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:${var.owner}/*"}}}]}
  EOF
}

variable "owner" {
  default = "acme"
}
'''
    document = _document(text)
    policy = document.root.get("resource").get("aws_iam_role").get("ci").get("assume_role_policy")  # type: ignore[attr-defined]
    statement = policy.get("Statement").value[0]
    assert statement.get("Effect").value == "Allow" and statement.span.line == 2
    federated = statement.get("Principal").get("Federated")
    assert federated.value is UNKNOWN and "oidc-provider/token.actions" in expression_of(federated)
    assert statement.get("Resource").value == "arn:aws:s3:::b/${aws:username}"  # `$${` is a literal `${`
    assert statement.get("Condition").get("StringLike").get("token.actions.githubusercontent.com:sub").value == \
        "repo:acme/*"  # templates resolve like any other
