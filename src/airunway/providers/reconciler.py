"""The contract every provider controller shares (reference providers.md §0), on the controller runtime.

A provider subclasses :class:`ProviderReconciler` and fills in what differs:

* ``name`` / ``display`` (``"vllm"`` / ``"vLLM"``: messages say "Configuration compatible with vLLM"),
* :meth:`~ProviderReconciler.check_compatibility` — why it cannot run a deployment, or None,
* :meth:`~ProviderReconciler.transform` — the objects to create for a deployment (the first is the primary one),
* :meth:`~ProviderReconciler.status_of` — the deployment's phase, message, replicas and endpoint from the
  primary object, and optionally :meth:`~ProviderReconciler.prepare` (extra steps before the transform) and
  :meth:`~ProviderReconciler.handle_deletion`.

The base class runs the reconcile skeleton in upstream's order: only deployments whose ``status.provider.name`` is
this provider, nothing while paused, the finalizer ``airunway.ai/<name>-provider`` first, then compatibility,
transform, apply (server-side apply, refusing objects another owner holds), status sync, and a requeue every 30 s
that also puts back manual edits. Deletion marks the deployment Terminating, deletes what it owns, and drops the
finalizer once it is gone, or after five minutes whatever happens. Status is written as a JSON merge patch of what
changed, so the core controller's fields are never overwritten. A step that cannot go on ends the reconcile with
:meth:`~ProviderReconciler.fail` (phase Failed) or :meth:`~ProviderReconciler.wait` (phase Pending, look again later).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, ClassVar

from pydantic import ValidationError

from airunway.api.constants import ANNOTATION_RECONCILE_PAUSED, ConditionType, Reason
from airunway.api.modeldeployment import (
    DeploymentPhase,
    EndpointStatus,
    ModelDeployment,
    ReplicaStatus,
)
from airunway.api.resources import MODEL_DEPLOYMENTS
from airunway.dicts import get_path, merge_patch
from airunway.kube.client import Client
from airunway.kube.controller import Controller, Predicate, Result
from airunway.kube.errors import Conflict, NotFound
from airunway.kube.informer import Cache
from airunway.kube.resources import Key, Resource
from airunway.providers.objects import TransformError, describe_owners, owned_by

log = logging.getLogger("airunway.providers")

FINALIZER_TIMEOUT = 300.0  # seconds from deletionTimestamp after which the finalizer is dropped regardless
RESYNC_PERIOD = 30.0  # status sync and drift correction
DELETION_POLL = 5.0
DELETION_RETRY = 10.0


class ResourceConflictError(Exception):
    """An object of the wanted name exists and is not owned by this deployment."""


@dataclass
class ObservedStatus:
    """What the primary object says about the deployment (reference §0.4 step 11)."""

    phase: str
    message: str = ""
    replicas: ReplicaStatus | None = None
    endpoint: EndpointStatus | None = None
    hold_phase: bool = False
    """Keep ``phase`` as observed: no "Deploying" default (e.g. Pending while no node can take the pods)."""


@dataclass
class Owned:
    """One object a deployment owns: where it lives and its name."""

    resource: Resource
    name: str
    namespace: str


class ProviderReconciler:
    """The shared reconcile skeleton; subclasses provide the provider-specific steps."""

    name: ClassVar[str]
    display: ClassVar[str]
    primary: ClassVar[Resource]
    """The resource of the primary object (its status drives the deployment's)."""
    owned: ClassVar[Sequence[Resource]] = ()
    """Every resource kind the provider creates (watched, so changes and deletions are put back)."""
    created_noun: ClassVar[str] = ""
    """What "<noun> created, pods are ready" calls the created objects; the display name when empty."""
    created_message: ClassVar[str] = ""
    """ResourceCreated's message; "<display> resources created successfully" when empty."""

    def __init__(self, client: Client, cache: Cache) -> None:
        self.client = client
        self.cache = cache

    @property
    def finalizer(self) -> str:
        return f"airunway.ai/{self.name}-provider"

    @property
    def field_manager(self) -> str:
        return f"{self.name}-provider"

    # -- hooks -----------------------------------------------------------------------------------------------

    def check_compatibility(self, md: ModelDeployment) -> str | None:
        """Why this provider cannot run ``md`` (the deployment is marked Failed), or None."""
        return None

    async def prepare(self, md: ModelDeployment) -> Result | None:
        """Steps before the transform (storage, image resolution…); a Result ends the reconcile there."""
        return None

    def transform(self, md: ModelDeployment) -> list[dict[str, Any]]:
        """The objects for ``md``, primary first. Raise :class:`TransformError` when it cannot be rendered."""
        raise NotImplementedError

    def status_of(self, md: ModelDeployment, primary: dict[str, Any]) -> ObservedStatus:
        """The deployment's state as the primary object shows it."""
        raise NotImplementedError

    def deletion_targets(self, md: ModelDeployment) -> list[Owned]:
        """The objects to delete (in order) when the deployment is deleted; by default the primary one."""
        return [Owned(self.primary, self.primary_name(md), md.namespace)]

    def primary_name(self, md: ModelDeployment) -> str:
        return md.name

    async def read(self, resource: Resource, name: str, namespace: str | None) -> dict[str, Any] | None:
        """An object this provider creates as apply and the status sync see it, None when it does not exist
        (by default a GET; a subclass may answer from its watch cache)."""
        return await self.client.get_or_none(resource, name, namespace)

    async def observe_extra(self, md: ModelDeployment, primary: dict[str, Any], observed: ObservedStatus) -> None:
        """A chance to refine the observed status with more reads (e.g. why pods do not schedule)."""

    def create_failed_message(self, error: Exception) -> str:
        """The deployment's message when writing its objects failed (providers name their kind here)."""
        return f"Failed to create/update resource: {error}"

    # -- wiring ------------------------------------------------------------------------------------------------

    def predicate(self) -> Predicate:
        """Deployments this provider is concerned with: selected for it, naming it, or carrying its finalizer."""

        def mine(obj: Mapping[str, Any]) -> bool:
            return (
                get_path(obj, "status", "provider", "name") == self.name
                or get_path(obj, "spec", "provider", "name") == self.name
                or self.finalizer in ((obj.get("metadata") or {}).get("finalizers") or [])
            )

        return Predicate(create=mine, update=lambda old, new: mine(old) or mine(new), delete=mine)

    def setup(self, controller: Controller) -> Controller:
        for resource in self.owned:
            controller.owns(resource)
        return controller

    # -- reconcile ---------------------------------------------------------------------------------------------

    async def __call__(self, key: Key) -> Result | None:
        return await self.reconcile(key)

    async def reconcile(self, key: Key) -> Result | None:
        raw = self.cache.get(MODEL_DEPLOYMENTS, key)
        if raw is None:
            return None
        if get_path(raw, "status", "provider", "name") != self.name:
            return None
        if (raw["metadata"].get("annotations") or {}).get(ANNOTATION_RECONCILE_PAUSED) == "true":
            return None
        try:
            md = ModelDeployment.model_validate(raw)
        except ValidationError as exc:
            log.warning("cannot read ModelDeployment", extra={"key": str(key), "error": str(exc).splitlines()[0]})
            return None
        if md.metadata.deletion_timestamp:
            return await self._delete(md, raw)
        if self.finalizer not in (md.metadata.finalizers or []):
            # Go on with the updated object at once rather than requeue: behind a long queue (many new
            # deployments) a requeue would wait a whole round before anything is created.
            raw = await self.add_finalizer(raw)
            if raw is None:
                return None
            md = ModelDeployment.model_validate(raw)

        base = md.status.to_dict()
        try:
            return await self._reconcile(md)
        finally:
            await self.write_status(md, base)

    async def _reconcile(self, md: ModelDeployment) -> Result | None:
        status = md.status
        if problem := self.check_compatibility(md):
            return self.fail(md, problem, ConditionType.PROVIDER_COMPATIBLE, reason=Reason.INCOMPATIBLE_CONFIGURATION)
        self.condition(md, ConditionType.PROVIDER_COMPATIBLE, True, Reason.COMPATIBILITY_VERIFIED,
                       f"Configuration compatible with {self.display}")
        if (early := await self.prepare(md)) is not None:
            return early
        try:
            objects = self.transform(md)
        except TransformError as exc:
            return self.fail(md, f"Failed to generate {self.display} resources: {exc}", ConditionType.RESOURCE_CREATED,
                             reason=Reason.TRANSFORM_FAILED)
        try:
            for obj in objects:
                await self.apply(md, obj)
        except ResourceConflictError as exc:
            return self.fail(md, str(exc), ConditionType.READY, ConditionType.RESOURCE_CREATED,
                             reason=Reason.RESOURCE_CONFLICT)
        except Conflict:
            return Result(requeue=True)
        except Exception as exc:  # noqa: BLE001 - reported in status, retried with backoff
            self.fail(md, self.create_failed_message(exc), ConditionType.RESOURCE_CREATED, reason=Reason.CREATE_FAILED)
            raise

        self.condition(md, ConditionType.RESOURCE_CREATED, True, Reason.RESOURCE_CREATED,
                       self.created_message or f"{self.display} resources created successfully")
        provider = status.provider
        provider.resource_name = objects[0]["metadata"]["name"]
        provider.resource_kind = objects[0]["kind"]

        observed = await self.sync_status(md, objects[0])
        settled = (DeploymentPhase.RUNNING, DeploymentPhase.FAILED)
        if observed and not observed.hold_phase and status.phase not in settled:
            status.phase = DeploymentPhase.DEPLOYING.value
            status.message = status.message or f"{self.created_noun or self.display} created, waiting for pods to be ready"
        return Result(requeue_after=RESYNC_PERIOD)

    async def sync_status(self, md: ModelDeployment, rendered: dict[str, Any]) -> ObservedStatus | None:
        """Copy the primary object's state into ``md.status`` and return it; None when it could not be read."""
        meta = rendered["metadata"]
        try:
            primary = await self.read(self.primary, meta["name"], meta.get("namespace"))
            if primary is None:
                raise NotFound(404, "NotFound", f"{meta['name']} not found")
        except Exception as exc:  # noqa: BLE001 - logged; the next resync tries again
            log.warning("could not read the primary object", extra={"key": f"{md.namespace}/{md.name}", "error": str(exc)})
            return None
        observed = self.status_of(md, primary)
        await self.observe_extra(md, primary, observed)
        status = md.status
        status.phase = observed.phase
        message = observed.message
        if not message and observed.phase == DeploymentPhase.RUNNING:
            message = f"{self.created_noun or self.display} created, pods are ready"
        if not message and observed.phase not in (DeploymentPhase.RUNNING, DeploymentPhase.FAILED):
            message = f"{self.created_noun or self.display} created, waiting for pods to be ready"
        status.message = message
        if observed.replicas is not None:
            status.replicas = observed.replicas
        if observed.endpoint is not None:
            status.endpoint = observed.endpoint
        if observed.phase == DeploymentPhase.RUNNING:
            self.condition(md, ConditionType.READY, True, Reason.DEPLOYMENT_READY, "All replicas are ready")
        elif observed.phase == DeploymentPhase.FAILED:
            self.condition(md, ConditionType.READY, False, Reason.DEPLOYMENT_FAILED, message)
        else:
            self.condition(md, ConditionType.READY, False, Reason.DEPLOYMENT_IN_PROGRESS, "Deployment is in progress")
        return observed

    async def apply(self, md: ModelDeployment, obj: dict[str, Any]) -> dict[str, Any]:
        """Server-side apply ``obj`` (forcing our fields back), unless someone else owns an object of that name."""
        meta = obj["metadata"]
        resource = await self.client.resource_for(obj["apiVersion"], obj["kind"])
        existing = await self.read(resource, meta["name"], meta.get("namespace"))
        if existing is not None and not owned_by(existing, md.metadata.uid or ""):
            raise ResourceConflictError(
                f"resource {meta.get('namespace')}/{meta['name']} exists but is not managed by this "
                f"ModelDeployment ({describe_owners(existing)})"
            )
        return await self.client.apply(obj, field_manager=self.field_manager, force=True, resource=resource)

    def condition(self, md: ModelDeployment, type_: str, ok: bool, reason: str, message: str) -> None:
        md.status.set_condition(type_, "True" if ok else "False", reason, message,
                                observed_generation=md.metadata.generation)

    def fail(self, md: ModelDeployment, message: str, *conditions: str, reason: str = "") -> Result:
        """Mark the deployment Failed with ``message``, each of ``conditions`` False with ``reason``; the Result ends
        the reconcile (the next change or resync tries again)."""
        return self._settle(md, DeploymentPhase.FAILED, message, conditions, reason, Result())

    def wait(self, md: ModelDeployment, message: str, condition: str, *, reason: str, after: float) -> Result:
        """Mark the deployment Pending with ``message`` and ``condition`` False with ``reason``, and look again in
        ``after`` seconds."""
        return self._settle(md, DeploymentPhase.PENDING, message, (condition,), reason, Result(requeue_after=after))

    def _settle(self, md: ModelDeployment, phase: DeploymentPhase, message: str, conditions: Sequence[str],
                reason: str, result: Result) -> Result:
        for type_ in conditions:
            self.condition(md, type_, False, reason, message)
        md.status.phase, md.status.message = phase.value, message
        return result

    async def write_status(self, md: ModelDeployment, base: dict[str, Any]) -> None:
        patch = merge_patch(base, md.status.to_dict())
        if patch:
            try:
                await self.client.patch_merge(MODEL_DEPLOYMENTS, md.name, {"status": patch}, md.namespace,
                                              subresource="status")
            except NotFound:
                pass

    # -- deletion ----------------------------------------------------------------------------------------------

    async def _delete(self, md: ModelDeployment, raw: dict[str, Any]) -> Result | None:
        if self.finalizer not in (md.metadata.finalizers or []):
            return None
        if md.status.phase != DeploymentPhase.TERMINATING:
            base = md.status.to_dict()
            md.status.phase = DeploymentPhase.TERMINATING.value
            try:
                await self.write_status(md, base)
            except Exception as exc:  # noqa: BLE001 - cleanup goes on
                log.warning("could not mark the deployment Terminating", extra={"error": str(exc)})
        try:
            remaining = await self.handle_deletion(md)
        except Exception as exc:  # noqa: BLE001
            if self._deletion_timed_out(md):
                log.warning("cleanup failed past the finalizer timeout; removing the finalizer",
                            extra={"key": f"{md.namespace}/{md.name}", "error": str(exc)})
                await self.remove_finalizer(raw)
                return None
            log.warning("cleanup failed; retrying", extra={"key": f"{md.namespace}/{md.name}", "error": str(exc)})
            return Result(requeue_after=DELETION_RETRY)
        if remaining and not self._deletion_timed_out(md):
            return Result(requeue_after=DELETION_POLL)
        await self.remove_finalizer(raw)
        return None

    async def handle_deletion(self, md: ModelDeployment) -> bool:
        """Delete the owned objects; True while some still exist. Objects not owned by ``md`` are left alone."""
        remaining = False
        for target in self.deletion_targets(md):
            try:
                obj = await self.client.get(target.resource, target.name, target.namespace)
            except NotFound:
                continue
            if not owned_by(obj, md.metadata.uid or ""):
                continue
            remaining = True
            if not (obj.get("metadata") or {}).get("deletionTimestamp"):
                await self.client.delete(target.resource, target.name, target.namespace, ignore_not_found=True)
        return remaining

    def _deletion_timed_out(self, md: ModelDeployment) -> bool:
        deleted = md.metadata.deletion_timestamp
        return isinstance(deleted, datetime) and (datetime.now(timezone.utc) - deleted).total_seconds() > FINALIZER_TIMEOUT

    async def add_finalizer(self, raw: dict[str, Any]) -> dict[str, Any] | None:
        """The deployment with our finalizer added (None if it is gone)."""
        return await self._update_finalizers(raw, add=True)

    async def remove_finalizer(self, raw: dict[str, Any]) -> None:
        await self._update_finalizers(raw, add=False)

    async def _update_finalizers(self, raw: dict[str, Any], add: bool) -> dict[str, Any] | None:
        """Add or remove our finalizer and return the deployment as written (None once it is gone); on a conflict
        (e.g. a status write since the cached read) read it afresh and try again, up to five times, rather than
        fail the reconcile into backoff."""
        for _ in range(5):
            finalizers = raw["metadata"].get("finalizers") or []
            if (self.finalizer in finalizers) == add:
                return raw
            raw["metadata"]["finalizers"] = (
                [*finalizers, self.finalizer] if add else [f for f in finalizers if f != self.finalizer])
            try:
                return await self.client.update(MODEL_DEPLOYMENTS, raw)
            except NotFound:
                return None
            except Conflict:
                meta = raw["metadata"]
                raw = await self.client.get(MODEL_DEPLOYMENTS, meta["name"], meta["namespace"])
        raise Conflict(409, "Conflict", f"could not {'add' if add else 'remove'} the finalizer after 5 attempts")

