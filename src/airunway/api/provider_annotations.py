"""The ``airunway.ai/*`` annotations on an InferenceProviderConfig that tell the dashboard how to present a provider,
what it can deploy, how to judge its health and how to install it: one codec for both sides.

A provider encodes what it registers with :func:`encode`; the dashboard reads any registered config with
:func:`decode`. Decoding is forgiving, as upstream's dashboard is: a value that is not valid JSON, not an object, or
an entry of the wrong shape is left out and named in ``warnings``, so one bad annotation never hides a provider.
``decode(..., strict=True)`` raises :class:`AnnotationError` instead, naming every problem (the providers' tests
use it to check what they write).

The keys and JSON shapes are upstream's (reference backend.md §4.15, providers.md §0.3).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from airunway.api.common import K8sModel
from airunway.api.constants import (
    ANNOTATION_CAPABILITIES,
    ANNOTATION_DEFAULT_NAMESPACE,
    ANNOTATION_DEPLOYMENT_DEFAULTS,
    ANNOTATION_DESCRIPTION,
    ANNOTATION_DISPLAY_NAME,
    ANNOTATION_DOCUMENTATION,
    ANNOTATION_DOCUMENTATION_URL,
    ANNOTATION_HEALTH,
    ANNOTATION_ICON,
    ANNOTATION_INSTALLATION,
    ANNOTATION_PROVIDER_NAME,
)
from airunway.api.providerconfig import InstallationInfo

LEGACY_PROVIDER_NAME = "airunway.io/provider-name"
LEGACY_DISPLAY_NAME = "airunway.io/display-name"
DEFAULT_NAMESPACE = "default"
"""The namespace of a provider whose annotations name none."""


class HealthCRD(K8sModel):
    """A CRD whose presence shows the provider's upstream is installed."""

    name: str
    """The CRD's name, e.g. workspaces.kaito.sh."""
    display_name: str | None = None
    """How messages call it, e.g. "KAITO workspace CRD"."""


class OperatorPodProbe(K8sModel):
    """Where to look for the upstream operator's pods: the first selector that finds a ready pod wins."""

    namespace: str | None = None
    """The namespace to search; none: every namespace."""
    selectors: list[str]
    """Label selectors, tried in order."""


class LegacyOperator(K8sModel):
    """The older spelling of the operator pod probes (read, never written)."""

    namespace: str | None = None
    pod_selectors: list[str] = Field(default_factory=list)
    fallback_pod_selectors: list[str] = Field(default_factory=list)
    cross_namespace_pod_selectors: list[str] = Field(default_factory=list)


class StatusRule(K8sModel):
    """When the config's own status says the provider is ready."""

    ready_path: str | None = None
    """Path of a boolean in the status (default ``ready``; a ``status.`` prefix is ignored)."""
    conditions: list[str] | None = None
    """Condition types that must all be True (instead of the path)."""


class HealthHints(K8sModel):
    """The JSON of the ``airunway.ai/health`` annotation."""

    crds: list[str | HealthCRD] | None = None
    """CRDs that must exist (names, or objects with a display name)."""
    operator_pods: list[OperatorPodProbe] | None = None
    """Probes for the upstream operator's pods."""
    operator: LegacyOperator | None = None
    """Legacy probes; :func:`decode` turns them into ``operator_pods`` when those are absent."""
    status: StatusRule | None = None
    """How to read readiness from the config's status."""

    def crd_names(self) -> list[str]:
        return [c if isinstance(c, str) else c.name for c in self.crds or []]


class DeploymentDefaults(K8sModel):
    """The JSON of the ``airunway.ai/deployment-defaults`` annotation: what the deploy form starts with."""

    default_engine: str | None = None
    default_mode: str | None = None
    default_resources: dict[str, Any] | None = None


class AnnotationError(ValueError):
    """Annotations that :func:`decode` with ``strict=True`` refuses; the message names each key and problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid provider annotations: " + "; ".join(problems))
        self.problems = problems


@dataclass
class ProviderAnnotations:
    """What the ``airunway.ai/*`` annotations of one InferenceProviderConfig say (None: not said)."""

    display_name: str | None = None
    description: str | None = None
    default_namespace: str | None = None
    documentation_url: str | None = None
    documentation: str | None = None
    """The legacy key of the documentation URL; upstream's shims write both."""
    icon: str | None = None
    provider_name: str | None = None
    """A display name that beats every other (``airunway.ai/provider-name``)."""
    capabilities: dict[str, Any] | None = None
    """The JSON object: upstream writes ``spec.capabilities`` there; older providers list engine names, ``modes``,
    ``modelSources``, ``routerModes`` and ``features``."""
    deployment_defaults: DeploymentDefaults | None = None
    health: HealthHints | None = None
    installation: InstallationInfo | None = None
    warnings: list[str] = field(default_factory=list)
    """What :func:`decode` left out and why (never encoded)."""

    def namespace(self) -> str:
        """The provider's namespace: its default-namespace annotation, else its installation's, else ``default``."""
        installed = self.installation.default_namespace if self.installation else None
        return self.default_namespace or text_of(installed) or DEFAULT_NAMESPACE

    def documentation_link(self) -> str | None:
        return self.documentation_url or self.documentation


# -- encoding ----------------------------------------------------------------------------------------------------


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def encode(annotations: ProviderAnnotations) -> dict[str, str]:
    """The annotations to put on the config: every field that is set, the JSON ones as compact JSON."""
    a = annotations
    texts = [(ANNOTATION_DISPLAY_NAME, a.display_name), (ANNOTATION_PROVIDER_NAME, a.provider_name),
             (ANNOTATION_DESCRIPTION, a.description), (ANNOTATION_DEFAULT_NAMESPACE, a.default_namespace),
             (ANNOTATION_DOCUMENTATION_URL, a.documentation_url), (ANNOTATION_DOCUMENTATION, a.documentation),
             (ANNOTATION_ICON, a.icon)]
    out = {key: value for key, value in texts if value is not None}
    objects = [(ANNOTATION_CAPABILITIES, a.capabilities),
               (ANNOTATION_DEPLOYMENT_DEFAULTS, a.deployment_defaults.to_dict() if a.deployment_defaults else None),
               (ANNOTATION_HEALTH, a.health.to_dict() if a.health else None),
               (ANNOTATION_INSTALLATION, a.installation.to_dict() if a.installation else None)]
    out |= {key: _compact(value) for key, value in objects if value is not None}
    return out


# -- decoding ----------------------------------------------------------------------------------------------------


def text_of(value: Any) -> str | None:
    """A non-blank string, stripped; None for anything else."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def texts_of(value: Any) -> list[str]:
    """The non-blank strings of a list, stripped; [] when it is not a list."""
    return [v.strip() for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) else []


def _obj(value: Any) -> dict | None:
    return value if isinstance(value, dict) else None


def unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _json_object(annotations: dict, key: str, warnings: list[str]) -> dict | None:
    raw = annotations.get(key)
    if not raw:
        return None
    try:
        parsed = json.loads(raw)
    except (TypeError, ValueError) as exc:
        warnings.append(f"Invalid JSON in {key}: {exc}")
        return None
    if not isinstance(parsed, dict):
        warnings.append(f"{key} must be a JSON object")
        return None
    return parsed


def _deployment_defaults(raw: dict | None, warnings: list[str]) -> DeploymentDefaults | None:
    if not raw:
        return None
    resources = _obj(raw.get("defaultResources"))
    if raw.get("defaultResources") is not None and resources is None:
        warnings.append(f"{ANNOTATION_DEPLOYMENT_DEFAULTS}.defaultResources must be an object")
    return DeploymentDefaults(default_engine=text_of(raw.get("defaultEngine")),
                              default_mode=text_of(raw.get("defaultMode")), default_resources=resources)


def _crd(entry: Any, warnings: list[str]) -> str | HealthCRD | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
        label = entry.get("displayName")
        if label is not None and not isinstance(label, str):
            warnings.append(f"Ignoring malformed displayName of CRD {entry['name']} in {ANNOTATION_HEALTH}.crds")
        return HealthCRD(name=entry["name"], display_name=label if isinstance(label, str) else None)
    warnings.append(f"Ignoring malformed CRD in {ANNOTATION_HEALTH}.crds")
    return None


def _health(raw: dict | None, warnings: list[str]) -> HealthHints | None:
    if not raw:
        return None
    fallback = "falling back to provider status.ready"
    operator, status = _obj(raw.get("operator")), _obj(raw.get("status"))
    if raw.get("crds") is not None and not isinstance(raw.get("crds"), list):
        warnings.append(f"{ANNOTATION_HEALTH}.crds must be an array; {fallback}")
    if raw.get("operator") is not None and operator is None:
        warnings.append(f"{ANNOTATION_HEALTH}.operator must be an object; {fallback}")
    if raw.get("status") is not None and status is None:
        warnings.append(f"{ANNOTATION_HEALTH}.status must be an object; {fallback}")

    probes: list[OperatorPodProbe] | None = None
    if raw.get("operatorPods") is not None:
        if not isinstance(raw["operatorPods"], list):
            warnings.append(f"{ANNOTATION_HEALTH}.operatorPods must be an array; {fallback}")
        else:
            probes = []
            for probe in raw["operatorPods"]:
                if not isinstance(probe, dict):
                    warnings.append(f"Ignoring malformed operator pod probe in {ANNOTATION_HEALTH}.operatorPods")
                elif not texts_of(probe.get("selectors")):
                    warnings.append(f"Ignoring operator pod probe without selectors in {ANNOTATION_HEALTH}.operatorPods")
                else:
                    probes.append(OperatorPodProbe(namespace=text_of(probe.get("namespace")),
                                                   selectors=texts_of(probe.get("selectors"))))
            probes = probes or None
    legacy = None
    if operator is not None:
        legacy = LegacyOperator(namespace=text_of(operator.get("namespace")),
                                pod_selectors=texts_of(operator.get("podSelectors")),
                                fallback_pod_selectors=texts_of(operator.get("fallbackPodSelectors")),
                                cross_namespace_pod_selectors=texts_of(operator.get("crossNamespacePodSelectors")))
        if probes is None:
            selectors = unique(legacy.pod_selectors + legacy.fallback_pod_selectors)
            probes = [OperatorPodProbe(namespace=legacy.namespace, selectors=selectors)] if selectors else []
            if legacy.cross_namespace_pod_selectors:
                probes.append(OperatorPodProbe(selectors=legacy.cross_namespace_pod_selectors))
            probes = probes or None
    crds = None
    if isinstance(raw.get("crds"), list):
        crds = [c for c in (_crd(entry, warnings) for entry in raw["crds"]) if c is not None]
    rule = None
    if status is not None:
        conditions = texts_of(status.get("conditions")) if status.get("conditions") is not None else None
        rule = StatusRule(ready_path=text_of(status.get("readyPath")), conditions=conditions)
    return HealthHints(crds=crds, operator_pods=probes, operator=legacy, status=rule)


def _installation(raw: dict | None, warnings: list[str]) -> InstallationInfo | None:
    if raw is None:
        return None

    def listed(key: str) -> list:
        value = raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            warnings.append(f"{ANNOTATION_INSTALLATION}.{key} must be an array")
            return []
        return value

    repos = []
    for repo in listed("helmRepos"):
        name, url = (text_of(repo.get("name")), text_of(repo.get("url"))) if isinstance(repo, dict) else (None, None)
        if name and url:
            repos.append({"name": name, "url": url})
        else:
            warnings.append(f"Ignoring malformed Helm repo in {ANNOTATION_INSTALLATION}")
    charts = []
    for chart in listed("helmCharts"):
        chart = chart if isinstance(chart, dict) else {}
        name, ref, ns = text_of(chart.get("name")), text_of(chart.get("chart")), text_of(chart.get("namespace"))
        if not (name and ref and ns):
            warnings.append(f"Ignoring malformed Helm chart in {ANNOTATION_INSTALLATION}")
            continue
        values = _obj(chart.get("values"))
        if chart.get("values") is not None and values is None:
            warnings.append(f"Ignoring malformed values for Helm chart {name}")
        flags = {key: chart[key] for key in ("createNamespace", "skipCrds", "preInstallMissingCrds")
                 if isinstance(chart.get(key), bool)}
        charts.append({"name": name, "chart": ref, "version": text_of(chart.get("version")), "namespace": ns,
                       "values": values, "fetchUrl": text_of(chart.get("fetchUrl")),
                       "preCrdUrls": texts_of(chart["preCrdUrls"]) if isinstance(chart.get("preCrdUrls"), list) else None,
                       **flags})
    steps = []
    for step in listed("steps"):
        title, description = (text_of(step.get("title")), text_of(step.get("description"))) if isinstance(step, dict) \
            else (None, None)
        if title and description:
            steps.append({"title": title, "command": text_of(step.get("command")), "description": description})
        else:
            warnings.append(f"Ignoring malformed installation step in {ANNOTATION_INSTALLATION}")
    given = {key: isinstance(raw.get(key), list) for key in ("helmRepos", "helmCharts", "steps")}
    return InstallationInfo.model_validate({
        "description": text_of(raw.get("description")), "defaultNamespace": text_of(raw.get("defaultNamespace")),
        "helmRepos": repos if given["helmRepos"] else None, "helmCharts": charts if given["helmCharts"] else None,
        "steps": steps if given["steps"] else None})


def decode(annotations: dict[str, str] | None, *, strict: bool = False) -> ProviderAnnotations:
    """What a config's annotations say; malformed values are left out and named in ``warnings`` (``strict``:
    raise :class:`AnnotationError` instead)."""
    raw = annotations or {}
    warnings: list[str] = []
    out = ProviderAnnotations(
        display_name=text_of(raw.get(ANNOTATION_DISPLAY_NAME)) or text_of(raw.get(LEGACY_DISPLAY_NAME)),
        description=text_of(raw.get(ANNOTATION_DESCRIPTION)),
        default_namespace=text_of(raw.get(ANNOTATION_DEFAULT_NAMESPACE)),
        documentation_url=text_of(raw.get(ANNOTATION_DOCUMENTATION_URL)),
        documentation=text_of(raw.get(ANNOTATION_DOCUMENTATION)),
        icon=text_of(raw.get(ANNOTATION_ICON)),
        provider_name=text_of(raw.get(ANNOTATION_PROVIDER_NAME)) or text_of(raw.get(LEGACY_PROVIDER_NAME)),
        installation=_installation(_json_object(raw, ANNOTATION_INSTALLATION, warnings), warnings),
        capabilities=_json_object(raw, ANNOTATION_CAPABILITIES, warnings),
        deployment_defaults=_deployment_defaults(_json_object(raw, ANNOTATION_DEPLOYMENT_DEFAULTS, warnings),
                                                 warnings),
        health=_health(_json_object(raw, ANNOTATION_HEALTH, warnings), warnings),
        warnings=warnings,
    )
    if strict and warnings:
        raise AnnotationError(warnings)
    return out
