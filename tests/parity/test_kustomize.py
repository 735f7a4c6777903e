from pfa_policy.parity import kustomize
from pfa_policy.parity.located import Val, json_patch, load, strategic_merge
from tests.parity.helpers import view

BASE = {
    "base/kustomization.yaml": "resources: [deployment.yaml]\n",
    "base/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n    spec:\n"
        "      containers:\n        - name: api\n          image: ghcr.io/acme/api:1.0\n"
        "          env:\n            - {name: MODE, value: real}\n        - name: proxy\n          image: envoy:1\n"),
}


def render(files: dict[str, str], directory: str) -> kustomize.Rendered:
    return kustomize.render(view(files).tree(), directory)


def test_strategic_merge_merges_containers_and_env_by_name() -> None:
    files = {**BASE, "prod/kustomization.yaml": "resources: [../base]\npatchesStrategicMerge: [patch.yaml]\n",
             "prod/patch.yaml": ("kind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n    spec:\n"
                                 "      containers:\n        - name: api\n          env:\n"
                                 "            - {name: MODE, value: shadow}\n")}
    deployment = render(files, "prod").resources[0]
    containers = list(deployment.path("spec.template.spec.containers").elements())  # type: ignore[union-attr]
    assert [c.get("name").text() for c in containers] == ["api", "proxy"]  # type: ignore[union-attr]
    mode = next(containers[0].get("env").elements()).get("value")  # type: ignore[union-attr]
    assert (mode.text(), mode.file, mode.span.line) == ("shadow", "prod/patch.yaml", 9)  # type: ignore[union-attr]
    assert containers[0].get("image").text() == "ghcr.io/acme/api:1.0"  # type: ignore[union-attr]


def test_json6902_inline_patch_with_target_and_positions_in_the_kustomization() -> None:
    files = {**BASE, "prod/kustomization.yaml": (
        "resources: [../base]\npatches:\n  - target: {kind: Deployment, name: api}\n    patch: |-\n"
        "      - op: add\n        path: /spec/template/spec/securityContext\n        value: {runAsNonRoot: true}\n"
        "      - op: remove\n        path: /spec/template/spec/containers/1\n")}
    deployment = render(files, "prod").resources[0]
    pod = deployment.path("spec.template.spec")
    assert pod is not None and len(list(pod.get("containers").elements())) == 1  # type: ignore[union-attr]
    flag = pod.path("securityContext.runAsNonRoot")
    assert flag is not None and flag.value is True and flag.file == "prod/kustomization.yaml" and flag.span.line == 7


def test_images_transformer_and_unrendered_parts_are_reported() -> None:
    files = {**BASE, "stg/kustomization.yaml": (
        "resources:\n  - ../base\n  - github.com/acme/shared//monitoring?ref=v1\nhelmCharts: [{name: redis}]\n"
        "images:\n  - {name: ghcr.io/acme/api, newName: ghcr.io/acme/api-snapshot, newTag: '2.0'}\n")}
    rendered = render(files, "stg")
    image = rendered.resources[0].path("spec.template.spec.containers")
    first = next(image.elements()).get("image")  # type: ignore[union-attr]
    assert first is not None and first.text() == "ghcr.io/acme/api-snapshot:2.0"
    assert first.file == "stg/kustomization.yaml"
    assert any("remote base" in reason for reason in rendered.unrendered)
    assert any("Helm charts" in reason for reason in rendered.unrendered)


def test_patch_delete_directive_and_missing_files() -> None:
    files = {**BASE, "prod/kustomization.yaml": "resources: [../base, missing.yaml]\npatches: [{path: gone.yaml}]\n"}
    rendered = render(files, "prod")
    assert len(rendered.resources) == 1
    assert len(rendered.unrendered) == 2
    base = Val({"a": Val(1, "f"), "b": Val({"c": Val(2, "f")}, "f")}, "f")
    patch = Val({"b": Val({"$patch": Val("delete", "p")}, "p"), "a": Val(None, "p")}, "p")
    assert strategic_merge(base, patch).value == {}  # type: ignore[union-attr]


def test_json_patch_operations() -> None:
    document = load("d.yaml", "spec:\n  list: [a, b]\n  keep: 1\n")[0]
    operations = load("p.yaml", "- {op: replace, path: /spec/list/0, value: z}\n- {op: add, path: /spec/list/-, "
                                "value: c}\n- {op: move, from: /spec/keep, path: /spec/moved}\n")[0]
    result = json_patch(document, operations)
    assert [e.text() for e in result.path("spec.list").elements()] == ["z", "b", "c"]  # type: ignore[union-attr]
    assert result.path("spec.moved").text() == "1" and result.path("spec.keep") is None  # type: ignore[union-attr]
