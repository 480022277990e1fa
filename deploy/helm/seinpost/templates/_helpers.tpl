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

{{- define "seinpost.bootstrap" -}}
{{- if .Values.kafka.create -}}
{{ .Values.kafka.name }}-kafka-bootstrap:9092
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

{{/* Environment every container gets: the ConfigMap, the DSN from the database Secret. */}}
{{- define "seinpost.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "seinpost.fullname" . }}-config
env:
  - name: SEINPOST_POSTGRES_DSN
    valueFrom:
      secretKeyRef:
        name: {{ include "seinpost.dbSecret" . }}
        key: {{ if .Values.postgres.create }}uri{{ else }}{{ .Values.postgres.existingSecretKey }}{{ end }}
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
