#!/usr/bin/env python3
"""Train, select and export the per-room window anomaly model (simulated building, no faults).

Usage (from the repository root):

    pip install -r models/requirements.txt
    npm run build && node dist/tools/anomaly-dataset/src/anomaly-dataset.js   # only to regenerate data/
    python models/anomaly/train.py            # writes models/anomaly/1/{model.onnx,model.json}

What it does:

1. Loads ``data/train.csv`` (clean windows only), ``data/validation.csv`` and ``data/test.csv``
   (windows with injected faults, labelled). The files come from stream-analytics' own windowing
   and feature code (``tools/anomaly-dataset/src/anomaly-dataset.ts``); the feature names and their
   order are the CSV header's, i.e. ``ANOMALY_FEATURES`` in ``libs/analytics``.
2. Fits every candidate in ``CANDIDATES`` on the training windows (unsupervised: no labels), picks
   for each the threshold with the highest F1 on the validation set, and selects the candidate
   with the highest validation F1 (ties: the earlier, simpler one).
3. Reports precision / recall / F1 on the held-out test set at that threshold and exports the
   whole pipeline (scaling included) as ONE ONNX graph: raw features in, ``score`` (higher = more
   anomalous) and ``label`` (1 = score above the threshold) out.

Rows are subsampled windows; the ``weight`` column says how many windows each row stands for, and
every metric is weighted by it (so precision is the precision on all windows, not on the sample).
Ambiguous windows (empty label: a fault not yet visible in the window's features) are left out of
the metrics. Everything is deterministic (fixed seeds, one thread, fixed graph name and opsets).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import sklearn
from onnx import TensorProto, helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.base import clone
from sklearn.ensemble import IsolationForest
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

MODEL_NAME = "anomaly"
DEFAULT_VERSION = 1
SEED = 0

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from model_tools import describe_scaler, repo_relative as _rel, round6 as _r, sha256_file  # noqa: E402

REPO_ROOT = HERE.parent.parent
DATA_DIR = HERE / "data"
TRAIN_FILE = DATA_DIR / "train.csv"
VALIDATION_FILE = DATA_DIR / "validation.csv"
TEST_FILE = DATA_DIR / "test.csv"

FAULTS = ["stuck", "spike", "drift", "implausible"]
LABELS = {0: "normal", 1: "anomalous"}
# onnxruntime-node 1.2x runs these; the graph uses ai.onnx ops plus ai.onnx.ml Scaler.
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
INPUT_NAME = "input"
# stream-analytics' default windows, which the feature names (_1m, _5m) refer to
WINDOWS = {"tumblingMs": 60_000, "slidingMs": 300_000, "slideMs": 60_000, "offsetMs": 30_000}
TARGET = {"precision": 0.9, "recall": 0.9}


def _candidates() -> dict[str, Pipeline]:
    """Unsupervised candidates, each mapping raw features to an anomaly score."""
    def gmm(k: int) -> Pipeline:
        return Pipeline(
            [
                ("scaler", StandardScaler()),
                ("clf", GaussianMixture(n_components=k, covariance_type="full", reg_covar=1e-6, n_init=1, random_state=SEED)),
            ]
        )

    return {
        "isolation_forest": Pipeline(
            [
                ("scaler", StandardScaler()),
                ("clf", IsolationForest(n_estimators=200, max_samples=256, random_state=SEED, n_jobs=1)),
            ]
        ),
        "gmm_2": gmm(2),
        "gmm_4": gmm(4),
        "gmm_8": gmm(8),
    }


CANDIDATE_NAMES = list(_candidates())


def build_pipeline(name: str) -> Pipeline:
    candidates = _candidates()
    if name not in candidates:
        raise KeyError(f"unknown candidate {name!r}; known: {', '.join(candidates)}")
    return clone(candidates[name])


def fit_pipeline(name: str, X: np.ndarray) -> Pipeline:
    """Build candidate ``name`` and fit it deterministically (one thread)."""
    with threadpool_limits(1):
        return build_pipeline(name).fit(X)


def anomaly_score(pipeline: Pipeline, X: np.ndarray) -> np.ndarray:
    """Higher = more anomalous: the negative log-likelihood (GMM) or negated decision function (IF)."""
    clf = pipeline.steps[-1][1]
    if isinstance(clf, GaussianMixture):
        return -pipeline.score_samples(X)
    return -pipeline.decision_function(X)


class Dataset:
    """One CSV: features (float64, header order), label (1/0, -1 = ambiguous), fault, weight."""

    def __init__(self, path: Path):
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            if header[:2] != ["room", "window_end"] or header[-3:] != ["label", "fault", "weight"]:
                raise ValueError(f"{path}: unexpected header {header}")
            self.features = header[2:-3]
            rows = [row for row in reader if row]
        self.path = path
        self.X = np.asarray([[float(v) for v in r[2:-3]] for r in rows], dtype=np.float64)
        self.label = np.asarray([int(r[-3]) if r[-3] != "" else -1 for r in rows], dtype=np.int64)
        self.fault = np.asarray([r[-2] for r in rows])
        self.weight = np.asarray([float(r[-1]) for r in rows], dtype=np.float64)

    def __len__(self) -> int:
        return len(self.label)


def weighted_metrics(label: np.ndarray, pred: np.ndarray, weight: np.ndarray, fault: np.ndarray | None = None) -> dict:
    """Precision, recall, F1 and false-positive rate over the labelled rows, weighted."""
    m = label >= 0
    tp = float(weight[m & (pred == 1) & (label == 1)].sum())
    fp = float(weight[m & (pred == 1) & (label == 0)].sum())
    fn = float(weight[m & (pred == 0) & (label == 1)].sum())
    tn = float(weight[m & (pred == 0) & (label == 0)].sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    out = {
        "precision": _r(precision),
        "recall": _r(recall),
        "f1": _r(f1),
        "falsePositiveRate": _r(fp / (fp + tn) if fp + tn else 0.0),
        "windows": {"truePositive": round(tp), "falsePositive": round(fp), "falseNegative": round(fn), "trueNegative": round(tn)},
    }
    if fault is not None:
        out["recallByFault"] = {
            f: _r(float(weight[m & (label == 1) & (fault == f) & (pred == 1)].sum()) / max(float(weight[m & (label == 1) & (fault == f)].sum()), 1e-12))
            for f in FAULTS
        }
    return out


def choose_threshold(score: np.ndarray, data: Dataset) -> tuple[float, dict]:
    """The threshold with the highest weighted F1 on ``data`` (candidates: clean-score quantiles)."""
    clean = score[data.label == 0]
    candidates = np.unique(np.quantile(clean, np.linspace(0.80, 1.0, 801)))
    best: tuple[float, float, dict] | None = None
    for th in candidates:
        metrics = weighted_metrics(data.label, (score > th).astype(np.int64), data.weight)
        if best is None or metrics["f1"] > best[0]:
            best = (metrics["f1"], float(th), metrics)
    assert best is not None
    return best[1], best[2]


def _prune(graph: onnx.GraphProto) -> None:
    """Drops nodes whose outputs no graph output depends on."""
    needed = {o.name for o in graph.output}
    keep = []
    for node in reversed(list(graph.node)):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(i for i in node.input if i)
    keep.reverse()
    del graph.node[:]
    graph.node.extend(keep)
    used = {i for n in graph.node for i in n.input}
    inits = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(inits)


def to_onnx_model(pipeline: Pipeline, n_features: int, threshold: float) -> onnx.ModelProto:
    """The whole pipeline as one graph: ``input`` [N, F] float32 → ``score`` [N] float32, ``label`` [N] int64."""
    clf = pipeline.steps[-1][1]
    if isinstance(clf, GaussianMixture):
        options, raw, sign = {id(clf): {"score_samples": True}}, "score_samples", -1.0
    elif isinstance(clf, IsolationForest):
        options, raw, sign = {}, "scores", -1.0
    else:
        raise TypeError(f"cannot export {type(clf).__name__}")
    onx = convert_sklearn(
        pipeline,
        name=MODEL_NAME,
        initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))],
        target_opset=TARGET_OPSET,
        options=options,
        doc_string="",
    )
    graph = onx.graph
    if raw not in [o.name for o in graph.output]:
        raise RuntimeError(f"converter produced no {raw!r} output: {[o.name for o in graph.output]}")
    # keep only the raw score (the mixture's component label/probabilities mean nothing here) …
    raw_output = next(o for o in graph.output if o.name == raw)
    del graph.output[:]
    graph.output.append(raw_output)
    _prune(graph)
    # … then: score = sign · raw, flattened to [N]; label = score > threshold
    graph.initializer.extend(
        [
            helper.make_tensor("score_sign", TensorProto.FLOAT, [], [sign]),
            helper.make_tensor("score_shape", TensorProto.INT64, [1], [-1]),
            helper.make_tensor("threshold", TensorProto.FLOAT, [], [threshold]),
        ]
    )
    graph.node.extend(
        [
            helper.make_node("Mul", [raw, "score_sign"], ["score_2d"], name="NegateScore"),
            helper.make_node("Reshape", ["score_2d", "score_shape"], ["score"], name="FlattenScore"),
            helper.make_node("Greater", ["score", "threshold"], ["is_anomalous"], name="AboveThreshold"),
            helper.make_node("Cast", ["is_anomalous"], ["label"], name="LabelInt64", to=TensorProto.INT64),
        ]
    )
    del graph.output[:]
    graph.output.extend(
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("score", TensorProto.FLOAT, [None]),
        ]
    )
    versions: dict[str, int] = {}
    for imp in onx.opset_import:
        versions[imp.domain] = max(imp.version, versions.get(imp.domain, 0))
    del onx.opset_import[:]
    for domain in sorted(versions):
        onx.opset_import.add(domain=domain, version=versions[domain])
    onnx.checker.check_model(onx, full_check=True)
    if versions.get("", 0) > TARGET_OPSET[""] or versions.get("ai.onnx.ml", 0) > TARGET_OPSET["ai.onnx.ml"]:
        raise RuntimeError(f"ONNX opsets {versions} exceed the target {TARGET_OPSET}")
    return onx


def _data_entry(data: Dataset) -> dict:
    return {
        "file": _rel(data.path),
        "sha256": sha256_file(data.path),
        "rows": len(data),
        "windows": round(float(data.weight.sum())),
        "labelled": int((data.label >= 0).sum()),
    }


def evaluate_candidates(train: Dataset, validation: Dataset) -> dict[str, dict]:
    results: dict[str, dict] = {}
    for name in CANDIDATE_NAMES:
        pipeline = fit_pipeline(name, train.X)
        th, metrics = choose_threshold(anomaly_score(pipeline, validation.X), validation)
        results[name] = {"threshold": _r(th), "validation": metrics}
    return results


def select_candidate(results: dict[str, dict]) -> str:
    """Highest validation F1; ties keep CANDIDATE_NAMES order."""
    return max(CANDIDATE_NAMES, key=lambda n: results[n]["validation"]["f1"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", type=int, default=DEFAULT_VERSION, help="model version (directory name)")
    parser.add_argument("--out-root", type=Path, default=HERE, help="directory holding the version directories")
    args = parser.parse_args(argv)

    train, validation, test = Dataset(TRAIN_FILE), Dataset(VALIDATION_FILE), Dataset(TEST_FILE)
    if not (train.features == validation.features == test.features):
        raise ValueError("the CSV files list different features; regenerate them together")
    if (train.label != 0).any():
        raise ValueError("the training file must hold clean windows only")
    features = train.features
    print(f"features ({len(features)}): {', '.join(features)}")
    print(f"train {len(train)} rows, validation {len(validation)} rows, test {len(test)} rows")

    results = evaluate_candidates(train, validation)
    print(f"\n{'candidate':<18} {'threshold':>10} {'val P':>7} {'val R':>7} {'val F1':>7}")
    for name in CANDIDATE_NAMES:
        v = results[name]["validation"]
        print(f"{name:<18} {results[name]['threshold']:>10.4f} {v['precision']:>7.4f} {v['recall']:>7.4f} {v['f1']:>7.4f}")
    chosen = select_candidate(results)
    threshold = results[chosen]["threshold"]
    print(f"\nselected: {chosen} (highest validation F1), threshold {threshold}")

    pipeline = fit_pipeline(chosen, train.X)
    test_score = anomaly_score(pipeline, test.X)
    test_metrics = weighted_metrics(test.label, (test_score > threshold).astype(np.int64), test.weight, test.fault)
    print("test: " + ", ".join(f"{k} {test_metrics[k]:.4f}" for k in ("precision", "recall", "f1", "falsePositiveRate")))
    print("test recall by fault: " + ", ".join(f"{k} {v:.3f}" for k, v in test_metrics["recallByFault"].items()))

    out_dir = args.out_root / str(args.version)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / "model.onnx"
    onx = to_onnx_model(pipeline, len(features), threshold)
    onnx_path.write_bytes(onx.SerializeToString())
    opsets = {imp.domain or "ai.onnx": imp.version for imp in onx.opset_import}

    meta = {
        "name": MODEL_NAME,
        "version": args.version,
        "features": features,
        "featureSource": "libs/analytics/src/lib/feature.catalog.ts (names), computed by AnalyticsEngine; dataset: tools/anomaly-dataset/src/anomaly-dataset.ts",
        "windows": WINDOWS,
        "input": {"name": INPUT_NAME, "dtype": "float32", "shape": [-1, len(features)]},
        "outputs": [
            {"name": "label", "dtype": "int64", "shape": [-1]},
            {"name": "score", "dtype": "float32", "shape": [-1]},
        ],
        "scoreOutput": "score",
        "higherIsAnomalous": True,
        "threshold": threshold,
        "labels": {str(k): v for k, v in LABELS.items()},
        "estimator": chosen,
        "score": "negative log-likelihood under the fitted mixture (nats)" if chosen.startswith("gmm") else "negated IsolationForest decision function",
        "preprocessing": describe_scaler(pipeline, "scaling is part of the ONNX graph; feed raw feature values as stream-analytics computes them"),
        "trainingData": _data_entry(train),
        "validationData": _data_entry(validation),
        "testData": _data_entry(test),
        "metrics": {
            "selection": "highest weighted F1 on the validation set, each candidate at its own best threshold",
            "candidates": results,
            "test": test_metrics,
            "target": TARGET,
        },
        "onnxSha256": sha256_file(onnx_path),
        "createdBy": "models/anomaly/train.py",
        "sklearnVersion": sklearn.__version__,
        "opset": opsets,
        "irVersion": int(onx.ir_version),
    }
    json_path = out_dir / "model.json"
    json_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {_rel(onnx_path)} (sha256 {meta['onnxSha256']}) and {_rel(json_path)}")

    if test_metrics["precision"] < TARGET["precision"] or test_metrics["recall"] < TARGET["recall"]:
        print("WARNING: test precision or recall below the 0.9 target", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
