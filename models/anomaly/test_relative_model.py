"""Checks that the committed room-relative anomaly model (version 3) is what train_relative.py
produces from the committed data, and that its ONNX graph computes what the Python code does.

Run from the repository root: ``pytest models/anomaly``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from model_tools import load_module  # noqa: E402

MODEL_DIR = HERE / "3"
train = load_module("anomaly_train_relative", HERE / "train_relative.py")
evaluate = train.evaluate


@pytest.fixture(scope="module")
def meta() -> dict:
    return json.loads((MODEL_DIR / "model.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def data():
    return {
        "clean": evaluate.Windows(evaluate.REAL_CLEAN_RELATIVE_FILE),
        "faults": evaluate.Windows(evaluate.REAL_FAULTS_RELATIVE_FILE),
        "simTrain": evaluate.Windows(train.SIM_TRAIN_FILE),
        "simValidation": evaluate.Windows(train.SIM_VALIDATION_FILE),
    }


def test_checksums_match_model_json(meta):
    assert meta["onnxSha256"] == hashlib.sha256((MODEL_DIR / "model.onnx").read_bytes()).hexdigest()
    for entry in meta["trainingData"] + meta["validationData"]:
        path = HERE.parent.parent / entry["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], entry["file"]


def test_training_reproduces_the_onnx_file_byte_for_byte(tmp_path):
    assert train.main(["--out-root", str(tmp_path)]) == 0
    assert (tmp_path / "3" / "model.onnx").read_bytes() == (MODEL_DIR / "model.onnx").read_bytes()
    assert (tmp_path / "3" / "model.json").read_text(encoding="utf-8") == (MODEL_DIR / "model.json").read_text(encoding="utf-8")


def test_onnx_scores_equal_python_and_the_graph_is_servable(meta, data):
    session = ort.InferenceSession(str(MODEL_DIR / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input"] and [o.name for o in session.get_outputs()] == ["label", "score"]
    assert session.get_inputs()[0].shape[1] == len(meta["features"]) == 24
    faults = data["faults"]
    X = faults.X[faults.scored]
    label, score = session.run(["label", "score"], {"input": X.astype(np.float32)})
    # the same score from the two parts computed in Python (scikit-learn's mixture, float64)
    gmm = train.fit_gmm(train.split(train.training_windows(data["clean"], data["simTrain"]))[1])
    ex, nll = train.parts(faults, np.asarray(meta["preprocessing"]["scale"], dtype=np.float64), gmm)
    th = meta["preprocessing"]
    expected = np.maximum(ex[faults.scored] / np.float32(th["excessThreshold"]), nll[faults.scored] / np.float32(th["nllThreshold"]))
    np.testing.assert_allclose(score, expected, rtol=2e-4, atol=1e-4)
    np.testing.assert_array_equal(label, (score > np.float32(1.0)).astype(np.int64))
    assert evaluate.is_relative(meta["features"]) and meta["features"] == data["clean"].features


def test_the_false_alarm_target_holds_on_the_learning_recording(meta):
    assert meta["metrics"]["validation"]["cleanFlaggedRate"] <= train.TARGET["realCleanFlaggedRate"]
