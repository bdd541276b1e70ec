#!/usr/bin/env python3
"""Figures of a committed anomaly model version on real and simulated data.

Usage (from the repository root):

    python models/anomaly/evaluate.py            # every version in evaluation.json, printed
    python models/anomaly/evaluate.py --write 1  # (re)computes version 1 and records it in evaluation.json

Data (all produced by stream-analytics' own feature code, see README.md):

- ``data/real-clean.csv``: the UCI occupancy recordings (a real office, fault-free), every 1-minute
  window; room ``uci-train`` (Feb 4-10 2015) and ``uci-test`` (Feb 2-4, held out).
- ``data/real-faults.csv``: the same recordings with injected faults (stuck, spike, drift,
  dropout, jump, swap), several seeded runs per recording, labelled per window.
- ``data/test.csv``: the simulator's held-out test set (stuck, spike, drift, implausible).

A window the engine could build no feature vector for (empty feature fields: a metric missing) is
never flagged by a model that only scores feature vectors. Ambiguous windows (empty label) are
left out. Rows carry a ``weight`` (subsampling stride); every figure is weighted by it.

Room-adaptive versions (features ``*_excess``, version 2; ``*_excess`` then ``*_rel``, version 3) are
evaluated on the ``*.baseline.csv`` (``*.relative.csv``) files, which also say whether the room was still learning (left out: no score, no alert then) and
which plausibility findings stream-analytics' physical rules raised; the detector flags a window
when a finding fired or the model's label is 1.

Precision per fault type: the type's true positives against the false positives apportioned to
it by its share of all fault windows, i.e. the precision a stream holding only that fault type
(at the same overall fault rate) would see.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from model_tools import round6 as _r, sha256_file, repo_relative as _rel  # noqa: E402

DATA_DIR = HERE / "data"
REAL_CLEAN_FILE = DATA_DIR / "real-clean.csv"
REAL_FAULTS_FILE = DATA_DIR / "real-faults.csv"
SIM_TEST_FILE = DATA_DIR / "test.csv"
REAL_CLEAN_BASELINE_FILE = DATA_DIR / "real-clean.baseline.csv"
REAL_FAULTS_BASELINE_FILE = DATA_DIR / "real-faults.baseline.csv"
SIM_TEST_BASELINE_FILE = DATA_DIR / "test.baseline.csv"
REAL_CLEAN_RELATIVE_FILE = DATA_DIR / "real-clean.relative.csv"
REAL_FAULTS_RELATIVE_FILE = DATA_DIR / "real-faults.relative.csv"
SIM_TEST_RELATIVE_FILE = DATA_DIR / "test.relative.csv"
EVALUATION_FILE = HERE / "evaluation.json"

REAL_FAULTS = ["stuck", "spike", "drift", "dropout", "jump", "swap"]
SIM_FAULTS = ["stuck", "spike", "drift", "implausible"]
# the recording a detector may learn from vs the held-out one
LEARN_ROOM, HELD_OUT_ROOM = "uci-train", "uci-test"


class Windows:
    """One data set CSV: room, window_end, features (NaN = no vector), [learning, findings,] label
    (-1 = ambiguous), fault, weight."""

    def __init__(self, path: Path):
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            if header[:2] != ["room", "window_end"] or header[-3:] != ["label", "fault", "weight"]:
                raise ValueError(f"{path}: unexpected header {header}")
            rows = [r for r in reader if r]
        checks = header[-5:-3] == ["learning", "findings"]
        end = -5 if checks else -3
        self.path = path
        self.features = header[2:end]
        self.room = np.asarray([r[0] for r in rows])
        self.window_end = np.asarray([int(r[1]) for r in rows], dtype=np.int64)
        self.X = np.asarray([[float(v) if v != "" else np.nan for v in r[2:end]] for r in rows], dtype=np.float64).reshape(len(rows), len(self.features))
        self.scored = ~np.isnan(self.X).any(axis=1)
        self.learning = np.asarray([checks and r[-5] == "1" for r in rows], dtype=bool)
        self.findings = np.asarray([r[-4] if checks else "" for r in rows], dtype=object)
        self.label = np.asarray([int(r[-3]) if r[-3] != "" else -1 for r in rows], dtype=np.int64)
        self.fault = np.asarray([r[-2] for r in rows])
        self.weight = np.asarray([float(r[-1]) for r in rows], dtype=np.float64)

    def __len__(self) -> int:
        return len(self.label)

    def subset(self, mask: np.ndarray) -> "Windows":
        """The rows where ``mask`` holds (same path and features)."""
        out = object.__new__(Windows)
        out.path, out.features = self.path, self.features
        for name in ("room", "window_end", "X", "scored", "learning", "findings", "label", "fault", "weight"):
            setattr(out, name, getattr(self, name)[mask])
        return out

    def recording(self) -> np.ndarray:
        """The real recording each row comes from (``uci-train-s501`` → ``uci-train``)."""
        return np.asarray(["-".join(r.split("-")[:2]) for r in self.room])


def is_relative(features: list[str]) -> bool:
    """Version 3's input: the ``*_excess`` features, then the same ones as ``*_rel``."""
    n = len(features) // 2
    return len(features) == 2 * n and all(f.endswith("_excess") for f in features[:n]) and [f[: -len("_rel")] for f in features[n:]] == [f[: -len("_excess")] for f in features[:n]] and all(f.endswith("_rel") for f in features[n:])


def onnx_flags(model_dir: Path, data: Windows) -> np.ndarray:
    """1 where the model's ``label`` output flags the window; unscored windows are 0."""
    session = ort.InferenceSession(str(model_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    flags = np.zeros(len(data), dtype=np.int64)
    if data.scored.any():
        (label,) = session.run(["label"], {"input": data.X[data.scored].astype(np.float32)})
        flags[data.scored] = label.astype(np.int64)
    return flags


def detector_flags(data: Windows, label: np.ndarray) -> np.ndarray:
    """What the deployed detector flags: a plausibility finding or the model's label; nothing while learning."""
    return (((label == 1) | (data.findings != "")) & ~data.learning).astype(np.int64)


def flagged_rate(data: Windows, flags: np.ndarray, mask: np.ndarray | None = None) -> dict:
    """Share of the clean windows (weighted) flagged, after the room's learning period."""
    m = (data.label == 0) & ~data.learning & (mask if mask is not None else True)
    w = data.weight[m]
    return {
        "learningWindows": round(float(data.weight[(data.label == 0) & data.learning & (mask if mask is not None else True)].sum())),
        "windows": round(float(w.sum())),
        "flagged": round(float(w[flags[m] == 1].sum())),
        "flaggedRate": _r(float(w[flags[m] == 1].sum()) / max(float(w.sum()), 1e-12)),
        "unscored": round(float(w[~data.scored[m]].sum())),
    }


def fault_metrics(data: Windows, flags: np.ndarray, faults: list[str], mask: np.ndarray | None = None) -> dict:
    """Precision, recall, F1, false-positive rate; recall and apportioned precision per fault type."""
    m = (data.label >= 0) & ~data.learning & (mask if mask is not None else True)
    w, y, p, f = data.weight[m], data.label[m], flags[m], data.fault[m]
    tp = float(w[(p == 1) & (y == 1)].sum())
    fp = float(w[(p == 1) & (y == 0)].sum())
    fn = float(w[(p == 0) & (y == 1)].sum())
    tn = float(w[(p == 0) & (y == 0)].sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    by_fault = {}
    for name in faults:
        sel = (y == 1) & (f == name)
        n = float(w[sel].sum())
        tp_f = float(w[sel & (p == 1)].sum())
        fp_f = fp * n / max(tp + fn, 1e-12)
        by_fault[name] = {
            "windows": round(n),
            "recall": _r(tp_f / n if n else 0.0),
            "precision": _r(tp_f / (tp_f + fp_f) if tp_f + fp_f else 0.0),
            "unscored": round(float(w[sel & ~data.scored[m]].sum())),
        }
    return {
        "precision": _r(precision),
        "recall": _r(recall),
        "f1": _r(2 * precision * recall / (precision + recall) if precision + recall else 0.0),
        "falsePositiveRate": _r(fp / (fp + tn) if fp + tn else 0.0),
        "windows": {"truePositive": round(tp), "falsePositive": round(fp), "falseNegative": round(fn), "trueNegative": round(tn)},
        "byFault": by_fault,
    }


def _data_entry(data: Windows) -> dict:
    return {"file": _rel(data.path), "sha256": sha256_file(data.path), "rows": len(data)}


def evaluate_version(model_dir: Path) -> dict:
    """Every figure of one version directory, as recorded in evaluation.json."""
    meta = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    relative = is_relative(meta["features"])
    adaptive = relative or all(f.endswith("_excess") for f in meta["features"])
    files = (
        (REAL_CLEAN_RELATIVE_FILE, REAL_FAULTS_RELATIVE_FILE, SIM_TEST_RELATIVE_FILE)
        if relative
        else (REAL_CLEAN_BASELINE_FILE, REAL_FAULTS_BASELINE_FILE, SIM_TEST_BASELINE_FILE)
        if adaptive
        else (REAL_CLEAN_FILE, REAL_FAULTS_FILE, SIM_TEST_FILE)
    )
    clean, faulty, sim = (Windows(f) for f in files)
    if not clean.features == faulty.features == sim.features == meta["features"]:
        raise ValueError(f"{model_dir}: the data files do not hold the model's features")
    clean_flags, faulty_flags, sim_flags = (detector_flags(d, onnx_flags(model_dir, d)) for d in (clean, faulty, sim))
    rec = clean.recording()
    frec = faulty.recording()
    return {
        "model": _rel(model_dir / "model.onnx"),
        "onnxSha256": meta["onnxSha256"],
        "detector": (
            "plausibility finding (stream-analytics) or ONNX label, after the room's learning day"
            if adaptive
            else "ONNX label output (score > model.json threshold), every scored window on its own"
        ),
        "data": {"realClean": _data_entry(clean), "realFaults": _data_entry(faulty), "simTest": _data_entry(sim)},
        "realClean": {
            "all": flagged_rate(clean, clean_flags),
            LEARN_ROOM: flagged_rate(clean, clean_flags, rec == LEARN_ROOM),
            HELD_OUT_ROOM: flagged_rate(clean, clean_flags, rec == HELD_OUT_ROOM),
        },
        "realFaults": {
            "all": fault_metrics(faulty, faulty_flags, REAL_FAULTS),
            HELD_OUT_ROOM: fault_metrics(faulty, faulty_flags, REAL_FAULTS, frec == HELD_OUT_ROOM),
        },
        "simTest": fault_metrics(sim, sim_flags, SIM_FAULTS),
    }


def load_evaluation() -> dict:
    return json.loads(EVALUATION_FILE.read_text(encoding="utf-8")) if EVALUATION_FILE.exists() else {}


def print_summary(version: str, ev: dict) -> None:
    rc, rf, st = ev["realClean"], ev["realFaults"][HELD_OUT_ROOM], ev["simTest"]
    print(f"version {version}: real fault-free flagged {rc['all']['flaggedRate']:.3f} (held-out {rc[HELD_OUT_ROOM]['flaggedRate']:.3f})")
    print(f"  real faults (held-out): precision {rf['precision']:.3f} recall {rf['recall']:.3f} FPR {rf['falsePositiveRate']:.3f}")
    for name, m in rf["byFault"].items():
        print(f"    {name:<8} recall {m['recall']:.3f} precision {m['precision']:.3f} ({m['windows']} windows, {m['unscored']} unscored)")
    print(f"  simulator test: precision {st['precision']:.3f} recall {st['recall']:.3f} FPR {st['falsePositiveRate']:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", metavar="VERSION", help="recompute this version and record it in evaluation.json")
    args = parser.parse_args(argv)
    recorded = load_evaluation()
    if args.write:
        recorded[args.write] = evaluate_version(HERE / args.write)
        EVALUATION_FILE.write_text(json.dumps(recorded, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for version, ev in recorded.items():
        print_summary(version, ev)
    return 0


if __name__ == "__main__":
    sys.exit(main())
