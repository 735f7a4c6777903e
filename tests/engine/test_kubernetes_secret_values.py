"""PFA-EN-022's predicate: which Secret values are committed credentials."""

from __future__ import annotations

import base64

import pytest

from pfa_policy.engine.predicates.encryption import en_kubernetes_secret_values
from pfa_policy.parsers.yaml_doc import parse_yaml


def _reported(body: str) -> list[tuple[int, str]]:
    text = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n{body}"
    return [(hit.span.line, dict(hit.values)["name"]) for doc in parse_yaml(text)
            for hit in en_kubernetes_secret_values(doc, {})]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("body", [
    "stringData:\n  AWS_DEFAULT_REGION: us-east-1\n  AWS_ACCESS_KEY_ID: ''\n",
    "stringData:\n  token: ghp_xxx\n  key: sk-xxxxxxxx\n  other: <token>\n  pw: REPLACE_ME\n  x: xxx\n",
    "stringData:\n  password: ${DB_PASSWORD}\n  username: admin\n  DB_HOST: postgres.ml.svc\n",
    f"data:\n  password: {_b64('changeme')}\n  ca.crt: {_b64('-----BEGIN CERTIFICATE-----')}\n",
    "stringData:\n  MLFLOW_TRACKING_URI: http://mlflow:5000\n  bucketName: models\n",
    "type: kubernetes.io/service-account-token\ndata:\n  token: ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNkluZz0=\n",
])
def test_placeholders_and_settings_are_not_credentials(body: str) -> None:
    assert _reported(body) == []


def test_a_credential_beside_settings_is_reported_once_at_itself() -> None:
    body = ("stringData:\n  POSTGRES_DB: mlflow\n  POSTGRES_USER: ml\n  POSTGRES_PASSWORD: password\n"
            "  API_KEY: k3y-2024\n")
    assert _reported(body) == [(8, "POSTGRES_PASSWORD")]


def test_setting_keys_that_carry_a_credential_are_reported() -> None:
    assert _reported("stringData:\n  DATABASE_URL: postgresql://ml:S3cret@db:5432/ml\n") == [(6, "DATABASE_URL")]
    key = _b64("-----BEGIN PRIVATE KEY-----\nMIIE")
    assert _reported(f"data:\n  tls.crt: {key}\n") == [(6, "tls.crt")]
    assert _reported(f"data:\n  secretkey: {_b64('minio-s3cr3t')}\n") == [(6, "secretkey")]
    # Dex's static password hash: `$2y$` is bcrypt, not a `$VAR` placeholder.
    assert _reported("stringData:\n  DEX_USER_PASSWORD: $2y$12$4K/VkmDd1q1Orb3xAt82zu8gk7Ad6ReFR4LCP9UeY\n") \
        == [(6, "DEX_USER_PASSWORD")]
