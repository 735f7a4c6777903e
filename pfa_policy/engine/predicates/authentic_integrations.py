"""Escape-hatch predicates of the authentic-integrations pillar.

The URL checks need context the declarative vocabulary does not carry: whether a string is an overridable
default (`os.getenv("X", "http://localhost")`), a CORS origin or a help text rather than a target, whether a
Kubernetes pod has a sidecar (then `localhost` is a real peer), and what kind of thing a URL names (a
service endpoint, a backing store, a cloud emulator). One classifier serves Python, YAML/JSON documents and
Dockerfiles so the three families of rules agree and never report the same literal twice.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from pfa_policy.engine.memo import IdentityMemo
from pfa_policy.engine.predicates.types import (
    DockerfilePredicate,
    DocumentPredicate,
    PythonPredicate,
    RepositoryApplies,
    RepositoryPredicate,
)
from pfa_policy.engine.python_match import reads_environment
from pfa_policy.engine.repository import RepoContext, RepoFile
from pfa_policy.model import Hit, Span
from pfa_policy.parsers.dockerfile import Instruction, env_pairs
from pfa_policy.parsers.python import (
    PythonFile,
    dotted_name,
    is_simple_string,
    literal_value,
    name_value,
    visit_children,
    walk_in_visit_order,
)
from pfa_policy.parsers.tree import Document, Node

if TYPE_CHECKING:
    from pfa_policy.engine.predicates.python_urls import PythonUrl

# ---------------------------------------------------------------------------------------------------------
# Words and URL classification
# ---------------------------------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_MOCK_WORDS = frozenset({"mock", "mocks", "mocked", "fake", "fakes", "faked", "stub", "stubs", "stubbed"})
_ENABLERS = frozenset({"use", "enable", "enabled", "with", "is", "force", "run", "serve"})
_NEGATIONS = frozenset({"disable", "disabled", "no", "not", "skip", "without", "never", "off", "allow", "allowed"})
# "Fake" is also a domain word in ML (fake-news or fake-review detection): never a switch.
_FAKE_DOMAINS = frozenset({"news", "review", "reviews", "account", "accounts", "profile", "profiles", "image",
                           "images", "face", "faces", "text", "content", "detector", "detection", "threshold"})
_TRUTHY = frozenset({"true", "1", "yes", "on", "y", "enabled", "always"})


@lru_cache(maxsize=8192)
def words_of(name: str) -> tuple[str, ...]:
    """`USE_MOCK_FEATURES`, `useMockFeatures`, `use-mock-features` -> ("use", "mock", "features")."""
    return tuple(w.lower() for w in _WORD.findall(name))


# In gRPC a "stub" is the generated client: `grpc_client_stub`, `service_stub` are the real integration.
_RPC_WORDS = frozenset({"grpc", "rpc", "client", "service", "channel", "inference", "predictor"})


def is_mock_flag(name: str) -> bool:
    """Whether a setting name reads as a mock/fake/stub mode switch (USE_MOCK*, MOCK_*, FAKE_*, *_STUB)."""
    words = words_of(name)
    if not words or any(w in _NEGATIONS or w in _FAKE_DOMAINS for w in words):
        return False
    if words[-1] in ("stub", "stubs") and any(w in _RPC_WORDS for w in words):
        return False
    if words[0] in _MOCK_WORDS:
        return True
    if len(words) > 1 and words[0] in _ENABLERS and words[1] in _MOCK_WORDS:
        return True
    return len(words) > 1 and words[-1] in _MOCK_WORDS


_SELECTOR_WORDS = frozenset({"source", "sources", "mode", "backend", "backends", "provider", "client", "type",
                             "kind", "impl", "implementation", "driver", "store", "adapter", "strategy"})
_MOCK_VALUES = frozenset({"mock", "mocks", "mocked", "fake", "fakes", "stub", "stubs", "stubbed", "dummy"})


def is_mock_setting(name: str, value: object) -> bool:
    """`USE_MOCK=true`, or an implementation selector set to a double: `FEATURE_SOURCE=mock`, `mode: fake`."""
    if is_mock_flag(name) and is_truthy(value):
        return True
    words = words_of(name)
    return (bool(words) and words[-1] in _SELECTOR_WORDS and not isinstance(value, bool)
            and str(value).strip().strip("'\"").lower() in _MOCK_VALUES)


def is_truthy(value: object) -> bool:
    if value is True:
        return True
    if isinstance(value, bool) or value is None:
        return False
    return str(value).strip().strip("'\"").lower() in _TRUTHY


_URL = re.compile(
    r"(?<![\w.+-])(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://(?:[^@/\s'\"]*@)?"
    r"(?P<host>\[[0-9a-fA-F:.]+\]|[^:/\s'\",?#;]*)(?::(?P<port>\d+))?"
)
_LOOPBACK_HOST = re.compile(r"^(?:localhost|[\w.-]+\.localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$", re.IGNORECASE)
_PLACEHOLDER_HOST = re.compile(
    r"^(?:(?:[\w-]+\.)*example\.(?:com|org|net)|[\w.-]+\.(?:invalid|example)|host\.docker\.internal"
    r"|<[^>]*>?|(?:your|my)[-_][\w.-]+|[\w.-]*(?:changeme|change-me|replace-?me|placeholder)[\w.-]*)$",
    re.IGNORECASE,
)
_MDNS_HOST = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.local$", re.IGNORECASE)
_SQLITE = re.compile(r"^sqlite(?:\+\w+)?$", re.IGNORECASE)
_STORE_SCHEMES = re.compile(
    r"^(?:rediss?|redis\+\w+|mongodb(?:\+srv)?|postgres(?:ql)?(?:\+\w+)?|mysql(?:\+\w+)?|mariadb(?:\+\w+)?"
    r"|mssql(?:\+\w+)?|oracle(?:\+\w+)?|amqps?|kafka|memcached|cassandra|neo4j(?:\+s)?|bolt|clickhouse(?:\+\w+)?"
    r"|snowflake|qdrant|milvus|weaviate)$",
    re.IGNORECASE,
)
_ENDPOINT_SCHEMES = re.compile(r"^(?:https?|grpcs?|wss?|tcp)$", re.IGNORECASE)
# Matched against the first label of the host only: `localstack.ml.svc` is the emulator, docs.localstack.cloud is not.
_EMULATOR_HOST = re.compile(r"localstack|^moto(?:-?server)?$|fake-?gcs|azurite|elasticmq|dynamodb-local", re.IGNORECASE)
_EMULATOR_PORTS = frozenset({"4566", "4571", "4572", "10000", "10001", "10002", "8085", "8086", "9324", "4443"})
_EMULATOR_TEXT = re.compile(r"UseDevelopmentStorage\s*=\s*true|devstoreaccount1", re.IGNORECASE)
# Keys naming an object-store/AWS endpoint override: a loopback value there is an emulator (LocalStack, MinIO).
_ENDPOINT_OVERRIDE = re.compile(r"(?i)endpoint[-_]?(?:url|override)|^aws[-_]endpoint|s3[-_]?endpoint")
# Scheme-less `host[:port]` values under keys that name a backing store.
_STORE_KEY_WORDS = frozenset({"redis", "mongo", "mongodb", "postgres", "postgresql", "pg", "mysql", "mariadb",
                              "db", "database", "kafka", "broker", "brokers", "rabbitmq", "amqp", "memcached",
                              "cache", "cassandra", "bootstrap", "celery", "elasticsearch", "opensearch"})
_HOST_KEY_WORDS = frozenset({"host", "hosts", "server", "servers", "addr", "address", "brokers", "hostname"})
_BARE_LOOPBACK = re.compile(r"^(?:localhost|127(?:\.\d{1,3}){3})(?::\d+)?(?:,(?:localhost|127(?:\.\d{1,3}){3})"
                            r"(?::\d+)?)*$", re.IGNORECASE)
# Words of keys whose values are not targets: CORS origins, redirects, documentation and examples.
_NOT_A_TARGET_WORDS = frozenset({"origin", "origins", "cors", "allowed", "redirect", "callback", "referer",
                                 "referrer", "example", "examples", "sample", "samples", "help", "description",
                                 "summary", "usage", "epilog", "metavar", "homepage", "website", "documentation",
                                 "docs", "audience", "title", "home", "icon", "sources", "link", "links", "code",
                                 "snippet", "instead", "message", "msg", "comment", "comments", "note", "notes",
                                 # `IN_MEMORY_URI_PREFIX = "memory://"`: a scheme matched against URIs, not a target
                                 "prefix", "prefixes", "scheme", "schemes"})


def not_a_target(key: str) -> bool:
    """Whether a key names something other than a target (an origin allow-list, a help text...)."""
    return any(w in _NOT_A_TARGET_WORDS for w in words_of(key))


# Document subtrees a scan of values skips: self health checks over loopback are correct, and metadata is prose.
_SKIPPED_SUBTREES = frozenset({"livenessProbe", "readinessProbe", "startupProbe", "healthcheck", "HealthCheck",
                               "healthCheck", "lifecycle", "annotations", "labels"})

ENDPOINT, STORE, EMULATOR = "endpoint", "store", "emulator"


@dataclass(frozen=True, slots=True)
class UrlFinding:
    category: str
    text: str  # the URL or value that classified
    loopback: bool  # the finding rests on a loopback host (a sidecar in the same pod would excuse it)


def classify(value: str, key: str = "") -> UrlFinding | None:
    """What a literal names, if it is a non-production target: an emulator, a local store or a fake endpoint."""
    if _EMULATOR_TEXT.search(value):
        return UrlFinding(EMULATOR, value[:120], False)
    key_words = words_of(key)
    if key_words[-2:] == ("emulator", "host") and value.strip():
        return UrlFinding(EMULATOR, value.strip()[:120], False)
    for match in _URL.finditer(value):
        scheme, host, port = match.group("scheme"), match.group("host") or "", match.group("port") or ""
        whole = re.split(r"[\s'\",;]", value[match.start():], maxsplit=1)[0][:120]
        loopback = bool(_LOOPBACK_HOST.match(host))
        if _EMULATOR_HOST.search(host.split(".")[0]) or port in ("4566", "4571", "4572"):
            return UrlFinding(EMULATOR, whole, False)
        if loopback and (port in _EMULATOR_PORTS or _ENDPOINT_OVERRIDE.search(key)):
            return UrlFinding(EMULATOR, whole, True)
        if _SQLITE.match(scheme) or scheme.lower() == "memory":
            return UrlFinding(STORE, whole, False)
        if _STORE_SCHEMES.match(scheme):
            if loopback:
                return UrlFinding(STORE, whole, True)
            continue
        if _ENDPOINT_SCHEMES.match(scheme):
            if loopback:
                return UrlFinding(ENDPOINT, whole, True)
            lowered = host.lower()
            if _PLACEHOLDER_HOST.match(host) or (
                _MDNS_HOST.match(host) and not lowered.endswith("cluster.local") and ".svc." not in lowered
            ):
                return UrlFinding(ENDPOINT, whole, False)
    stripped = value.strip()
    if key_words and _BARE_LOOPBACK.match(stripped) and key_words[-1] in _HOST_KEY_WORDS and any(
        w in _STORE_KEY_WORDS for w in key_words
    ):
        return UrlFinding(STORE, stripped, True)
    if key_words and _BARE_LOOPBACK.match(stripped) and key_words[-1] in ("url", "uri", "endpoint", "target"):
        return UrlFinding(ENDPOINT, stripped, True)
    return None


def python_urls(file: PythonFile) -> list[PythonUrl]:
    """Every classified URL literal of a module, computed once per file and shared by the rules."""
    cached: list[PythonUrl] | None = getattr(file, "_ai_urls", None)
    if cached is None:
        cached = []
        if _may_name_targets(file):
            from pfa_policy.engine.predicates.python_urls import UrlVisitor

            visitor = UrlVisitor(file)
            visitor.visit(file.module)
            cached = visitor.found
        setattr(file, "_ai_urls", cached)  # noqa: B010 - a per-file memo on an object we do not own
    return cached


def _may_name_targets(file: PythonFile) -> bool:
    """A cheap look at the indexed literals before the context-tracking walk, which costs a full visit.

    Only an emulator host variable (`X_EMULATOR_HOST = "anything"`) can make a literal a target through its key
    alone; every other finding needs a literal that is a target URL or a bare loopback address by itself."""
    return _may_hold_targets(file.source, (value for _, value, _ in file.index.strings))


def _may_hold_targets(source: str, strings: Iterable[Any]) -> bool:
    if "emulator_host" in source.lower():
        return True
    return any(isinstance(value, str) and (
        classify(value) is not None or _BARE_LOOPBACK.match(value.strip()) is not None) for value in strings)


def _python_category(categories: frozenset[str], *, default: bool | None) -> PythonPredicate:
    """URL literals of the given categories; `default` True/False selects overridable defaults or the rest."""

    def predicate(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
        for found in python_urls(file):
            if found.finding.category not in categories or (default is not None and found.default != default):
                continue
            yield Hit(file.span_of(found.node), (("value", found.finding.text),),
                      f"{found.finding.category}:{found.finding.text}")

    return predicate


# ---------------------------------------------------------------------------------------------------------
# Documents: every scalar value, with its naming key and whether loopback is legitimate there
# ---------------------------------------------------------------------------------------------------------

def _allows_loopback(node: Node) -> bool:
    """A pod with a sidecar, host networking or a compose service sharing a network namespace."""
    if node.get("network_mode") is not None:
        return True
    host_network = node.get("hostNetwork")
    if host_network is not None and host_network.value is True:
        return True
    containers = node.get("containers")
    count = len(containers.value) if containers is not None and isinstance(containers.value, list) else 0
    init = node.get("initContainers")
    for item in init.elements() if init is not None else ():
        policy = item.get("restartPolicy")
        if policy is not None and policy.value == "Always":
            count += 1  # a native sidecar
    return count > 1


def _document_values(node: Node, key: str, path: str, loopback_ok: bool,
                     parent: str = "") -> Iterator[tuple[Node, str, str, bool]]:
    """(value node, naming key, path, loopback allowed) for every scalar of a document.

    The naming key is the value's own key prefixed by its parent's (`redis.host`), so that a generic `host`
    under `redis:` still reads as a database host."""
    if isinstance(node.value, dict):
        loopback_ok = loopback_ok or _allows_loopback(node)
        name_node = node.get("name") or node.get("Name")
        value_node = node.get("value") if node.get("value") is not None else node.get("Value")
        if name_node is not None and value_node is not None and value_node.is_scalar:
            yield value_node, str(name_node.value), f"{path}.{name_node.value}", loopback_ok
        for child_key, child in node.value.items():
            if child_key in _SKIPPED_SUBTREES or child is value_node:
                continue
            yield from _document_values(child, child_key, f"{path}.{child_key}" if path else child_key,
                                        loopback_ok, key)
    elif isinstance(node.value, list):
        for position, child in enumerate(node.value):
            yield from _document_values(child, key, f"{path}[{position}]", loopback_ok, parent)
    elif isinstance(node.value, str):
        text = node.value
        if "=" in text and key in ("environment", "env") and re.match(r"^[A-Za-z_][\w.-]*=", text):
            name, _, text = text.partition("=")
            yield Node(text, node.span, node.key_span), name, f"{path}.{name}", loopback_ok
        else:
            yield node, f"{parent}.{key}" if parent and key else key, path, loopback_ok


def _is_api_description(document: Document) -> bool:
    root = document.root
    return any(root.get(k) is not None for k in ("openapi", "swagger", "site_name", "asyncapi"))


_DEPLOYMENT_KINDS = frozenset({"kubernetes", "kserve", "seldon", "compose", "helm-values", "cloudformation"})
_COMMAND_WORDS = frozenset({"command", "args", "entrypoint", "cmd", "script", "source", "run"})
# In plain YAML/JSON only values of settings that name a connection are read: prose and lists stay quiet.
_SETTING_WORDS = frozenset({"url", "uri", "urls", "uris", "endpoint", "endpoints", "host", "hosts", "server",
                            "servers", "address", "addr", "dsn", "broker", "brokers", "backend", "connection", "conn",
                            "bootstrap", "store", "tracking", "registry", "database", "db", "redis", "mongo",
                            "mongodb", "postgres", "mysql", "kafka", "amqp", "cache", "target", "upstream", "api"})


_URLS: IdentityMemo[list[tuple[Node, str, UrlFinding]]] = IdentityMemo(64)


def document_urls(document: Document) -> list[tuple[Node, str, UrlFinding]]:
    """(value node, path, what it names) for each non-production target in a document; one walk per document
    for the rules of every category."""
    return _URLS.get(document, lambda: list(_document_urls(document)))


def _document_urls(document: Document) -> Iterator[tuple[Node, str, UrlFinding]]:
    if _is_api_description(document):
        return
    deployment = document.kind in _DEPLOYMENT_KINDS
    for node, key, path, loopback_ok in _document_values(document.root, "", "", False):
        if not_a_target(key):
            continue
        words = set(words_of(key))
        text = str(node.value)
        if "\n" in text.strip() and not words & _COMMAND_WORDS:
            continue  # a block of prose or an embedded file, not a setting
        if not deployment and (not words & _SETTING_WORDS or any(c.isspace() for c in text.strip())):
            continue
        finding = classify(str(node.value), key)
        if finding is None or (finding.loopback and loopback_ok and finding.category != EMULATOR):
            continue
        yield node, path, finding


def _document_category(category: str) -> DocumentPredicate:
    def predicate(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
        for node, path, finding in document_urls(document):
            if finding.category == category:
                yield Hit(node.anchor_span, (("path", path), ("value", finding.text)), f"{category}:{path}")

    predicate.__doc__ = f"{category} URLs in the values of a YAML/JSON document."
    return predicate


# ---------------------------------------------------------------------------------------------------------
# Dockerfiles
# ---------------------------------------------------------------------------------------------------------

def _dockerfile_category(category: str) -> DockerfilePredicate:
    def predicate(instructions: list[Instruction], params: Mapping[str, Any]) -> Iterator[Hit]:
        for instruction in instructions:
            if instruction.keyword in ("ENV", "ARG"):
                pairs = env_pairs(instruction)
            elif instruction.keyword in ("CMD", "ENTRYPOINT"):
                pairs = [("", " ".join(instruction.exec_form or (instruction.args,)))]
            else:
                continue  # RUN and HEALTHCHECK talk to the build host or to the container itself
            for name, value in pairs:
                if not_a_target(name):
                    continue
                finding = classify(value, name)
                if finding is not None and finding.category == category:
                    yield Hit(instruction.span, (("name", name), ("value", finding.text)),
                              f"{instruction.keyword}:{name or finding.text}")
                    break

    predicate.__doc__ = f"{category} URLs in ENV/ARG values and CMD/ENTRYPOINT arguments."
    return predicate


# ---------------------------------------------------------------------------------------------------------
# Mock-mode switches
# ---------------------------------------------------------------------------------------------------------

_CLI_FLAG = re.compile(r"(?:^|\s)--([A-Za-z][\w-]*)(?:=(\S+))?")
_COMMAND_KEYS = frozenset({"args", "command", "entrypoint", "Command", "EntryPoint", "Entrypoint"})


def _mock_settings(node: Node, key: str, parent_key: str) -> Iterator[tuple[Node, str]]:
    if isinstance(node.value, dict):
        name_node = node.get("name") or node.get("Name")
        value_node = node.get("value") if node.get("value") is not None else node.get("Value")
        if (name_node is not None and value_node is not None and value_node.is_scalar
                and is_mock_setting(str(name_node.value), value_node.value)):
            yield name_node, str(name_node.value)
        for child_key, child in node.value.items():
            own = child.is_scalar and child is not value_node and child is not name_node
            if own and (is_mock_setting(child_key, child.value) or (
                child_key in ("enabled", "enable") and is_mock_flag(key) and is_truthy(child.value)
            )):
                yield child, child_key if child_key not in ("enabled", "enable") else f"{key}.{child_key}"
            yield from _mock_settings(child, child_key, key)
    elif isinstance(node.value, list):
        for child in node.value:
            yield from _mock_settings(child, key, parent_key)
    elif isinstance(node.value, str):
        text = node.value
        if key in ("environment", "env") and re.match(r"^[A-Za-z_][\w.-]*=", text):
            name, _, value = text.partition("=")
            if is_mock_setting(name, value):
                yield node, name
        elif key in _COMMAND_KEYS:
            for flag in _CLI_FLAG.finditer(text):
                name, value = flag.group(1), flag.group(2)
                if is_mock_flag(name) and (value is None or is_truthy(value)):
                    yield node, f"--{name}"


def mock_switch_in_document(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """Mock/fake/stub mode switched on: env vars, settings keys, `mock.enabled: true`, `--use-mock` args."""
    seen: set[int] = set()
    for node, name in _mock_settings(document.root, "", ""):
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield Hit(node.anchor_span, (("name", name),), f"mock-switch:{name}")


def mock_switch_in_dockerfile(instructions: list[Instruction], params: Mapping[str, Any]) -> Iterator[Hit]:
    """ENV/ARG mock switches set truthy, and `--use-mock` style flags in CMD/ENTRYPOINT."""
    for instruction in instructions:
        if instruction.keyword in ("ENV", "ARG"):
            for name, value in env_pairs(instruction):
                if is_mock_setting(name, value):
                    yield Hit(instruction.span, (("name", name),), f"{instruction.keyword}:{name}")
        elif instruction.keyword in ("CMD", "ENTRYPOINT"):
            text = " ".join(instruction.exec_form or (instruction.args,))
            for flag in _CLI_FLAG.finditer(text):
                if is_mock_flag(flag.group(1)) and (flag.group(2) is None or is_truthy(flag.group(2))):
                    yield Hit(instruction.span, (("name", f"--{flag.group(1)}"),),
                              f"{instruction.keyword}:--{flag.group(1)}")
                    break


_TYPE_TESTS = frozenset({"isinstance", "issubclass", "type", "hasattr", "callable"})


def _type_test_names(file: PythonFile) -> set[str]:
    """Names bound to a type test (`is_mock = isinstance(resource, Mock)`): what they hold is not a mode."""
    names = set()
    for assignment in file.index.assignments:
        value = assignment.value
        if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not):
            value = value.operand
        if isinstance(value, ast.Call) and (dotted_name(value.func) or "") in _TYPE_TESTS:
            names.add(assignment.target)
    return names


def _mock_names_in(file: PythonFile, expression: ast.AST) -> list[str]:
    """Mock-flag names read by a condition: names, attributes and string literals (`os.getenv("USE_MOCK")`).

    The called function and its receiver (`is_mock_flag(x)`, `MOCK_PATTERN.match(x)`) and the container of a
    membership test (`w in MOCK_WORDS`) are not flags."""
    names: list[str] = []
    stack: list[tuple[ast.AST, bool]] = [(expression, False)]  # (node, whether its names are called)
    while stack:
        node, called = stack.pop()
        name = name_value(node)
        if name is not None:
            if not called:
                names.append(name)
            continue
        if is_simple_string(node):
            value = literal_value(node)
            if isinstance(value, str):
                names.append(value)
            continue
        children: list[tuple[ast.AST, bool]] = [(child, called) for child in visit_children(file, node)]
        if isinstance(node, ast.Call):
            # `isinstance(fake_resp, StreamingResponse)`: a test of a value's type, never a mode switch.
            type_test = (dotted_name(node.func) or "") in _TYPE_TESTS
            children = [(child, True if child is node.func or type_test else flag) for child, flag in children]
        elif isinstance(node, ast.Compare):
            # `x in MOCK_WORDS`: a collection, not a switch
            collections = {id(c) for op, c in zip(node.ops, node.comparators, strict=True)
                           if isinstance(op, (ast.In, ast.NotIn))}
            children = [(child, True if id(child) in collections else flag) for child, flag in children]
        stack.extend(reversed(children))
    return [n for n in names if is_mock_flag(n)]


def mock_switch_assigned_in_python(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """`USE_MOCK = True`, `Settings(mock_mode=True)`, `{"use_fake": 1}`, `os.environ["X_STUB"] = "1"`."""
    for assignment in file.index.assignments:
        value = literal_value(assignment.value)
        if isinstance(value, (bool, int, str)) and is_mock_setting(assignment.target, value):
            yield Hit(file.span_of(assignment.report), (("name", assignment.target),),
                      f"mock-switch:{assignment.target}")
    # `os.getenv("USE_MOCK_FEATURES", "true")`: the mock mode is on unless someone turns it off.
    for site in file.index.calls:
        if len(site.positional) < 2 or not reads_environment(file, site.node):
            continue
        name, value = literal_value(site.positional[0].value), literal_value(site.positional[1].value)
        if isinstance(name, str) and isinstance(value, (bool, int, str)) and is_mock_setting(name, value):
            yield Hit(file.span_of(site.positional[1]), (("name", name),), f"mock-default:{name}")


def mock_branch_in_python(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """`if settings.USE_MOCK:` / `x = Fake() if MOCK_MODE else Real()`: production code with a canned-data path;
    `if os.getenv("TEST_RUN"):` / `if not settings.DRY_RUN: upload(...)`: a deployment-set switch that turns the
    production output off."""
    type_tests: set[str] | None = None
    configured: set[str] | None = None
    for test in file.index.branch_tests:
        flags = _mock_names_in(file, test)
        if flags:
            type_tests = _type_test_names(file) if type_tests is None else type_tests
            flags = [f for f in flags if f not in type_tests]
        if not flags and _OUTPUT_SWITCH_TEXT.search(file.code_of(test)):
            configured = _configured_names(file) if configured is None else configured
            flags = _output_switches_in(file, test, configured)
        if flags:
            yield Hit(file.span_of(test), (("name", flags[0]),), f"mock-branch:{file.code_of(test)}")


# A dry-run / test-run switch (`DRY_RUN`, `TEST_RUN`, `isTestMode`) read from the environment or the settings
# turns off what production writes (predictions, uploads, messages): one variable away from a silent service.
# A function parameter or a CLI option (`def main(dry_run)`, `args.dry_run`) is a feature of a command a person
# runs, not a deployment setting, and is not reported.
_OUTPUT_SWITCH_TEXT = re.compile(r"(?i)dry_?-?run|test_?-?(?:run|mode)")
_OUTPUT_SWITCH_PAIRS = frozenset({("dry", "run"), ("test", "run"), ("test", "mode"), ("dryrun",), ("testrun",)})
_SETTINGS_OBJECTS = frozenset({"settings", "config", "cfg", "conf", "configuration", "env", "environ", "environment",
                               "app_config", "app_settings", "constants"})
# The last word of a name that holds loaded configuration (`mlflow_cfg`, `training_config`, `api_settings`).
_SETTINGS_WORDS = frozenset({"settings", "config", "cfg", "conf", "configuration"})


def is_settings_object(name: str) -> bool:
    """`settings`, `self.config`, `CFG`, `mlflow_cfg`, `app_settings`: a name whose last part is a settings or
    configuration object (_SETTINGS_OBJECTS, or a snake-case name ending in one of _SETTINGS_WORDS)."""
    last = name.rsplit(".", 1)[-1].lower()
    return last in _SETTINGS_OBJECTS or last.rsplit("_", 1)[-1] in _SETTINGS_WORDS


def settings_lookup_default(call: ast.Call) -> bool:
    """`cfg.get("mlflow_tracking_uri", <default>)`, `CFG.get("api", {}).get("url", <default>)`,
    `config["serving"].get("url", <default>)`: a `.get(key, default)` on a mapping loaded from configuration
    (a settings object, or a section of one reached by `.get(...)` or `[...]`), whose second argument is the
    overridable default. A `.get` on any other mapping (`payload.get`, `row.get`) is not one."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr != "get" or len(call.args) < 2:
        return False
    receiver = func.value
    while True:
        if isinstance(receiver, ast.Subscript):
            receiver = receiver.value
        elif (isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute)
              and receiver.func.attr == "get"):
            receiver = receiver.func.value
        else:
            break
    name = dotted_name(receiver)
    return name is not None and "(" not in name and is_settings_object(name)


def is_output_switch(name: str) -> bool:
    words = list(words_of(name))
    if any(w in _NEGATIONS for w in words):
        return False
    if words and words[0] in _ENABLERS:
        words = words[1:]
    return tuple(words[:2]) in _OUTPUT_SWITCH_PAIRS or tuple(words[:1]) in _OUTPUT_SWITCH_PAIRS


def _configured_names(file: PythonFile) -> set[str]:
    """Module-level names bound from the environment or the settings (`DRY_RUN = os.getenv("DRY_RUN")`)."""
    names = set()
    for assignment in file.index.assignments:
        if "." in assignment.target or file.scope_of(assignment.report):
            continue
        code = file.code_of(assignment.value)
        if re.search(r"environ|getenv|settings|config", code, re.IGNORECASE):
            names.add(assignment.target)
    return names


def _output_switches_in(file: PythonFile, test: ast.AST, configured: set[str]) -> list[str]:
    found: list[str] = []
    for node in walk_in_visit_order(file, test):
        name = name_value(node)
        if is_simple_string(node):
            value = literal_value(node)
            if isinstance(value, str) and is_output_switch(value):  # `os.getenv("TEST_RUN")`
                found.append(value)
        elif isinstance(node, ast.Attribute):
            owner = dotted_name(node.value) or ""
            if is_output_switch(node.attr) and owner.rsplit(".", 1)[-1].lower() in _SETTINGS_OBJECTS:
                found.append(f"{owner}.{node.attr}")  # `settings.DRY_RUN`
        elif name is not None and name in configured and is_output_switch(name):
            found.append(name)
    return found


# ---------------------------------------------------------------------------------------------------------
# Fake integration classes instantiated
# ---------------------------------------------------------------------------------------------------------

FAKE_INTEGRATION = re.compile(
    r"^(?:Fake|Faked|Stub|Stubbed|Dummy|Mock|Mocked)"
    r"(?!News|Review|Account|Profile|Image|Face|Text|Content|Detect|Job|Transaction|Email|Url|URL|Domain|Product)"
    r"(?=[A-Z0-9_])\w*"
    r"(?:Client|Service|Store|Connector|Connection|Api|API|Repository|Repo|Db|DB|Database|Queue|Broker|Gateway"
    r"|Warehouse|Registry|Storage|Bucket|Cache|Session|Backend|Adapter|Provider|Producer|Consumer|Publisher"
    r"|Subscriber|Endpoint|Server|Sink|Datastore|Lake|Bus|Stream|Topic|Vault|Integration|Predictor|Sdk|SDK"
    r"|Transport|Channel|Fetcher|Uploader|Downloader|Lookup)s?$"
)


def fake_integration_instantiated(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """Calls that construct a Fake*/Stub*/Dummy*/Mock* client, store, queue or API object."""
    for site in file.index.calls:
        raw_name = site.raw.split(".")[-1]
        name = file.index.qualify(site.raw).split(".")[-1]
        name = name if FAKE_INTEGRATION.match(name) else raw_name
        if FAKE_INTEGRATION.match(name):
            yield Hit(file.span_of(site.node), (("name", name),), f"fake-call:{name}")


# ---------------------------------------------------------------------------------------------------------
# Mocking libraries declared as runtime dependencies
# ---------------------------------------------------------------------------------------------------------

MOCK_PACKAGES = frozenset({"mock", "moto", "responses", "requests-mock", "vcrpy", "pytest-vcr", "fakeredis",
                           "mongomock", "pytest-mock", "respx", "pytest-httpx", "aioresponses", "httpretty",
                           "pook", "localstack", "localstack-client", "mockito", "pytest-localstack"})
_NON_RUNTIME_REQUIREMENTS = re.compile(r"(?i)(test|dev|lint|doc|ci|check|tox|bench|example|typing|local)")
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(?:[<>=!~;@ ]|$)")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _line_hits(text: str, names: set[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.split("#", 1)[0].strip().strip("\"',")
        match = _REQUIREMENT_NAME.match(stripped)
        if match and _normalise(match.group(1)) in names:
            yield number, _normalise(match.group(1))


def _runtime_pyproject_lines(text: str) -> Iterator[tuple[int, str]]:
    """Mock packages among [project].dependencies or [tool.poetry.dependencies], with their line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    declared: set[str] = set()
    for spec in data.get("project", {}).get("dependencies", []) or []:
        match = _REQUIREMENT_NAME.match(str(spec))
        if match:
            declared.add(_normalise(match.group(1)))
    poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {}) or {}
    declared.update(_normalise(name) for name in poetry)
    wanted = declared & MOCK_PACKAGES
    if not wanted:
        return
    # Find the lines inside the runtime sections only.
    section = ""
    lines = text.split("\n")
    in_project_deps = False
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.strip("[] ")
            in_project_deps = False
            continue
        if section == "project" and re.match(r"dependencies\s*=", stripped):
            in_project_deps = True
        runtime = in_project_deps or section == "tool.poetry.dependencies"
        if not runtime:
            continue
        candidate = stripped.split("#", 1)[0]
        if section == "tool.poetry.dependencies":
            candidate = candidate.split("=", 1)[0]
        else:
            candidate = candidate.removeprefix("dependencies").lstrip(" =[").strip()
        for piece in re.findall(r"[\"']([^\"']+)[\"']", candidate) or [candidate]:
            match = _REQUIREMENT_NAME.match(piece.strip())
            if match and _normalise(match.group(1)) in wanted:
                yield number, _normalise(match.group(1))
        if in_project_deps and "]" in candidate:
            in_project_deps = False


def _runtime_manifests(context: RepoContext, scopes: frozenset[str]) -> Iterator[RepoFile]:
    """Runtime requirements files (not test / dev / docs ones, by name or directory) and pyproject.toml files."""
    for repo_file in context.files:
        if repo_file.scope not in scopes:
            continue
        if "requirements" in repo_file.kinds:
            stem = repo_file.name.removeprefix("requirements")
            if not (_NON_RUNTIME_REQUIREMENTS.search(stem) or _NON_RUNTIME_REQUIREMENTS.search(
                    str(PurePosixPath(repo_file.path).parent))):
                yield repo_file
        elif repo_file.name == "pyproject.toml":
            yield repo_file


def _declares_runtime_dependencies(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    return next(_runtime_manifests(context, scopes), None) is not None


def mock_packages_in_runtime_dependencies(context: RepoContext, params: Mapping[str, Any],
                                          scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """Mocking/fake libraries in runtime requirement files or in pyproject's runtime dependencies."""
    extra = {_normalise(n) for n in params.get("extra_mock_packages", []) or []}
    names = set(MOCK_PACKAGES) | extra
    for repo_file in _runtime_manifests(context, scopes):
        text = context.read_text(repo_file.path)
        lines = _runtime_pyproject_lines(text) if repo_file.name == "pyproject.toml" else _line_hits(text, names)
        for number, package in lines:
            yield repo_file.path, Hit(Span(number, 1, number, 1), (("name", package),), f"dependency:{package}")


PYTHON: dict[str, PythonPredicate] = {
    "ai_endpoint_url_literals": _python_category(frozenset({ENDPOINT}), default=False),
    "ai_local_target_defaults": _python_category(frozenset({ENDPOINT, STORE}), default=True),
    "ai_store_url_literals": _python_category(frozenset({STORE}), default=False),
    "ai_emulator_url_literals": _python_category(frozenset({EMULATOR}), default=None),
    "ai_mock_branch": mock_branch_in_python,
    "ai_mock_assignment": mock_switch_assigned_in_python,
    "ai_fake_integration_instantiated": fake_integration_instantiated,
}
DOCUMENT: dict[str, DocumentPredicate] = {
    "ai_endpoint_url_values": _document_category(ENDPOINT),
    "ai_store_url_values": _document_category(STORE),
    "ai_emulator_url_values": _document_category(EMULATOR),
    "ai_mock_switch": mock_switch_in_document,
}
DOCKERFILE: dict[str, DockerfilePredicate] = {
    "ai_endpoint_url_env": _dockerfile_category(ENDPOINT),
    "ai_store_url_env": _dockerfile_category(STORE),
    "ai_emulator_url_env": _dockerfile_category(EMULATOR),
    "ai_mock_switch_env": mock_switch_in_dockerfile,
}
REPOSITORY: dict[str, RepositoryPredicate] = {
    "ai_mock_packages_in_runtime_dependencies": mock_packages_in_runtime_dependencies,
}
# When each has something to judge (readiness counts it only then).
REPOSITORY_APPLIES: dict[str, RepositoryApplies] = {
    "ai_mock_packages_in_runtime_dependencies": _declares_runtime_dependencies,
}
