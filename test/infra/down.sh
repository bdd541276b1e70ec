#!/usr/bin/env bash
# Stops the test brokers gracefully (data kept).
#
#   test/infra/down.sh          stop mosquitto, kafka and postgres
#   test/infra/down.sh --purge  stop them and delete their data (sessions, topics, offsets, databases)
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
"${AIOT_INFRA_SCRIPTS}/kafka.sh" stop || rc=1
"${AIOT_INFRA_SCRIPTS}/mosquitto.sh" stop || rc=1
if [[ "${purge}" -eq 1 ]]; then
"${AIOT_INFRA_SCRIPTS}/postgres.sh" reset || rc=1
  log "purging ${AIOT_INFRA_DIR}/mosquitto/data and ${AIOT_INFRA_DIR}/kafka/data"
  rm -rf -- "${AIOT_INFRA_DIR}/mosquitto/data" "${AIOT_INFRA_DIR}/kafka/data" "${AIOT_INFRA_DIR}/kafka/cluster.id"
fi
exit "${rc}"
