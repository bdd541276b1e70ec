{{/* Chart name, truncated to a DNS label. */}}
{{- define "aiot-platform.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-scoped prefix of every object name: the release name when it already contains the
chart name (the usual `aiot-platform`), else <release>-<chart>. */}}
{{- define "aiot-platform.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains (include "aiot-platform.name" .) .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "aiot-platform.name" .) | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "aiot-platform.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Object name of a component: <fullname>-<component>. Call with (list $ "kafka"). */}}
{{- define "aiot-platform.componentName" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s" (include "aiot-platform.fullname" $root) (index . 1) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of a component. Call with (list $ "kafka"). */}}
{{- define "aiot-platform.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ index . 1 }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
{{- end -}}

{{/* Full label set of a component. Call with (list $ "kafka"). */}}
{{- define "aiot-platform.labels" -}}
{{- $root := index . 0 -}}
{{ include "aiot-platform.selectorLabels" . }}
app.kubernetes.io/component: {{ index . 1 }}
app.kubernetes.io/part-of: aiot-edge
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
helm.sh/chart: {{ include "aiot-platform.chart" $root }}
{{- end -}}

{{/* Labels of objects that belong to the whole release (policies, classes). */}}
{{- define "aiot-platform.commonLabels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: aiot-edge
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "aiot-platform.chart" . }}
{{- end -}}

{{/* Image of one of our apps: <registry><prefix><app>:<tag>[@<digest>]. Call with (list $ "inference"). */}}
{{- define "aiot-platform.appImage" -}}
{{- $root := index . 0 -}}
{{- $app := index . 1 -}}
{{- $i := $root.Values.images -}}
{{- $ref := printf "%s%s%s:%s" $i.registry $i.repositoryPrefix $app (default $root.Chart.AppVersion $i.tag) -}}
{{- with (get (default dict $i.digests) $app) }}{{ $ref = printf "%s@%s" $ref . }}{{ end -}}
{{- $ref -}}
{{- end -}}

{{/* Image of a broker (kafka.image, mosquitto.image, history.postgresql.image): its own `registry` if set, else
images.registry; `digest` pins the bytes. Call with (list $ .Values.kafka.image). */}}
{{- define "aiot-platform.brokerImage" -}}
{{- $root := index . 0 -}}
{{- $img := index . 1 -}}
{{- $registry := ternary $img.registry $root.Values.images.registry (hasKey $img "registry") -}}
{{- $ref := printf "%s%s:%s" $registry $img.repository $img.tag -}}
{{- with $img.digest }}{{ $ref = printf "%s@%s" $ref . }}{{ end -}}
{{- $ref -}}
{{- end -}}

{{- define "aiot-platform.imagePullSecrets" -}}
{{- with .Values.images.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Pod-level security context: non-root, RuntimeDefault seccomp. Call with a uid. */}}
{{- define "aiot-platform.podSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: {{ . }}
  runAsGroup: {{ . }}
  fsGroup: {{ . }}
  fsGroupChangePolicy: OnRootMismatch
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{/* Container-level security context: read-only root, no privilege escalation, no caps. */}}
{{- define "aiot-platform.containerSecurityContext" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  privileged: false
  capabilities:
    drop: ["ALL"]
{{- end -}}

{{/* Prometheus scrape annotations for pods serving /metrics on 8080. */}}
{{- define "aiot-platform.scrapeAnnotations" -}}
{{- if .Values.metrics.annotations -}}
prometheus.io/scrape: "true"
prometheus.io/port: "8080"
prometheus.io/path: /metrics
{{- end }}
{{- end -}}

{{/* Liveness/readiness/startup probes of our NestJS apps. */}}
{{- define "aiot-platform.appProbes" -}}
startupProbe:
  httpGet: { path: /health/live, port: http }
  periodSeconds: 2
  failureThreshold: 60
livenessProbe:
  httpGet: { path: /health/live, port: http }
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet: { path: /health/ready, port: http }
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 3
{{- end -}}

{{/* Environment every app gets. */}}
{{- define "aiot-platform.commonEnv" -}}
{{- $root := index . 0 -}}
- name: LOG_LEVEL
  value: {{ $root.Values.logLevel | quote }}
- name: HTTP_PORT
  value: "8080"
- name: SITE_ID
  value: {{ $root.Values.siteId | quote }}
- name: KAFKA_BROKERS
  value: {{ include "aiot-platform.kafkaBrokers" $root | quote }}
- name: KAFKA_CLIENT_ID
  value: {{ index . 1 | quote }}
- name: POD_NAME
  valueFrom:
    fieldRef: { fieldPath: metadata.name }
{{- end -}}

{{- define "aiot-platform.kafkaBrokers" -}}
{{- printf "%s.%s.svc.cluster.local:9092" (include "aiot-platform.componentName" (list . "kafka")) .Release.Namespace -}}
{{- end -}}

{{/* The platform's own MQTT clients use TLS when the listener exists, else plain 1883. */}}
{{- define "aiot-platform.mqttUrl" -}}
{{- $host := printf "%s.%s.svc.cluster.local" (include "aiot-platform.componentName" (list . "mosquitto")) .Release.Namespace -}}
{{- if .Values.mosquitto.listeners.tls -}}
{{- printf "mqtts://%s:8883" $host -}}
{{- else -}}
{{- printf "mqtt://%s:1883" $host -}}
{{- end -}}
{{- end -}}


{{/* Effective replication factor of Kafka topics: min(replicationFactor, replicas). */}}
{{- define "aiot-platform.kafkaReplication" -}}
{{- min (int .Values.kafka.replicationFactor) (int .Values.kafka.replicas) -}}
{{- end -}}

{{/* StorageClass name for broker volumes / model volume, per storage provider. */}}
{{- define "aiot-platform.brokerStorageClass" -}}
{{- if eq .Values.storage.provider "portworx" -}}
{{- .Values.storage.portworx.broker.storageClassName -}}
{{- else -}}
{{- .Values.storage.localPath.storageClassName -}}
{{- end -}}
{{- end -}}

{{- define "aiot-platform.modelStorageClass" -}}
{{- if eq .Values.storage.provider "portworx" -}}
{{- .Values.storage.portworx.model.storageClassName -}}
{{- else -}}
{{- .Values.storage.localPath.storageClassName -}}
{{- end -}}
{{- end -}}

{{/* Access mode of the model volume. local-path has no ReadWriteMany: only the documented
single-replica fallback is accepted, anything else fails the render with an explanation. */}}
{{- define "aiot-platform.modelAccessMode" -}}
{{- if eq .Values.storage.provider "portworx" -}}
ReadWriteMany
{{- else if eq (int .Values.inference.replicas) 1 -}}
ReadWriteOnce
{{- else -}}
{{- fail (printf "storage.provider=local-path cannot provide the ReadWriteMany model volume that %d inference replicas share. Either set inference.replicas: 1 (documented fallback: one inference pod on a ReadWriteOnce model volume, see docs/deploy.md) or use storage.provider: portworx." (int .Values.inference.replicas)) -}}
{{- end -}}
{{- end -}}

{{/* PodDisruptionBudget spec: keep at least one pod when there are several, otherwise allow
the single pod to be evicted (a minAvailable of 1 with 1 replica would block node drains). */}}
{{- define "aiot-platform.pdbSpec" -}}
{{- if gt (int .) 1 }}
minAvailable: {{ sub (int .) 1 }}
{{- else }}
maxUnavailable: 1
{{- end }}
{{- end -}}

{{/* "name=version name=version": the model versions the inference init container publishes. */}}
{{- define "aiot-platform.modelList" -}}
{{- range $i, $m := .Values.inference.models }}{{ if $i }} {{ end }}{{ $m.name }}={{ $m.version }}{{ end -}}
{{- end -}}

{{/* "name,name": INFERENCE_MODELS, the models served — exactly the ones published. One version
per model: a name listed twice fails the render. */}}
{{- define "aiot-platform.modelNames" -}}
{{- $names := list -}}
{{- range .Values.inference.models }}
{{- if has .name $names }}{{ fail (printf "inference.models lists model %q twice: give one version per model (newer versions: edgectl model publish)" .name) }}{{ end }}
{{- $names = append $names .name -}}
{{- end -}}
{{- join "," $names -}}
{{- end -}}

{{/* A map of labels as a Calico selector: k1 == 'v1' && k2 == 'v2'. */}}
{{- define "aiot-platform.calicoLabelSelector" -}}
{{- $parts := list -}}
{{- range $k, $v := . }}{{ $parts = append $parts (printf "%s == '%s'" $k $v) }}{{ end -}}
{{- join " && " $parts -}}
{{- end -}}

{{/* "true" when MQTT from outside the cluster arrives with rewritten source addresses
(externalTrafficPolicy Cluster: kube-proxy SNAT to a node or tunnel address, K3s ServiceLB's
svclb pods; several of these lie in the pod CIDR): the policies must then accept the MQTT
listeners from any source. Fails when deviceCIDRs asks for a source filter that could not work. */}}
{{- define "aiot-platform.mqttOpenToAll" -}}
{{- $ext := .Values.mosquitto.external -}}
{{- if and $ext.enabled (eq $ext.externalTrafficPolicy "Cluster") -}}
{{- if not (eq (toJson .Values.networkPolicy.deviceCIDRs) (toJson (list "0.0.0.0/0"))) -}}
{{- fail (printf "networkPolicy.deviceCIDRs %s cannot be enforced with mosquitto.external.externalTrafficPolicy: Cluster: kube-proxy replaces each device's address by a node or tunnel address before it reaches Mosquitto, so devices would be refused. Either set externalTrafficPolicy: Local (source addresses kept; only the node running Mosquitto answers, use a LoadBalancer that follows it) or keep deviceCIDRs [0.0.0.0/0] and filter devices on the nodes' firewall (docs/deploy.md, MQTT from outside the cluster)." (toJson .Values.networkPolicy.deviceCIDRs)) -}}
{{- end -}}
true
{{- end -}}
{{- end -}}

{{/* Bytes of an integer Kubernetes quantity (20Gi, 500M, 1073741824). */}}
{{- define "aiot-platform.bytes" -}}
{{- $q := toString . -}}
{{- if not (regexMatch "^[0-9]+(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$" $q) -}}
{{- fail (printf "%q: use an integer quantity such as 20Gi or 500M for volume sizes" $q) -}}
{{- end -}}
{{- $num := regexReplaceAll "^([0-9]+).*$" $q "${1}" | atoi -}}
{{- $unit := regexReplaceAll "^[0-9]+" $q "" -}}
{{- $mult := dict "" 1 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 "P" 1000000000000000 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "Pi" 1125899906842624 -}}
{{- mul $num (get $mult $unit) -}}
{{- end -}}

{{/* Kafka's per-partition size limits derived from the volume, as JSON
{"partitions","budget","segment","retention"}. Kafka limits disk use per partition only, so:
  partitions = the most partition replicas one broker holds: maxFloors x 7 topics x numPartitions
               x replication / brokers, plus the offsets topic's 50 partitions (compacted, its
               segments sized like the others)
  budget     = volume x volumePercent
  segment    = budget / partitions / 4, within Kafka's 1 MiB minimum and 1 GiB
  retention  = budget / partitions - segment
A partition holds at most about retention + one segment (Kafka deletes whole closed segments,
the active one keeps growing up to segment bytes), so all of them fit in the budget. */}}
{{- define "aiot-platform.kafkaLogLimits" -}}
{{- $k := .Values.kafka -}}
{{- $r := $k.retention -}}
{{- if gt (len .Values.floors) (int $r.maxFloors) -}}
{{- fail (printf "%d floors, but kafka.retention.maxFloors is %d: Kafka's size limits are planned for at most that many floors, so more could fill the %s volume. Raise kafka.retention.maxFloors (each partition then gets a smaller share) and, if needed, kafka.persistence.size." (len .Values.floors) (int $r.maxFloors) (toString $k.persistence.size)) -}}
{{- end -}}
{{- $rf := include "aiot-platform.kafkaReplication" . | int -}}
{{- $brokers := int $k.replicas -}}
{{- $replicas := add (mul (int $r.maxFloors) 7 (int $k.numPartitions) $rf) (mul 50 $rf) -}}
{{- $partitions := div (add $replicas (sub $brokers 1)) $brokers -}}
{{- $budget := div (mul (include "aiot-platform.bytes" $k.persistence.size | atoi) (int $r.volumePercent)) 100 -}}
{{- $per := div $budget $partitions -}}
{{- $segment := min (max (div $per 4) 1048576) 1073741824 -}}
{{- $retention := sub $per $segment -}}
{{- if lt $retention $segment -}}
{{- fail (printf "kafka.persistence.size %s is too small for %d partitions per broker (kafka.retention.maxFloors %d x 7 topics x numPartitions %d x replication %d / %d brokers, plus the offsets topic): each would get %d bytes, less than two 1 MiB segments. Grow the volume or lower maxFloors / numPartitions." (toString $k.persistence.size) $partitions (int $r.maxFloors) (int $k.numPartitions) $rf $brokers $per) -}}
{{- end -}}
{{- dict "partitions" $partitions "budget" $budget "segment" $segment "retention" $retention | toJson -}}
{{- end -}}
