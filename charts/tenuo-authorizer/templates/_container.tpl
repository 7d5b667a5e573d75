{{/*
The authorizer container, as one list item. The gateway Deployment uses it, and
so can an agent's pod (sidecar mode), given this chart's context:

  containers:
    {{- include "tenuo-authorizer.sidecarContainer" (index .Subcharts "tenuo-authorizer") | nindent 4 }}
*/}}
{{- define "tenuo-authorizer.sidecarContainer" -}}
{{- include "tenuo-authorizer.validate" . }}
{{- $c := .Values.config -}}
- name: tenuo-authorizer
  image: {{ include "tenuo-authorizer.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: ["serve"]
  {{- if and (eq .Values.mode "sidecar") .Values.sidecar.native }}
  restartPolicy: Always
  {{- end }}
  env:
    - name: LISTEN_ADDR
      value: {{ printf "0.0.0.0:%v" .Values.ports.http | quote }}
    - name: METRICS_ADDR
      value: {{ printf "0.0.0.0:%v" .Values.ports.metrics | quote }}
    {{- if $c.trustedRoots }}
    - name: TRUSTED_ISSUERS
      value: {{ join "," $c.trustedRoots | quote }}
    {{- end }}
    {{- if $c.existingSecret }}
    - name: TRUSTED_ISSUERS_FILE
      value: {{ printf "/etc/tenuo/trust/%s" $c.existingSecretKey | quote }}
    {{- end }}
    {{- if $c.revocationSecret }}
    - name: TENUO_REVOCATION_FILE
      value: {{ printf "/etc/tenuo/revocation/%s" $c.revocationSecretKey | quote }}
    {{- end }}
    {{- if $c.gateway }}
    - name: TENUO_GATEWAY_CONFIG
      value: /etc/tenuo/gateway/gateway.yaml
    {{- end }}
    {{- if $c.debug }}
    - name: DEBUG_MODE
      value: "true"
    {{- end }}
    {{- with $c.replayProtection }}
    {{- if .enabled }}
    - name: TENUO_REPLAY_PROTECTION
      value: "true"
    - name: TENUO_REPLAY_CAPACITY
      value: {{ .capacity | default 100000 | int | quote }}
    {{- end }}
    {{- end }}
    {{- if $c.strictSignatures }}
    - name: TENUO_STRICT_SIGNATURES
      value: "true"
    {{- end }}
    {{- with $c.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  ports:
    - name: http
      containerPort: {{ .Values.ports.http }}
      protocol: TCP
    - name: metrics
      containerPort: {{ .Values.ports.metrics }}
      protocol: TCP
  {{- /* A probe set to null is left out, not rendered as `null` (not a Probe); `cargo xtask chart` flags its absence. */}}
  {{- with .Values.livenessProbe }}
  livenessProbe:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.readinessProbe }}
  readinessProbe:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  resources:
    {{- include "tenuo-authorizer.resources" . | nindent 4 }}
  securityContext:
    {{- toYaml .Values.containerSecurityContext | nindent 4 }}
  {{- with (include "tenuo-authorizer.volumeMounts" .) }}
  volumeMounts:
    {{- . | nindent 4 }}
  {{- end }}
{{- end }}

{{/*
Whole directories, never subPath: a subPath mount is a snapshot, and the
authorizer watches the trust and revocation files to reload them.
*/}}
{{- define "tenuo-authorizer.volumeMounts" -}}
{{- $m := list }}
{{- range $name, $dir := dict "tenuo-trust" "trust" "tenuo-revocation" "revocation" "tenuo-gateway" "gateway" }}
{{- if hasKey (include "tenuo-authorizer.volumesByName" $ | fromYaml) $name }}
{{- $m = append $m (dict "name" $name "mountPath" (printf "/etc/tenuo/%s" $dir) "readOnly" true) }}
{{- end }}
{{- end }}
{{- with $m }}{{ toYaml . }}{{ end }}
{{- end }}

{{/* The pod volumes the container above mounts; empty when it mounts none. */}}
{{- define "tenuo-authorizer.sidecarVolumes" -}}
{{- $v := include "tenuo-authorizer.volumesByName" . | fromYaml }}
{{- $list := list }}
{{- range $name := keys $v | sortAlpha }}
{{- $list = append $list (merge (dict "name" $name) (get $v $name)) }}
{{- end }}
{{- with $list }}{{ toYaml . }}{{ end }}
{{- end }}

{{- define "tenuo-authorizer.volumesByName" -}}
{{- $c := .Values.config }}
{{- $v := dict }}
{{- if $c.existingSecret }}
{{- $items := list (dict "key" $c.existingSecretKey "path" $c.existingSecretKey) }}
{{- $_ := set $v "tenuo-trust" (dict "secret" (dict "secretName" $c.existingSecret "items" $items)) }}
{{- end }}
{{- if $c.revocationSecret }}
{{- $items := list (dict "key" $c.revocationSecretKey "path" $c.revocationSecretKey) }}
{{- $_ := set $v "tenuo-revocation" (dict "secret" (dict "secretName" $c.revocationSecret "items" $items)) }}
{{- end }}
{{- if $c.gateway }}
{{- $_ := set $v "tenuo-gateway" (dict "configMap" (dict "name" (include "tenuo-authorizer.gatewayConfigName" .))) }}
{{- end }}
{{- toYaml $v }}
{{- end }}
