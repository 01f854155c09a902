{{/*
One provider controller: its ServiceAccount, least-privilege ClusterRole (rules from "airunway.rules.NAME") and
binding, and the Deployment running `airunway provider NAME`.
  include "airunway.provider" (dict "root" . "name" "vllm")
*/}}
{{- define "airunway.provider" -}}
{{- $root := .root }}
{{- $name := .name }}
{{- $shim := printf "airunway-%s-provider" $name }}
{{- $component := printf "%s-provider" $name }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $shim }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "airunway.labels" (dict "component" $component) | nindent 4 }}
---
# Least privilege: exactly what the provider process reads and writes.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {{ $shim }}-role
  labels:
    {{- include "airunway.labels" (dict "component" $component) | nindent 4 }}
rules:
{{- include (printf "airunway.rules.%s" $name) $root }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ $shim }}-rolebinding
  labels:
    {{- include "airunway.labels" (dict "component" $component) | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ $shim }}-role
subjects:
- kind: ServiceAccount
  name: {{ $shim }}
  namespace: {{ $root.Release.Namespace }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $shim }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    control-plane: {{ $component }}
    {{- include "airunway.labels" (dict "component" $component) | nindent 4 }}
spec:
  replicas: 1
  selector:
    matchLabels:
      control-plane: {{ $component }}
      app.kubernetes.io/name: airunway
  template:
    metadata:
      annotations:
        kubectl.kubernetes.io/default-container: manager
      labels:
        control-plane: {{ $component }}
        {{- include "airunway.labels" (dict "component" $component) | nindent 8 }}
    spec:
      serviceAccountName: {{ $shim }}
      terminationGracePeriodSeconds: 10
      {{- include "airunway.podSecurity" $root | nindent 6 }}
      containers:
      - name: manager
        {{- include "airunway.container" $root | nindent 8 }}
        command: ["airunway", "provider", "{{ $name }}"]
        args:
        - --leader-elect
        - --health-probe-bind-address=:8081
        env:
        {{- include "airunway.podNamespaceEnv" $root | nindent 8 }}
        {{- with (index $root.Values.providers $name).env }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        ports:
        - name: metrics
          containerPort: 8443
          protocol: TCP
        - name: health
          containerPort: 8081
          protocol: TCP
        {{- include "airunway.healthProbes" $root | nindent 8 }}
        resources:
          {{- toYaml $root.Values.providerResources | nindent 10 }}
        volumeMounts:
        - name: tmp
          mountPath: /tmp
      volumes:
      - name: tmp
        emptyDir: {}
{{- end }}
