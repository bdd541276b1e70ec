#!/usr/bin/env python3
"""Train and export the room-relative anomaly model (version 3): the room's envelope excess
(version 2's score) plus a Gaussian mixture over the window's position relative to its room's
envelope.

Usage (from the repository root):

    npm run build && node dist/tools/anomaly-dataset/src/real-dataset.js --relative \\
      && node dist/tools/anomaly-dataset/src/anomaly-dataset.js --relative   # only to regenerate data/*.relative.csv
    python models/anomaly/train_relative.py        # writes models/anomaly/3/{model.onnx,model.json}

Inputs (``ANOMALY_RELATIVE_FEATURES``, computed by stream-analytics' ``room-baseline.ts``): the 12
``<feature>_excess`` values of version 2, then the 12 ``<feature>_rel`` values: each feature's
signed position relative to the room's [0.5 %, 99.5 %] envelope of the last week, in envelope
widths from its centre (−0.5 … 0.5 inside). In that space every room's normal range has the same
size, so one density model fits a real office and the simulator's rooms alike, and it still sees
joint structure a per-feature envelope cannot (dark while CO2 rises: the simulator's
"implausible" fault; a frozen log-std while the others move).

What is learned (fault-free calibrated windows of the learning recording ``uci-train`` and of
the simulator's training weeks):

1. ``scale``: per excess feature, as version 2 (99.9th percentile of its fault-free excess, at
   least ``MIN_SCALE``).
2. A Gaussian mixture (``GMM_COMPONENTS`` components, full covariance, after standardisation) of
   the 12 relative positions; its negative log-likelihood is the joint score.
3. ``score`` = max(max excess / scale / ``excessThreshold``, NLL / ``nllThreshold``);
   ``label`` = score > 1. Both thresholds: the pair with the highest weighted F1 on the validation
   windows (the ``uci-train`` fault runs plus the simulator's ``validation.relative.csv``), scoring
   each window as the deployed detector does (flagged when a plausibility finding fired or the
   label is 1), among pairs that flag at most 1 % of ``uci-train``'s fault-free windows.

Test figures (held-out ``uci-test`` recording and the simulator's test set) are computed by
``evaluate.py``. Everything is deterministic (fixed seed, one thread).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from model_tools import load_module, repo_relative as _rel, round6 as _r, sha256_file  # noqa: E402

evaluate = load_module("anomaly_evaluate", HERE / "evaluate.py")
baseline = load_module("anomaly_train_baseline", HERE / "train_baseline.py")

MODEL_NAME = "anomaly"
DEFAULT_VERSION = 3
DATA_DIR = HERE / "data"
SIM_TRAIN_FILE = DATA_DIR / "train.relative.csv"
SIM_VALIDATION_FILE = DATA_DIR / "validation.relative.csv"
INPUT_NAME = "input"
SEED = 42
GMM_COMPONENTS = 4
MIN_SCALE = baseline.MIN_SCALE
SCALE_QUANTILE = baseline.SCALE_QUANTILE
EXCESS_THRESHOLDS = np.round(np.arange(0.8, 3.0001, 0.1), 2)
# NLL thresholds tried: quantiles of the fault-free training windows' NLL
NLL_QUANTILES = [0.95, 0.97, 0.98, 0.99, 0.993, 0.995, 0.997, 0.998, 0.999, 0.9995, 1.0]
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
WINDOWS = baseline.WINDOWS
TARGET = baseline.TARGET


def split(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(excess, relative) halves of a version-3 input."""
    n = X.shape[1] // 2
    return X[:, :n], X[:, n:]


def fault_free(data) -> np.ndarray:
    return data.scored & ~data.learning & (data.label == 0)


def training_windows(real_clean, sim_train) -> np.ndarray:
    real = fault_free(real_clean) & (real_clean.recording() == evaluate.LEARN_ROOM)
    return np.vstack([real_clean.X[real], sim_train.X[fault_free(sim_train)]])


def fit_gmm(R: np.ndarray) -> Pipeline:
    with threadpool_limits(1):
        return Pipeline(
            [
                ("scaler", StandardScaler()),
                ("clf", GaussianMixture(n_components=GMM_COMPONENTS, covariance_type="full", reg_covar=1e-6, n_init=1, random_state=SEED)),
            ]
        ).fit(R)


def parts(data, scale: np.ndarray, gmm: Pipeline) -> tuple[np.ndarray, np.ndarray]:
    """(max scaled excess, NLL) per window, float32 like the graph; unscored windows 0 and -inf."""
    ex = np.zeros(len(data), dtype=np.float32)
    nll = np.full(len(data), -np.inf, dtype=np.float32)
    if data.scored.any():
        E, R = split(data.X[data.scored])
        ex[data.scored] = (E.astype(np.float32) / scale.astype(np.float32)).max(axis=1)
        nll[data.scored] = (-gmm.score_samples(R.astype(np.float32).astype(np.float64))).astype(np.float32)
    return ex, nll


def labels(ex: np.ndarray, nll: np.ndarray, th_e: float, th_n: float) -> np.ndarray:
    return ((ex / np.float32(th_e) > 1) | (nll / np.float32(th_n) > 1)).astype(np.int64)


def choose_thresholds(validations: list, clean, scale: np.ndarray, gmm: Pipeline, nll_candidates: list[float]) -> tuple[float, float, dict]:
    vparts = [(d, *parts(d, scale, gmm)) for d in validations]
    cex, cnll = parts(clean, scale, gmm)
    best = None
    for th_e in EXCESS_THRESHOLDS:
        for th_n in nll_candidates:
            cflags = evaluate.detector_flags(clean, labels(cex, cnll, th_e, th_n))
            rate = float(evaluate.flagged_rate(clean, cflags)["flaggedRate"])
            if rate > TARGET["realCleanFlaggedRate"]:
                continue
            tp = fp = fn = 0.0
            for d, ex, nll in vparts:
                flags = evaluate.detector_flags(d, labels(ex, nll, th_e, th_n))
                m = (d.label >= 0) & ~d.learning
                w, y = d.weight[m], d.label[m]
                tp += float(w[(flags[m] == 1) & (y == 1)].sum())
                fp += float(w[(flags[m] == 1) & (y == 0)].sum())
                fn += float(w[(flags[m] == 0) & (y == 1)].sum())
            p = tp / (tp + fp) if tp + fp else 0.0
            r = tp / (tp + fn) if tp + fn else 0.0
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            if best is None or f1 > best[0] + 1e-12:
                best = (f1, float(th_e), float(th_n), {"precision": _r(p), "recall": _r(r), "f1": _r(f1), "cleanFlaggedRate": _r(rate)})
    assert best is not None
    return best[1], best[2], best[3]


def _prune(graph: onnx.GraphProto) -> None:
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


def to_onnx_model(scale: np.ndarray, gmm: Pipeline, th_e: float, th_n: float) -> onnx.ModelProto:
    """``input`` [N, 2F] → ``score`` [N] = max(max(excess / scale) / th_e, NLL(rel) / th_n), ``label`` = score > 1."""
    n = len(scale)
    onx = convert_sklearn(
        gmm,
        name=MODEL_NAME,
        initial_types=[("relative", FloatTensorType([None, n]))],
        target_opset=TARGET_OPSET,
        options={id(gmm.steps[-1][1]): {"score_samples": True}},
        doc_string="",
    )
    graph = onx.graph
    raw = next(o for o in graph.output if o.name == "score_samples")
    del graph.output[:]
    graph.output.append(raw)
    _prune(graph)
    del graph.input[:]
    graph.input.append(helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [None, 2 * n]))
    graph.initializer.extend(
        [
            helper.make_tensor("excess_start", TensorProto.INT64, [1], [0]),
            helper.make_tensor("excess_end", TensorProto.INT64, [1], [n]),
            helper.make_tensor("rel_end", TensorProto.INT64, [1], [2 * n]),
            helper.make_tensor("slice_axis", TensorProto.INT64, [1], [1]),
            helper.make_tensor("scale", TensorProto.FLOAT, [n], [float(v) for v in scale.astype(np.float32)]),
            helper.make_tensor("excess_threshold", TensorProto.FLOAT, [], [th_e]),
            helper.make_tensor("nll_threshold", TensorProto.FLOAT, [], [th_n]),
            helper.make_tensor("score_shape", TensorProto.INT64, [1], [-1]),
            helper.make_tensor("one", TensorProto.FLOAT, [], [1.0]),
        ]
    )
    head = [
        helper.make_node("Slice", [INPUT_NAME, "excess_start", "excess_end", "slice_axis"], ["excess"], name="ExcessHalf"),
        helper.make_node("Slice", [INPUT_NAME, "excess_end", "rel_end", "slice_axis"], ["relative"], name="RelativeHalf"),
    ]
    tail = [
        helper.make_node("Div", ["excess", "scale"], ["scaled"], name="ScaleExcess"),
        helper.make_node("ReduceMax", ["scaled"], ["max_excess"], name="MaxExcess", axes=[1], keepdims=0),
        helper.make_node("Div", ["max_excess", "excess_threshold"], ["excess_ratio"], name="ExcessRatio"),
        helper.make_node("Neg", [raw.name], ["nll_2d"], name="NegLogLikelihood"),
        helper.make_node("Reshape", ["nll_2d", "score_shape"], ["nll"], name="FlattenNll"),
        helper.make_node("Div", ["nll", "nll_threshold"], ["nll_ratio"], name="NllRatio"),
        helper.make_node("Max", ["excess_ratio", "nll_ratio"], ["score"], name="Score"),
        helper.make_node("Greater", ["score", "one"], ["is_anomalous"], name="AboveThreshold"),
        helper.make_node("Cast", ["is_anomalous"], ["label"], name="LabelInt64", to=TensorProto.INT64),
    ]
    nodes = head + list(graph.node) + tail
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.output[:]
    graph.output.extend([helper.make_tensor_value_info("label", TensorProto.INT64, [None]), helper.make_tensor_value_info("score", TensorProto.FLOAT, [None])])
    versions: dict[str, int] = {}
    for imp in onx.opset_import:
        versions[imp.domain] = max(imp.version, versions.get(imp.domain, 0))
    del onx.opset_import[:]
    for domain in sorted(versions):
        onx.opset_import.add(domain=domain, version=versions[domain])
    onx.producer_name = "models/anomaly/train_relative.py"
    onnx.checker.check_model(onx, full_check=True)
    return onx


def _entry(data) -> dict:
    return {"file": _rel(data.path), "sha256": sha256_file(data.path), "rows": len(data)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", type=int, default=DEFAULT_VERSION)
    parser.add_argument("--out-root", type=Path, default=HERE)
    args = parser.parse_args(argv)

    real_clean = evaluate.Windows(evaluate.REAL_CLEAN_RELATIVE_FILE)
    real_faults = evaluate.Windows(evaluate.REAL_FAULTS_RELATIVE_FILE)
    sim_train = evaluate.Windows(SIM_TRAIN_FILE)
    sim_validation = evaluate.Windows(SIM_VALIDATION_FILE)
    features = real_clean.features
    if not (features == real_faults.features == sim_train.features == sim_validation.features) or not evaluate.is_relative(features):
        raise ValueError("the *.relative.csv files must list the same *_excess then *_rel features; regenerate them together")

    X = training_windows(real_clean, sim_train)
    E, R = split(X)
    scale = np.maximum(np.quantile(E, SCALE_QUANTILE, axis=0), MIN_SCALE)
    gmm = fit_gmm(R)
    train_nll = -gmm.score_samples(R.astype(np.float32).astype(np.float64))
    nll_candidates = [float(np.float32(np.quantile(train_nll, q))) for q in NLL_QUANTILES]
    learn_runs = real_faults.subset(real_faults.recording() == evaluate.LEARN_ROOM)
    learn_clean = real_clean.subset(real_clean.recording() == evaluate.LEARN_ROOM)
    th_e, th_n, validation = choose_thresholds([learn_runs, sim_validation], learn_clean, scale, gmm, nll_candidates)
    print(f"training windows {len(X)}; scale {np.round(scale, 4).tolist()}")
    print(f"thresholds: excess {th_e}, NLL {th_n:.4f}: validation precision {validation['precision']:.3f} recall {validation['recall']:.3f} F1 {validation['f1']:.3f} (uci-train clean flagged {validation['cleanFlaggedRate']:.4f})")

    out_dir = args.out_root / str(args.version)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / "model.onnx"
    onnx_path.write_bytes(to_onnx_model(scale, gmm, th_e, th_n).SerializeToString())
    meta = {
        "name": MODEL_NAME,
        "version": args.version,
        "features": features,
        "featureSource": "libs/analytics/src/lib/room-baseline.ts (excess over and position relative to the room's envelope of ANOMALY_FEATURES), computed by AnalyticsEngine; datasets: tools/anomaly-dataset/src/{real-dataset,anomaly-dataset}.ts --relative",
        "windows": WINDOWS,
        "input": {"name": INPUT_NAME, "dtype": "float32", "shape": [-1, len(features)]},
        "outputs": [
            {"name": "label", "dtype": "int64", "shape": [-1]},
            {"name": "score", "dtype": "float32", "shape": [-1]},
        ],
        "scoreOutput": "score",
        "higherIsAnomalous": True,
        "threshold": 1.0,
        "labels": {"0": "normal", "1": "anomalous"},
        "estimator": "max(max_scaled_excess / excessThreshold, gmm_nll(relative) / nllThreshold)",
        "score": "max of (max over features of excess / scale) / excessThreshold and (negative log-likelihood of the relative positions under a Gaussian mixture) / nllThreshold",
        "preprocessing": {
            "inOnnx": True,
            "scale": [float(f"{v:.6g}") for v in scale],
            "excessThreshold": th_e,
            "nllThreshold": float(f"{th_n:.6g}"),
            "gmmComponents": GMM_COMPONENTS,
        },
        "trainingData": [_entry(real_clean), _entry(sim_train)],
        "validationData": [_entry(real_faults), _entry(sim_validation)],
        "metrics": {
            "selection": "threshold pair with the highest weighted F1 on the uci-train fault runs plus the simulator's validation set, detector = plausibility finding or label, among those flagging at most 1 % of the uci-train recording's fault-free windows",
            "trainingWindows": int(len(X)),
            "validation": validation,
            "target": TARGET,
            "test": "models/anomaly/evaluation.json (evaluate.py)",
        },
        "onnxSha256": sha256_file(onnx_path),
        "createdBy": "models/anomaly/train_relative.py",
        "opset": {k or "ai.onnx": v for k, v in ((i.domain, i.version) for i in onnx.load(str(onnx_path)).opset_import)},
        "irVersion": onnx.load(str(onnx_path)).ir_version,
    }
    (out_dir / "model.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {_rel(onnx_path)} (sha256 {meta['onnxSha256']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
