#!/usr/bin/env python3
"""Generate a large, deterministic synthetic ML monorepo for benchmarking pfa-policy.

Usage::

    python benchmarks/gen_monorepo.py OUT_DIR [--python-files 5000] [--manifests 1000] [--seed 7]
    python benchmarks/gen_monorepo.py OUT_DIR --modify 10      # edit 10 files on a new branch

The same arguments always give byte-identical files and the same git commit ids (no
timestamps, no randomness outside ``random.Random`` seeded from ``--seed`` and the file
path).  About 8 % of the eligible files get one deliberate violation (see
``--violation-rate``); ``--violations-file`` writes where they are, as JSON.

With ``--modify N`` on an existing git repository (generated or not), N tracked files
(Python modules and Kubernetes manifests) get one violation appended each, committed on
the branch ``pfa-bench-modify-N`` created from the current branch, whose name is printed
as ``base=...`` for ``pfa-policy scan --diff-base``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_config_templates as cfg
import gen_python_templates as pyt

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Bench Generator",
    "GIT_AUTHOR_EMAIL": "bench-generator@example.com",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00+0000",
    "GIT_COMMITTER_NAME": "Bench Generator",
    "GIT_COMMITTER_EMAIL": "bench-generator@example.com",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00+0000",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
GIT_OPTS = ["-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", "-c", "init.defaultBranch=main",
            "-c", "core.hooksPath=/dev/null"]

PY_WEIGHTS = [("features", 0.22), ("training", 0.14), ("serving", 0.12), ("dag", 0.08), ("utils", 0.16),
              ("tests", 0.28)]
MANIFEST_WEIGHTS = [("deployment", 0.22), ("service", 0.12), ("ingress", 0.07), ("hpa", 0.08), ("cronjob", 0.10),
                    ("kserve", 0.10), ("seldon", 0.06), ("helm", 0.11), ("cfn", 0.08), ("sam", 0.03),
                    ("cfn-json", 0.03)]
MANIFEST_VIOLATIONS: dict[str, list[str]] = {
    "deployment": ["k8s-no-resources", "k8s-no-probes", "k8s-privileged", "image-latest"],
    "cronjob": ["k8s-no-resources", "k8s-privileged", "image-latest"],
    "seldon": ["k8s-no-resources", "k8s-no-probes", "k8s-privileged", "image-latest"],
    "kserve": ["k8s-no-resources", "image-latest"],
    "helm": ["k8s-no-resources", "k8s-privileged", "image-latest"],
    "ingress": ["ingress-no-tls"],
    "cfn": ["s3-no-encryption"],
    "sam": ["s3-no-encryption"],
    "cfn-json": ["s3-no-encryption"],
}
COMPONENTS = ["api", "scorer", "batch", "explainer", "gateway", "feature-server", "shadow", "canary", "worker",
              "monitor", "backfill", "ab-router"]
HELM_ENVS = ["dev", "staging", "prod", "prod-eu", "prod-us", "prod-apac", "perf", "sandbox"]
FEATURE_SUFFIXES = ["features", "aggregates", "encoders", "windows", "transforms", "signals", "profiles"]
TRAIN_NAMES = ["train", "evaluate", "tune", "backtest", "calibrate", "train_incremental", "distill", "export"]
DAG_PURPOSES = ["feature_refresh", "retrain", "batch_scoring", "data_quality", "retention", "monitoring", "backfill"]
NOTEBOOK_TOPICS = ["eda", "label_analysis", "feature_importance", "error_analysis", "drift_review", "threshold_tuning"]


@dataclass
class Spec:
    path: str
    kind: str
    project: cfg.Project | None
    args: dict[str, str] = field(default_factory=dict)


@dataclass
class Stats:
    files: int = 0
    lines: int = 0
    bytes: int = 0
    by_ext: Counter[str] = field(default_factory=Counter)
    violations: list[dict[str, object]] = field(default_factory=list)


def split_counts(total: int, weights: list[tuple[str, float]]) -> dict[str, int]:
    """Largest-remainder split of ``total`` by ``weights`` (deterministic)."""
    raw = [(name, total * w) for name, w in weights]
    counts = {name: int(x) for name, x in raw}
    rest = total - sum(counts.values())
    for name, _ in sorted(raw, key=lambda t: (-(t[1] - int(t[1])), t[0]))[:rest]:
        counts[name] += 1
    return counts


def make_projects(n: int, rng: random.Random) -> list[cfg.Project]:
    combos = [(d, m) for d in pyt.DOMAINS for m in pyt.MODELS]
    rng.shuffle(combos)
    projects = []
    for i in range(n):
        d, m = combos[i % len(combos)]
        if i >= len(combos):
            m = f"{m}{i // len(combos) + 1}"
        projects.append(cfg.Project(d, m, rng.choice(["fastapi", "fastapi", "flask"]),
                                    f"{rng.randint(1, 3)}.{rng.randint(0, 20)}.{rng.randint(0, 40)}",
                                    rng.choice([8000, 8080, 9000])))
    return projects


def distribute(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def unique(name: str, taken: set[str]) -> str:
    stem, dot, ext = name.rpartition(".")
    candidate = name
    k = 2
    while candidate in taken:
        candidate = f"{stem}_{k}{dot}{ext}" if dot else f"{name}_{k}"
        k += 1
    taken.add(candidate)
    return candidate


def plan(python_files: int, manifests: int, seed: int) -> tuple[list[Spec], list[cfg.Project]]:
    rng = random.Random(f"{seed}:plan")
    n_projects = max(1, python_files // 50)
    projects = make_projects(n_projects, rng)
    specs: list[Spec] = []
    py_quota = distribute(python_files, n_projects)
    # manifests: split by kind over the whole repo, then dealt round-robin to the projects
    mf_kinds = [kind for kind, n in split_counts(manifests, MANIFEST_WEIGHTS).items() for _ in range(n)]
    rng.shuffle(mf_kinds)
    for i, (p, q_py) in enumerate(zip(projects, py_quota, strict=True)):
        specs += plan_python(p, q_py, rng)
        specs += plan_manifests(p, Counter(mf_kinds[i::n_projects]), rng)
        specs += plan_project_files(p, rng)
    specs += [Spec("README.md", "root-readme", None), Spec(".gitignore", "root-gitignore", None),
              Spec(".gitlab-ci.yml", "gitlab-root", None), Spec(".github/CODEOWNERS", "codeowners", None),
              Spec("pyproject.toml", "root-pyproject", None)]
    return specs, projects


def plan_python(p: cfg.Project, quota: int, rng: random.Random) -> list[Spec]:
    src = f"{p.path}/src/{p.pkg}"
    specs: list[Spec] = []
    taken: set[str] = set()
    fixed = [(f"{src}/__init__.py", "init-root"), (f"{src}/features/__init__.py", "init-features"),
             (f"{src}/training/__init__.py", "init-training"), (f"{src}/serving/__init__.py", "init-serving"),
             (f"{src}/utils/__init__.py", "init-utils"), (f"{p.path}/tests/conftest.py", "conftest")]
    if quota >= 10:
        specs += [Spec(path, kind, p) for path, kind in fixed]
        quota -= len(fixed)
    counts = split_counts(quota, PY_WEIGHTS)
    if quota >= 2 and counts["serving"] == 0:
        counts["serving"] = 1
        counts["utils" if counts["utils"] else "tests"] -= 1
    modules: list[tuple[str, str]] = []  # (import path, module name) for tests to import
    for _ in range(counts["features"]):
        ent = rng.choice(pyt.ENTITIES)
        name = unique(f"{ent}_{rng.choice(FEATURE_SUFFIXES)}.py", taken)
        specs.append(Spec(f"{src}/features/{name}", "features", p))
        modules.append((f"{p.pkg}.features", name[:-3]))
    for i in range(counts["training"]):
        base = TRAIN_NAMES[i] if i < len(TRAIN_NAMES) else f"train_{rng.choice(pyt.ENTITIES)}"
        name = unique(f"{base}.py", taken)
        specs.append(Spec(f"{src}/training/{name}", "training", p, {"modname": name[:-3]}))
        modules.append((f"{p.pkg}.training", name[:-3]))
    for i in range(counts["serving"]):
        if i == 0:
            name = unique("app.py", taken)
        else:
            name = unique(f"{rng.choice(pyt.ENTITIES)}_{rng.choice(['routes', 'api', 'handlers'])}.py", taken)
        specs.append(Spec(f"{src}/serving/{name}", "serving", p, {"is_app": "1" if i == 0 else ""}))
    for i in range(counts["dag"]):
        purpose = DAG_PURPOSES[i % len(DAG_PURPOSES)]
        name = unique(f"{p.pkg}_{purpose}_dag.py", taken)
        specs.append(Spec(f"{p.path}/dags/{name}", "dag", p, {"dag_id": name[:-7], "purpose": purpose}))
    for i in range(counts["utils"]):
        topic = pyt.UTIL_TOPICS[i % len(pyt.UTIL_TOPICS)]
        name = unique(f"{topic}.py", taken)
        specs.append(Spec(f"{src}/utils/{name}", "utils", p, {"topic": topic}))
        modules.append((f"{p.pkg}.utils", name[:-3]))
    for i in range(counts["tests"]):
        if modules:
            imp, mod = modules[i % len(modules)]
        else:
            imp, mod = p.pkg, "utils"
        name = unique(f"test_{mod}.py", taken)
        specs.append(Spec(f"{p.path}/tests/{name}", "tests", p,
                          {"import": imp, "name": mod, "unittest": "1" if rng.random() < 0.25 else ""}))
    return specs


def plan_manifests(p: cfg.Project, counts: Counter[str], rng: random.Random) -> list[Spec]:
    specs: list[Spec] = []
    taken: set[str] = set()
    k8s = f"deploy/k8s/{p.domain}/{p.model}"
    for kind in ("deployment", "service", "ingress", "hpa", "cronjob"):
        for i in range(counts[kind]):
            comp = COMPONENTS[i % len(COMPONENTS)]
            name = f"{p.model}-{comp}" if i < len(COMPONENTS) else f"{p.model}-{comp}-{i // len(COMPONENTS)}"
            fname = unique(f"{name}-{kind}.yaml", taken)
            specs.append(Spec(f"{k8s}/{fname}", kind, p, {"name": name}))
    for kind, folder in (("kserve", "deploy/kserve"), ("seldon", "deploy/seldon")):
        taken = set()
        for i in range(counts[kind]):
            name = f"{p.model}-{COMPONENTS[i % len(COMPONENTS)]}" + (f"-{i}" if i >= len(COMPONENTS) else "")
            fname = unique(f"{name}.yaml", taken)
            specs.append(Spec(f"{folder}/{p.domain}/{p.model}/{fname}", kind, p, {"name": name}))
    if counts["helm"]:
        specs.append(Spec(f"deploy/helm/{p.slug}/Chart.yaml", "helm-chart", p))
    for i in range(counts["helm"]):
        env = HELM_ENVS[i % len(HELM_ENVS)] + (f"-{i // len(HELM_ENVS)}" if i >= len(HELM_ENVS) else "")
        fname = "values.yaml" if i == 0 else f"values-{env}.yaml"
        specs.append(Spec(f"deploy/helm/{p.slug}/{fname}", "helm", p, {"env": env}))
    for kind, folder, ext in (("cfn", "infra/cloudformation", "yaml"), ("sam", "infra/sam", "yaml"),
                              ("cfn-json", "infra/cloudformation", "json")):
        for _ in range(counts[kind]):
            name = f"{p.model}-{rng.choice(['endpoint', 'stack', 'data', 'serving', 'features'])}"
            fname = unique(f"{name}.{ext}", taken)
            specs.append(Spec(f"{folder}/{p.slug}/{fname}", kind, p, {"name": name}))
    return specs


def plan_project_files(p: cfg.Project, rng: random.Random) -> list[Spec]:
    specs = [
        Spec(f"{p.path}/Dockerfile", "dockerfile", p, {"role": "serving"}),
        Spec(f"{p.path}/Dockerfile.train", "dockerfile", p, {"role": "training"}),
        Spec(f"{p.path}/requirements.txt", "requirements", p),
        Spec(f"{p.path}/requirements-dev.txt", "requirements-dev", p),
        Spec(f"{p.path}/README.md", "project-readme", p),
        Spec(f"{p.path}/pyproject.toml", "pyproject", p),
        Spec(f"{p.path}/.gitlab-ci.yml", "gitlab", p),
        Spec(f".github/workflows/{p.slug}.yml", "workflow", p),
        Spec(f"{p.path}/dvc.yaml", "dvc", p),
        Spec(f"{p.path}/params.yaml", "params", p),
    ]
    if rng.random() < 0.7:
        specs.append(Spec(f"{p.path}/docker-compose.yml", "compose", p))
    if rng.random() < 0.5:
        specs += [Spec(f"{p.path}/MLproject", "mlproject", p), Spec(f"{p.path}/python_env.yaml", "python-env", p)]
    if rng.random() < 0.4:
        specs.append(Spec(f"{p.path}/bentofile.yaml", "bentofile", p))
    for i, topic in enumerate(rng.sample(NOTEBOOK_TOPICS, rng.randint(1, 3))):
        specs.append(Spec(f"{p.path}/notebooks/{i + 1:02d}_{topic}.ipynb", "notebook", p, {"topic": topic}))
    return specs


# --------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------
PY_KIND_GROUP = {"features": "features", "training": "training", "serving": "serving", "dag": "dag",
                 "utils": "utils", "tests": "tests"}
OTHER_VIOLATIONS: dict[str, list[str]] = {
    "dockerfile": ["dockerfile-untagged-base"],
    "compose": ["image-latest", "k8s-privileged"],
    "workflow": ["action-unpinned"],
    "gitlab": ["image-latest"],
    "notebook": sorted(cfg.NB_VIOLATIONS),
}


def pick_violation(kind: str, rng: random.Random, rate: float) -> str | None:
    if kind in PY_KIND_GROUP:
        options = [v.kind for v in pyt.PY_VIOLATIONS if PY_KIND_GROUP[kind] in v.where]
    else:
        options = MANIFEST_VIOLATIONS.get(kind, []) or OTHER_VIOLATIONS.get(kind, [])
    if not options or rng.random() >= rate:
        return None
    return rng.choice(options)


def render(spec: Spec, seed: int, rate: float, projects: list[cfg.Project]) -> cfg.Doc:
    rng = random.Random(f"{seed}:{spec.path}")
    vkind = pick_violation(spec.kind, random.Random(f"{seed}:violation:{spec.path}"), rate)
    p = spec.project
    if p is None:
        return cfg.Doc(render_root(spec, projects))
    if spec.kind in PY_KIND_GROUP:
        return render_python(spec, p, rng, vkind)
    if spec.kind.startswith("init-"):
        return cfg.Doc(render_init(spec, p, rng))
    if spec.kind == "conftest":
        return cfg.Doc(pyt.conftest_module(pyt.Ctx(rng, p.domain, p.model, p.pkg)))
    builders: dict[str, Callable[[], cfg.Doc]] = {
        "deployment": lambda: cfg.k8s_deployment(rng, p, spec.args["name"], vkind),
        "service": lambda: cfg.k8s_service(rng, p, spec.args["name"], vkind),
        "ingress": lambda: cfg.k8s_ingress(rng, p, spec.args["name"], vkind),
        "hpa": lambda: cfg.k8s_hpa(rng, p, spec.args["name"], vkind),
        "cronjob": lambda: cfg.k8s_cronjob(rng, p, spec.args["name"], vkind),
        "kserve": lambda: cfg.kserve_isvc(rng, p, spec.args["name"], vkind),
        "seldon": lambda: cfg.seldon_deployment(rng, p, spec.args["name"], vkind),
        "helm": lambda: cfg.helm_values(rng, p, spec.args["env"], vkind),
        "helm-chart": lambda: cfg.Doc(cfg.helm_chart(p)),
        "cfn": lambda: cfg.cloudformation(rng, p, spec.args["name"], vkind),
        "sam": lambda: cfg.sam_template(rng, p, spec.args["name"], vkind),
        "cfn-json": lambda: cfg.cloudformation_json(rng, p, spec.args["name"], vkind),
        "dockerfile": lambda: cfg.dockerfile(rng, p, spec.args["role"], vkind),
        "compose": lambda: cfg.docker_compose(rng, p, vkind),
        "workflow": lambda: cfg.github_workflow(rng, p, vkind),
        "gitlab": lambda: cfg.gitlab_project(rng, p, vkind),
        "requirements": lambda: cfg.Doc(cfg.requirements(rng, p)),
        "requirements-dev": lambda: cfg.Doc(cfg.requirements_dev(rng)),
        "project-readme": lambda: cfg.Doc(cfg.project_readme(p)),
        "pyproject": lambda: cfg.Doc(cfg.pyproject(p)),
        "dvc": lambda: cfg.Doc(cfg.dvc_yaml(rng, p)),
        "params": lambda: cfg.Doc(cfg.params_yaml(rng, p)),
        "mlproject": lambda: cfg.Doc(cfg.mlproject(rng, p)),
        "python-env": lambda: cfg.Doc(cfg.python_env(p)),
        "bentofile": lambda: cfg.Doc(cfg.bentofile(rng, p)),
        "notebook": lambda: cfg.notebook(rng, p, spec.args["topic"].replace("_", " ").title(), vkind,
                                         f"{seed}:{spec.path}"),
    }
    return builders[spec.kind]()


def target_lines(rng: random.Random) -> int:
    return int(min(400, max(100, rng.triangular(100, 400, 190))))


def render_python(spec: Spec, p: cfg.Project, rng: random.Random, vkind: str | None) -> cfg.Doc:
    ctx = pyt.Ctx(rng, p.domain, p.model, p.pkg)
    violation = next((v for v in pyt.PY_VIOLATIONS if v.kind == vkind), None)
    target = target_lines(rng)
    a = spec.args
    if spec.kind == "features":
        pf = pyt.feature_module(ctx, target, violation)
    elif spec.kind == "training":
        pf = pyt.training_script(ctx, target, violation, a["modname"])
    elif spec.kind == "serving":
        pf = pyt.serving_module(ctx, target, violation, flask=p.framework == "flask", is_app=bool(a["is_app"]))
    elif spec.kind == "dag":
        pf = pyt.dag_module(ctx, target, violation, a["dag_id"], a["purpose"].replace("_", " "))
    elif spec.kind == "utils":
        pf = pyt.util_module(ctx, target, violation, a["topic"])
    else:
        pf = pyt.test_module(ctx, target, violation, a["import"], a["name"], bool(a["unittest"]))
    return cfg.Doc(pf.text, pf.violation, None if pf.violation_line is None else f"@line:{pf.violation_line}")


def render_init(spec: Spec, p: cfg.Project, rng: random.Random) -> str:
    ctx = pyt.Ctx(rng, p.domain, p.model, p.pkg)
    sub = spec.kind.split("-", 1)[1]
    if sub == "root":
        return pyt.init_module(ctx, f"{p.domain} {p.model}: features, training and serving.", [], p.version)
    return pyt.init_module(ctx, f"{sub.capitalize()} code of the {p.domain} {p.model} model.", [], None)


def render_root(spec: Spec, projects: list[cfg.Project]) -> str:
    if spec.kind == "root-readme":
        rows = "\n".join(f"| `{p.path}` | {p.domain} | {p.model} | {p.framework} |" for p in projects)
        return ("# ML platform monorepo (synthetic)\n\nGenerated by pfa-policy's benchmarks/gen_monorepo.py. "
                "Every project owns its code under `projects/`, its manifests under `deploy/` and its\n"
                "infrastructure under `infra/`.\n\n| project | team | model | serving |\n| --- | --- | --- | --- |\n"
                + rows + "\n")
    if spec.kind == "root-gitignore":
        return "__pycache__/\n*.pyc\n.venv/\n.ipynb_checkpoints/\n/data/\n/models/\n.dvc/tmp\n.pytest_cache/\n"
    if spec.kind == "gitlab-root":
        return cfg.gitlab_root(projects)
    if spec.kind == "codeowners":
        owners = "".join(f"/{p.path}/ @example-org/{p.domain}-ml\n" for p in projects)
        return owners + "/deploy/ @example-org/platform\n"
    return ('[tool.ruff]\nline-length = 110\nextend-exclude = ["**/notebooks/**"]\n\n'
            '[tool.pytest.ini_options]\naddopts = "-q"\n')


def locate(text: str, marker: str | None) -> int | None:
    if marker is None:
        return None
    if marker.startswith("@line:"):
        return int(marker[6:])
    idx = text.find(marker)
    return None if idx < 0 else text.count("\n", 0, idx) + 1


# --------------------------------------------------------------------------------------
# git
# --------------------------------------------------------------------------------------
def git(repo: Path, *args: str, capture: bool = False) -> str:
    env = {**os.environ, **GIT_ENV}
    proc = subprocess.run(["git", *GIT_OPTS, *args], cwd=repo, env=env, check=True, text=True,
                          stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
    return proc.stdout.strip() if capture else ""


def generate(out: Path, python_files: int, manifests: int, seed: int, rate: float) -> Stats:
    stats = Stats()
    specs, projects = plan(python_files, manifests, seed)
    made_dirs: set[Path] = set()
    for spec in specs:
        doc = render(spec, seed, rate, projects)
        path = out / spec.path
        if path.parent not in made_dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            made_dirs.add(path.parent)
        data = doc.text.encode("utf-8")
        path.write_bytes(data)
        stats.files += 1
        stats.lines += doc.text.count("\n")
        stats.bytes += len(data)
        ext = path.suffix or path.name
        stats.by_ext[ext] += 1
        if doc.violation:
            stats.violations.append({"path": spec.path, "line": locate(doc.text, doc.marker), "kind": doc.violation})
    git(out, "init", "-q", "-b", "main")
    git(out, "add", "-A")
    git(out, "commit", "-q", "-m", f"Synthetic ML monorepo (seed {seed}, {python_files} python files, "
                                   f"{manifests} manifests)")
    return stats


MODIFY_PY = '''

def _pfa_bench_fetch_{n}(url: str) -> dict:
    """Added by gen_monorepo --modify (benchmark edit {n})."""
    import requests

    return requests.get(url).json()
'''

MODIFY_YAML = '''---
apiVersion: v1
kind: Pod
metadata:
  name: pfa-bench-debug-{n}
spec:
  containers:
    - name: debug
      image: busybox:latest
      securityContext:
        privileged: true
'''


def modify(repo: Path, n: int, seed: int) -> tuple[str, str, list[str]]:
    base = git(repo, "rev-parse", "--abbrev-ref", "HEAD", capture=True)
    if base.startswith("pfa-bench-modify-"):
        base = "main"
        git(repo, "checkout", "-q", base)
    files = git(repo, "ls-files", capture=True).splitlines()
    candidates = sorted(
        f for f in files
        if (f.endswith(".py") and "/tests/" not in f and not f.startswith("tests/") and not f.endswith("__init__.py"))
        or (f.endswith((".yaml", ".yml")) and "k8s" in f and f.endswith("-deployment.yaml"))
    )
    if not candidates:
        candidates = sorted(f for f in files if f.endswith(".py"))
    rng = random.Random(f"{seed}:modify:{n}")
    chosen = sorted(rng.sample(candidates, min(n, len(candidates))))
    branch = f"pfa-bench-modify-{n}"
    git(repo, "checkout", "-q", "-B", branch, base)
    for i, rel in enumerate(chosen):
        path = repo / rel
        text = path.read_text(encoding="utf-8")
        if rel.endswith(".py"):
            text = text.rstrip("\n") + "\n" + MODIFY_PY.format(n=i)
        else:
            text = text.rstrip("\n") + "\n" + MODIFY_YAML.format(n=i)
        path.write_text(text, encoding="utf-8")
    git(repo, "add", "--", *chosen)
    git(repo, "commit", "-q", "-m", f"Benchmark edit: {len(chosen)} files get one violation each")
    return base, branch, chosen


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--python-files", type=int, default=5000)
    ap.add_argument("--manifests", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--violation-rate", type=float, default=0.08,
                    help="share of eligible files that get one violation (default 0.08)")
    ap.add_argument("--violations-file", type=Path, help="write the injected violations as JSON here")
    ap.add_argument("--modify", type=int, metavar="N",
                    help="append a violation to N files and commit them on branch pfa-bench-modify-N")
    ap.add_argument("--force", action="store_true", help="delete OUT_DIR first if it exists")
    args = ap.parse_args(argv)
    out: Path = args.out_dir
    started = time.perf_counter()
    existing_repo = (out / ".git").exists()
    if args.modify is not None and existing_repo and not args.force:
        base, branch, chosen = modify(out, args.modify, args.seed)
        print(f"modified {len(chosen)} files on branch {branch}; base={base}")
        for rel in chosen:
            print(f"  {rel}")
        return 0
    if out.exists() and any(out.iterdir()):
        if not args.force:
            print(f"error: {out} exists and is not empty (use --force to replace it)", file=sys.stderr)
            return 2
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    stats = generate(out, args.python_files, args.manifests, args.seed, args.violation_rate)
    elapsed = time.perf_counter() - started
    if args.violations_file:
        args.violations_file.parent.mkdir(parents=True, exist_ok=True)
        args.violations_file.write_text(json.dumps(stats.violations, indent=1) + "\n", encoding="utf-8")
    kinds = Counter(str(v["kind"]) for v in stats.violations)
    print(f"generated {stats.files} files, {stats.lines} lines, {stats.bytes / 1e6:.1f} MB in {elapsed:.1f}s -> {out}")
    print("by extension: " + ", ".join(f"{k}={v}" for k, v in sorted(stats.by_ext.items())))
    print(f"violations: {len(stats.violations)} in {len({v['path'] for v in stats.violations})} files "
          f"({100 * len(stats.violations) / max(stats.files, 1):.1f}% of files): "
          + ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())))
    if args.modify is not None:
        base, branch, chosen = modify(out, args.modify, args.seed)
        print(f"modified {len(chosen)} files on branch {branch}; base={base}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
