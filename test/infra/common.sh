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
  tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -qE "${pattern}" || return 1
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
