#!/usr/bin/env bash
# Builds the stack's images without Docker (buildah, vfs storage, chroot isolation) and publishes
# them to the test cluster's local registry (cluster.sh starts it). Each image is rebuilt only
# when its inputs changed; the registry keeps them across clusters.
#
#   test/infra/images.sh apps [APP...]  the apps: the Dockerfile's `runtime` stage, built by
#                                       buildah with `base` (this machine's Node runtime),
#                                       `prod-deps` (npm ci --omit=dev) and `stage`
#                                       (tools/image/stage-app.sh) given prebuilt
#   test/infra/images.sh kafka          Apache Kafka (the Maven Central jars of test/infra/kafka,
#                                       a jlink'd JRE of this machine's JDK), apache/kafka layout
#   test/infra/images.sh mosquitto      Debian's mosquitto (+ clients, dynamic-security plugin)
#   test/infra/images.sh all            everything above
#   test/infra/images.sh rootfs REF DIR [buildah config args...]
#                                       FROM scratch + DIR as one layer (cluster.sh's system images)
#   test/infra/images.sh refs           the references the charts use, one a line
#
# Image names and tags come from the charts' values (deploy/helm/aiot-platform/values.yaml:
# images.repositoryPrefix + app, tag = images.tag or the chart's appVersion; kafka.image.*,
# mosquitto.image.*). The cluster's containerd resolves docker.io (and the other public
# registries) to the local registry, so `aiot/inference:0.1.0` or `apache/kafka:4.3.1` pull from it.
set -euo pipefail

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

REGISTRY="127.0.0.1:${AIOT_REGISTRY_PORT:-15000}"
I_DIR="${AIOT_INFRA_DIR}/images"
STAMPS="${I_DIR}/stamps"
BUILDAH=(buildah --root "${I_DIR}/storage" --runroot "${I_DIR}/runroot" --storage-driver vfs)
APPS=(message-broker-bridge sensor-ingest stream-analytics inference dashboard telemetry-history sensor-simulator edgectl)
PLATFORM_VALUES="${AIOT_REPO_ROOT}/deploy/helm/aiot-platform/values.yaml"
PLATFORM_CHART="${AIOT_REPO_ROOT}/deploy/helm/aiot-platform/Chart.yaml"

[[ "${EUID}" -eq 0 ]] || die "images: must run as root (buildah chroot builds)"

# value PATH: a value of the platform chart (yaml from node_modules; dotted path).
value() {
  node -e '
const fs = require("fs"); const YAML = require(process.argv[1]);
const v = YAML.parse(fs.readFileSync(process.argv[2], "utf8"));
const c = YAML.parse(fs.readFileSync(process.argv[3], "utf8"));
const get = (o, p) => p.split(".").reduce((a, k) => (a == null ? a : a[k]), o);
const want = process.argv[4];
const out = want === "appTag" ? (get(v, "images.tag") || c.appVersion) : get(v, want);
if (out === undefined || out === null) { console.error("no value " + want); process.exit(1); }
console.log(String(out));
' "${AIOT_REPO_ROOT}/node_modules/yaml" "${PLATFORM_VALUES}" "${PLATFORM_CHART}" "$1"
}

# repo_path REF: where a reference lives in the local registry, as containerd asks the mirror for
# it: the registry host dropped, Docker Hub's official images under library/ (eclipse-mosquitto:2
# is docker.io/library/eclipse-mosquitto:2).
repo_path() {
  local ref="$1" first host=""
  first="${ref%%/*}"
  if [[ "${ref}" == */* && ( "${first}" == *.* || "${first}" == *:* || "${first}" == localhost ) ]]; then
    host="${first}"; ref="${ref#*/}"
  fi
  if [[ ( -z "${host}" || "${host}" == docker.io ) && "${ref%%:*}" != */* ]]; then
    ref="library/${ref}"
  fi
  printf '%s\n' "${ref}"
}
app_ref() { repo_path "$(value images.registry)$(value images.repositoryPrefix)$1:$(value appTag)"; }
kafka_ref() { repo_path "$(value kafka.image.repository):$(value kafka.image.tag)"; }
mosquitto_ref() { repo_path "$(value mosquitto.image.repository):$(value mosquitto.image.tag)"; }

registry_up() {
  curl -fsS --max-time 3 -o /dev/null "http://${REGISTRY}/v2/" ||
    die "images: no registry at ${REGISTRY} (start it with test/infra/cluster.sh up)"
}

in_registry() {
  local ref="$1"
  curl -fsS --max-time 5 -o /dev/null \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' \
    "http://${REGISTRY}/v2/${ref%:*}/manifests/${ref##*:}"
}

# fresh REF KEY: true when REF was published from inputs hashing to KEY and is still there.
fresh() {
  local stamp="${STAMPS}/${1//[\/:]/_}"
  [[ -f "${stamp}" && "$(cat "${stamp}")" == "$2" ]] && in_registry "$1"
}
mark() { mkdir -p -- "${STAMPS}"; printf '%s\n' "$2" >"${STAMPS}/${1//[\/:]/_}"; }

# tree_key DIR...: hash of paths, modes, sizes, link targets and contents.
tree_key() {
  local d
  for d in "$@"; do
    (cd "${d}" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum; find . -printf '%p %m %l\n' | LC_ALL=C sort)
  done | sha256sum | awk '{print $1}'
}

push() {
  local local_ref="$1" ref="$2"
  "${BUILDAH[@]}" push --quiet --tls-verify=false "${local_ref}" "docker://${REGISTRY}/${ref}" >/dev/null
  # A pod that already pulled this tag (imagePullPolicy IfNotPresent) must get the new one.
  local sock="${AIOT_INFRA_DIR}/cluster/run/containerd.sock" r
  if [[ -S "${sock}" ]]; then
    for r in "docker.io/${ref}" "registry.k8s.io/${ref}" "${REGISTRY}/${ref}"; do
      ctr --address "${sock}" -n k8s.io images rm "${r}" >/dev/null 2>&1 || true
    done
  fi
}

# copy_libs ROOTFS BINARY...: the shared libraries `ldd` lists, at the same paths.
copy_libs() {
  local root="$1"; shift
  local lib
  for lib in $(ldd "$@" 2>/dev/null | awk '/=> \//{print $3} /^\t\/lib64\//{print $1}' | sort -u); do
    mkdir -p -- "${root}$(dirname "${lib}")"
    cp -L "${lib}" "${root}${lib}"
  done
}

# busybox_root ROOTFS: /bin with Debian's static busybox and its applets (sh, cp, sed, ...), /tmp.
busybox_root() {
  local root="$1" a
  mkdir -p -- "${root}/bin" "${root}/tmp" "${root}/etc"
  chmod 1777 "${root}/tmp"
  cp /bin/busybox "${root}/bin/busybox"
  for a in $(/bin/busybox --list); do
    [[ "${a}" == busybox || -e "${root}/bin/${a}" ]] || ln -s busybox "${root}/bin/${a}"
  done
}

# ---------------------------------------------------------------------------------------- rootfs
cmd_rootfs() {
  local ref="$1" dir="$2"; shift 2
  registry_up
  local c
  c="$("${BUILDAH[@]}" from --quiet scratch)"
  "${BUILDAH[@]}" copy --quiet "${c}" "${dir}" / >/dev/null
  if [[ $# -gt 0 ]]; then "${BUILDAH[@]}" config "$@" "${c}"; fi
  "${BUILDAH[@]}" commit --quiet --format docker --rm "${c}" "localhost/${ref}" >/dev/null
  push "localhost/${ref}" "${ref}"
  log "images: ${ref} published"
}

# ------------------------------------------------------------------------------------------- apps
# The Node runtime of this machine (its binary and the libraries ldd lists, plus those of
# onnxruntime-node's native addon), busybox for /bin/sh, and the user aiot (10001).
node_base() {
  local root="${I_DIR}/rootfs/node-base" node key
  node="$(command -v node)"
  rm -rf -- "${root}"
  mkdir -p -- "${root}/usr/local/bin"
  cp -L "${node}" "${root}/usr/local/bin/node"
  copy_libs "${root}" "${node}"
  # onnxruntime-node's addon needs librt besides what node links.
  local ort
  for ort in "${I_DIR}/prod-deps/src/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"/*; do
    [[ -f "${ort}" ]] && copy_libs "${root}" "${ort}"
  done
  rm -rf -- "${root}${I_DIR}"
  busybox_root "${root}"
  printf 'root:x:0:0:root:/root:/bin/sh\naiot:x:10001:10001:aiot:/nonexistent:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"${root}/etc/passwd"
  printf 'root:x:0:\naiot:x:10001:\nnobody:x:65534:\n' >"${root}/etc/group"
  key="$(tree_key "${root}")"
  if "${BUILDAH[@]}" inspect --type image "localhost/aiot-node-base:${key:0:16}" >/dev/null 2>&1; then
    printf '%s\n' "localhost/aiot-node-base:${key:0:16}"
    return 0
  fi
  local c
  c="$("${BUILDAH[@]}" from --quiet scratch)"
  "${BUILDAH[@]}" copy --quiet "${c}" "${root}" / >/dev/null
  "${BUILDAH[@]}" config --env PATH=/usr/local/bin:/usr/bin:/bin --cmd '["node"]' "${c}"
  "${BUILDAH[@]}" commit --quiet --format docker --rm "${c}" "localhost/aiot-node-base:${key:0:16}" >/dev/null
  printf '%s\n' "localhost/aiot-node-base:${key:0:16}"
}

# Production dependencies, as the Dockerfile's prod-deps stage: npm ci --omit=dev.
prod_deps() {
  local dir="${I_DIR}/prod-deps/src" key
  key="$(cat "${AIOT_REPO_ROOT}/package.json" "${AIOT_REPO_ROOT}/package-lock.json" "${AIOT_REPO_ROOT}/.npmrc" | sha256sum | awk '{print $1}')"
  if [[ -f "${dir}/.key" && "$(cat "${dir}/.key")" == "${key}" ]]; then
    return 0
  fi
  log "images: npm ci --omit=dev (production dependencies)"
  rm -rf -- "${dir}"
  mkdir -p -- "${dir}"
  cp "${AIOT_REPO_ROOT}/package.json" "${AIOT_REPO_ROOT}/package-lock.json" "${AIOT_REPO_ROOT}/.npmrc" "${dir}/"
  (cd "${dir}" && npm ci --omit=dev --prefer-offline --no-audit --no-fund --loglevel=error >"${I_DIR}/prod-deps.log" 2>&1) ||
    { log_tail "${I_DIR}/prod-deps.log" 30; die "images: npm ci --omit=dev failed"; }
  printf '%s\n' "${key}" >"${dir}/.key"
}

cmd_apps() {
  local apps=("$@") t0
  [[ ${#apps[@]} -gt 0 ]] || apps=("${APPS[@]}")
  registry_up
  t0=$(now_ms)
  if [[ ! -f "${AIOT_REPO_ROOT}/dist/apps/${apps[0]}/src/main.js" ]]; then
    log "images: dist/ missing, npm run build"
    (cd "${AIOT_REPO_ROOT}" && npm run --silent build)
  fi
  prod_deps
  local base
  base="$(node_base)"
  local app ref stage key
  for app in "${apps[@]}"; do
    ref="$(app_ref "${app}")"
    stage="${I_DIR}/stage/${app}"
    rm -rf -- "${stage}"
    sh "${AIOT_REPO_ROOT}/tools/image/stage-app.sh" "${app}" "${AIOT_REPO_ROOT}" "${stage}/out"
    key="$( { echo "${base}"; cat "${I_DIR}/prod-deps/src/.key" "${AIOT_REPO_ROOT}/Dockerfile"; tree_key "${stage}"; } | sha256sum | awk '{print $1}')"
    if fresh "${ref}" "${key}"; then
      continue
    fi
    # The very Dockerfile; buildah's build contexts replace the stages of the same name.
    "${BUILDAH[@]}" bud --quiet --layers --isolation chroot --format docker --target runtime \
      --build-arg "APP=${app}" \
      --build-context "base=container-image://${base}" \
      --build-context "prod-deps=${I_DIR}/prod-deps" \
      --build-context "stage=${stage}" \
      -f "${AIOT_REPO_ROOT}/Dockerfile" -t "localhost/${ref}" "${AIOT_REPO_ROOT}" >"${I_DIR}/bud-${app}.log" 2>&1 ||
      { log_tail "${I_DIR}/bud-${app}.log" 30; die "images: buildah bud of ${app} failed"; }
    push "localhost/${ref}" "${ref}"
    mark "${ref}" "${key}"
    log "images: ${ref} published"
  done
  log "images: apps ready ($(( ($(now_ms) - t0) / 1000 )) s)"
}

# ------------------------------------------------------------------------------------------ kafka
# Bin scripts with the names and arguments of Kafka's distribution (the charts call them);
# the Maven Central jars carry no scripts.
write_kafka_bin() {
  local bin="$1" pair name cls
  cat >"${bin}/kafka-run-class.sh" <<'EOF'
#!/bin/bash
# kafka-run-class.sh CLASS ARGS...: the JVM with Kafka's classpath (as Kafka's own script).
base_dir="$(cd "$(dirname "$0")/.." && pwd)"
: "${KAFKA_HEAP_OPTS:=-Xmx256M}"
: "${KAFKA_JVM_PERFORMANCE_OPTS:=-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true}"
: "${KAFKA_LOG4J_OPTS:=-Dlog4j2.configurationFile=${base_dir}/config/tools-log4j2.yaml}"
: "${LOG_DIR:=/tmp/kafka-logs}"
# shellcheck disable=SC2086 # option lists
exec "${JAVA_HOME:-/opt/java/openjdk}/bin/java" ${KAFKA_HEAP_OPTS} ${KAFKA_JVM_PERFORMANCE_OPTS} ${KAFKA_LOG4J_OPTS} \
  -Dkafka.logs.dir="${LOG_DIR}" ${KAFKA_OPTS:-} -cp "${base_dir}/libs/*" "$@"
EOF
  cat >"${bin}/kafka-server-start.sh" <<'EOF'
#!/bin/bash
# kafka-server-start.sh server.properties: the broker/controller (as Kafka's own script).
if [ $# -lt 1 ]; then echo "USAGE: $0 server.properties [--override property=value]*" >&2; exit 1; fi
base_dir="$(cd "$(dirname "$0")/.." && pwd)"
: "${KAFKA_HEAP_OPTS:=-Xmx1G -Xms1G}"
: "${KAFKA_LOG4J_OPTS:=-Dlog4j2.configurationFile=${base_dir}/config/log4j2.yaml}"
export KAFKA_HEAP_OPTS KAFKA_LOG4J_OPTS
exec "${base_dir}/bin/kafka-run-class.sh" kafka.Kafka "$@"
EOF
  for pair in kafka-storage:kafka.tools.StorageTool \
    kafka-console-consumer:org.apache.kafka.tools.consumer.ConsoleConsumer \
    kafka-console-producer:org.apache.kafka.tools.ConsoleProducer \
    kafka-topics:org.apache.kafka.tools.TopicCommand \
    kafka-configs:kafka.admin.ConfigCommand \
    kafka-acls:org.apache.kafka.tools.AclCommand \
    kafka-consumer-groups:org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
    kafka-metadata-quorum:org.apache.kafka.tools.MetadataQuorumCommand \
    kafka-features:org.apache.kafka.tools.FeatureCommand \
    kafka-broker-api-versions:org.apache.kafka.tools.BrokerApiVersionsCommand; do
    name="${pair%%:*}"; cls="${pair#*:}"
    printf '#!/bin/bash\nexec "$(dirname "$0")/kafka-run-class.sh" %s "$@"\n' "${cls}" >"${bin}/${name}.sh"
  done
  chmod 0755 "${bin}"/*.sh
}

cmd_kafka() {
  registry_up
  "${AIOT_INFRA_SCRIPTS}/install.sh" kafka
  local ref root="${I_DIR}/rootfs/kafka" t0 key
  ref="$(kafka_ref)"
  t0=$(now_ms)
  key="$( { declare -f cmd_kafka write_kafka_bin copy_libs busybox_root; cat "${AIOT_INFRA_DIR}/kafka/libs/.pom.sha256"; java -version 2>&1; } | sha256sum | awk '{print $1}')"
  if fresh "${ref}" "${key}"; then
    return 0
  fi
  rm -rf -- "${root}"
  mkdir -p -- "${root}/opt/kafka/bin" "${root}/opt/kafka/config" "${root}/opt/java" "${root}/var/lib/kafka/data" \
    "${root}/etc/kafka/docker" "${root}/usr/bin"
  # A JRE of this machine's JDK with the modules Kafka and its tools use.
  jlink --add-modules java.base,java.compiler,java.desktop,java.instrument,java.logging,java.management,java.management.rmi,java.naming,java.net.http,java.rmi,java.scripting,java.security.jgss,java.security.sasl,java.sql,java.transaction.xa,java.xml,jdk.crypto.ec,jdk.jfr,jdk.management,jdk.naming.dns,jdk.net,jdk.security.auth,jdk.security.jgss,jdk.unsupported,jdk.zipfs \
    --strip-debug --no-man-pages --no-header-files --compress=2 --output "${root}/opt/java/openjdk"
  # Libraries the JRE links (headless: the X11 ones of libawt_xawt are never loaded).
  copy_libs "${root}" "${root}/opt/java/openjdk/bin/java" $(find "${root}/opt/java/openjdk/lib" -name '*.so' ! -name 'libawt_xawt.so' ! -name 'libsplashscreen.so' ! -name 'libjawt.so')
  mkdir -p -- "${root}/opt/kafka/libs"
  cp "${AIOT_INFRA_DIR}"/kafka/libs/*.jar "${root}/opt/kafka/libs/"
  write_kafka_bin "${root}/opt/kafka/bin"
  cat >"${root}/opt/kafka/config/log4j2.yaml" <<'EOF'
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout: { pattern: "[%d] %p %m (%c)%n" }
  Loggers:
    Root: { level: INFO, AppenderRef: [{ ref: STDOUT }] }
    Logger:
      - { name: kafka, level: INFO }
      - { name: org.apache.kafka, level: INFO }
      - { name: kafka.request.logger, level: WARN }
EOF
  sed -e 's/level: INFO/level: WARN/' "${root}/opt/kafka/config/log4j2.yaml" >"${root}/opt/kafka/config/tools-log4j2.yaml"
  # Default single-node KRaft configuration, as the upstream image runs without settings.
  cat >"${root}/opt/kafka/config/server.properties" <<'EOF'
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=localhost:9093
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
advertised.listeners=PLAINTEXT://localhost:9092
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=/var/lib/kafka/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
EOF
  cat >"${root}/etc/kafka/docker/run" <<'EOF'
#!/bin/bash
# Default command: format the single-node storage once (standalone controller) and start.
set -e
conf=/opt/kafka/config/server.properties
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --standalone \
  --cluster-id "${CLUSTER_ID:-$(/opt/kafka/bin/kafka-storage.sh random-uuid)}" --config "${conf}"
exec /opt/kafka/bin/kafka-server-start.sh "${conf}"
EOF
  chmod 0755 "${root}/etc/kafka/docker/run"
  # bash (the charts' scripts use it) with its libraries, busybox for the rest.
  cp /bin/bash "${root}/usr/bin/bash"
  copy_libs "${root}" /bin/bash
  busybox_root "${root}"
  ln -sfn ../usr/bin/bash "${root}/bin/bash"
  printf 'root:x:0:0:root:/root:/bin/sh\nappuser:x:1000:1000:appuser:/home/appuser:/bin/bash\naiot:x:10001:10001:aiot:/nonexistent:/sbin/nologin\n' >"${root}/etc/passwd"
  printf 'root:x:0:\nappuser:x:1000:\naiot:x:10001:\n' >"${root}/etc/group"
  cmd_rootfs "${ref}" "${root}" \
    --env JAVA_HOME=/opt/java/openjdk --env PATH=/opt/kafka/bin:/opt/java/openjdk/bin:/usr/bin:/bin \
    --user 1000:1000 --workingdir /opt/kafka --port 9092 --port 9093 --cmd '["/etc/kafka/docker/run"]' \
    --label org.opencontainers.image.title=kafka --label org.opencontainers.image.version="$(kafka_ref | sed 's/.*://')"
  mark "${ref}" "${key}"
  log "images: kafka ready ($(( ($(now_ms) - t0) / 1000 )) s)"
}

# -------------------------------------------------------------------------------------- mosquitto
cmd_mosquitto() {
  registry_up
  local ref root="${I_DIR}/rootfs/mosquitto" key bins=() b
  ref="$(mosquitto_ref)"
  for b in /usr/sbin/mosquitto /usr/bin/mosquitto_passwd /usr/bin/mosquitto_ctrl /usr/bin/mosquitto_pub /usr/bin/mosquitto_sub /usr/bin/mosquitto_rr; do
    [[ -x "${b}" ]] || die "images: ${b} missing (apt-get install mosquitto mosquitto-clients)"
    bins+=("${b}")
  done
  local plugin=/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so
  [[ -f "${plugin}" ]] || die "images: ${plugin} missing (Debian's mosquitto ships it)"
  key="$( { declare -f cmd_mosquitto copy_libs busybox_root; dpkg-query -W mosquitto mosquitto-clients libmosquitto1; } | sha256sum | awk '{print $1}')"
  if fresh "${ref}" "${key}"; then
    site_alias "${ref}"
    return 0
  fi
  rm -rf -- "${root}"
  mkdir -p -- "${root}/usr/sbin" "${root}/usr/bin" "${root}/usr/lib" "${root}/mosquitto/config" "${root}/mosquitto/data" "${root}/mosquitto/log"
  for b in "${bins[@]}"; do cp "${b}" "${root}${b}"; done
  mkdir -p -- "${root}$(dirname "${plugin}")"
  cp "${plugin}" "${root}${plugin}"
  # The upstream image's plugin path.
  ln -s "${plugin}" "${root}/usr/lib/mosquitto_dynamic_security.so"
  copy_libs "${root}" "${bins[@]}" "${plugin}"
  busybox_root "${root}"
  printf 'listener 1883\nallow_anonymous false\npersistence true\npersistence_location /mosquitto/data/\nlog_dest stdout\n' >"${root}/mosquitto/config/mosquitto.conf"
  printf 'root:x:0:0:root:/root:/bin/sh\nmosquitto:x:1883:1883:mosquitto:/var/empty:/sbin/nologin\naiot:x:10001:10001:aiot:/nonexistent:/sbin/nologin\n' >"${root}/etc/passwd"
  printf 'root:x:0:\nmosquitto:x:1883:\naiot:x:10001:\n' >"${root}/etc/group"
  cmd_rootfs "${ref}" "${root}" --env PATH=/usr/sbin:/usr/bin:/bin --user 1883:1883 --port 1883 \
    --cmd '["/usr/sbin/mosquitto", "-c", "/mosquitto/config/mosquitto.conf"]' \
    --label org.opencontainers.image.title=mosquitto \
    --label org.opencontainers.image.version="$(dpkg-query -W -f '${Version}' mosquitto)"
  mark "${ref}" "${key}"
  site_alias "${ref}"
}

# site_alias REF: a Docker Hub official image (library/NAME:TAG) also as NAME:TAG, where a site's
# own registry holds it: with `edgectl deploy --registry <host>/` the chart pulls
# <host>/eclipse-mosquitto:<tag>, and a registry named directly gets no library/ prefix.
site_alias() {
  local ref="$1"
  [[ "${ref}" == library/* ]] || return 0
  skopeo copy --quiet --src-tls-verify=false --dest-tls-verify=false \
    "docker://${REGISTRY}/${ref}" "docker://${REGISTRY}/${ref#library/}" ||
    die "images: cannot publish ${ref} as ${ref#library/}"
}

cmd_refs() {
  local a
  for a in "${APPS[@]}"; do app_ref "${a}"; done
  kafka_ref
  mosquitto_ref
}

main() {
  local cmd="${1:-all}"
  [[ $# -gt 0 ]] && shift
  mkdir -p -- "${I_DIR}"
  case "${cmd}" in
    apps) cmd_apps "$@" ;;
    kafka) cmd_kafka ;;
    mosquitto) cmd_mosquitto ;;
    all) cmd_apps; cmd_kafka; cmd_mosquitto ;;
    rootfs) cmd_rootfs "$@" ;;
    refs) cmd_refs ;;
    -h | --help) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command '${cmd}' (apps|kafka|mosquitto|all|rootfs|refs)" ;;
  esac
}

main "$@"
