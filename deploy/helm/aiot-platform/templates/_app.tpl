{{/*
One of our Node apps as ServiceAccount (no token) + Service + PodDisruptionBudget + Deployment
(or StatefulSet: stable pod names, e.g. for an identity that must survive replacement, with a
headless <name>-headless Service as its serviceName).
Call with (dict "root" $ "app" "inference" "values" .Values.inference "env" $envYaml
               "volumes" $volYaml "mounts" $mountYaml "initContainers" $initYaml
               "kind" "Deployment")
*/}}
{{- define "aiot-platform.app" -}}
{{- $root := .root -}}
{{- $app := .app -}}
{{- $v := .values -}}
{{- $kind := .kind | default "Deployment" -}}
{{- $name := include "aiot-platform.componentName" (list $root $app) -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "aiot-platform.labels" (list $root $app) | nindent 4 }}
automountServiceAccountToken: false
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "aiot-platform.labels" (list $root $app) | nindent 4 }}
spec:
  type: {{ .serviceType | default "ClusterIP" }}
  selector:
    {{- include "aiot-platform.selectorLabels" (list $root $app) | nindent 4 }}
  ports:
    - name: http
      port: 8080
      targetPort: http
      protocol: TCP
      {{- if .nodePort }}
      nodePort: {{ .nodePort }}
      {{- end }}
{{- if eq $kind "StatefulSet" }}
---
# The StatefulSet's governing Service (stable pod DNS names); headless.
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}-headless
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "aiot-platform.labels" (list $root $app) | nindent 4 }}
    # Not a scrape target: the ServiceMonitor scrapes the pods through the regular Service.
    aiot.io/governing-service: "true"
spec:
  clusterIP: None
  selector:
    {{- include "aiot-platform.selectorLabels" (list $root $app) | nindent 4 }}
  ports:
    - { name: http, port: 8080, targetPort: http, protocol: TCP }
{{- end }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "aiot-platform.labels" (list $root $app) | nindent 4 }}
spec:
  {{- include "aiot-platform.pdbSpec" $v.replicas | nindent 2 }}
  selector:
    matchLabels:
      {{- include "aiot-platform.selectorLabels" (list $root $app) | nindent 6 }}
---
apiVersion: apps/v1
kind: {{ $kind }}
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "aiot-platform.labels" (list $root $app) | nindent 4 }}
spec:
  replicas: {{ $v.replicas }}
  revisionHistoryLimit: 5
  {{- if eq $kind "StatefulSet" }}
  serviceName: {{ $name }}-headless
  # Replicas are independent (no start order); each keeps its ordinal, hence its name.
  podManagementPolicy: Parallel
  updateStrategy:
    type: RollingUpdate
  {{- else }}
  strategy:
    type: RollingUpdate
  {{- end }}
  selector:
    matchLabels:
      {{- include "aiot-platform.selectorLabels" (list $root $app) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "aiot-platform.labels" (list $root $app) | nindent 8 }}
      annotations:
        {{- include "aiot-platform.scrapeAnnotations" $root | nindent 8 }}
        checksum/values: {{ $v | toJson | sha256sum | trunc 16 }}
    spec:
      serviceAccountName: {{ $name }}
      automountServiceAccountToken: false
      {{- include "aiot-platform.imagePullSecrets" $root | nindent 6 }}
      {{- include "aiot-platform.podSecurityContext" 10001 | nindent 6 }}
      terminationGracePeriodSeconds: 30
      {{- if gt (int $v.replicas) 1 }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "aiot-platform.selectorLabels" (list $root $app) | nindent 14 }}
      {{- end }}
      {{- with .initContainers }}
      initContainers:
        {{- . | trim | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $app }}
          image: {{ include "aiot-platform.appImage" (list $root $app) | quote }}
          imagePullPolicy: {{ $root.Values.images.pullPolicy }}
          {{- include "aiot-platform.containerSecurityContext" $root | nindent 10 }}
          ports:
            - { name: http, containerPort: 8080, protocol: TCP }
          env:
            {{- include "aiot-platform.commonEnv" (list $root $app) | nindent 12 }}
            {{- with .env }}
            {{- . | nindent 12 }}
            {{- end }}
          {{- include "aiot-platform.appProbes" $root | nindent 10 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          volumeMounts:
            - { name: tmp, mountPath: /tmp }
            {{- with .mounts }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 256Mi
        {{- with .volumes }}
        {{- . | nindent 8 }}
        {{- end }}
{{- end -}}
