#!/usr/bin/env bash
# Stops the test brokers gracefully (data kept) and the test cluster, if one runs (cluster.sh down:
# its state is removed, its builds and registry images are kept).
#
#   test/infra/down.sh          stop mosquitto, kafka, postgres, toxiproxy (when running) and the cluster
#   test/infra/down.sh --purge  also delete the brokers' data (sessions, topics, offsets, databases)
set -euo pipefail

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

purge=0
case "${1:-}" in
  "") ;;
  --purge) purge=1 ;;
  *) die "usage: $0 [--purge]" ;;
esac

rc=0
"${AIOT_INFRA_SCRIPTS}/postgres.sh" stop || rc=1
"${AIOT_INFRA_SCRIPTS}/toxiproxy.sh" stop || rc=1
"${AIOT_INFRA_SCRIPTS}/kafka.sh" stop || rc=1
"${AIOT_INFRA_SCRIPTS}/mosquitto.sh" stop || rc=1
if [[ -d "${AIOT_INFRA_DIR}/cluster" ]]; then
  "${AIOT_INFRA_SCRIPTS}/cluster.sh" down || rc=1
fi
if [[ "${purge}" -eq 1 ]]; then
  "${AIOT_INFRA_SCRIPTS}/postgres.sh" reset || rc=1
  log "purging ${AIOT_INFRA_DIR}/mosquitto/data and ${AIOT_INFRA_DIR}/kafka/data"
  rm -rf -- "${AIOT_INFRA_DIR}/mosquitto/data" "${AIOT_INFRA_DIR}/kafka/data" "${AIOT_INFRA_DIR}/kafka/cluster.id"
fi
exit "${rc}"
