"""Checks the served anomaly model version 4 (version 2 plus a per-room limit on version 1's score):
train_room_limit.py rebuilds it byte for byte, its graph computes the formula from versions 1 and 2,
and its label reproduces candidate 4's verdicts and figures (room-threshold.json).

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

build = load_module("anomaly_train_room_limit", HERE / "train_room_limit.py")
candidate = build.room_threshold
evaluate = build.evaluate
MODEL_DIR = HERE / "4"
RECORDED = candidate.load_recorded()
# float32 division in the graph vs candidate 4's float64 comparisons: a window exactly at a limit may
# fall either side; no more than this many per data set (measured: 0 on all three)
MAX_BOUNDARY_DIFFERENCES = 3
# a sampled row stands for up to 40 windows (the largest stride in the *.baseline.csv files)
MAX_ROW_WEIGHT = 40


@pytest.fixture(scope="module")
def meta() -> dict:
    return json.loads((MODEL_DIR / "model.json").read_text(encoding="utf-8"))


def _session(model_dir: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(model_dir / "model.onnx"), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def sessions() -> dict:
    return {"v1": _session(candidate.V1_DIR), "v2": _session(candidate.V2_DIR), "v4": _session(MODEL_DIR)}


@pytest.fixture(scope="module")
def sets() -> dict:
    return {
        "realClean": candidate.Paired(evaluate.REAL_CLEAN_FILE, evaluate.REAL_CLEAN_BASELINE_FILE),
        "realFaults": candidate.Paired(candidate.REAL_FAULTS_ABSOLUTE_FILE, evaluate.REAL_FAULTS_BASELINE_FILE),
        "simTest": candidate.Paired(candidate.SIM_TEST_ABSOLUTE_FILE, evaluate.SIM_TEST_BASELINE_FILE),
    }


def _limits(p) -> np.ndarray:
    sel = RECORDED["selection"]
    return p.thresholds(sel["quantile"], sel["margin"], sel["globalThreshold"])


def v4_rows(p) -> tuple[np.ndarray, np.ndarray]:
    """Version 4's input per window of ``p`` with both vectors (absolute, excess, the room's limit) and that mask."""
    absolute = p.absolute.X[p.absolute_index]
    mask = p.base.scored & ~np.isnan(absolute).any(axis=1)
    X = np.hstack([absolute, p.base.X, _limits(p)[:, None]])[mask].astype(np.float32)
    return X, mask


def v4_flags(p, session) -> np.ndarray:
    X, mask = v4_rows(p)
    label = np.zeros(len(p.base), dtype=np.int64)
    (label[mask],) = session.run(["label"], {"input": X})
    return evaluate.detector_flags(p.base, label)


def test_rebuilding_writes_byte_identical_files(tmp_path):
    assert build.main(["--out-root", str(tmp_path)]) == 0
    for name in ("model.onnx", "model.json"):
        assert (tmp_path / "4" / name).read_bytes() == (MODEL_DIR / name).read_bytes(), name


def test_model_json_describes_the_graph_and_its_inputs(meta):
    v1, v2 = (json.loads((d / "model.json").read_text(encoding="utf-8")) for d in (candidate.V1_DIR, candidate.V2_DIR))
    assert meta["features"] == v1["features"] + v2["features"] + ["room_score_limit"]
    assert meta["input"] == {"name": "input", "dtype": "float32", "shape": [-1, 25]}
    assert meta["threshold"] == 1 and meta["scoreOutput"] == "score" and meta["higherIsAnomalous"] is True
    sel = RECORDED["selection"]
    assert meta["roomLimit"] == {"feature": "room_score_limit", "quantile": sel["quantile"], "margin": sel["margin"], "floor": v1["threshold"], "minScores": 720}
    assert meta["roomLimit"] == {"feature": "room_score_limit", "quantile": 0.98, "margin": 1.3, "floor": 25.607711, "minScores": 720}
    assert meta["onnxSha256"] == hashlib.sha256((MODEL_DIR / "model.onnx").read_bytes()).hexdigest()
    for entry in [*meta["components"].values(), *meta["selectionData"], *meta["testData"]]:
        assert hashlib.sha256((HERE.parent.parent / entry["file"]).read_bytes()).hexdigest() == entry["sha256"], entry["file"]
    model = onnx.load(str(MODEL_DIR / "model.onnx"))
    assert {i.domain or "ai.onnx": i.version for i in model.opset_import} == meta["opset"] and model.ir_version == meta["irVersion"]
    session = _session(MODEL_DIR)
    assert [(i.name, i.shape[1]) for i in session.get_inputs()] == [("input", 25)]
    assert [o.name for o in session.get_outputs()] == [o["name"] for o in meta["outputs"]] == ["label", "score"]


@pytest.mark.parametrize("name", ["realFaults", "simTest"])
def test_the_graph_computes_the_formula_from_versions_1_and_2(name, sets, sessions):
    X, _ = v4_rows(sets[name])
    label, score = sessions["v4"].run(["label", "score"], {"input": X})
    (nll,) = sessions["v1"].run(["score"], {"input": X[:, :12]})
    (v2,) = sessions["v2"].run(["score"], {"input": X[:, 12:24]})
    expected = np.maximum(v2.astype(np.float64) / 1.1, nll.astype(np.float64) / X[:, 24].astype(np.float64))
    np.testing.assert_allclose(score, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(label, (score > 1).astype(np.int64))
    assert label.sum() > 0 and (label == 0).sum() > 0


@pytest.mark.parametrize("name", ["realClean", "realFaults", "simTest"])
def test_label_or_finding_is_candidate_4s_verdict(name, sets, sessions):
    p = sets[name]
    sel = RECORDED["selection"]
    want = p.flags(sel["quantile"], sel["margin"], sel["globalThreshold"])
    got = v4_flags(p, sessions["v4"])
    differ = int((got != want).sum())
    assert differ <= MAX_BOUNDARY_DIFFERENCES, f"{name}: {differ} windows differ from candidate 4"


def _close(got, want, path=""):
    """Every number of ``want`` (a room-threshold.json block) within 1e-3 of ``got``'s."""
    if isinstance(want, dict):
        for k, v in want.items():
            _close(got[k], v, f"{path}.{k}")
    elif isinstance(want, float):
        assert abs(got - want) <= 1e-3, (path, got, want)
    elif not isinstance(want, str):
        # window counts: as far as the boundary differences allowed above can move them
        assert abs(got - want) <= MAX_BOUNDARY_DIFFERENCES * MAX_ROW_WEIGHT, (path, got, want)


def test_figures_from_the_onnx_outputs_are_room_threshold_json(sets, sessions):
    clean, faults, sim = sets["realClean"], sets["realFaults"], sets["simTest"]
    cf, ff, sf = (v4_flags(p, sessions["v4"]) for p in (clean, faults, sim))
    rec, frec = clean.base.recording(), faults.base.recording()
    _close({
        "all": evaluate.flagged_rate(clean.base, cf),
        evaluate.HELD_OUT_ROOM: evaluate.flagged_rate(clean.base, cf, rec == evaluate.HELD_OUT_ROOM),
    }, {k: RECORDED["realClean"][k] for k in ("all", evaluate.HELD_OUT_ROOM)}, "realClean")
    held_out = evaluate.fault_metrics(faults.base, ff, evaluate.REAL_FAULTS, frec == evaluate.HELD_OUT_ROOM)
    _close(held_out, RECORDED["realFaults"][evaluate.HELD_OUT_ROOM], "realFaults.uci-test")
    _close(evaluate.fault_metrics(faults.base, ff, evaluate.REAL_FAULTS), RECORDED["realFaults"]["all"], "realFaults.all")
    _close(evaluate.fault_metrics(sim.base, sf, evaluate.SIM_FAULTS), RECORDED["simTest"], "simTest")


@pytest.mark.parametrize("name", ["realClean", "simTest"])
def test_the_engine_recovers_each_rooms_limit_from_its_learning_day(name, sets, sessions, meta):
    """What stream-analytics does while a room learns: zero excesses, room_score_limit = floor, NLL =
    score x floor; the limit from those equals candidate 4's room threshold."""
    p, rl = sets[name], meta["roomLimit"]
    runs = candidate.room_runs(p.absolute)
    learning = p.base.learning if not p.absolute.learning.any() else p.absolute.learning
    for run, want in RECORDED["roomThresholds"][name].items():
        rows = (runs == run) & learning & p.absolute.scored
        assert rows.sum() >= rl["minScores"], run
        X = np.hstack([p.absolute.X[rows], np.zeros((rows.sum(), 12)), np.full((rows.sum(), 1), rl["floor"])]).astype(np.float32)
        (score,) = sessions["v4"].run(["score"], {"input": X})
        nll = score.astype(np.float64) * np.float32(rl["floor"])
        limit = max(rl["floor"], rl["margin"] * float(np.quantile(nll, rl["quantile"])))
        assert limit == pytest.approx(want, rel=1e-5, abs=1e-5), run


def test_a_limit_below_the_floor_counts_as_the_floor(sessions, meta):
    """A hand-made request with room_score_limit 0 or negative gets the floor's verdict, not a division by zero."""
    v4 = sessions["v4"]
    floor = meta["roomLimit"]["floor"]
    rng = np.random.default_rng(7)
    x = rng.normal(size=(8, 25)).astype(np.float32)
    x[:, 12:24] = 0
    at_floor, zero, negative = x.copy(), x.copy(), x.copy()
    at_floor[:, 24], zero[:, 24], negative[:, 24] = floor, 0, -5
    (want,) = v4.run(["score"], {"input": at_floor})
    for rows in (zero, negative):
        (got,) = v4.run(["score"], {"input": rows})
        assert np.isfinite(got).all()
        assert np.array_equal(got, want)
