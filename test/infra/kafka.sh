#!/usr/bin/env bash
# Runs a single-node Apache Kafka 4 (KRaft, combined broker+controller) as a plain JVM process
# for integration tests, from the jars that `install.sh kafka` puts in <infra>/kafka/libs.
#
#   test/infra/kafka.sh start|stop|status|restart|kill|reset|probe|config|tool CLASS [ARGS...]
#
#   start    generate config, format storage once (first start / after reset), start
#            `java -cp '<libs>/*' kafka.Kafka server.properties` and wait until the port is open,
#            a metadata request (ListTopics) succeeds and the group and transaction coordinators
#            answer (AIOT_TEST_KAFKA_START_TIMEOUT, default 120 s); on timeout or early exit:
#            non-zero with the log tail. No-op if already running.
#   stop     graceful SIGTERM (controlled shutdown) and wait for exit; data is kept, so a later
#            start resumes with the same topics, offsets and committed group offsets.
#   kill     SIGKILL (crash simulation); data kept, the next start runs log recovery.
#   restart  stop + start.
#   reset    stop, wipe data, reformat; starts again if it was running.
#   status   exit 0 if running and listening, 3 if not running, 1 if running but not listening.
#   probe    exit 0 if a metadata request succeeds and the coordinators answer now.
#   config   (re)generate the config files and print the server.properties path.
#   tool     run a Kafka CLI class with the broker's classpath, e.g.
#            kafka.sh tool org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:19092 \
#              --command-config <infra>/kafka/config/admin.properties --list
#
# Security (AIOT_TEST_SECURITY, default on): SCRAM-SHA-512 over TLS for clients on the bootstrap
# port, StandardAuthorizer, allow.everyone.if.no.acl.found=false; the admin identity is created
# at format time, every other one by the access step (edgectl access apply / test setup).
# Passwords: <infra>/secrets/kafka-<name>; CA and server certificate: <infra>/pki.
#
# Env: AIOT_TEST_KAFKA_PORT (default 19092), AIOT_TEST_KAFKA_CONTROLLER_PORT (default 19093),
#      AIOT_TEST_KAFKA_PROXIED_PORT (19094) / AIOT_TEST_KAFKA_PROXY_PORT (19095): listener for
#      clients behind toxiproxy and the proxy address it advertises (same security as the
#      bootstrap port), AIOT_TEST_KAFKA_INTERNAL_PORT (default 19096, inter-broker, security on
#      only), AIOT_TEST_KAFKA_HEAP_OPTS (default "-Xms256m -Xmx768m"), AIOT_TEST_KAFKA_START_TIMEOUT (120),
#      AIOT_TEST_KAFKA_STOP_TIMEOUT (60), JAVA (java binary), AIOT_INFRA_DIR (default <repo>/.infra).
set -euo pipefail

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

K_HOST=127.0.0.1
K_PORT="${AIOT_TEST_KAFKA_PORT:-19092}"
K_CPORT="${AIOT_TEST_KAFKA_CONTROLLER_PORT:-19093}"
# A second client listener for clients that reach Kafka through a TCP proxy (toxiproxy.sh): it
# listens on K_PROXIED_PORT and advertises K_PROXY_PORT, the proxy's own port, so the broker
# address in every metadata response points back at the proxy (see README).
K_PROXIED_PORT="${AIOT_TEST_KAFKA_PROXIED_PORT:-19094}"
K_PROXY_PORT="${AIOT_TEST_KAFKA_PROXY_PORT:-19095}"
# Inter-broker listener (SASL_PLAINTEXT, loopback): the broker's own connections skip TLS.
K_IPORT="${AIOT_TEST_KAFKA_INTERNAL_PORT:-19096}"
K_HEAP="${AIOT_TEST_KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
START_TIMEOUT="${AIOT_TEST_KAFKA_START_TIMEOUT:-120}"
STOP_TIMEOUT="${AIOT_TEST_KAFKA_STOP_TIMEOUT:-60}"
JAVA_BIN="${JAVA:-java}"

K_DIR="${AIOT_INFRA_DIR}/kafka"
K_LIBS="${K_DIR}/libs"
K_CONF_DIR="${K_DIR}/config"
K_CONF="${K_CONF_DIR}/server.properties"
K_LOG4J="${K_CONF_DIR}/log4j2.properties"
K_TOOLS_LOG4J="${K_CONF_DIR}/tools-log4j2.properties"
K_PROBE_CONF="${K_CONF_DIR}/probe.properties"
K_ADMIN_CONF="${K_CONF_DIR}/admin.properties"
K_DATA="${K_DIR}/data"
K_LOGS="${K_DIR}/logs"
K_OUT="${K_LOGS}/kafka.out"
K_SERVER_LOG="${K_LOGS}/server.log"
K_PID="${K_DIR}/kafka.pid"
K_CLUSTER_ID_FILE="${K_DIR}/cluster.id"

running_pid() {
  # Guard against pid reuse: it must be our java running kafka.Kafka.
  pid_running_as "${K_PID}" 'kafka\.Kafka'
}

ensure_libs() {
  if ! compgen -G "${K_LIBS}/kafka_2.13-*.jar" >/dev/null; then
    "${AIOT_INFRA_SCRIPTS}/install.sh" kafka
  fi
  compgen -G "${K_LIBS}/kafka_2.13-*.jar" >/dev/null || die "kafka: no jars in ${K_LIBS}"
}

# The broker's listeners. Security on (default): clients use SCRAM-SHA-512 over TLS on K_PORT;
# the broker's own inter-broker connection uses SCRAM over plain TCP on loopback (K_IPORT); the
# KRaft controller listener uses SASL/PLAIN (Kafka cannot use SCRAM there: SCRAM credentials
# live in the metadata log the controller serves). StandardAuthorizer with no allow-everyone:
# only the admin and the controller identities are super users, everybody else needs ACLs.
listener_config() {
  if [[ "${AIOT_TEST_SECURITY}" == "off" ]]; then
    cat <<EOF
listeners=PLAINTEXT://${K_HOST}:${K_PORT},CONTROLLER://${K_HOST}:${K_CPORT},PROXIED://${K_HOST}:${K_PROXIED_PORT}
advertised.listeners=PLAINTEXT://${K_HOST}:${K_PORT},PROXIED://${K_HOST}:${K_PROXY_PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PROXIED:PLAINTEXT
EOF
    return 0
  fi
  local admin_pw controller_pw
  admin_pw="$(cat "$(ensure_secret kafka-admin)")"
  controller_pw="$(cat "$(ensure_secret kafka-controller)")"
  cat <<EOF
listeners=CLIENT://${K_HOST}:${K_PORT},INTERNAL://${K_HOST}:${K_IPORT},CONTROLLER://${K_HOST}:${K_CPORT},PROXIED://${K_HOST}:${K_PROXIED_PORT}
advertised.listeners=CLIENT://${K_HOST}:${K_PORT},INTERNAL://${K_HOST}:${K_IPORT},PROXIED://${K_HOST}:${K_PROXY_PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=INTERNAL
listener.security.protocol.map=CLIENT:SASL_SSL,INTERNAL:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT,PROXIED:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.internal.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="aiot.admin" password="${admin_pw}";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="aiot.controller" password="${controller_pw}" user_aiot.controller="${controller_pw}";
listener.name.client.ssl.keystore.type=PEM
listener.name.client.ssl.keystore.location=${AIOT_PKI_DIR}/server.pem
listener.name.client.ssl.client.auth=none
listener.name.proxied.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.proxied.ssl.keystore.type=PEM
listener.name.proxied.ssl.keystore.location=${AIOT_PKI_DIR}/server.pem
listener.name.proxied.ssl.client.auth=none
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:aiot.admin;User:aiot.controller
EOF
}

# client_security PRINCIPAL [internal]: client properties for the CLI tools, SASL_SSL as
# PRINCIPAL on the bootstrap port, or SASL_PLAINTEXT on the internal port (the readiness probes:
# three short JVMs per round, no TLS handshakes to pay for on a busy machine).
client_security() {
  [[ "${AIOT_TEST_SECURITY}" == "off" ]] && return 0
  local pw
  pw="$(cat "$(ensure_secret "kafka-$1")")"
  cat <<EOF
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="aiot.$1" password="${pw}";
EOF
  if [[ "${2:-}" == "internal" ]]; then
    echo "security.protocol=SASL_PLAINTEXT"
  else
    printf '%s\n' "security.protocol=SASL_SSL" "ssl.truststore.type=PEM" "ssl.truststore.location=${AIOT_PKI_DIR}/ca.crt"
  fi
}

# probe_port: where the readiness probes connect.
probe_port() {
  if [[ "${AIOT_TEST_SECURITY}" == "off" ]]; then echo "${K_PORT}"; else echo "${K_IPORT}"; fi
}

write_config() {
  mkdir -p -- "${K_CONF_DIR}" "${K_DATA}" "${K_LOGS}"
  chmod 0700 "${K_CONF_DIR}"
  local listener_block
  listener_block="$(listener_config)"
  (umask 077 && : >"${K_CONF}.tmp")
  cat >"${K_CONF}.tmp" <<EOF
# Generated by test/infra/kafka.sh; regenerated on every start. Do not edit.
# Single-node KRaft (combined broker + controller) for integration tests on loopback.
process.roles=broker,controller
node.id=1
# Static quorum of one voter: the controller endpoint is taken from this file on every start,
# so changing AIOT_TEST_KAFKA_CONTROLLER_PORT later does not require reformatting.
controller.quorum.voters=1@${K_HOST}:${K_CPORT}
# PROXIED: the same broker behind toxiproxy. A client that bootstraps through the proxy gets
# this listener's advertised address (the proxy) in its metadata, so its later connections to
# the partition leader go through the proxy too, not around it.
${listener_block}
log.dirs=${K_DATA}

# Topics are created explicitly by the code under test (partition count and keys matter).
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=1
min.insync.replicas=1

# Internal topics on one node: replication factor 1, or the group coordinator never becomes
# available and consumer groups hang (kafkajs against Kafka 4). Fewer partitions than the
# default 50 keeps the first group join / first transaction quick on 2 cores.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=10
group.initial.rebalance.delay.ms=0

# After a SIGKILL the restarted broker cannot register until the controller has expired the
# dead incarnation's session (DUPLICATE_BROKER_REGISTRATION until then); the default 9 s
# session made every start after kafka.sh kill take ~13 s. Loopback heartbeats are cheap.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000

# Small box: few threads, bounded disk use.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=24
log.segment.bytes=268435456
EOF
  mv -f -- "${K_CONF}.tmp" "${K_CONF}"

  cat >"${K_LOG4J}" <<EOF
# Generated by test/infra/kafka.sh. Broker log: ${K_SERVER_LOG}
status = warn
name = aiot-test-kafka
appender.server.type = RollingFile
appender.server.name = server
appender.server.fileName = ${K_SERVER_LOG}
appender.server.filePattern = ${K_SERVER_LOG}.%i
appender.server.layout.type = PatternLayout
appender.server.layout.pattern = [%d] %p %m (%c)%n
appender.server.policies.type = Policies
appender.server.policies.size.type = SizeBasedTriggeringPolicy
appender.server.policies.size.size = 20MB
appender.server.strategy.type = DefaultRolloverStrategy
appender.server.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.server.ref = server
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
EOF

  cat >"${K_TOOLS_LOG4J}" <<'EOF'
# Generated by test/infra/kafka.sh: CLI tools log warnings to stderr only.
status = warn
name = aiot-test-kafka-tools
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = stderr
EOF

  (umask 077 && : >"${K_PROBE_CONF}")
  cat >"${K_PROBE_CONF}" <<EOF
# Admin client settings for the readiness probe: fail fast, the caller retries.
request.timeout.ms=10000
default.api.timeout.ms=20000
retry.backoff.ms=200
$(client_security admin internal)
EOF
  # The same identity for `kafka.sh tool ... --command-config <this file>`.
  (umask 077 && : >"${K_ADMIN_CONF}")
  client_security admin >"${K_ADMIN_CONF}"
}

# run_tool CLASS ARGS...: a short-lived JVM with the broker's classpath.
run_tool() {
  local cls="$1"
  shift
  "${JAVA_BIN}" -Xmx192m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="${K_TOOLS_LOG4J}" -cp "${K_LIBS}/*" "${cls}" "$@"
}

# probe: one metadata request (ListTopics).
probe() {
  timeout 45 "${JAVA_BIN}" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="${K_TOOLS_LOG4J}" -cp "${K_LIBS}/*" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "${K_HOST}:$(probe_port)" \
    --command-config "${K_PROBE_CONF}" --list >/dev/null 2>&1
}

# coordinators_ready: the group and transaction coordinators answer. On a fresh cluster the
# first FindCoordinator creates __consumer_offsets / __transaction_state, and after every start
# their partitions are loaded; until then clients get COORDINATOR_NOT_AVAILABLE or
# COORDINATOR_LOAD_IN_PROGRESS (kafkajs retries, but logs errors and a group join is slower).
# "group/transactional id not found" is the coordinator's answer, hence ready. Both in parallel.
coordinators_ready() {
  local g="${K_LOGS}/probe-group.out" t="${K_LOGS}/probe-txn.out" rc=0
  run_tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
    --bootstrap-server "${K_HOST}:$(probe_port)" --command-config "${K_PROBE_CONF}" \
    --describe --group aiot-infra-probe >"${g}" 2>&1 &
  local gpid=$!
  run_tool org.apache.kafka.tools.TransactionsCommand \
    --bootstrap-server "${K_HOST}:$(probe_port)" --command-config "${K_PROBE_CONF}" \
    describe --transactional-id aiot-infra-probe >"${t}" 2>&1 &
  local tpid=$!
  wait "${gpid}" || true
  wait "${tpid}" || true
  grep -qE 'GroupIdNotFoundException|does not exist' "${g}" || rc=1
  grep -qE 'could not be found|TransactionalIdNotFound' "${t}" || rc=1
  return "${rc}"
}

cluster_id() {
  if [[ -s "${K_CLUSTER_ID_FILE}" ]]; then
    cat "${K_CLUSTER_ID_FILE}"
    return 0
  fi
  local id=""
  # A Kafka cluster id is a base64url UUID (16 random bytes, 22 chars); one starting with '-'
  # would be read as a CLI option, so draw again.
  while [[ -z "${id}" || "${id}" == -* ]]; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  done
  printf '%s\n' "${id}" >"${K_CLUSTER_ID_FILE}"
  printf '%s\n' "${id}"
}

# What a data dir was formatted for: the security mode and the bootstrap identity.
security_marker() {
  if [[ "${AIOT_TEST_SECURITY}" == "on" ]]; then echo "on aiot.admin"; else echo off; fi
}

format_storage() {
  local marker="${K_DATA}/.aiot-security"
  if [[ -f "${K_DATA}/meta.properties" ]]; then
    if [[ "$(cat "${marker}" 2>/dev/null || echo off)" == "$(security_marker)" ]]; then
      return 0
    fi
    # Formatted for the other mode (e.g. before the brokers had security): the admin identity
    # would be missing. Test data only: start afresh.
    log "kafka: ${K_DATA} was formatted with security $(cat "${marker}" 2>/dev/null || echo off); reformatting"
    rm -rf -- "${K_DATA}" "${K_CLUSTER_ID_FILE}"
    mkdir -p -- "${K_DATA}"
  fi
  local id
  id="$(cluster_id)"
  log "kafka: formatting ${K_DATA} (cluster id ${id})"
  local -a scram=()
  if [[ "${AIOT_TEST_SECURITY}" == "on" ]]; then
    # KRaft keeps SCRAM credentials in the metadata log, so the first identity (the admin, a
    # super user that creates every other one at run time) is written at format time.
    scram=(--add-scram "SCRAM-SHA-512=[name=aiot.admin,password=$(cat "$(ensure_secret kafka-admin)")]")
  fi
  if ! run_tool kafka.tools.StorageTool format -t "${id}" -c "${K_CONF}" "${scram[@]}" >>"${K_OUT}" 2>&1; then
    log_tail "${K_OUT}"
    die "kafka: storage format failed"
  fi
  security_marker >"${marker}"
}

tail_logs() {
  log_tail "${K_OUT}" 20
  log_tail "${K_SERVER_LOG}" 40
}

wait_ready() {
  local pid="$1" t0="$2" deadline
  deadline=$(($(date +%s) + START_TIMEOUT))
  while :; do
    if ! kill -0 "${pid}" 2>/dev/null; then
      tail_logs
      die "kafka: process ${pid} exited during start"
    fi
    if port_open "${K_HOST}" "${K_PORT}" && probe && coordinators_ready; then
      log "kafka: ready on ${K_HOST}:${K_PORT} (pid ${pid}, $(($(now_ms) - t0)) ms since launch)"
      return 0
    fi
    if (($(date +%s) >= deadline)); then
      tail_logs
      die "kafka: not ready after ${START_TIMEOUT} s (pid ${pid} left running; see ${K_LOGS})"
    fi
    sleep 0.5
  done
}

cmd_start() {
  local pid t0
  if pid="$(running_pid)"; then
    if port_open "${K_HOST}" "${K_PORT}" && probe; then
      log "kafka: already running (pid ${pid}) on ${K_HOST}:${K_PORT}"
      return 0
    fi
    log "kafka: pid ${pid} running but not ready yet; waiting"
    wait_ready "${pid}" "$(now_ms)"
    return 0
  fi
  ensure_libs
  local p
  local -a ports=("${K_PORT}" "${K_CPORT}" "${K_PROXIED_PORT}")
  [[ "${AIOT_TEST_SECURITY}" == "off" ]] || ports+=("${K_IPORT}")
  for p in "${ports[@]}"; do
    if port_open "${K_HOST}" "${p}"; then
      die "kafka: ${K_HOST}:${p} is already in use by another process (set AIOT_TEST_KAFKA_PORT / _CONTROLLER_PORT / _PROXIED_PORT / _INTERNAL_PORT)"
    fi
  done
  [[ "${AIOT_TEST_SECURITY}" == "off" ]] || ensure_pki
  write_config
  format_storage
  rm -f -- "${K_PID}"
  printf '%s [infra] starting kafka on %s:%s (controller %s)\n' "$(date -Is)" "${K_HOST}" "${K_PORT}" "${K_CPORT}" >>"${K_OUT}"
  t0="$(now_ms)"
  local -a heap
  read -r -a heap <<<"${K_HEAP}"
  # setsid: own session, so the broker outlives this script and is not hit by signals sent to
  # the caller's process group. bash -c writes its own pid, then execs java (same pid).
  # shellcheck disable=SC2016 # $$ and $0 expand in the child shell
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "${K_PID}" \
    "${JAVA_BIN}" "${heap[@]}" -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="${K_LOG4J}" -Dkafka.logs.dir="${K_LOGS}" \
    -cp "${K_LIBS}/*" kafka.Kafka "${K_CONF}" \
    </dev/null >>"${K_OUT}" 2>&1 9>&- &
  local _
  for _ in $(seq 1 50); do
    [[ -s "${K_PID}" ]] && break
    sleep 0.05
  done
  pid="$(tr -dc '0-9' <"${K_PID}" 2>/dev/null || true)"
  [[ -n "${pid}" ]] || die "kafka: launcher did not write ${K_PID}"
  wait_ready "${pid}" "${t0}"
}

wait_ports_closed() {
  local p
  for p in "${K_PORT}" "${K_CPORT}" "${K_PROXIED_PORT}" "${K_IPORT}"; do
    wait_port_closed "${K_HOST}" "${p}" 15 || log "kafka: ${K_HOST}:${p} still accepting connections"
  done
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "kafka: not running"
    rm -f -- "${K_PID}"
    return 0
  fi
  local t0
  t0="$(now_ms)"
  kill -TERM "${pid}"
  if ! wait_exit "${pid}" "${STOP_TIMEOUT}"; then
    log "kafka: pid ${pid} did not exit within ${STOP_TIMEOUT} s after SIGTERM; sending SIGKILL"
    kill -KILL "${pid}" 2>/dev/null || true
    wait_exit "${pid}" 10 || true
    wait_ports_closed
    rm -f -- "${K_PID}"
    return 1
  fi
  wait_ports_closed
  rm -f -- "${K_PID}"
  log "kafka: stopped (pid ${pid}, $(($(now_ms) - t0)) ms)"
}

cmd_kill() {
  local pid
  if ! pid="$(running_pid)"; then
    log "kafka: not running"
    rm -f -- "${K_PID}"
    return 0
  fi
  kill -KILL "${pid}"
  wait_exit "${pid}" 10 || die "kafka: pid ${pid} survived SIGKILL"
  wait_ports_closed
  rm -f -- "${K_PID}"
  log "kafka: killed (pid ${pid})"
}

cmd_reset() {
  local was_running=0
  if running_pid >/dev/null; then
    was_running=1
  fi
  cmd_stop || true
  log "kafka: wiping ${K_DATA}"
  rm -rf -- "${K_DATA}" "${K_CLUSTER_ID_FILE}"
  ensure_libs
  [[ "${AIOT_TEST_SECURITY}" == "off" ]] || ensure_pki
  write_config
  format_storage
  if [[ "${was_running}" -eq 1 ]]; then
    cmd_start
  fi
}

cmd_status() {
  local pid
  if ! pid="$(running_pid)"; then
    echo "kafka: stopped (port ${K_PORT})"
    return 3
  fi
  if port_open "${K_HOST}" "${K_PORT}"; then
    echo "kafka: running pid ${pid} bootstrap ${K_HOST}:${K_PORT} controller ${K_HOST}:${K_CPORT} (logs ${K_LOGS})"
    return 0
  fi
  echo "kafka: pid ${pid} running but ${K_HOST}:${K_PORT} not accepting connections"
  return 1
}

main() {
  local cmd="${1:-}"
  mkdir -p -- "${K_DIR}"
  if [[ "${cmd}" == "tool" ]]; then
    shift
    [[ $# -ge 1 ]] || die "usage: $0 tool CLASS [ARGS...]"
    ensure_libs
    [[ -f "${K_TOOLS_LOG4J}" ]] || write_config
    run_tool "$@"
    return
  fi
  # Serialise concurrent invocations (parallel test workers calling start).
  exec 9>"${K_DIR}/.lock"
  flock -w 180 9 || die "kafka: could not take ${K_DIR}/.lock"
  case "${cmd}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart)
      cmd_stop
      cmd_start
      ;;
    kill) cmd_kill ;;
    reset) cmd_reset ;;
    status) cmd_status ;;
    probe)
      [[ -f "${K_PROBE_CONF}" ]] || write_config
      probe && coordinators_ready
      ;;
    config)
      write_config
      echo "${K_CONF}"
      ;;
    *)
      echo "usage: $0 start|stop|status|restart|kill|reset|probe|config|tool CLASS [ARGS...]" >&2
      return 2
      ;;
  esac
}

main "$@"
