"""Recomputes the "version 4" candidate's figures (version 2's detector or version 1's score above a
per-room threshold calibrated on the room's learning day) from the committed ONNX files and data, so
the model card's "what was tried" row cannot drift from what the candidate does.

Run from the repository root: ``pytest models/anomaly``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from model_tools import load_module  # noqa: E402

candidate = load_module("anomaly_evaluate_room_threshold", HERE / "evaluate_room_threshold.py")
evaluate = candidate.evaluate
RECORDED = candidate.load_recorded()


@pytest.fixture(scope="module")
def computed() -> dict:
    return candidate.compute()


def test_recorded_figures_are_what_the_committed_models_and_data_compute(computed):
    assert computed == RECORDED


def test_recorded_checksums_match_the_files():
    entries = [*RECORDED["models"].values()] + [e for d in RECORDED["data"].values() for e in d.values()]
    for entry in entries:
        path = HERE.parent.parent / entry["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], entry["file"]


def test_the_selection_keeps_the_false_alarm_bound_on_the_learning_recording_only():
    sel = RECORDED["selection"]
    allowed = [g for g in sel["grid"] if g["learnCleanFlaggedRate"] <= candidate.MAX_CLEAN_FLAGGED]
    assert sel["validation"] in allowed
    assert sel["validation"]["f1"] == max(g["f1"] for g in allowed)
    # pairs with a higher validation F1 exist; they flag more of uci-train's fault-free windows
    assert all(g["learnCleanFlaggedRate"] > candidate.MAX_CLEAN_FLAGGED for g in sel["grid"] if g["f1"] > sel["validation"]["f1"])


def test_windows_after_learning_are_the_baseline_files_rows():
    for absolute, baseline in ((candidate.REAL_FAULTS_ABSOLUTE_FILE, evaluate.REAL_FAULTS_BASELINE_FILE), (candidate.SIM_TEST_ABSOLUTE_FILE, evaluate.SIM_TEST_BASELINE_FILE)):
        p = candidate.Paired(absolute, baseline)
        assert len(p.score) == len(p.base)
        # every room instance learnt on a full day of windows before it was scored
        assert all(len(s) >= 1400 for s in p.learning_scores.values())
        assert not np.isnan(p.score[p.base.scored & ~p.base.learning]).any()


def test_a_room_threshold_never_undercuts_version_1s_and_adds_to_version_2():
    p = candidate.Paired(candidate.SIM_TEST_ABSOLUTE_FILE, evaluate.SIM_TEST_BASELINE_FILE)
    sel = RECORDED["selection"]
    th = p.thresholds(sel["quantile"], sel["margin"], sel["globalThreshold"])
    assert (th >= sel["globalThreshold"]).all()
    flags = p.flags(sel["quantile"], sel["margin"], sel["globalThreshold"])
    assert (flags >= p.v2_flags).all() and flags.sum() > p.v2_flags.sum()


def test_the_candidate_is_published_as_version_4_and_still_misses_the_recall_targets():
    # served for its false-alarm rate and simulator figures, not because it meets every target: real
    # recall stays version 2's and the simulator's recall stays just below version 1's (model card)
    assert RECORDED["realFaults"][evaluate.HELD_OUT_ROOM]["recall"] < 0.9
    v1_sim = evaluate.load_evaluation()["1"]["simTest"]
    assert v1_sim["recall"] - 0.01 < RECORDED["simTest"]["recall"] < v1_sim["recall"]
    assert RECORDED["simTest"]["precision"] >= v1_sim["precision"]
    room_limit = json.loads((HERE / "4" / "model.json").read_text(encoding="utf-8"))["roomLimit"]
    sel = RECORDED["selection"]
    assert (room_limit["quantile"], room_limit["margin"], room_limit["floor"]) == (sel["quantile"], sel["margin"], sel["globalThreshold"])
