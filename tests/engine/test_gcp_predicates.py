"""The Google Cloud predicates: basic roles granted to service accounts in Terraform (PFA-AC-111) and the images
and default keys of the Vertex AI / KFP Python SDK (PFA-DG-004, PFA-EN-114)."""

from __future__ import annotations

import pytest

from pfa_policy.engine.predicates.gcp_terraform import ac_gcp_basic_role_for_service_account
from pfa_policy.engine.predicates.types import PythonPredicate
from pfa_policy.engine.predicates.vertex_sdk import _floats, dg_vertex_sdk_images, en_vertex_sdk_default_cmek
from pfa_policy.parsers.python import PythonFile, parse_python
from pfa_policy.parsers.terraform import parse_terraform
from pfa_policy.parsers.terraform_module import module_of, terraform_document


def _terraform_hits(text: str) -> list[tuple[int, dict[str, str]]]:
    root = parse_terraform(text, "iam.tf")
    document = terraform_document("iam.tf", root, module_of([("iam.tf", root)]))
    return [(hit.span.line, dict(hit.values)) for hit in ac_gcp_basic_role_for_service_account(document, {})]


def test_template_member_is_judged_by_its_literal_prefix() -> None:
    hits = _terraform_hits('''
resource "google_project_iam_member" "sa" {
  project = var.project_id
  role    = "roles/owner"
  member  = "serviceAccount:${google_service_account.ci.email}"
}

resource "google_project_iam_member" "group" {
  project = var.project_id
  role    = "roles/owner"
  member  = "group:${var.admins}"
}

resource "google_project_iam_member" "reference" {
  project = var.project_id
  role    = "roles/editor"
  member  = google_service_account.ci.member
}
''')
    assert hits == [(4, {"resource": "google_project_iam_member.sa", "value": "roles/owner"})]


def test_binding_reports_once_for_several_service_accounts_and_skips_count_zero() -> None:
    hits = _terraform_hits('''
resource "google_project_iam_binding" "editors" {
  project = var.project_id
  role    = "roles/editor"
  members = ["serviceAccount:a@p.iam.gserviceaccount.com", "serviceAccount:b@p.iam.gserviceaccount.com"]
}

resource "google_project_iam_binding" "disabled" {
  count   = 0
  project = var.project_id
  role    = "roles/editor"
  members = ["serviceAccount:c@p.iam.gserviceaccount.com"]
}
''')
    assert [line for line, _ in hits] == [4]


@pytest.mark.parametrize(("image", "reason"), [
    ("europe-docker.pkg.dev/vertex-ai/training/tf-cpu.2-6:latest", "latest"),
    ("gcr.io/acme/trainer", "untagged"),
    ("us-docker.pkg.dev/vertex-ai/prediction/{}:latest", "latest"),  # an f-string whose tag is literal
    ("gcr.io/acme/trainer:{}", ""),                                  # the tag is a field
    ("gcr.io/{}/trainer{}", ""),
    ("gcr.io/acme/trainer:1.4.2", ""),
    ("gcr.io/acme/trainer@sha256:" + "a" * 64, ""),
    ("gs://acme-models/churn/model", ""),
    ("train this model", ""),
])
def test_floats(image: str, reason: str) -> None:
    assert _floats(image) == reason


def _python_hits(code: str, predicate: PythonPredicate = dg_vertex_sdk_images) -> list[tuple[int, str]]:
    file = PythonFile(parse_python(code))
    return [(hit.span.line, dict(hit.values).get("name", "")) for hit in predicate(file, {})]


def test_sdk_images_need_an_sdk_import() -> None:
    code = 'job = make_job(container_uri="gcr.io/acme/trainer:latest")\n'
    assert _python_hits(code) == []
    assert _python_hits("from google.cloud import aiplatform\n" + code) == [(2, "gcr.io/acme/trainer:latest")]


def test_constant_used_twice_is_reported_once_at_its_definition() -> None:
    code = '''from kfp import dsl
IMAGE = "gcr.io/acme/trainer:latest"
a(train_container_uri=IMAGE)
b(serving_container_uri=IMAGE)
'''
    assert _python_hits(code) == [(2, "gcr.io/acme/trainer:latest")]


def test_base_image_may_be_bare_only_in_kfp_components() -> None:
    code = '''from kfp import dsl

@dsl.component(base_image="python")
def f() -> None: ...

other(base_image="python")
'''
    assert _python_hits(code) == [(3, "python")]


def test_init_with_a_key_sets_the_default_and_none_does_not() -> None:
    code = '''from google.cloud import aiplatform
import os
aiplatform.init(project="p", encryption_spec_key_name=os.environ["KEY"])
aiplatform.init(project="p", encryption_spec_key_name=None)
aiplatform.init(project="p")
'''
    assert [line for line, _ in _python_hits(code, en_vertex_sdk_default_cmek)] == [3]
