"""Values of predicates that read Python path expressions (DG-001), seeds per framework (DG-016) and KServe model
servers (AC-026): the rule examples cover the rules end to end, these pin what the predicates compute."""

from __future__ import annotations

import ast
import posixpath
import textwrap

import pytest

from pfa_policy.engine.predicates.data_governance import FILE_RELATIVE, dg_local_data_read
from pfa_policy.engine.predicates.ml_training import dg_seed_set, dg_training_entry
from pfa_policy.engine.predicates.model_servers import unauthenticated_model_servers
from pfa_policy.parsers.python import PythonFile


def _file(source: str) -> PythonFile:
    source = textwrap.dedent(source)
    return PythonFile(ast.parse(source), source)


def _names(hits) -> list[str]:
    return [dict(hit.values)["name"] for hit in hits]


@pytest.mark.parametrize(("expression", "expected"), [
    ('Path("data/x.csv")', "data/x.csv"),
    ('Path("data") / "raw" / "x.csv"', "data/raw/x.csv"),
    ('Path("data").joinpath("raw", "x.csv")', "data/raw/x.csv"),
    ('os.path.join("data", "x.csv")', "data/x.csv"),
    ('Path(__file__).parent / "x.csv"', FILE_RELATIVE + "x.csv"),
    ('Path(__file__).resolve().parents[1] / "data" / "x.csv"', posixpath.join(FILE_RELATIVE + "..", "data", "x.csv")),
    ('os.path.join(os.path.dirname(os.path.abspath(__file__)), "x.csv")', FILE_RELATIVE + "x.csv"),
    ('Path("data", "x.csv")', "data/x.csv"),
])
def test_path_expressions_resolve(expression: str, expected: str) -> None:
    file = _file(f"""
        import os
        from pathlib import Path
        import pandas as pd
        SOURCE = {expression}
        frame = pd.read_csv(SOURCE)
        inline = pd.read_csv({expression})
    """)
    assert _names(dg_local_data_read(file, {})) == [expected, expected]


@pytest.mark.parametrize("expression", [
    'Path(__file__).parent / "schema.json"',  # open() needs a data suffix: a schema is not data
    "Path(__file__)",  # the module itself
    'Path(source) / "x.csv"',  # not known statically
    'Path(__file__).parent / "templates" / "report.html"',
])
def test_non_data_paths_are_not_reads(expression: str) -> None:
    file = _file(f"""
        from pathlib import Path
        def load(source):
            return open({expression}).read()
    """)
    assert _names(dg_local_data_read(file, {})) == []


def test_constant_bound_twice_is_not_resolved() -> None:
    file = _file("""
        from pathlib import Path
        import pandas as pd
        SOURCE = Path("data/a.csv")
        SOURCE = Path("data/b.csv")
        pd.read_csv(SOURCE)
    """)
    assert _names(dg_local_data_read(file, {})) == []


def test_training_entry_is_per_framework() -> None:
    file = _file("""
        import tensorflow as tf
        from hyperopt import fmin
        from sklearn.model_selection import train_test_split

        def build():
            return tf.keras.Sequential([tf.keras.layers.Dense(1)])

        if __name__ == "__main__":
            a, b = train_test_split([1, 2])
            model = build()
            model.fit(a, b)
            fmin(lambda x: x, space=None, max_evals=1)
            fmin(lambda x: x, space=None, max_evals=1, rstate=None)
    """)
    assert _names(dg_training_entry(file, {})) == [
        "sklearn:sklearn.model_selection.train_test_split", "tensorflow:build().fit", "hyperopt:hyperopt.fmin"]


def test_builder_returning_a_non_keras_model_is_not_keras_training() -> None:
    file = _file("""
        import tensorflow as tf
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        def build():
            return make_pipeline(LogisticRegression())

        if __name__ == "__main__":
            build().fit([[0]], [0])
            pipe = build()
            pipe.fit([[0]], [0])
    """)
    assert _names(dg_training_entry(file, {})) == []


def test_seed_kinds() -> None:
    file = _file("""
        import keras
        import torch
        from sklearn.model_selection import train_test_split
        train_test_split([1], random_state=42)
        torch.manual_seed(0)
        keras.utils.set_random_seed(0)
    """)
    assert sorted(_names(dg_seed_set(file, {}))) == ["general", "tensorflow", "torch"]


def test_a_random_state_keyword_seeds_scikit_learn_only() -> None:
    file = _file("""
        from sklearn.model_selection import train_test_split
        train_test_split([1], random_state=42)
    """)
    assert _names(dg_seed_set(file, {})) == ["general"]


def test_kserve_model_served_in_its_module() -> None:
    served = _file("""
        import kserve
        class Scorer(kserve.Model):
            async def predict(self, payload, headers=None):
                return payload
        if __name__ == "__main__":
            kserve.ModelServer(http_port=8080).start([Scorer("scorer")])
    """)
    assert _names(unauthenticated_model_servers(served, {})) == ["Scorer.predict"]
    not_served = _file("""
        from kserve import Model
        class Scorer(Model):
            def predict(self, payload, headers=None):
                return payload
    """)
    assert _names(unauthenticated_model_servers(not_served, {})) == []
