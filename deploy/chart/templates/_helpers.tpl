{{/* The image every component runs. */}}
{{- define "airunway.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* Labels of every object; `component` names its part (controller-manager, vllm-provider, dashboard...). */}}
{{- define "airunway.labels" -}}
app.kubernetes.io/name: airunway
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{/* What every pod shares: pull secrets, security context, a writable /tmp. */}}
{{- define "airunway.podSecurity" -}}
securityContext:
{{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* What every container shares: image, pull policy, security context. */}}
{{- define "airunway.container" -}}
image: {{ include "airunway.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
{{- toYaml .Values.securityContext | nindent 2 }}
{{- end }}

{{/* The pod's namespace, for leader election and the webhook certificate. */}}
{{- define "airunway.podNamespaceEnv" -}}
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- end }}

{{/* Probes of the controllers' health endpoint on port 8081. */}}
{{- define "airunway.healthProbes" -}}
livenessProbe:
  httpGet:
    path: /healthz
    port: 8081
  initialDelaySeconds: 15
  periodSeconds: 20
readinessProbe:
  httpGet:
    path: /readyz
    port: 8081
  initialDelaySeconds: 5
  periodSeconds: 10
{{- end }}

{{/* Scheduling settings of one component (nodeSelector, tolerations, affinity). */}}
{{- define "airunway.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
{{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
{{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
{{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
