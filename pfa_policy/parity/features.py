"""What an environment is made of, as comparable features: the store behind each connection setting, the
components deployed, mocks and emulators, the serving architecture, security settings and image repositories.
Sizes are never features: replicas, autoscaling bounds, resources, instance types and counts, volume sizes, node
placement, hostnames, names and image tags."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pfa_policy.parity.located import Val, flatten
from pfa_policy.parity.model import Environment, image_repository

STORE = "store"
COMPONENT_TELEMETRY = "telemetry"
COMPONENT_AUDIT = "audit"
COMPONENT_RESILIENCE = "resilience"
ACCESS = "access"
ENCRYPTION = "encryption"
MOCK = "mock"
SERVING = "serving"
IMAGE = "image"
ASPECTS = (STORE, COMPONENT_TELEMETRY, COMPONENT_AUDIT, COMPONENT_RESILIENCE, ACCESS, ENCRYPTION, MOCK, SERVING,
           IMAGE)
PRESENCE_ASPECTS = frozenset({COMPONENT_TELEMETRY, COMPONENT_AUDIT, COMPONENT_RESILIENCE, ACCESS, ENCRYPTION, MOCK})
PRESENT, ABSENT = "present", "absent"


@dataclass(frozen=True, slots=True)
class Feature:
    aspect: str
    key: str  # stable across environments: what is compared with what
    value: str  # a store kind, an architecture, a repository, or present / absent
    where: Val | None  # the key that says so (None: the environment as a whole)
    unknown: str = ""  # why the value cannot be compared (a secret reference, an unrendered template)
    # Said only where stated: of one workload, or by a flag; an environment without it says nothing about it.
    scoped: bool = False


_COMPONENT_KINDS = {"ServiceMonitor": COMPONENT_TELEMETRY, "PodMonitor": COMPONENT_TELEMETRY,
                    "PrometheusRule": COMPONENT_TELEMETRY, "NetworkPolicy": ACCESS, "ExternalSecret": ACCESS,
                    "AuthorizationPolicy": ACCESS, "RequestAuthentication": ACCESS,
                    "PodDisruptionBudget": COMPONENT_RESILIENCE, "PeerAuthentication": ENCRYPTION,
                    "Certificate": ENCRYPTION}
_WORKLOADS = {"Deployment": "spec.template.spec", "StatefulSet": "spec.template.spec",
              "DaemonSet": "spec.template.spec", "ReplicaSet": "spec.template.spec", "Job": "spec.template.spec",
              "CronJob": "spec.jobTemplate.spec.template.spec", "Pod": "spec", "Rollout": "spec.template.spec"}
_TELEMETRY_SIDECAR = re.compile(r"(?i)otel|opentelemetry|collector|fluent-?bit|fluentd|datadog|jaeger|promtail|"
                                r"telegraf|vector-agent|prometheus|exporter|statsd|newrelic|splunk")
_EMULATOR = re.compile(r"(?i)(?:^|[/:_.-])(localstack|wiremock|mockserver|moto(?:-server)?|azurite|fake-gcs-server|"
                       r"gcloud-emulator|cloud-sdk-emulator|firestore-emulator|pubsub-emulator|dynamodb-local|"
                       r"mailhog|mailpit|prism|json-server|mockoon|smocker|elasticmq)(?:$|[/:@_.-])")
_TOKEN = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_SIZE_TOKENS = frozenset({"replica", "replicas", "replicacount", "autoscaling", "autoscale", "hpa", "resources",
                          "cpu", "memory", "gpu", "instance", "instancetype", "instancecount", "size", "storage",
                          "capacity", "volume", "disk", "nodeselector", "affinity", "tolerations", "host", "hostname",
                          "hosts", "domain", "name", "names", "namespace", "tag", "concurrency", "limits", "requests",
                          "min", "max", "count", "workers", "threads", "sampling", "percentage", "ingress", "port",
                          "region", "zone", "account", "subnet", "vpc", "cidr", "id", "arn", "bucket", "prefix",
                          "path", "version", "timeout", "retention", "ttl", "schedule", "mb", "gb", "level"})
_FLAG_LEAVES = frozenset({"enabled", "enable", "create", "deploy", "install", "on", "use"})
TRUE_WORDS = frozenset({"true", "yes", "on", "1", "enabled"})
_FALSE = frozenset({"false", "no", "off", "0", "disabled", "", "none", "null"})
_COMPONENT_WORDS = [
    (re.compile(r"servicemonitor|podmonitor|prometheusrule|metrics|monitoring|tracing|telemetry|otel|"
                r"opentelemetry|prometheus|datadog|jaeger|alerting|alerts|dashboards?|cloudwatch"),
     COMPONENT_TELEMETRY),
    (re.compile(r"datacapture|capture|requestlog|audit|inferencelog|logger"), COMPONENT_AUDIT),
    (re.compile(r"pdb|poddisruptionbudget|disruptionbudget"), COMPONENT_RESILIENCE),
    (re.compile(r"networkpolic|authpolicy|authorizationpolicy|authentication|oauth|oidc|auth|rbac|externalsecret|"
                r"securitycontext|podsecurity|waf"), ACCESS),
    (re.compile(r"^tls$|^ssl$|https|mtls|kms|encrypt|certmanager|certificate"), ENCRYPTION),
]
_MOCK_WORD = re.compile(r"(?i)mock|stub|fake|emulat|dummy|simulat")
_STORE_KEY = re.compile(r"(?i)uri|url|dsn|backend|store|database|(?:^|[._])db(?:$|[._])|connection|engine|"
                        r"registry|cache|broker")
_STORE_KINDS = [
    (re.compile(r"(?i)^sqlite|\.sqlite3?$|\.db$|^sqlite3?$"), "sqlite"),
    (re.compile(r"(?i)^postgres(?:ql)?(?:\+\w+)?:|^postgres(?:ql)?$|^pg$"), "postgresql"),
    (re.compile(r"(?i)^mysql(?:\+\w+)?:|^mysql$|^mariadb"), "mysql"),
    (re.compile(r"(?i)^mssql|^sqlserver"), "sqlserver"),
    (re.compile(r"(?i)^rediss?:|^redis$"), "redis"),
    (re.compile(r"(?i)^mongodb(?:\+srv)?:|^mongo(?:db)?$"), "mongodb"),
    (re.compile(r"(?i)^dynamodb$"), "dynamodb"),
    (re.compile(r"(?i)^bigquery$|^bigtable$|^datastore$|^firestore$|^snowflake|^cassandra|^spark$|^trino$|"
                r"^redshift|^hbase$|^elasticsearch$"), "{0}"),
    (re.compile(r"(?i)^s3a?://|^gs://|^abfss?://|^wasbs?://|^azureml://"), "object storage"),
    (re.compile(r"(?i)^file:|^\./|^/(?!/)|^mlruns$|^local$|^file$"), "local files"),
    (re.compile(r"(?i)^:?memory:?$|^in-?memory$"), "in memory"),
    (re.compile(r"(?i)^kafka:|^amqps?:|^nats:"), "{0}"),
]
# Leaves that name how a model is served ("server", "format" or "protocol" alone name too many other things:
# an ACME server, a log format).
_SERVING_LEAVES = re.compile(r"(?i)^(runtime|servingruntime|serving_runtime|modelformat|model_format|framework|"
                             r"model_framework|deploymentmode|deployment_mode|serverless|endpointtype|endpoint_type|"
                             r"inferencetype|inference_type|modelserver|model_server|implementation|"
                             r"protocolversion|protocol_version)$")
_KIND_LEAVES = frozenset({"type", "kind", "provider", "engine", "driver", "dialect", "scheme"})
_TEMPLATE = re.compile(r"\{\{|\$\{|\$\(|<%|%\(")


def tokens(key: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(key)]


def is_emulator(repository: str) -> bool:
    """Whether an image repository is a mock server or a cloud emulator."""
    return bool(_EMULATOR.search(repository))


def is_size_key(key: str) -> bool:
    """Whether a configuration key states a size, a placement or a name: never a difference in kind."""
    leaf = re.split(r"[.\[\]]", key.rstrip("]"))[-1] or key
    words = set(tokens(leaf)) | {leaf.lower()}
    if words & _SIZE_TOKENS:
        return True
    return bool(re.search(r"(?i)replica|autoscal|resources\.|nodeselector|instance_?type|instance_?count|"
                          r"\.tag$|^image\.tag|storage|\bsize\b|_size|size_|sizein|hostname|\bhosts?\b", key))


def store_kind(value: str) -> str | None:
    text = value.strip()
    if text.lower().startswith("jdbc:"):
        text = text[5:]  # jdbc:postgresql://..., jdbc:h2:mem:...
    if re.match(r"(?i)^(?:h2|hsqldb|derby):", text):
        return "embedded database"
    for pattern, kind in _STORE_KINDS:
        match = pattern.search(text)
        if match:
            return kind.format(match.group(0).rstrip(":/").lower()) if "{0}" in kind else kind
    return None


def _is_store_key(name: str) -> bool:
    """A setting naming where data lives (a URL, DSN, backend), not one of its parts (host, user, password)."""
    return bool(_STORE_KEY.search(name)) and not re.search(
        r"(?i)host|port|user|name|password|passwd|secret|token|key|timeout|pool|size|(?:^|_)db$", name)


_SECRET_STORE = re.compile(r"(?i)^(?:vault:|secret:|ref\+\w+://|sm://|akv://|gcpsm://|awssm://|"
                           r"arn:aws[\w-]*:(?:secretsmanager|ssm):)|\{\{\s*resolve:(?:secretsmanager|ssm)")


def unknown_reason(value: Val) -> str:
    text = value.text()
    if _SECRET_STORE.search(text):
        return "read from a secret store"
    if _TEMPLATE.search(text):
        return "a template expression, not rendered"
    return ""


def environment_features(environment: Environment, *, by_image: bool = False) -> dict[str, Feature]:
    found: dict[str, Feature] = {}
    for feature in _all(environment, by_image):
        found.setdefault(feature.key, feature)
    return found


def _all(environment: Environment, by_image: bool) -> Iterator[Feature]:
    yield from _resource_features(environment.resources, by_image)
    if environment.template is not None:
        from pfa_policy.parity.sagemaker import template_features

        yield from template_features(environment.template)
    elif environment.values is not None:
        yield from _value_features(environment.values, environment.source)


def containers(resources: Iterable[Val]) -> Iterator[tuple[str, Val, Val]]:
    """(workload name, pod spec, container) for every container of every workload. The name alone identifies a
    workload: a Deployment in staging and the Argo Rollout of the same name in production are one workload."""
    for resource in resources:
        kind = (resource.get("kind") or Val("", "")).text()
        pod = resource.path(_WORKLOADS[kind]) if kind in _WORKLOADS else None
        if pod is None:
            continue
        workload = (resource.path("metadata.name") or Val("", "")).text()
        for key in ("containers", "initContainers"):
            for container in (pod.get(key) or Val([], "")).elements():
                yield workload, pod, container


def _resource_features(resources: list[Val], by_image: bool) -> Iterator[Feature]:
    config_maps = {}
    for resource in resources:
        kind = (resource.get("kind") or Val("", "")).text()
        name = (resource.path("metadata.name") or Val("", "")).text()
        if kind in _COMPONENT_KINDS:
            yield Feature(_COMPONENT_KINDS[kind], f"component:{kind}", PRESENT, resource.get("kind"))
        if kind == "ConfigMap":
            config_maps[name] = resource.get("data") or Val({}, resource.file)
            for key, value in (resource.get("data") or Val({}, "")).items():
                yield from _leaf_features(f"configmap:{name}.{key}", key, value)
        if kind == "InferenceService":
            yield from _kserve(resource, name)
        if kind == "Ingress":
            tls = resource.path("spec.tls")
            yield Feature(ENCRYPTION, "ingress:tls", PRESENT if tls is not None and tls.value else ABSENT,
                          tls if tls is not None else resource.get("kind"))
    sidecars: dict[str, Feature] = {}
    for workload, pod, container in containers(resources):
        yield from _container(workload, pod, container, config_maps, by_image)
        name = (container.get("name") or Val("", "")).text()
        image = (container.get("image") or Val("", "")).text()
        telemetry = bool(_TELEMETRY_SIDECAR.search(name) or _TELEMETRY_SIDECAR.search(image_repository(image)))
        if telemetry and (workload not in sidecars or sidecars[workload].value == ABSENT):
            sidecars[workload] = Feature(COMPONENT_TELEMETRY, f"telemetry-sidecar:{workload}", PRESENT,
                                         container.get("name") or container, scoped=True)
        elif workload not in sidecars:
            sidecars[workload] = Feature(COMPONENT_TELEMETRY, f"telemetry-sidecar:{workload}", ABSENT, None,
                                         scoped=True)
    if not by_image:
        yield from sidecars.values()


def _container(workload: str, pod: Val, container: Val, config_maps: dict[str, Val],
               by_image: bool) -> Iterator[Feature]:
    name = (container.get("name") or Val("", "")).text()
    image = container.get("image")
    repository = image_repository(image.text()) if image is not None else ""
    owner = repository if by_image else f"{workload}/{name}"
    if image is not None and not by_image:
        reason = unknown_reason(image)
        yield Feature(IMAGE, f"image:{owner}", repository, image, reason)
    if _EMULATOR.search(repository):
        yield Feature(MOCK, f"emulator:{repository}", PRESENT, image)
    if not by_image:
        yield from _security_context(owner, pod, container)
    for variable in (container.get("env") or Val([], "")).elements():
        variable_name = (variable.get("name") or Val("", "")).text()
        value = variable.get("value")
        key = f"env:{owner}.{variable_name}"
        if value is not None:
            yield from _leaf_features(key, variable_name, value)
            continue
        source = variable.get("valueFrom")
        if source is None:
            continue
        reference = source.get("configMapKeyRef")
        if reference is not None:
            data = config_maps.get((reference.get("name") or Val("", "")).text())
            resolved = data.get((reference.get("key") or Val("", "")).text()) if data is not None else None
            if resolved is not None:
                yield from _leaf_features(key, variable_name, resolved)
                continue
        if _is_store_key(variable_name) or _MOCK_WORD.search(variable_name):
            yield Feature(STORE if _is_store_key(variable_name) else MOCK, key, "", variable,
                          "read from a secret or config store at run time")


def _security_context(owner: str, pod: Val, container: Val) -> Iterator[Feature]:
    settings = (("runAsNonRoot", True), ("readOnlyRootFilesystem", True), ("allowPrivilegeEscalation", False))
    for setting, secure in settings:
        own = container.path(f"securityContext.{setting}")
        inherited = pod.path(f"securityContext.{setting}") if setting == "runAsNonRoot" else None
        value = own if own is not None else inherited
        present = value is not None and value.value is secure
        yield Feature(ACCESS, f"securityContext:{owner}.{setting}", PRESENT if present else ABSENT,
                      value if value is not None else container.get("name"), scoped=True)


def _kserve(resource: Val, name: str) -> Iterator[Feature]:
    predictor = resource.path("spec.predictor") or Val({}, resource.file)
    logger = predictor.get("logger")
    yield Feature(COMPONENT_AUDIT, f"kserve-logger:{name}", PRESENT if logger is not None else ABSENT,
                  logger if logger is not None else None, scoped=True)
    annotations = resource.path("metadata.annotations") or Val({}, resource.file)
    mode = annotations.get("serving.kserve.io/deploymentMode")
    yield Feature(SERVING, f"kserve-mode:{name}", mode.text() if mode is not None else "Serverless (default)",
                  mode if mode is not None else resource.get("kind"))
    model = predictor.get("model")
    if model is not None:
        model_format = model.path("modelFormat.name")
        if model_format is not None:
            yield Feature(SERVING, f"kserve-format:{name}", model_format.text().lower(), model_format)
        runtime = model.get("runtime")
        if runtime is not None:
            yield Feature(SERVING, f"kserve-runtime:{name}", runtime.text(), runtime)
    for key, value in predictor.items():
        if key in ("sklearn", "xgboost", "lightgbm", "tensorflow", "pytorch", "triton", "onnx", "pmml", "paddle",
                   "huggingface", "mlflow"):
            yield Feature(SERVING, f"kserve-format:{name}", key, Val(key, value.file, value.at))


def _leaf_features(key: str, leaf: str, value: Val) -> Iterator[Feature]:
    """A configuration value read for stores, mocks and flags (environment variables, ConfigMap data)."""
    text = value.text()
    if _MOCK_WORD.search(leaf):
        truthy = text.lower() in TRUE_WORDS
        falsy = text.lower() in _FALSE
        if truthy or falsy:
            yield Feature(MOCK, f"mock:{key}", PRESENT if truthy else ABSENT, value)
            return
    if _EMULATOR.search(text):
        yield Feature(MOCK, f"mock:{key}", PRESENT, value)
        return
    if _is_store_key(leaf):
        reason = unknown_reason(value)
        kind = store_kind(text)
        if reason:
            yield Feature(STORE, f"store:{key}", "", value, reason)
        elif kind is not None:
            yield Feature(STORE, f"store:{key}", kind, value)


def _value_features(values: Val, source: str) -> Iterator[Feature]:
    for key, value in flatten(values):
        words = tokens(key)
        leaf = re.split(r"[.\[\]]", key.rstrip("]"))[-1]
        if (leaf == "repository" and key.endswith("image.repository")) or leaf.lower() in ("image", "imageuri"):
            if value.text():
                yield Feature(IMAGE, f"image:{key}", image_repository(value.text()), value, unknown_reason(value))
            continue
        flag = _flag(key, leaf, words, value)
        if flag is not None:
            yield flag
            continue
        if _SERVING_LEAVES.match(leaf) and value.text() and not is_size_key(key):
            yield Feature(SERVING, f"serving:{key}", value.text().lower(), value, unknown_reason(value))
            continue
        if is_size_key(key) and not _STORE_KEY.search(leaf):
            continue
        parts = [p for p in re.split(r"[.\[\]]", key) if p]
        if leaf.lower() in _KIND_LEAVES and len(parts) >= 2:
            leaf = f"{parts[-2]}_{leaf}"  # Feast `online_store: {type: sqlite}`: the store is the parent key
        yield from _leaf_features(f"values:{key}", leaf, value)


def _flag(key: str, leaf: str, words: list[str], value: Val) -> Feature | None:
    text = value.text().lower()
    if (text not in TRUE_WORDS and text not in _FALSE) or (isinstance(value.value, (int, float)) and \
            not isinstance(value.value, bool)):
        return None
    joined = "".join(words)
    parts = [p.lower().replace("_", "").replace("-", "") for p in re.split(r"[.\[\]]", key) if p]
    if leaf.lower() in _FLAG_LEAVES and len(parts) >= 2:
        subject = parts[-2]
    elif re.match(r"(?i)^(enable|use|with|create|deploy|is)", leaf.replace("_", "")):
        subject = re.sub(r"^(enabled?|use|with|create|deploy|is)", "", parts[-1]) or parts[-1]
    elif len(parts) >= 1 and any(pattern.search(parts[-1]) for pattern, _ in _COMPONENT_WORDS):
        subject = parts[-1]
    else:
        subject = ""
    if not subject:
        return None
    present = PRESENT if text in TRUE_WORDS else ABSENT
    if _MOCK_WORD.search(subject) or (_MOCK_WORD.search(joined) and "mock" in subject):
        return Feature(MOCK, f"flag:{key}", present, value)  # a mock switched on is evidence on its own
    for pattern, aspect in _COMPONENT_WORDS:
        if pattern.search(subject):
            # A flag one environment does not set takes a default these files do not show: not compared.
            return Feature(aspect, f"flag:{key}", present, value, scoped=True)
    return None
