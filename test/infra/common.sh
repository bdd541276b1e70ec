# shellcheck shell=bash
# Shared helpers for test/infra/*.sh. Source it; do not execute it.
#
# Sets: AIOT_REPO_ROOT, AIOT_INFRA_DIR (default <repo>/.infra), AIOT_INFRA_BIN.

if [[ -n "${_AIOT_INFRA_COMMON_LOADED:-}" ]]; then
  return 0
fi
_AIOT_INFRA_COMMON_LOADED=1

AIOT_INFRA_SCRIPTS="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
AIOT_REPO_ROOT="$(cd -- "${AIOT_INFRA_SCRIPTS}/../.." && pwd -P)"
AIOT_INFRA_DIR="${AIOT_INFRA_DIR:-${AIOT_REPO_ROOT}/.infra}"
mkdir -p -- "${AIOT_INFRA_DIR}"
AIOT_INFRA_DIR="$(cd -- "${AIOT_INFRA_DIR}" && pwd -P)"
AIOT_INFRA_BIN="${AIOT_INFRA_DIR}/bin"
export AIOT_REPO_ROOT AIOT_INFRA_DIR AIOT_INFRA_BIN AIOT_INFRA_SCRIPTS

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

# find_go: the Go toolchain ($GO, go on PATH, or /usr/local/go/bin/go).
find_go() {
  if [[ -n "${GO:-}" ]]; then
    printf '%s\n' "${GO}"
  elif command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    printf '%s\n' /usr/local/go/bin/go
  else
    return 1
  fi
}

# now_ms: wall clock in milliseconds.
now_ms() { date +%s%3N; }

# port_open HOST PORT: true if a TCP connection can be made.
port_open() {
  local host="$1" port="$2"
  # shellcheck disable=SC2016 # $0 and $1 expand in the child shell
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "${host}" "${port}" 2>/dev/null
}

# pid_alive PIDFILE: prints the pid and returns 0 if the process in PIDFILE is running.
pid_alive() {
  local pidfile="$1" pid
  [[ -s "${pidfile}" ]] || return 1
  pid="$(tr -dc '0-9' <"${pidfile}")"
  [[ -n "${pid}" ]] || return 1
  if kill -0 "${pid}" 2>/dev/null; then
    # Not a zombie?
    if [[ -r "/proc/${pid}/stat" ]] && [[ "$(awk '{print $3}' "/proc/${pid}/stat")" == "Z" ]]; then
      return 1
    fi
    printf '%s\n' "${pid}"
    return 0
  fi
  return 1
}

# pid_running_as PIDFILE PATTERN: like pid_alive, and the process's command line matches PATTERN
# (grep -E), which guards against a recycled pid.
pid_running_as() {
  local pidfile="$1" pattern="$2" pid
  pid="$(pid_alive "${pidfile}")" || return 1
  # Not grep -q: it may stop reading early, and tr's SIGPIPE would fail the pipeline (pipefail).
  tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -E "${pattern}" >/dev/null || return 1
  printf '%s\n' "${pid}"
}

# wait_exit PID TIMEOUT_S: wait until PID is gone; returns 1 on timeout.
wait_exit() {
  local pid="$1" timeout_s="$2" deadline
  deadline=$(($(date +%s) + timeout_s))
  while kill -0 "${pid}" 2>/dev/null; do
    if [[ -r "/proc/${pid}/stat" ]] && [[ "$(awk '{print $3}' "/proc/${pid}/stat")" == "Z" ]]; then
      return 0
    fi
    if (($(date +%s) >= deadline)); then
      return 1
    fi
    sleep 0.2
  done
  return 0
}

# wait_port_closed HOST PORT TIMEOUT_S: wait until nothing accepts on HOST:PORT. A SIGKILLed
# multi-threaded process (a JVM) can show as a zombie while its other threads still hold the
# sockets, so "pid gone" alone does not mean the port is free yet.
wait_port_closed() {
  local host="$1" port="$2" timeout_s="$3" deadline
  deadline=$(($(date +%s) + timeout_s))
  while port_open "${host}" "${port}"; do
    (($(date +%s) < deadline)) || return 1
    sleep 0.1
  done
}

# log_tail FILE [N]: print the last N lines of FILE to stderr.
log_tail() {
  local file="$1" n="${2:-40}"
  if [[ -f "${file}" ]]; then
    printf '[infra] ---- last %s lines of %s ----\n' "${n}" "${file}" >&2
    tail -n "${n}" -- "${file}" >&2
    printf '[infra] ----\n' >&2
  fi
}

# Security of the test brokers. On by default: the integration and e2e suites run with
# authentication, ACLs and TLS the way a site does. AIOT_TEST_SECURITY=off gives anonymous,
# plain-text brokers, only for the benchmark's same-run baseline (see test/bench).
AIOT_TEST_SECURITY="${AIOT_TEST_SECURITY:-on}"
case "${AIOT_TEST_SECURITY}" in
  on | off) ;;
  *) die "AIOT_TEST_SECURITY must be on or off (got '${AIOT_TEST_SECURITY}')" ;;
esac
AIOT_PKI_DIR="${AIOT_INFRA_DIR}/pki"
AIOT_SECRETS_DIR="${AIOT_INFRA_DIR}/secrets"
export AIOT_TEST_SECURITY AIOT_PKI_DIR AIOT_SECRETS_DIR

# ensure_secret NAME: prints the path of <infra>/secrets/NAME, a random password created once and
# kept (the brokers store what was set at first start; regenerating would lock the tests out).
ensure_secret() {
  local name="$1" file
  file="${AIOT_SECRETS_DIR}/${name}"
  if [[ ! -s "${file}" ]]; then
    mkdir -p -- "${AIOT_SECRETS_DIR}"
    chmod 0700 "${AIOT_SECRETS_DIR}"
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"${file}.tmp" && mv -f -- "${file}.tmp" "${file}")
  fi
  printf '%s\n' "${file}"
}

# ensure_pki: a test CA and a server certificate for 127.0.0.1 / localhost signed by it (both
# brokers' TLS listeners), plus an unrelated CA that tests use to show an unknown CA is refused.
# Created once; EC P-256 keys (fast to make, fast handshakes), PKCS#8 keys as Kafka's PEM
# keystore needs.
ensure_pki() {
  local d="${AIOT_PKI_DIR}"
  if [[ -s "${d}/server.pem" && -s "${d}/ca.crt" && -s "${d}/rogue-ca.crt" ]]; then
    return 0
  fi
  command -v openssl >/dev/null 2>&1 || die "openssl not found (needed for the test brokers' TLS listeners)"
  mkdir -p -- "${d}"
  chmod 0700 "${d}"
  local tmp="${d}/tmp.$$"
  rm -rf -- "${tmp}"
  mkdir -p -- "${tmp}"
  (
    set -e
    cd -- "${tmp}"
    newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
    for ca in ca rogue-ca; do
      newkey "${ca}.key"
      openssl req -x509 -new -key "${ca}.key" -sha256 -days 3650 -subj "/CN=aiot test ${ca}" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -out "${ca}.crt" 2>/dev/null
    done
    newkey server.key
    openssl req -new -key server.key -subj "/CN=localhost" -out server.csr 2>/dev/null
    printf '%s\n' basicConstraints=CA:FALSE keyUsage=critical,digitalSignature,keyEncipherment \
      extendedKeyUsage=serverAuth subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1 >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 3650 \
      -extfile server.ext -out server.crt 2>/dev/null
    # Kafka's PEM keystore: PKCS#8 key followed by the certificate chain, in one file.
    openssl pkcs8 -topk8 -nocrypt -in server.key -out server.pk8
    cat server.pk8 server.crt >server.pem
    chmod 0600 ./*.key server.pk8 server.pem
    rm -f server.csr server.ext ca.srl
  ) || {
    rm -rf -- "${tmp}"
    die "could not create the test PKI in ${d}"
  }
  mv -f -- "${tmp}"/* "${d}/"
  rmdir -- "${tmp}"
  log "pki: test CA and server certificate in ${d}"
}
