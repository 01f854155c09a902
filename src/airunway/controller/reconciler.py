"""The ModelDeployment reconciler of the core controller.

Each reconcile reads the deployment and every InferenceProviderConfig from the cache and runs upstream's steps in
order: record ``observedGeneration`` (and ``Pending`` for a new object), refuse conflicting image fields, choose
the engine, validate the spec against that engine and the providers, refuse a provider change, choose the
provider (or record the one named in the spec), then write the status once as a JSON merge patch of what changed
against the object as read, so the fields provider controllers write are never touched.

Selection and validation failures are recorded in status and conditions and end the reconcile without a retry:
the next change of the deployment or of a provider config brings it back. Only API failures are retried.

A deployment the providers report Running is then routed through the Gateway (see :mod:`airunway.controller.gateway`)
unless its gateway is turned off, in which case what was created for it is removed.

Beyond upstream, providers that stopped reporting (heartbeat older than ``heartbeat_timeout``) are not chosen
automatically, and a deployment being deleted whose provider holds it with its finalizer says so in status
(phase ``Terminating``, condition ``Deleting``); once that provider has not reported for longer than
``heartbeat_timeout``, the core controller removes the finalizer itself, with a Warning Event
(:mod:`airunway.policy.deletion`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from airunway.api.common import now
from airunway.api.constants import (
    ANNOTATION_RECONCILE_PAUSED,
    EVENT_PROVIDER_FINALIZER_REMOVED,
    MESSAGE_ENGINE_EXPLICIT,
    MESSAGE_NO_PROVIDER,
    MESSAGE_PROVIDER_EXPLICIT,
    MESSAGE_VALIDATION_PASSED,
    ConditionType,
    Reason,
    message_engine_auto_selected,
    message_provider_auto_selected,
)
from airunway.api.modeldeployment import (
    DeploymentPhase,
    ImageStatus,
    ModelDeployment,
    ProviderStatus,
)
from airunway.api.providerconfig import (
    PROVIDER_STALENESS_SECONDS,
    InferenceProviderConfig,
    InferenceProviderConfigStatus,
)
from airunway.api.resources import (
    GATEWAYS,
    INFERENCE_POOLS,
    INFERENCE_PROVIDER_CONFIGS,
    MODEL_DEPLOYMENTS,
)
from airunway.controller.gateway import GatewayIntegration, GatewayStepError
from airunway.controller.gateway.integration import gateway_explicitly
from airunway.controller.metrics import DeploymentMetrics
from airunway.dicts import get_path, merge_patch
from airunway.kube.client import Client
from airunway.kube.controller import Controller, Predicate, Result
from airunway.kube.errors import ApiError, NotFound
from airunway.kube.events import WARNING, EventRecorder
from airunway.kube.informer import Cache, CacheNotSynced
from airunway.kube.resources import Key
from airunway.policy.deletion import ProviderHold, provider_holds
from airunway.policy.fielderrors import aggregate_message
from airunway.policy.renderable import render_errors
from airunway.policy.selection import (
    EXPLICIT_PROVIDER_REASON,
    Liveness,
    provider_change_error,
    select_engine,
    select_provider,
)
from airunway.policy.validation import schema_errors, validate_spec

log = logging.getLogger("airunway.controller")

CONTROLLER_NAME = "modeldeployment"


class ProviderConfigs:
    """The cached InferenceProviderConfigs as typed objects, parsed once per resourceVersion."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self._parsed: dict[str, tuple[str, InferenceProviderConfig | None]] = {}

    def all(self) -> list[InferenceProviderConfig]:
        objects = self.cache.list(INFERENCE_PROVIDER_CONFIGS, copy=False)
        configs: list[InferenceProviderConfig] = []
        seen: set[str] = set()
        for obj in sorted(objects, key=lambda o: o["metadata"]["name"]):
            meta = obj["metadata"]
            name, version = meta["name"], meta.get("resourceVersion", "")
            seen.add(name)
            cached = self._parsed.get(name)
            if cached is None or cached[0] != version:
                cached = (version, _parse_config(obj))
                self._parsed[name] = cached
            if cached[1] is not None:
                configs.append(cached[1])
        for name in set(self._parsed) - seen:
            del self._parsed[name]
        return configs


def _parse_config(obj: Mapping[str, Any]) -> InferenceProviderConfig | None:
    try:
        return InferenceProviderConfig.model_validate(obj)
    except ValidationError as exc:
        log.warning(
            "ignoring an InferenceProviderConfig that does not match its schema",
            extra={"config": obj["metadata"]["name"], "error": aggregate_message(schema_errors(exc))},
        )
        return None


class ModelDeploymentReconciler:
    def __init__(
        self,
        client: Client,
        cache: Cache,
        *,
        metrics: DeploymentMetrics,
        enable_provider_selector: bool = True,
        provider_configs_installed: bool = True,
        gateway: GatewayIntegration | None = None,
        heartbeat_timeout: float = PROVIDER_STALENESS_SECONDS,
        events: EventRecorder | None = None,
    ) -> None:
        """``provider_configs_installed`` False (their CRD is missing): reconcile as if none were registered.
        ``gateway`` None: no Gateway integration. ``heartbeat_timeout``: seconds after its last heartbeat from which
        a provider is not chosen automatically and its finalizer is removed from deployments being deleted."""
        self.client = client
        self.cache = cache
        self.metrics = metrics
        self.enable_provider_selector = enable_provider_selector
        self.provider_configs = ProviderConfigs(cache) if provider_configs_installed else None
        self.gateway = gateway
        self.heartbeat_timeout = heartbeat_timeout
        self.events = events or EventRecorder(client, "airunway-controller")
        self.controller: Controller | None = None
        self._watching_pools = False

    # -- wiring --------------------------------------------------------------------------------------------

    def setup(self, controller: Controller) -> Controller:
        """Watch provider configs on ``controller`` (created for ModelDeployments with this reconcile)."""
        self.controller = controller
        if self.provider_configs is None:
            return controller
        return controller.watches(
            INFERENCE_PROVIDER_CONFIGS, self.deployments_affected_by,
            predicates=[provider_config_changed(self.heartbeat_timeout)],
        )

    async def follow_gateway_apis(self) -> None:
        """Runs beside the controller: once the Gateway APIs are served (at start or when installed later),
        watch the InferencePools the deployments own and the Gateways, and reconcile every Running deployment."""
        if self.gateway is None or self.controller is None:
            return
        detector = self.gateway.detector
        while not await detector.available():
            await asyncio.sleep(max(detector.recheck, 1.0))
        if not self._watching_pools:
            self._watching_pools = True
            self.controller.owns(INFERENCE_POOLS)
            # A Gateway created, removed, relabelled or given an address changes where models are routed.
            self.controller.watches(GATEWAYS, lambda _: self.running_deployments(), predicates=[gateway_changed()])
        await self.cache.informer(MODEL_DEPLOYMENTS).wait_synced()  # listing before the first sync raises
        for key in self.running_deployments():
            self.controller.enqueue(key)

    def running_deployments(self) -> list[Key]:
        return [
            Key.of(md) for md in self.cache.list(MODEL_DEPLOYMENTS, copy=False)
            if get_path(md, "status", "phase") == DeploymentPhase.RUNNING.value
        ]

    def deployments_affected_by(self, config: Mapping[str, Any]) -> list[Key]:
        """The deployments a change of ``config`` can affect: those naming it, those it was selected for, and
        those still waiting for a provider."""
        name = config["metadata"]["name"]
        keys = []
        try:
            deployments = self.cache.list(MODEL_DEPLOYMENTS, copy=False)
        except CacheNotSynced:
            return []  # the deployments' first list enqueues every one of them anyway
        for md in deployments:
            named = get_path(md, "spec", "provider", "name") or ""
            selected = get_path(md, "status", "provider", "name") or ""
            if named == name or selected == name or (not named and not selected):
                keys.append(Key.of(md))
        return keys

    # -- reconcile -----------------------------------------------------------------------------------------

    async def __call__(self, key: Key) -> None:
        return await self.reconcile(key)

    async def reconcile(self, key: Key) -> Result | None:
        start = time.monotonic()
        obj = self.cache.get(MODEL_DEPLOYMENTS, key, copy=False)
        if obj is None:
            self.metrics.forget(key)
            if self.gateway:
                await self.gateway.deployment_gone(key.namespace)
            return None
        meta = obj["metadata"]
        paused = (meta.get("annotations") or {}).get(ANNOTATION_RECONCILE_PAUSED) == "true"
        if meta.get("deletionTimestamp"):
            await self._remove_routing(key, obj)
            return None if paused else await self._deleting(key, obj)
        if paused:
            return None

        try:
            md = ModelDeployment.model_validate(obj)
        except ValidationError as exc:
            await self._record_unreadable(key, obj, aggregate_message(schema_errors(exc)))
            return None
        base = md.status.to_dict()
        error_type = self._reconcile(md)
        if error_type is None and self.gateway and md.status.phase == DeploymentPhase.RUNNING.value:
            error_type = await self._route(key, obj, md)
        await self._patch_status(key, base, md.status.to_dict())

        provider = (md.status.provider.name if md.status.provider else None) or ""
        if provider:
            if error_type:
                self.metrics.count_error(provider, error_type)
            self.metrics.observe_reconcile(provider, time.monotonic() - start)
        self.metrics.record(key, md)
        return None

    def _reconcile(self, md: ModelDeployment) -> str | None:
        """Bring ``md.status`` up to date (in memory); return the error type of a failure, if any."""
        spec, status = md.spec, md.status
        generation = md.metadata.generation
        status.observed_generation = generation
        if not status.phase:
            status.phase = DeploymentPhase.PENDING.value

        def condition(type_: str, ok: bool, reason: str, message: str) -> None:
            status.set_condition(type_, "True" if ok else "False", reason, message, observed_generation=generation)

        def fail(message: str) -> None:
            condition(ConditionType.VALIDATED, False, Reason.VALIDATION_FAILED, message)
            status.phase = DeploymentPhase.FAILED.value
            status.message = f"Validation failed: {message}"

        configs = self.provider_configs.all() if self.provider_configs else []
        liveness = Liveness(now(), self.heartbeat_timeout)

        if conflict := spec.validate_image_fields():
            condition(ConditionType.IMAGE_RESOLVED, False, Reason.CONFLICTING_IMAGE_FIELDS, conflict)
            status.image = ImageStatus(requested=spec.image_override(), message=conflict)
            fail(conflict)
            return None

        if self.enable_provider_selector:
            engine = select_engine(md, configs, liveness)
            if not engine.ok:
                condition(ConditionType.ENGINE_SELECTED, False, Reason.SELECTION_FAILED, engine.error)
                status.message = engine.status_message
                return "engine_selection"
            status.engine = engine.status()

        resolved_engine = md.resolved_engine_type()
        if problem := validate_spec(md, resolved_engine, configs):
            fail(problem)
            return "validation"
        condition(ConditionType.VALIDATED, True, Reason.VALIDATION_PASSED, MESSAGE_VALIDATION_PASSED)
        if status.engine and status.engine.type:
            if spec.engine and spec.engine.type:
                condition(ConditionType.ENGINE_SELECTED, True, Reason.EXPLICIT_SELECTION, MESSAGE_ENGINE_EXPLICIT)
            else:
                message = message_engine_auto_selected(status.engine.type)
                condition(ConditionType.ENGINE_SELECTED, True, Reason.AUTO_SELECTED, message)

        if change := provider_change_error(md):
            condition(ConditionType.PROVIDER_SELECTED, False, Reason.PROVIDER_CHANGE_NOT_SUPPORTED, change)
            status.phase = DeploymentPhase.FAILED.value
            status.message = change
            return "provider_change"

        named = (spec.provider.name if spec.provider else None) or ""
        if self.enable_provider_selector and not named and not _selected_provider(md):
            selection = select_provider(md, configs, resolved_engine, liveness)
            if not selection.ok:
                condition(ConditionType.PROVIDER_SELECTED, False, Reason.SELECTION_FAILED, selection.error)
                status.message = selection.status_message
                return "provider_selection"
            # Admission checked a named provider's limits; an auto-selected one's are checked here, once.
            if problems := render_errors(md, selection.provider or ""):
                fail(str(problems[0]))
                return "validation"
            status.provider = ProviderStatus(name=selection.provider, selected_reason=selection.reason)
            message = message_provider_auto_selected(selection.provider)
            condition(ConditionType.PROVIDER_SELECTED, True, Reason.AUTO_SELECTED, message)

        if not _selected_provider(md):
            if named:
                provider = status.provider or ProviderStatus()
                provider.name, provider.selected_reason = named, EXPLICIT_PROVIDER_REASON
                status.provider = provider
                condition(ConditionType.PROVIDER_SELECTED, True, Reason.EXPLICIT_SELECTION, MESSAGE_PROVIDER_EXPLICIT)
            elif not self.enable_provider_selector:
                condition(ConditionType.PROVIDER_SELECTED, False, Reason.NO_PROVIDER, MESSAGE_NO_PROVIDER)
                status.message = MESSAGE_NO_PROVIDER
        return None

    # -- deletion ----------------------------------------------------------------------------------------

    async def _deleting(self, key: Key, obj: Mapping[str, Any]) -> Result | None:
        """A deployment being deleted: say which provider it waits for, and release it from providers that stopped
        reporting. Requeued for the moment the first waiting provider would pass the timeout."""
        meta = obj["metadata"]
        try:
            deleted_at = datetime.fromisoformat(str(meta["deletionTimestamp"]).replace("Z", "+00:00"))
        except ValueError:
            return None
        configs = self.provider_configs.all() if self.provider_configs else []
        holds = provider_holds(meta.get("finalizers") or [], configs, deleted_at, now(), self.heartbeat_timeout)
        if not holds:
            return None
        released = [hold for hold in holds if hold.release]
        waiting = [hold for hold in holds if not hold.release]
        try:
            md: ModelDeployment | None = ModelDeployment.model_validate(obj)
        except ValidationError:
            md = None  # one the typed model cannot read is still released; its status is left as it is
        if md is not None:
            base = md.status.to_dict()
            status = md.status
            status.phase = DeploymentPhase.TERMINATING.value
            if released:
                message = "; ".join(hold.released_message() for hold in released)
                reason = Reason.PROVIDER_FINALIZER_REMOVED
            else:
                message = "; ".join(hold.waiting_message() for hold in waiting)
                reason = Reason.WAITING_FOR_PROVIDER
            status.message = _sentence(message)
            status.set_condition(ConditionType.DELETING, "True", reason, status.message,
                                 observed_generation=md.metadata.generation)
            await self._patch_status(key, base, status.to_dict())
        if released:
            await self._release(key, obj, released)
        return Result(requeue_after=min(hold.retry_after for hold in waiting)) if waiting else None

    async def _release(self, key: Key, obj: Mapping[str, Any], released: list[ProviderHold]) -> None:
        """Remove the finalizers of ``released`` (only if the list is still as read: a JSON patch with a test), then
        record a Warning Event for each."""
        current = list(obj["metadata"].get("finalizers") or [])
        dropped = {hold.finalizer for hold in released}
        ops = [{"op": "test", "path": "/metadata/finalizers", "value": current},
               {"op": "replace", "path": "/metadata/finalizers", "value": [f for f in current if f not in dropped]}]
        try:
            await self.client.patch_json(MODEL_DEPLOYMENTS, key.name, ops, key.namespace)
        except NotFound:
            return
        for hold in released:
            log.warning("removed the finalizer of a provider that stopped reporting",
                        extra={"key": str(key), "provider": hold.provider, "silentFor": round(hold.silent_for)})
            await self.events.record(obj, WARNING, EVENT_PROVIDER_FINALIZER_REMOVED, _sentence(hold.released_message()))

    # -- Gateway routing ---------------------------------------------------------------------------------

    async def _route(self, key: Key, obj: Mapping[str, Any], md: ModelDeployment) -> str | None:
        """Route a Running deployment through the Gateway (or undo it when turned off). Failures are recorded in
        GatewayReady and counted, but do not fail the reconcile, except a provider-managed pool that does not exist
        yet: that raises, so the deployment is retried with backoff (and its status is not written this time)."""
        assert self.gateway is not None
        configs = self.provider_configs.all() if self.provider_configs else []
        try:
            if gateway_explicitly(md, False):
                await self.gateway.cleanup(obj, md, configs)
            else:
                await self.gateway.reconcile(obj, md, configs)
        except NotFound:
            self.gateway.detector.refresh()  # in case an API kind went away (CRDs uninstalled)
            raise
        except (ApiError, GatewayStepError) as exc:
            log.warning("gateway routing failed", extra={"key": str(key), "error": str(exc)})
            return "gateway"
        return None

    async def _remove_routing(self, key: Key, obj: Mapping[str, Any]) -> None:
        if self.gateway is None or not self.gateway.detector.known_available():
            return
        try:
            md = ModelDeployment.model_validate(obj)
        except ValidationError:
            return
        configs = self.provider_configs.all() if self.provider_configs else []
        try:
            await self.gateway.cleanup(obj, md, configs)
        except (ApiError, GatewayStepError) as exc:
            log.warning("gateway cleanup failed", extra={"key": str(key), "error": str(exc)})
            provider = _selected_provider(md)
            if provider:
                self.metrics.count_error(provider, "gateway")

    # -- writing -------------------------------------------------------------------------------------------

    async def _patch_status(self, key: Key, before: dict[str, Any], after: dict[str, Any]) -> None:
        patch = merge_patch(before, after)
        if not patch:
            return
        try:
            await self.client.patch_merge(
                MODEL_DEPLOYMENTS, key.name, {"status": patch}, key.namespace, subresource="status"
            )
        except NotFound:
            pass  # deleted meanwhile: the delete event cleans up

    async def _record_unreadable(self, key: Key, obj: Mapping[str, Any], problem: str) -> None:
        """An object the typed model cannot read (the webhook was bypassed): mark it failed, keep the rest."""
        status = obj.get("status") if isinstance(obj.get("status"), Mapping) else {}
        wanted = {
            "observedGeneration": obj["metadata"].get("generation"),
            "phase": DeploymentPhase.FAILED.value,
            "message": f"Validation failed: {problem}",
        }
        before = {k: status.get(k) for k in wanted if k in status}
        log.warning("ModelDeployment does not match its schema", extra={"key": str(key), "error": problem})
        await self._patch_status(key, before, wanted)


def provider_config_changed(heartbeat_timeout: float = PROVIDER_STALENESS_SECONDS) -> Predicate:
    """Provider config events that matter: create, delete, and updates that flip readiness, change the spec, or
    bring back a provider whose heartbeat had gone stale (it is chosen again)."""

    def stale(obj: Mapping[str, Any]) -> bool:
        try:
            status = InferenceProviderConfigStatus.model_validate(obj.get("status") or {})
        except ValidationError:
            return False
        return status.stale_for(now(), heartbeat_timeout) is not None

    def update(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
        readiness_flipped = bool(get_path(old, "status", "ready")) != bool(get_path(new, "status", "ready"))
        return readiness_flipped or old.get("spec") != new.get("spec") or (stale(old) and not stale(new))

    return Predicate(update=update)


def gateway_changed() -> Predicate:
    """Gateway updates that can change routing: labels (which Gateway is chosen) and addresses (the endpoint).
    Listener changes are left out: the controller makes them itself."""

    def update(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
        return (get_path(old, "metadata", "labels") != get_path(new, "metadata", "labels")
                or get_path(old, "status", "addresses") != get_path(new, "status", "addresses"))

    return Predicate(update=update)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _selected_provider(md: ModelDeployment) -> str:
    return (md.status.provider.name if md.status.provider else None) or ""

