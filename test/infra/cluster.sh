#!/usr/bin/env bash
# A real single-node Kubernetes for the tests, shaped like a K3s node, as plain processes.
#
#   test/infra/cluster.sh install   Debian packages + the Go builds (cached by version and inputs)
#   test/infra/cluster.sh up        install, start, publish the system images, apply the add-ons,
#                                   wait until the node is Ready and CoreDNS answers (idempotent)
#   test/infra/cluster.sh status    exit 0 when every daemon runs and the node is Ready
#   test/infra/cluster.sh down      stop everything by pid and remove what `up` created (mounts,
#                                   iptables chains and ipsets, the CNI bridge, pod netns, cgroups,
#                                   /var/log/containers links, sysctls); cluster state is deleted,
#                                   builds and the registry's images are kept
#   test/infra/cluster.sh env       KUBECONFIG=..., AIOT_REGISTRY=... lines for `eval`
#   test/infra/cluster.sh kubectl … kubectl with the cluster's admin kubeconfig
#
# What runs (root network namespace; must run as root):
#   etcd (Debian) · kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy,
#   kubectl (v1.34.4, one multi-call binary from the Go module in test/infra/kube) · containerd +
#   runc + CNI bridge (Debian) · docker-registry (Debian) that every image reference resolves to ·
#   CoreDNS (pod in kube-system, test/infra/coredns) · local-path-provisioner (K3s's, StorageClass
#   `local-path`, default) · kube-router in firewall-only mode (NetworkPolicy enforcement).
# Everything lives in <infra>/cluster (state, logs, pids); builds in <infra>/kube; the registry's
# storage in <infra>/registry. See test/infra/README.md ("Kubernetes cluster").
set -Eeuo pipefail
# A command that fails under set -e says where, instead of ending the script without a word.
trap 'echo "[infra] cluster.sh: line ${LINENO}: \"${BASH_COMMAND}\" failed (exit $?)" >&2' ERR

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
trap 'log "failed at line ${LINENO}: ${BASH_COMMAND}"' ERR

KUBE_VERSION="v1.34.4"
COREDNS_VERSION="v1.15.0"
LOCAL_PATH_VERSION="v0.0.30"
KUBE_ROUTER_VERSION="v2.1.0"
PAUSE_TAG="3.10.1"

K_BUILD="${AIOT_INFRA_DIR}/kube"
K_BIN="${K_BUILD}/bin"
C_DIR="${AIOT_INFRA_DIR}/cluster"
C_PKI="${C_DIR}/pki"
C_RUN="${C_DIR}/run"
C_LOGS="${C_DIR}/logs"
C_CONF="${C_DIR}/config"
REG_DIR="${AIOT_INFRA_DIR}/registry"

NODE_NAME="aiot-node"
BRIDGE="aiot-cni0"
CLUSTER_CIDR="10.42.0.0/16"
POD_CIDR="10.42.0.0/24"
NODE_IP="10.42.0.1"
SERVICE_CIDR="10.43.0.0/16"
API_SERVICE_IP="10.43.0.1"
DNS_IP="10.43.0.10"
API_PORT="${AIOT_KUBE_API_PORT:-6443}"
ETCD_PORT="${AIOT_KUBE_ETCD_PORT:-12379}"
ETCD_PEER_PORT="${AIOT_KUBE_ETCD_PEER_PORT:-12380}"
REGISTRY_PORT="${AIOT_REGISTRY_PORT:-15000}"
REGISTRY="127.0.0.1:${REGISTRY_PORT}"
FWD_CHAIN="AIOT-KUBE-FORWARD"
CGROUP_ROOT="/aiot-kube"
KUBECONFIG_ADMIN="${C_DIR}/kubeconfig"
# Registries whose references resolve to the local registry (no pull leaves the machine).
MIRRORED_REGISTRIES=(docker.io registry.k8s.io ghcr.io quay.io gcr.io "${REGISTRY}")
# Daemons in start order; `down` stops them in reverse.
DAEMONS=(registry etcd kube-apiserver containerd kube-controller-manager kube-scheduler kubelet kube-proxy kube-router local-path-provisioner)

kubectl_() { "${K_BIN}/kubectl" --kubeconfig "${KUBECONFIG_ADMIN}" "$@"; }

# ---------------------------------------------------------------------------------------- install
_APT_UPDATED=0
ensure_packages() {
  local need=() p
  # package:file-it-provides
  for p in containerd:/usr/bin/containerd runc:/usr/sbin/runc containernetworking-plugins:/usr/lib/cni/bridge \
    buildah:/usr/bin/buildah skopeo:/usr/bin/skopeo etcd-server:/usr/bin/etcd docker-registry:/usr/bin/docker-registry \
    busybox-static:/bin/busybox iptables:/usr/sbin/iptables ipset:/usr/sbin/ipset conntrack:/usr/sbin/conntrack \
    openssl:/usr/bin/openssl gcc:/usr/bin/gcc libc6-dev:/usr/lib/x86_64-linux-gnu/libc.a curl:/usr/bin/curl \
    mosquitto-clients:/usr/bin/mosquitto_pub; do
    [[ -e "${p#*:}" ]] || need+=("${p%%:*}")
  done
  [[ ${#need[@]} -eq 0 ]] && return 0
  [[ "${EUID}" -eq 0 ]] || die "cluster: missing packages (${need[*]}) and not root"
  log "cluster: apt-get install ${need[*]}"
  if [[ "${_APT_UPDATED}" -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    _APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
}

# The version ldflags make /version report v1.34.4 (Helm's kubeVersion checks read it).
kube_ldflags() {
  local ld="-s -w" p major minor
  major="${KUBE_VERSION#v}"; major="${major%%.*}"
  minor="${KUBE_VERSION#v*.}"; minor="${minor%%.*}"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X ${p}.gitVersion=${KUBE_VERSION} -X ${p}.gitMajor=${major} -X ${p}.gitMinor=${minor} -X ${p}.gitTreeState=clean"
  done
  printf '%s\n' "${ld}"
}

# go_build NAME STAMP_INPUT CMD...: run CMD (a go build/install) unless <K_BIN>/.NAME.stamp matches.
go_build() {
  local name="$1" want="$2"; shift 2
  local stamp="${K_BIN}/.${name}.stamp" logf="${K_BUILD}/${name}.build.log" t0
  if [[ -x "${K_BIN}/${name}" && -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]]; then
    return 0
  fi
  t0=$(now_ms)
  log "${name}: building (Go, cold on 2 cores: minutes)"
  if ! (cd "${AIOT_INFRA_SCRIPTS}" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod "$@") >"${logf}" 2>&1; then
    log_tail "${logf}" 30
    return 1
  fi
  printf '%s\n' "${want}" >"${stamp}"
  log "${name}: built in $(( ($(now_ms) - t0) / 1000 )) s"
}

# Inputs of a wrapper module's build: its files plus the Go version.
module_key() {
  local dir="$1" go="$2"
  { "${go}" version; cat "${AIOT_INFRA_SCRIPTS}/${dir}"/go.mod "${AIOT_INFRA_SCRIPTS}/${dir}"/go.sum "${AIOT_INFRA_SCRIPTS}/${dir}"/*.go; } | sha256sum | awk '{print $1}'
}

build_binaries() {
  local go pids=() rc=0 t0
  go="$(find_go)" || die "cluster: go toolchain not found (set GO=/path/to/go)"
  mkdir -p -- "${K_BIN}"
  t0=$(now_ms)
  # The four builds run side by side: each links alone for a while, so two cores stay busy.
  go_build aiot-kube "$(module_key kube "${go}") $(kube_ldflags)" \
    "${go}" build -C kube -trimpath -ldflags "$(kube_ldflags)" -o "${K_BIN}/aiot-kube" . &
  pids+=($!)
  go_build coredns "$(module_key coredns "${go}")" \
    "${go}" build -C coredns -trimpath -ldflags "-s -w" -o "${K_BIN}/coredns" . &
  pids+=($!)
  go_build local-path-provisioner "local-path-provisioner@${LOCAL_PATH_VERSION} $("${go}" version)" \
    env GOBIN="${K_BIN}" "${go}" install -trimpath -ldflags "-s -w -X main.VERSION=${LOCAL_PATH_VERSION}" \
    "github.com/rancher/local-path-provisioner@${LOCAL_PATH_VERSION}" &
  pids+=($!)
  go_build kube-router "kube-router@${KUBE_ROUTER_VERSION} $("${go}" version)" \
    env GOBIN="${K_BIN}" "${go}" install -trimpath \
    -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=${KUBE_ROUTER_VERSION}" \
    "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@${KUBE_ROUTER_VERSION}" &
  pids+=($!)
  local p
  for p in "${pids[@]}"; do wait "${p}" || rc=1; done
  [[ "${rc}" -eq 0 ]] || die "cluster: a Go build failed (logs: ${K_BUILD}/*.build.log)"
  local c
  for c in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
    ln -sfn aiot-kube "${K_BIN}/${c}"
  done
  build_pause
  log "cluster: binaries ready in ${K_BIN} ($(( ($(now_ms) - t0) / 1000 )) s)"
}

# The pod sandbox's pause binary, compiled from kubernetes' own pause.c (in the module cache).
build_pause() {
  local go src
  go="$(find_go)"
  src="$(cd "${AIOT_INFRA_SCRIPTS}/kube" && GOTOOLCHAIN=local GOFLAGS=-mod=mod "${go}" list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c"
  [[ -f "${src}" ]] || die "cluster: ${src} not found"
  local want
  want="$(sha256sum "${src}" | awk '{print $1}')"
  if [[ -x "${K_BIN}/pause" && "$(cat "${K_BIN}/.pause.stamp" 2>/dev/null)" == "${want}" ]]; then
    return 0
  fi
  gcc -Os -Wall -Werror -static -DVERSION="${PAUSE_TAG}" -o "${K_BIN}/pause" "${src}"
  strip "${K_BIN}/pause"
  printf '%s\n' "${want}" >"${K_BIN}/.pause.stamp"
}

cmd_install() {
  [[ "${EUID}" -eq 0 ]] || die "cluster: must run as root (kubelet, containerd, iptables)"
  ensure_packages
  build_binaries
}

# ---------------------------------------------------------------------------------- certificates
# new_cert NAME CN O SANS: key + certificate signed by the cluster CA (EC P-256).
new_cert() {
  local name="$1" cn="$2" o="$3" sans="$4" ext="${C_PKI}/${1}.ext"
  openssl ecparam -name prime256v1 -genkey -noout -out "${C_PKI}/${name}.key" 2>/dev/null
  local subj="/CN=${cn}"
  [[ -n "${o}" ]] && subj="/O=${o}${subj}"
  openssl req -new -key "${C_PKI}/${name}.key" -subj "${subj}" -out "${C_PKI}/${name}.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [[ -n "${sans}" ]]; then
      echo "extendedKeyUsage=serverAuth,clientAuth"
      echo "subjectAltName=${sans}"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } >"${ext}"
  openssl x509 -req -in "${C_PKI}/${name}.csr" -CA "${C_PKI}/ca.crt" -CAkey "${C_PKI}/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "${ext}" -out "${C_PKI}/${name}.crt" 2>/dev/null
  rm -f -- "${C_PKI}/${name}.csr" "${ext}"
}

# kubeconfig FILE CERTNAME: a kubeconfig using a client certificate.
write_kubeconfig() {
  local file="$1" cert="$2"
  cat >"${file}" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: aiot
    cluster:
      server: https://${NODE_IP}:${API_PORT}
      certificate-authority: ${C_PKI}/ca.crt
users:
  - name: ${cert}
    user:
      client-certificate: ${C_PKI}/${cert}.crt
      client-key: ${C_PKI}/${cert}.key
contexts:
  - name: aiot
    context: { cluster: aiot, user: ${cert} }
current-context: aiot
EOF
}

make_pki() {
  [[ -f "${C_PKI}/.done" ]] && return 0
  mkdir -p -- "${C_PKI}"
  openssl ecparam -name prime256v1 -genkey -noout -out "${C_PKI}/ca.key" 2>/dev/null
  openssl req -x509 -new -key "${C_PKI}/ca.key" -subj "/CN=aiot-test-cluster-ca" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "${C_PKI}/ca.crt" 2>/dev/null
  new_cert apiserver kube-apiserver "" \
    "IP:${NODE_IP},IP:127.0.0.1,IP:${API_SERVICE_IP},DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
  new_cert kubelet-serving "system:node:${NODE_NAME}" "system:nodes" "IP:${NODE_IP},DNS:${NODE_NAME}"
  new_cert admin kubernetes-admin "system:masters" ""
  new_cert apiserver-kubelet-client kube-apiserver-kubelet-client "system:masters" ""
  new_cert kube-controller-manager system:kube-controller-manager "" ""
  new_cert kube-scheduler system:kube-scheduler "" ""
  new_cert kubelet "system:node:${NODE_NAME}" "system:nodes" ""
  new_cert kube-proxy system:kube-proxy "" ""
  openssl ecparam -name prime256v1 -genkey -noout -out "${C_PKI}/sa.key" 2>/dev/null
  openssl ec -in "${C_PKI}/sa.key" -pubout -out "${C_PKI}/sa.pub" 2>/dev/null
  write_kubeconfig "${KUBECONFIG_ADMIN}" admin
  local c
  for c in kube-controller-manager kube-scheduler kubelet kube-proxy; do
    write_kubeconfig "${C_CONF}/${c}.kubeconfig" "${c}"
  done
  touch "${C_PKI}/.done"
}

# ------------------------------------------------------------------------------------ host setup
sysctl_set() {
  local key="$1" value="$2" file="/proc/sys/${1//.//}" saved="${C_RUN}/sysctl.${1}"
  [[ -f "${saved}" ]] || cat "${file}" >"${saved}"
  printf '%s\n' "${value}" >"${file}"
}

setup_host() {
  # The bridge exists before the API server starts: it binds to the bridge's address, which is
  # where pods reach it (and the `kubernetes` Service's endpoint).
  if ! ip link show "${BRIDGE}" >/dev/null 2>&1; then
    ip link add "${BRIDGE}" type bridge
    touch "${C_RUN}/bridge.created"
  fi
  ip addr replace "${NODE_IP}/24" dev "${BRIDGE}"
  ip link set "${BRIDGE}" up
  # Pods reach Service IPs through the host (routed, then DNAT); bridged pod-to-pod traffic must
  # pass iptables for Services and NetworkPolicies.
  sysctl_set net.ipv4.ip_forward 1
  sysctl_set net.bridge.bridge-nf-call-iptables 1
  sysctl_set net.ipv4.conf.all.route_localnet 1
  # Forwarding is only for pod-to-pod traffic on the bridge: nothing from a pod leaves the machine,
  # nothing from outside reaches a pod.
  if ! iptables -w -S "${FWD_CHAIN}" >/dev/null 2>&1; then
    iptables -w -N "${FWD_CHAIN}"
  fi
  iptables -w -F "${FWD_CHAIN}"
  iptables -w -A "${FWD_CHAIN}" ! -i "${BRIDGE}" -j REJECT
  iptables -w -A "${FWD_CHAIN}" ! -o "${BRIDGE}" -j REJECT
  iptables -w -C FORWARD -j "${FWD_CHAIN}" 2>/dev/null || iptables -w -I FORWARD 1 -j "${FWD_CHAIN}"
  # The kubelet's cgroup root (it must exist): every pod's cgroup lives below it, and `down`
  # removes it. A new cpuset cgroup starts without cpus/mems: copy the root's.
  local ctl
  for ctl in /sys/fs/cgroup/*/; do
    ctl="${ctl%/}"
    [[ -f "${ctl}/cgroup.procs" ]] || continue
    mkdir -p -- "${ctl}${CGROUP_ROOT}"
    if [[ -f "${ctl}/cpuset.cpus" ]]; then
      [[ -n "$(cat "${ctl}${CGROUP_ROOT}/cpuset.cpus")" ]] || cat "${ctl}/cpuset.cpus" >"${ctl}${CGROUP_ROOT}/cpuset.cpus"
      [[ -n "$(cat "${ctl}${CGROUP_ROOT}/cpuset.mems")" ]] || cat "${ctl}/cpuset.mems" >"${ctl}${CGROUP_ROOT}/cpuset.mems"
    fi
  done
}

# ------------------------------------------------------------------------------------ config files
# put FILE: stdin into FILE unless FILE already has that content (kube-proxy exits when its
# configuration file changes, so an idempotent `up` must not rewrite it).
put() {
  cat >"$1.new"
  if cmp -s "$1.new" "$1"; then rm -f -- "$1.new"; else mv -f -- "$1.new" "$1"; fi
}

write_configs() {
  mkdir -p -- "${C_CONF}" "${C_DIR}/cni/net.d" "${C_DIR}/containerd/certs.d" "${REG_DIR}/data" \
    "${C_DIR}/pod-logs" "${C_DIR}/storage"
  # Registry (Debian's docker-registry), storage kept across clusters.
  put "${C_CONF}/registry.yml" <<EOF
version: 0.1
log: { level: warn, formatter: text }
storage:
  filesystem: { rootdirectory: ${REG_DIR}/data }
  delete: { enabled: true }
http:
  addr: ${REGISTRY}
EOF
  # Every registry a chart may name resolves to the local one, and only to it.
  local r
  for r in "${MIRRORED_REGISTRIES[@]}"; do
    mkdir -p -- "${C_DIR}/containerd/certs.d/${r}"
    put "${C_DIR}/containerd/certs.d/${r}/hosts.toml" <<EOF
server = "http://${REGISTRY}"

[host."http://${REGISTRY}"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
EOF
  done
  put "${C_CONF}/containerd.toml" <<EOF
version = 2
root = "${C_DIR}/containerd/root"
state = "${C_DIR}/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${C_RUN}/containerd.sock"

[debug]
  level = "warn"

[plugins."io.containerd.internal.v1.opt"]
  path = "${C_DIR}/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:${PAUSE_TAG}"
  # Root here lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj, so without this every
  # pod sandbox fails ("can't get final child's PID from pipe").
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_unprivileged_ports = false
  max_container_log_line_size = 16384
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${C_DIR}/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "${C_DIR}/containerd/certs.d"
EOF
  # CNI: a bridge on a private /24 of this machine; the bridge is the pods' gateway (Service IPs
  # are DNATed on the host); no masquerade: pod traffic never leaves the machine.
  put "${C_DIR}/cni/net.d/10-aiot.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "aiot-pods",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "${BRIDGE}",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "${C_DIR}/cni/ipam",
        "ranges": [[{ "subnet": "${POD_CIDR}", "gateway": "${NODE_IP}" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "loopback" }
  ]
}
EOF
  # Pods with dnsPolicy Default get no resolver: CoreDNS has no upstream (nothing leaves).
  printf 'options ndots:1\n' | put "${C_CONF}/resolv.conf"
  put "${C_CONF}/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${NODE_IP}
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: ${C_PKI}/ca.crt }
authorization: { mode: Webhook }
tlsCertFile: ${C_PKI}/kubelet-serving.crt
tlsPrivateKeyFile: ${C_PKI}/kubelet-serving.key
containerRuntimeEndpoint: unix://${C_RUN}/containerd.sock
# cgroup v1 here (the 1.35+ kubelet refuses it); no systemd.
cgroupDriver: cgroupfs
failCgroupV1: false
cgroupRoot: ${CGROUP_ROOT}
failSwapOn: false
clusterDNS: [${DNS_IP}]
clusterDomain: cluster.local
resolvConf: ${C_CONF}/resolv.conf
podLogsDir: ${C_DIR}/pod-logs
serializeImagePulls: false
evictionHard: { memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%, nodefs.inodesFree: 1% }
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
makeIPTablesUtilChains: false
protectKernelDefaults: false
maxPods: 110
nodeStatusReportFrequency: 10s
syncFrequency: 10s
fileCheckFrequency: 10s
shutdownGracePeriod: 0s
EOF
  put "${C_CONF}/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: ${C_CONF}/kube-proxy.kubeconfig }
hostnameOverride: ${NODE_NAME}
bindAddress: ${NODE_IP}
mode: iptables
clusterCIDR: ${CLUSTER_CIDR}
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# NodePorts answer on the host's loopback and the bridge address, not on the machine's NIC.
nodePortAddresses: ["127.0.0.0/8", "${NODE_IP}/32"]
iptables: { localhostNodePorts: true, masqueradeAll: false }
# Leave the host's conntrack sysctls alone.
conntrack: { maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
EOF
}

# ----------------------------------------------------------------------------------------- daemons
# start_daemon NAME CMD...: detached (own session), pid in <run>/NAME.pid, output in <logs>/NAME.log.
start_daemon() {
  local name="$1"; shift
  if pid_alive "${C_RUN}/${name}.pid" >/dev/null; then
    return 0
  fi
  # shellcheck disable=SC2016 # $0 and $$ expand in the child shell
  # fd 9 is the lock of `up`/`down`: daemons must not keep it.
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "${C_RUN}/${name}.pid" "$@" \
    >>"${C_LOGS}/${name}.log" 2>&1 </dev/null 9>&- &
  local i
  for i in $(seq 1 50); do
    [[ -s "${C_RUN}/${name}.pid" ]] && return 0
    sleep 0.02
  done
}

# wait_until DESC TIMEOUT_S LOGNAME CMD...: poll CMD every 0.25 s.
wait_until() {
  local desc="$1" timeout_s="$2" logname="$3"; shift 3
  local deadline=$(( $(date +%s) + timeout_s ))
  until "$@" >/dev/null 2>&1; do
    if (( $(date +%s) >= deadline )); then
      log_tail "${C_LOGS}/${logname}.log" 40
      die "cluster: ${desc} not ready after ${timeout_s} s (log: ${C_LOGS}/${logname}.log)"
    fi
    if [[ -n "${logname}" ]] && [[ -f "${C_RUN}/${logname}.pid" ]] && ! pid_alive "${C_RUN}/${logname}.pid" >/dev/null; then
      log_tail "${C_LOGS}/${logname}.log" 40
      die "cluster: ${logname} exited (log: ${C_LOGS}/${logname}.log)"
    fi
    sleep 0.25
  done
}

api_ready() {
  curl -fsS --max-time 2 --cacert "${C_PKI}/ca.crt" --cert "${C_PKI}/admin.crt" --key "${C_PKI}/admin.key" \
    "https://${NODE_IP}:${API_PORT}/readyz" | grep -qx ok
}
node_ready() {
  [[ "$(kubectl_ get node "${NODE_NAME}" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == "True" ]]
}

start_daemons() {
  local p
  for p in "127.0.0.1:${REGISTRY_PORT}" "127.0.0.1:${ETCD_PORT}" "127.0.0.1:${ETCD_PEER_PORT}"; do
    if ! pid_alive "${C_RUN}/$([[ "${p}" == *":${REGISTRY_PORT}" ]] && echo registry || echo etcd).pid" >/dev/null && port_open "${p%:*}" "${p#*:}"; then
      die "cluster: ${p} is taken by another process (AIOT_REGISTRY_PORT, AIOT_KUBE_ETCD_PORT, AIOT_KUBE_ETCD_PEER_PORT choose others)"
    fi
  done
  start_daemon registry /usr/bin/docker-registry serve "${C_CONF}/registry.yml"
  start_daemon etcd /usr/bin/etcd --name aiot --data-dir "${C_DIR}/etcd" \
    --listen-client-urls "http://127.0.0.1:${ETCD_PORT}" --advertise-client-urls "http://127.0.0.1:${ETCD_PORT}" \
    --listen-peer-urls "http://127.0.0.1:${ETCD_PEER_PORT}" --initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-cluster "aiot=http://127.0.0.1:${ETCD_PEER_PORT}" --log-level warn --logger zap
  start_daemon containerd /usr/bin/containerd --config "${C_CONF}/containerd.toml"
  wait_until "etcd" 30 etcd curl -fsS --max-time 2 "http://127.0.0.1:${ETCD_PORT}/health"
  start_daemon kube-apiserver "${K_BIN}/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:${ETCD_PORT}" \
    --bind-address "${NODE_IP}" --advertise-address "${NODE_IP}" --secure-port "${API_PORT}" \
    --service-cluster-ip-range "${SERVICE_CIDR}" --service-node-port-range 30000-32767 \
    --client-ca-file "${C_PKI}/ca.crt" --tls-cert-file "${C_PKI}/apiserver.crt" --tls-private-key-file "${C_PKI}/apiserver.key" \
    --kubelet-client-certificate "${C_PKI}/apiserver-kubelet-client.crt" --kubelet-client-key "${C_PKI}/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "${C_PKI}/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "${C_PKI}/sa.pub" --service-account-signing-key-file "${C_PKI}/sa.key" \
    --kubelet-preferred-address-types InternalIP,Hostname \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --allow-privileged=true --profiling=false --event-ttl 1h
  wait_until "kube-apiserver" 90 kube-apiserver api_ready
  start_daemon kube-controller-manager "${K_BIN}/kube-controller-manager" \
    --kubeconfig "${C_CONF}/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig "${C_CONF}/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig "${C_CONF}/kube-controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 10257 --leader-elect=false \
    --cluster-signing-cert-file "${C_PKI}/ca.crt" --cluster-signing-key-file "${C_PKI}/ca.key" \
    --root-ca-file "${C_PKI}/ca.crt" --service-account-private-key-file "${C_PKI}/sa.key" \
    --use-service-account-credentials=true \
    --allocate-node-cidrs=true --cluster-cidr "${CLUSTER_CIDR}" --node-cidr-mask-size 24 \
    --service-cluster-ip-range "${SERVICE_CIDR}" --profiling=false
  start_daemon kube-scheduler "${K_BIN}/kube-scheduler" \
    --kubeconfig "${C_CONF}/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig "${C_CONF}/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig "${C_CONF}/kube-scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 10259 --leader-elect=false --profiling=false
  wait_until "containerd" 30 containerd test -S "${C_RUN}/containerd.sock"
  start_daemon kubelet "${K_BIN}/kubelet" --config "${C_CONF}/kubelet.yaml" \
    --kubeconfig "${C_CONF}/kubelet.kubeconfig" --root-dir "${C_DIR}/kubelet" \
    --hostname-override "${NODE_NAME}" --node-ip "${NODE_IP}"
  start_daemon kube-proxy "${K_BIN}/kube-proxy" --config "${C_CONF}/kube-proxy.yaml"
  wait_until "registry" 30 registry registry_ours
}

# The registry answering on its port is ours (not a leftover of another run).
registry_ours() {
  pid_alive "${C_RUN}/registry.pid" >/dev/null && curl -fsS --max-time 2 "http://${REGISTRY}/v2/"
}

# kube-router identifies its node through the API: start it once the node is registered.
start_kube_router() {
  start_daemon kube-router "${K_BIN}/kube-router" --kubeconfig "${KUBECONFIG_ADMIN}" \
    --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
    --hostname-override "${NODE_NAME}" --health-port 0 --metrics-port 0 \
    --service-cluster-ip-range "${SERVICE_CIDR}" --enable-ipv6=false
}

# --------------------------------------------------------------------------------- system images
# oci_image NAME:TAG ROOTFS_DIR [buildah config args...]: FROM scratch + one layer, pushed to the
# local registry; skipped when the registry already holds that tag built from the same inputs.
push_rootfs_image() {
  local ref="$1" rootfs="$2"; shift 2
  local key stampdir="${AIOT_INFRA_DIR}/images/stamps" stamp
  key="$( { printf '%s\n' "$@"; (cd "${rootfs}" && find . -printf '%p %m %s %l\n' | LC_ALL=C sort); } | sha256sum | awk '{print $1}')"
  stamp="${stampdir}/${ref//[\/:]/_}"
  if [[ -f "${stamp}" && "$(cat "${stamp}")" == "${key}" ]] && image_in_registry "${ref}"; then
    return 0
  fi
  mkdir -p -- "${stampdir}"
  "${AIOT_INFRA_SCRIPTS}/images.sh" rootfs "${ref}" "${rootfs}" "$@"
  printf '%s\n' "${key}" >"${stamp}"
}

image_in_registry() {
  local ref="$1" repo tag
  repo="${ref%:*}"; tag="${ref##*:}"
  curl -fsS --max-time 5 -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
    "http://${REGISTRY}/v2/${repo}/manifests/${tag}"
}

system_images() {
  local work="${AIOT_INFRA_DIR}/images/rootfs"
  rm -rf -- "${work}/pause" "${work}/coredns" "${work}/busybox"
  mkdir -p -- "${work}/pause" "${work}/coredns/etc/coredns" "${work}/busybox/bin" "${work}/busybox/tmp" "${work}/busybox/etc"
  cp "${K_BIN}/pause" "${work}/pause/pause"
  push_rootfs_image "pause:${PAUSE_TAG}" "${work}/pause" --entrypoint '["/pause"]' --user 65535:65535
  cp "${K_BIN}/coredns" "${work}/coredns/coredns"
  push_rootfs_image "coredns/coredns:${COREDNS_VERSION#v}" "${work}/coredns" --entrypoint '["/coredns"]' --port 53/udp --port 53/tcp
  # busybox (Debian's static build): local-path's helper pods and the cluster tests' probe pods.
  cp /bin/busybox "${work}/busybox/bin/busybox"
  local a
  for a in $(/bin/busybox --list); do
    [[ "${a}" == busybox ]] || ln -s busybox "${work}/busybox/bin/${a}"
  done
  chmod 1777 "${work}/busybox/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"${work}/busybox/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"${work}/busybox/etc/group"
  local bbver
  # sed reads the whole help text: `| head -n1` closed the pipe early, busybox got SIGPIPE now and
  # then, and under pipefail that failed this script with no message.
  bbver="$(/bin/busybox | sed -nE '1s/^BusyBox v([0-9.]+).*/\1/p')"
  [[ -n "${bbver}" ]] || die "cluster: cannot read busybox's version from /bin/busybox"
  push_rootfs_image "library/busybox:${bbver}" "${work}/busybox" --cmd '["sh"]' --env PATH=/bin
  printf '%s\n' "${bbver}" >"${C_RUN}/busybox.version"
}

# ------------------------------------------------------------------------------------------ addons
apply_addons() {
  local bb
  bb="$(cat "${C_RUN}/busybox.version")"
  kubectl_ apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ServiceAccount
metadata: { name: coredns, namespace: kube-system }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: "system:coredns" }
rules:
  - apiGroups: [""]
    resources: [endpoints, services, pods, namespaces]
    verbs: [list, watch]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: "system:coredns" }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns" }
subjects: [{ kind: ServiceAccount, name: coredns, namespace: kube-system }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: coredns, namespace: kube-system }
data:
  # K3s's Corefile without \`forward\`: names outside the cluster get NXDOMAIN, nothing leaves.
  # (template runs before kubernetes in CoreDNS's plugin order, hence two server blocks.)
  Corefile: |
    cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {
        errors
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
        }
        prometheus :9153
        cache 30
        loop
        reload
        loadbalance
    }
    .:53 {
        errors
        health {
            lameduck 5s
        }
        ready
        template ANY ANY {
            rcode NXDOMAIN
        }
        prometheus :9153
        cache 30
        reload
    }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels: { k8s-app: kube-dns, kubernetes.io/name: CoreDNS }
spec:
  replicas: 1
  selector: { matchLabels: { k8s-app: kube-dns } }
  template:
    metadata:
      labels: { k8s-app: kube-dns }
    spec:
      priorityClassName: system-cluster-critical
      serviceAccountName: coredns
      dnsPolicy: Default
      tolerations: [{ key: CriticalAddonsOnly, operator: Exists }]
      containers:
        - name: coredns
          image: coredns/coredns:${COREDNS_VERSION#v}
          args: ["-conf", "/etc/coredns/Corefile"]
          ports:
            - { name: dns, containerPort: 53, protocol: UDP }
            - { name: dns-tcp, containerPort: 53, protocol: TCP }
            - { name: metrics, containerPort: 9153, protocol: TCP }
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { add: [NET_BIND_SERVICE], drop: [ALL] }
          resources:
            requests: { cpu: 50m, memory: 70Mi }
            limits: { memory: 170Mi }
          livenessProbe:
            httpGet: { path: /health, port: 8080 }
            periodSeconds: 10
          readinessProbe:
            httpGet: { path: /ready, port: 8181 }
            periodSeconds: 2
          volumeMounts:
            - { name: config, mountPath: /etc/coredns, readOnly: true }
      volumes:
        - name: config
          configMap:
            name: coredns
            items:
              - { key: Corefile, path: Corefile }
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: { k8s-app: kube-dns, kubernetes.io/name: CoreDNS }
spec:
  selector: { k8s-app: kube-dns }
  clusterIP: ${DNS_IP}
  ports:
    - { name: dns, port: 53, protocol: UDP }
    - { name: dns-tcp, port: 53, protocol: TCP }
    - { name: metrics, port: 9153, protocol: TCP }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: local-path-provisioner-service-account, namespace: kube-system }
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
  annotations: { storageclass.kubernetes.io/is-default-class: "true" }
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
---
apiVersion: v1
kind: ConfigMap
metadata: { name: local-path-config, namespace: kube-system }
data:
  config.json: |
    { "nodePathMap": [{ "node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["${C_DIR}/storage"] }] }
  setup: |
    #!/bin/sh
    set -eu
    mkdir -m 0777 -p "\${VOL_DIR}"
  teardown: |
    #!/bin/sh
    set -eu
    rm -rf "\${VOL_DIR}"
  helperPod.yaml: |
    apiVersion: v1
    kind: Pod
    metadata: { name: helper-pod }
    spec:
      priorityClassName: system-node-critical
      tolerations: [{ key: node.kubernetes.io/disk-pressure, operator: Exists, effect: NoSchedule }]
      containers:
        - name: helper-pod
          image: busybox:${bb}
          imagePullPolicy: IfNotPresent
EOF
  start_daemon local-path-provisioner "${K_BIN}/local-path-provisioner" start \
    --kubeconfig "${KUBECONFIG_ADMIN}" --namespace kube-system --configmap-name local-path-config \
    --provisioner-name rancher.io/local-path --helper-image "busybox:${bb}" \
    --service-account-name local-path-provisioner-service-account
}

coredns_ready() {
  [[ "$(kubectl_ -n kube-system get deploy coredns -o 'jsonpath={.status.readyReplicas}' 2>/dev/null)" == "1" ]]
}

# --------------------------------------------------------------------------------------------- up
cmd_up() {
  [[ "${EUID}" -eq 0 ]] || die "cluster: must run as root (kubelet, containerd, iptables)"
  local t0 t1
  t0=$(now_ms)
  cmd_install
  t1=$(now_ms)
  mkdir -p -- "${C_RUN}" "${C_LOGS}" "${C_CONF}"
  local sock="${C_RUN}/containerd.sock.ttrpc"
  (( ${#sock} < 100 )) || die "cluster: ${sock} is too long for a unix socket; set AIOT_INFRA_DIR to a shorter path"
  write_configs
  make_pki
  setup_host
  start_daemons
  system_images
  wait_until "node ${NODE_NAME} Ready" 120 kubelet node_ready
  start_kube_router
  apply_addons
  wait_until "CoreDNS" 120 kubelet coredns_ready
  log "cluster: up (build/install $(( (t1 - t0) / 1000 )) s, start to Ready with add-ons $(( ($(now_ms) - t1) / 1000 )) s); KUBECONFIG=${KUBECONFIG_ADMIN}"
}

cmd_status() {
  local d rc=0
  for d in "${DAEMONS[@]}"; do
    if pid=$(pid_alive "${C_RUN}/${d}.pid"); then
      printf '%-24s running (pid %s)\n' "${d}" "${pid}"
    else
      printf '%-24s stopped\n' "${d}"
      rc=3
    fi
  done
  if [[ "${rc}" -eq 0 ]]; then
    node_ready || { echo "node ${NODE_NAME} not Ready"; rc=1; }
  fi
  return "${rc}"
}

# -------------------------------------------------------------------------------------------- down
stop_pidfile() {
  local name="$1" pid
  pid="$(pid_alive "${C_RUN}/${name}.pid")" || { rm -f -- "${C_RUN}/${name}.pid"; return 0; }
  kill -TERM "${pid}" 2>/dev/null || true
  if ! wait_exit "${pid}" 20; then
    log "${name}: SIGKILL after 20 s"
    kill -KILL "${pid}" 2>/dev/null || true
    wait_exit "${pid}" 10 || true
  fi
  rm -f -- "${C_RUN}/${name}.pid"
}

# Containers and their shims outlive containerd: kill them through containerd, then any shim
# still serving our containerd (matched by its -address argument, killed by pid).
stop_containers() {
  local ctr=(ctr --address "${C_RUN}/containerd.sock" -n k8s.io) t
  if pid_alive "${C_RUN}/containerd.pid" >/dev/null && [[ -S "${C_RUN}/containerd.sock" ]]; then
    for t in $("${ctr[@]}" tasks ls -q 2>/dev/null); do
      "${ctr[@]}" tasks kill -s SIGKILL "${t}" >/dev/null 2>&1 || true
    done
    local deadline=$(( $(date +%s) + 20 ))
    while [[ -n "$("${ctr[@]}" tasks ls 2>/dev/null | awk 'NR>1 && $3!="STOPPED"')" ]] && (( $(date +%s) < deadline )); do
      sleep 0.2
    done
    for t in $("${ctr[@]}" tasks ls -q 2>/dev/null); do
      "${ctr[@]}" tasks delete -f "${t}" >/dev/null 2>&1 || true
    done
  fi
  local p
  for p in $(pgrep -f "containerd-shim-runc-v2 .*-address ${C_RUN}/containerd.sock" 2>/dev/null || true); do
    kill -KILL "${p}" 2>/dev/null || true
  done
}

unmount_all_under() {
  local dir="$1" m
  # Deepest first; mountinfo field 5 is the mount point (octal escapes for spaces are not expected).
  while read -r m; do
    umount -l "${m}" 2>/dev/null || true
  done < <(awk -v d="${dir}/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | awk '{print length, $0}' | sort -rn | cut -d' ' -f2-)
}

cleanup_iptables() {
  local table chain rule
  for table in filter nat mangle raw; do
    # Rules that jump to the chains of kube-proxy, kube-router, the kubelet and ours. iptables-save
    # quotes comments the way the shell does, hence eval.
    while read -r rule; do
      eval "iptables -w -t ${table} ${rule/#-A /-D }" 2>/dev/null || true
    done < <(iptables-save -t "${table}" 2>/dev/null | grep -E -- "^-A [A-Z]+ .*-j (KUBE-|${FWD_CHAIN})" | grep -vE "^-A (KUBE-|${FWD_CHAIN})" || true)
    for chain in $(iptables-save -t "${table}" 2>/dev/null | grep -E "^:(KUBE-|${FWD_CHAIN})" | cut -d' ' -f1 | tr -d ':' || true); do
      iptables -w -t "${table}" -F "${chain}" 2>/dev/null || true
    done
    for chain in $(iptables-save -t "${table}" 2>/dev/null | grep -E "^:(KUBE-|${FWD_CHAIN})" | cut -d' ' -f1 | tr -d ':' || true); do
      iptables -w -t "${table}" -X "${chain}" 2>/dev/null || true
    done
  done
  # kube-router's and kube-proxy's ipsets.
  local s
  for s in $(ipset list -n 2>/dev/null | grep -E '^(KUBE-|kube-router)' || true); do
    ipset destroy "${s}" 2>/dev/null || true
  done
}

remove_cgroups() {
  local ctl d
  for ctl in /sys/fs/cgroup/*; do
    [[ -d "${ctl}${CGROUP_ROOT}" ]] || continue
    # Depth first: a cgroup can only be removed when it has no children.
    while read -r d; do rmdir "${d}" 2>/dev/null || true; done < <(find "${ctl}${CGROUP_ROOT}" -depth -type d)
  done
}

cmd_down() {
  [[ -d "${C_DIR}" ]] || { log "cluster: nothing to stop"; return 0; }
  local d i
  for (( i=${#DAEMONS[@]}-1; i>=0; i-- )); do
    d="${DAEMONS[i]}"
    case "${d}" in
      containerd) stop_containers; stop_pidfile containerd ;;
      *) stop_pidfile "${d}" ;;
    esac
  done
  stop_containers
  unmount_all_under "${C_DIR}"
  cleanup_iptables
  ip link show "${BRIDGE}" >/dev/null 2>&1 && ip link delete "${BRIDGE}" 2>/dev/null || true
  # veth peers of pods whose netns is gone disappear with it; host ends still attached (none
  # expected) go with the bridge.
  local f key
  for f in "${C_RUN}"/sysctl.*; do
    [[ -f "${f}" ]] || continue
    key="${f##*/sysctl.}"
    cat "${f}" >"/proc/sys/${key//.//}" 2>/dev/null || true
  done
  # kubelet's hard-coded /var/log/containers links: only those pointing into our pod logs.
  if [[ -d /var/log/containers ]]; then
    find /var/log/containers -maxdepth 1 -type l -lname "${C_DIR}/pod-logs/*" -delete 2>/dev/null || true
  fi
  remove_cgroups
  rm -rf -- "${C_DIR}"
  log "cluster: down (state removed; builds in ${K_BUILD} and images in ${REG_DIR} kept)"
}

cmd_env() {
  echo "KUBECONFIG=${KUBECONFIG_ADMIN}"
  echo "AIOT_KUBE_BIN=${K_BIN}"
  echo "AIOT_REGISTRY=${REGISTRY}"
  echo "AIOT_KUBE_NODE_IP=${NODE_IP}"
  echo "AIOT_KUBE_NODE_NAME=${NODE_NAME}"
  [[ -f "${C_RUN}/busybox.version" ]] && echo "AIOT_BUSYBOX_VERSION=$(cat "${C_RUN}/busybox.version")"
  return 0
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "${cmd}" in
    install | up | start | down | stop)
      # One `up` or `down` at a time (parallel jest workers, a second terminal).
      exec 9>"${AIOT_INFRA_DIR}/.cluster.lock"
      flock 9
      ;;
  esac
  case "${cmd}" in
    install) cmd_install ;;
    up | start) cmd_up ;;
    status) cmd_status ;;
    down | stop) cmd_down ;;
    env) cmd_env ;;
    kubectl) kubectl_ "$@" ;;
    -h | --help | "") sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command '${cmd}' (install|up|status|down|env|kubectl)" ;;
  esac
}

main "$@"
