#!/usr/bin/env python3
"""Build the served anomaly model version 4: version 2 plus a per-room limit on version 1's score
(candidate 4 of ``evaluate_room_threshold.py``, published). Nothing is retrained: the graph
composes the committed ``1/model.onnx`` and ``2/model.onnx`` and the room limit's parameters are
the ones ``evaluate_room_threshold.py`` selected (``room-threshold.json``).

Usage (from the repository root):

    python models/anomaly/train_room_limit.py      # writes models/anomaly/4/{model.onnx,model.json}

ONNX input ``input`` float32 [N, 25]:

- columns 0-11: version 1's 12 absolute features (1/model.json ``features``),
- columns 12-23: version 2's 12 ``*_excess`` features (2/model.json ``features``),
- column 24: ``room_score_limit``, the room's limit for version 1's score (NLL).

Outputs: ``score`` float32 [N] = max(v2 score / v2 threshold, v1 NLL / max(room_score_limit, floor)) and
``label`` int64 [N] = score > 1. So label = version 2's label OR NLL > the room's limit, i.e.
candidate 4's detector (the plausibility findings stay in stream-analytics).

The room's limit is computed by stream-analytics (model.json ``roomLimit``): while a room learns it
sends zero excesses and ``room_score_limit`` = floor, so score = max(0, NLL / floor) and NLL =
score x floor; over the learning day it collects those and sets limit = max(floor, margin x
quantile) (libs/analytics/src/lib/room-score-limit.ts). Deterministic: the same committed files give byte-identical outputs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, compose, helper

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from model_tools import load_module, repo_relative as _rel, sha256_file  # noqa: E402

train_baseline = load_module("anomaly_train_baseline", HERE / "train_baseline.py")
room_threshold = load_module("anomaly_evaluate_room_threshold", HERE / "evaluate_room_threshold.py")
evaluate = train_baseline.evaluate

MODEL_NAME = train_baseline.MODEL_NAME
DEFAULT_VERSION = 4
V1_DIR, V2_DIR = room_threshold.V1_DIR, room_threshold.V2_DIR
INPUT_NAME = train_baseline.INPUT_NAME
LIMIT_FEATURE = "room_score_limit"
IR_VERSION = train_baseline.IR_VERSION
# A room's limit needs a quantile over enough learning-day scores: at least half a day (720 of the
# 1,440 windows; the engine caps it at half its learning windows); until the learning day's scores
# are in, the room stays learning and its windows are sent with the floor.
MIN_SCORES = 720


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def room_limit_block() -> dict:
    """The per-room limit's parameters: the q and margin candidate 4 selected, floor = version 1's threshold."""
    sel = room_threshold.load_recorded()["selection"]
    floor = float(_read_json(V1_DIR / "model.json")["threshold"])
    if sel["globalThreshold"] != floor:
        raise ValueError("room-threshold.json was computed against another version-1 threshold; rerun evaluate_room_threshold.py --write")
    return {"feature": LIMIT_FEATURE, "quantile": sel["quantile"], "margin": sel["margin"], "floor": floor, "minScores": MIN_SCORES}


def _prune(graph: onnx.GraphProto, keep: set[str]) -> list[onnx.NodeProto]:
    """The nodes ``keep`` depends on, in their original order (drops a part's own label nodes)."""
    needed, nodes = set(keep), []
    for node in reversed(graph.node):
        if any(o in needed for o in node.output):
            nodes.append(node)
            needed.update(i for i in node.input if i)
    return list(reversed(nodes))


def _part(model_dir: Path, prefix: str) -> tuple[onnx.GraphProto, list[onnx.NodeProto]]:
    """One published version's graph with every name prefixed, reduced to what its ``score`` needs."""
    model = compose.add_prefix(onnx.load(str(model_dir / "model.onnx")), prefix)
    graph = model.graph
    return graph, _prune(graph, {f"{prefix}score"})


def _const(name: str, dtype: int, dims: list[int], values: list) -> onnx.TensorProto:
    return helper.make_tensor(name, dtype, dims, values)


def to_onnx_model() -> onnx.ModelProto:
    """``input`` [N, 25] → ``label`` [N] int64, ``score`` [N] float32 (see the module docstring)."""
    v1_meta, v2_meta = _read_json(V1_DIR / "model.json"), _read_json(V2_DIR / "model.json")
    n1, n2 = len(v1_meta["features"]), len(v2_meta["features"])
    g1, nodes1 = _part(V1_DIR, "v1_")
    g2, nodes2 = _part(V2_DIR, "v2_")
    used = {i for node in nodes1 + nodes2 for i in node.input}
    initializers = [t for t in list(g1.initializer) + list(g2.initializer) if t.name in used]
    head = [
        # column slices of the combined input feed each part under the input name it was built with
        helper.make_node("Slice", [INPUT_NAME, "v1_cols_start", "v1_cols_end", "cols_axis"], [f"v1_{INPUT_NAME}"], name="V1Features"),
        helper.make_node("Slice", [INPUT_NAME, "v2_cols_start", "v2_cols_end", "cols_axis"], [f"v2_{INPUT_NAME}"], name="V2Excess"),
        helper.make_node("Slice", [INPUT_NAME, "limit_col_start", "limit_col_end", "cols_axis"], ["limit_column"], name="RoomLimitColumn"),
        helper.make_node("Reshape", ["limit_column", "flat_shape"], ["room_limit_given"], name="RoomLimitGiven"),
        # never below the floor: a limit of 0 (or less) from a hand-made request would divide by
        # zero; the engine never sends one below it
        helper.make_node("Max", ["room_limit_given", "room_limit_floor"], ["room_limit"], name="RoomLimit"),
    ]
    tail = [
        helper.make_node("Div", ["v2_score", "v2_score_threshold"], ["v2_ratio"], name="V2ScoreOverThreshold"),
        helper.make_node("Div", ["v1_score", "room_limit"], ["v1_ratio"], name="V1ScoreOverRoomLimit"),
        helper.make_node("Max", ["v2_ratio", "v1_ratio"], ["score"], name="Score"),
        helper.make_node("Greater", ["score", "one"], ["is_anomalous"], name="AboveOne"),
        helper.make_node("Cast", ["is_anomalous"], ["label"], name="LabelInt64", to=TensorProto.INT64),
    ]
    constants = [
        _const("v1_cols_start", TensorProto.INT64, [1], [0]),
        _const("v1_cols_end", TensorProto.INT64, [1], [n1]),
        _const("v2_cols_start", TensorProto.INT64, [1], [n1]),
        _const("v2_cols_end", TensorProto.INT64, [1], [n1 + n2]),
        _const("limit_col_start", TensorProto.INT64, [1], [n1 + n2]),
        _const("limit_col_end", TensorProto.INT64, [1], [n1 + n2 + 1]),
        _const("cols_axis", TensorProto.INT64, [1], [1]),
        _const("flat_shape", TensorProto.INT64, [1], [-1]),
        _const("v2_score_threshold", TensorProto.FLOAT, [], [float(v2_meta["threshold"])]),
        _const("one", TensorProto.FLOAT, [], [1.0]),
        _const("room_limit_floor", TensorProto.FLOAT, [], [float(room_limit_block()["floor"])]),
    ]
    graph = helper.make_graph(
        head + nodes1 + nodes2 + tail,
        MODEL_NAME,
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [None, n1 + n2 + 1])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, [None]), helper.make_tensor_value_info("score", TensorProto.FLOAT, [None])],
        constants + initializers,
    )
    v1_model = onnx.load(str(V1_DIR / "model.onnx"))
    opsets = {i.domain: i.version for i in v1_model.opset_import}
    opsets.update({i.domain: max(i.version, opsets.get(i.domain, 0)) for i in onnx.load(str(V2_DIR / "model.onnx")).opset_import})
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in sorted(opsets.items())], producer_name="models/anomaly/train_room_limit.py")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def _entry(path: Path) -> dict:
    return {"file": _rel(path), "sha256": sha256_file(path)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", type=int, default=DEFAULT_VERSION)
    parser.add_argument("--out-root", type=Path, default=HERE)
    args = parser.parse_args(argv)

    v1_meta, v2_meta = _read_json(V1_DIR / "model.json"), _read_json(V2_DIR / "model.json")
    recorded = room_threshold.load_recorded()
    limit = room_limit_block()
    features = [*v1_meta["features"], *v2_meta["features"], LIMIT_FEATURE]
    if len(features) != 25 or len(set(features)) != len(features):
        raise ValueError(f"expected 25 distinct input features, got {features}")

    out_dir = args.out_root / str(args.version)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / "model.onnx"
    model = to_onnx_model()
    onnx_path.write_bytes(model.SerializeToString())
    held_out = recorded["realFaults"][evaluate.HELD_OUT_ROOM]
    meta = {
        "name": MODEL_NAME,
        "version": args.version,
        "features": features,
        "featureSource": "columns 0-11: ANOMALY_FEATURES (version 1's, libs/analytics/src/lib/feature.catalog.ts); 12-23: their *_excess over the room's envelope (version 2's, room-baseline.ts); 24: room_score_limit, the room's limit for version 1's score (roomLimit below), all computed by AnalyticsEngine",
        "windows": v2_meta["windows"],
        "input": {"name": INPUT_NAME, "dtype": "float32", "shape": [-1, len(features)]},
        "outputs": [
            {"name": "label", "dtype": "int64", "shape": [-1]},
            {"name": "score", "dtype": "float32", "shape": [-1]},
        ],
        "scoreOutput": "score",
        "higherIsAnomalous": True,
        "threshold": 1,
        "labels": {"0": "normal", "1": "anomalous"},
        "estimator": "max(version 2 score / its threshold, version 1 NLL / room limit)",
        "score": f"max(version 2's max scaled excess / {v2_meta['threshold']}, version 1's GMM negative log-likelihood of the absolute features / max(room_score_limit, floor)); > 1 = anomalous",
        "roomLimit": limit,
        "roomLimitRule": "while a room learns (its first day) stream-analytics sends zero excesses and room_score_limit = floor, so score = max(0, NLL / floor); it collects NLL = score x floor over the learning day and then sends limit = max(floor, margin x quantile(those scores)) (numpy's default linear quantile) once its baseline is calibrated and the learning day's scores are in (every learning window answered and at least min(minScores, learnWindows / 2) scores, or a full learning day of them); until then the room stays learning and sends the floor; the graph divides by max(room_score_limit, floor)",
        "preprocessing": {"inOnnx": True, "steps": ["slice columns", "version 1 graph (scaler, GMM NLL)", "version 2 graph (divide by scale, max)", "divide by threshold / room limit", "max"]},
        "components": {
            "v1": {**_entry(V1_DIR / "model.onnx"), "threshold": v1_meta["threshold"], "columns": [0, len(v1_meta["features"])]},
            "v2": {**_entry(V2_DIR / "model.onnx"), "threshold": v2_meta["threshold"], "columns": [len(v1_meta["features"]), len(v1_meta["features"]) + len(v2_meta["features"])]},
        },
        "selectionData": [
            _entry(p)
            for p in (
                evaluate.REAL_CLEAN_FILE,
                evaluate.REAL_CLEAN_BASELINE_FILE,
                room_threshold.REAL_FAULTS_ABSOLUTE_FILE,
                evaluate.REAL_FAULTS_BASELINE_FILE,
                room_threshold.SIM_VALIDATION_ABSOLUTE_FILE,
                room_threshold.SIM_VALIDATION_BASELINE_FILE,
            )
        ],
        "testData": [_entry(p) for p in (room_threshold.SIM_TEST_ABSOLUTE_FILE, evaluate.SIM_TEST_BASELINE_FILE)],
        "metrics": {
            "selection": recorded["selection"]["rule"],
            "validation": recorded["selection"]["validation"],
            "realCleanFlaggedRate": {k: v["flaggedRate"] for k, v in recorded["realClean"].items()},
            "realFaultsHeldOut": {"precision": held_out["precision"], "recall": held_out["recall"], "recallByFault": {k: v["recall"] for k, v in held_out["byFault"].items()}},
            "simTest": {"precision": recorded["simTest"]["precision"], "recall": recorded["simTest"]["recall"]},
            "target": train_baseline.TARGET,
            "test": "models/anomaly/room-threshold.json (evaluate_room_threshold.py; test_room_limit_model.py recomputes it from this graph)",
        },
        "onnxSha256": sha256_file(onnx_path),
        "createdBy": "models/anomaly/train_room_limit.py",
        "opset": {(i.domain or "ai.onnx"): i.version for i in model.opset_import},
        "irVersion": IR_VERSION,
    }
    (out_dir / "model.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"room limit {limit}")
    print(f"wrote {_rel(onnx_path)} (sha256 {meta['onnxSha256']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
