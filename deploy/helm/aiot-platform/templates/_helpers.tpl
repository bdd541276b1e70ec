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

{{/* Image of one of our apps. Call with (list $ "inference"). */}}
{{- define "aiot-platform.appImage" -}}
{{- $root := index . 0 -}}
{{- $i := $root.Values.images -}}
{{- printf "%s%s%s:%s" $i.registry $i.repositoryPrefix (index . 1) (default $root.Chart.AppVersion $i.tag) -}}
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

{{/* "name=version name=version" list of the models the publish job copies. */}}
{{- define "aiot-platform.modelList" -}}
{{- range $i, $m := .Values.modelPublish.models }}{{ if $i }} {{ end }}{{ $m.name }}={{ $m.version }}{{ end -}}
{{- end -}}

{{/* A map of labels as a Calico selector: k1 == 'v1' && k2 == 'v2'. */}}
{{- define "aiot-platform.calicoLabelSelector" -}}
{{- $parts := list -}}
{{- range $k, $v := . }}{{ $parts = append $parts (printf "%s == '%s'" $k $v) }}{{ end -}}
{{- join " && " $parts -}}
{{- end -}}
