"""Helpers every models/<name>/train.py shares: checksums, rounding and paths in model.json, and the
description of the scaler that the exported ONNX graph contains."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def round6(x: float) -> float:
    """Metrics in model.json: six decimals keep the file stable across platforms."""
    return round(float(x), 6)


def repo_relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def describe_scaler(pipeline, note: str) -> dict:
    """model.json's `preprocessing`: for people; the scaling itself lives inside the ONNX graph."""
    scaler = pipeline.named_steps.get("scaler")
    if scaler is None:
        return {"inOnnx": True, "steps": [name for name, _ in pipeline.steps]}
    return {
        "inOnnx": True,
        "note": note,
        "steps": [name for name, _ in pipeline.steps],
        "scaler": {
            "type": "StandardScaler",
            "mean": [float(f"{v:.9g}") for v in scaler.mean_],
            "scale": [float(f"{v:.9g}") for v in scaler.scale_],
        },
    }


def load_module(name: str, path: Path):
    """Imports a sibling script (train.py, evaluate.py) that is not on the package path."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
