#!/usr/bin/env bash
# Installs (if needed) and starts the test brokers, then prints their endpoints on stdout as
# KEY=VALUE lines (logs go to stderr), so a caller can: eval "$(test/infra/up.sh)".
#
#   test/infra/up.sh            mosquitto + kafka + postgres
#   test/infra/up.sh mosquitto  only some of them (mosquitto, kafka, postgres, toxiproxy)
#   test/infra/up.sh mosquitto kafka toxiproxy   the brokers plus the fault proxy (toxiproxy.sh)
#
# Env: see mosquitto.sh, kafka.sh and postgres.sh (AIOT_TEST_MQTT_PORT, AIOT_TEST_KAFKA_PORT,
# AIOT_TEST_PG_PORT, ...).
set -euo pipefail

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

services=("$@")
if [[ ${#services[@]} -eq 0 ]]; then
  services=(mosquitto kafka postgres)
fi
for s in "${services[@]}"; do
  case "${s}" in
    mosquitto | kafka | postgres | toxiproxy) ;;
    *) die "unknown service '${s}' (expected mosquitto|kafka|postgres|toxiproxy)" ;;
  esac
done

"${AIOT_INFRA_SCRIPTS}/install.sh" "${services[@]}"
for s in "${services[@]}"; do
  "${AIOT_INFRA_SCRIPTS}/${s}.sh" start
done

for s in "${services[@]}"; do
  case "${s}" in
    mosquitto)
      echo "AIOT_TEST_MQTT_URL=mqtt://${AIOT_TEST_MQTT_HOST:-127.0.0.1}:${AIOT_TEST_MQTT_PORT:-11883}"
      ;;
    kafka)
      echo "AIOT_TEST_KAFKA_BROKERS=127.0.0.1:${AIOT_TEST_KAFKA_PORT:-19092}"
      ;;
    postgres)
      echo "AIOT_TEST_PG_URL=postgres://postgres:$(cat "${AIOT_INFRA_DIR}/postgres/password")@127.0.0.1:${AIOT_TEST_PG_PORT:-15432}/postgres"
      ;;
    toxiproxy)
      echo "AIOT_TEST_TOXIPROXY_URL=http://127.0.0.1:${AIOT_TEST_TOXIPROXY_PORT:-18474}"
      echo "AIOT_TEST_KAFKA_PROXY_BROKERS=127.0.0.1:${AIOT_TEST_KAFKA_PROXY_PORT:-19095}"
      echo "AIOT_TEST_MQTT_PROXY_URL=mqtt://127.0.0.1:${AIOT_TEST_MQTT_PROXY_PORT:-11884}"
      ;;
  esac
done
