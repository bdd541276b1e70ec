#!/usr/bin/env bash
# Runs toxiproxy (Shopify/toxiproxy v2.5.0, built by `install.sh toxiproxy`) as a plain process:
# a TCP proxy whose faults (latency, bandwidth, stalls, resets) the fault tests switch on and off
# through its HTTP API. Two proxies are created at start:
#
#   kafka  127.0.0.1:${AIOT_TEST_KAFKA_PROXY_PORT:-19095} → Kafka's PROXIED listener
#          127.0.0.1:${AIOT_TEST_KAFKA_PROXIED_PORT:-19094}, which advertises the proxy's address,
#          so every connection a Kafka client opens after the metadata request goes through it too.
#   mqtt   127.0.0.1:${AIOT_TEST_MQTT_PROXY_PORT:-11884} → Mosquitto 127.0.0.1:${AIOT_TEST_MQTT_PORT:-11883}
#
#   test/infra/toxiproxy.sh start|stop|status|restart|config
#
#   start    write the proxy list, start toxiproxy-server (API on 127.0.0.1:${AIOT_TEST_TOXIPROXY_PORT:-18474})
#            and wait until the API answers and both proxies exist. No-op when running.
#   stop     SIGTERM and wait.
#   status   exit 0 if running and the API answers, 3 if not running, 1 if running but not answering.
#   config   (re)write the proxy list and print its path.
set -euo pipefail

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

T_HOST=127.0.0.1
T_PORT="${AIOT_TEST_TOXIPROXY_PORT:-18474}"
KAFKA_PROXY_PORT="${AIOT_TEST_KAFKA_PROXY_PORT:-19095}"
KAFKA_PROXIED_PORT="${AIOT_TEST_KAFKA_PROXIED_PORT:-19094}"
MQTT_PROXY_PORT="${AIOT_TEST_MQTT_PROXY_PORT:-11884}"
MQTT_PORT="${AIOT_TEST_MQTT_PORT:-11883}"
START_TIMEOUT="${AIOT_TEST_TOXIPROXY_START_TIMEOUT:-20}"

T_DIR="${AIOT_INFRA_DIR}/toxiproxy"
T_CONF="${T_DIR}/proxies.json"
T_LOG="${T_DIR}/toxiproxy.log"
T_PID="${T_DIR}/toxiproxy.pid"
T_BIN="${AIOT_INFRA_BIN}/toxiproxy-server"

running_pid() {
  pid_running_as "${T_PID}" 'toxiproxy-server'
}

write_config() {
  mkdir -p -- "${T_DIR}"
  cat >"${T_CONF}.tmp" <<EOF
[
  { "name": "kafka", "listen": "${T_HOST}:${KAFKA_PROXY_PORT}", "upstream": "${T_HOST}:${KAFKA_PROXIED_PORT}", "enabled": true },
  { "name": "mqtt", "listen": "${T_HOST}:${MQTT_PROXY_PORT}", "upstream": "${T_HOST}:${MQTT_PORT}", "enabled": true }
]
EOF
  mv -f -- "${T_CONF}.tmp" "${T_CONF}"
}

api_ready() {
  local out
  out="$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"; printf "GET /proxies HTTP/1.0\r\nHost: x\r\n\r\n" >&3; cat <&3' "${T_HOST}" "${T_PORT}" 2>/dev/null)" || return 1
  [[ "${out}" == *'"kafka"'* && "${out}" == *'"mqtt"'* ]]
}

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    if api_ready; then
      log "toxiproxy: already running (pid ${pid}), API ${T_HOST}:${T_PORT}"
      return 0
    fi
  else
    [[ -x "${T_BIN}" ]] || "${AIOT_INFRA_SCRIPTS}/install.sh" toxiproxy
    local p
    for p in "${T_PORT}" "${KAFKA_PROXY_PORT}" "${MQTT_PROXY_PORT}"; do
      if port_open "${T_HOST}" "${p}"; then
        die "toxiproxy: ${T_HOST}:${p} is already in use by another process"
      fi
    done
    write_config
    rm -f -- "${T_PID}"
    printf '%s [infra] starting toxiproxy (API %s:%s)\n' "$(date -Is)" "${T_HOST}" "${T_PORT}" >>"${T_LOG}"
    # setsid: own session, so the proxy outlives this script; bash writes its pid, then execs.
    # shellcheck disable=SC2016 # $$ and $0 expand in the child shell
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "${T_PID}" \
      "${T_BIN}" -host "${T_HOST}" -port "${T_PORT}" -config "${T_CONF}" </dev/null >>"${T_LOG}" 2>&1 9>&- &
    local _
    for _ in $(seq 1 50); do
      [[ -s "${T_PID}" ]] && break
      sleep 0.05
    done
  fi
  local deadline
  deadline=$(($(date +%s) + START_TIMEOUT))
  while :; do
    if pid="$(running_pid)" && api_ready; then
      log "toxiproxy: ready (pid ${pid}), API ${T_HOST}:${T_PORT}; kafka ${T_HOST}:${KAFKA_PROXY_PORT} → ${KAFKA_PROXIED_PORT}, mqtt ${T_HOST}:${MQTT_PROXY_PORT} → ${MQTT_PORT}"
      return 0
    fi
    if ! running_pid >/dev/null; then
      log_tail "${T_LOG}"
      die "toxiproxy: process exited during start"
    fi
    if (($(date +%s) >= deadline)); then
      log_tail "${T_LOG}"
      die "toxiproxy: API not ready after ${START_TIMEOUT} s"
    fi
    sleep 0.2
  done
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "toxiproxy: not running"
    rm -f -- "${T_PID}"
    return 0
  fi
  kill -TERM "${pid}"
  if ! wait_exit "${pid}" 10; then
    kill -KILL "${pid}" 2>/dev/null || true
    wait_exit "${pid}" 5 || true
  fi
  rm -f -- "${T_PID}"
  log "toxiproxy: stopped (pid ${pid})"
}

cmd_status() {
  local pid
  if ! pid="$(running_pid)"; then
    echo "toxiproxy: stopped"
    return 3
  fi
  if api_ready; then
    echo "toxiproxy: running pid ${pid}, API ${T_HOST}:${T_PORT}, kafka proxy ${T_HOST}:${KAFKA_PROXY_PORT}, mqtt proxy ${T_HOST}:${MQTT_PROXY_PORT}"
    return 0
  fi
  echo "toxiproxy: pid ${pid} running but the API does not answer"
  return 1
}

main() {
  local cmd="${1:-}"
  mkdir -p -- "${T_DIR}"
  exec 9>"${T_DIR}/.lock"
  flock -w 60 9 || die "toxiproxy: could not take ${T_DIR}/.lock"
  case "${cmd}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart)
      cmd_stop
      cmd_start
      ;;
    status) cmd_status ;;
    config)
      write_config
      echo "${T_CONF}"
      ;;
    *)
      echo "usage: $0 start|stop|status|restart|config" >&2
      return 2
      ;;
  esac
}

main "$@"
