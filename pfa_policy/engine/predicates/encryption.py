"""Escape-hatch predicates of the encryption pillar.

Hard-coded secrets are recognised the same way in Python, structured documents and Dockerfiles: a name that
says "this is a credential" (`SECRET_NAME`) bound to a literal that is not a placeholder (`is_placeholder`).
One definition keeps the three artefact kinds consistent; the document walk needs key names, which the
declarative vocabulary cannot test. Plain-text endpoints in configuration likewise need the key name (a URL
under `homepage:` is documentation, under `tracking_uri:` it is a connection).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pfa_policy.engine.placeholders import says_placeholder
from pfa_policy.engine.predicates.types import (
    DockerfilePredicate,
    DocumentPredicate,
    PythonPredicate,
    RepositoryPredicate,
)
from pfa_policy.engine.values import UNKNOWN, as_text
from pfa_policy.model import Hit
from pfa_policy.parsers.dockerfile import Instruction, env_pairs
from pfa_policy.parsers.python import PythonFile, literal_value
from pfa_policy.parsers.tree import Document, Node

# --- What counts as a secret ----------------------------------------------------------------------------

# A credential name: the secret word ends the name, at a `_ . -` or camelCase boundary. Tokenizer settings
# (`pad_token`, `eos_token`), references (`secretName`, `existingSecret`, `*_PATH`, `*_FILE`) and identifiers
# (`access_key_id`) do not end with one of these words, so they never match. PFA-EN-021 repeats this regex.
SECRET_NAME = re.compile(
    r"(?:^|[_.\-]|(?<=[a-z0-9])(?=[A-Z]))(?i:"
    r"password|passwd|passphrase|pass[_\-]phrase"
    r"|(?:secret|private|signing|encryption|master|account|storage|license|api|app|client|consumer|webhook|ssh"
    r"|deploy)[_\-]?key"
    r"|secret[_\-]?access[_\-]?key|apikey"
    r"|(?:client|app|consumer|webhook|jwt|shared|hmac|signing|cookie|session|oauth|api|aws|flask|django)[_\-]?secret"
    r"|(?:access|auth|api|bearer|refresh|session|oauth|id|jwt|service|bot|personal|private|secret|registry|deploy"
    r"|webhook|sas|hf|huggingface|hub|github|gh|gitlab|slack|discord|mlflow|tracking|wandb|comet|neptune"
    r"|databricks|openai|pypi|npm|docker|vault|kaggle|git|ci|client|cloudflare|sentry|datadog|pip|index|artifactory"
    r"|nexus|jfrog|upload|download|read|write)[_\-]?token"
    r"|(?:gh|github)[_\-]?pat"
    r")$|^(?i:secret|token|apikey)$"
)
_AUTH_HEADER = re.compile(r"(?i)^(?:proxy-)?authorization$")
_AUTH_VALUE = re.compile(r"(?i)^(?:bearer|token|basic)\s+(\S{12,})$")

_INTERPOLATED = ("${", "$(", "{{", "{}", "%s", "%(", "#{")
_REFERENCE_PREFIXES = ("/", "./", "../", "~/", "http://", "https://", "file:", "s3://", "gs://", "arn:", "projects/",
                       "vault:", "secretsmanager:", "ssm:", "op://", "ref+", "sm://", "awssm:", "gcpsm:", "env:")
_PLACEHOLDER_EXACT = frozenset({"test", "testing", "password", "passwd", "secret", "token", "apikey", "api_key",
                                "api-key", "none", "null", "nil", "undefined", "true", "false", "empty", "default",
                                "string", "str", "n/a", "na", "tbd", "unset", "required", "optional", "pass",
                                "read", "write", "read-all", "write-all",  # GitHub `permissions: {id-token: write}`
                                # Values OpenAI-compatible clients need when the server ignores the key: Ollama,
                                # LM Studio and vLLM document these, and "unused" says so outright.
                                "unused", "not-used", "not_used", "notused", "not-needed", "not_needed", "ignored",
                                "no-key", "no_key", "nokey", "ollama", "lm-studio", "lm_studio", "vllm"})
# `"ApiToken": "._internal.cloud.api_token:ApiToken"`: a lazy-import table or entry point names an object.
_IMPORT_PATH = re.compile(r"\.*[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_IDENTIFIER_LIKE = re.compile(r"[a-z][a-z0-9]*(?:[_\-.][a-z0-9]+)*")
_NAME_WORDS = re.compile(r"password|passwd|secret|token|key|credential|auth")
_FILE_SUFFIX = re.compile(r"\.(?:txt|json|pem|key|crt|cer|yaml|yml|env|cfg|ini|p12|pfx|jks|toml|gpg|asc)$")
_FILLER = re.compile(r"[x*.\-_#•]+")


def is_placeholder(value: str) -> bool:
    """True for values that are clearly not a real credential: empty or short, interpolated (`${X}`, `{{ x }}`,
    f-string holes), an environment-variable or secret name (`DB_PASSWORD`, `mlflow-db-secret`), a path, URL,
    import path (`pkg.module:ApiToken`) or secret-manager reference, a sentence, a conventional placeholder
    (`changeme`, `<your-token>`, `xxx`) or the dummy key a local OpenAI-compatible server takes (`unused`, `ollama`)."""
    text = value.strip()
    lowered = text.lower()
    if len(text) < 4 or any(c.isspace() for c in text):
        return True
    if any(marker in text for marker in _INTERPOLATED) or text.startswith("$"):
        return True
    if (text[0], text[-1]) in (("[", "]"), ("(", ")"), ("{", "}")):
        return True
    if lowered.startswith(_REFERENCE_PREFIXES) or _FILE_SUFFIX.search(lowered):
        return True
    if lowered in _PLACEHOLDER_EXACT or _FILLER.fullmatch(lowered):
        return True
    if says_placeholder(lowered):
        return True
    if _ENV_NAME.fullmatch(text) or _IMPORT_PATH.fullmatch(text):
        return True
    return bool(_IDENTIFIER_LIKE.fullmatch(text) and _NAME_WORDS.search(lowered))


# `secret: seldon-controlplane-client` (Helm values, operator settings): a bare `secret` key whose value is a
# Kubernetes object name (lower-case words joined by hyphens) names the Secret that holds the credential.
_SECRET_OBJECT_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")


def secret_literal(name: str, value: object) -> bool:
    """A credential-named binding to a literal string that is not a placeholder."""
    if not isinstance(value, str) or not SECRET_NAME.search(name):
        return False
    if name.lower() == "secret" and _SECRET_OBJECT_NAME.fullmatch(value.strip()):
        return False
    return not is_placeholder(value)


def _auth_header_literal(name: str, value: object) -> bool:
    if not isinstance(value, str) or not _AUTH_HEADER.match(name):
        return False
    found = _AUTH_VALUE.match(value.strip())
    return found is not None and not is_placeholder(found.group(1))


# --- Python ----------------------------------------------------------------------------------------------


# AWS's documented example access key id. PFA-EN-012 (any file) skips it as a placeholder; bound in code to an
# access-key name it still shows code written for static IAM-user keys, so it is reported here (real key ids in
# code are PFA-EN-012's, which keeps one finding per line).
_AWS_EXAMPLE_KEY_ID = re.compile(r"(?:AKIA|ASIA)[A-Z0-9]{9}EXAMPLE")
_ACCESS_KEY_NAME = re.compile(r"(?i)access[_\-]?key(?:[_\-]?id)?$")


def en_python_secret_literal(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """`PASSWORD = "..."`, `login(token="hf_...")`, `{"api_key": "..."}`, `os.environ["X_TOKEN"] = "..."`,
    `headers = {"Authorization": "Bearer ..."}` with a literal that is not a placeholder, and
    `AWS_ACCESS_KEY_ID = "AKIA...EXAMPLE"`."""
    for assignment in file.index.assignments:
        if _binds_secret(assignment.target, literal_value(assignment.value)):
            yield Hit(file.span_of(assignment.report), (("name", assignment.target),),
                      f"secret:{assignment.target}")


def _binds_secret(target: str, value: object) -> bool:
    static_key = (isinstance(value, str) and _AWS_EXAMPLE_KEY_ID.fullmatch(value) is not None
                  and _ACCESS_KEY_NAME.search(target) is not None)
    return static_key or secret_literal(target, value) or _auth_header_literal(target, value)


_UNVERIFIED_SSL = frozenset({"ssl._create_unverified_context", "ssl._create_stdlib_context", "ssl.CERT_NONE",
                             "ssl.VerifyMode.CERT_NONE"})


# Server-side settings: which client certificates a TLS *server* asks for. `CERT_NONE` there means "no mutual
# TLS", the normal server default, not an unverified connection.
_SERVER_CERT_REQS = re.compile(r"(?i)^(?:ssl_cert_reqs|ssl-cert-reqs)$")
_TLS_SERVERS = re.compile(r"^(?:uvicorn|hypercorn|gunicorn|granian|daphne)\b")


def _server_cert_reqs_values(file: PythonFile) -> set[int]:
    """Values bound to `ssl_cert_reqs` in a module that configures a Python TLS server (uvicorn, hypercorn...)."""
    if not any(_TLS_SERVERS.match(module) for _, module, _ in file.index.imports) and "uvicorn" not in file.source:
        return set()
    return {id(a.value) for a in file.index.assignments if _SERVER_CERT_REQS.match(a.target)}


def en_python_unverified_ssl(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """Uses of `ssl.CERT_NONE` / `ssl._create_unverified_context`.

    A plain `reference:` pattern would also hit the target of `ctx.verify_mode = ssl.CERT_NONE`, because the
    engine qualifies an assignment target through its own binding; targets are skipped here. For the same
    reason a local variable bound to `ssl.CERT_NONE` somewhere in the module resolves to it everywhere (a
    function parameter of that name, a test before the binding): only names that reach `ssl` through an import
    are reported, which is where the value is written. A server's client-certificate policy
    (`uvicorn_options["ssl_cert_reqs"] = ssl.CERT_NONE`) is not verification of a peer and is skipped."""
    targets = {id(assignment.report) for assignment in file.index.assignments}
    server_values: set[int] | None = None
    for node, raw, _ in file.index.references:
        if id(node) in targets:
            continue
        name = file.index.qualify(raw)
        if name not in _UNVERIFIED_SSL:
            continue
        head = raw.split(".")[0]
        if head not in file.index.aliases and head != "ssl":
            continue
        if server_values is None:
            server_values = _server_cert_reqs_values(file)
        if id(node) in server_values:
            continue
        yield Hit(file.span_of(node), (("name", name),), f"reference:{name}")


_VERIFY_TARGET = re.compile(
    r"^(verify|verify_ssl|ssl_verify|verify_certs|verify_tls|tls_verify|check_hostname|ssl_check_hostname"
    r"|ssl_verification)$")


def en_python_verify_false(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """`verify=False`, `session.verify = False`, `ctx.check_hostname = False`, `{"verify_ssl": False}`.

    A keyword of the module's own functions or methods (`self._create_logs(..., verify=False)`) is that
    function's own parameter, which may mean anything (validate a reference, check a schema): skipped. Library
    calls and attribute or dict settings are reported."""
    own = {function.name for function, _, _ in file.index.functions}
    local_keywords: set[int] = set()
    for site in file.index.calls:
        head, _, rest = site.raw.partition(".")
        if head in ("self", "cls", "super()") or (not rest and head in own):
            local_keywords.update(id(arg) for arg in site.keywords.values())
    for assignment in file.index.assignments:
        if not _VERIFY_TARGET.match(assignment.target) or id(assignment.report) in local_keywords:
            continue
        value = literal_value(assignment.value)
        if value is False or (isinstance(value, str) and value.lower() == "false"):
            yield Hit(file.span_of(assignment.report), (("name", assignment.target), ("value", str(value))),
                      f"assign:{assignment.target}")


# --- Structured documents --------------------------------------------------------------------------------

_ENV_PAIR_KINDS = frozenset({"kubernetes", "kserve", "seldon", "helm-values"})  # PFA-EN-021's territory


# Maps and lists whose keys or `name=version` items are package names, not settings: package.json and
# package-lock.json (`"client-secret": "^1.0.0"`, `"requires": {...}`), pnpm-lock.yaml (`specifiers`) and
# conda environment files (`- client-secret=1.0.0`).
_PACKAGE_KEYS = frozenset({
    "dependencies", "devDependencies", "peerDependencies", "optionalDependencies", "bundleDependencies",
    "bundledDependencies", "resolutions", "overrides", "requires", "specifiers",
})


def _walk_settings(node: Node) -> Iterator[Node]:
    """`node.walk()` without the package-name maps of manifests and lock files."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current.value, dict):
            stack.extend(reversed([child for key, child in current.value.items()
                                   if not (key in _PACKAGE_KEYS and (child.is_mapping or child.is_sequence))]))
        elif isinstance(current.value, list):
            stack.extend(reversed(current.value))


def _pairs(node: Node, kind: str) -> Iterator[tuple[str, Node]]:
    """Every (name, value node) binding of a document: mapping entries, `{name, value}` environment items,
    `K=V` list items, and GitLab's `{value:, description:}` variables; package names of manifests and lock
    files are not bindings."""
    for current in _walk_settings(node):
        if isinstance(current.value, dict):
            name, value = current.get("name"), current.get("value")
            if name is not None and value is not None and isinstance(name.value, str) and value.is_scalar:
                if kind not in _ENV_PAIR_KINDS:
                    yield name.value, Node(value.value, value.span, value.key_span or name.key_span)
                continue
            for key, child in current.items():
                if child.is_scalar:
                    yield key, child
                elif child.is_mapping and child.get("value") is not None and child.get("name") is None:
                    inner = child.get("value")
                    if inner is not None and inner.is_scalar:
                        yield key, Node(inner.value, inner.span, child.key_span)
        elif isinstance(current.value, list):
            for item in current.value:
                if isinstance(item.value, str) and "=" in item.value and not item.value.startswith(("-", "$")):
                    key, _, text = item.value.partition("=")
                    if key and " " not in key.strip():
                        yield key.strip(), Node(text, item.span)


def _is_kubernetes_secret(document: Document) -> bool:
    kind = document.root.get("kind")
    return document.kind == "kubernetes" and kind is not None and kind.value == "Secret"


def en_document_secret_literal(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """A credential-named key or environment variable with a literal, non-placeholder value (Kubernetes
    `Secret` objects and Kubernetes / Helm `env` items are left to their own rules)."""
    if _is_kubernetes_secret(document):
        return
    for name, node in _pairs(document.root, document.kind):
        if secret_literal(name, node.value):
            yield Hit(node.anchor_span, (("name", name),), f"secret:{name}")
    if document.kind == "cloudformation":
        parameters = document.root.get("Parameters")
        for name, parameter in parameters.items() if parameters is not None else ():
            default = parameter.get("Default")
            if default is not None and secret_literal(name, default.value):
                yield Hit(default.anchor_span, (("name", name),), f"secret-parameter:{name}")


# --- Kubernetes Secret manifests -------------------------------------------------------------------------

# Keys of a Secret that hold settings, not credentials: the last word of the key (`AWS_DEFAULT_REGION`,
# `s3Endpoint`, `POSTGRES_DB`, `username`, `ca.crt`). KServe's S3 Secret carries the region beside its keys,
# a database Secret the user and database names beside the password.
_SETTING_WORD = frozenset({"region", "endpoint", "url", "uri", "host", "hostname", "server", "address", "port",
                           "bucket", "db", "database", "dbname", "schema", "user", "username", "login", "namespace",
                           "protocol", "scheme", "version", "https", "usehttps", "ssl", "verifyssl", "insecure",
                           "email", "name", "crt", "cert", "certificate", "ca"})
_KEY_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_URL_CREDENTIALS = re.compile(r"://[^/@\s:]*:[^/@\s]+@")
# Conventional placeholders of a Secret value: `${VAR}` / `{{ }}` holes, `<token>`, `changeme`, `REPLACE_ME`,
# `xxx`, and a token prefix followed by filler (`ghp_xxx`, `sk-xxxx`, `hf_****`). A literal such as
# `password` is not one here: a Secret's value is the credential itself, however weak.
_SHELL_VARIABLE = re.compile(r"\$[A-Za-z_]")
_SECRET_FILLER_TOKEN = re.compile(r"[a-z0-9]{1,10}[_\-][x*.#]{3,}")


def _secret_value_placeholder(text: str) -> bool:
    value = text.strip()
    lowered = value.lower()
    if any(marker in value for marker in _INTERPOLATED) or _SHELL_VARIABLE.match(value):
        return True  # not `$2y$12$...`: a bcrypt hash of the password is committed
    if _FILLER.fullmatch(lowered) or _SECRET_FILLER_TOKEN.fullmatch(lowered):
        return True
    return says_placeholder(lowered)


def _is_setting(key: str, value: str) -> bool:
    words = _KEY_WORDS.findall(key)
    if not words or words[-1].lower() not in _SETTING_WORD:
        return False
    return not _URL_CREDENTIALS.search(value) and "PRIVATE KEY" not in value


def _decoded(node: Node) -> str:
    """A `data` value as text: base64-decoded when it decodes to UTF-8, else as written."""
    text = as_text(node.value).strip()
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return text


def en_kubernetes_secret_values(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """A `kind: Secret` (not a service-account token) with at least one committed credential value: a
    non-empty `stringData` / `data` entry that is neither a placeholder nor a setting (region, endpoint,
    user or database name, CA certificate). One finding a Secret, at its first such entry."""
    root = document.root
    kind = root.get("kind")
    secret_type = root.get("type")
    if kind is None or kind.value != "Secret":
        return
    if secret_type is not None and secret_type.value == "kubernetes.io/service-account-token":
        return
    metadata = root.get("metadata")
    name = metadata.get("name") if metadata is not None else None
    resource = as_text(name.value) if name is not None else ""
    for section in ("stringData", "data"):
        entries = root.get(section)
        for key, node in entries.items() if entries is not None else ():
            if not node.is_scalar or node.value is None or node.value is UNKNOWN or isinstance(node.value, bool):
                continue  # UNKNOWN: a Helm template prints it from the chart's values (PFA-EN-010's)
            text = _decoded(node) if section == "data" else as_text(node.value)
            if not text.strip() or _secret_value_placeholder(text) or _is_setting(key, text):
                continue
            yield Hit(node.anchor_span, (("resource", resource), ("name", key)), f"Secret/{resource}")
            return


# --- Dockerfiles -----------------------------------------------------------------------------------------


def en_dockerfile_secret_literal(instructions: list[Instruction], params: Mapping[str, Any]) -> Iterator[Hit]:
    """`ENV HF_TOKEN=hf_...` / `ARG DB_PASSWORD=...`: the literal ends up in the image layers and history."""
    for instruction in instructions:
        if instruction.keyword not in ("ENV", "ARG"):
            continue
        for name, value in env_pairs(instruction):
            if secret_literal(name, value):
                yield Hit(instruction.span, (("name", name),), f"{instruction.keyword}:{name}")


# A reference to a variable in an ENV value: `$NAME`, `${NAME}`, `${NAME:-default}`.
_VARIABLE_REFERENCE = re.compile(r"\$(?:\{([A-Za-z_]\w*)(?::?[-+][^}]*)?\}|([A-Za-z_]\w*))")


def _baked_build_args(instructions: list[Instruction]) -> Iterator[tuple[Instruction, str, str]]:
    """(ENV instruction, ENV name, ARG name) for each ENV that copies a credential build argument into the image
    (`ARG AWS_SECRET_ACCESS_KEY` then `ENV AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY` in the same stage)."""
    declared: dict[int, set[str]] = {}
    for instruction in instructions:
        if instruction.keyword == "ARG":
            declared.setdefault(instruction.stage, set()).update(
                name for name, value in env_pairs(instruction) if value == "" and SECRET_NAME.search(name))
        elif instruction.keyword == "ENV" and declared.get(instruction.stage):
            for name, value in env_pairs(instruction):
                for found in _VARIABLE_REFERENCE.finditer(value):
                    argument = found.group(1) or found.group(2)
                    if argument in declared[instruction.stage]:
                        yield instruction, name, argument


def en_secret_build_arg(instructions: list[Instruction], params: Mapping[str, Any]) -> Iterator[Hit]:
    """`ARG HF_TOKEN` (no default, a credential name): its value is recorded in the image history and build
    metadata. An ARG that an ENV of its stage copies into the image is PFA-EN-025's (one finding a credential)."""
    baked = {(instruction.stage, argument) for instruction, _, argument in _baked_build_args(instructions)}
    for instruction in instructions:
        if instruction.keyword != "ARG":
            continue
        for name, value in env_pairs(instruction):
            if value == "" and SECRET_NAME.search(name) and (instruction.stage, name) not in baked:
                yield Hit(instruction.span, (("name", name), ("value", value)), f"ARG:{name}")


def en_build_arg_secret_in_env(instructions: list[Instruction], params: Mapping[str, Any]) -> Iterator[Hit]:
    """`ENV AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY` after `ARG AWS_SECRET_ACCESS_KEY`: the build-time
    credential becomes part of the image configuration."""
    for instruction, name, argument in _baked_build_args(instructions):
        yield Hit(instruction.span, (("name", name), ("arg", argument)), f"ENV:{name}:{argument}")


# --- Plain-text transport in configuration ---------------------------------------------------------------

# A host that resolves on the public Internet: a public IPv4 address or a name under a common public suffix.
# Loopback, link-local, RFC 1918 addresses, single-label names (compose / Kubernetes services), cluster DNS
# (`svc.namespace`, `*.svc.cluster.local`) and private or reserved zones (`.internal`, `.corp`, `.local`,
# `.test`) are deliberately not matched. PFA-EN-005/006/008 repeat this pattern.
PUBLIC_HOST = (
    r"(?:(?!(?:10|127|0)\.|169\.254\.|192\.168\.|172\.(?:1[6-9]|2\d|3[01])\.)\d{1,3}(?:\.\d{1,3}){3}"
    r"|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:com|net|org|info|biz|io|ai|co|cloud|tech|xyz|gov|edu|us|uk|de|fr|nl"
    r"|eu|ca|au|in|jp|cn|br|ru|es|it|ch|se|no|fi|dk|pl|be|at|ie|nz|sg|hk|kr|tw|il|za|mx|ar))(?![a-z0-9.-])"
)
PLAINTEXT_URL = re.compile(
    r"(?i)^(?:"
    r"(?:http|ws)://(?:[^@/\s]+@)?" + PUBLIC_HOST
    + r"|(?!.*[?&](?:tls|ssl)=true)(?:redis|mongodb|amqp|mqtt|nats)://(?:[^@/\s]+@)?" + PUBLIC_HOST
    + r"|(?:postgres(?:ql)?|mysql|mariadb)(?:\+\w+)?://(?:[^@/\s]+@)?" + PUBLIC_HOST
    + r".*[?&](?:sslmode=disable|ssl-mode=disabled|ssl=false)"
    r")"
)
_URL_KEY = re.compile(
    r"(?i)(?:url|uri|urls|uris|endpoint|endpoints|host|hosts|address|addr|server|servers|brokers"
    r"|bootstrap[._\-]?servers|dsn|connection[_\-]?string|api[_\-]?base|storageUri|modelUri)$"
)
# A link to a page rather than a service: license texts and documents (the `url` of every entry of a generated
# dependency-license report, `http://www.apache.org/licenses/LICENSE-2.0.txt`), fetched by nobody at run time.
_DOCUMENT_LINK = re.compile(r"(?i)/licen[cs]es?(?:[/.-]|$)|\.(?:html?|txt|md|pdf|rst)(?:[?#]|$)")
_PROTOCOL_KEY = re.compile(r"(?i)security[._\-]?protocol$")
_PLAINTEXT_PROTOCOL = re.compile(r"(?i)^(?:sasl_)?plaintext$")
_SSLMODE_KEY = re.compile(r"(?i)(?:^|[._\-])sslmode$")


def _plaintext_groups(node: Node) -> Iterator[list[tuple[str, Node]]]:
    """The (name, value node) bindings of a document, one list per mapping or `K=V` / `{name, value}` list:
    the settings one component is given together."""
    for current in node.walk():
        if isinstance(current.value, dict):
            name, value = current.get("name"), current.get("value")
            if name is not None and value is not None and isinstance(name.value, str) and value.is_scalar:
                continue  # an item of a `{name, value}` list: its list is the group
            group: list[tuple[str, Node]] = []
            for key, child in current.items():
                if child.is_scalar:
                    group.append((key, child))
                elif child.is_sequence:
                    for item in child.elements():
                        if item.is_scalar:
                            group.append((key, item))
            if group:
                yield group
        elif isinstance(current.value, list):
            group = []
            for item in current.value:
                if isinstance(item.value, str) and "=" in item.value:
                    key, _, text = item.value.partition("=")
                    group.append((key.strip(), Node(text, item.span)))
                elif isinstance(item.value, dict):
                    name, value = item.get("name"), item.get("value")
                    if name is not None and value is not None and isinstance(name.value, str) and value.is_scalar:
                        group.append((name.value, value))
            if group:
                yield group


_HOST_KEY = re.compile(r"(?i)(?:url|uri|urls|uris|endpoint|endpoints|host|hosts|address|addr|server|servers"
                       r"|brokers|bootstrap[._\-]?servers|dsn|connection[_\-]?string)$")
_ANY_PUBLIC_HOST = re.compile(r"(?i)(?:^|[/@,;\s])" + PUBLIC_HOST)


def _only_private_hosts(group: list[tuple[str, Node]]) -> bool:
    """The group names where it connects, and every such place is private: a single-label compose or
    Kubernetes service (`kafka:9092`, `db`), cluster DNS, a private address."""
    hosts = [str(node.value).strip() for name, node in group
             if isinstance(node.value, str) and _HOST_KEY.search(name) and node.value.strip()]
    return bool(hosts) and not any(_ANY_PUBLIC_HOST.search(host) for host in hosts)


def en_plaintext_endpoint_in_config(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """An endpoint-named key or variable whose value reaches a public host in clear text (http://, ws://,
    redis://, mongodb:// without tls, a database URL with sslmode=disable), Kafka `security.protocol: PLAINTEXT`
    or `sslmode: disable` (unless the same settings name only private hosts: `kafka:9092`, `host: db`)."""
    for group in _plaintext_groups(document.root):
        private: bool | None = None
        for name, node in group:
            value = node.value
            if not isinstance(value, str):
                continue
            text = value.strip()
            if _URL_KEY.search(name) is not None and PLAINTEXT_URL.search(text) is not None \
                    and not _DOCUMENT_LINK.search(text):
                yield Hit(node.anchor_span, (("name", name), ("value", text[:200])), f"plaintext:{name}")
                continue
            switch = ((_PROTOCOL_KEY.search(name) is not None and _PLAINTEXT_PROTOCOL.match(text) is not None)
                      or (_SSLMODE_KEY.search(name) is not None and text.lower() == "disable"))
            if not switch:
                continue
            if private is None:
                private = _only_private_hosts(group)
            if not private:
                yield Hit(node.anchor_span, (("name", name), ("value", text[:200])), f"plaintext:{name}")


PYTHON: dict[str, PythonPredicate] = {
    "en_python_secret_literal": en_python_secret_literal,
    "en_python_verify_false": en_python_verify_false,
    "en_python_unverified_ssl": en_python_unverified_ssl,
}
DOCUMENT: dict[str, DocumentPredicate] = {
    "en_document_secret_literal": en_document_secret_literal,
    "en_plaintext_endpoint_in_config": en_plaintext_endpoint_in_config,
    "en_kubernetes_secret_values": en_kubernetes_secret_values,
}
DOCKERFILE: dict[str, DockerfilePredicate] = {
    "en_dockerfile_secret_literal": en_dockerfile_secret_literal,
    "en_secret_build_arg": en_secret_build_arg,
    "en_build_arg_secret_in_env": en_build_arg_secret_in_env,
}
REPOSITORY: dict[str, RepositoryPredicate] = {}
