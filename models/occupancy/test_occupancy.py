"""Checks that the committed occupancy ONNX model is the one train.py produces and that it is good.

Run from the repository root: ``pytest models/occupancy``.
The version directory under test is ``models/occupancy/1`` unless OCCUPANCY_MODEL_DIR points elsewhere.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

HERE = Path(__file__).resolve().parent
MODEL_DIR = Path(os.environ.get("OCCUPANCY_MODEL_DIR", HERE / "1"))

PROBA_ATOL = 1e-4
MIN_TEST_ACCURACY = 0.975


def _load_train_module():
    spec = importlib.util.spec_from_file_location("occupancy_train", HERE / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


train = _load_train_module()


@pytest.fixture(scope="module")
def meta() -> dict:
    return json.loads((MODEL_DIR / "model.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def session() -> ort.InferenceSession:
    return ort.InferenceSession(str(MODEL_DIR / "model.onnx"), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def test_data():
    return train.load_csv(train.TEST_FILE)


@pytest.fixture(scope="module")
def train_data():
    return train.load_csv(train.TRAIN_FILE)


@pytest.fixture(scope="module")
def refit(meta, train_data):
    X, y = train_data
    return train.fit_pipeline(meta["estimator"], X, y)


@pytest.fixture(scope="module")
def onnx_out(session, test_data):
    X, _ = test_data
    label, proba = session.run(["label", "probabilities"], {"input": X.astype(np.float32)})
    return label, proba


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_onnx_sha256_matches_model_json(meta):
    assert meta["onnxSha256"] == _sha256(MODEL_DIR / "model.onnx")


def test_data_hashes_match_model_json(meta):
    repo_root = HERE.parent.parent
    for key in ("trainingData", "testData"):
        entry = meta[key]
        path = repo_root / entry["file"]
        assert _sha256(path) == entry["sha256"], f"{entry['file']} changed since the model was trained"
        X, _ = train.load_csv(path)
        assert len(X) == entry["rows"]


def test_model_json_describes_the_graph(meta, session):
    assert meta["name"] == "occupancy"
    if MODEL_DIR.name.isdigit():
        assert meta["version"] == int(MODEL_DIR.name)
    assert meta["features"] == ["temperature", "humidity", "light", "co2", "humidity_ratio"]
    assert meta["features"] == train.FEATURE_NAMES
    assert meta["labels"] == {"0": "empty", "1": "occupied"}
    assert 0.0 < meta["threshold"] < 1.0

    inputs = session.get_inputs()
    assert len(inputs) == 1
    assert inputs[0].name == meta["input"]["name"] == "input"
    assert inputs[0].type == "tensor(float)" and meta["input"]["dtype"] == "float32"
    assert inputs[0].shape[1] == 5 and meta["input"]["shape"] == [-1, 5]
    assert not isinstance(inputs[0].shape[0], int)  # dynamic batch

    outputs = {o.name: o for o in session.get_outputs()}
    assert [o["name"] for o in meta["outputs"]] == ["label", "probabilities"]
    assert outputs["label"].type == "tensor(int64)"
    assert outputs["probabilities"].type == "tensor(float)"
    assert outputs["probabilities"].shape[1] == 2


def test_opsets_are_runnable_by_onnxruntime_node(meta):
    model = onnx.load(str(MODEL_DIR / "model.onnx"))
    onnx.checker.check_model(model, full_check=True)
    opsets = {imp.domain or "ai.onnx": imp.version for imp in model.opset_import}
    assert opsets == meta["opset"]
    assert opsets.get("ai.onnx", 0) <= 17
    assert opsets.get("ai.onnx.ml", 0) <= 3


def test_onnx_labels_equal_refit_sklearn(refit, test_data, onnx_out):
    X, _ = test_data
    label, _ = onnx_out
    # Compare on the float32-rounded inputs the ONNX model actually sees.
    expected = refit.predict(X.astype(np.float32).astype(np.float64))
    assert label.shape == expected.shape == (len(X),)
    mismatches = np.flatnonzero(label != expected)
    assert mismatches.size == 0, f"{mismatches.size} labels differ, first rows {mismatches[:10].tolist()}"


def test_onnx_probabilities_match_refit_sklearn(refit, test_data, onnx_out):
    X, _ = test_data
    _, proba = onnx_out
    expected = refit.predict_proba(X.astype(np.float32).astype(np.float64))
    assert proba.shape == expected.shape == (len(X), 2)
    np.testing.assert_allclose(proba, expected, rtol=0, atol=PROBA_ATOL)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-5)


def test_label_is_probability_above_threshold(meta, onnx_out):
    label, proba = onnx_out
    np.testing.assert_array_equal(label, (proba[:, 1] > meta["threshold"]).astype(np.int64))


def test_onnx_test_accuracy_meets_target_and_model_json(meta, test_data, onnx_out):
    _, y = test_data
    label, _ = onnx_out
    metrics = train.classification_metrics(y, label)
    assert metrics["accuracy"] >= MIN_TEST_ACCURACY, metrics
    for key in ("accuracy", "precision", "recall", "f1"):
        assert metrics[key] == pytest.approx(meta["metrics"]["test"][key], abs=1e-6), key


def test_onnx_runs_any_batch_size(session, test_data, onnx_out):
    X, _ = test_data
    label_all, proba_all = onnx_out
    for n in (1, 7, 256):
        label, proba = session.run(["label", "probabilities"], {"input": X[:n].astype(np.float32)})
        np.testing.assert_array_equal(label, label_all[:n])
        np.testing.assert_allclose(proba, proba_all[:n], rtol=0, atol=1e-6)


def test_selection_is_reproducible(meta, train_data):
    """The recorded CV numbers and choice are what train.py computes now (deterministic)."""
    X, y = train_data
    cv = train.cross_validate_candidates(X, y)
    assert cv == meta["metrics"]["cv"]["candidates"]
    assert train.select_candidate(cv) == meta["estimator"]
