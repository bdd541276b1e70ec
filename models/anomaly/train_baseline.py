#!/usr/bin/env python3
"""Train and export the room-adaptive anomaly model (version 2): scores a window's excess over its
room's own learned envelope.

Usage (from the repository root):

    npm run build && node dist/tools/anomaly-dataset/src/real-dataset.js --baseline \\
      && node dist/tools/anomaly-dataset/src/anomaly-dataset.js --baseline   # only to regenerate data/*.baseline.csv
    python models/anomaly/train_baseline.py        # writes models/anomaly/2/{model.onnx,model.json}

Inputs are ``<feature>_excess`` values computed by stream-analytics (``room-baseline.ts``): how far
each of the version-1 features lies outside the room's own [0.5 %, 99.5 %] envelope of the last
week, in envelope widths (0 inside). The room learns for a day first (no vector, no score).

What is learned:

1. ``scale``: per feature, the 99.9th percentile of its excess over fault-free windows (real:
   the ``uci-train`` recording; simulated: ``train.baseline.csv``), at least ``MIN_SCALE``. A
   feature that wanders out of its envelope in normal operation (the CO2 slope when people arrive)
   needs a larger excess to count.
2. ``score`` = max over features of excess / scale; ``label`` = score > ``threshold``.
3. ``threshold``: the one with the highest F1 on the validation windows (the ``uci-train`` fault
   runs plus the simulator's ``validation.baseline.csv``) among those that flag at most 1 % of the
   ``uci-train`` recording's fault-free windows (the false-alarm target, checked on the learning
   recording only), scoring each window as the deployed detector does: flagged when a
   plausibility finding fired (stream-analytics' physical rules, separate from the model) or the
   label is 1.

Test figures (held-out ``uci-test`` recording and the simulator's test set) are computed by
``evaluate.py``. Everything is deterministic.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from model_tools import load_module, repo_relative as _rel, round6 as _r, sha256_file  # noqa: E402



evaluate = load_module("anomaly_evaluate", HERE / "evaluate.py")

MODEL_NAME = "anomaly"
DEFAULT_VERSION = 2
DATA_DIR = HERE / "data"
SIM_TRAIN_FILE = DATA_DIR / "train.baseline.csv"
SIM_VALIDATION_FILE = DATA_DIR / "validation.baseline.csv"
INPUT_NAME = "input"
OPSET = 14
IR_VERSION = 8
# excess quantile that sets each feature's scale, and the smallest scale (envelope widths)
SCALE_QUANTILE = 0.999
MIN_SCALE = 0.25
THRESHOLDS = np.round(np.arange(0.5, 5.0001, 0.05), 2)
WINDOWS = {"tumblingMs": 60_000, "slidingMs": 300_000, "slideMs": 60_000, "offsetMs": 30_000}
TARGET = {"precision": 0.9, "recall": 0.9, "realCleanFlaggedRate": 0.01}


def fault_free_training(real_clean, sim_train) -> np.ndarray:
    """Scored, calibrated fault-free windows: the learning recording's plus the simulator's."""
    real = real_clean.scored & ~real_clean.learning & (real_clean.recording() == evaluate.LEARN_ROOM) & (real_clean.label == 0)
    sim = sim_train.scored & ~sim_train.learning & (sim_train.label == 0)
    return np.vstack([real_clean.X[real], sim_train.X[sim]])


def fit_scale(X: np.ndarray) -> np.ndarray:
    return np.maximum(np.quantile(X, SCALE_QUANTILE, axis=0), MIN_SCALE)


def score(X: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Max excess / scale; windows without a vector score 0 (float32, as the ONNX graph computes)."""
    Xs = np.nan_to_num(X, nan=0.0).astype(np.float32) / scale.astype(np.float32)
    return Xs.max(axis=1)


def clean_flagged_rate(clean, scale: np.ndarray, th: float) -> float:
    flags = evaluate.detector_flags(clean, (score(clean.X, scale) > th).astype(np.int64))
    return float(evaluate.flagged_rate(clean, flags)["flaggedRate"])


def choose_threshold(validations: list, scale: np.ndarray, clean) -> tuple[float, dict]:
    """Highest F1 over all validation windows pooled (weighted), detector = findings or score > th,
    among thresholds flagging at most the target share of ``clean``'s windows."""
    best: tuple[float, float, dict] | None = None
    for th in THRESHOLDS:
        if clean_flagged_rate(clean, scale, th) > TARGET["realCleanFlaggedRate"]:
            continue
        tp = fp = fn = 0.0
        for data in validations:
            flags = evaluate.detector_flags(data, (score(data.X, scale) > th).astype(np.int64))
            m = (data.label >= 0) & ~data.learning
            w, y = data.weight[m], data.label[m]
            tp += float(w[(flags[m] == 1) & (y == 1)].sum())
            fp += float(w[(flags[m] == 1) & (y == 0)].sum())
            fn += float(w[(flags[m] == 0) & (y == 1)].sum())
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        if best is None or f1 > best[0] + 1e-12:
            best = (f1, float(th), {"precision": _r(p), "recall": _r(r), "f1": _r(f1), "cleanFlaggedRate": _r(clean_flagged_rate(clean, scale, th))})
    assert best is not None
    return best[1], best[2]


def to_onnx_model(scale: np.ndarray, threshold: float) -> onnx.ModelProto:
    """``input`` [N, F] float32 → ``score`` [N] float32 (max of input / scale), ``label`` [N] int64."""
    n = len(scale)
    graph = helper.make_graph(
        [
            helper.make_node("Div", [INPUT_NAME, "scale"], ["scaled"], name="ScaleExcess"),
            helper.make_node("ReduceMax", ["scaled"], ["score"], name="MaxExcess", axes=[1], keepdims=0),
            helper.make_node("Greater", ["score", "threshold"], ["is_anomalous"], name="AboveThreshold"),
            helper.make_node("Cast", ["is_anomalous"], ["label"], name="LabelInt64", to=TensorProto.INT64),
        ],
        MODEL_NAME,
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [None, n])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, [None]), helper.make_tensor_value_info("score", TensorProto.FLOAT, [None])],
        [
            helper.make_tensor("scale", TensorProto.FLOAT, [n], [float(v) for v in scale.astype(np.float32)]),
            helper.make_tensor("threshold", TensorProto.FLOAT, [], [threshold]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="models/anomaly/train_baseline.py")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def _entry(data) -> dict:
    return {"file": _rel(data.path), "sha256": sha256_file(data.path), "rows": len(data)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", type=int, default=DEFAULT_VERSION)
    parser.add_argument("--out-root", type=Path, default=HERE)
    args = parser.parse_args(argv)

    real_clean = evaluate.Windows(evaluate.REAL_CLEAN_BASELINE_FILE)
    real_faults = evaluate.Windows(evaluate.REAL_FAULTS_BASELINE_FILE)
    sim_train = evaluate.Windows(SIM_TRAIN_FILE)
    sim_validation = evaluate.Windows(SIM_VALIDATION_FILE)
    features = real_clean.features
    if not (features == real_faults.features == sim_train.features == sim_validation.features) or not all(f.endswith("_excess") for f in features):
        raise ValueError("the *.baseline.csv files must list the same *_excess features; regenerate them together")

    X = fault_free_training(real_clean, sim_train)
    scale = fit_scale(X)
    learn_runs = real_faults.subset(real_faults.recording() == evaluate.LEARN_ROOM)
    learn_clean = real_clean.subset(real_clean.recording() == evaluate.LEARN_ROOM)
    threshold, validation = choose_threshold([learn_runs, sim_validation], scale, learn_clean)
    print(f"training windows {len(X)}; scale {np.round(scale, 4).tolist()}")
    print(f"threshold {threshold}: validation precision {validation['precision']:.3f} recall {validation['recall']:.3f} F1 {validation['f1']:.3f}")

    out_dir = args.out_root / str(args.version)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / "model.onnx"
    onnx_path.write_bytes(to_onnx_model(scale, threshold).SerializeToString())
    meta = {
        "name": MODEL_NAME,
        "version": args.version,
        "features": features,
        "featureSource": "libs/analytics/src/lib/room-baseline.ts (excess over the room's envelope of ANOMALY_FEATURES), computed by AnalyticsEngine; datasets: tools/anomaly-dataset/src/{real-dataset,anomaly-dataset}.ts --baseline",
        "windows": WINDOWS,
        "input": {"name": INPUT_NAME, "dtype": "float32", "shape": [-1, len(features)]},
        "outputs": [
            {"name": "label", "dtype": "int64", "shape": [-1]},
            {"name": "score", "dtype": "float32", "shape": [-1]},
        ],
        "scoreOutput": "score",
        "higherIsAnomalous": True,
        "threshold": threshold,
        "labels": {"0": "normal", "1": "anomalous"},
        "estimator": "max_scaled_excess",
        "score": "max over features of (excess over the room's envelope, in envelope widths) / scale",
        "preprocessing": {"inOnnx": True, "steps": ["divide by scale", "max"], "scale": [float(f"{v:.6g}") for v in scale]},
        "trainingData": [_entry(real_clean), _entry(sim_train)],
        "validationData": [_entry(real_faults), _entry(sim_validation)],
        "metrics": {
            "selection": "threshold with the highest weighted F1 on the uci-train fault runs plus the simulator's validation set, detector = plausibility finding or label, among those flagging at most 1 % of the uci-train recording's fault-free windows",
            "trainingWindows": int(len(X)),
            "validation": validation,
            "target": TARGET,
            "test": "models/anomaly/evaluation.json (evaluate.py)",
        },
        "onnxSha256": sha256_file(onnx_path),
        "createdBy": "models/anomaly/train_baseline.py",
        "opset": {"ai.onnx": OPSET},
        "irVersion": IR_VERSION,
    }
    (out_dir / "model.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {_rel(onnx_path)} (sha256 {meta['onnxSha256']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
