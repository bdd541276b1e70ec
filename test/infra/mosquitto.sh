#!/usr/bin/env bash
# Runs Debian's Mosquitto as a plain daemon process (no systemd) for integration tests.
#
#   test/infra/mosquitto.sh start|stop|status|restart|kill|save|reset|config
#
#   start    generate <infra>/mosquitto/mosquitto.conf, start `mosquitto -d`, wait until the port
#            accepts connections (AIOT_TEST_MQTT_START_TIMEOUT, default 20 s). No-op if running.
#   stop     SIGTERM (Mosquitto writes its persistence snapshot on a clean exit) and wait.
#   restart  stop + start (persistent sessions and queued messages survive).
#   kill     SIGKILL: simulates a broker crash; up to one autosave interval of state is lost.
#   save     force a persistence snapshot now (SIGUSR1) and wait until it is on disk.
#   reset    stop, delete the persistence file (every session, queued and retained message),
#            start again if it was running: a broker that holds no one else's sessions.
#   status   exit 0 if running and listening, 3 if not running, 1 if running but not listening.
#   config   (re)generate the config and print its path.
#
# Env: AIOT_TEST_MQTT_PORT (default 11883; NOT 1883, which the app's embedded broker uses),
#      AIOT_TEST_MQTT_HOST (default 127.0.0.1), AIOT_TEST_MQTT_MAX_PACKET_SIZE (default 1048576),
#      AIOT_TEST_MQTT_MAX_QUEUED (max_queued_messages, default 100000),
#      AIOT_INFRA_DIR (default <repo>/.infra).
set -euo pipefail

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

MQTT_HOST="${AIOT_TEST_MQTT_HOST:-127.0.0.1}"
MQTT_PORT="${AIOT_TEST_MQTT_PORT:-11883}"
MQTT_TLS_PORT="${AIOT_TEST_MQTT_TLS_PORT:-18883}"
MQTT_MAX_PACKET_SIZE="${AIOT_TEST_MQTT_MAX_PACKET_SIZE:-1048576}"
# Queue bound per client (the overload test lowers it to make Mosquitto drop).
MQTT_MAX_QUEUED="${AIOT_TEST_MQTT_MAX_QUEUED:-100000}"
START_TIMEOUT="${AIOT_TEST_MQTT_START_TIMEOUT:-20}"
STOP_TIMEOUT="${AIOT_TEST_MQTT_STOP_TIMEOUT:-30}"

M_DIR="${AIOT_INFRA_DIR}/mosquitto"
M_CONF="${M_DIR}/mosquitto.conf"
M_DATA="${M_DIR}/data"
M_LOG="${M_DIR}/mosquitto.log"
M_PID="${M_DIR}/mosquitto.pid"
M_DYNSEC="${M_DATA}/dynamic-security.json"

mosquitto_bin() {
  if command -v mosquitto >/dev/null 2>&1; then
    command -v mosquitto
  elif [[ -x /usr/sbin/mosquitto ]]; then
    printf '%s\n' /usr/sbin/mosquitto
  else
    return 1
  fi
}

dynsec_plugin() {
  local f
  for f in /usr/lib/*/mosquitto_dynamic_security.so /usr/lib/mosquitto_dynamic_security.so /usr/local/lib/mosquitto_dynamic_security.so; do
    if [[ -f "${f}" ]]; then
      printf '%s\n' "${f}"
      return 0
    fi
  done
  return 1
}

# security_config: with security on (default), no anonymous access; identities and ACLs come
# from the dynamic-security plugin (run-time managed through \$CONTROL/dynamic-security/v1, state
# kept in the data dir); a second listener serves the same broker over TLS with the test CA.
security_config() {
  if [[ "${AIOT_TEST_SECURITY}" == "off" ]]; then
    printf '%s\n' "allow_anonymous true" "listener ${MQTT_PORT} ${MQTT_HOST}" "protocol mqtt"
    return 0
  fi
  local plugin
  plugin="$(dynsec_plugin)" || die "mosquitto: mosquitto_dynamic_security.so not found (Debian's mosquitto package ships it)"
  cat <<EOF
allow_anonymous false
plugin ${plugin}
plugin_opt_config_file ${M_DYNSEC}

listener ${MQTT_PORT} ${MQTT_HOST}
protocol mqtt

listener ${MQTT_TLS_PORT} ${MQTT_HOST}
protocol mqtt
cafile ${AIOT_PKI_DIR}/ca.crt
certfile ${AIOT_PKI_DIR}/server.crt
keyfile ${AIOT_PKI_DIR}/server.key
tls_version tlsv1.2
EOF
}

# ensure_dynsec: the plugin's state file, created once with only the admin identity (which may
# use \$CONTROL/dynamic-security/# and nothing else); every other identity and role is created
# at run time by the access step. Kept across restarts: it is the broker's user database.
ensure_dynsec() {
  [[ "${AIOT_TEST_SECURITY}" == "off" ]] && return 0
  # Kept unless it predates the aiot.admin identity (test data: start afresh).
  [[ -s "${M_DYNSEC}" ]] && grep -q '"aiot.admin"' "${M_DYNSEC}" && return 0
  mkdir -p -- "${M_DATA}"
  command -v mosquitto_ctrl >/dev/null 2>&1 || die "mosquitto: mosquitto_ctrl not found"
  (umask 077 && mosquitto_ctrl dynsec init "${M_DYNSEC}" aiot.admin "$(cat "$(ensure_secret mqtt-admin)")" >/dev/null) ||
    die "mosquitto: mosquitto_ctrl dynsec init failed"
  log "mosquitto: dynamic-security state created (${M_DYNSEC}, identity aiot.admin)"
}

running_pid() {
  local pid
  pid="$(pid_alive "${M_PID}")" || return 1
  [[ "$(cat "/proc/${pid}/comm" 2>/dev/null)" == "mosquitto" ]] || return 1
  printf '%s\n' "${pid}"
}

write_config() {
  mkdir -p -- "${M_DIR}" "${M_DATA}"
  local user_line="# not started as root: Mosquitto keeps the invoking user"
  if [[ "${EUID}" -eq 0 ]]; then
    # Started as root, Mosquitto would drop to user `mosquitto`, which may not be able to write
    # the persistence dir or even traverse the path to it (AIOT_INFRA_DIR can be anywhere).
    # Loopback-only test broker: stay root.
    user_line="user root"
  fi
  cat >"${M_CONF}.tmp" <<EOF
# Generated by test/infra/mosquitto.sh; regenerated on every start. Do not edit.
# Test broker for integration tests: loopback only, persistent; security ${AIOT_TEST_SECURITY}.
${user_line}
per_listener_settings false
$(security_config)
set_tcp_nodelay true
max_packet_size ${MQTT_MAX_PACKET_SIZE}

# Persistence is a periodic snapshot of all sessions, subscriptions, queued/in-flight and
# retained messages (not a log). The default autosave_interval is 1800 s, so a crash (SIGKILL,
# OOM) would lose up to 30 min of session state. 5 s bounds that loss to about one interval
# (the check is "more than 5 s since the last save", with 1 s resolution, so 5-6 s) at the cost
# of rewriting the whole snapshot that often, which is cheap at test volumes. A clean stop
# (SIGTERM) always writes the snapshot, so restart loses nothing.
persistence true
persistence_location ${M_DATA}/
persistence_file mosquitto.db
autosave_interval 5
autosave_on_changes false
# Sessions of clients that never come back (MQTT 3.1.1 clean=false has no expiry of its own).
persistent_client_expiration 1d

# Flow control. Outgoing QoS 1/2 messages in flight per client (default 20) bound the bridge's
# PUBACK pipeline; the client's MQTT 5 Receive Maximum bounds it too.
max_inflight_messages 1000
# Messages queued per client beyond the in-flight window, including for offline persistent
# sessions (default 1000, then silently dropped). Tests stream far more than 1000 while a
# consumer is away, so raise it. 0 = no byte limit.
max_queued_messages ${MQTT_MAX_QUEUED}
max_queued_bytes 0
queue_qos0_messages false

# \$SYS/broker/... counters (store/messages/count, publish/messages/dropped) every 2 s instead
# of 10: the fault tests read the queue depth and drops from them while Kafka is stalled.
sys_interval 2

pid_file ${M_PID}
log_dest file ${M_LOG}
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
log_timestamp true
log_timestamp_format %Y-%m-%dT%H:%M:%S
EOF
  mv -f -- "${M_CONF}.tmp" "${M_CONF}"
}

cmd_start() {
  local pid bin
  if pid="$(running_pid)"; then
    if port_open "${MQTT_HOST}" "${MQTT_PORT}"; then
      log "mosquitto: already running (pid ${pid}) on ${MQTT_HOST}:${MQTT_PORT}"
      return 0
    fi
    log "mosquitto: pid ${pid} running but not listening yet; waiting"
  else
    if ! bin="$(mosquitto_bin)"; then
      "${AIOT_INFRA_SCRIPTS}/install.sh" mosquitto
      bin="$(mosquitto_bin)" || die "mosquitto: binary not found"
    fi
    if port_open "${MQTT_HOST}" "${MQTT_PORT}"; then
      die "mosquitto: ${MQTT_HOST}:${MQTT_PORT} is already in use by another process (set AIOT_TEST_MQTT_PORT)"
    fi
    if [[ "${AIOT_TEST_SECURITY}" == "on" ]]; then
      ensure_pki
      ensure_dynsec
    fi
    write_config
    rm -f -- "${M_PID}"
    printf '%s [infra] starting mosquitto on %s:%s\n' "$(date -Is)" "${MQTT_HOST}" "${MQTT_PORT}" >>"${M_LOG}"
    # -d: daemonise; Mosquitto writes pid_file itself. Close the lock fd in the daemon.
    if ! "${bin}" -c "${M_CONF}" -d 9>&- </dev/null >>"${M_LOG}" 2>&1; then
      log_tail "${M_LOG}"
      die "mosquitto: failed to start"
    fi
  fi
  local t0 deadline
  t0="$(now_ms)"
  deadline=$(($(date +%s) + START_TIMEOUT))
  while :; do
    if pid="$(running_pid)" && port_open "${MQTT_HOST}" "${MQTT_PORT}"; then
      log "mosquitto: ready on ${MQTT_HOST}:${MQTT_PORT} (pid ${pid}, $(($(now_ms) - t0)) ms)"
      return 0
    fi
    if (($(date +%s) >= deadline)); then
      log_tail "${M_LOG}"
      die "mosquitto: not accepting connections on ${MQTT_HOST}:${MQTT_PORT} after ${START_TIMEOUT} s"
    fi
    # The daemon may have exited already (bad config, port taken): pid file stale, or never
    # written / removed again within a few seconds.
    if { [[ -s "${M_PID}" ]] || (($(now_ms) - t0 > 3000)); } && ! running_pid >/dev/null; then
      log_tail "${M_LOG}"
      die "mosquitto: process exited during start"
    fi
    sleep 0.1
  done
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "mosquitto: not running"
    rm -f -- "${M_PID}"
    return 0
  fi
  kill -TERM "${pid}"
  if ! wait_exit "${pid}" "${STOP_TIMEOUT}"; then
    log "mosquitto: pid ${pid} did not exit within ${STOP_TIMEOUT} s; sending SIGKILL"
    kill -KILL "${pid}" 2>/dev/null || true
    wait_exit "${pid}" 5 || true
    rm -f -- "${M_PID}"
    return 1
  fi
  rm -f -- "${M_PID}"
  log "mosquitto: stopped (pid ${pid})"
}

cmd_kill() {
  local pid
  if ! pid="$(running_pid)"; then
    log "mosquitto: not running"
    rm -f -- "${M_PID}"
    return 0
  fi
  kill -KILL "${pid}"
  wait_exit "${pid}" 10 || die "mosquitto: pid ${pid} survived SIGKILL"
  rm -f -- "${M_PID}"
  log "mosquitto: killed (pid ${pid})"
}

# save: force a persistence snapshot now (SIGUSR1) and wait until mosquitto.db is rewritten,
# so a test can make a following `kill` lose nothing that was accepted before the save.
cmd_save() {
  local pid db="${M_DATA}/mosquitto.db" before after deadline
  pid="$(running_pid)" || die "mosquitto: not running"
  before="$(stat -c '%Y.%y' "${db}" 2>/dev/null || echo none)"
  kill -USR1 "${pid}"
  deadline=$(($(date +%s) + 10))
  while :; do
    after="$(stat -c '%Y.%y' "${db}" 2>/dev/null || echo none)"
    if [[ "${after}" != "${before}" ]]; then
      log "mosquitto: snapshot written (${db})"
      return 0
    fi
    (($(date +%s) < deadline)) || die "mosquitto: snapshot not written within 10 s"
    sleep 0.05
  done
}

cmd_reset() {
  local was_running=0
  if running_pid >/dev/null; then
    was_running=1
  fi
  cmd_stop || true
  log "mosquitto: deleting ${M_DATA}/mosquitto.db"
  rm -f -- "${M_DATA}/mosquitto.db" "${M_DATA}/mosquitto.db.new"
  if [[ "${was_running}" -eq 1 ]]; then
    cmd_start
  fi
}

cmd_status() {
  local pid
  if ! pid="$(running_pid)"; then
    echo "mosquitto: stopped (port ${MQTT_PORT})"
    return 3
  fi
  if port_open "${MQTT_HOST}" "${MQTT_PORT}"; then
    echo "mosquitto: running pid ${pid} mqtt://${MQTT_HOST}:${MQTT_PORT} (config ${M_CONF}, log ${M_LOG})"
    return 0
  fi
  echo "mosquitto: pid ${pid} running but ${MQTT_HOST}:${MQTT_PORT} not accepting connections"
  return 1
}

main() {
  local cmd="${1:-}"
  mkdir -p -- "${M_DIR}"
  # Serialise concurrent invocations (parallel test workers calling start).
  exec 9>"${M_DIR}/.lock"
  flock -w 120 9 || die "mosquitto: could not take ${M_DIR}/.lock"
  case "${cmd}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart)
      cmd_stop
      cmd_start
      ;;
    kill) cmd_kill ;;
    save) cmd_save ;;
    reset) cmd_reset ;;
    status) cmd_status ;;
    config)
      write_config
      echo "${M_CONF}"
      ;;
    *)
      echo "usage: $0 start|stop|status|restart|kill|save|reset|config" >&2
      return 2
      ;;
  esac
}

main "$@"
