#!/usr/bin/env bash
# Runs the models' Python tests (ONNX output == scikit-learn output, metrics, checksums) in a
# venv built from models/requirements.txt (created on first use, reused after).
set -euo pipefail
root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${AIOT_MODELS_VENV:-${root}/.venv-models}"
stamp="${venv}/.requirements.sha256"
want="$(sha256sum "${root}/models/requirements.txt" | cut -d' ' -f1)"
if [[ ! -x "${venv}/bin/python" ]] || [[ "$(cat "${stamp}" 2>/dev/null)" != "${want}" ]]; then
  echo "[models] creating ${venv} from models/requirements.txt" >&2
  python3 -m venv "${venv}"
  "${venv}/bin/pip" install -q -r "${root}/models/requirements.txt"
  echo "${want}" >"${stamp}"
fi
cd "${root}"
exec "${venv}/bin/python" -m pytest -q -p no:cacheprovider models "$@"
