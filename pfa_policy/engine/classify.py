"""What a file is (its kind) and what it is for (its scope), from its path and, where needed, its content."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from pfa_policy.engine.globs import path_matches
from pfa_policy.parsers.tree import Document, Node

# Teaching material: homework, solutions, exercises, labs, course cohorts and lesson layouts (numbered top-level
# modules such as `01-intro/`, weeks, lectures, chapters). Default example globs, except for a directory a CI
# pipeline of the repository builds and deploys (`engine/deployed_scope.py`): that one runs in production.
TEACHING_GLOBS: tuple[str, ...] = (
    "**/homework*/**", "**/solution*/**", "**/*[-_]solution*/**", "**/exercise*/**", "**/cohorts/**", "**/labs/**",
    "**/lab-[0-9]*/**", "**/lab_[0-9]*/**", "**/lessons/**", "**/lesson[-_0-9]*/**", "**/workshops/**",
    "**/tutorial[-_]*/**", "[0-9][0-9]-*/**", "[0-9][0-9]_*/**", "**/week[-_0-9]*/**",
    "**/module[-_][0-9]*/**", "**/lecture*/**", "**/chapter[-_0-9]*/**")

# Scope globs that hold whatever the policy says; checked after the policy's own, in this order. A glob without
# `/` names a file or directory at any depth (`fixtures` is every `fixtures/` directory).
DEFAULT_SCOPE_GLOBS: dict[str, tuple[str, ...]] = {
    # Code copied from elsewhere: third-party packages, upstream manifests synced into the repository. No rule
    # reads it by default; it is not this team's code to fix.
    "vendored": ("_vendor/**", "**/_vendor/**", "vendor/**", "**/vendor/**", "**/vendored/**", "**/third_party/**",
                 "**/third-party/**", "**/thirdparty/**", "**/upstream/**"),
    "test": ("tests/**", "test/**", "**/tests/**", "**/test/**", "test_*.py", "*_test.py", "conftest.py",
             "test.py", "tests.py", "**/__tests__/**", "tox.ini", "noxfile.py",
             # Test data and fixtures wherever they live, and integration, end-to-end, smoke and load tests
             # (`integ*-test*` also covers the `integraton-test/` of a real course repository).
             "**/test_data/**", "**/testdata/**", "**/test-data/**", "**/fixtures/**", "**/__fixtures__/**",
             "**/integ*[-_]test*/**", "**/integration[-_]tests/**", "**/e2e/**", "**/e2e[-_]test*/**",
             "**/*[-_]e2e/**", "**/smoke[-_]test*/**", "**/load[-_]test*/**", "**/locust/**", "locustfile*.py",
             "docker-compose.test.y*ml",
             "docker-compose.ci.y*ml", "compose.test.y*ml", "*.test.y*ml",
             # Test utilities a library ships for its users' tests (`bentoml.testing`, `pandas._testing`,
             # `transformers.testing_utils`): doubles and fixtures are their purpose, not a production path.
             "**/testing/**", "**/_testing/**", "**/test_utils/**", "**/testing_utils/**", "_testing.py",
             "testing_utils.py", "test_utils.py"),
    "dev": (".devcontainer/**", "docker-compose.dev.y*ml", "docker-compose.local.y*ml",
            "docker-compose.override.y*ml", "compose.dev.y*ml", "compose.override.y*ml", "*.dev.y*ml",
            "*.local.y*ml", "**/overlays/dev/**", "**/overlays/local/**", ".env.example", ".env.sample",
            "Dockerfile.dev", "Dockerfile.local", "*.dev.Dockerfile", "*.dev.dockerfile", ".gitpod.Dockerfile",
            ".gitpod.yml", "local.properties", "*-local.properties", "application-local.*",
            # Developer tooling: local dev loops (Tilt, Skaffold dev profiles), dev-only helper directories.
            "**/devtools/**", "**/dev-tools/**", "**/dev_tools/**", "Tiltfile", "*.Tiltfile", "tilt_config.json",
            "**/tilt/**", "skaffold.dev.y*ml", "skaffold-dev.y*ml", "skaffold.local.y*ml"),
    "example": ("docs/**", "doc/**", "examples/**", "example/**", "samples/**", "tutorials/**",
                "**/docs/**", "**/examples/**", "*.md", "*.rst",
                # Documentation sites: Docusaurus keeps each released version's pages and their code samples in
                # `versioned_docs/version-X/`; FastAPI-style projects keep documentation code in `docs_src/`.
                "**/versioned_docs/**", "**/docs_src/**",
                # Project templates: cookiecutter / copier directories (`{{cookiecutter.project_slug}}/`) and
                # template trees describe projects generated from them.
                "**/*{{*}}*/**", "**/*{%*%}*/**", "**/project[-_]template/**", "**/cookiecutter[-_]*/**",
                *TEACHING_GLOBS),
    "notebook": ("*.ipynb",),
}
SCOPE_ORDER = ("production", "vendored", "test", "dev", "example", "notebook")
# Container images that only emulate a cloud service: a compose file that starts nothing else is a test or dev
# harness, whatever its name.
_EMULATOR_IMAGE = re.compile(
    r"(?i)^(?:[\w.-]+(?::\d+)?/)*(?:localstack|wiremock|moto(?:server)?|azurite|fake-gcs-server|gcloud-emulators?"
    r"|cloud-sdk|dynamodb-local|mockserver|mock-server|mailhog|mailpit|elasticmq|smtp4dev|prism|mountebank"
    r"|pubsub-emulator|firestore-emulator|bigtable-emulator|kinesalite|s3mock|adobe/s3mock)(?:[:@].*)?$")
_COMPOSE_IMAGE = re.compile(r"^[ \t]+image:\s*[\"']?([^\s\"'#]+)", re.MULTILINE)
_COMPOSE_BUILD = re.compile(r"^[ \t]+build:", re.MULTILINE)
_COMPOSE_NAME = re.compile(r"^(?:docker-)?compose[\w.-]*\.ya?ml$", re.IGNORECASE)


# Images of third-party cluster add-ons that projects copy into their manifests (a demo's `k8s_specs/` holding
# Argo CD's install, GKE's Stackdriver agents, the NVIDIA driver installer, an NFS provisioner): not this team's
# workloads. A manifest file whose every image is one of these (or a pause container) is vendored.
_ADDON_IMAGE = re.compile(
    r"(?i)(?:^|/)(?:argoproj/argo-?cd|argocd-|dexidp/dex|stackdriver-agents/|google[-_]containers/(?:addon-resizer|pause)"
    r"|addon-resizer|cos-nvidia-installer|nvidia-driver-installer|sig-storage/|nfs-(?:client|subdir-external)-provisioner"
    r"|jetstack/cert-manager|ingress-nginx/controller|kube-state-metrics|prometheus/node-exporter|metrics-server/"
    r"|fluent/fluent(?:d|-bit)|kube-rbac-proxy|pause)[\w./-]*(?:[:@][^\s]*)?$")
_MANIFEST_IMAGE = re.compile(r"^[ \t-]*image:[ \t]*[\"']?([A-Za-z0-9][^\s\"'#]*)", re.MULTILINE)


def third_party_addon_manifest(text: str) -> list[str]:
    """The images of a Kubernetes manifest file whose every container is a third-party cluster add-on, else []."""
    if "apiVersion" not in text:
        return []
    images = _MANIFEST_IMAGE.findall(text)
    if not images or not all(_ADDON_IMAGE.search(i) for i in images):
        return []
    return images


def emulator_only_compose(text: str) -> list[str]:
    """The emulator images of a compose file that starts nothing else (no service builds or runs another
    image), else []."""
    images = _COMPOSE_IMAGE.findall(text)
    if not images or _COMPOSE_BUILD.search(text) or not all(_EMULATOR_IMAGE.match(i) for i in images):
        return []
    return images


# CI pipeline definitions whose path says which CI system runs them (YAML documents). Pipelines only their
# content tells apart (Azure Pipelines outside the usual names, Tekton, Argo Workflows, Prow job configs, a
# Jenkinsfile) are the `ci-pipeline` fact's: `pfa_policy.engine.predicates.cicd.ci_files` combines both.
CI_KINDS = frozenset({"github-workflow", "gitlab-ci", "azure-pipelines", "circleci", "bitbucket-pipelines",
                      "buildkite", "cloudbuild", "codebuild", "drone"})
# YAML files that content alone tells apart from other YAML, and that stay `yaml` too: Azure ML CLI v2
# specifications (by their `$schema`) and conda environment files (top-level `dependencies:` with `channels:`,
# a `pip:` section or a `python` requirement). Their documents are `azureml` / `conda`, and a rule naming `yaml`
# among its targets still reads them (`reads_kind`); a rule naming `azureml` or `conda` reads only them.
YAML_REFINEMENTS = frozenset({"azureml", "conda"})
# Kinds read as YAML or JSON documents.
STRUCTURED_KINDS = frozenset({"kubernetes", "kserve", "seldon", "compose", "cloudformation", "helm-values",
                              "mlproject", "dvc", "bentofile", "yaml", "json", "terraform"}) | CI_KINDS \
    | YAML_REFINEMENTS
# Terraform files are read as Terraform and, by text rules (key material, connection strings), as text.
TERRAFORM_KINDS = frozenset({"terraform", "text"})
# A Helm chart template is rendered against the chart's default values (`engine.helm`); its documents are then
# typed like manifests. Text rules do not read its source (Go template text, not what is deployed).
HELM_TEMPLATE_KINDS = frozenset({"helm-template", "kubernetes", "kserve", "seldon"})
_BINARY_SUFFIXES = frozenset({
    ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".svg", ".pdf", ".zip", ".gz", ".tgz", ".bz2", ".xz",
    ".tar", ".whl", ".egg", ".so", ".dll", ".dylib", ".exe", ".bin", ".pkl", ".pickle", ".joblib", ".h5",
    ".hdf5", ".pt", ".pth", ".onnx", ".safetensors", ".parquet", ".feather", ".arrow", ".npy", ".npz",
    ".tflite", ".pb", ".ckpt", ".mar", ".woff", ".woff2", ".ttf", ".otf", ".mp3", ".mp4", ".wav", ".avro",
    ".orc", ".db", ".sqlite", ".sqlite3", ".jar", ".class", ".pyc", ".xlsx", ".xls", ".docx",
})
_TEXT_SUFFIXES = frozenset({".txt", ".cfg", ".ini", ".conf", ".sh", ".bash", ".env", ".properties", ".toml",
                            ".tf", ".tfvars", ".hcl", ".md", ".rst", ".in", ".j2", ".tpl", ".xml", ".csv",
                            ".tsv", ".sql", ".pem", ".key"})

_CFN = re.compile(r"^[ \t]*[\"']?AWSTemplateFormatVersion[\"']?\s*:", re.MULTILINE)
_CFN_RESOURCE = re.compile(r"[\"']?Type[\"']?\s*:\s*[\"']?AWS::")
_K8S_API = re.compile(r"^[\"']?apiVersion[\"']?\s*:\s*[\"']?([\w.\-/]+)", re.MULTILINE)
_K8S_KIND = re.compile(r"^[\"']?kind[\"']?\s*:", re.MULTILINE)
_TEMPLATED_API = re.compile(r"^[ \t]*[\"']?apiVersion[\"']?\s*:\s*[\"']?\{\{", re.MULTILINE)
_CRD_KIND = re.compile(r"^kind:[ \t]*[\"']?CustomResourceDefinition[\"']?[ \t]*(?:#[^\r\n]*)?\r?$", re.MULTILINE)
_CRD_API = re.compile(r"^apiVersion:[ \t]*[\"']?apiextensions\.k8s\.io/", re.MULTILINE)
# Azure ML CLI v2 YAML names its schema: `$schema: https://azuremlschemas.azureedge.net/latest/
# managedOnlineDeployment.schema.json` (older CLI versions: azuremlschemasprod.azureedge.net; the early previews
# azuremlsdk2.blob.core.windows.net/preview/0.0.1/).
_AZUREML_SCHEMA_HOST = r"https?://(?:azuremlschemas(?:prod)?\.azureedge\.net|azuremlsdk2\.blob\.core\.windows\.net)/"
_AZUREML_SCHEMA_URL = re.compile(rf"(?i)^{_AZUREML_SCHEMA_HOST}(?:[^\s/]+/)*([A-Za-z][A-Za-z0-9]*)\.schema\.json$")
_AZUREML_SCHEMA_LINE = re.compile(rf"^[\"']?\$schema[\"']?[ \t]*:[ \t]*[\"']?{_AZUREML_SCHEMA_HOST}",
                                  re.MULTILINE | re.IGNORECASE)
_CONDA_DEPENDENCIES = re.compile(r"^dependencies:[ \t]*(?:#[^\n]*)?\r?$", re.MULTILINE)
_CONDA_MARKER = re.compile(
    r"^channels:|^[ \t]*-[ \t]+pip[ \t]*:"
    r"|^[ \t]*-[ \t]+[\"']?(?:[\w.-]+::)?python(?:[ \t]*[=<>!~]|[\"']?[ \t]*(?:#[^\n]*)?\r?$)",
    re.MULTILINE)


def azureml_schema(root: Node) -> str | None:
    """The Azure ML schema a CLI v2 document names (`managedOnlineDeployment`, `environment`, `commandJob` ...),
    from its `$schema` URL; None for any other document."""
    if not root.is_mapping:
        return None
    schema = root.get("$schema")
    if schema is None or not isinstance(schema.value, str):
        return None
    match = _AZUREML_SCHEMA_URL.match(schema.value.strip())
    return match.group(1) if match else None


def is_resource_definition(document_text: str) -> bool:
    """A Kubernetes CustomResourceDefinition: an API schema (often megabytes of OpenAPI), not configuration
    that runs; no rule reads one, so it is neither parsed nor read by text rules."""
    return bool(_CRD_KIND.search(document_text) and _CRD_API.search(document_text))


@dataclass(frozen=True, slots=True)
class DeployedDirectory:
    """A directory of teaching material that a CI pipeline of the repository builds and deploys."""

    directory: str  # repository-relative, never the root
    pipeline: str  # the CI file
    job: str = ""  # the job that builds it, where the CI system has named jobs

    @property
    def reason(self) -> str:
        where = f" (job {self.job})" if self.job else ""
        return f"built and deployed by {self.pipeline}{where}"

    def covers(self, path: str) -> bool:
        return path.startswith(self.directory + "/")


@dataclass(frozen=True, slots=True)
class ScopeRules:
    """Ordered (scope, globs, origin) entries: the first that matches a path decides its scope. `deployed`:
    directories the teaching-material globs do not put in the example scope (see `with_deployed`)."""

    entries: tuple[tuple[str, tuple[str, ...], str], ...]
    deployed: tuple[DeployedDirectory, ...] = ()

    @classmethod
    def build(cls, policy_scopes: Mapping[str, Sequence[str]]) -> ScopeRules:
        entries = [(scope, tuple(policy_scopes[scope]), "policy") for scope in SCOPE_ORDER
                   if policy_scopes.get(scope)]
        entries += [(scope, DEFAULT_SCOPE_GLOBS[scope], "default") for scope in SCOPE_ORDER
                    if scope in DEFAULT_SCOPE_GLOBS]
        return cls(tuple(entries))

    def with_deployed(self, deployed: Iterable[DeployedDirectory]) -> ScopeRules:
        """These rules, where the default teaching-material globs give way under the directories CI builds and
        deploys (the policy's globs and every other default still decide)."""
        return ScopeRules(self.entries, tuple(deployed))

    def as_dict(self) -> dict[str, list[str]]:
        """Each scope's globs, the policy's first, then the defaults (what `pfa-policy config` prints)."""
        scopes: dict[str, list[str]] = {}
        for scope, globs, _ in self.entries:
            scopes.setdefault(scope, []).extend(globs)
        return scopes

    def scope_of(self, path: str, read: Callable[[str], str] | None = None) -> str:
        return self.explain(path, read)[0]

    def explain(self, path: str, read: Callable[[str], str] | None = None) -> tuple[str, str]:
        """The path's scope and why: the glob that decided it (the policy's or a default), or, given a reader,
        a compose file that only starts emulators (LocalStack, WireMock ...); a production file that only a
        teaching-material glob would have made an example says which pipeline builds and deploys it."""
        deployed = next((d for d in self.deployed if d.covers(path)), None) if self.deployed else None
        for scope, globs, origin in self.entries:
            if path_matches(path, globs):
                glob = next(g for g in globs if path_matches(path, (g,)))
                if deployed is not None and origin == "default" and glob in TEACHING_GLOBS:
                    others = [g for g in globs if g not in TEACHING_GLOBS and path_matches(path, (g,))]
                    if not others:
                        continue
                    glob = others[0]
                return scope, f"{origin} {scope} glob {glob}"
        name = path.rpartition("/")[2]
        if read is not None and _COMPOSE_NAME.match(name):
            images = emulator_only_compose(read(path))
            if images:
                return "test", "compose file that only starts emulators (" + ", ".join(sorted(set(images))) + ")"
        elif read is not None and name.endswith((".yaml", ".yml")) and not path.startswith(".github/"):
            images = third_party_addon_manifest(read(path))
            if images:
                return "vendored", "copy of third-party cluster add-ons (" + ", ".join(sorted(set(images))[:3]) + ")"
        if deployed is not None and path_matches(path, TEACHING_GLOBS):
            return "production", deployed.reason
        return "production", ""


def chart_directories(paths: Iterable[str]) -> frozenset[str]:
    return frozenset(str(PurePosixPath(p).parent) for p in paths if p.rpartition("/")[2] == "Chart.yaml")


def path_kind(path: str, charts: frozenset[str]) -> str | None:
    """The kind a path alone decides; 'yaml'/'json' still need a look at the content. None: not scanned."""
    pure = PurePosixPath(path)
    name = pure.name
    lower = name.lower()
    suffix = pure.suffix.lower()
    parent = str(pure.parent)
    if suffix in _BINARY_SUFFIXES:
        return None
    if suffix == ".py" or suffix == ".pyi":
        return "python"
    if suffix == ".ipynb":
        return "notebook"
    if lower in ("dockerfile", "containerfile") or lower.startswith("dockerfile.") or lower.endswith(".dockerfile"):
        return "dockerfile"
    if name == "MLproject":
        return "mlproject"
    if path.endswith(".dvc/config") or path == ".dvc/config":
        return "dvc-config"
    if (lower.startswith("requirements") and suffix in (".txt", ".in")) or lower in ("constraints.txt",):
        return "requirements"
    if name == "pyproject.toml":
        return "pyproject"
    if suffix == ".tf" or lower.endswith(".tf.json"):
        return "terraform"
    if suffix in (".yml", ".yaml"):
        return _yaml_path_kind(path, lower, parent, charts)
    if suffix in (".json", ".template"):
        return "json"
    if suffix in _TEXT_SUFFIXES or name in ("Jenkinsfile", "Makefile", "Procfile") or lower.startswith(".env"):
        return "text"
    return None


def _yaml_path_kind(path: str, lower: str, parent: str, charts: frozenset[str]) -> str:
    if parent == ".github/workflows" or parent.endswith("/.github/workflows"):
        return "github-workflow"
    if lower == ".gitlab-ci.yml" or lower.endswith(".gitlab-ci.yml"):
        return "gitlab-ci"
    ci = _ci_path_kind(lower, parent)
    if ci:
        return ci
    if lower.startswith(("docker-compose", "compose.", "compose-")):
        return "compose"
    if lower == "dvc.yaml":
        return "dvc"
    if lower == "bentofile.yaml":
        return "bentofile"
    for chart in charts:
        prefix = "" if chart == "." else chart + "/"
        if path.startswith(prefix + "templates/"):
            return "helm-template"  # Go templates: not YAML until rendered (engine.helm renders them)
        if parent == chart and lower.startswith("values"):
            return "helm-values"
    return "yaml"


# An AWS CodeBuild buildspec (a YAML file) by its name: `buildspec.yml`, `buildspecs.yml`, `buildspec-deploy.yml`,
# and the names a project's `buildspec = "..."` points at (`modelbuild_buildspec.yml`, `ci.buildspec.yaml`,
# `test_buildspec_singleaccount.yml`, `prodbuildspec.yml`): `buildspec` / `buildspecs` as a word between `_`, `-`
# or `.`, or the name ending in `buildspec.yml` / `.yaml`. A name that only contains the letters
# (`buildspecification-notes.yml`, `rebuildspec_notes.yml`) is not one.
_BUILDSPEC_NAME = re.compile(r"(?:^|[._-])buildspecs?(?:[._-]|$)|buildspec\.ya?ml$")


def _ci_path_kind(lower: str, parent: str) -> str:
    directory = parent.rpartition("/")[2]
    if lower.startswith("azure-pipelines") or directory in (".azure-pipelines", ".azuredevops"):
        return "azure-pipelines"
    if directory == ".circleci" and lower in ("config.yml", "config.yaml"):
        return "circleci"
    if lower == "bitbucket-pipelines.yml":
        return "bitbucket-pipelines"
    if directory == ".buildkite" or lower in ("buildkite.yml", "buildkite.yaml", ".buildkite.yml"):
        return "buildkite"
    if lower.startswith("cloudbuild"):
        return "cloudbuild"
    if _BUILDSPEC_NAME.search(lower):
        return "codebuild"
    if lower == ".drone.yml":
        return "drone"
    return ""


def content_kinds(kind: str, text: str) -> frozenset[str]:
    """Refine a generic yaml/json file by content: Kubernetes, KServe, Seldon, CloudFormation, an Azure ML CLI v2
    specification or a conda environment file (the last two stay `yaml` as well)."""
    if kind == "terraform":
        return TERRAFORM_KINDS
    if kind == "helm-template":
        # The literal `apiVersion:` lines say which manifests a template renders; a templated one could be any.
        apis = _K8S_API.findall(text)
        if apis and not _TEMPLATED_API.search(text):
            return frozenset({"helm-template", *(_api_kind(api) for api in apis)})
        return HELM_TEMPLATE_KINDS
    if kind not in ("yaml", "json"):
        return frozenset({kind})
    if _CFN.search(text) or ("Resources" in text and _CFN_RESOURCE.search(text)):
        return frozenset({"cloudformation"})
    if kind == "yaml" and "$schema" in text and _AZUREML_SCHEMA_LINE.search(text):
        return frozenset({"azureml", "yaml"})
    if kind == "yaml" and "dependencies" in text and _CONDA_DEPENDENCIES.search(text) and _CONDA_MARKER.search(text):
        return frozenset({"conda", "yaml"})
    if kind == "yaml" and _K8S_KIND.search(text):
        apis = _K8S_API.findall(text)
        if apis:
            return frozenset(_api_kind(api) for api in apis)
    return frozenset({kind})


def reads_kind(targets: frozenset[str], kind: str) -> bool:
    """Whether a rule with these targets reads a document of this kind: its own kind, or `yaml` for the YAML
    kinds content refines (Azure ML, conda), which generic YAML rules keep reading."""
    return kind in targets or (kind in YAML_REFINEMENTS and "yaml" in targets)


def _api_kind(api: str) -> str:
    if api.startswith("serving.kserve.io"):
        return "kserve"
    if api.startswith("machinelearning.seldon.io"):
        return "seldon"
    return "kubernetes"


def document_kind(file_kinds: frozenset[str], document: Document) -> str:
    """The kind of one document of a file: manifests are typed one document at a time, and so are Azure ML
    specifications (a document that names no Azure ML schema in an `azureml` file is `yaml`)."""
    root = document.root
    api = root.get("apiVersion")
    if root.get("kind") is not None and api is not None and isinstance(api.value, str):
        return _api_kind(api.value)
    if "azureml" in file_kinds:
        return "azureml" if azureml_schema(root) is not None else "yaml"
    for kind in sorted(file_kinds):
        if kind not in ("kubernetes", "kserve", "seldon"):
            return kind
    return "yaml"
