#!/usr/bin/env python3
"""Figures of candidate 4 (published and served as version 4, built by train_room_limit.py): version
2's detector OR version 1's score above a threshold calibrated per room from the room's own
version-1 scores during its learning day.

Usage (from the repository root):

    npm run build && node dist/tools/anomaly-dataset/src/real-dataset.js --absolute \\
      && node dist/tools/anomaly-dataset/src/anomaly-dataset.js --absolute --sets validation,test   # only to regenerate data/*.absolute.csv
    python models/anomaly/evaluate_room_threshold.py           # prints the figures recorded in room-threshold.json
    python models/anomaly/evaluate_room_threshold.py --write   # recomputes them and records them

The detector, per window of a calibrated room (after its learning day of 1,440 windows):

    flagged = version 2's flag (a plausibility finding, or 2/model.onnx's label on the *_excess vector)
              OR version 1's score (1/model.onnx: GMM negative log-likelihood of the 12 absolute
              features) > room threshold
    room threshold = max(version 1's global threshold, margin * quantile_q(the room's version-1
              scores over its learning day))

``q`` and ``margin`` are chosen by the fixed rule of versions 2 and 3: the pair from the grid
below with the highest weighted F1 on the validation windows pooled (the ``uci-train`` fault runs
and the simulator's validation set), among pairs that flag at most 1 % of the ``uci-train``
recording's fault-free windows after learning. Test figures: the held-out ``uci-test`` recording
and its fault runs, and the simulator's test set.

Data: version 1's features of the room-adaptive runs (faults only after the learning day), every
learning window kept (``data/real-faults.absolute.csv``, ``data/{validation,test}.absolute.csv``;
``data/real-clean.csv`` for the fault-free recordings). Windows after learning are scored on the
very rows of the ``*.baseline.csv`` files (joined by room and window end; labels, learning state,
findings and fault must agree), with their weights, so the figures compare with version 2's.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from model_tools import load_module, repo_relative as _rel, round6 as _r, sha256_file  # noqa: E402

evaluate = load_module("anomaly_evaluate", HERE / "evaluate.py")

DATA_DIR = HERE / "data"
V1_DIR, V2_DIR = HERE / "1", HERE / "2"
REAL_FAULTS_ABSOLUTE_FILE = DATA_DIR / "real-faults.absolute.csv"
SIM_VALIDATION_ABSOLUTE_FILE = DATA_DIR / "validation.absolute.csv"
SIM_VALIDATION_BASELINE_FILE = DATA_DIR / "validation.baseline.csv"
SIM_TEST_ABSOLUTE_FILE = DATA_DIR / "test.absolute.csv"
RESULT_FILE = HERE / "room-threshold.json"

QUANTILES = [0.95, 0.98, 0.99, 0.995, 0.999, 1.0]
MARGINS = [1.0, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.4, 1.5, 1.75, 2.0]
MAX_CLEAN_FLAGGED = 0.01
DAY_MS = 86_400_000


def room_runs(data) -> np.ndarray:
    """A room instance per row: the room name plus its run (the simulator's chunks reuse room names
    months apart; a gap of more than a day starts a new run, i.e. a new room that learns again)."""
    keys = np.empty(len(data), dtype=object)
    for room in sorted(set(data.room.tolist())):
        idx = np.where(data.room == room)[0]
        idx = idx[np.argsort(data.window_end[idx], kind="stable")]
        run = np.cumsum(np.r_[0, np.diff(data.window_end[idx]) > DAY_MS])
        keys[idx] = [f"{room}#{k}" for k in run]
    return keys


def v1_scores(data) -> np.ndarray:
    """Version 1's ``score`` output (float32, as served) per row; NaN where the window has no vector."""
    session = ort.InferenceSession(str(V1_DIR / "model.onnx"), providers=["CPUExecutionProvider"])
    out = np.full(len(data), np.nan, dtype=np.float64)
    if data.scored.any():
        (score,) = session.run(["score"], {"input": data.X[data.scored].astype(np.float32)})
        out[data.scored] = score.astype(np.float64)
    return out


class Paired:
    """One data set: the ``*.baseline.csv`` rows (version 2's input, labels, findings, learning,
    weights) with version 1's score of the same window and the room's learning-day scores."""

    def __init__(self, absolute_path: Path, baseline_path: Path):
        absolute = evaluate.Windows(absolute_path)
        base = evaluate.Windows(baseline_path)
        if absolute.features != json.loads((V1_DIR / "model.json").read_text(encoding="utf-8"))["features"]:
            raise ValueError(f"{absolute_path}: not version 1's features")
        index = {(r, w): i for i, (r, w) in enumerate(zip(absolute.room.tolist(), absolute.window_end.tolist()))}
        j = np.asarray([index[(r, w)] for r, w in zip(base.room.tolist(), base.window_end.tolist())], dtype=np.int64)
        # real-clean.csv carries no checks: it holds the same rows as real-clean.baseline.csv
        learning = absolute.learning.copy()
        if not absolute.learning.any():
            if len(absolute) != len(base) or not (j == np.arange(len(base))).all():
                raise ValueError(f"{absolute_path}: without checks it must hold {baseline_path}'s rows")
            learning = base.learning.copy()
        else:
            for name in ("learning", "findings", "label", "fault"):
                if not (getattr(absolute, name)[j] == getattr(base, name)).all():
                    raise ValueError(f"{absolute_path} and {baseline_path} disagree on {name}")
            if not (absolute.weight[j][~base.learning] == base.weight[~base.learning]).all():
                raise ValueError(f"{absolute_path} and {baseline_path} disagree on weights")
        self.absolute, self.base = absolute, base
        # the absolute row of each baseline row (version 4's test feeds both feature sets of a window)
        self.absolute_index = j
        score = v1_scores(absolute)
        run = room_runs(absolute)
        self.learning_scores = {k: score[(run == k) & learning & ~np.isnan(score)] for k in sorted(set(run.tolist()))}
        self.score = score[j]
        self.run = run[j]
        self.v2_flags = evaluate.detector_flags(base, evaluate.onnx_flags(V2_DIR, base))

    def thresholds(self, q: float, margin: float, global_threshold: float) -> np.ndarray:
        """Per row, its room's threshold: max(global, margin * q-quantile of its learning-day scores)."""
        per_room = {k: max(global_threshold, margin * float(np.quantile(s, q))) if len(s) else global_threshold for k, s in self.learning_scores.items()}
        return np.asarray([per_room[k] for k in self.run], dtype=np.float64)

    def flags(self, q: float, margin: float, global_threshold: float) -> np.ndarray:
        above = ~np.isnan(self.score) & (np.nan_to_num(self.score, nan=-np.inf) > self.thresholds(q, margin, global_threshold)) & ~self.base.learning
        return (self.v2_flags.astype(bool) | above).astype(np.int64)


def load_sets() -> dict[str, Paired]:
    return {
        "realClean": Paired(evaluate.REAL_CLEAN_FILE, evaluate.REAL_CLEAN_BASELINE_FILE),
        "realFaults": Paired(REAL_FAULTS_ABSOLUTE_FILE, evaluate.REAL_FAULTS_BASELINE_FILE),
        "simValidation": Paired(SIM_VALIDATION_ABSOLUTE_FILE, SIM_VALIDATION_BASELINE_FILE),
        "simTest": Paired(SIM_TEST_ABSOLUTE_FILE, evaluate.SIM_TEST_BASELINE_FILE),
    }


def _counts(data, flags: np.ndarray, mask: np.ndarray) -> tuple[float, float, float]:
    m = (data.label >= 0) & ~data.learning & mask
    w, y, p = data.weight[m], data.label[m], flags[m]
    return float(w[(p == 1) & (y == 1)].sum()), float(w[(p == 1) & (y == 0)].sum()), float(w[(p == 0) & (y == 1)].sum())


def choose(sets: dict[str, Paired], global_threshold: float) -> tuple[float, float, list[dict]]:
    """The fixed rule: highest pooled validation F1 among (q, margin) flagging <= 1 % of uci-train's fault-free windows."""
    clean, faults, val = sets["realClean"], sets["realFaults"], sets["simValidation"]
    learn_clean = clean.base.recording() == evaluate.LEARN_ROOM
    learn_runs = faults.base.recording() == evaluate.LEARN_ROOM
    grid, best = [], None
    for q in QUANTILES:
        for margin in MARGINS:
            rate = float(evaluate.flagged_rate(clean.base, clean.flags(q, margin, global_threshold), learn_clean)["flaggedRate"])
            tp = fp = fn = 0.0
            for data, flags, mask in ((faults.base, faults.flags(q, margin, global_threshold), learn_runs), (val.base, val.flags(q, margin, global_threshold), np.ones(len(val.base), dtype=bool))):
                a, b, c = _counts(data, flags, mask)
                tp, fp, fn = tp + a, fp + b, fn + c
            p = tp / (tp + fp) if tp + fp else 0.0
            r = tp / (tp + fn) if tp + fn else 0.0
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            grid.append({"quantile": q, "margin": margin, "learnCleanFlaggedRate": _r(rate), "precision": _r(p), "recall": _r(r), "f1": _r(f1)})
            if rate <= MAX_CLEAN_FLAGGED and (best is None or f1 > best[0] + 1e-12):
                best = (f1, q, margin)
    assert best is not None, "no (quantile, margin) meets the false-alarm bound on uci-train"
    return best[1], best[2], grid


def _entry(path: Path) -> dict:
    return {"file": _rel(path), "sha256": sha256_file(path)}


def compute() -> dict:
    global_threshold = float(json.loads((V1_DIR / "model.json").read_text(encoding="utf-8"))["threshold"])
    sets = load_sets()
    q, margin, grid = choose(sets, global_threshold)
    clean, faults, sim = sets["realClean"], sets["realFaults"], sets["simTest"]
    cf, ff, sf = (s.flags(q, margin, global_threshold) for s in (clean, faults, sim))
    rec, frec = clean.base.recording(), faults.base.recording()
    chosen = next(g for g in grid if g["quantile"] == q and g["margin"] == margin)
    return {
        "detector": "version 2's flag (plausibility finding or 2/model.onnx label) or 1/model.onnx score > room threshold; room threshold = max(version 1's threshold, margin * quantile(the room's version-1 scores over its learning day)); nothing while learning",
        "models": {"v1": _entry(V1_DIR / "model.onnx"), "v2": _entry(V2_DIR / "model.onnx")},
        "data": {
            name: {"absolute": _entry(p.absolute.path), "baseline": _entry(p.base.path)}
            for name, p in sets.items()
        },
        "selection": {
            "rule": "highest weighted F1 on the uci-train fault runs plus the simulator's validation set pooled, among (quantile, margin) flagging at most 1 % of uci-train's fault-free windows after learning",
            "quantile": q,
            "margin": margin,
            "globalThreshold": global_threshold,
            "validation": chosen,
            "grid": grid,
        },
        "roomThresholds": {
            name: {k: _r(max(global_threshold, margin * float(np.quantile(s, q))) if len(s) else global_threshold) for k, s in p.learning_scores.items()}
            for name, p in (("realClean", clean), ("simTest", sim))
        },
        "realClean": {
            "all": evaluate.flagged_rate(clean.base, cf),
            evaluate.LEARN_ROOM: evaluate.flagged_rate(clean.base, cf, rec == evaluate.LEARN_ROOM),
            evaluate.HELD_OUT_ROOM: evaluate.flagged_rate(clean.base, cf, rec == evaluate.HELD_OUT_ROOM),
        },
        "realFaults": {
            "all": evaluate.fault_metrics(faults.base, ff, evaluate.REAL_FAULTS),
            evaluate.HELD_OUT_ROOM: evaluate.fault_metrics(faults.base, ff, evaluate.REAL_FAULTS, frec == evaluate.HELD_OUT_ROOM),
        },
        "simTest": evaluate.fault_metrics(sim.base, sf, evaluate.SIM_FAULTS),
    }


def load_recorded() -> dict:
    return json.loads(RESULT_FILE.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="recompute the figures and record them in room-threshold.json")
    args = parser.parse_args(argv)
    if args.write:
        RESULT_FILE.write_text(json.dumps(compute(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    ev = load_recorded()
    s = ev["selection"]
    print(f"room threshold = max({s['globalThreshold']}, {s['margin']} x q{s['quantile']} of the learning day's version-1 scores); validation P {s['validation']['precision']:.3f} R {s['validation']['recall']:.3f} F1 {s['validation']['f1']:.3f}, uci-train clean flagged {s['validation']['learnCleanFlaggedRate']:.4f}")
    evaluate.print_summary("4 (candidate)", ev)
    print(f"    simulator by fault: " + ", ".join(f"{k} {v['recall']:.3f}" for k, v in ev["simTest"]["byFault"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
