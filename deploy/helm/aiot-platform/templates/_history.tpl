{{/* Name of the history store's credentials Secret (generated and kept, or the user's own). */}}
{{- define "aiot-platform.historySecret" -}}
{{- default (include "aiot-platform.componentName" (list . "history-db")) .Values.history.credentials.existingSecret -}}
{{- end -}}

{{/* Host of the history database: the release's StatefulSet service, or the external one. */}}
{{- define "aiot-platform.historyDbHost" -}}
{{- if .Values.history.postgresql.enabled -}}
{{- printf "%s.%s.svc.cluster.local" (include "aiot-platform.componentName" (list . "postgresql")) .Release.Namespace -}}
{{- else -}}
{{- required "history.externalDatabase.host is required when history.postgresql.enabled is false" .Values.history.externalDatabase.host -}}
{{- end -}}
{{- end -}}

{{- define "aiot-platform.historyDbPort" -}}
{{- if .Values.history.postgresql.enabled }}5432{{ else }}{{ .Values.history.externalDatabase.port }}{{ end -}}
{{- end -}}

{{- define "aiot-platform.historyDbName" -}}
{{- if .Values.history.postgresql.enabled }}{{ .Values.history.postgresql.database }}{{ else }}{{ .Values.history.externalDatabase.database }}{{ end -}}
{{- end -}}

{{/*
Environment giving a libpq URL for one role: the password comes from the Secret into
HISTORY_DB_PASSWORD, which Kubernetes expands inside HISTORY_DATABASE_URL ($(VAR) syntax).
Call with (list $ "<role>" "<secret key>"). Generated passwords are alphanumeric (URL-safe).
*/}}
{{- define "aiot-platform.historyDbEnv" -}}
{{- $root := index . 0 -}}
- name: HISTORY_DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "aiot-platform.historySecret" $root }}
      key: {{ index . 2 }}
- name: HISTORY_DATABASE_URL
  value: {{ printf "postgres://%s:$(HISTORY_DB_PASSWORD)@%s:%s/%s" (index . 1) (include "aiot-platform.historyDbHost" $root) (include "aiot-platform.historyDbPort" $root) (include "aiot-platform.historyDbName" $root) | quote }}
{{- end -}}

{{/* The StorageClass of the database volume. */}}
{{- define "aiot-platform.databaseStorageClass" -}}
{{- if eq .Values.storage.provider "portworx" -}}
{{- .Values.history.postgresql.portworx.storageClassName -}}
{{- else -}}
{{- .Values.storage.localPath.storageClassName -}}
{{- end -}}
{{- end -}}

{{/* The Grafana pods allowed to read the history database: namespace and labels. */}}
{{- define "aiot-platform.grafanaNamespace" -}}
{{- default .Values.networkPolicy.monitoringNamespace .Values.history.grafana.namespace -}}
{{- end -}}

{{- define "aiot-platform.historyDbOwner" -}}
{{- if .Values.history.postgresql.enabled }}{{ .Values.history.postgresql.owner }}{{ else }}{{ .Values.history.externalDatabase.user }}{{ end -}}
{{- end -}}

{{/* The external database's addresses as a JSON list; an empty list fails the render. */}}
{{- define "aiot-platform.externalDbCidrs" -}}
{{- if not .Values.history.externalDatabase.cidrs -}}
{{- fail "history.externalDatabase.cidrs: list the addresses of the external PostgreSQL (the network policies allow only them)" -}}
{{- end -}}
{{- toJson .Values.history.externalDatabase.cidrs -}}
{{- end -}}
