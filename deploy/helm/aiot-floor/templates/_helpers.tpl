{{- define "aiot-floor.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The floor namespace. Rendering fails early on what would break isolation or Helm. */}}
{{- define "aiot-floor.namespace" -}}
{{- if and .Values.namespace.create (eq .Release.Namespace .Values.floor) -}}
{{- fail (printf "the aiot-floor release must not live in the floor namespace %q that it creates: install it in the platform namespace (helm upgrade --install %s deploy/helm/aiot-floor -n %s --set floor=%s), or set namespace.create=false and label the namespace aiot.io/floor=%s yourself" .Values.floor .Values.floor .Values.platform.namespace .Values.floor .Values.floor) -}}
{{- end -}}
{{- .Values.floor -}}
{{- end -}}

{{- define "aiot-floor.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ index . 1 }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
{{- end -}}

{{- define "aiot-floor.labels" -}}
{{- $root := index . 0 -}}
{{ include "aiot-floor.selectorLabels" . }}
app.kubernetes.io/component: {{ index . 2 | default (index . 1) }}
app.kubernetes.io/part-of: aiot-edge
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
helm.sh/chart: {{ include "aiot-floor.chart" $root }}
aiot.io/floor: {{ $root.Values.floor }}
{{- end -}}

{{- define "aiot-floor.commonLabels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: aiot-edge
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "aiot-floor.chart" . }}
aiot.io/floor: {{ .Values.floor }}
{{- end -}}

{{/* <registry><prefix><app>:<tag>[@<digest>]. Call with (list $ "sensor-ingest"). */}}
{{- define "aiot-floor.appImage" -}}
{{- $root := index . 0 -}}
{{- $app := index . 1 -}}
{{- $i := $root.Values.images -}}
{{- $ref := printf "%s%s%s:%s" $i.registry $i.repositoryPrefix $app (default $root.Chart.AppVersion $i.tag) -}}
{{- with (get (default dict $i.digests) $app) }}{{ $ref = printf "%s@%s" $ref . }}{{ end -}}
{{- $ref -}}
{{- end -}}

{{- define "aiot-floor.imagePullSecrets" -}}
{{- with .Values.images.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "aiot-floor.kafkaBrokers" -}}
{{- default (printf "%s-kafka.%s.svc.cluster.local:9092" .Values.platform.releaseName .Values.platform.namespace) .Values.platform.kafkaBrokers -}}
{{- end -}}

{{- define "aiot-floor.podSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: {{ . }}
  runAsGroup: {{ . }}
  fsGroup: {{ . }}
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{- define "aiot-floor.containerSecurityContext" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  privileged: false
  capabilities:
    drop: ["ALL"]
{{- end -}}

{{- define "aiot-floor.pdbSpec" -}}
{{- if gt (int .) 1 }}
minAvailable: {{ sub (int .) 1 }}
{{- else }}
maxUnavailable: 1
{{- end }}
{{- end -}}

{{- define "aiot-floor.calicoLabelSelector" -}}
{{- $parts := list -}}
{{- range $k, $v := . }}{{ $parts = append $parts (printf "%s == '%s'" $k $v) }}{{ end -}}
{{- join " && " $parts -}}
{{- end -}}

{{/*
One of our floor apps: ServiceAccount (no token), Service, PDB, Deployment.
Call with (dict "root" $ "app" "sensor-ingest" "values" .Values.sensorIngest "env" $env "volumes" $v "mounts" $m ["recreate" true])
*/}}
{{- define "aiot-floor.app" -}}
{{- $root := .root -}}
{{- $app := .app -}}
{{- $v := .values -}}
{{- $ns := include "aiot-floor.namespace" $root -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $app }}
  namespace: {{ $ns }}
  labels:
    {{- include "aiot-floor.labels" (list $root $app "") | nindent 4 }}
automountServiceAccountToken: false
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $app }}
  namespace: {{ $ns }}
  labels:
    {{- include "aiot-floor.labels" (list $root $app "") | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "aiot-floor.selectorLabels" (list $root $app) | nindent 4 }}
  ports:
    - { name: http, port: 8080, targetPort: http, protocol: TCP }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $app }}
  namespace: {{ $ns }}
  labels:
    {{- include "aiot-floor.labels" (list $root $app "") | nindent 4 }}
spec:
  {{- include "aiot-floor.pdbSpec" $v.replicas | nindent 2 }}
  selector:
    matchLabels:
      {{- include "aiot-floor.selectorLabels" (list $root $app) | nindent 6 }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $app }}
  namespace: {{ $ns }}
  labels:
    {{- include "aiot-floor.labels" (list $root $app "") | nindent 4 }}
spec:
  replicas: {{ $v.replicas }}
  revisionHistoryLimit: 5
  {{- if .recreate }}
  # one pod at a time (old one stopped first): a ReadWriteOnce volume is released before the new
  # pod mounts it, as Recreate would, while kube-score's RollingUpdate check still holds
  strategy:
    type: RollingUpdate
    rollingUpdate: { maxSurge: 0, maxUnavailable: 1 }
  {{- end }}
  selector:
    matchLabels:
      {{- include "aiot-floor.selectorLabels" (list $root $app) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "aiot-floor.labels" (list $root $app "") | nindent 8 }}
      annotations:
        {{- if $root.Values.metrics.annotations }}
        prometheus.io/scrape: "true"
        prometheus.io/port: "8080"
        prometheus.io/path: /metrics
        {{- end }}
        checksum/values: {{ $v | toJson | sha256sum | trunc 16 }}
    spec:
      serviceAccountName: {{ $app }}
      automountServiceAccountToken: false
      {{- include "aiot-floor.imagePullSecrets" $root | nindent 6 }}
      {{- include "aiot-floor.podSecurityContext" 10001 | nindent 6 }}
      terminationGracePeriodSeconds: 30
      containers:
        - name: {{ $app }}
          image: {{ include "aiot-floor.appImage" (list $root $app) | quote }}
          imagePullPolicy: {{ $root.Values.images.pullPolicy }}
          {{- include "aiot-floor.containerSecurityContext" $root | nindent 10 }}
          ports:
            - { name: http, containerPort: 8080, protocol: TCP }
          env:
            - { name: LOG_LEVEL, value: {{ $root.Values.logLevel | quote }} }
            - { name: HTTP_PORT, value: "8080" }
            - { name: SITE_ID, value: {{ $root.Values.siteId | quote }} }
            - { name: FLOOR, value: {{ $root.Values.floor | quote }} }
            - { name: KAFKA_BROKERS, value: {{ include "aiot-floor.kafkaBrokers" $root | quote }} }
            - { name: KAFKA_CLIENT_ID, value: {{ printf "%s-%s" $app $root.Values.floor | quote }} }
            # The floor's own Kafka identity: SCRAM-SHA-512 over TLS, ACLs on aiot.<floor>. only.
            - { name: KAFKA_SASL_MECHANISM, value: scram-sha-512 }
            - { name: KAFKA_SASL_USERNAME, value: {{ $root.Values.floor | quote }} }
            - { name: KAFKA_SASL_PASSWORD_FILE, value: /var/run/aiot/kafka/password }
            - { name: KAFKA_TLS_CA_FILE, value: /var/run/aiot/kafka/ca.crt }
            {{- with .env }}
            {{- . | nindent 12 }}
            {{- end }}
          startupProbe:
            httpGet: { path: /health/live, port: http }
            periodSeconds: 2
            failureThreshold: 60
          livenessProbe:
            httpGet: { path: /health/live, port: http }
            periodSeconds: 10
            timeoutSeconds: 3
          readinessProbe:
            httpGet: { path: /health/ready, port: http }
            periodSeconds: 5
            timeoutSeconds: 3
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          volumeMounts:
            - { name: tmp, mountPath: /tmp }
            - { name: kafka-identity, mountPath: /var/run/aiot/kafka, readOnly: true }
            {{- with .mounts }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 256Mi
        - name: kafka-identity
          secret:
            secretName: {{ include "aiot-floor.kafkaSecret" $root }}
            defaultMode: 0440
        {{- with .volumes }}
        {{- . | nindent 8 }}
        {{- end }}
{{- end -}}

{{/* Secret in the floor namespace with the floor's Kafka password (key password) and the site
CA (key ca.crt). */}}
{{- define "aiot-floor.kafkaSecret" -}}
{{- default "aiot-kafka-identity" .Values.kafka.existingSecret -}}
{{- end -}}
