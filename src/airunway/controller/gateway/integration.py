"""Routing a Running ModelDeployment through a Gateway with the Gateway API Inference Extension.

For each Running deployment with the gateway on (unset counts as on), the core controller: picks the Gateway,
labels the model's pods, lets the deployment's namespace attach routes to the Gateway's listeners, creates the
InferencePool and its endpoint picker (unless the provider manages its own pool), and the HTTPRoute that sends
requests naming the model to the pool; then records ``status.gateway`` and the GatewayReady condition.
Turning the gateway off (or deleting the deployment) removes what was created and reverts the listeners.

A user who deletes the generated HTTPRoute is respected: the annotation ``airunway.ai/httproute-created`` records
that one was created, and it is not created again while the annotation stands.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import aiohttp

from airunway.api.constants import (
    ANNOTATION_BBR_NAMESPACE,
    ANNOTATION_BBR_RESTARTED,
    ANNOTATION_HTTPROUTE_CREATED,
    ANNOTATION_RESTARTED_AT,
    LABEL_MODEL_DEPLOYMENT,
    MESSAGE_GATEWAY_CONFIGURED,
    MESSAGE_GATEWAY_CRDS_MISSING,
    MESSAGE_GATEWAY_DISABLED,
    ConditionType,
    Reason,
)
from airunway.api.modeldeployment import GatewayStatus, ModelDeployment
from airunway.api.providerconfig import GatewayCapabilities, InferenceProviderConfig
from airunway.api.resources import (
    DESTINATION_RULES,
    GATEWAYS,
    HTTP_ROUTES,
    INFERENCE_POOLS,
    MODEL_DEPLOYMENTS,
    REFERENCE_GRANTS,
)
from airunway.controller.gateway.detector import Detector
from airunway.kube.client import Client
from airunway.kube.errors import ApiError, NotFound
from airunway.kube.informer import Cache
from airunway.kube.resources import DEPLOYMENTS, PODS, SERVICES
from airunway.policy import gateway as objects
from airunway.policy.validation import is_dynamo_mocker

log = logging.getLogger("airunway.controller.gateway")

BBR_DEPLOYMENT = "body-based-router"
DISCOVERY_TIMEOUT = 5.0
DISCOVERY_MAX_BYTES = 1 << 20

ModelLister = Callable[[str, str, int], Awaitable[str]]
"""``(service, namespace, port) -> model id`` served there ("" when unknown)."""


@dataclass
class GatewaySettings:
    gateway_name: str = ""
    gateway_namespace: str = ""
    epp_service_port: int = objects.DEFAULT_EPP_PORT
    epp_image: str = ""
    patch_gateway_allowed_routes: bool = True


class GatewayStepError(Exception):
    """A gateway step failed; the GatewayReady condition already says so. The reconcile is retried."""


def cluster_url(service: str, namespace: str, port: int) -> str:
    return f"http://{service}.{namespace}.svc:{port}"


async def served_model(
    service: str, namespace: str, port: int, *, base_url: Callable[[str, str, int], str] = cluster_url
) -> str:
    """Ask the model server behind ``service`` which model it serves (OpenAI ``/v1/models``); "" when it does not
    answer in time, answers with an error, or sends more than 1 MiB."""
    url = base_url(service, namespace, port) + "/v1/models"
    timeout = aiohttp.ClientTimeout(total=DISCOVERY_TIMEOUT)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as resp:
            if resp.status != 200:
                return ""
            body = await resp.content.read(DISCOVERY_MAX_BYTES + 1)
            if len(body) > DISCOVERY_MAX_BYTES:
                return ""
            return objects.first_model_id(json.loads(body))
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, UnicodeDecodeError):
        return ""


def gateway_explicitly(md: ModelDeployment, enabled: bool) -> bool:
    gateway = md.spec.gateway
    return gateway is not None and gateway.enabled is enabled


def gateway_enabled(obj: Mapping[str, Any]) -> bool:
    """Unset ``spec.gateway`` or ``enabled`` counts as enabled."""
    gateway = (obj.get("spec") or {}).get("gateway")
    return not isinstance(gateway, Mapping) or gateway.get("enabled") is not False


class GatewayIntegration:
    def __init__(
        self,
        client: Client,
        cache: Cache,
        detector: Detector,
        settings: GatewaySettings | None = None,
        *,
        model_lister: ModelLister = served_model,
    ) -> None:
        self.client = client
        self.cache = cache
        self.detector = detector
        self.settings = settings or GatewaySettings()
        self.model_lister = model_lister

    # -- the Running path --------------------------------------------------------------------------------

    async def reconcile(self, obj: Mapping[str, Any], md: ModelDeployment, configs: list[InferenceProviderConfig]) -> None:
        """Bring the deployment's routing up to date, recording the outcome in ``md.status``.

        Raises :class:`NotFound` when a provider-managed pool does not exist yet and :class:`GatewayStepError`
        when a step failed (both retried with backoff)."""
        status = md.status
        if is_dynamo_mocker(md):
            return
        if not await self.detector.available():
            if gateway_explicitly(md, True):
                self._condition(md, False, Reason.CRDS_NOT_AVAILABLE, MESSAGE_GATEWAY_CRDS_MISSING)
            return
        if gateway_explicitly(md, False):
            return
        try:
            gateway = await self._gateway()
        except objects.NoGateway as exc:
            self._condition(md, False, Reason.NO_GATEWAY, str(exc))
            return
        gw_name, gw_namespace = gateway["metadata"]["name"], gateway["metadata"]["namespace"]
        caps = self._capabilities(md, configs)
        name, namespace = md.metadata.name, md.metadata.namespace

        service = await self._endpoint_service(md)
        await self._label_pods(md, service)

        if self.settings.patch_gateway_allowed_routes and namespace != gw_namespace:
            try:
                await self._admit_namespace(gateway, namespace)
            except ApiError as exc:
                raise self._failed(md, Reason.GATEWAY_PATCH_FAILED, f"patching Gateway allowedRoutes: {exc}")

        if caps and caps.manages_inference_pool:
            pool_name = objects.substitute(caps.inference_pool_name_pattern, name, namespace) or name
            pool_namespace = objects.substitute(caps.inference_pool_namespace, name, namespace) or namespace
            await self._provider_pool(obj, gateway, pool_name, pool_namespace)
        else:
            pool_name, pool_namespace = name, namespace
            try:
                await self._controller_pool(obj, md, service, gateway)
            except ApiError as exc:
                raise self._failed(md, Reason.INFERENCE_POOL_FAILED, f"reconciling InferencePool: {exc}")
            try:
                await self._endpoint_picker(obj, caps)
            except ApiError as exc:
                raise self._failed(md, Reason.EPP_FAILED, f"reconciling EPP: {exc}")

        model_name = await self._model_name(md, caps, service)
        if not (md.spec.gateway and md.spec.gateway.http_route_ref):
            try:
                spec = objects.http_route_spec(gw_name, gw_namespace, model_name, pool_name, pool_namespace)
                await self._http_route(obj, spec)
            except ApiError as exc:
                raise self._failed(md, Reason.HTTP_ROUTE_FAILED, f"reconciling HTTPRoute: {exc}")

        status.gateway = GatewayStatus(
            endpoint=objects.gateway_endpoint(gateway), model_name=model_name, gateway_namespace=gw_namespace
        )
        self._condition(md, True, Reason.GATEWAY_CONFIGURED, MESSAGE_GATEWAY_CONFIGURED)

    # -- turning it off ----------------------------------------------------------------------------------

    async def cleanup(self, obj: Mapping[str, Any], md: ModelDeployment, configs: list[InferenceProviderConfig]) -> None:
        """Delete what :meth:`reconcile` created, revert the listeners, and record GatewayDisabled.

        Raises :class:`ApiError` for a pool or route that could not be deleted (after trying the rest)."""
        name, namespace = md.metadata.name, md.metadata.namespace
        caps = self._capabilities(md, configs)
        provider_managed = bool(caps and caps.manages_inference_pool)
        problems: list[str] = []
        if not provider_managed:
            try:
                await self.client.delete(INFERENCE_POOLS, name, namespace, ignore_not_found=True)
            except ApiError as exc:
                problems.append(f"failed to delete InferencePool: {exc}")
        if not (md.spec.gateway and md.spec.gateway.http_route_ref):
            try:
                await self.client.delete(HTTP_ROUTES, name, namespace, ignore_not_found=True)
            except ApiError as exc:
                problems.append(f"failed to delete HTTPRoute: {exc}")
        if not provider_managed:
            for resource in (*objects.EPP_RESOURCES, DESTINATION_RULES):
                try:
                    await self.client.delete(resource, objects.epp_name(name), namespace, ignore_not_found=True)
                except ApiError:
                    pass  # best effort, as upstream: the owner reference removes them with the deployment
        if self.settings.patch_gateway_allowed_routes:
            try:
                await self.release_namespace(namespace, leaving=name)
            except (ApiError, objects.NoGateway) as exc:
                log.info("could not revert the Gateway listeners", extra={"namespace": namespace, "error": str(exc)})
        md.status.gateway = None
        self._condition(md, False, Reason.GATEWAY_DISABLED, MESSAGE_GATEWAY_DISABLED)
        if (obj["metadata"].get("annotations") or {}).get(ANNOTATION_HTTPROUTE_CREATED) is not None:
            await self._annotate(obj, ANNOTATION_HTTPROUTE_CREATED, None)
        if problems:
            raise GatewayStepError("; ".join(problems))

    async def release_namespace(self, namespace: str, *, leaving: str | None = None) -> None:
        """Stop admitting ``namespace`` on the Gateway when no deployment there (other than ``leaving``) still
        routes through it."""
        gateway = await self._gateway()
        if namespace == gateway["metadata"]["namespace"]:
            return
        for other in self.cache.list(MODEL_DEPLOYMENTS, namespace=namespace, copy=False):
            if other["metadata"]["name"] != leaving and not other["metadata"].get("deletionTimestamp") and \
                    gateway_enabled(other):
                return
        admitted = objects.allowed_namespaces(gateway)
        if namespace not in admitted:
            return
        await self._set_listeners(gateway, admitted - {namespace})

    async def deployment_gone(self, namespace: str) -> None:
        """A deployment of ``namespace`` was deleted: revert the listeners if it was the last one routed (errors
        are only logged)."""
        if not self.settings.patch_gateway_allowed_routes or not self.detector.known_available():
            return
        try:
            await self.release_namespace(namespace)
        except (ApiError, objects.NoGateway) as exc:
            log.debug("no listener revert", extra={"namespace": namespace, "error": str(exc)})

    # -- steps ---------------------------------------------------------------------------------------------

    def _condition(self, md: ModelDeployment, ok: bool, reason: str, message: str) -> None:
        md.status.set_condition(
            ConditionType.GATEWAY_READY, "True" if ok else "False", reason, message,
            observed_generation=md.metadata.generation,
        )

    def _failed(self, md: ModelDeployment, reason: str, message: str) -> GatewayStepError:
        self._condition(md, False, reason, message)
        return GatewayStepError(message)

    async def _gateway(self) -> dict[str, Any]:
        if self.settings.gateway_name:
            try:
                return await self.client.get(GATEWAYS, self.settings.gateway_name, self.settings.gateway_namespace)
            except NotFound:
                raise objects.NoGateway(
                    f"Gateway {self.settings.gateway_namespace}/{self.settings.gateway_name} "
                    "(--gateway-name/--gateway-namespace) not found"
                ) from None
        try:
            gateways = (await self.client.list_all(GATEWAYS)).items
        except ApiError as exc:
            raise objects.NoGateway(f"failed to list gateways: {exc}") from None
        chosen = objects.choose_gateway(gateways)
        if len(gateways) > 1:
            log.debug("several Gateways: using the labelled one", extra={"gateway": chosen["metadata"]["name"]})
        return chosen

    def _capabilities(self, md: ModelDeployment, configs: list[InferenceProviderConfig]) -> GatewayCapabilities | None:
        if md.spec.provider is not None:
            provider = md.spec.provider.name or ""
        else:
            provider = (md.status.provider.name if md.status.provider else "") or ""
        config = next((c for c in configs if c.metadata.name == provider), None) if provider else None
        capability = config.get_engine_capability(md.resolved_engine_type()) if config else None
        return capability.gateway if capability else None

    async def _endpoint_service(self, md: ModelDeployment) -> dict[str, Any] | None:
        service = md.status.endpoint.service if md.status.endpoint else None
        if not service:
            return None
        return await self.client.get_or_none(SERVICES, service, md.metadata.namespace)

    async def _label_pods(self, md: ModelDeployment, service: Mapping[str, Any] | None) -> None:
        """Label the pods behind the model's Service so that the InferencePool selects them (best effort)."""
        selector = ((service or {}).get("spec") or {}).get("selector")
        if not selector:
            return
        name, namespace = md.metadata.name, md.metadata.namespace
        try:
            pods = (await self.client.list_all(PODS, namespace, label_selector=selector)).items
            for pod in pods:
                if (pod["metadata"].get("labels") or {}).get(LABEL_MODEL_DEPLOYMENT) != name:
                    patch = {"metadata": {"labels": {LABEL_MODEL_DEPLOYMENT: name}}}
                    await self.client.patch_merge(PODS, pod["metadata"]["name"], patch, namespace)
        except ApiError as exc:
            log.info("could not label the model's pods", extra={"deployment": name, "error": str(exc)})

    async def _admit_namespace(self, gateway: dict[str, Any], namespace: str) -> None:
        admitted = objects.allowed_namespaces(gateway)
        if namespace in admitted:
            return
        await self._set_listeners(gateway, admitted | {namespace})

    async def _set_listeners(self, gateway: dict[str, Any], namespaces: set[str]) -> None:
        patch = {"spec": {"listeners": objects.listeners_admitting(gateway, namespaces)}}
        await self.client.patch_merge(GATEWAYS, gateway["metadata"]["name"], patch, gateway["metadata"]["namespace"])
        log.info("Gateway listeners updated", extra={
            "gateway": gateway["metadata"]["name"], "namespaces": sorted(namespaces) or "(same namespace only)"})

    async def _controller_pool(
        self, obj: Mapping[str, Any], md: ModelDeployment, service: Mapping[str, Any] | None,
        gateway: Mapping[str, Any],
    ) -> None:
        endpoint_port = md.status.endpoint.port if md.status.endpoint else None
        pool = objects.inference_pool(obj, objects.pool_target_port(service, endpoint_port),
                                      self.settings.epp_service_port)
        existed = await self.client.get_or_none(INFERENCE_POOLS, md.metadata.name, md.metadata.namespace)
        await self.client.apply(pool, resource=INFERENCE_POOLS)
        if existed is None:
            await self._restart_body_router(gateway)

    async def _endpoint_picker(self, obj: Mapping[str, Any], caps: GatewayCapabilities | None) -> None:
        picker = caps.endpoint_picker if caps else None
        image = (picker.image if picker else None) or self.settings.epp_image or objects.DEFAULT_EPP_IMAGE
        for item in objects.epp_objects(obj, image=image, port=self.settings.epp_service_port,
                                        config_data=picker.config_data if picker else None):
            await self.client.apply(item)
        await self._destination_rule(objects.epp_name(obj["metadata"]["name"]), obj["metadata"]["namespace"], obj)

    async def _destination_rule(self, name: str, namespace: str, owner: Mapping[str, Any]) -> None:
        """Only where Istio's DestinationRule kind is served."""
        try:
            await self.client.resource_for(DESTINATION_RULES.api_version, DESTINATION_RULES.kind)
        except ApiError:
            return
        await self.client.apply(objects.destination_rule(name, namespace, owner), resource=DESTINATION_RULES)

    async def _provider_pool(
        self, obj: Mapping[str, Any], gateway: Mapping[str, Any], pool_name: str, pool_namespace: str
    ) -> None:
        try:
            pool = await self.client.get(INFERENCE_POOLS, pool_name, pool_namespace)
        except NotFound:
            raise  # not created by the provider yet: retried with backoff
        except ApiError as exc:
            raise GatewayStepError(
                f"failed to get provider-managed InferencePool {pool_namespace}/{pool_name}: {exc}"
            ) from None
        if (obj["metadata"].get("annotations") or {}).get(ANNOTATION_BBR_RESTARTED) != "true":
            if await self._restart_body_router(gateway):
                await self._annotate(obj, ANNOTATION_BBR_RESTARTED, "true")
        if pool_namespace != obj["metadata"]["namespace"]:
            await self.client.apply(objects.reference_grant(pool, obj["metadata"]["namespace"]),
                                    resource=REFERENCE_GRANTS)
        picker = ((pool.get("spec") or {}).get("endpointPickerRef") or {}).get("name")
        if picker:
            await self._destination_rule(picker, pool_namespace, obj)

    async def _restart_body_router(self, gateway: Mapping[str, Any]) -> bool:
        """Roll the Body-Based Router so it picks up the new model; False when there is none or it failed."""
        namespace = (gateway["metadata"].get("annotations") or {}).get(ANNOTATION_BBR_NAMESPACE) \
            or gateway["metadata"]["namespace"]
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        patch = {"spec": {"template": {"metadata": {"annotations": {ANNOTATION_RESTARTED_AT: now}}}}}
        try:
            await self.client.patch_merge(DEPLOYMENTS, BBR_DEPLOYMENT, patch, namespace)
        except NotFound:
            return False
        except ApiError as exc:
            log.info("could not restart the Body-Based Router", extra={"namespace": namespace, "error": str(exc)})
            return False
        return True

    async def _model_name(
        self, md: ModelDeployment, caps: GatewayCapabilities | None, service: Mapping[str, Any] | None
    ) -> str:
        if md.spec.gateway and md.spec.gateway.model_name:
            return md.spec.gateway.model_name
        if md.spec.model.served_name and not (caps and caps.ignores_served_name):
            return md.spec.model.served_name
        if service is not None:
            endpoint_port = md.status.endpoint.port if md.status.endpoint else None
            port = objects.discovery_port(service, endpoint_port)
            if discovered := await self.model_lister(service["metadata"]["name"], md.metadata.namespace, port):
                return discovered
        return md.spec.model.id or ""

    async def _http_route(self, obj: Mapping[str, Any], spec: dict[str, Any]) -> None:
        name, namespace = obj["metadata"]["name"], obj["metadata"]["namespace"]
        existing = await self.client.get_or_none(HTTP_ROUTES, name, namespace)
        if existing is not None:
            if existing.get("spec") != spec:
                existing["spec"] = spec
                await self.client.update(HTTP_ROUTES, existing)
            return
        if (obj["metadata"].get("annotations") or {}).get(ANNOTATION_HTTPROUTE_CREATED) == "true":
            return  # created before and deleted by someone since: leave it deleted
        await self.client.create(HTTP_ROUTES, objects.http_route(obj, spec))
        try:
            await self._annotate(obj, ANNOTATION_HTTPROUTE_CREATED, "true")
        except ApiError as exc:
            log.info("could not record the HTTPRoute's creation", extra={"deployment": name, "error": str(exc)})

    async def _annotate(self, obj: Mapping[str, Any], key: str, value: str | None) -> None:
        patch = {"metadata": {"annotations": {key: value}}}
        try:
            await self.client.patch_merge(MODEL_DEPLOYMENTS, obj["metadata"]["name"], patch, obj["metadata"]["namespace"])
        except NotFound:
            pass
