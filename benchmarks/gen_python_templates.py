"""Python source templates for the synthetic ML monorepo (used by gen_monorepo.py).

Each module kind (feature engineering, training script, FastAPI/Flask serving, Airflow
DAG, utilities, tests) has a header, optional fixed "core" blocks and a pool of filler
blocks.  Blocks are ``string.Template`` texts (``$name`` placeholders; ``$$`` for a
literal dollar) filled with names drawn from the vocabulary below, so that every file
differs while staying plausible code.  Violation snippets are kept apart so that the
generator can record where it put each of them.

Everything here is deterministic given the ``random.Random`` passed in.
"""

# ruff: noqa: E501  (template text mirrors the generated files, whose lines may be long)
from __future__ import annotations

import random
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from string import Template

DOMAINS = [
    "growth", "risk", "payments", "logistics", "marketplace", "search", "ads", "support",
    "supply", "identity", "pricing", "health",
]
MODELS = [
    "churn", "fraud", "ranking", "forecast", "recsys", "anomaly", "propensity", "ltv", "eta",
    "demand", "credit", "intent", "relevance", "sentiment", "segmentation", "dedup",
]
ENTITIES = [
    "customer", "order", "session", "merchant", "device", "account", "transaction", "claim",
    "shipment", "product", "user", "invoice", "loan", "ticket", "listing", "driver", "trip",
    "campaign", "subscription", "store",
]
COLUMNS = [
    "amount", "quantity", "unit_price", "duration_s", "rating", "discount", "distance_km",
    "basket_size", "latency_ms", "balance", "tenure_days", "page_views", "refund_amount",
    "tip_amount", "weight_kg", "clicks", "impressions", "items_viewed",
]
CATEGORIES = [
    "country", "channel", "device_type", "plan", "category", "region", "payment_method",
    "segment", "currency", "platform", "browser", "carrier",
]
WINDOWS = [1, 3, 7, 14, 28, 30, 90]
TIMEZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Singapore", "Europe/London"]
CLASSIFIERS = [
    ("GradientBoostingClassifier", "sklearn.ensemble"),
    ("RandomForestClassifier", "sklearn.ensemble"),
    ("HistGradientBoostingClassifier", "sklearn.ensemble"),
    ("ExtraTreesClassifier", "sklearn.ensemble"),
    ("LogisticRegression", "sklearn.linear_model"),
]
CRONS = ["0 2 * * *", "30 3 * * *", "0 */6 * * *", "15 1 * * 1", "0 4 * * *", "45 */4 * * *"]
VERBS = ["compute", "build", "derive", "make", "extract", "aggregate", "prepare"]
UTIL_TOPICS = [
    "retry", "config", "storage", "timing", "logging_setup", "hashing", "batching", "dates",
    "serialization", "paths", "settings", "metrics",
]


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


@dataclass
class Ctx:
    """Names for one file; ``fresh`` hands out identifiers unique within the file."""

    rng: random.Random
    domain: str
    model: str
    pkg: str
    used: set[str] = field(default_factory=set)

    def fresh(self, base: str) -> str:
        name = base
        k = 2
        while name in self.used:
            name = f"{base}_{k}"
            k += 1
        self.used.add(name)
        return name

    def fresh_cls(self, base: str) -> str:
        name = base
        k = 2
        while name in self.used:
            name = f"{base}V{k}"
            k += 1
        self.used.add(name)
        return name

    def values(self) -> dict[str, str]:
        r = self.rng
        ent, ent2 = r.sample(ENTITIES, 2)
        col, col2, col3 = r.sample(COLUMNS, 3)
        cat, cat2 = r.sample(CATEGORIES, 2)
        win, win2 = sorted(r.sample(WINDOWS, 2))
        est, est_module = r.choice(CLASSIFIERS)
        return {
            "domain": self.domain,
            "model": self.model,
            "Model": camel(self.model),
            "pkg": self.pkg,
            "ent": ent,
            "Ent": camel(ent),
            "ENT": ent.upper(),
            "ent2": ent2,
            "col": col,
            "col2": col2,
            "col3": col3,
            "cat": cat,
            "Cat": camel(cat),
            "cat2": cat2,
            "win": str(win),
            "win2": str(win2),
            "n": str(r.choice([5, 10, 20, 25, 50, 100])),
            "gap": str(r.choice([15, 20, 30, 45, 60])),
            "eps": r.choice(["1e-9", "1e-6", "1e-12"]),
            "fill": r.choice(["0.0", "-1.0", "np.nan"]),
            "smooth": r.choice(["5.0", "10.0", "20.0", "50.0"]),
            "q1": str(r.choice([1, 5])),
            "q2": str(r.choice([5, 9])),
            "nullthr": r.choice(["0.2", "0.3", "0.5"]),
            "tz": r.choice(TIMEZONES),
            "seed": str(r.choice([7, 13, 42, 1234, 2024])),
            "est": est,
            "est_module": est_module,
            "thr": r.choice(["0.5", "0.35", "0.42", "0.6"]),
            "metric": r.choice(["roc_auc", "average_precision", "f1"]),
            "cron": r.choice(CRONS),
            "retries": str(r.choice([1, 2, 3])),
            "version": f"{r.randint(1, 4)}.{r.randint(0, 12)}.{r.randint(0, 30)}",
            "port": str(r.choice([8000, 8080, 8501, 9000])),
            "verb": r.choice(VERBS),
            "bucket": f"{self.domain}-{self.model}-ml-{r.choice(['prod', 'data', 'artifacts'])}",
            "maxsize": str(r.choice([256, 1024, 4096, 10000])),
            "batch": str(r.choice([64, 128, 256, 500, 1000])),
            "timeout": str(r.choice([2, 3, 5, 10, 15, 30])),
            "share": str(r.choice([1, 2, 5])),
            "gate": str(r.choice([55, 6, 65, 7])),
            "cap": str(r.choice([10, 25, 50])),
        }


@dataclass(frozen=True)
class Block:
    """A code template plus the identifier slots it declares (name -> base pattern)."""

    text: str
    names: tuple[tuple[str, str], ...] = ()
    classes: tuple[tuple[str, str], ...] = ()


def render(block: Block, ctx: Ctx, extra: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    values = ctx.values()
    if extra:
        values.update(extra)
    for slot, pattern in block.names:
        values[slot] = ctx.fresh(Template(pattern).substitute(values))
    for slot, pattern in block.classes:
        values[slot] = ctx.fresh_cls(Template(pattern).substitute(values))
    return Template(textwrap.dedent(block.text).strip("\n")).substitute(values) + "\n", values


def B(text: str, names: dict[str, str] | None = None, classes: dict[str, str] | None = None) -> Block:
    return Block(text, tuple((names or {}).items()), tuple((classes or {}).items()))


# --------------------------------------------------------------------------------------
# feature engineering modules
# --------------------------------------------------------------------------------------
FEATURE_HEADER = '''
"""Feature engineering for the $domain $model model: $ent features.

Owned by the $domain team.  The functions in this module are pure: they take raw
event frames and return feature frames keyed by ``${ent}_id``.  Keep them free of I/O
so that the offline pipeline and the online feature service can share them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
$extra_imports
logger = logging.getLogger(__name__)

ENTITY_KEY = "${ent}_id"
TIMESTAMP_COL = "event_ts"
'''

FEATURE_BLOCKS = [
    B('''
    def $fn(df: pd.DataFrame, window_days: int = $win) -> pd.DataFrame:
        """Rolling $ent aggregates of ``$col`` over the last ``window_days`` days."""
        required = {ENTITY_KEY, TIMESTAMP_COL, "$col"}
        missing = required - set(df.columns)
        if missing:
            raise ValueError(f"missing columns: {sorted(missing)}")
        frame = df.sort_values([ENTITY_KEY, TIMESTAMP_COL]).copy()
        frame[TIMESTAMP_COL] = pd.to_datetime(frame[TIMESTAMP_COL], utc=True)
        grouped = frame.set_index(TIMESTAMP_COL).groupby(ENTITY_KEY)["$col"]
        window = f"{window_days}D"
        out = pd.DataFrame(
            {
                f"${col}_sum_{window_days}d": grouped.rolling(window).sum(),
                f"${col}_mean_{window_days}d": grouped.rolling(window).mean(),
                f"${col}_max_{window_days}d": grouped.rolling(window).max(),
                f"${col}_count_{window_days}d": grouped.rolling(window).count(),
            }
        ).reset_index()
        logger.debug("computed %d rolling rows for $ent", len(out))
        return out
    ''', names={"fn": "rolling_${col}_aggregates"}),
    B('''
    class $cls:
        """Frequency-capped one-hot encoder for ``$cat``.

        Rare levels (fewer than ``min_count`` rows at fit time) are folded into
        ``__other__`` so that the output width stays stable between retrains.
        """

        def __init__(self, column: str = "$cat", min_count: int = $n) -> None:
            self.column = column
            self.min_count = min_count
            self.levels_: list[str] = []

        def fit(self, df: pd.DataFrame) -> $cls:
            values = df[self.column].astype("string").fillna("__missing__")
            counts = values.value_counts()
            self.levels_ = sorted(counts[counts >= self.min_count].index.tolist())
            logger.info(
                "%s: kept %d of %d levels", self.column, len(self.levels_), len(counts)
            )
            return self

        def transform(self, df: pd.DataFrame) -> pd.DataFrame:
            if not self.levels_:
                raise RuntimeError("encoder is not fitted")
            values = df[self.column].astype("string").fillna("__missing__")
            values = values.where(values.isin(self.levels_), "__other__")
            dummies = pd.get_dummies(values, prefix=self.column, dtype=np.int8)
            expected = [f"{self.column}_{level}" for level in [*self.levels_, "__other__"]]
            return dummies.reindex(columns=expected, fill_value=0)

        def fit_transform(self, df: pd.DataFrame) -> pd.DataFrame:
            return self.fit(df).transform(df)
    ''', classes={"cls": "${Cat}FrequencyEncoder"}),
    B('''
    def $fn(df: pd.DataFrame) -> pd.DataFrame:
        """Ratios between ``$col`` and ``$col2`` with a safe division."""
        out = pd.DataFrame(index=df.index)
        numerator = df["$col"].astype("float64")
        denominator = df["$col2"].astype("float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(denominator.abs() > $eps, numerator / denominator, np.nan)
        out["${col}_per_${col2}"] = ratio
        out["${col}_per_${col2}_log1p"] = np.log1p(np.clip(ratio, 0, None))
        out["${col}_gt_${col2}"] = (numerator > denominator).astype("int8")
        out["${col}_per_${col2}"] = out["${col}_per_${col2}"].fillna($fill)
        logger.debug("ratio features: %d rows, %d nulls", len(out), int(np.isnan(ratio).sum()))
        return out
    ''', names={"fn": "${col}_${col2}_ratios"}),
    B('''
    def $fn(df: pd.DataFrame, ts_col: str = TIMESTAMP_COL, tz: str = "$tz") -> pd.DataFrame:
        """Calendar features derived from the event timestamp (local time $tz)."""
        ts = pd.to_datetime(df[ts_col], utc=True).dt.tz_convert(tz)
        out = pd.DataFrame(index=df.index)
        out["hour"] = ts.dt.hour.astype("int8")
        out["day_of_week"] = ts.dt.dayofweek.astype("int8")
        out["is_weekend"] = (out["day_of_week"] >= 5).astype("int8")
        out["day_of_month"] = ts.dt.day.astype("int8")
        out["month"] = ts.dt.month.astype("int8")
        # cyclical encodings keep 23:00 and 00:00 close together
        out["hour_sin"] = np.sin(2 * np.pi * out["hour"] / 24.0)
        out["hour_cos"] = np.cos(2 * np.pi * out["hour"] / 24.0)
        out["dow_sin"] = np.sin(2 * np.pi * out["day_of_week"] / 7.0)
        out["dow_cos"] = np.cos(2 * np.pi * out["day_of_week"] / 7.0)
        return out
    ''', names={"fn": "${ent}_calendar_features"}),
    B('''
    @dataclass(frozen=True)
    class $cls:
        """Declarative description of one $ent feature."""

        name: str
        source_column: str
        aggregation: str = "sum"
        window_days: int = $win
        default: float = 0.0
        tags: tuple[str, ...] = field(default_factory=tuple)

        @property
        def output_name(self) -> str:
            return f"${ent}_{self.source_column}_{self.aggregation}_{self.window_days}d"


    $const = (
        $cls("${col}_total", "$col", "sum", $win, tags=("core",)),
        $cls("${col}_avg", "$col", "mean", $win),
        $cls("${col2}_max", "$col2", "max", $win2),
        $cls("${col2}_std", "$col2", "std", $win2, default=float("nan")),
        $cls("${col3}_count", "$col3", "count", $win, tags=("core", "cheap")),
    )


    def $fn(df: pd.DataFrame, specs: Sequence[$cls] = $const) -> pd.DataFrame:
        """Apply a list of feature specs to an event frame keyed by ENTITY_KEY."""
        grouped = df.groupby(ENTITY_KEY)
        columns: dict[str, pd.Series] = {}
        for spec in specs:
            series = grouped[spec.source_column].agg(spec.aggregation)
            columns[spec.output_name] = series.fillna(spec.default)
        result = pd.DataFrame(columns)
        result.index.name = ENTITY_KEY
        return result.reset_index()
    ''', names={"fn": "apply_${ent}_specs", "const": "${Ent}_SPECS"}, classes={"cls": "${Ent}FeatureSpec"}),
    B('''
    def $fn(
        train: pd.DataFrame,
        apply_to: pd.DataFrame,
        column: str = "$cat",
        target: str = "label",
        smoothing: float = $smooth,
    ) -> pd.Series:
        """Smoothed mean target encoding of ``column`` fitted on ``train`` only."""
        prior = float(train[target].mean())
        stats = train.groupby(column)[target].agg(["sum", "count"])
        encoded = (stats["sum"] + prior * smoothing) / (stats["count"] + smoothing)
        mapping: Mapping[str, float] = encoded.to_dict()
        result = apply_to[column].map(mapping).astype("float64")
        n_unseen = int(result.isna().sum())
        if n_unseen:
            logger.debug(
                "%d rows with unseen %s levels get the prior %.4f", n_unseen, column, prior
            )
        return result.fillna(prior).rename(f"{column}_te")
    ''', names={"fn": "target_encode_${cat}"}),
    B('''
    def $fn(
        df: pd.DataFrame,
        columns: Iterable[str] = ("$col", "$col2"),
        lower_q: float = 0.0$q1,
        upper_q: float = 0.9$q2,
    ) -> pd.DataFrame:
        """Winsorise numeric columns to the given quantiles, returning a copy."""
        out = df.copy()
        for column in columns:
            if column not in out:
                logger.warning("column %s not present, skipping clip", column)
                continue
            lo, hi = out[column].quantile([lower_q, upper_q]).tolist()
            before = out[column].copy()
            out[column] = out[column].clip(lower=lo, upper=hi)
            changed = int((before != out[column]).sum())
            logger.debug("clipped %d values of %s to [%.3f, %.3f]", changed, column, lo, hi)
        return out
    ''', names={"fn": "clip_${ent}_outliers"}),
    B('''
    def $fn(events: pd.DataFrame, gap_minutes: int = $gap) -> pd.DataFrame:
        """Split $ent events into sessions separated by ``gap_minutes`` of inactivity."""
        frame = events.sort_values([ENTITY_KEY, TIMESTAMP_COL]).copy()
        ts = pd.to_datetime(frame[TIMESTAMP_COL], utc=True)
        gap = ts.groupby(frame[ENTITY_KEY]).diff() > pd.Timedelta(minutes=gap_minutes)
        frame["session_index"] = gap.groupby(frame[ENTITY_KEY]).cumsum().astype("int32")
        sessions = (
            frame.groupby([ENTITY_KEY, "session_index"])
            .agg(
                session_start=(TIMESTAMP_COL, "min"),
                session_end=(TIMESTAMP_COL, "max"),
                n_events=(TIMESTAMP_COL, "size"),
                ${col}_total=("$col", "sum"),
            )
            .reset_index()
        )
        start = pd.to_datetime(sessions["session_start"])
        duration = pd.to_datetime(sessions["session_end"]) - start
        sessions["duration_s"] = duration.dt.total_seconds()
        return sessions
    ''', names={"fn": "sessionize_${ent}_events"}),
    B('''
    $const: dict[str, str] = {
        ENTITY_KEY: "int64",
        TIMESTAMP_COL: "datetime64[ns, UTC]",
        "$col": "float64",
        "$col2": "float64",
        "$cat": "string",
    }


    def $fn(df: pd.DataFrame, schema: Mapping[str, str] = $const) -> list[str]:
        """Return a list of human readable schema problems (empty when valid)."""
        problems: list[str] = []
        for column, dtype in schema.items():
            if column not in df.columns:
                problems.append(f"missing column {column!r}")
                continue
            actual = str(df[column].dtype)
            if actual != dtype:
                problems.append(f"column {column!r} has dtype {actual}, expected {dtype}")
        if ENTITY_KEY in df.columns and df[ENTITY_KEY].isna().any():
            problems.append(f"{ENTITY_KEY} contains nulls")
        null_share = df.isna().mean()
        for column, share in null_share[null_share > $nullthr].items():
            problems.append(f"column {column!r} is {share:.0%} null")
        return problems
    ''', names={"fn": "validate_${ent}_frame", "const": "${Ent}_SCHEMA"}),
    B('''
    def $fn(
        features: pd.DataFrame, labels: pd.DataFrame, tolerance_days: int = $win
    ) -> pd.DataFrame:
        """Point-in-time join: each label row gets the latest features before it."""
        left = labels.sort_values(TIMESTAMP_COL)
        right = features.sort_values(TIMESTAMP_COL)
        joined = pd.merge_asof(
            left,
            right,
            on=TIMESTAMP_COL,
            by=ENTITY_KEY,
            direction="backward",
            tolerance=pd.Timedelta(days=tolerance_days),
            allow_exact_matches=False,
        )
        feature_cols = [c for c in right.columns if c not in (ENTITY_KEY, TIMESTAMP_COL)]
        coverage = 1.0 - joined[feature_cols].isna().all(axis=1).mean()
        logger.info("point-in-time join coverage for $ent: %.1f%%", 100 * coverage)
        return joined
    ''', names={"fn": "point_in_time_join_${ent}"}),
    B('''
    def $fn(df: pd.DataFrame, column: str = "$col", n_bins: int = $n) -> pd.Series:
        """Quantile buckets of ``column``; ties collapse so fewer bins may result."""
        values = df[column].astype("float64")
        if values.nunique(dropna=True) < 2:
            return pd.Series(np.zeros(len(df), dtype=np.int16), index=df.index, name=f"{column}_bucket")
        buckets = pd.qcut(values, q=n_bins, labels=False, duplicates="drop")
        buckets = buckets.fillna(-1).astype(np.int16)
        logger.debug("%s bucketed into %d bins", column, int(buckets.max()) + 1)
        return buckets.rename(f"{column}_bucket")
    ''', names={"fn": "bucketize_${col}"}),
    B('''
    def $fn(df: pd.DataFrame, half_life_days: float = $win.0) -> pd.DataFrame:
        """Exponentially decayed sums of ``$col`` per $ent, newest events weigh most."""
        ts = pd.to_datetime(df[TIMESTAMP_COL], utc=True)
        age_days = (ts.max() - ts).dt.total_seconds() / 86400.0
        weights = np.power(0.5, age_days / half_life_days)
        weighted = df.assign(_w=weights, _wx=weights * df["$col"].astype("float64"))
        agg = weighted.groupby(ENTITY_KEY)[["_w", "_wx"]].sum()
        out = pd.DataFrame(index=agg.index)
        out["${col}_decayed_sum"] = agg["_wx"]
        out["${col}_decayed_mean"] = agg["_wx"] / agg["_w"].replace(0.0, np.nan)
        out["activity_weight"] = agg["_w"]
        return out.reset_index()
    ''', names={"fn": "decayed_${col}_features"}),
]


# --------------------------------------------------------------------------------------
# training scripts
# --------------------------------------------------------------------------------------
TRAIN_HEADER = '''
"""Train the $domain $model model ($est).

Usage::

    python -m $pkg.training.$modname \\
        --train-path s3://$bucket/datasets/$model/train.parquet \\
        --output-dir artifacts/$model
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from $est_module import $est
$extra_imports
logger = logging.getLogger("$pkg.training")

NUMERIC_FEATURES = ["$col", "$col2", "$col3", "${col}_sum_${win}d", "${col2}_mean_${win2}d"]
CATEGORICAL_FEATURES = ["$cat", "$cat2"]
TARGET = "label"
RANDOM_STATE = $seed
'''

TRAIN_CORE = [
    B('''
    def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
        parser = argparse.ArgumentParser(description="Train the $domain $model model.")
        parser.add_argument("--train-path", required=True, help="parquet file or prefix")
        parser.add_argument("--output-dir", default="artifacts/$model")
        parser.add_argument("--valid-size", type=float, default=0.2)
        parser.add_argument("--sample-frac", type=float, default=1.0)
        parser.add_argument("--n-estimators", type=int, default=$n0)
        parser.add_argument("--max-depth", type=int, default=$depth)
        parser.add_argument("--learning-rate", type=float, default=$lr)
        parser.add_argument("--min-auc", type=float, default=0.$gate)
        parser.add_argument("--log-level", default="INFO")
        parser.add_argument("--experiment", default="$domain-$model")
        return parser.parse_args(argv)
    ''', names={"_p": "parse_args"}),
    B('''
    def load_dataset(path: str, sample_frac: float = 1.0) -> pd.DataFrame:
        """Read the training table and drop rows that cannot be used."""
        logger.info("reading training data from %s", path)
        df = pd.read_parquet(path)
        n_raw = len(df)
        df = df.dropna(subset=[TARGET])
        df = df[df[TARGET].isin([0, 1])]
        if sample_frac < 1.0:
            df = df.sample(frac=sample_frac, random_state=RANDOM_STATE)
        for column in CATEGORICAL_FEATURES:
            df[column] = df[column].astype("string").fillna("__missing__")
        logger.info("kept %d of %d rows (positive rate %.3f)", len(df), n_raw, df[TARGET].mean())
        return df
    ''', names={"_p": "load_dataset"}),
    B('''
    def build_pipeline(args: argparse.Namespace) -> Pipeline:
        numeric = Pipeline(
            steps=[
                ("impute", SimpleImputer(strategy="median")),
                ("scale", StandardScaler()),
            ]
        )
        categorical = Pipeline(
            steps=[
                ("impute", SimpleImputer(strategy="constant", fill_value="__missing__")),
                ("onehot", OneHotEncoder(handle_unknown="ignore", min_frequency=$n)),
            ]
        )
        preprocess = ColumnTransformer(
            transformers=[
                ("num", numeric, NUMERIC_FEATURES),
                ("cat", categorical, CATEGORICAL_FEATURES),
            ],
            remainder="drop",
        )
        estimator = $est(**estimator_params(args))
        return Pipeline(steps=[("preprocess", preprocess), ("model", estimator)])


    def estimator_params(args: argparse.Namespace) -> dict[str, Any]:
        params: dict[str, Any] = {"random_state": RANDOM_STATE}
        if "$est" != "LogisticRegression":
            params["max_depth"] = args.max_depth
        if "$est" in ("GradientBoostingClassifier", "HistGradientBoostingClassifier"):
            params["learning_rate"] = args.learning_rate
        return params
    ''', names={"_p": "build_pipeline"}),
    B('''
    def evaluate(pipeline: Pipeline, frame: pd.DataFrame, threshold: float = $thr) -> dict[str, float]:
        features = frame[NUMERIC_FEATURES + CATEGORICAL_FEATURES]
        y_true = frame[TARGET].to_numpy()
        scores = pipeline.predict_proba(features)[:, 1]
        y_pred = (scores >= threshold).astype(int)
        metrics = {
            "roc_auc": float(roc_auc_score(y_true, scores)),
            "average_precision": float(average_precision_score(y_true, scores)),
            "f1": float(f1_score(y_true, y_pred)),
            "positive_rate": float(y_pred.mean()),
            "n_rows": float(len(frame)),
        }
        return metrics
    ''', names={"_p": "evaluate"}),
    B('''
    def save_artifacts(pipeline: Pipeline, metrics: dict[str, float], output_dir: Path) -> Path:
        output_dir.mkdir(parents=True, exist_ok=True)
        model_path = output_dir / "model.joblib"
        joblib.dump(pipeline, model_path, compress=3)
        (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True))
        (output_dir / "features.json").write_text(
            json.dumps({"numeric": NUMERIC_FEATURES, "categorical": CATEGORICAL_FEATURES}, indent=2)
        )
        logger.info("saved model to %s", model_path)
        return model_path
    ''', names={"_p": "save_artifacts"}),
]

TRAIN_MAIN = B('''
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    df = load_dataset(args.train_path, sample_frac=args.sample_frac)
    train_df, valid_df = train_test_split(
        df, test_size=args.valid_size, random_state=RANDOM_STATE, stratify=df[TARGET]
    )
    pipeline = build_pipeline(args)
    pipeline.fit(train_df[NUMERIC_FEATURES + CATEGORICAL_FEATURES], train_df[TARGET])
    metrics = evaluate(pipeline, valid_df)
    logger.info("validation metrics: %s", json.dumps(metrics, sort_keys=True))
    if metrics["roc_auc"] < args.min_auc:
        logger.error("roc_auc %.4f below the gate %.4f; not saving", metrics["roc_auc"], args.min_auc)
        return 2
    save_artifacts(pipeline, metrics, Path(args.output_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
''', names={"_p": "main"})

TRAIN_BLOCKS = [
    B('''
    def $fn(df: pd.DataFrame, args: argparse.Namespace, n_splits: int = 5) -> dict[str, float]:
        """Stratified K-fold cross validation; returns the mean and std of ROC AUC."""
        folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=RANDOM_STATE)
        scores: list[float] = []
        features = df[NUMERIC_FEATURES + CATEGORICAL_FEATURES]
        target = df[TARGET]
        for fold, (train_idx, valid_idx) in enumerate(folds.split(features, target)):
            pipeline = build_pipeline(args)
            pipeline.fit(features.iloc[train_idx], target.iloc[train_idx])
            proba = pipeline.predict_proba(features.iloc[valid_idx])[:, 1]
            score = float(roc_auc_score(target.iloc[valid_idx], proba))
            logger.info("fold %d: roc_auc=%.4f", fold, score)
            scores.append(score)
        return {"cv_roc_auc_mean": float(np.mean(scores)), "cv_roc_auc_std": float(np.std(scores))}
    ''', names={"fn": "cross_validate_$model"}),
    B('''
    def $fn(y_true: np.ndarray, scores: np.ndarray, min_precision: float = 0.$gate) -> float:
        """Smallest threshold whose precision reaches ``min_precision``."""
        order = np.argsort(-scores)
        sorted_true = y_true[order]
        true_positives = np.cumsum(sorted_true)
        predicted = np.arange(1, len(sorted_true) + 1)
        precision = true_positives / predicted
        eligible = np.nonzero(precision >= min_precision)[0]
        if eligible.size == 0:
            logger.warning("no threshold reaches precision %.2f", min_precision)
            return 1.0
        cut = int(eligible[-1])
        threshold = float(scores[order][cut])
        logger.info("threshold %.4f gives precision %.3f", threshold, precision[cut])
        return threshold
    ''', names={"fn": "pick_threshold_for_precision"}),
    B('''
    def $fn(run_name: str, params: dict[str, Any], metrics: dict[str, float], model_path: Path) -> None:
        """Log the run to MLflow when a tracking server is configured."""
        try:
            import mlflow
        except ImportError:  # pragma: no cover - optional dependency
            logger.info("mlflow not installed, skipping tracking")
            return
        mlflow.set_experiment("$domain-$model")
        with mlflow.start_run(run_name=run_name):
            mlflow.log_params({k: v for k, v in params.items() if v is not None})
            mlflow.log_metrics(metrics)
            mlflow.log_artifact(str(model_path))
            mlflow.set_tags({"team": "$domain", "model": "$model"})
    ''', names={"fn": "log_to_mlflow"}),
    B('''
    def $fn(pipeline: Pipeline, top_k: int = $n) -> pd.DataFrame:
        """Feature importances of the fitted estimator, mapped to input names."""
        model = pipeline.named_steps["model"]
        names = pipeline.named_steps["preprocess"].get_feature_names_out()
        if hasattr(model, "feature_importances_"):
            values = np.asarray(model.feature_importances_)
        elif hasattr(model, "coef_"):
            values = np.abs(np.asarray(model.coef_)).ravel()
        else:
            logger.warning("%s exposes no importances", type(model).__name__)
            return pd.DataFrame(columns=["feature", "importance"])
        table = pd.DataFrame({"feature": names, "importance": values})
        table = table.sort_values("importance", ascending=False).head(top_k)
        return table.reset_index(drop=True)
    ''', names={"fn": "feature_importance_report"}),
    B('''
    def $fn(expected: np.ndarray, actual: np.ndarray, n_bins: int = 10) -> float:
        """Population stability index between a reference and a current sample."""
        edges = np.unique(np.quantile(expected, np.linspace(0.0, 1.0, n_bins + 1)))
        if edges.size < 3:
            return 0.0
        expected_share = np.histogram(expected, bins=edges)[0] / max(len(expected), 1)
        actual_share = np.histogram(actual, bins=edges)[0] / max(len(actual), 1)
        expected_share = np.clip(expected_share, 1e-6, None)
        actual_share = np.clip(actual_share, 1e-6, None)
        psi = np.sum((actual_share - expected_share) * np.log(actual_share / expected_share))
        return float(psi)


    def $fn2(reference: pd.DataFrame, current: pd.DataFrame, limit: float = 0.2) -> dict[str, float]:
        drifted: dict[str, float] = {}
        for column in NUMERIC_FEATURES:
            value = $fn(reference[column].dropna().to_numpy(), current[column].dropna().to_numpy())
            if value > limit:
                drifted[column] = value
        if drifted:
            logger.warning("features drifted beyond PSI %.2f: %s", limit, sorted(drifted))
        return drifted
    ''', names={"fn": "population_stability_index", "fn2": "check_feature_drift"}),
    B('''
    def $fn(y: pd.Series) -> dict[int, float]:
        """Balanced class weights, capped so rare positives do not dominate."""
        counts = y.value_counts().to_dict()
        total = float(sum(counts.values()))
        weights = {int(label): total / (len(counts) * count) for label, count in counts.items()}
        return {label: min(weight, $cap.0) for label, weight in weights.items()}
    ''', names={"fn": "capped_class_weights"}),
    B('''
    $const: dict[str, list[Any]] = {
        "model__max_depth": [3, 5, 8, None],
        "model__min_samples_leaf": [1, 5, 20],
        "preprocess__cat__onehot__min_frequency": [5, 20, 50],
    }


    def $fn(df: pd.DataFrame, args: argparse.Namespace, max_trials: int = $n) -> dict[str, Any]:
        """Random search over ``$const`` scored on a single validation split."""
        rng = np.random.default_rng(RANDOM_STATE)
        train_df, valid_df = train_test_split(df, test_size=0.25, random_state=RANDOM_STATE)
        best: dict[str, Any] = {"score": -np.inf, "params": {}}
        for trial in range(max_trials):
            params = {key: values[rng.integers(len(values))] for key, values in $const.items()}
            pipeline = build_pipeline(args)
            try:
                pipeline.set_params(**params)
            except ValueError:
                continue
            pipeline.fit(train_df[NUMERIC_FEATURES + CATEGORICAL_FEATURES], train_df[TARGET])
            score = evaluate(pipeline, valid_df)["$metric"]
            logger.debug("trial %d: %s -> %.4f", trial, params, score)
            if score > best["score"]:
                best = {"score": score, "params": params}
        return best
    ''', names={"fn": "random_search", "const": "SEARCH_SPACE"}),
    B('''
    def $fn(frame: pd.DataFrame, column: str = "event_date", holdout_days: int = $win) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Out-of-time split: the last ``holdout_days`` days are the validation set."""
        dates = pd.to_datetime(frame[column])
        cutoff = dates.max() - pd.Timedelta(days=holdout_days)
        train_df = frame[dates <= cutoff]
        valid_df = frame[dates > cutoff]
        logger.info(
            "out-of-time split at %s: %d train rows, %d validation rows",
            cutoff.date(),
            len(train_df),
            len(valid_df),
        )
        return train_df, valid_df
    ''', names={"fn": "out_of_time_split"}),
    B('''
    class $cls:
        """Keeps the best pipeline seen so far and stops after ``patience`` misses."""

        def __init__(self, patience: int = $retries, metric: str = "$metric") -> None:
            self.patience = patience
            self.metric = metric
            self.best_score = -np.inf
            self.best_pipeline: Pipeline | None = None
            self.misses = 0

        def update(self, pipeline: Pipeline, metrics: dict[str, float]) -> bool:
            score = metrics[self.metric]
            if score > self.best_score:
                self.best_score = score
                self.best_pipeline = pipeline
                self.misses = 0
                return True
            self.misses += 1
            return False

        @property
        def should_stop(self) -> bool:
            return self.misses >= self.patience
    ''', classes={"cls": "BestModelTracker"}),
]


# --------------------------------------------------------------------------------------
# serving apps (FastAPI and Flask)
# --------------------------------------------------------------------------------------
FASTAPI_HEADER = '''
"""HTTP serving for the $domain $model model ($role)."""

from __future__ import annotations

import logging
import os
import time
from contextlib import asynccontextmanager
from typing import Any

import httpx
import joblib
import numpy as np
import pandas as pd
from fastapi import APIRouter, FastAPI, HTTPException, Request
from pydantic import BaseModel, Field
$extra_imports
logger = logging.getLogger("$pkg.serving")

MODEL_PATH = os.environ.get("MODEL_PATH", "/models/$model/model.joblib")
MODEL_VERSION = os.environ.get("MODEL_VERSION", "$version")
FEATURE_SERVICE_URL = os.environ.get("FEATURE_SERVICE_URL", "https://features.$domain.svc.cluster.local")
_state: dict[str, Any] = {}
'''

FASTAPI_APP_CORE = [
    B('''
    class $req(BaseModel):
        ${ent}_id: int = Field(..., ge=1)
        $col: float = Field(..., description="raw $col as sent by the caller")
        $col2: float | None = None
        $cat: str = Field("__missing__", max_length=64)
        $cat2: str = Field("__missing__", max_length=64)


    class $resp(BaseModel):
        ${ent}_id: int
        score: float
        label: int
        model_version: str
        latency_ms: float
    ''', classes={"req": "PredictRequest", "resp": "PredictResponse"}),
    B('''
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        logger.info("loading model from %s", MODEL_PATH)
        _state["model"] = joblib.load(MODEL_PATH)
        _state["loaded_at"] = time.time()
        _state["http"] = httpx.AsyncClient(timeout=httpx.Timeout($timeout.0, connect=1.0))
        yield
        await _state["http"].aclose()
        _state.clear()


    app = FastAPI(title="$domain-$model", version=MODEL_VERSION, lifespan=lifespan)
    router = APIRouter()
    ''', names={"_p": "lifespan"}),
    B('''
    @router.post("/predict", response_model=PredictResponse)
    async def predict(payload: PredictRequest) -> PredictResponse:
        started = time.perf_counter()
        model = _state.get("model")
        if model is None:
            raise HTTPException(status_code=503, detail="model not loaded")
        frame = pd.DataFrame([payload.model_dump()])
        try:
            score = float(model.predict_proba(frame)[:, 1][0])
        except (KeyError, ValueError) as exc:
            logger.warning("bad request for ${ent} %s: %s", payload.${ent}_id, exc)
            raise HTTPException(status_code=422, detail="invalid features") from exc
        latency_ms = (time.perf_counter() - started) * 1000.0
        logger.info("scored ${ent} %s in %.1f ms", payload.${ent}_id, latency_ms)
        return PredictResponse(
            ${ent}_id=payload.${ent}_id,
            score=score,
            label=int(score >= $thr),
            model_version=MODEL_VERSION,
            latency_ms=latency_ms,
        )


    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}


    @router.get("/readyz")
    async def readyz() -> dict[str, Any]:
        if "model" not in _state:
            raise HTTPException(status_code=503, detail="loading")
        return {"status": "ready", "model_version": MODEL_VERSION, "loaded_at": _state["loaded_at"]}
    ''', names={"_p": "predict"}),
]

FASTAPI_ROUTER_CORE = [
    B('''
    router = APIRouter(prefix="/v1/$ent", tags=["$ent"])


    class $req(BaseModel):
        ${ent}_ids: list[int] = Field(..., min_length=1, max_length=$batch)
        include_features: bool = False
    ''', classes={"req": "${Ent}BatchRequest"}),
]

FASTAPI_BLOCKS = [
    B('''
    @router.post("/$ent/batch")
    async def $fn(ids: list[int]) -> dict[str, Any]:
        """Score up to $batch ${ent}s in one call using features from the feature service."""
        if len(ids) > $batch:
            raise HTTPException(status_code=413, detail="batch too large")
        client: httpx.AsyncClient = _state["http"]
        response = await client.post(f"{FEATURE_SERVICE_URL}/v1/$ent/features", json={"ids": ids})
        response.raise_for_status()
        frame = pd.DataFrame(response.json()["rows"])
        scores = _state["model"].predict_proba(frame)[:, 1]
        return {
            "model_version": MODEL_VERSION,
            "scores": {int(i): float(s) for i, s in zip(frame["${ent}_id"], scores)},
        }
    ''', names={"fn": "score_${ent}_batch"}),
    B('''
    async def $fn(request: Request, call_next: Any) -> Any:
        """Attach a request id and log the latency of every call."""
        request_id = request.headers.get("x-request-id") or os.urandom(8).hex()
        started = time.perf_counter()
        response = await call_next(request)
        elapsed = (time.perf_counter() - started) * 1000.0
        response.headers["x-request-id"] = request_id
        response.headers["x-model-version"] = MODEL_VERSION
        logger.info(
            "%s %s -> %d in %.1f ms (rid=%s)",
            request.method,
            request.url.path,
            response.status_code,
            elapsed,
            request_id,
        )
        return response
    ''', names={"fn": "request_logging_middleware"}),
    B('''
    def $fn(features: dict[str, Any]) -> list[str]:
        """Cheap sanity checks before the model sees the payload."""
        problems: list[str] = []
        value = features.get("$col")
        if value is None or not np.isfinite(float(value)):
            problems.append("$col must be a finite number")
        elif float(value) < 0:
            problems.append("$col must be non-negative")
        if len(str(features.get("$cat", ""))) > 64:
            problems.append("$cat is too long")
        return problems
    ''', names={"fn": "validate_${ent}_features"}),
    B('''
    @router.get("/$ent/{${ent}_id}/explain")
    async def $fn(${ent}_id: int, top_k: int = $n) -> dict[str, Any]:
        """Return the largest contributions for one $ent (linear approximation)."""
        model = _state.get("model")
        if model is None:
            raise HTTPException(status_code=503, detail="model not loaded")
        client: httpx.AsyncClient = _state["http"]
        response = await client.get(f"{FEATURE_SERVICE_URL}/v1/$ent/{${ent}_id}")
        if response.status_code == 404:
            raise HTTPException(status_code=404, detail="unknown $ent")
        response.raise_for_status()
        row = pd.DataFrame([response.json()])
        transformed = model.named_steps["preprocess"].transform(row)
        weights = getattr(model.named_steps["model"], "coef_", np.zeros((1, transformed.shape[1])))
        contributions = np.asarray(transformed).ravel() * np.asarray(weights).ravel()
        names = model.named_steps["preprocess"].get_feature_names_out()
        order = np.argsort(-np.abs(contributions))[:top_k]
        return {"${ent}_id": ${ent}_id, "top": [[names[i], float(contributions[i])] for i in order]}
    ''', names={"fn": "explain_$ent"}),
    B('''
    $const: dict[str, int] = {"requests": 0, "errors": 0, "rejected": 0}


    def $fn(kind: str) -> None:
        $const[kind] = $const.get(kind, 0) + 1


    @router.get("/metrics/summary")
    async def $fn2() -> dict[str, Any]:
        total = max($const["requests"], 1)
        return {
            "requests": $const["requests"],
            "error_rate": $const["errors"] / total,
            "reject_rate": $const["rejected"] / total,
            "model_version": MODEL_VERSION,
        }
    ''', names={"fn": "count_event", "fn2": "metrics_summary", "const": "_COUNTERS"}),
    B('''
    class $cls:
        """Tiny TTL cache in front of the feature service for hot ${ent}s."""

        def __init__(self, ttl_s: float = $win.0, maxsize: int = $maxsize) -> None:
            self.ttl_s = ttl_s
            self.maxsize = maxsize
            self._items: dict[int, tuple[float, dict[str, Any]]] = {}

        def get(self, key: int) -> dict[str, Any] | None:
            item = self._items.get(key)
            if item is None:
                return None
            stored_at, value = item
            if time.monotonic() - stored_at > self.ttl_s:
                self._items.pop(key, None)
                return None
            return value

        def put(self, key: int, value: dict[str, Any]) -> None:
            if len(self._items) >= self.maxsize:
                oldest = min(self._items, key=lambda k: self._items[k][0])
                self._items.pop(oldest, None)
            self._items[key] = (time.monotonic(), value)
    ''', classes={"cls": "${Ent}FeatureCache"}),
]

FLASK_HEADER = '''
"""Flask serving for the $domain $model model ($role)."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import joblib
import numpy as np
import pandas as pd
import requests
from flask import Blueprint, Flask, abort, jsonify, request
$extra_imports
logger = logging.getLogger("$pkg.serving")

MODEL_PATH = os.environ.get("MODEL_PATH", "/models/$model/model.joblib")
MODEL_VERSION = os.environ.get("MODEL_VERSION", "$version")
FEATURE_SERVICE_URL = os.environ.get("FEATURE_SERVICE_URL", "https://features.$domain.svc.cluster.local")
_model: Any = None
'''

FLASK_APP_CORE = [
    B('''
    def $fn() -> Any:
        global _model
        if _model is None:
            logger.info("loading model from %s", MODEL_PATH)
            _model = joblib.load(MODEL_PATH)
        return _model


    def create_app() -> Flask:
        app = Flask(__name__)
        app.config["JSON_SORT_KEYS"] = False
        app.register_blueprint(bp)
        return app


    bp = Blueprint("$model", __name__)
    ''', names={"fn": "get_model"}),
    B('''
    @bp.route("/predict", methods=["POST"])
    def predict() -> Any:
        started = time.perf_counter()
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            abort(400, description="expected a JSON object")
        frame = pd.DataFrame([payload])
        try:
            score = float(get_model().predict_proba(frame)[:, 1][0])
        except (KeyError, ValueError) as exc:
            logger.warning("invalid payload: %s", exc)
            abort(422, description="invalid features")
        latency_ms = (time.perf_counter() - started) * 1000.0
        return jsonify(
            score=score,
            label=int(score >= $thr),
            model_version=MODEL_VERSION,
            latency_ms=round(latency_ms, 3),
        )


    @bp.route("/healthz", methods=["GET"])
    def healthz() -> Any:
        return jsonify(status="ok")
    ''', names={"_p": "predict"}),
]

FLASK_ROUTER_CORE = [
    B('''
    bp = Blueprint("$ent", __name__, url_prefix="/v1/$ent")


    def get_model() -> Any:
        from .app import get_model as _get_model

        return _get_model()
    ''', names={"_p": "get_model"}),
]

FLASK_BLOCKS = [
    B('''
    @bp.route("/$ent/<int:${ent}_id>", methods=["GET"])
    def $fn(${ent}_id: int) -> Any:
        """Fetch features for one $ent and score them."""
        response = requests.get(f"{FEATURE_SERVICE_URL}/v1/$ent/{${ent}_id}", timeout=$timeout)
        if response.status_code == 404:
            abort(404, description="unknown $ent")
        response.raise_for_status()
        frame = pd.DataFrame([response.json()])
        score = float(get_model().predict_proba(frame)[:, 1][0])
        return jsonify(${ent}_id=${ent}_id, score=score, model_version=MODEL_VERSION)
    ''', names={"fn": "score_$ent"}),
    B('''
    @bp.route("/$ent/batch", methods=["POST"])
    def $fn() -> Any:
        rows = request.get_json(silent=True) or []
        if not isinstance(rows, list) or not rows:
            abort(400, description="expected a non-empty JSON list")
        if len(rows) > $batch:
            abort(413, description="batch too large")
        frame = pd.DataFrame(rows)
        scores = get_model().predict_proba(frame)[:, 1]
        logger.info("scored a batch of %d ${ent}s", len(rows))
        return jsonify(scores=[float(s) for s in scores], model_version=MODEL_VERSION)
    ''', names={"fn": "score_${ent}_batch"}),
    B('''
    def $fn(payload: dict[str, Any]) -> list[str]:
        problems = []
        for key in ("${ent}_id", "$col"):
            if key not in payload:
                problems.append(f"missing {key}")
        value = payload.get("$col")
        if value is not None and not np.isfinite(float(value)):
            problems.append("$col must be finite")
        return problems
    ''', names={"fn": "check_${ent}_payload"}),
    B('''
    @bp.after_request
    def $fn(response: Any) -> Any:
        response.headers["X-Model-Version"] = MODEL_VERSION
        response.headers["Cache-Control"] = "no-store"
        return response
    ''', names={"fn": "add_${ent}_headers"}),
    B('''
    @bp.errorhandler(422)
    def $fn(error: Any) -> Any:
        logger.info("rejected request: %s", error)
        return jsonify(error="unprocessable", detail=str(getattr(error, "description", error))), 422
    ''', names={"fn": "handle_${ent}_unprocessable"}),
]


# --------------------------------------------------------------------------------------
# Airflow DAGs
# --------------------------------------------------------------------------------------
DAG_HEADER = '''
"""Airflow DAG: $purpose for the $domain $model model."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pendulum
from airflow import DAG
from airflow.models import Variable
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import PythonOperator
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
$extra_imports
logger = logging.getLogger(__name__)

DAG_ID = "$dag_id"
IMAGE = "registry.example.com/$domain/$model-jobs:$version"
DATA_BUCKET = "s3://$bucket"

default_args = {
    "owner": "$domain",
    "retries": $retries,
    "retry_delay": timedelta(minutes=5),
    "email_on_failure": False,
    "execution_timeout": timedelta(hours=2),
}
'''

DAG_CALLABLES = [
    B('''
    def $fn(ds: str, **context: Any) -> str:
        """Check that yesterday's $ent partition landed and is not empty."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        hook = S3Hook(aws_conn_id="aws_$domain")
        prefix = f"raw/${ent}_events/dt={ds}/"
        keys = hook.list_keys(bucket_name="$bucket", prefix=prefix) or []
        if not keys:
            raise ValueError(f"no files under {prefix}")
        logger.info("found %d files for %s", len(keys), ds)
        return prefix
    ''', names={"fn": "check_${ent}_partition"}),
    B('''
    def $fn(ds: str, **context: Any) -> dict[str, Any]:
        """Compute row counts and null rates for the $ent feature table."""
        import pandas as pd

        path = f"{DATA_BUCKET}/features/$ent/dt={ds}/part-0.parquet"
        frame = pd.read_parquet(path)
        report = {
            "rows": int(len(frame)),
            "null_rate": {c: float(v) for c, v in frame.isna().mean().items() if v > 0},
            "dt": ds,
        }
        if report["rows"] < $minrows:
            raise ValueError(f"only {report['rows']} rows for {ds}")
        context["ti"].xcom_push(key="profile", value=json.dumps(report))
        return report
    ''', names={"fn": "profile_${ent}_features"}),
    B('''
    def $fn(**context: Any) -> str:
        """Decide whether the freshly trained model may be promoted."""
        ti = context["ti"]
        raw = ti.xcom_pull(task_ids="evaluate_candidate", key="metrics") or "{}"
        metrics = json.loads(raw)
        gate = float(Variable.get("${model}_min_auc", default_var="0.$gate"))
        if metrics.get("roc_auc", 0.0) >= gate:
            logger.info("candidate passes the gate (%.4f >= %.4f)", metrics["roc_auc"], gate)
            return "promote_model"
        logger.warning("candidate below gate %.4f: %s", gate, metrics)
        return "skip_promotion"
    ''', names={"fn": "decide_promotion"}),
    B('''
    def $fn(ds: str, **context: Any) -> None:
        """Post a short summary to the team channel via the Slack connection."""
        from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

        profile = context["ti"].xcom_pull(key="profile") or "{}"
        text = f":white_check_mark: $model features for {ds} ready: {profile}"
        SlackWebhookHook(slack_webhook_conn_id="slack_$domain").send(text=text)
    ''', names={"fn": "notify_${ent}_ready"}),
    B('''
    def $fn(ds: str, **context: Any) -> int:
        """Delete feature partitions older than the retention window."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        hook = S3Hook(aws_conn_id="aws_$domain")
        cutoff = pendulum.parse(ds).subtract(days=$retention)
        deleted = 0
        for key in hook.list_keys(bucket_name="$bucket", prefix="features/$ent/") or []:
            part = key.split("dt=")[-1].split("/")[0]
            if part < cutoff.to_date_string():
                hook.delete_objects(bucket="$bucket", keys=[key])
                deleted += 1
        logger.info("deleted %d old partitions", deleted)
        return deleted
    ''', names={"fn": "prune_${ent}_partitions"}),
]


# --------------------------------------------------------------------------------------
# utility modules
# --------------------------------------------------------------------------------------
UTIL_HEADER = '''
"""$topic helpers shared by the $domain $model pipelines and services."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import yaml
$extra_imports
logger = logging.getLogger(__name__)
T = TypeVar("T")
'''

UTIL_BLOCKS = [
    B('''
    def $fn(
        attempts: int = $retries,
        base_delay: float = 0.5,
        exceptions: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError),
    ) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Retry with exponential backoff and jitter."""

        def decorator(func: Callable[..., T]) -> Callable[..., T]:
            @functools.wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> T:
                for attempt in range(1, attempts + 1):
                    try:
                        return func(*args, **kwargs)
                    except exceptions as exc:
                        if attempt == attempts:
                            raise
                        delay = base_delay * 2 ** (attempt - 1) * (1 + random.random())
                        logger.warning("%s failed (%s), retry %d in %.2fs", func.__name__, exc, attempt, delay)
                        time.sleep(delay)
                raise AssertionError("unreachable")

            return wrapper

        return decorator
    ''', names={"fn": "retry"}),
    B('''
    def $fn(path: str | Path, env: str | None = None) -> dict[str, Any]:
        """Load a YAML config and overlay the section for ``env`` if present."""
        with open(path, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: top level must be a mapping")
        config = {k: v for k, v in raw.items() if k != "environments"}
        env = env or os.environ.get("APP_ENV", "dev")
        overlay = raw.get("environments", {}).get(env, {})
        config.update(overlay)
        logger.debug("loaded config %s for env %s (%d keys)", path, env, len(config))
        return config
    ''', names={"fn": "load_config"}),
    B('''
    def $fn(uri: str) -> tuple[str, str]:
        """Split ``s3://bucket/key`` into ``(bucket, key)``."""
        if not uri.startswith("s3://"):
            raise ValueError(f"not an S3 URI: {uri}")
        bucket, _, key = uri[len("s3://"):].partition("/")
        if not bucket:
            raise ValueError(f"missing bucket in {uri}")
        return bucket, key


    def $fn2(bucket: str, *parts: str, dt: date | None = None) -> str:
        key = "/".join(p.strip("/") for p in parts if p)
        if dt is not None:
            key = f"{key}/dt={dt.isoformat()}"
        return f"s3://{bucket}/{key}"
    ''', names={"fn": "split_s3_uri", "fn2": "s3_uri"}),
    B('''
    @contextmanager
    def $fn(label: str, log: logging.Logger | None = None) -> Iterator[dict[str, float]]:
        """Measure the wall time of a block: ``with timed("load") as t: ...``."""
        result: dict[str, float] = {}
        started = time.perf_counter()
        try:
            yield result
        finally:
            result["seconds"] = time.perf_counter() - started
            (log or logger).info("%s took %.3fs", label, result["seconds"])
    ''', names={"fn": "timed"}),
    B('''
    def $fn(level: str | None = None, json_logs: bool | None = None) -> None:
        """Configure root logging once; JSON lines in containers, text locally."""
        level = level or os.environ.get("LOG_LEVEL", "INFO")
        if json_logs is None:
            json_logs = os.environ.get("LOG_FORMAT", "text") == "json"
        handler = logging.StreamHandler()
        if json_logs:
            handler.setFormatter(_JsonFormatter())
        else:
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root = logging.getLogger()
        root.handlers[:] = [handler]
        root.setLevel(level)


    class _JsonFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            payload = {
                "ts": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            }
            if record.exc_info:
                payload["exc"] = self.formatException(record.exc_info)
            return json.dumps(payload)
    ''', names={"fn": "setup_logging"}, classes={"_c": "_JsonFormatter"}),
    B('''
    def $fn(value: str, buckets: int = 100, salt: str = "$model") -> int:
        """Stable bucket for A/B assignment, independent of PYTHONHASHSEED."""
        digest = hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()
        return int(digest[:12], 16) % buckets


    def $fn2(value: str, treatment_share: float = 0.$share) -> str:
        return "treatment" if $fn(value) < treatment_share * 100 else "control"
    ''', names={"fn": "stable_bucket", "fn2": "assign_variant"}),
    B('''
    def $fn(items: Iterable[T], size: int = $batch) -> Iterator[list[T]]:
        """Yield lists of at most ``size`` items."""
        if size < 1:
            raise ValueError("size must be positive")
        batch: list[T] = []
        for item in items:
            batch.append(item)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch
    ''', names={"fn": "chunked"}),
    B('''
    def $fn(start: date, end: date, step_days: int = 1) -> list[date]:
        """Inclusive list of dates from ``start`` to ``end``."""
        if end < start:
            raise ValueError(f"end {end} before start {start}")
        days = (end - start).days
        return [start + timedelta(days=offset) for offset in range(0, days + 1, step_days)]


    def $fn2(ds: str, lookback_days: int = $win) -> tuple[date, date]:
        end = datetime.strptime(ds, "%Y-%m-%d").date()
        return end - timedelta(days=lookback_days), end
    ''', names={"fn": "date_range", "fn2": "lookback_window"}),
    B('''
    class $cls(json.JSONEncoder):
        """JSON encoder that understands dates, paths, sets and numpy scalars."""

        def default(self, o: Any) -> Any:
            if isinstance(o, (datetime, date)):
                return o.isoformat()
            if isinstance(o, Path):
                return str(o)
            if isinstance(o, (set, frozenset)):
                return sorted(o)
            if hasattr(o, "item"):
                return o.item()
            return super().default(o)


    def $fn(obj: Any, path: str | Path) -> None:
        tmp = Path(f"{path}.tmp")
        tmp.write_text(json.dumps(obj, cls=$cls, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    ''', names={"fn": "write_json_atomic"}, classes={"cls": "ExtendedEncoder"}),
    B('''
    @dataclass(frozen=True)
    class $cls:
        """Runtime settings read from the environment (12-factor style)."""

        env: str = "dev"
        model_bucket: str = "$bucket"
        feature_service_url: str = "https://features.$domain.svc.cluster.local"
        request_timeout_s: float = $timeout.0
        batch_size: int = $batch

        @classmethod
        def from_env(cls) -> $cls:
            return cls(
                env=os.environ.get("APP_ENV", cls.env),
                model_bucket=os.environ.get("MODEL_BUCKET", cls.model_bucket),
                feature_service_url=os.environ.get("FEATURE_SERVICE_URL", cls.feature_service_url),
                request_timeout_s=float(os.environ.get("REQUEST_TIMEOUT_S", cls.request_timeout_s)),
                batch_size=int(os.environ.get("BATCH_SIZE", cls.batch_size)),
            )
    ''', classes={"cls": "${Model}Settings"}),
    B('''
    def $fn(path: str | Path, chunk_size: int = 1 << 20) -> str:
        """SHA-256 of a file, read in chunks (used to fingerprint model artifacts)."""
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while True:
                chunk = handle.read(chunk_size)
                if not chunk:
                    break
                digest.update(chunk)
        return digest.hexdigest()
    ''', names={"fn": "file_sha256"}),
    B('''
    class $cls:
        """Token bucket limiting calls to an upstream service."""

        def __init__(self, rate_per_s: float = $n.0, burst: int = $retries) -> None:
            self.rate = rate_per_s
            self.capacity = float(burst)
            self.tokens = float(burst)
            self.updated = time.monotonic()

        def acquire(self, cost: float = 1.0) -> None:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= cost:
                    self.tokens -= cost
                    return
                time.sleep((cost - self.tokens) / self.rate)
    ''', classes={"cls": "RateLimiter"}),
]


# --------------------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------------------
PYTEST_HEADER = '''
"""Tests for $target_mod."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pandas as pd
import pytest

from $target_import import $target_name
$extra_imports

@pytest.fixture()
def ${ent}_frame() -> pd.DataFrame:
    rng = np.random.default_rng($seed)
    n = $rows
    return pd.DataFrame(
        {
            "${ent}_id": rng.integers(1, 50, size=n),
            "event_ts": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
            "$col": rng.gamma(2.0, 10.0, size=n),
            "$col2": rng.normal(100.0, 15.0, size=n),
            "$cat": rng.choice(["a", "b", "c", None], size=n),
            "label": rng.integers(0, 2, size=n),
        }
    )
'''

PYTEST_BLOCKS = [
    B('''
    def $fn(${ent}_frame: pd.DataFrame) -> None:
        result = ${ent}_frame.copy()
        assert not result.empty
        assert set(["${ent}_id", "$col"]).issubset(result.columns)
        assert result["$col"].ge(0).all()
    ''', names={"fn": "test_${ent}_frame_is_well_formed"}),
    B('''
    @pytest.mark.parametrize(
        ("values", "expected"),
        [
            ([1.0, 2.0, 3.0], 2.0),
            ([0.0, 0.0], 0.0),
            ([5.5], 5.5),
            ([-1.0, 1.0], 0.0),
        ],
    )
    def $fn(values: list[float], expected: float) -> None:
        series = pd.Series(values, name="$col")
        assert series.mean() == pytest.approx(expected)
    ''', names={"fn": "test_${col}_mean_matches_expected"}),
    B('''
    def $fn(${ent}_frame: pd.DataFrame) -> None:
        with mock.patch.object(pd, "read_parquet", return_value=${ent}_frame) as read:
            frame = pd.read_parquet("s3://$bucket/datasets/$model/train.parquet")
        read.assert_called_once()
        assert len(frame) == len(${ent}_frame)
    ''', names={"fn": "test_reads_${ent}_dataset_from_s3"}),
    B('''
    def $fn(${ent}_frame: pd.DataFrame) -> None:
        frame = ${ent}_frame.assign($col=np.nan)
        with pytest.raises((ValueError, KeyError, AssertionError)):
            if frame["$col"].isna().all():
                raise ValueError("$col is entirely missing")
    ''', names={"fn": "test_rejects_missing_${col}"}),
    B('''
    def $fn(tmp_path) -> None:
        config = tmp_path / "config.yaml"
        config.write_text("model: $model\\nthreshold: $thr\\nenvironments:\\n  prod:\\n    threshold: 0.7\\n")
        text = config.read_text()
        assert "$model" in text
        assert config.stat().st_size > 0
    ''', names={"fn": "test_${model}_config_roundtrip"}),
    B('''
    @mock.patch("requests.Session.get")
    def $fn(get: mock.MagicMock) -> None:
        get.return_value.status_code = 200
        get.return_value.json.return_value = {"${ent}_id": 7, "$col": 12.5}
        import requests

        response = requests.Session().get("https://features.example.com/v1/$ent/7", timeout=2)
        assert response.json()["$col"] == 12.5
        get.assert_called_once()
    ''', names={"fn": "test_feature_client_parses_${ent}"}),
    B('''
    def $fn(${ent}_frame: pd.DataFrame) -> None:
        grouped = ${ent}_frame.groupby("${ent}_id")["$col"].sum()
        assert grouped.index.is_unique
        assert grouped.sum() == pytest.approx(${ent}_frame["$col"].sum())
    ''', names={"fn": "test_${ent}_grouping_preserves_totals"}),
]

PYTEST_BLOCKS += [
    B('''
    def $fn() -> None:
        public = [name for name in dir($target_name) if not name.startswith("_")]
        assert public, "$target_name should expose a public API"
        assert $target_name.__name__.endswith("$target_name")
    ''', names={"fn": "test_${target_name}_exposes_public_api"}),
    B('''
    def $fn(${ent}_frame: pd.DataFrame, caplog: pytest.LogCaptureFixture) -> None:
        with mock.patch.object($target_name, "logger") as fake_logger:
            fake_logger.debug("checking %d rows", len(${ent}_frame))
        fake_logger.debug.assert_called_once()
        assert "$target_name" in $target_name.__name__
    ''', names={"fn": "test_${target_name}_logs_through_module_logger"}),
]

UNITTEST_BLOCKS = [
    B('''
    class $cls(unittest.TestCase):
        def setUp(self) -> None:
            self.client = mock.MagicMock()
            self.client.get.return_value.json.return_value = {"${ent}_id": 1, "$col": 3.0}
            self.client.get.return_value.status_code = 200

        def test_fetches_features(self) -> None:
            payload = self.client.get("/v1/$ent/1").json()
            self.assertEqual(payload["${ent}_id"], 1)
            self.client.get.assert_called_once_with("/v1/$ent/1")

        def test_handles_missing_$ent(self) -> None:
            self.client.get.return_value.status_code = 404
            response = self.client.get("/v1/$ent/404")
            self.assertEqual(response.status_code, 404)

        @mock.patch("time.sleep", return_value=None)
        def test_retries_are_bounded(self, sleep: mock.MagicMock) -> None:
            self.client.get.side_effect = [ConnectionError(), ConnectionError(), mock.DEFAULT]
            attempts = 0
            for _ in range(3):
                attempts += 1
                try:
                    self.client.get("/v1/$ent/2")
                    break
                except ConnectionError:
                    sleep(0.1)
            self.assertEqual(attempts, 3)
    ''', classes={"cls": "${Ent}ClientTest"}),
]


# --------------------------------------------------------------------------------------
# violations (each is a module-level snippet; ``marker`` finds its line afterwards)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PyViolation:
    kind: str
    text: str
    marker: str
    imports: tuple[str, ...] = ()
    where: tuple[str, ...] = ("features", "training", "serving", "dag", "utils")
    names: tuple[tuple[str, str], ...] = ()


PY_VIOLATIONS = [
    PyViolation(
        "requests-no-timeout",
        '''
        def $fn(url: str) -> dict[str, Any]:
            """Fetch the latest $ent snapshot from the upstream API."""
            response = requests.get(url)
            response.raise_for_status()
            return response.json()
        ''',
        "requests.get(url)",
        imports=("import requests", "from typing import Any"),
        names=(("fn", "fetch_${ent}_snapshot"),),
    ),
    PyViolation(
        "tls-verify-disabled",
        '''
        def $fn(endpoint: str, payload: dict[str, Any]) -> int:
            """Push scores to the partner endpoint (their cert chain is broken)."""
            response = requests.post(endpoint, json=payload, timeout=$timeout, verify=False)
            return response.status_code
        ''',
        "verify=False",
        imports=("import requests", "from typing import Any"),
        names=(("fn", "push_${ent}_scores"),),
    ),
    PyViolation(
        "pickle-load",
        '''
        def $fn(path: str) -> Any:
            """Load a legacy model artifact."""
            with open(path, "rb") as handle:
                return pickle.load(handle)
        ''',
        "pickle.load(handle)",
        imports=("import pickle", "from typing import Any"),
        where=("training", "serving", "utils", "dag"),
        names=(("fn", "load_legacy_${model}_model"),),
    ),
    PyViolation(
        "mock-in-production",
        '''
        def $fn(use_stub: bool = False) -> Any:
            """Return the feature store client, or a stub when running locally."""
            if use_stub:
                stub = mock.MagicMock()
                stub.get_online_features.return_value = {"${ent}_id": 0, "$col": 0.0}
                return stub
            from feast import FeatureStore

            return FeatureStore(repo_path="feature_repo")
        ''',
        "from unittest import mock",
        imports=("from unittest import mock", "from typing import Any"),
        names=(("fn", "feature_store_client"),),
    ),
    PyViolation(
        "print-in-serving",
        '''
        def $fn(${ent}_id: int, score: float) -> None:
            print(f"scored ${ent} {${ent}_id}: {score:.4f}")
        ''',
        'print(f"scored',
        where=("serving",),
        names=(("fn", "debug_${ent}_score"),),
    ),
    PyViolation(
        "broad-except-pass",
        '''
        def $fn(path: str) -> dict[str, Any]:
            """Best-effort read of optional overrides."""
            overrides: dict[str, Any] = {}
            try:
                with open(path, encoding="utf-8") as handle:
                    overrides = json.load(handle)
            except Exception:
                pass
            return overrides
        ''',
        "except Exception:",
        imports=("import json", "from typing import Any"),
        names=(("fn", "read_${model}_overrides"),),
    ),
    PyViolation(
        "hardcoded-data-path",
        '''
        def $fn() -> pd.DataFrame:
            df = pd.read_csv("data/train.csv")
            return df.dropna(subset=["${ent}_id"])
        ''',
        'pd.read_csv("data/train.csv")',
        imports=("import pandas as pd",),
        where=("features", "training", "dag"),
        names=(("fn", "load_local_${ent}_sample"),),
    ),
    PyViolation(
        "hardcoded-password",
        '''
        DB_HOST = "$domain-warehouse.internal"
        DB_USER = "${model}_etl"
        password = "Pr0d-$pw!"
        ''',
        'password = "',
        where=("features", "training", "serving", "dag", "utils", "tests"),
    ),
    PyViolation(
        "plain-http-url",
        '''
        $const = "http://$host/api/v2/$ent"
        ''',
        '"http://',
        where=("features", "training", "serving", "dag", "utils", "tests"),
        names=(("const", "${ENT}_API_URL"),),
    ),
]

HTTP_HOSTS = [
    "partner-api.example.com", "scores.acme-analytics.io", "legacy-crm.example.net",
    "metrics.vendor-cloud.example.org", "geo.lookup-service.example.com",
]


def render_violation(v: PyViolation, ctx: Ctx) -> str:
    values = ctx.values()
    values["pw"] = f"{ctx.rng.randint(1000, 9999)}{ctx.rng.choice(['x', 'q', 'z'])}"
    values["host"] = ctx.rng.choice(HTTP_HOSTS)
    for slot, pattern in v.names:
        base = Template(pattern).substitute(values)
        values[slot] = ctx.fresh_cls(base) if slot == "const" else ctx.fresh(base)
    return Template(textwrap.dedent(v.text).strip("\n")).substitute(values) + "\n"


# --------------------------------------------------------------------------------------
# assembling a module
# --------------------------------------------------------------------------------------
@dataclass
class PyFile:
    text: str
    violation: str | None = None
    violation_line: int | None = None
    exports: list[str] = field(default_factory=list)


def _assemble(
    header: str,
    header_values: dict[str, str],
    core: list[str],
    filler: Callable[[], str],
    tail: list[str],
    target_lines: int,
    violation: PyViolation | None,
    ctx: Ctx,
) -> PyFile:
    extra: list[str] = []
    vtext = ""
    if violation is not None:
        vtext = render_violation(violation, ctx)
        header_text_probe = Template(textwrap.dedent(header)).safe_substitute(header_values)
        for imp in violation.imports:
            if imp not in header_text_probe:
                extra.append(imp)
    values = dict(header_values)
    values["extra_imports"] = "\n".join(extra) + ("\n" if extra else "")
    head = Template(textwrap.dedent(header).lstrip("\n")).substitute(values)
    parts = [head, *core]
    n_lines = sum(p.count("\n") + 2 for p in parts) + sum(t.count("\n") + 2 for t in tail)
    fillers: list[str] = []
    guard = 0
    while n_lines < target_lines and guard < 60:
        chunk = filler()
        fillers.append(chunk)
        n_lines += chunk.count("\n") + 2
        guard += 1
    if vtext:
        pos = ctx.rng.randint(0, len(fillers))
        fillers.insert(pos, vtext)
    parts.extend(fillers)
    parts.extend(tail)
    text = "\n\n".join(p.rstrip("\n") + "\n" for p in parts)
    text = text.replace("\n\n\n\n", "\n\n\n")
    result = PyFile(text=text)
    if violation is not None:
        result.violation = violation.kind
        first = vtext.splitlines()[0]
        line_of_block = text.index(first)
        marker_at = text.index(violation.marker, line_of_block) if violation.marker in vtext else text.index(violation.marker)
        result.violation_line = text.count("\n", 0, marker_at) + 1
    return result


def _filler(pool: list[Block], ctx: Ctx, extra: dict[str, str] | None = None) -> Callable[[], str]:
    def make() -> str:
        return render(ctx.rng.choice(pool), ctx, extra)[0]

    return make


def feature_module(ctx: Ctx, target: int, violation: PyViolation | None) -> PyFile:
    hv = ctx.values()
    return _assemble(FEATURE_HEADER, hv, [], _filler(FEATURE_BLOCKS, ctx), [], target, violation, ctx)


def training_script(ctx: Ctx, target: int, violation: PyViolation | None, modname: str) -> PyFile:
    hv = ctx.values()
    hv["modname"] = modname
    r = ctx.rng
    extra = {
        "n0": str(r.choice([100, 200, 300, 500])),
        "depth": str(r.choice([3, 4, 6, 8])),
        "lr": r.choice(["0.05", "0.1", "0.03"]),
        "gate": str(r.choice([55, 6, 65, 7])),
        "cap": str(r.choice([10, 25, 50])),
    }
    core = [render(b, ctx, {**hv, **extra})[0] for b in TRAIN_CORE]
    main = render(TRAIN_MAIN, ctx, hv)[0]
    return _assemble(TRAIN_HEADER, hv, core, _filler(TRAIN_BLOCKS, ctx, {**hv, **extra}), [main], target, violation, ctx)


def serving_module(ctx: Ctx, target: int, violation: PyViolation | None, flask: bool, is_app: bool) -> PyFile:
    hv = ctx.values()
    hv["role"] = "application entry point" if is_app else "additional routes"
    if flask:
        core_blocks = FLASK_APP_CORE if is_app else FLASK_ROUTER_CORE
        core = [render(b, ctx, hv)[0] for b in core_blocks]
        tail = ['app = create_app()\n\nif __name__ == "__main__":\n    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "$port")))\n'.replace("$port", hv["port"])] if is_app else []
        return _assemble(FLASK_HEADER, hv, core, _filler(FLASK_BLOCKS, ctx), tail, target, violation, ctx)
    core_blocks = FASTAPI_APP_CORE if is_app else FASTAPI_ROUTER_CORE
    core = [render(b, ctx, hv)[0] for b in core_blocks]
    tail = ["app.middleware(\"http\")(request_logging_middleware)\napp.include_router(router)\n"] if is_app else []
    pool = FASTAPI_BLOCKS
    fill = _filler(pool, ctx)
    pf = _assemble(FASTAPI_HEADER, hv, core, fill, tail, target, violation, ctx)
    if is_app and "def request_logging_middleware" not in pf.text:
        # keep the tail valid: define the middleware if no filler brought it in
        mw = render(FASTAPI_BLOCKS[1], ctx, hv)[0].replace("request_logging_middleware_2", "request_logging_middleware")
        idx = pf.text.index('app.middleware("http")')
        pf.text = pf.text[:idx] + mw + "\n\n" + pf.text[idx:]
        if pf.violation_line is not None:
            vl = pf.violation_line
            if vl > pf.text[:idx].count("\n"):
                pf.violation_line = vl + mw.count("\n") + 2
    return pf


def dag_module(ctx: Ctx, target: int, violation: PyViolation | None, dag_id: str, purpose: str) -> PyFile:
    hv = ctx.values()
    r = ctx.rng
    hv.update({"purpose": purpose, "dag_id": dag_id})
    extra = {"minrows": str(r.choice([1000, 5000, 20000])), "gate": str(r.choice([6, 65, 7])),
             "retention": str(r.choice([90, 180, 365]))}
    callables: list[str] = []
    fn_names: list[str] = []
    lines = 60
    order = list(DAG_CALLABLES)
    r.shuffle(order)
    i = 0
    while lines < target and i < 40:
        text, values = render(order[i % len(order)], ctx, {**hv, **extra})
        callables.append(text)
        fn_names.append(values["fn"])
        lines += text.count("\n") + 2
        i += 1
    if not fn_names:
        text, values = render(order[0], ctx, {**hv, **extra})
        callables.append(text)
        fn_names.append(values["fn"])
    tasks = []
    for name in fn_names:
        tasks.append(f"    {name}_task = PythonOperator(task_id=\"{name}\", python_callable={name})")
    train_cmd = (
        f'    train = KubernetesPodOperator(\n'
        f'        task_id="train_{ctx.model}",\n'
        f'        name="{ctx.model}-train",\n'
        f'        namespace="ml-{ctx.domain}",\n'
        f'        image=IMAGE,\n'
        f'        cmds=["python", "-m", "{ctx.pkg}.training.train"],\n'
        '        arguments=["--train-path", f"{DATA_BUCKET}/datasets/' + ctx.model + '/{{{{ ds }}}}/"],\n'
        '        container_resources={"requests": {"cpu": "2", "memory": "8Gi"}, "limits": {"memory": "8Gi"}},\n'
        '        get_logs=True,\n'
        '        is_delete_operator_pod=True,\n'
        '    )'
    )
    chain = " >> ".join(["start"] + [f"{n}_task" for n in fn_names] + ["train", "end"])
    dag_text = (
        "with DAG(\n"
        "    dag_id=DAG_ID,\n"
        f"    schedule=\"{hv['cron']}\",\n"
        "    start_date=pendulum.datetime(2024, 1, 1, tz=\"UTC\"),\n"
        "    catchup=False,\n"
        "    max_active_runs=1,\n"
        "    default_args=default_args,\n"
        f"    tags=[\"{ctx.domain}\", \"{ctx.model}\", \"ml\"],\n"
        ") as dag:\n"
        "    start = EmptyOperator(task_id=\"start\")\n"
        "    end = EmptyOperator(task_id=\"end\")\n"
        + "\n".join(tasks) + "\n" + train_cmd + "\n\n"
        + f"    {chain}\n"
    )
    return _assemble(DAG_HEADER, hv, callables, lambda: "", [dag_text], 0, violation, ctx)


def util_module(ctx: Ctx, target: int, violation: PyViolation | None, topic: str) -> PyFile:
    hv = ctx.values()
    hv["topic"] = topic.replace("_", " ").capitalize()
    return _assemble(UTIL_HEADER, hv, [], _filler(UTIL_BLOCKS, ctx), [], target, violation, ctx)


def test_module(
    ctx: Ctx, target: int, violation: PyViolation | None, target_import: str, target_name: str, use_unittest: bool
) -> PyFile:
    hv = ctx.values()
    hv.update({
        "target_mod": f"{target_import}.{target_name}",
        "target_import": target_import,
        "target_name": target_name,
        "rows": str(ctx.rng.choice([48, 96, 200, 500])),
    })
    ctx.used.add(f"{hv['ent']}_frame")

    fixture = {k: hv[k] for k in ("ent", "Ent", "col", "col2", "cat", "target_name")}

    def fill() -> str:
        if use_unittest and ctx.rng.random() < 0.4:
            return render(ctx.rng.choice(UNITTEST_BLOCKS), ctx, fixture)[0]
        return render(ctx.rng.choice(PYTEST_BLOCKS), ctx, fixture)[0]

    header = PYTEST_HEADER
    if use_unittest:
        header = header.replace("from unittest import mock\n", "import unittest\nfrom unittest import mock\n")
    tail = ['if __name__ == "__main__":\n    unittest.main()\n'] if use_unittest else []
    return _assemble(header, hv, [], fill, tail, target, violation, ctx)


def conftest_module(ctx: Ctx) -> str:
    hv = ctx.values()
    return Template(textwrap.dedent('''
        """Shared pytest fixtures for the $domain $model project."""

        from __future__ import annotations

        import os
        from collections.abc import Iterator
        from pathlib import Path

        import numpy as np
        import pandas as pd
        import pytest


        @pytest.fixture(autouse=True)
        def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
            monkeypatch.setenv("APP_ENV", "test")
            monkeypatch.setenv("MODEL_PATH", str(tmp_path / "model.joblib"))
            monkeypatch.delenv("AWS_PROFILE", raising=False)
            yield


        @pytest.fixture(scope="session")
        def rng() -> np.random.Generator:
            return np.random.default_rng($seed)


        @pytest.fixture()
        def labelled_frame(rng: np.random.Generator) -> pd.DataFrame:
            n = 256
            return pd.DataFrame(
                {
                    "${ent}_id": np.arange(n),
                    "$col": rng.gamma(2.0, 5.0, size=n),
                    "$col2": rng.normal(size=n),
                    "$cat": rng.choice(["x", "y", "z"], size=n),
                    "$cat2": rng.choice(["p", "q"], size=n),
                    "label": rng.integers(0, 2, size=n),
                }
            )


        def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
            if os.environ.get("RUN_SLOW") == "1":
                return
            skip_slow = pytest.mark.skip(reason="set RUN_SLOW=1 to run")
            for item in items:
                if "slow" in item.keywords:
                    item.add_marker(skip_slow)
        ''').lstrip("\n")).substitute(hv)


def init_module(ctx: Ctx, doc: str, exports: list[str], version: str | None) -> str:
    lines = [f'"""{doc}"""', ""]
    if version:
        lines += [f'__version__ = "{version}"', ""]
    if exports:
        lines.append("__all__ = [")
        lines += [f'    "{e}",' for e in exports]
        lines.append("]")
    return "\n".join(lines).rstrip("\n") + "\n"
