{{/*
Identities, credentials and TLS of the platform (docs/security.md). Identity names follow
libs/contracts access.policy: platform identities contain a "." (aiot.bridge), a floor's identity
is the floor id, so no floor can ever be named like a platform identity.
*/}}

{{/* Secret holding every password (keys kafka-<identity>, mqtt-<identity>, http-token). */}}
{{- define "aiot-platform.credentialsSecret" -}}
{{- default (include "aiot-platform.componentName" (list . "credentials")) .Values.security.credentials.existingSecret -}}
{{- end -}}

{{/* Secret holding the site CA (ca.crt, ca.key) and the brokers' certificate (tls.crt, tls.key). */}}
{{- define "aiot-platform.tlsSecret" -}}
{{- default (include "aiot-platform.componentName" (list . "tls")) .Values.security.tls.existingSecret -}}
{{- end -}}

{{/* Keys the credentials Secret must hold, as a JSON list. The admin and controller are the
brokers' super users; the others are the services' and each floor's identities. */}}
{{- define "aiot-platform.credentialKeys" -}}
{{- $keys := list "kafka-admin" "kafka-controller" "mqtt-admin" "kafka-aiot.bridge" "kafka-aiot.inference" "kafka-aiot.dashboard" "kafka-aiot.history" "mqtt-aiot.bridge" "http-token" -}}
{{- range .Values.floors }}{{ $keys = concat $keys (list (printf "kafka-%s" .) (printf "mqtt-%s" .)) }}{{ end -}}
{{- toJson $keys -}}
{{- end -}}

{{/* Kafka identities created when a broker formats its volume (before any Job can run): the
admin, which creates every other identity, and the platform services, so that they can connect
as soon as Kafka is up. */}}
{{- define "aiot-platform.kafkaBootstrapIdentities" -}}
{{- toJson (list "aiot.admin" "aiot.bridge" "aiot.inference" "aiot.dashboard" "aiot.history") -}}
{{- end -}}

{{/* DNS names in the brokers' certificate: the services and every pod of the headless ones,
plus what devices outside the cluster use (security.tls.extraNames). */}}
{{- define "aiot-platform.tlsNames" -}}
{{- $ns := .Release.Namespace -}}
{{- $names := list -}}
{{- range $c := list "kafka" "mosquitto" -}}
{{- $svc := include "aiot-platform.componentName" (list $ $c) -}}
{{- $names = concat $names (list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) (printf "*.%s-headless.%s.svc.cluster.local" $svc $ns)) -}}
{{- end -}}
{{- toJson (concat $names .Values.security.tls.extraNames) -}}
{{- end -}}

{{/* Mounts the password files one component may read: (list $ "volume-name" (list "key" ...)).
A projected Secret volume with only those keys, so no pod sees another identity's password. */}}
{{- define "aiot-platform.credentialsVolume" -}}
{{- $root := index . 0 -}}
- name: {{ index . 1 }}
  secret:
    secretName: {{ include "aiot-platform.credentialsSecret" $root }}
    defaultMode: 0440
    items:
      {{- range index . 2 }}
      - { key: {{ . | quote }}, path: {{ . | quote }} }
      {{- end }}
{{- end -}}

{{/* The site CA certificate only (public), for clients: (list $ "volume-name"). */}}
{{- define "aiot-platform.caVolume" -}}
- name: {{ index . 1 }}
  secret:
    secretName: {{ include "aiot-platform.tlsSecret" (index . 0) }}
    items:
      - { key: ca.crt, path: ca.crt }
{{- end -}}

{{/* Kafka client environment of a platform service: SCRAM-SHA-512 over TLS as `identity`.
Call with (list $ "aiot.bridge"); expects the credentials at /var/run/aiot/credentials and the CA
at /var/run/aiot/tls. */}}
{{- define "aiot-platform.kafkaClientEnv" -}}
- name: KAFKA_SASL_MECHANISM
  value: scram-sha-512
- name: KAFKA_SASL_USERNAME
  value: {{ index . 1 | quote }}
- name: KAFKA_SASL_PASSWORD_FILE
  value: {{ printf "/var/run/aiot/credentials/kafka-%s" (index . 1) | quote }}
- name: KAFKA_TLS_CA_FILE
  value: /var/run/aiot/tls/ca.crt
{{- end -}}

{{/* Volumes and mounts every platform service has: its own password files and the CA.
Call with (list $ "kafka-aiot.bridge" ...). */}}
{{- define "aiot-platform.identityVolumes" -}}
{{- $root := index . 0 -}}
{{- include "aiot-platform.credentialsVolume" (list $root "credentials" (rest .)) }}
{{ include "aiot-platform.caVolume" (list $root "site-ca") }}
{{- end -}}

{{- define "aiot-platform.identityMounts" -}}
- { name: credentials, mountPath: /var/run/aiot/credentials, readOnly: true }
- { name: site-ca, mountPath: /var/run/aiot/tls, readOnly: true }
{{- end -}}

{{/* HTTP authentication of the dashboard and the inference API (security.http.requireToken). */}}
{{- define "aiot-platform.httpAuthEnv" -}}
{{- if .Values.security.http.requireToken }}
- name: HTTP_AUTH_TOKEN_FILE
  value: /var/run/aiot/credentials/http-token
{{- end }}
{{- end -}}
{{/* Ports of the Mosquitto Services: only the listeners that exist. */}}
{{- define "aiot-platform.mqttServicePorts" -}}
{{- if .Values.mosquitto.listeners.tls }}
- { name: mqtts, port: 8883, targetPort: mqtts, protocol: TCP }
{{- end }}
{{- if .Values.mosquitto.listeners.plain }}
- { name: mqtt, port: 1883, targetPort: mqtt, protocol: TCP }
{{- end }}
{{- end -}}

{{/*
Kafka's listeners: clients (9092) and the brokers among themselves (9094) use SCRAM-SHA-512 over
TLS; the KRaft controllers (9093) use SASL/PLAIN over TLS, because SCRAM credentials live in the
metadata log the controllers serve. StandardAuthorizer, nothing allowed without an ACL; only the
admin and the controller identities are super users. __ADMIN_PASSWORD__ and
__CONTROLLER_PASSWORD__ are filled in by the start command from the credentials Secret.
Call with (list $ $headlessServiceName).
*/}}
{{- define "aiot-platform.kafkaListeners" -}}
{{- $root := index . 0 -}}
{{- $host := printf "__POD_NAME__.%s.%s.svc.cluster.local" (index . 1) $root.Release.Namespace -}}
listeners=CLIENT://:9092,INTERNAL://:9094,CONTROLLER://:9093
{{- /* Controllers advertise their endpoint too: the voter set records it when a node joins. */}}
advertised.listeners=CLIENT://{{ $host }}:9092,INTERNAL://{{ $host }}:9094,CONTROLLER://{{ $host }}:9093
controller.listener.names=CONTROLLER
inter.broker.listener.name=INTERNAL
listener.security.protocol.map=CLIENT:SASL_SSL,INTERNAL:SASL_SSL,CONTROLLER:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.internal.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="aiot.admin" password="__ADMIN_PASSWORD__";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="aiot.controller" password="__CONTROLLER_PASSWORD__" user_aiot.controller="__CONTROLLER_PASSWORD__";
ssl.keystore.type=PEM
ssl.keystore.location=/var/run/kafka/keystore/kafka.pem
ssl.truststore.type=PEM
ssl.truststore.location=/var/run/kafka/tls/ca.crt
ssl.client.auth=none
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:aiot.admin;User:aiot.controller
{{- end -}}

{{/* MQTT ports that exist, for policies: a JSON list (Calico) or NetworkPolicy port entries. */}}
{{- define "aiot-platform.mqttPorts" -}}
{{- $p := list -}}
{{- if .Values.mosquitto.listeners.tls }}{{ $p = append $p 8883 }}{{ end -}}
{{- if .Values.mosquitto.listeners.plain }}{{ $p = append $p 1883 }}{{ end -}}
{{- toJson $p -}}
{{- end -}}

{{- define "aiot-platform.mqttPolicyPorts" -}}
{{- if .Values.mosquitto.listeners.tls }}
- { protocol: TCP, port: 8883 }
{{- end }}
{{- if .Values.mosquitto.listeners.plain }}
- { protocol: TCP, port: 1883 }
{{- end }}
{{- end -}}
