#!/bin/sh
# stage-app.sh APP SRC OUT: lay out in OUT what the image of APP carries besides node_modules and
# package.json: the compiled code (SRC/dist, without the other apps and without test/) and the
# data APP reads at run time (models, charts). SRC holds dist/, models/ and deploy/.
# Used by the Dockerfile's `stage` stage and by the test cluster's image builder
# (test/infra/images.sh), so both produce the same layout. POSIX sh: runs in busybox and Debian.
set -eu
APP="${1:?usage: stage-app.sh APP SRC OUT}"
SRC="${2:?usage: stage-app.sh APP SRC OUT}"
OUT="${3:?usage: stage-app.sh APP SRC OUT}"
if [ ! -f "${SRC}/dist/apps/${APP}/src/main.js" ]; then
  echo "no app ${APP}: ${SRC}/dist/apps/${APP}/src/main.js was not built" >&2
  exit 1
fi
mkdir -p "${OUT}"
cp -R "${SRC}/dist" "${OUT}/dist"
find "${OUT}/dist/apps" -mindepth 1 -maxdepth 1 ! -name "${APP}" -exec rm -rf {} +
rm -rf "${OUT}/dist/test"
case "${APP}" in
  inference)
    # inference (and its model-publish job) carries the model versions: models/<name>/<version>/
    for v in "${SRC}"/models/*/*/model.onnx; do
      [ -f "${v}" ] || continue
      d="$(dirname "${v}")"; rel="${d#"${SRC}"/models/}"
      mkdir -p "${OUT}/models/${rel}"
      cp "${d}/model.onnx" "${d}/model.json" "${OUT}/models/${rel}/"
    done
    ;;
  stream-analytics)
    # stream-analytics reads each served model's feature order from its model.json (no weights)
    for v in "${SRC}"/models/*/*/model.json; do
      [ -f "${v}" ] || continue
      d="$(dirname "${v}")"; rel="${d#"${SRC}"/models/}"
      mkdir -p "${OUT}/models/${rel}"
      cp "${v}" "${OUT}/models/${rel}/"
    done
    for c in "${SRC}"/models/*/current; do
      if [ -f "${c}" ]; then cp "${c}" "${OUT}/models/${c#"${SRC}"/models/}"; fi
    done
    ;;
  edgectl)
    # edgectl carries the charts, profiles and intended policy matrix it deploys and checks
    mkdir -p "${OUT}/deploy"
    cp -R "${SRC}/deploy/helm" "${SRC}/deploy/profiles" "${SRC}/deploy/policy" "${OUT}/deploy/"
    ;;
esac
