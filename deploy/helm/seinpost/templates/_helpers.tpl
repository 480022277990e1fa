{{- define "seinpost.fullname" -}}
{{- printf "%s" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "seinpost.labels" -}}
app.kubernetes.io/name: seinpost
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "seinpost.selector" -}}
app.kubernetes.io/name: seinpost
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "seinpost.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* Whether the services authenticate to the chart's own Kafka with SCRAM over TLS. */}}
{{- define "seinpost.scram" -}}
{{- if and .Values.kafka.create .Values.kafka.scramUsers .Values.kafka.servicesUseScram -}}true{{- end -}}
{{- end -}}

{{- define "seinpost.bootstrap" -}}
{{- if .Values.kafka.create -}}
{{ .Values.kafka.name }}-kafka-bootstrap:{{ if include "seinpost.scram" . }}9094{{ else }}9092{{ end }}
{{- else -}}
{{ required "kafka.bootstrapServers is required when kafka.create is false" .Values.kafka.bootstrapServers }}
{{- end -}}
{{- end -}}

{{- define "seinpost.dbSecret" -}}
{{- if .Values.postgres.create -}}
{{ .Values.postgres.name }}-app
{{- else -}}
{{ required "postgres.existingSecret is required when postgres.create is false" .Values.postgres.existingSecret }}
{{- end -}}
{{- end -}}

{{/* Environment every container gets: the ConfigMap, the DSN from the database Secret and,
with SCRAM, the Kafka user of its service (.user) with the password from the Secret the
Strimzi User Operator writes. Called with (dict "root" $ "user" "intake"). */}}
{{- define "seinpost.env" -}}
{{- $root := .root -}}
envFrom:
  - configMapRef:
      name: {{ include "seinpost.fullname" $root }}-config
env:
  - name: SEINPOST_POSTGRES_DSN
    valueFrom:
      secretKeyRef:
        name: {{ include "seinpost.dbSecret" $root }}
        key: {{ if $root.Values.postgres.create }}uri{{ else }}{{ $root.Values.postgres.existingSecretKey }}{{ end }}
{{- if include "seinpost.scram" $root }}
  - name: SEINPOST_KAFKA_SECURITY_PROTOCOL
    value: SASL_SSL
  - name: SEINPOST_KAFKA_SASL_MECHANISM
    value: SCRAM-SHA-512
  - name: SEINPOST_KAFKA_SASL_USERNAME
    value: {{ include "seinpost.fullname" $root }}-{{ .user }}
  - name: SEINPOST_KAFKA_SASL_PASSWORD
    valueFrom:
      secretKeyRef:
        name: {{ include "seinpost.fullname" $root }}-{{ .user }}
        key: password
  - name: SEINPOST_KAFKA_SSL_CAFILE
    value: /etc/seinpost/kafka-ca/ca.crt
{{- end }}
{{- end -}}

{{/* With SCRAM: the cluster CA, mounted where SEINPOST_KAFKA_SSL_CAFILE points. */}}
{{- define "seinpost.kafkaCaMount" -}}
{{- if include "seinpost.scram" . -}}
- {name: kafka-ca, mountPath: /etc/seinpost/kafka-ca, readOnly: true}
{{- end }}
{{- end -}}

{{- define "seinpost.kafkaCaVolume" -}}
{{- if include "seinpost.scram" . -}}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.name }}-cluster-ca-cert
    items:
      - {key: ca.crt, path: ca.crt}
{{- end }}
{{- end -}}

{{- define "seinpost.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "seinpost.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* Probes on a port: liveness /healthz (the process answers), readiness /readyz (Kafka and
PostgreSQL reachable; out of the Service, or reported not ready, while they are not). */}}
{{- define "seinpost.probes" -}}
startupProbe:
  httpGet: {path: /healthz, port: {{ .port }}}
  periodSeconds: 2
  failureThreshold: 60
livenessProbe:
  httpGet: {path: /healthz, port: {{ .port }}}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /readyz, port: {{ .port }}}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
{{- end -}}
