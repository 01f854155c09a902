"""Providers as the dashboard lists them: InferenceProviderConfigs read through their annotations.

A provider registers an InferenceProviderConfig; its ``airunway.ai/*`` annotations (several of them JSON) say how
to present it, what it can deploy and how to install it. Reading is forgiving: a malformed annotation or entry is
left out and named in ``warnings``, never an error. :func:`provider_info` is the list entry, :func:`provider_details`
adds the CRD and installation metadata; :func:`capability_problem` checks a create request against a provider.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from airunway.api.constants import (
    ANNOTATION_CAPABILITIES,
    ANNOTATION_DEFAULT_NAMESPACE,
    ANNOTATION_DESCRIPTION,
    ANNOTATION_DISPLAY_NAME,
    ANNOTATION_DOCUMENTATION,
    ANNOTATION_DOCUMENTATION_URL,
    ANNOTATION_HEALTH,
    ANNOTATION_INSTALLATION,
    GROUP,
    VERSION,
)
from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS
from airunway.kube.client import Client
from airunway.kube.errors import ApiError, NotFound

log = logging.getLogger("airunway.server.providers")

ANNOTATION_ICON = "airunway.ai/icon"
ANNOTATION_DEPLOYMENT_DEFAULTS = "airunway.ai/deployment-defaults"
PROVIDER_NAME_ANNOTATIONS = ("airunway.ai/provider-name", "airunway.io/provider-name")
DISPLAY_NAME_ANNOTATIONS = (*PROVIDER_NAME_ANNOTATIONS, ANNOTATION_DISPLAY_NAME, "airunway.io/display-name")
KNOWN_NAMES = {"kaito": "KAITO", "dynamo": "Dynamo", "kuberay": "KubeRay", "llmd": "LLM-D", "vllm": "vLLM"}
WITHOUT_CRD_IDS = {"llmd", "vllm"}
WITHOUT_CRD_NAMES = {"LLM-D", "vLLM"}
MISSING_CAPABILITIES = f"Missing {ANNOTATION_CAPABILITIES}; provider is listed but not deployable"


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _texts(value: Any) -> list[str]:
    return [v.strip() for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) else []


def _obj(value: Any) -> dict | None:
    return value if isinstance(value, dict) else None


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _json_annotation(annotations: dict, key: str, warnings: list[str]) -> Any:
    raw = annotations.get(key)
    if not raw:
        return None
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        warnings.append(f"Invalid JSON in {key}: {exc}")
        return None
    if not isinstance(parsed, dict):
        warnings.append(f"{key} must be a JSON object")
        return None
    return parsed


def capabilities_of(raw: Any, warnings: list[str]) -> dict:
    if not isinstance(raw, dict):
        warnings.append(MISSING_CAPABILITIES)
        return {"engines": [], "modes": [], "modelSources": [], "routerModes": [], "features": {}}
    entries = raw.get("engines") if isinstance(raw.get("engines"), list) else []
    engines: list[dict] = []
    for entry in entries:
        if isinstance(entry, str) and entry.strip():
            engines.append({"name": entry.strip()})
            continue
        name = _text(entry.get("name")) if isinstance(entry, dict) else None
        if not name:
            continue
        engine: dict[str, Any] = {"name": name, "servingModes": _texts(entry.get("servingModes"))}
        for flag in ("gpuSupport", "cpuSupport", "requiresCRD"):
            if isinstance(entry.get(flag), bool):
                engine[flag] = entry[flag]
        if _obj(entry.get("gateway")) is not None:
            engine["gateway"] = entry["gateway"]
        engines.append(engine)
    features = {k: v for k, v in (_obj(raw.get("features")) or {}).items() if isinstance(v, bool)}
    for flag, feature in (("gpuSupport", "gpu"), ("cpuSupport", "cpu")):
        if any(isinstance(e, dict) and e.get(flag) is True for e in entries):
            features[feature] = True
    declared_modes = _texts(raw["modes"] if raw.get("modes") is not None else raw.get("servingModes"))
    return {
        "engines": _unique([e["name"] for e in engines]),
        "engineCapabilities": engines,
        "modes": declared_modes or _unique([m for e in engines for m in e.get("servingModes") or []]),
        "modelSources": _texts(raw.get("modelSources")),
        "routerModes": _texts(raw.get("routerModes")),
        "features": features,
    }


def requires_crd_of_engines(capabilities: Any) -> bool | None:
    """True if an engine needs a CRD, False if every engine says explicitly it does not, else None."""
    engines = capabilities.get("engines") if isinstance(capabilities, dict) else None
    if not isinstance(engines, list) or not engines:
        return None
    flags = [e.get("requiresCRD") if isinstance(e, dict) else None for e in engines]
    if any(f is True for f in flags):
        return True
    explicit = [f for f in flags if isinstance(f, bool)]
    if explicit and len(explicit) == len(flags):
        return False
    return None


def display_name(provider_id: str, annotations: dict) -> str:
    for key in PROVIDER_NAME_ANNOTATIONS:
        if _text(annotations.get(key)):
            return annotations[key].strip()
    if provider_id.lower() in KNOWN_NAMES:
        return KNOWN_NAMES[provider_id.lower()]
    annotated = _annotated_name(annotations)
    return annotated or provider_id[:1].upper() + provider_id[1:]


def _annotated_name(annotations: dict) -> str | None:
    return next((annotations[k].strip() for k in DISPLAY_NAME_ANNOTATIONS if _text(annotations.get(k))), None)


def _deployment_defaults(raw: Any, warnings: list[str]) -> dict | None:
    if not raw:
        return None
    resources = _obj(raw.get("defaultResources"))
    if raw.get("defaultResources") is not None and resources is None:
        warnings.append(f"{ANNOTATION_DEPLOYMENT_DEFAULTS}.defaultResources must be an object")
    out = {"defaultEngine": _text(raw.get("defaultEngine")), "defaultMode": _text(raw.get("defaultMode")),
           "defaultResources": resources}
    return {k: v for k, v in out.items() if v is not None}


def _health(raw: Any, warnings: list[str]) -> dict | None:
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

    probes = None
    if raw.get("operatorPods") is not None:
        if not isinstance(raw["operatorPods"], list):
            warnings.append(f"{ANNOTATION_HEALTH}.operatorPods must be an array; {fallback}")
        else:
            probes = []
            for probe in raw["operatorPods"]:
                if not isinstance(probe, dict):
                    warnings.append(f"Ignoring malformed operator pod probe in {ANNOTATION_HEALTH}.operatorPods")
                elif not _texts(probe.get("selectors")):
                    warnings.append(f"Ignoring operator pod probe without selectors in {ANNOTATION_HEALTH}.operatorPods")
                else:
                    probes.append({k: v for k, v in (("namespace", _text(probe.get("namespace"))),
                                                     ("selectors", _texts(probe.get("selectors")))) if v is not None})
            probes = probes or None
    legacy = {}
    if operator is not None:
        legacy = {key: _texts(operator.get(key)) for key in ("podSelectors", "fallbackPodSelectors",
                                                             "crossNamespacePodSelectors")}
    if probes is None and operator is not None:
        selectors = _unique(legacy["podSelectors"] + legacy["fallbackPodSelectors"])
        probes = []
        if selectors:
            probes.append({k: v for k, v in (("namespace", _text(operator.get("namespace"))),
                                             ("selectors", selectors)) if v is not None})
        if legacy["crossNamespacePodSelectors"]:
            probes.append({"selectors": legacy["crossNamespacePodSelectors"]})
        probes = probes or None
    out: dict[str, Any] = {}
    if isinstance(raw.get("crds"), list):
        out["crds"] = [c for c in raw["crds"] if isinstance(c, str) or (isinstance(c, dict)
                                                                       and isinstance(c.get("name"), str))]
    if probes:
        out["operatorPods"] = probes
    if operator is not None:
        out["operator"] = {k: v for k, v in (("namespace", _text(operator.get("namespace"))),) if v} | legacy
    if status is not None:
        out["status"] = {k: v for k, v in (("readyPath", _text(status.get("readyPath"))),) if v} | {
            "conditions": _texts(status.get("conditions"))}
    return out


def _installation_lists(installation: dict, warnings: list[str]) -> tuple[list, list, list]:
    def listed(key: str) -> list:
        value = installation.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            warnings.append(f"{ANNOTATION_INSTALLATION}.{key} must be an array")
            return []
        return value

    repos = []
    for repo in listed("helmRepos"):
        name, url = (_text(repo.get("name")), _text(repo.get("url"))) if isinstance(repo, dict) else (None, None)
        if name and url:
            repos.append({"name": name, "url": url})
        else:
            warnings.append(f"Ignoring malformed Helm repo in {ANNOTATION_INSTALLATION}")
    charts = []
    for chart in listed("helmCharts"):
        chart = chart if isinstance(chart, dict) else {}
        name, ref, ns = _text(chart.get("name")), _text(chart.get("chart")), _text(chart.get("namespace"))
        if not (name and ref and ns):
            warnings.append(f"Ignoring malformed Helm chart in {ANNOTATION_INSTALLATION}")
            continue
        values = _obj(chart.get("values"))
        if chart.get("values") is not None and values is None:
            warnings.append(f"Ignoring malformed values for Helm chart {name}")
        entry = {
            "name": name, "chart": ref, "version": _text(chart.get("version")), "namespace": ns,
            "createNamespace": chart.get("createNamespace") if isinstance(chart.get("createNamespace"), bool) else None,
            "values": values,
            "skipCrds": chart.get("skipCrds") if isinstance(chart.get("skipCrds"), bool) else None,
            "fetchUrl": _text(chart.get("fetchUrl")),
            "preCrdUrls": _texts(chart["preCrdUrls"]) if isinstance(chart.get("preCrdUrls"), list) else None,
            "preInstallMissingCrds": chart.get("preInstallMissingCrds")
            if isinstance(chart.get("preInstallMissingCrds"), bool) else None,
        }
        charts.append({k: v for k, v in entry.items() if v is not None})
    steps = []
    for step in listed("steps"):
        title, description = (_text(step.get("title")), _text(step.get("description"))) if isinstance(step, dict) \
            else (None, None)
        if title and description:
            steps.append({k: v for k, v in (("title", title), ("command", _text(step.get("command"))),
                                            ("description", description)) if v is not None})
        else:
            warnings.append(f"Ignoring malformed installation step in {ANNOTATION_INSTALLATION}")
    return repos, charts, steps


def provider_details(config: dict) -> dict:
    """Everything the dashboard knows about a provider from its InferenceProviderConfig."""
    meta = config.get("metadata") or {}
    provider_id = _text(meta.get("name")) or "unknown"
    annotations = meta.get("annotations") or {}
    warnings: list[str] = []
    installation = _json_annotation(annotations, ANNOTATION_INSTALLATION, warnings) or {}
    annotated_caps = _json_annotation(annotations, ANNOTATION_CAPABILITIES, warnings)
    spec_caps = (config.get("spec") or {}).get("capabilities")
    capabilities = capabilities_of(annotated_caps if annotated_caps is not None else spec_caps, warnings)
    requires_crd = requires_crd_of_engines(spec_caps if spec_caps is not None else annotated_caps)
    if requires_crd is None and isinstance(annotated_caps, dict):
        requires_crd = annotated_caps.get("requiresCRD")
    if not isinstance(requires_crd, bool):
        requires_crd = not (provider_id.lower() in WITHOUT_CRD_IDS or _annotated_name(annotations) in WITHOUT_CRD_NAMES)
    defaults = _deployment_defaults(_json_annotation(annotations, ANNOTATION_DEPLOYMENT_DEFAULTS, warnings), warnings)
    health = _health(_json_annotation(annotations, ANNOTATION_HEALTH, warnings), warnings)
    repos, charts, steps = _installation_lists(installation, warnings)
    group, _, version = (config.get("apiVersion") or "").rpartition("/")
    details = {
        "id": provider_id,
        "name": display_name(provider_id, annotations),
        "description": _text(annotations.get(ANNOTATION_DESCRIPTION)) or _text(installation.get("description"))
        or "No description available",
        "defaultNamespace": _text(annotations.get(ANNOTATION_DEFAULT_NAMESPACE))
        or _text(installation.get("defaultNamespace")) or "default",
        "documentationUrl": _text(annotations.get(ANNOTATION_DOCUMENTATION_URL))
        or _text(annotations.get(ANNOTATION_DOCUMENTATION)),
        "icon": _text(annotations.get(ANNOTATION_ICON)),
        "warnings": warnings,
        "installable": bool(charts or repos or steps),
        "requiresCRD": requires_crd,
        "capabilities": capabilities,
        "deploymentDefaults": defaults,
        "health": health,
        "crdConfig": {"apiGroup": group or GROUP, "apiVersion": version or VERSION,
                      "plural": INFERENCE_PROVIDER_CONFIGS.plural,
                      "kind": config.get("kind") or INFERENCE_PROVIDER_CONFIGS.kind},
        "helmRepos": repos,
        "helmCharts": charts,
        "installationSteps": steps,
    }
    return {k: v for k, v in details.items() if v is not None}


INFO_FIELDS = ("id", "name", "description", "defaultNamespace", "documentationUrl", "icon", "warnings", "installable",
               "requiresCRD", "capabilities", "deploymentDefaults", "health")


def provider_info(config: dict) -> dict:
    """The list entry of a provider."""
    details = provider_details(config)
    return {k: details[k] for k in INFO_FIELDS if k in details}


async def list_providers(client: Client) -> list[dict]:
    """Every registered provider (none when they cannot be read)."""
    try:
        configs = (await client.list_all(INFERENCE_PROVIDER_CONFIGS)).items
    except (ApiError, OSError) as exc:
        log.warning("cannot list provider configs", extra={"error": str(exc)})
        return []
    return [provider_info(c) for c in configs]


async def get_provider(client: Client, provider_id: str) -> dict | None:
    """A provider's details; None when it is not registered (other failures raise)."""
    try:
        return provider_details(await client.get(INFERENCE_PROVIDER_CONFIGS, provider_id))
    except NotFound:
        return None


# -- does the provider support this request? ---------------------------------------------------------------------


def _unsupported(provider: str, label: str, value: str, supported: list[str]) -> str:
    return (f'Provider "{provider}" does not support {label} "{value}". '
            f"Supported {label} values: {', '.join(supported)}")


def capability_problem(provider: str, capabilities: dict, *, engine: str, mode: str, model_source: str | None,
                       router_mode: str, overrides: dict | None) -> str | None:
    """Why ``provider`` cannot run this request (None: it can, or it declares no capabilities to check)."""
    engines = capabilities.get("engines") or []
    per_engine = capabilities.get("engineCapabilities") or []
    if not (engines or per_engine or capabilities.get("modes") or capabilities.get("modelSources")
            or capabilities.get("routerModes")):
        return None
    if engines and engine not in engines:
        return _unsupported(provider, "engine", engine, engines)
    matching = [e for e in per_engine if e.get("name") == engine]
    engine_modes = _unique([m for e in matching for m in e.get("servingModes") or []])
    if engine_modes:
        if mode not in engine_modes:
            return _unsupported(provider, f"mode for engine {engine}", mode, engine_modes)
    elif capabilities.get("modes") and mode not in capabilities["modes"]:
        return _unsupported(provider, "mode", mode, capabilities["modes"])
    source = model_source or "huggingface"
    if capabilities.get("modelSources") and source not in capabilities["modelSources"]:
        return _unsupported(provider, "modelSource", source, capabilities["modelSources"])
    effective = router_mode
    if effective == "default" and isinstance((overrides or {}).get("routerMode"), str):
        effective = overrides["routerMode"]
    if effective != "default" and capabilities.get("routerModes") and effective not in capabilities["routerModes"]:
        return _unsupported(provider, "routerMode", effective, capabilities["routerModes"])
    return None
