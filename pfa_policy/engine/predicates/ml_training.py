"""Escape-hatch predicates about training code and the model files it produces (issue 13).

- `dg_training_entry` (fact): the first random training step (an unseeded split or estimator, a torch
  optimizer, a Keras fit, a Lightning trainer) of a module run as a program (a main guard, a click / typer /
  hydra / argparse / fire command line).
- `dg_training_without_seed` (data governance, repository): a training entry point with no seed set in it or
  in the repository modules it imports (one hop), and no `seed` in a production configuration file.
- `ci_pickle_models_without_scan` (CI/CD, repository): pickle-family model files committed, or fetched by CI,
  with no model scanner (modelscan, picklescan, fickling, ModelAudit) anywhere in CI, pre-commit or the
  dependencies.

Files are read as text; nothing is imported or executed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any

from pfa_policy.engine.globs import compile_name_globs
from pfa_policy.engine.predicates.types import (
    PythonPredicate,
    RepositoryApplies,
    RepositoryPredicate,
)
from pfa_policy.engine.repository import RepoContext
from pfa_policy.model import FILE_START, FactOccurrence, Hit, Span
from pfa_policy.parsers.python import Arg, CallSite, PythonFile

# ---------------------------------------------------------------------------------------------------------
# Training without a seed

# Training steps whose result depends on an unseeded random state. xgboost, LightGBM, CatBoost and the Hugging
# Face Trainer (TrainingArguments.seed = 42) are seeded by default and not listed.
_RANDOM_STEPS = compile_name_globs([
    "sklearn.model_selection.train_test_split", "sklearn.model_selection.*ShuffleSplit",
    "sklearn.model_selection.RandomizedSearchCV", "sklearn.ensemble.RandomForest*", "sklearn.ensemble.ExtraTrees*",
    "sklearn.ensemble.GradientBoosting*", "sklearn.ensemble.HistGradientBoosting*", "sklearn.ensemble.Bagging*",
    "sklearn.ensemble.AdaBoost*", "sklearn.ensemble.IsolationForest", "sklearn.linear_model.SGD*",
    "sklearn.neural_network.MLP*", "sklearn.cluster.KMeans", "sklearn.cluster.MiniBatchKMeans",
    "sklearn.tree.DecisionTree*", "sklearn.tree.ExtraTree*",
])
# Deep-learning training and hyperparameter searches, by the framework whose own seed they need: a numpy seed
# or a `random_state=` keyword elsewhere does not seed TensorFlow's or torch's weight initialisation.
_FRAMEWORK_TRAINING = {
    "torch": compile_name_globs(["torch.optim.*", "pytorch_lightning.Trainer", "lightning.Trainer",
                                 "lightning.pytorch.Trainer"]),
    "tensorflow": compile_name_globs(["tensorflow.keras.*.fit", "keras.*.fit"]),
}
_HYPEROPT_SEARCH = compile_name_globs(["hyperopt.fmin", "hyperopt.fmin.fmin"])
_KERAS_MODULES = ("tensorflow", "keras", "tf_keras")
# Libraries whose models are fitted too, and are not Keras models: a builder imported from them is not one.
_NOT_KERAS = ("sklearn", "xgboost", "lightgbm", "catboost", "statsmodels", "prophet", "torch", "pytorch_lightning",
              "lightning", "transformers", "pyspark", "joblib", "pickle", "cuml", "imblearn", "pandas", "numpy")
_ENTRY_CALLS = compile_name_globs(["argparse.ArgumentParser", "typer.Typer", "typer.run", "fire.Fire", "click.*"])
_ENTRY_DECORATORS = compile_name_globs(["hydra.main", "click.command", "click.group", "typer.Typer().command"])


def _is_entry_point(file: PythonFile) -> bool:
    index = file.index
    if any(site.in_main_guard for site in index.calls):
        return True
    if any(_ENTRY_CALLS.fullmatch(index.qualify(site.raw)) for site in index.calls):
        return True
    return any(raw and _ENTRY_DECORATORS.fullmatch(index.qualify(raw)) for _, raw, _ in index.decorators)


def _imports_keras(file: PythonFile) -> bool:
    return any(module.split(".", 1)[0] in _KERAS_MODULES for module in file.index.imported_modules())


def _builds_keras(file: PythonFile, name: str) -> bool:
    """Whether `name()` (the receiver of a `.fit`) returns a Keras model: a function of this module whose body
    calls TensorFlow / Keras, or a function imported from anywhere but a non-Keras library."""
    if name.split(".", 1)[0] in _NOT_KERAS or name.startswith(_KERAS_MODULES):
        return False
    for definition, _, _ in file.index.functions:
        if definition.name != name:
            continue
        first, last = definition.lineno, definition.end_lineno or definition.lineno
        return any(first <= site.node.lineno <= last
                   and file.index.qualify(site.raw).split(".", 1)[0] in _KERAS_MODULES for site in file.index.calls)
    return "." in name  # imported (`from model import get_model`), not a local function of another shape


def _training_family(file: PythonFile, site: CallSite, name: str, keras: bool) -> str | None:
    """The framework whose seed a random training step needs ('sklearn' for the scikit-learn steps, which any
    seed counts for), or None when the call is no random training step."""
    # a constructor or function, not a method of an instance (`model.predict` of `model = RandomForest…()`)
    if "(" not in name and _RANDOM_STEPS.fullmatch(name) and "random_state" not in site.keywords \
            and not site.has_star:
        return "sklearn"
    for family, steps in _FRAMEWORK_TRAINING.items():
        if steps.fullmatch(name):
            return family
    if _HYPEROPT_SEARCH.fullmatch(name) and "rstate" not in site.keywords and not site.has_star:
        return "hyperopt"
    # `model = build_and_compile_model(...)` then `model.fit(...)`, in a module that imports TensorFlow / Keras
    if keras and name.endswith("().fit") and name.count("(") == 1:
        builder = name[: -len("().fit")]
        if builder and _builds_keras(file, builder):
            return "tensorflow"
    return None


def dg_training_entry(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """The first random training step of each framework in a module run as a program; name = the framework
    and the call (`tensorflow:keras.Model().fit`)."""
    if not _is_entry_point(file):
        return
    keras = _imports_keras(file)
    seen: set[str] = set()
    for site in file.index.calls:
        name = file.index.qualify(site.raw)
        family = _training_family(file, site, name, keras)
        if family is None or family in seen:
            continue
        seen.add(family)
        yield Hit(file.span_of(site.node), (("name", f"{family}:{name}"),), f"training-entry:{family}")


def dg_keras_builder_fit(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """A Keras `fit` on a model a builder function returns (`model = build_and_compile_model(...)`), in a
    module that imports TensorFlow / Keras: training that the call patterns of `dg-training-code` cannot name."""
    if not _imports_keras(file):
        return
    for site in file.index.calls:
        name = file.index.qualify(site.raw)
        if name.endswith("().fit") and name.count("(") == 1 and _builds_keras(file, name[: -len("().fit")]):
            yield Hit(file.span_of(site.node), (("name", name),), f"keras-builder-fit:{name}")
            return


_GENERAL_SEEDS = compile_name_globs(["numpy.random.seed", "random.seed"])
# Seeding functions and what they seed besides scikit-learn (which any seed counts for).
_FRAMEWORK_SEEDS = {
    "torch": compile_name_globs(["torch.manual_seed", "torch.cuda.manual_seed*", "torch.random.manual_seed"]),
    "tensorflow": compile_name_globs(["tensorflow.random.set_seed", "tensorflow.set_random_seed",
                                      "tensorflow.compat.v1.set_random_seed",
                                      "tensorflow.compat.v1.random.set_random_seed",
                                      "tensorflow.keras.utils.set_random_seed", "keras.utils.set_random_seed",
                                      "tf_keras.utils.set_random_seed"]),
    # these seed python, numpy, torch and (transformers) TensorFlow at once
    "torch,tensorflow": compile_name_globs(["transformers.set_seed", "transformers.enable_full_determinism",
                                            "accelerate.utils.set_seed", "accelerate.utils.random.set_seed"]),
    "torch,lightning": compile_name_globs(["pytorch_lightning.seed_everything", "lightning.*seed_everything",
                                           "lightning.fabric.utilities.seed.seed_everything"]),
}
_SEEDED_GENERATORS = compile_name_globs(["numpy.random.default_rng", "numpy.random.RandomState",
                                         "numpy.random.Generator"])
_SEED_NAMES = re.compile(r"(?i)^(seed|random_state|random_seed|rng_seed|global_seed|seed_value)$")


def dg_seed_set(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """Seeds set in code, one hit per kind; name = what they seed: 'general' for a numpy / random seed, a seeded
    generator, a `seed=` / `random_state=` keyword (any value: a configured seed counts), a `SEED = ...` name or
    a `"seed"` dictionary key (all of which count for scikit-learn only), or the frameworks a seeding function
    seeds ('torch', 'tensorflow', 'torch,tensorflow' ...). An attribute named seed (`self.seed = seed`) is not
    seeding anything."""
    index = file.index
    found: set[str] = set()
    for site in index.calls:
        name = index.qualify(site.raw)
        kind = next((k for k, seeds in _FRAMEWORK_SEEDS.items() if seeds.fullmatch(name)), None)
        if kind is None and (_GENERAL_SEEDS.fullmatch(name) or (_SEEDED_GENERATORS.fullmatch(name)
                                                                 and site.positional)):
            kind = "general"
        if kind is not None and kind not in found:
            found.add(kind)
            yield Hit(file.span_of(site.node), (("name", kind),), f"seed:{kind}")
    if "general" in found:
        return
    for assignment in index.assignments:
        if _SEED_NAMES.match(assignment.target) and isinstance(
            assignment.report, (Arg, ast.Name, ast.Constant)
        ):
            yield Hit(file.span_of(assignment.report), (("name", "general"),), "seed:general")
            return


_IMPORT = re.compile(r"^[ \t]*(?:from\s+(\.*[\w.]*)\s+import\s+([\w, ()*]+)|import\s+([\w.]+(?:\s*,\s*[\w.]+)*))",
                     re.MULTILINE)


def _module_paths(module: str, base: PurePosixPath) -> list[str]:
    """Candidate repository paths of a module named in `base`'s directory's import."""
    dots = len(module) - len(module.lstrip("."))
    parts = [p for p in module.lstrip(".").split(".") if p]
    if dots:
        root = base
        for _ in range(dots - 1):
            root = root.parent
        stem = "/".join([*([str(root)] if str(root) != "." else []), *parts])
    else:
        stem = "/".join(parts)
    return [f"{stem}.py", f"{stem}/__init__.py"] if stem else []


def _imported_files(context: RepoContext, path: str, present: frozenset[str]) -> set[str]:
    base = PurePosixPath(path).parent
    found: set[str] = set()
    for match in _IMPORT.finditer(context.read_text(path)):
        modules: list[str] = []
        if match.group(3):
            modules = [m.strip() for m in match.group(3).split(",")]
        else:
            module = match.group(1)
            modules = [module]
            names = [n.strip() for n in match.group(2).replace("(", "").replace(")", "").split(",")]
            modules += [f"{module}.{n}" if not module.endswith(".") else f"{module}{n}" for n in names
                        if n and n != "*"]
        for module in modules:
            for candidate in _module_paths(module, base):
                # absolute imports may start below a source root (src/, a nested project directory)
                found.update(p for p in present if p == candidate or p.endswith("/" + candidate))
    found.discard(path)
    return found


def dg_training_without_seed(context: RepoContext, params: Mapping[str, Any],
                             scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    if context.occurrences("dg-seed-config", scopes):
        return
    seeds: dict[str, set[str]] = {}  # path -> the frameworks seeded there ('general' counts for scikit-learn)
    for seed in context.occurrences("dg-seed-set"):
        seeds.setdefault(seed.path, set()).update(seed.value.split(","))
    present = frozenset(f.path for f in context.files if f.path.endswith(".py"))
    imported: dict[str, set[str]] = {}
    for occurrence in context.occurrences("dg-training-entry", scopes):
        family, _, name = occurrence.value.partition(":")
        if occurrence.path not in imported:
            imported[occurrence.path] = _imported_files(context, occurrence.path, present)
        seeded: set[str] = set(seeds.get(occurrence.path, ()))
        for module in imported[occurrence.path] & seeds.keys():
            seeded |= seeds[module]
        if family == "sklearn" and seeded:
            continue  # any seed: scikit-learn draws from numpy's global state or a configured random_state
        if family in seeded:
            continue
        key = f"training-without-seed:{occurrence.path}" + ("" if family == "sklearn" else f":{family}")
        yield occurrence.path, Hit(occurrence.span, (("name", name), ("path", occurrence.path),
                                                     ("value", _MISSING_SEED[family])), key)


_MISSING_SEED = {
    "sklearn": "sets no random seed, neither there nor in the modules it imports",
    "tensorflow": "sets no TensorFlow / Keras seed (`tf.random.set_seed`, `keras.utils.set_random_seed`), neither "
                  "there nor in the modules it imports; a numpy seed or a `random_state=` does not seed the "
                  "weight initialisation",
    "torch": "sets no PyTorch seed (`torch.manual_seed`, `seed_everything`), neither there nor in the modules it "
             "imports; a numpy seed or a `random_state=` does not seed torch",
    "hyperopt": "runs `fmin` without `rstate=` (e.g. `rstate=np.random.default_rng(SEED)`): the search draws its "
                "trials from an unseeded generator whatever else is seeded",
}


def _trains(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    return bool(context.occurrences("dg-training-entry", scopes))


# ---------------------------------------------------------------------------------------------------------
# Pickle-family model files without a scan

# Fixtures, examples and benchmarks hold small sample models: not what is served.
_SAMPLE_DIRS = re.compile(r"(?i)(^|/)(tests?|testing|testdata|fixtures?|examples?|example_\w+|samples?|demos?|"
                          r"tutorials?|benchmarks?|benchmarking|docs?)(/|_)")
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".bin", ".h5", ".hdf5", ".ckpt", ".dill")
# PyTorch pickles saved as .bin by transformers / accelerate (pytorch_model-00001-of-00002.bin, adapter_model.bin …).
_TORCH_BIN = re.compile(r"(?i)(^|/)(pytorch_model|adapter_model|model|training_args|optimizer|scheduler|rng_state)"
                        r"[\w.-]*\.bin$")
_SCANNERS = re.compile(r"(?i)\b(modelscan|picklescan|fickling|modelaudit|model-audit|protectai/modelscan"
                       r"|mmaitre314/picklescan|trailofbits/fickling)\b")
_FETCH = re.compile(r"(?i)\b(?:wget|curl|aws\s+s3\s+(?:cp|sync)|gsutil\s+(?:-m\s+)?cp|azcopy|huggingface-cli\s+download"
                    r"|hf\s+download|dvc\s+pull|mlflow\s+artifacts\s+download)\b[^\n]*?"
                    r"(\S+\.(?:pkl|pickle|joblib|pt|pth|bin|h5|ckpt))\b")
_SCAN_PLACES = (".github/workflows/*.y*ml", ".gitlab-ci.yml", ".pre-commit-config.yaml", "Jenkinsfile",
                "azure-pipelines.yml", ".circleci/config.yml", "Makefile", "requirements*.txt", "pyproject.toml",
                "tox.ini", "noxfile.py", "setup.cfg", "Dockerfile", "**/Dockerfile")


def _pickle_files(context: RepoContext, scopes: frozenset[str]) -> list[FactOccurrence]:
    """Committed model files of the pickle family in production paths (test fixtures and examples are exempt)."""
    found = []
    for repo_file in context.files:
        lower = repo_file.path.lower()
        if repo_file.scope not in scopes or not lower.endswith(_PICKLE_SUFFIXES) or _SAMPLE_DIRS.search(lower):
            continue
        if lower.endswith(".bin") and not _TORCH_BIN.search(lower):
            continue  # .bin is also firmware, data, spaCy's msgpack lookups: only PyTorch-style weight names count
        found.append(FactOccurrence("ci-pickle-model-file", repo_file.path, repo_file.scope, FILE_START,
                                    repo_file.path))
    return found


def _ci_fetches(context: RepoContext) -> list[tuple[str, int, str]]:
    fetched = []
    for repo_file in context.files_matching((".github/workflows/*.y*ml", ".gitlab-ci.yml")):
        for number, line in enumerate(context.read_text(repo_file.path).split("\n"), start=1):
            found = _FETCH.search(line)
            if found is not None and not line.lstrip().startswith("#"):
                fetched.append((repo_file.path, number, found.group(1)))
    return fetched


def _scanned(context: RepoContext) -> bool:
    return any(_SCANNERS.search(context.read_text(f.path)) for f in context.files_matching(_SCAN_PLACES))


def ci_pickle_models_without_scan(context: RepoContext, params: Mapping[str, Any],
                                  scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    committed = _pickle_files(context, scopes)
    fetched = _ci_fetches(context)
    if not (committed or fetched) or _scanned(context):
        return
    for occurrence in committed:
        yield occurrence.path, Hit(FILE_START, (("name", occurrence.path), ("how", "is committed")),
                                   f"pickle-model:{occurrence.path}")
    for path, line, target in fetched:
        text = context.read_text(path).split("\n")[line - 1]
        column = len(text) - len(text.lstrip()) + 1
        yield path, Hit(Span(line, column, line, len(text) + 1), (("name", target), ("how", "is fetched by CI")),
                        f"pickle-model-fetch:{target}")


def _has_pickle_models(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    return bool(_pickle_files(context, scopes) or _ci_fetches(context))


PYTHON: dict[str, PythonPredicate] = {"dg_keras_builder_fit": dg_keras_builder_fit,
                                      "dg_training_entry": dg_training_entry, "dg_seed_set": dg_seed_set}
REPOSITORY: dict[str, RepositoryPredicate] = {
    "dg_training_without_seed": dg_training_without_seed,
    "ci_pickle_models_without_scan": ci_pickle_models_without_scan,
}
REPOSITORY_APPLIES: dict[str, RepositoryApplies] = {
    "dg_training_without_seed": _trains,
    "ci_pickle_models_without_scan": _has_pickle_models,
}
