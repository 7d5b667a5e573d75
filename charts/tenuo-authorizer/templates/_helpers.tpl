{{/* Names and labels, in the usual Helm shape. */}}

{{- define "tenuo-authorizer.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tenuo-authorizer.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tenuo-authorizer.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tenuo-authorizer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tenuo-authorizer.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tenuo-authorizer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: {{ .Values.mode }}
app.kubernetes.io/part-of: tenuo
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Pod template labels: the chart's, plus `app: <chart name>`, the label the guide
finds the authorizer by (`kubectl logs -l app=tenuo-authorizer`, its PodMonitor).
Not in the Deployment's selector: a selector is immutable, so adding a label
there would make `helm upgrade` from an older release fail. podLabels add
labels but never replace these: the guide's commands and the selector rely on them.
*/}}
{{- define "tenuo-authorizer.podLabels" -}}
{{- $own := merge (dict "app" (include "tenuo-authorizer.name" .)) (include "tenuo-authorizer.labels" . | fromYaml) }}
{{- toYaml (merge $own (.Values.podLabels | default dict)) }}
{{- end }}

{{- define "tenuo-authorizer.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tenuo-authorizer.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tenuo-authorizer.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "tenuo-authorizer.gatewayConfigName" -}}
{{- printf "%s-gateway" (include "tenuo-authorizer.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fails the render when the values cannot work: the authorizer refuses to run
without a trusted issuer, two trust sources would be ambiguous, and a sidecar
PodMonitor left on the chart's own selector would match no pod.
*/}}
{{- define "tenuo-authorizer.validate" -}}
{{- $c := .Values.config }}
{{- if and (not $c.trustedRoots) (not $c.existingSecret) }}
{{- fail "set config.trustedRoots (e.g. --set 'config.trustedRoots[0]=HEX') or config.existingSecret: the authorizer refuses to start without a trusted issuer" }}
{{- end }}
{{- if and $c.trustedRoots $c.existingSecret }}
{{- fail "config.trustedRoots and config.existingSecret are exclusive: pick the env list or the reloadable Secret file" }}
{{- end }}
{{- $pm := .Values.metrics.podMonitor }}
{{- if and (eq .Values.mode "sidecar") $pm.enabled (not $pm.selector) }}
{{- fail "metrics.podMonitor.selector is empty in sidecar mode: the chart runs no pod of its own, so the default selector would scrape nothing; set it to your agent pods' labels (e.g. {app.kubernetes.io/name: my-agent})" }}
{{- end }}
{{- end }}

{{/*
ServiceMonitor and PodMonitor are Prometheus Operator kinds. On a cluster
without its CRDs the API server would refuse the whole release with a bare
"no matches for kind"; fail first and say what to install. `key` is the
values key that turned the monitor on. `helm template` knows no cluster: it
needs `--api-versions monitoring.coreos.com/v1` to render a monitor.
*/}}
{{- define "tenuo-authorizer.requireMonitoringAPI" -}}
{{- if not (.ctx.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}
{{- fail (printf "%s is true, but this cluster does not serve monitoring.coreos.com/v1: install the Prometheus Operator CRDs (ServiceMonitor, PodMonitor) first, or set %s=false. With helm template, pass --api-versions monitoring.coreos.com/v1" .key .key) }}
{{- end }}
{{- end }}

{{/*
Pod template annotation: a hash of the configuration that lives outside the pod
spec (the gateway ConfigMap), so `helm upgrade` rolls the pods when it changes.
Secrets given by name are left out on purpose: the authorizer reloads them.
*/}}
{{- define "tenuo-authorizer.checksum" -}}
checksum/config: {{ dict "gateway" .Values.config.gateway "trustedRoots" .Values.config.trustedRoots "debug" .Values.config.debug | toJson | sha256sum }}
{{- end }}

{{- define "tenuo-authorizer.resources" -}}
{{- if eq .Values.mode "sidecar" }}
{{- toYaml .Values.resources.sidecar }}
{{- else }}
{{- toYaml .Values.resources.gateway }}
{{- end }}
{{- end }}

{{/* Effective minimum number of gateway replicas (HPA floor or replicaCount). */}}
{{- define "tenuo-authorizer.minReplicas" -}}
{{- if .Values.autoscaling.enabled }}{{ .Values.autoscaling.minReplicas }}{{ else }}{{ .Values.replicaCount }}{{ end }}
{{- end }}
