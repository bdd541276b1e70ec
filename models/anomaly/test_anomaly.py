"""Checks that the committed anomaly ONNX model is the one train.py produces and that it is good.

Run from the repository root: ``pytest models/anomaly``.
The version directory under test is ``models/anomaly/1`` unless ANOMALY_MODEL_DIR points elsewhere.
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
MODEL_DIR = Path(os.environ.get("ANOMALY_MODEL_DIR", HERE / "1"))

# float32 ONNX vs float64 scikit-learn: scores agree to this relative tolerance
SCORE_RTOL = 1e-4
MIN_PRECISION = 0.9
MIN_RECALL = 0.9

# the feature list stream-analytics builds for this model (libs/analytics ANOMALY_FEATURES)
EXPECTED_FEATURES = [
    "temperature_mean_1m",
    "humidity_mean_1m",
    "co2_mean_1m",
    "light_mean_1m",
    "humidity_ratio_mean_5m",
    "temperature_logstd_5m",
    "humidity_logstd_5m",
    "co2_logstd_5m",
    "light_logstd_5m",
    "co2_slope_5m",
    "temperature_slope_5m",
    "humidity_slope_5m",
]


def _load_train_module():
    spec = importlib.util.spec_from_file_location("anomaly_train", HERE / "train.py")
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
def train_data():
    return train.Dataset(train.TRAIN_FILE)


@pytest.fixture(scope="module")
def validation_data():
    return train.Dataset(train.VALIDATION_FILE)


@pytest.fixture(scope="module")
def test_data():
    return train.Dataset(train.TEST_FILE)


@pytest.fixture(scope="module")
def refit(meta, train_data):
    return train.fit_pipeline(meta["estimator"], train_data.X)


@pytest.fixture(scope="module")
def onnx_out(session, test_data):
    label, score = session.run(["label", "score"], {"input": test_data.X.astype(np.float32)})
    return label, score


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_onnx_sha256_matches_model_json(meta):
    assert meta["onnxSha256"] == _sha256(MODEL_DIR / "model.onnx")


def test_data_hashes_match_model_json(meta):
    repo_root = HERE.parent.parent
    for key in ("trainingData", "validationData", "testData"):
        entry = meta[key]
        path = repo_root / entry["file"]
        assert _sha256(path) == entry["sha256"], f"{entry['file']} changed since the model was trained"
        assert len(train.Dataset(path)) == entry["rows"]


def test_training_data_is_fault_free(train_data):
    assert (train_data.label == 0).all()
    assert set(train_data.fault) == {"none"}


def test_model_json_describes_the_graph(meta, session, train_data):
    assert meta["name"] == "anomaly"
    if MODEL_DIR.name.isdigit():
        assert meta["version"] == int(MODEL_DIR.name)
    assert meta["features"] == EXPECTED_FEATURES == train_data.features
    assert len(meta["features"]) <= 16
    assert meta["higherIsAnomalous"] is True and meta["scoreOutput"] == "score"
    assert meta["labels"] == {"0": "normal", "1": "anomalous"}

    inputs = session.get_inputs()
    assert len(inputs) == 1
    assert inputs[0].name == meta["input"]["name"] == "input"
    assert inputs[0].type == "tensor(float)" and meta["input"]["dtype"] == "float32"
    assert inputs[0].shape[1] == len(EXPECTED_FEATURES) and meta["input"]["shape"] == [-1, len(EXPECTED_FEATURES)]
    assert not isinstance(inputs[0].shape[0], int)  # dynamic batch

    outputs = {o.name: o for o in session.get_outputs()}
    assert [o["name"] for o in meta["outputs"]] == ["label", "score"] == [o.name for o in session.get_outputs()]
    assert outputs["label"].type == "tensor(int64)"
    assert outputs["score"].type == "tensor(float)"


def test_opsets_are_runnable_by_onnxruntime_node(meta):
    model = onnx.load(str(MODEL_DIR / "model.onnx"))
    onnx.checker.check_model(model, full_check=True)
    opsets = {imp.domain or "ai.onnx": imp.version for imp in model.opset_import}
    assert opsets == meta["opset"]
    assert opsets.get("ai.onnx", 0) <= 17
    assert opsets.get("ai.onnx.ml", 0) <= 3


def test_onnx_score_equals_sklearn_on_the_test_set(refit, test_data, onnx_out):
    _, score = onnx_out
    # compare on the float32-rounded inputs the ONNX model actually sees
    expected = train.anomaly_score(refit, test_data.X.astype(np.float32).astype(np.float64))
    assert score.shape == expected.shape == (len(test_data),)
    np.testing.assert_allclose(score, expected, rtol=SCORE_RTOL, atol=1e-3)


def test_onnx_label_equals_sklearn_at_the_threshold(meta, refit, test_data, onnx_out):
    label, score = onnx_out
    expected = train.anomaly_score(refit, test_data.X.astype(np.float32).astype(np.float64)) > meta["threshold"]
    # rows whose score lies within float32 noise of the threshold may legitimately flip
    near = np.isclose(score, meta["threshold"], rtol=SCORE_RTOL, atol=1e-3)
    mismatches = np.flatnonzero((label == 1) != expected)
    assert set(mismatches.tolist()) <= set(np.flatnonzero(near).tolist()), f"{mismatches.size} labels differ"
    np.testing.assert_array_equal(label, (score > np.float32(meta["threshold"])).astype(np.int64))


def test_test_metrics_meet_target_and_model_json(meta, test_data, onnx_out):
    label, _ = onnx_out
    metrics = train.weighted_metrics(test_data.label, label.astype(np.int64), test_data.weight, test_data.fault)
    assert metrics["precision"] >= MIN_PRECISION, metrics
    assert metrics["recall"] >= MIN_RECALL, metrics
    recorded = meta["metrics"]["test"]
    for key in ("precision", "recall", "f1"):
        assert metrics[key] == pytest.approx(recorded[key], abs=1e-3), key


def test_threshold_is_the_validation_choice(meta, refit, validation_data):
    th, metrics = train.choose_threshold(train.anomaly_score(refit, validation_data.X), validation_data)
    assert th == pytest.approx(meta["threshold"], rel=1e-6)
    assert metrics["f1"] == pytest.approx(meta["metrics"]["candidates"][meta["estimator"]]["validation"]["f1"], abs=1e-6)


def test_clean_validation_windows_mostly_score_below_threshold(meta, session, validation_data):
    _, score = session.run(["label", "score"], {"input": validation_data.X.astype(np.float32)})
    clean = validation_data.label == 0
    w = validation_data.weight[clean]
    fpr = float(w[score[clean] > meta["threshold"]].sum() / w.sum())
    assert fpr < 0.05


def test_onnx_runs_any_batch_size(session, test_data, onnx_out):
    label_all, score_all = onnx_out
    for n in (1, 7, 256):
        label, score = session.run(["label", "score"], {"input": test_data.X[:n].astype(np.float32)})
        np.testing.assert_array_equal(label, label_all[:n])
        np.testing.assert_allclose(score, score_all[:n], rtol=1e-6, atol=1e-5)


def test_selection_is_reproducible(meta, train_data, validation_data):
    """The recorded candidate results and choice are what train.py computes now (deterministic)."""
    results = train.evaluate_candidates(train_data, validation_data)
    assert results == meta["metrics"]["candidates"]
    assert train.select_candidate(results) == meta["estimator"]
