"""Checks that the committed room-adaptive anomaly model (version 2) is what train_baseline.py
produces from the committed data, and that its ONNX graph computes what the Python code does.

Run from the repository root: ``pytest models/anomaly``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from model_tools import load_module  # noqa: E402
MODEL_DIR = HERE / "2"



train = load_module("anomaly_train_baseline", HERE / "train_baseline.py")
evaluate = train.evaluate


@pytest.fixture(scope="module")
def meta() -> dict:
    return json.loads((MODEL_DIR / "model.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def data():
    return {
        "clean": evaluate.Windows(evaluate.REAL_CLEAN_BASELINE_FILE),
        "faults": evaluate.Windows(evaluate.REAL_FAULTS_BASELINE_FILE),
        "simTrain": evaluate.Windows(train.SIM_TRAIN_FILE),
        "simValidation": evaluate.Windows(train.SIM_VALIDATION_FILE),
    }


def test_checksums_match_model_json(meta):
    assert meta["onnxSha256"] == hashlib.sha256((MODEL_DIR / "model.onnx").read_bytes()).hexdigest()
    for entry in meta["trainingData"] + meta["validationData"]:
        path = HERE.parent.parent / entry["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], entry["file"]


def test_training_reproduces_scale_threshold_and_onnx(meta, data):
    scale = train.fit_scale(train.fault_free_training(data["clean"], data["simTrain"]))
    assert [float(f"{v:.6g}") for v in scale] == meta["preprocessing"]["scale"]
    learn_runs = data["faults"].subset(data["faults"].recording() == evaluate.LEARN_ROOM)
    learn_clean = data["clean"].subset(data["clean"].recording() == evaluate.LEARN_ROOM)
    threshold, validation = train.choose_threshold([learn_runs, data["simValidation"]], scale, learn_clean)
    assert threshold == meta["threshold"]
    assert validation == meta["metrics"]["validation"]
    assert validation["cleanFlaggedRate"] <= train.TARGET["realCleanFlaggedRate"]
    assert train.to_onnx_model(scale, threshold).SerializeToString() == (MODEL_DIR / "model.onnx").read_bytes()


def test_onnx_scores_equal_python_and_the_graph_is_servable(meta, data):
    model = onnx.load(str(MODEL_DIR / "model.onnx"))
    assert {i.domain or "ai.onnx": i.version for i in model.opset_import} == meta["opset"]
    session = ort.InferenceSession(str(MODEL_DIR / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input"] and [o.name for o in session.get_outputs()] == ["label", "score"]
    X = data["faults"].X[data["faults"].scored]
    label, score = session.run(["label", "score"], {"input": X.astype(np.float32)})
    expected = train.score(X, np.asarray(meta["preprocessing"]["scale"]))
    np.testing.assert_allclose(score, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(label, (score > np.float32(meta["threshold"])).astype(np.int64))
    assert meta["features"] == data["clean"].features and all(f.endswith("_excess") for f in meta["features"])


def test_learning_windows_are_never_flagged(data):
    clean = data["clean"]
    flags = evaluate.detector_flags(clean, np.ones(len(clean), dtype=np.int64))
    assert clean.learning.any() and not flags[clean.learning].any()
