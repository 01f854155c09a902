"""Providers as the dashboard lists them: InferenceProviderConfigs read through their annotations.

A provider registers an InferenceProviderConfig; its ``airunway.ai/*`` annotations (several of them JSON) say how
to present it, what it can deploy and how to install it. Reading is forgiving: a malformed annotation or entry is
left out and named in ``warnings``, never an error. :func:`provider_info` is the list entry, :func:`provider_details`
adds the CRD and installation metadata; :func:`capability_problem` checks a create request against a provider.
"""

from __future__ import annotations

import logging
from typing import Any

from airunway.api.builtin_providers import BUILT_IN_PROVIDERS
from airunway.api.constants import ANNOTATION_CAPABILITIES, GROUP, VERSION
from airunway.api.provider_annotations import ProviderAnnotations, decode, text_of, texts_of, unique
from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS
from airunway.kube.client import Client
from airunway.kube.errors import ApiError, NotFound

log = logging.getLogger("airunway.server.providers")

KNOWN_NAMES = {"kaito": "KAITO", "dynamo": "Dynamo", "kuberay": "KubeRay", "llmd": "LLM-D", "vllm": "vLLM"}
WITHOUT_CRD_IDS = {"llmd", "vllm"}
WITHOUT_CRD_NAMES = {"LLM-D", "vLLM"}
MISSING_CAPABILITIES = f"Missing {ANNOTATION_CAPABILITIES}; provider is listed but not deployable"


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
        name = text_of(entry.get("name")) if isinstance(entry, dict) else None
        if not name:
            continue
        engine: dict[str, Any] = {"name": name, "servingModes": texts_of(entry.get("servingModes"))}
        for flag in ("gpuSupport", "cpuSupport", "requiresCRD"):
            if isinstance(entry.get(flag), bool):
                engine[flag] = entry[flag]
        if isinstance(entry.get("gateway"), dict):
            engine["gateway"] = entry["gateway"]
        engines.append(engine)
    declared = raw.get("features") if isinstance(raw.get("features"), dict) else {}
    features = {k: v for k, v in declared.items() if isinstance(v, bool)}
    for flag, feature in (("gpuSupport", "gpu"), ("cpuSupport", "cpu")):
        if any(isinstance(e, dict) and e.get(flag) is True for e in entries):
            features[feature] = True
    declared_modes = texts_of(raw["modes"] if raw.get("modes") is not None else raw.get("servingModes"))
    return {
        "engines": unique([e["name"] for e in engines]),
        "engineCapabilities": engines,
        "modes": declared_modes or unique([m for e in engines for m in e.get("servingModes") or []]),
        "modelSources": texts_of(raw.get("modelSources")),
        "routerModes": texts_of(raw.get("routerModes")),
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


def display_name(provider_id: str, annotations: ProviderAnnotations) -> str:
    """The provider-name annotation, else the known name of the id, else the display-name annotation, else the id
    capitalised."""
    if annotations.provider_name:
        return annotations.provider_name
    if provider_id.lower() in KNOWN_NAMES:
        return KNOWN_NAMES[provider_id.lower()]
    return annotations.display_name or provider_id[:1].upper() + provider_id[1:]


def _health(annotations: ProviderAnnotations) -> dict | None:
    """The health hints as the API shows them (status conditions always present)."""
    if annotations.health is None:
        return None
    health = annotations.health.to_dict()
    if "status" in health:
        health["status"].setdefault("conditions", [])
    return health


def provider_details(config: dict) -> dict:
    """Everything the dashboard knows about a provider from its InferenceProviderConfig."""
    meta = config.get("metadata") or {}
    provider_id = text_of(meta.get("name")) or "unknown"
    annotations = decode(meta.get("annotations"))
    warnings = annotations.warnings
    installation = annotations.installation.to_dict() if annotations.installation else {}
    annotated_caps = annotations.capabilities
    spec_caps = (config.get("spec") or {}).get("capabilities")
    capabilities = capabilities_of(annotated_caps if annotated_caps is not None else spec_caps, warnings)
    requires_crd = requires_crd_of_engines(spec_caps if spec_caps is not None else annotated_caps)
    if requires_crd is None and isinstance(annotated_caps, dict):
        requires_crd = annotated_caps.get("requiresCRD")
    if not isinstance(requires_crd, bool):
        annotated_name = annotations.provider_name or annotations.display_name
        requires_crd = not (provider_id.lower() in WITHOUT_CRD_IDS or annotated_name in WITHOUT_CRD_NAMES)
    repos, charts = installation.get("helmRepos") or [], installation.get("helmCharts") or []
    steps = installation.get("steps") or []
    known = BUILT_IN_PROVIDERS.get(provider_id)
    storage = capabilities["features"].get("modelStorage")
    group, _, version = (config.get("apiVersion") or "").rpartition("/")
    details = {
        "id": provider_id,
        "name": display_name(provider_id, annotations),
        "description": annotations.description or installation.get("description") or "No description available",
        "defaultNamespace": annotations.namespace(),
        "documentationUrl": annotations.documentation_link(),
        "icon": annotations.icon,
        "warnings": warnings,
        "installable": bool(charts or repos or steps),
        "requiresCRD": requires_crd,
        "capabilities": capabilities,
        "deploymentDefaults": annotations.deployment_defaults.to_dict() if annotations.deployment_defaults else None,
        "health": _health(annotations),
        "preference": known.preference if known else 0,
        "modelStorage": storage if isinstance(storage, bool) else bool(known and known.model_storage),
        "crdConfig": {"apiGroup": group or GROUP, "apiVersion": version or VERSION,
                      "plural": INFERENCE_PROVIDER_CONFIGS.plural,
                      "kind": config.get("kind") or INFERENCE_PROVIDER_CONFIGS.kind},
        "helmRepos": repos,
        "helmCharts": charts,
        "installationSteps": steps,
    }
    return {k: v for k, v in details.items() if v is not None}


INFO_FIELDS = ("id", "name", "description", "defaultNamespace", "documentationUrl", "icon", "warnings", "installable",
               "requiresCRD", "capabilities", "deploymentDefaults", "health", "preference", "modelStorage")


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
    engine_modes = unique([m for e in matching for m in e.get("servingModes") or []])
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
