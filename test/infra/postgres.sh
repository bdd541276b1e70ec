#!/usr/bin/env bash
# Runs Debian's PostgreSQL server as a plain process (no systemd, no cluster wrappers) for the
# history store's integration tests: initdb into <infra>/postgres/data once, then pg_ctl on a
# loopback port.
#
#   test/infra/postgres.sh start|stop|status|restart|kill|reset|psql [ARGS...]|bin NAME
#
#   start    initdb on first use (superuser `postgres`, password in <infra>/postgres/password,
#            scram-sha-256 on 127.0.0.1 only, no Unix socket), start `postgres` through pg_ctl
#            and wait until it accepts connections (AIOT_TEST_PG_START_TIMEOUT, default 60 s).
#            No-op if running.
#   stop     fast shutdown (SIGINT: open transactions roll back, a clean checkpoint is written),
#            wait for the postmaster's pid to exit; data kept.
#   kill     SIGKILL of the postmaster (crash): the next start runs WAL recovery.
#   restart  stop + start.
#   reset    stop, delete the data directory (the next start runs initdb again).
#   status   exit 0 if running and accepting connections, 3 if not running, 1 if not accepting.
#   psql     psql as the superuser against the test server, e.g. postgres.sh psql -c 'select 1'.
#   bin      print the path of a server binary (pg_dump, pg_restore, …) of the version in use.
#
# initdb and postgres refuse to run as root; as root every server command runs as the `postgres`
# user that Debian's package creates (the data directory belongs to it).
#
# Env: AIOT_TEST_PG_PORT (default 15432), AIOT_TEST_PG_START_TIMEOUT (60),
#      AIOT_TEST_PG_STOP_TIMEOUT (60), AIOT_INFRA_DIR (default <repo>/.infra).
set -euo pipefail

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

PG_HOST=127.0.0.1
PG_PORT="${AIOT_TEST_PG_PORT:-15432}"
START_TIMEOUT="${AIOT_TEST_PG_START_TIMEOUT:-60}"
STOP_TIMEOUT="${AIOT_TEST_PG_STOP_TIMEOUT:-60}"

P_DIR="${AIOT_INFRA_DIR}/postgres"
P_DATA="${P_DIR}/data"
P_LOG="${P_DIR}/postgres.log"
P_PASSWORD_FILE="${P_DIR}/password"

# pg_bindir: the newest server installed under /usr/lib/postgresql/<major>/bin (Debian's layout,
# several majors can be installed side by side), else whatever `pg_ctl` is on PATH.
pg_bindir() {
  local d best=""
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "${d}/pg_ctl" ]] || continue
    if [[ -z "${best}" ]] || (($(basename "$(dirname "${d}")") > $(basename "$(dirname "${best}")"))); then
      best="${d}"
    fi
  done
  if [[ -n "${best}" ]]; then
    printf '%s\n' "${best}"
  elif command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
  else
    return 1
  fi
}

# as_owner CMD...: run a server command as the data directory's owner (postgres when we are root).
as_owner() {
  if [[ "${EUID}" -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

BIN=""
need_bin() {
  if [[ -z "${BIN}" ]]; then
    if ! BIN="$(pg_bindir)"; then
      "${AIOT_INFRA_SCRIPTS}/install.sh" postgres
      BIN="$(pg_bindir)" || die "postgres: no server binaries found (/usr/lib/postgresql/*/bin)"
    fi
  fi
}

# The postmaster's pid is the first line of postmaster.pid; guard against pid reuse.
running_pid() {
  local pid
  [[ -s "${P_DATA}/postmaster.pid" ]] || return 1
  pid="$(head -n1 "${P_DATA}/postmaster.pid" | tr -dc '0-9')"
  [[ -n "${pid}" ]] || return 1
  kill -0 "${pid}" 2>/dev/null || return 1
  # A killed postmaster whose parent does not reap it stays a zombie: not running.
  [[ "$(awk '{print $3}' "/proc/${pid}/stat" 2>/dev/null)" != "Z" ]] || return 1
  [[ "$(cat "/proc/${pid}/comm" 2>/dev/null)" == postgres* ]] || return 1
  printf '%s\n' "${pid}"
}

accepting() {
  "${BIN}/pg_isready" -q -h "${PG_HOST}" -p "${PG_PORT}" -t 2 >/dev/null 2>&1
}

init_cluster() {
  [[ -s "${P_DATA}/PG_VERSION" ]] && return 0
  mkdir -p -- "${P_DIR}"
  if [[ ! -s "${P_PASSWORD_FILE}" ]]; then
    head -c 18 /dev/urandom | base64 | tr -d '/+=\n' >"${P_PASSWORD_FILE}"
  fi
  rm -rf -- "${P_DATA}"
  mkdir -p -- "${P_DATA}"
  if [[ "${EUID}" -eq 0 ]]; then
    getent passwd postgres >/dev/null || die "postgres: user 'postgres' missing (Debian's postgresql package creates it)"
    chown postgres: "${P_DIR}" "${P_DATA}"
    chmod 0700 "${P_DATA}"
    # The server user must reach the data directory: every parent needs o+x.
    runuser -u postgres -- test -w "${P_DATA}" ||
      die "postgres: user 'postgres' cannot reach ${P_DATA} (a parent directory lacks o+x); set AIOT_INFRA_DIR to a reachable path"
  fi
  local pwfile="${P_DIR}/.pwfile"
  install -m 0600 "${P_PASSWORD_FILE}" "${pwfile}"
  [[ "${EUID}" -eq 0 ]] && chown postgres: "${pwfile}"
  log "postgres: initdb ${P_DATA}"
  if ! as_owner "${BIN}/initdb" -D "${P_DATA}" -U postgres --pwfile="${pwfile}" --auth-host=scram-sha-256 \
    --auth-local=reject -E UTF8 --locale=C.UTF-8 >"${P_DIR}/initdb.log" 2>&1; then
    rm -f -- "${pwfile}"
    log_tail "${P_DIR}/initdb.log"
    die "postgres: initdb failed"
  fi
  rm -f -- "${pwfile}"
  cat >>"${P_DATA}/postgresql.conf" <<EOF

# --- test/infra/postgres.sh: loopback test server ---
listen_addresses = '${PG_HOST}'
port = ${PG_PORT}
# TCP only: a Unix socket path under a deep checkout can exceed the 107-byte limit.
unix_socket_directories = ''
max_connections = 100
# Small shared machine: modest memory, and the integration tests do not need crash-safe
# fsyncs to prove anything about the store (the server's own recovery is PostgreSQL's business).
shared_buffers = 256MB
work_mem = 16MB
maintenance_work_mem = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 2GB
log_min_messages = warning
log_min_error_statement = error
log_line_prefix = '%m [%p] %u@%d '
EOF
}

cmd_start() {
  local pid t0 deadline
  need_bin
  if pid="$(running_pid)"; then
    if accepting; then
      log "postgres: already running (pid ${pid}) on ${PG_HOST}:${PG_PORT}"
      return 0
    fi
  else
    init_cluster
    if port_open "${PG_HOST}" "${PG_PORT}"; then
      die "postgres: ${PG_HOST}:${PG_PORT} is already in use by another process (set AIOT_TEST_PG_PORT)"
    fi
    # The port is set on the command line too, so AIOT_TEST_PG_PORT can change after initdb.
    [[ "${EUID}" -eq 0 ]] && touch "${P_LOG}" && chown postgres: "${P_LOG}"
    # A postmaster.pid left by a crash names a dead pid here (running_pid said so): remove it, so
    # pg_ctl does not wait on the stale file.
    rm -f -- "${P_DATA}/postmaster.pid"
    if ! as_owner "${BIN}/pg_ctl" -D "${P_DATA}" -l "${P_LOG}" -o "-p ${PG_PORT} -c listen_addresses=${PG_HOST}" -w -t "${START_TIMEOUT}" start 9>&- </dev/null >"${P_DIR}/pg_ctl.out" 2>&1; then
      log_tail "${P_DIR}/pg_ctl.out"
      log_tail "${P_LOG}"
      die "postgres: pg_ctl start failed"
    fi
  fi
  t0="$(now_ms)"
  deadline=$(($(date +%s) + START_TIMEOUT))
  until accepting; do
    if ! running_pid >/dev/null; then
      log_tail "${P_LOG}"
      die "postgres: process exited during start"
    fi
    if (($(date +%s) >= deadline)); then
      log_tail "${P_LOG}"
      die "postgres: not accepting connections on ${PG_HOST}:${PG_PORT} after ${START_TIMEOUT} s"
    fi
    sleep 0.2
  done
  log "postgres: ready on ${PG_HOST}:${PG_PORT} (pid $(running_pid), $(($(now_ms) - t0)) ms) $("${BIN}/postgres" --version)"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "postgres: not running"
    return 0
  fi
  kill -INT "${pid}"
  if ! wait_exit "${pid}" "${STOP_TIMEOUT}"; then
    log "postgres: pid ${pid} did not exit within ${STOP_TIMEOUT} s; sending SIGQUIT"
    kill -QUIT "${pid}" 2>/dev/null || true
    wait_exit "${pid}" 10 || true
    return 1
  fi
  log "postgres: stopped (pid ${pid})"
}

cmd_kill() {
  local pid
  if ! pid="$(running_pid)"; then
    log "postgres: not running"
    return 0
  fi
  kill -KILL "${pid}"
  wait_exit "${pid}" 10 || die "postgres: pid ${pid} survived SIGKILL"
  # Orphaned backends exit on their own once they notice the postmaster is gone; until then they
  # hold the shared memory and a new postmaster refuses to start. Their working directory is the
  # data directory.
  local deadline=$(($(date +%s) + 20)) data
  data="$(cd -- "${P_DATA}" && pwd -P)"
  while [[ -n "$(find /proc/[0-9]*/cwd -maxdepth 0 -lname "${data}" 2>/dev/null | head -n1)" ]]; do
    (($(date +%s) < deadline)) || die "postgres: backends of the killed server still running after 20 s"
    sleep 0.1
  done
  log "postgres: killed (pid ${pid})"
}

cmd_status() {
  need_bin
  running_pid >/dev/null || return 3
  accepting || return 1
}

main() {
  local cmd="${1:-}"
  mkdir -p -- "${P_DIR}"
  case "${cmd}" in
    psql)
      shift
      need_bin
      PGPASSWORD="$(cat "${P_PASSWORD_FILE}")" exec "${BIN}/psql" -X -v ON_ERROR_STOP=1 -h "${PG_HOST}" -p "${PG_PORT}" -U postgres "$@"
      ;;
    bin)
      [[ $# -eq 2 ]] || die "usage: $0 bin NAME"
      need_bin
      [[ -x "${BIN}/$2" ]] || die "postgres: ${BIN}/$2 not found"
      printf '%s\n' "${BIN}/$2"
      return 0
      ;;
  esac
  # Serialise concurrent invocations (parallel test workers calling start).
  exec 9>"${P_DIR}/.lock"
  flock -w 180 9 || die "postgres: could not take ${P_DIR}/.lock"
  case "${cmd}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart)
      cmd_stop
      cmd_start
      ;;
    kill) cmd_kill ;;
    reset)
      cmd_stop
      log "postgres: deleting ${P_DATA}"
      rm -rf -- "${P_DATA}"
      ;;
    status) cmd_status ;;
    *)
      echo "usage: $0 start|stop|status|restart|kill|reset|psql [ARGS...]|bin NAME" >&2
      return 2
      ;;
  esac
}

main "$@"
