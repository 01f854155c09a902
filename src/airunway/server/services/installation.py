"""Whether each provider's runtime is installed and healthy, and installing or removing it with Helm.

A provider's status comes from three places: its InferenceProviderConfig's ``status`` (ready, the conditions its
shim writes, its heartbeat), the CRDs and operator pods its ``airunway.ai/health`` annotation names (for a KAITO,
Dynamo or KubeRay config that names none, the health hints those providers publish, from
:mod:`airunway.api.builtin_providers`), and, for providers that need no CRD, readiness alone.

Installs run the charts of the config's ``airunway.ai/installation`` annotation through :mod:`.helm`. One operation
per provider runs at a time; its steps so far are kept as the provider's progress until the next one starts.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from airunway.api.builtin_providers import BUILT_IN_PROVIDERS
from airunway.api.providerconfig import PROVIDER_STALENESS_SECONDS
from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS
from airunway.kube.client import Client
from airunway.kube.errors import ApiError, NotFound
from airunway.kube.resources import CRDS, PODS
from airunway.server.auth import may
from airunway.server import problems
from airunway.server.services import gpus
from airunway.server.services import providers as catalogue
from airunway.server.services.cluster import crd_installation
from airunway.server.services.helm import Install, Runner, Step, install_commands, uninstall

log = logging.getLogger("airunway.server.installation")

STALENESS_ENV = "PROVIDER_HEALTH_STALENESS_MS"
DEFAULT_STALENESS_MS = PROVIDER_STALENESS_SECONDS * 1000
SHIM_STALE_MESSAGE = "The provider is not reporting status. Check that the AI Runway provider shim is running."

GPU_OPERATOR_REPO = {"name": "nvidia", "url": "https://helm.ngc.nvidia.com/nvidia"}
GPU_OPERATOR_CHART = {"name": "gpu-operator", "chart": "nvidia/gpu-operator", "namespace": "gpu-operator",
                      "createNamespace": True}


# -- health of the shim ------------------------------------------------------------------------------------------


def staleness_seconds() -> float:
    try:
        value = float(os.environ.get(STALENESS_ENV, ""))
    except ValueError:
        value = 0
    return (value if value > 0 else DEFAULT_STALENESS_MS) / 1000


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def shim_health(config: dict | None, now: datetime | None = None) -> dict[str, Any]:
    """What the provider's own status says: ready or not, and whether its shim still reports (heartbeat)."""
    status = (config or {}).get("status") or {}
    condition = next((c for c in status.get("conditions") or [] if isinstance(c, dict)
                      and c.get("type") == "UpstreamReady"), None)
    signal = condition is not None
    beat = _time(status.get("lastHeartbeat"))
    now = now or datetime.now(timezone.utc)
    if beat is not None and (now - beat).total_seconds() > staleness_seconds():
        return {"healthy": False, "reason": "ShimStale", "message": SHIM_STALE_MESSAGE, "stale": True,
                "hasShimSignal": signal}
    ready = status.get("ready") is True
    condition = condition or {}
    return {"healthy": ready, "reason": condition.get("reason") or ("Ready" if ready else "NotReady"),
            "message": condition.get("message") or ("Provider is installed and running" if ready
                                                     else "Provider is not ready"),
            "stale": False, "hasShimSignal": signal}


# -- installation status -----------------------------------------------------------------------------------------


def status_ready(config: dict, health: dict | None) -> bool:
    status = config.get("status") or {}
    rules = (health or {}).get("status") or {}
    path = rules.get("readyPath") or "ready"
    path = path[len("status."):] if path.startswith("status.") else path
    value: Any = status
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    wanted = rules.get("conditions") or []
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or [] if isinstance(c, dict)}
    return value is True or bool(wanted and all(conditions.get(t) == "True" for t in wanted))


def _pod_ready(pod: dict) -> bool:
    status = pod.get("status") or {}
    containers = status.get("containerStatuses") or []
    return status.get("phase") == "Running" and all(c.get("ready") for c in containers)


@dataclass
class PodProbe:
    running: bool = False
    namespace: str | None = None  # where ready pods were found by a probe across namespaces
    error: str | None = None


async def probe_pods(client: Client, probes: list[dict]) -> PodProbe:
    """The first probe and selector that find a running pod whose containers are all ready wins."""
    errors = []
    for probe in probes:
        for selector in probe.get("selectors") or []:
            try:
                pods = (await client.list(PODS, probe.get("namespace"), label_selector=selector)).get("items") or []
            except NotFound:
                continue
            except (ApiError, OSError) as exc:
                errors.append(str(exc))
                continue
            ready = next((p for p in pods if _pod_ready(p)), None)
            if ready is not None:
                found_in = None if probe.get("namespace") else ready["metadata"].get("namespace")
                return PodProbe(True, found_in)
    return PodProbe(False, error="; ".join(errors) or None)


def _crd_label(crds: list) -> tuple[list[str], str]:
    names = [c if isinstance(c, str) else c["name"] for c in crds]
    if len(crds) == 1:
        only = crds[0]
        return names, only if isinstance(only, str) else (only.get("displayName") or only["name"])
    return names, "Required CRDs"


def _where(probes: list[dict]) -> str:
    namespaces = [p["namespace"] for p in probes if p.get("namespace")]
    return f"in {', '.join(namespaces)}" if namespaces and len(namespaces) == len(probes) \
        else "matching configured labels"


async def installation_status(client: Client, details: dict, config: dict) -> dict[str, Any]:
    """Is the provider's runtime installed: ``installed``, ``crdFound``, ``operatorRunning``, ``message``."""
    name, health = details["name"], details.get("health") or {}
    ready = status_ready(config, health)
    out: dict[str, Any] = {"requiresCRD": details["requiresCRD"]}
    if details["requiresCRD"] is False:
        return out | {"installed": ready, "crdFound": True, "operatorRunning": ready,
                      "message": "Runtime is ready to use." if ready else "Provider is registered but not ready yet."}
    crds, probes = health.get("crds") or [], health.get("operatorPods") or []
    known = BUILT_IN_PROVIDERS.get(details["id"])
    if not crds and not probes and known is not None and known.upstream_health is not None:
        published = known.upstream_health.to_dict()
        crds, probes = published.get("crds") or [], published.get("operatorPods") or []
    if not crds and not probes:
        return out | {"installed": ready, "crdFound": ready, "operatorRunning": ready,
                      "message": f"{name} is installed and running" if ready else f"{name} is registered but not ready"}

    names, label = _crd_label(crds)
    missing = []
    for crd in names:
        try:
            if await client.get_or_none(CRDS, crd) is None:
                missing.append(crd)
        except (ApiError, OSError) as exc:
            log.warning("cannot read a provider's CRD", extra={"crd": crd, "error": str(exc)})
            missing.append(crd)
    crd_found = not missing if crds else ready
    pods = await probe_pods(client, probes) if probes else None
    if pods is not None:
        running = pods.running
    else:
        running = crd_found and ready if crds else ready
    installed = (crd_found and running) if crds and probes else (crd_found and ready) if crds else running

    if missing:
        message = f"{label} not found" if len(names) == 1 else f"Required CRDs not found: {', '.join(missing)}"
    elif pods is not None:
        lead = f"{label} found" if crds else ""
        if pods.running:
            where = f" in {pods.namespace}" if pods.namespace else ""
            message = f"{lead} and {name} operator pods are ready{where}" if lead \
                else f"{name} operator pods are ready{where}"
        elif pods.error:
            message = f"{lead}, but {name} operator pods could not be checked: {pods.error}" if lead \
                else f"{name} operator pods could not be checked: {pods.error}"
        else:
            message = f"{lead}, but no ready {name} operator pods were detected {_where(probes)}" if lead \
                else f"No ready {name} operator pods were detected {_where(probes)}"
    else:
        message = f"{label} found and {name} is ready" if ready else f"{label} found, but {name} is not ready"
    return out | {"installed": installed, "crdFound": crd_found, "operatorRunning": running, "message": message}


def _message(details: dict, installation: dict, shim: dict) -> str:
    if shim["stale"] or (not shim["healthy"] and shim["hasShimSignal"]):
        return shim["message"]
    if details.get("helmCharts") or details["requiresCRD"] is False:
        return installation["message"]
    return f"No installation metadata found for provider {details['id']}"


def installable(details: dict) -> bool:
    return details["requiresCRD"] is not False and bool(details.get("helmCharts"))


def charts_of(details: dict) -> list[dict]:
    """The config's charts, with the CRD handling KAITO's and Dynamo's charts need (their CRDs may already exist,
    installed by another release: apply only the missing ones, then install without CRDs)."""
    charts = []
    for chart in details.get("helmCharts") or []:
        if (details["id"] == "kaito" and chart["chart"] == "kaito/workspace") or \
                (details["id"] == "dynamo" and chart["name"] == "dynamo-platform"):
            chart = chart | {"preInstallMissingCrds": True, "skipCrds": True}
        charts.append(chart)
    return charts


def commands_of(details: dict) -> list[str]:
    return install_commands(details.get("helmRepos") or [], charts_of(details)) if installable(details) else []


async def _config(client: Client, provider_id: str) -> tuple[dict, dict]:
    try:
        config = await client.get(INFERENCE_PROVIDER_CONFIGS, provider_id)
    except NotFound:
        raise problems.NotFoundError(f"Provider not found: {provider_id}") from None
    return config, catalogue.provider_details(config)


async def provider_status(client: Client, provider_id: str) -> dict[str, Any]:
    config, details = await _config(client, provider_id)
    installation = await installation_status(client, details, config)
    shim = shim_health(config)
    return {
        "providerId": provider_id, "providerName": details["name"], "installed": installation["installed"],
        "crdFound": installation["crdFound"], "operatorRunning": installation.get("operatorRunning") or False,
        "requiresCRD": details["requiresCRD"], "version": (config.get("status") or {}).get("version"),
        "message": _message(details, installation, shim), "installable": installable(details),
        "installationSteps": details.get("installationSteps") or [], "helmCommands": commands_of(details),
    }


async def provider_commands(client: Client, provider_id: str) -> dict[str, Any]:
    _, details = await _config(client, provider_id)
    return {"providerId": provider_id, "providerName": details["name"], "commands": commands_of(details),
            "steps": details.get("installationSteps") or []}


async def runtimes_status(client: Client) -> list[dict[str, Any]]:
    """Every registered provider with its installation status (none before the ModelDeployment CRD exists)."""
    if not (await crd_installation(client))["installed"]:
        return []
    configs = (await client.list_all(INFERENCE_PROVIDER_CONFIGS)).items

    async def one(config: dict) -> dict[str, Any]:
        details = catalogue.provider_details(config)
        installation = await installation_status(client, details, config)
        running = installation.get("operatorRunning")
        return catalogue.provider_info(config) | {
            "installed": installation["installed"], "healthy": bool(running),
            "crdFound": installation["crdFound"] if installation.get("crdFound") is not None
            else installation["installed"],
            "operatorRunning": running, "requiresCRD": details["requiresCRD"],
            "version": (config.get("status") or {}).get("version"),
            "message": _message(details, installation, shim_health(config)),
        }

    return list(await asyncio.gather(*(one(c) for c in configs)))


# -- failures ----------------------------------------------------------------------------------------------------

FORBIDDEN = re.compile(r"\bforbidden\b|cannot (create|update|patch|delete|get|list|watch)|is forbidden|"
                       r"attempting to grant RBAC permissions not currently held|requires.*(permission|privilege)", re.I)
OWNED_ELSEWHERE = re.compile(r'invalid ownership metadata|cannot be imported into the current release|'
                             r'missing key "app.kubernetes.io/managed-by"|missing key "meta.helm.sh/release-name"')
CONFLICTING = re.compile(r'(\w[\w-]*)\s+"([^"]+)"\s+in namespace\s+"([^"]*)"\s+exists')


class InstallFailed(Exception):
    def __init__(self, message: str, status_code: int, results: list[dict]) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.results = results


def failure(prefix: str, output: str) -> tuple[int, str]:
    """The status code and message for a failed Helm or kubectl step, from what it printed."""
    if FORBIDDEN.search(output):
        return 403, (f"{prefix}: Automatic installation requires elevated installer permissions. Ask an admin to "
                     "apply the optional dashboard installer permissions manifest "
                     f"(deploy/dashboard-installer-rbac.yaml) or run the commands manually. Details: {output}")
    if OWNED_ELSEWHERE.search(output):
        found = CONFLICTING.search(output)
        if found:
            kind, name, namespace = found.groups()
            what = f'{kind} "{name}" in namespace "{namespace}"' if namespace else f'{kind} "{name}"'
        else:
            what = "a required cluster resource"
        return 409, (f"{prefix}: Cannot install because {what} already exists on the cluster and is owned by another "
                     "tool. Uninstall the conflicting tool, or use the manual installation commands shown below.")
    return 500, f"{prefix}: {output or 'Unknown error'}"


def _output(step: Step) -> str:
    return (step.error or step.output).strip()


# -- operations with progress ------------------------------------------------------------------------------------


@dataclass
class Operation:
    """One install or uninstall: its steps as they end, and the one running now."""

    kind: str
    started: float = field(default_factory=time.time)
    current: str | None = None
    steps: list[Step] = field(default_factory=list)
    done: bool = False
    success: bool | None = None

    async def hear(self, name: str, step: Step | None) -> None:
        if step is None:
            self.current = name
        else:
            self.current = None
            self.steps.append(step)

    def to_dict(self) -> dict[str, Any]:
        return {"operation": self.kind, "running": not self.done, "currentStep": self.current,
                "success": self.success, "startedAt": datetime.fromtimestamp(self.started, timezone.utc)
                .strftime("%Y-%m-%dT%H:%M:%SZ"), "results": [s.to_dict() for s in self.steps]}


class Installer:
    """Runs installs and uninstalls, one at a time per target, keeping the last operation of each."""

    def __init__(self, client: Client, runner: Runner) -> None:
        self.client = client
        self.runner = runner
        self.operations: dict[str, Operation] = {}

    def acting(self, client: Client, runner: Runner) -> "Installer":
        """This installer calling Kubernetes with ``client`` and running the tools with ``runner`` (a caller's);
        the operations, and so the progress and the one-at-a-time rule, stay shared."""
        view = copy.copy(self)
        view.client, view.runner = client, runner
        return view

    def progress(self, target: str) -> dict[str, Any]:
        found = self.operations.get(target)
        return found.to_dict() if found else {"operation": None, "running": False, "currentStep": None,
                                              "success": None, "results": []}

    def _begin(self, target: str, kind: str) -> Operation:
        running = self.operations.get(target)
        if running is not None and not running.done:
            raise problems.ConflictError(f"An {running.kind} of {target} is already running; wait for it to finish")
        self.operations[target] = operation = Operation(kind)
        return operation

    async def _helm_or_fail(self, suffix: str) -> None:
        helm = await self.runner.helm_status()
        if not helm["available"]:
            raise problems.InvalidInput(f"Helm CLI not available: {helm['error']}{suffix}")

    async def install_provider(self, provider_id: str) -> dict[str, Any]:
        _, details = await _config(self.client, provider_id)
        name = details["name"]
        if details["requiresCRD"] is False:
            raise problems.InvalidInput(f"{name} is managed by provider registration and cannot be installed from this page.")
        if not details.get("helmCharts"):
            raise problems.InvalidInput(f"No installation metadata found for provider {provider_id}. Provider config is "
                                  "missing the airunway.ai/installation annotation or it contains no helmCharts.")
        await self._helm_or_fail(". Please install Helm or use the manual installation commands.")
        results = await self._install(provider_id, details.get("helmRepos") or [], charts_of(details))
        return {"success": True, "message": f"{name} installed successfully", "results": results}

    async def _may_install(self, charts: list[dict]) -> None:
        """Refuse (403, before any download) an install whose Helm releases could not even be recorded: Helm keeps
        each release as a Secret in the chart's namespace, as whoever runs it (the caller, with authentication)."""
        for namespace in sorted({c["namespace"] for c in charts}):
            if not await may(self.client, "create", "", "secrets", namespace):
                detail = (f'the caller cannot create resource "secrets" in API group "" in the namespace '
                          f'"{namespace}" (Helm records the release there)')
                code, message = failure('Installation failed at step "check-permissions"', detail)
                raise InstallFailed(message, code, [Step("check-permissions", False, "", detail).to_dict()])

    async def _install(self, target: str, repos: list[dict], charts: list[dict]) -> list[dict]:
        """Run the install as ``target``'s operation; its step results, or :class:`InstallFailed`."""
        await self._may_install(charts)
        operation = self._begin(target, "install")
        try:
            operation.success = await Install(self.runner, operation.hear).run(repos, charts)
        finally:
            operation.done = True
        results = [s.to_dict() for s in operation.steps]
        if not operation.success:
            failed = next(s for s in reversed(operation.steps) if not s.success)
            code, message = failure(f'Installation failed at step "{failed.step}"', _output(failed))
            raise InstallFailed(message, code, results)
        return results

    async def uninstall_provider(self, provider_id: str) -> dict[str, Any]:
        _, details = await _config(self.client, provider_id)
        name = details["name"]
        if details["requiresCRD"] is False:
            raise problems.InvalidInput(f"{name} is managed by provider registration and cannot be uninstalled from this "
                                  "page.")
        await self._helm_or_fail(".")
        operation = self._begin(provider_id, "uninstall")
        try:
            steps = await uninstall(self.runner, charts_of(details), operation.hear)
            operation.success = all(s.success for s in steps)
        finally:
            operation.done = True
        results = [s.to_dict() for s in operation.steps]
        if operation.success:
            message = f"{name} uninstalled successfully"
        else:
            failed = next(s for s in steps if not s.success)
            code, message = failure(f"{name} uninstall failed", _output(failed))
            if code == 403:  # the cluster refused the caller: say so with the status too
                raise InstallFailed(message, code, results)
        return {"success": operation.success, "message": message, "results": results}

    async def remove_provider_config(self, provider_id: str) -> dict[str, Any]:
        await _config(self.client, provider_id)
        try:
            await self.client.delete(INFERENCE_PROVIDER_CONFIGS, provider_id)
        except NotFound:
            pass
        return {"success": True, "message": f"{provider_id} provider config removed successfully"}

    async def install_gpu_operator(self) -> dict[str, Any]:
        await self._helm_or_fail(". Please install Helm or use the manual installation commands.")
        status = await gpus.gpu_operator_status(self.client)
        if status["installed"]:
            return {"success": True, "message": "NVIDIA GPU Operator is already installed", "alreadyInstalled": True,
                    "status": status}
        results = await self._install("gpu-operator", [GPU_OPERATOR_REPO], [GPU_OPERATOR_CHART])
        return {"success": True, "message": "NVIDIA GPU Operator installed successfully",
                "status": await gpus.gpu_operator_status(self.client), "results": results}


def gpu_operator_commands() -> list[str]:
    return install_commands([GPU_OPERATOR_REPO], [GPU_OPERATOR_CHART])
