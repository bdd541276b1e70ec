#!/usr/bin/env bash
# Creates (on first use, or when test/triton/requirements.txt changes) the venv holding the
# reference Triton client, and prints its python's path. Same scheme as models/test.sh.
#   AIOT_TRITON_VENV  venv directory (default <repo>/.venv-triton)
set -euo pipefail
root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${AIOT_TRITON_VENV:-${root}/.venv-triton}"
reqs="${root}/test/triton/requirements.txt"
stamp="${venv}/.requirements.sha256"
want="$(sha256sum "${reqs}" | cut -d' ' -f1)"
if [[ ! -x "${venv}/bin/python" ]] || [[ "$(cat "${stamp}" 2>/dev/null)" != "${want}" ]]; then
  echo "[triton] creating ${venv} from test/triton/requirements.txt" >&2
  rm -rf -- "${venv}"
  python3 -m venv "${venv}"
  "${venv}/bin/pip" install -q --disable-pip-version-check -r "${reqs}" >&2
  echo "${want}" >"${stamp}"
fi
printf '%s\n' "${venv}/bin/python"
