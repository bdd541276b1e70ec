#!/usr/bin/env bash
# Installs the real brokers and deploy tools used by integration tests, idempotently.
#
#   test/infra/install.sh [mosquitto|kafka|postgres|tools|toxiproxy|chromium|cluster|telegraf|all]...
#                         (default: mosquitto kafka postgres)
#
#   mosquitto  Debian's mosquitto (apt), only if the `mosquitto` binary is missing.
#   postgres   Debian's postgresql (apt), only if no server is under /usr/lib/postgresql/*/bin.
#   kafka      Apache Kafka broker jars from Maven Central (test/infra/kafka/pom.xml) copied into
#              <infra>/kafka/libs; skipped when the stamp matches the pom.
#   tools      helm, kubeconform, kube-score, prom2json built with `go install` into <infra>/bin.
#   toxiproxy  toxiproxy-server and toxiproxy-cli (Shopify/toxiproxy v2.5.0, `go install`) into
#              <infra>/bin: the TCP proxy the fault tests put between clients and the brokers.
#   chromium   Debian's chromium (apt), only if /usr/bin/chromium is missing.
#   cluster    the test cluster's Debian packages and Go builds (cluster.sh install).
#   telegraf   Telegraf (mqtt_consumer → kafka only) built with `go install` into <infra>/bin: the
#              peer the bridge is benchmarked against (`npm run bench`), not used by the tests.
#   all        everything above but cluster and telegraf.
#
# <infra> is $AIOT_INFRA_DIR (default <repo>/.infra, gitignored).
# Env: AIOT_HELM_VERSION, AIOT_KUBECONFORM_VERSION, AIOT_KUBE_SCORE_VERSION, AIOT_TOXIPROXY_VERSION, GO.
set -euo pipefail

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

HELM_VERSION="${AIOT_HELM_VERSION:-v3.22.0}"
KUBECONFORM_VERSION="${AIOT_KUBECONFORM_VERSION:-v0.8.0}"
KUBE_SCORE_VERSION="${AIOT_KUBE_SCORE_VERSION:-v1.20.0}"
PROM2JSON_VERSION="${AIOT_PROM2JSON_VERSION:-v1.4.2}"
TELEGRAF_VERSION="${AIOT_TELEGRAF_VERSION:-v1.37.2}"
# Only the plugins the benchmark uses: a full Telegraf takes far longer to build.
TELEGRAF_TAGS="custom,inputs.mqtt_consumer,outputs.kafka,parsers.value,serializers.json"
TOXIPROXY_VERSION="${AIOT_TOXIPROXY_VERSION:-v2.5.0}"

SUDO=()
if [[ "${EUID}" -ne 0 ]]; then
  SUDO=(sudo)
fi

_APT_UPDATED=0
apt_install() {
  if [[ "${_APT_UPDATED}" -eq 0 ]]; then
    log "apt-get update"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    _APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

install_mosquitto() {
  # The brokers' TLS listeners use a test CA made with openssl (common.sh: ensure_pki).
  command -v openssl >/dev/null 2>&1 || apt_install openssl
  if command -v mosquitto >/dev/null 2>&1; then
    log "mosquitto: present ($(command -v mosquitto))"
    return 0
  fi
  apt_install mosquitto
  command -v mosquitto >/dev/null 2>&1 || die "mosquitto: binary still missing after apt-get install"
  # Debian's package enables a systemd unit on port 1883. No systemd here in CI, but on a
  # developer box it would collide with the app's embedded broker (1883): stop it if it runs.
  if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
    "${SUDO[@]}" systemctl disable --now mosquitto >/dev/null 2>&1 || true
  elif [[ -x /etc/init.d/mosquitto ]] && [[ -s /run/mosquitto/mosquitto.pid ]]; then
    "${SUDO[@]}" /etc/init.d/mosquitto stop >/dev/null 2>&1 || true
  fi
  log "mosquitto: installed"
}

install_postgres() {
  if compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null; then
    log "postgres: present ($(compgen -G '/usr/lib/postgresql/*/bin/postgres' | tail -n1))"
    return 0
  fi
  apt_install postgresql
  compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || die "postgres: server binaries still missing after apt-get install"
  # Debian's package creates and starts a cluster on 5432 where systemd or init scripts run;
  # the tests run their own server (test/infra/postgres.sh), so stop that one.
  if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
    "${SUDO[@]}" systemctl disable --now postgresql >/dev/null 2>&1 || true
  elif [[ -x /etc/init.d/postgresql ]]; then
    "${SUDO[@]}" /etc/init.d/postgresql stop >/dev/null 2>&1 || true
  fi
  log "postgres: installed"
}

install_chromium() {
  if [[ -x /usr/bin/chromium ]]; then
    log "chromium: present (/usr/bin/chromium)"
    return 0
  fi
  apt_install chromium
  [[ -x /usr/bin/chromium ]] || die "chromium: /usr/bin/chromium still missing after apt-get install"
  log "chromium: installed"
}

install_kafka() {
  local pom="${AIOT_INFRA_SCRIPTS}/kafka/pom.xml"
  local kdir="${AIOT_INFRA_DIR}/kafka"
  local libs="${kdir}/libs"
  local stamp="${libs}/.pom.sha256"
  local want
  want="$(sha256sum "${pom}" | awk '{print $1}')"
  if [[ -f "${stamp}" ]] && [[ "$(cat "${stamp}")" == "${want}" ]] && compgen -G "${libs}/kafka_2.13-*.jar" >/dev/null; then
    log "kafka: present ($(basename "$(compgen -G "${libs}/kafka_2.13-*.jar" | head -n1)"))"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "kafka: mvn not found (needs Maven 3 and Java 17+)"
  command -v java >/dev/null 2>&1 || die "kafka: java not found (Kafka 4 needs Java 17+)"
  log "kafka: resolving jars with Maven into ${libs}"
  local tmp="${kdir}/libs.tmp.$$"
  rm -rf -- "${tmp}"
  mkdir -p -- "${tmp}"
  if ! mvn -B -q -f "${pom}" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="${tmp}" >"${kdir}/mvn.log" 2>&1; then
    log_tail "${kdir}/mvn.log" 60
    rm -rf -- "${tmp}"
    die "kafka: mvn dependency:copy-dependencies failed (log: ${kdir}/mvn.log)"
  fi
  compgen -G "${tmp}/kafka_2.13-*.jar" >/dev/null || die "kafka: kafka_2.13 jar missing after mvn"
  printf '%s\n' "${want}" >"${tmp}/.pom.sha256"
  rm -rf -- "${libs}"
  mv -- "${tmp}" "${libs}"
  log "kafka: $(find "${libs}" -name '*.jar' | wc -l) jars in ${libs}"
}

# go_tool NAME MODULE_PKG VERSION [LDFLAGS] [TAGS]: go install into <infra>/bin unless the stamp matches.
# `go install` names the binary after the package's last path element; when NAME differs (e.g.
# toxiproxy's cmd/server), the binary is renamed to NAME.
go_tool() {
  local name="$1" pkg="$2" version="$3" ldflags="${4:-}" tags="${5:-}" go
  local bin="${AIOT_INFRA_BIN}/${name}" stamp="${AIOT_INFRA_BIN}/.${name}.version"
  local want="${pkg}@${version}${tags:+ tags=${tags}}"
  if [[ -x "${bin}" ]] && [[ -f "${stamp}" ]] && [[ "$(cat "${stamp}")" == "${want}" ]]; then
    log "${name}: present (${version})"
    return 0
  fi
  go="$(find_go)" || die "${name}: go toolchain not found (set GO=/path/to/go)"
  mkdir -p -- "${AIOT_INFRA_BIN}"
  log "${name}: go install ${pkg}@${version} (this compiles from source; minutes on 2 cores)"
  local logf="${AIOT_INFRA_BIN}/.${name}.build.log"
  if ! GOBIN="${AIOT_INFRA_BIN}" GOTOOLCHAIN=local CGO_ENABLED=0 \
    "${go}" install -trimpath ${tags:+-tags "${tags}"} -ldflags "-s -w ${ldflags}" "${pkg}@${version}" >"${logf}" 2>&1; then
    log_tail "${logf}" 20
    return 1
  fi
  local built="${AIOT_INFRA_BIN}/${pkg##*/}"
  if [[ "${built}" != "${bin}" ]]; then
    mv -f -- "${built}" "${bin}"
  fi
  printf '%s\n' "${want}" >"${stamp}"
  log "${name}: built ${bin}"
}

install_tools() {
  go_tool helm helm.sh/helm/v3/cmd/helm "${HELM_VERSION}" \
    "-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}" ||
    die "helm: go install failed (log: ${AIOT_INFRA_BIN}/.helm.build.log)"
  go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "${KUBECONFORM_VERSION}" \
    "-X main.version=${KUBECONFORM_VERSION}" ||
    die "kubeconform: go install failed (log: ${AIOT_INFRA_BIN}/.kubeconform.build.log)"
  # The security linter is kube-score: kube-linter's go.mod declares the vanity path
  # golang.stackrox.io/kube-linter, which the Go module proxy reachable here refuses (as it does
  # the GitHub path), so it cannot be built on these machines (see README).
  go_tool kube-score github.com/zegl/kube-score/cmd/kube-score "${KUBE_SCORE_VERSION}" ||
    die "kube-score: go install failed (log: ${AIOT_INFRA_BIN}/.kube-score.build.log)"
  # The Prometheus project's own text-format parser, used to check every service's /metrics.
  go_tool prom2json github.com/prometheus/prom2json/cmd/prom2json "${PROM2JSON_VERSION}" ||
    die "prom2json: go install failed (log: ${AIOT_INFRA_BIN}/.prom2json.build.log)"
}

install_telegraf() {
  go_tool telegraf github.com/influxdata/telegraf/cmd/telegraf "${TELEGRAF_VERSION}" \
    "-X github.com/influxdata/telegraf/internal.Version=${TELEGRAF_VERSION#v}" "${TELEGRAF_TAGS}" ||
    die "telegraf: go install failed (log: ${AIOT_INFRA_BIN}/.telegraf.build.log)"
}

install_toxiproxy() {
  local mod=github.com/Shopify/toxiproxy/v2
  go_tool toxiproxy-server "${mod}/cmd/server" "${TOXIPROXY_VERSION}" "-X ${mod}.Version=${TOXIPROXY_VERSION}" ||
    die "toxiproxy-server: go install failed (log: ${AIOT_INFRA_BIN}/.toxiproxy-server.build.log)"
  go_tool toxiproxy-cli "${mod}/cmd/cli" "${TOXIPROXY_VERSION}" "-X ${mod}.Version=${TOXIPROXY_VERSION}" ||
    die "toxiproxy-cli: go install failed (log: ${AIOT_INFRA_BIN}/.toxiproxy-cli.build.log)"
}

main() {
  local targets=("$@")
  if [[ ${#targets[@]} -eq 0 ]]; then
    targets=(mosquitto kafka postgres)
  fi
  local t
  for t in "${targets[@]}"; do
    case "${t}" in
      mosquitto) install_mosquitto ;;
      kafka) install_kafka ;;
      postgres) install_postgres ;;
      tools) install_tools ;;
      toxiproxy) install_toxiproxy ;;
      chromium) install_chromium ;;
      cluster) "${AIOT_INFRA_SCRIPTS}/cluster.sh" install ;;
      telegraf) install_telegraf ;;
      all)
        install_mosquitto
        install_kafka
        install_postgres
        install_tools
        install_toxiproxy
        install_chromium
        ;;
      -h | --help)
        sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        return 0
        ;;
      *) die "unknown target '${t}' (expected mosquitto|kafka|postgres|tools|toxiproxy|chromium|cluster|telegraf|all)" ;;
    esac
  done
}

main "$@"
