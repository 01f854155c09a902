"""The ModelDeployment admission webhooks of the core controller, served over HTTPS by the controller process.

* ``/mutate-airunway-ai-v1alpha1-modeldeployment`` (webhook ``mmodeldeployment-v1alpha1.kb.io``): the defaults of
  :func:`airunway.policy.defaulting.default`, answered as a JSON Patch;
* ``/validate-airunway-ai-v1alpha1-modeldeployment`` (webhook ``vmodeldeployment-v1alpha1.kb.io``): the errors
  and warnings of :func:`~airunway.policy.validation.validate_create` / ``validate_update``; deletions pass.

The validator reads the InferenceProviderConfig a deployment names from the manager's cache and, when the cache
does not have it (yet), from the API server, as upstream does with its uncached reader.

Both webhooks are called with ``failurePolicy: Fail``, so while the controller is down the API server refuses what
they are called for. :data:`MATCH_CONDITIONS` (ours; upstream calls them for every CREATE and UPDATE) keeps them out
of updates of a deployment being deleted and of updates that leave ``spec`` unchanged (finalizers, labels,
annotations): a deletion then completes, and its finalizers can be removed by hand, with the controller down.
Every change of ``spec`` is still defaulted and validated. The chart's ``templates/webhooks.yaml`` carries the same
conditions (a unit test compares them).

:func:`install_webhooks` adds the server, the bootstrap certificate and the certificate rotator to a manager.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS
from airunway.controller.options import ControllerOptions
from airunway.dicts import get_path
from airunway.kube.certs import (
    MUTATING_WEBHOOK_CONFIGURATIONS,
    VALIDATING_WEBHOOK_CONFIGURATIONS,
    CertRotator,
    WebhookConfiguration,
    bootstrap,
    service_hosts,
)
from airunway.kube.client import Client
from airunway.kube.errors import ApiError, Forbidden, NotFound, Unauthorized
from airunway.kube.informer import Cache, CacheNotSynced
from airunway.kube.manager import Manager
from airunway.kube.resources import Key
from airunway.kube.webhook import (
    AdmissionRequest,
    AdmissionResponse,
    WebhookServer,
    allowed,
    denied,
    errored,
    mutating,
    validating,
)
from airunway.policy.defaulting import default
from airunway.policy.validation import (
    ProviderLookupError,
    denial_status,
    validate_create,
    validate_update,
)

log = logging.getLogger("airunway.controller.webhook")

MUTATE_PATH = "/mutate-airunway-ai-v1alpha1-modeldeployment"
VALIDATE_PATH = "/validate-airunway-ai-v1alpha1-modeldeployment"
MUTATING_WEBHOOK_NAME = "mmodeldeployment-v1alpha1.kb.io"
VALIDATING_WEBHOOK_NAME = "vmodeldeployment-v1alpha1.kb.io"
MATCH_CONDITIONS: tuple[dict[str, str], ...] = (
    {
        "name": "not-being-deleted",
        "expression": "request.operation != 'UPDATE' || !has(oldObject.metadata.deletionTimestamp)",
    },
    {
        "name": "spec-changed",
        "expression": "request.operation != 'UPDATE' || !has(object.spec) || !has(oldObject.spec) "
        "|| object.spec != oldObject.spec",
    },
)
"""``matchConditions`` of both webhooks: the API server calls them only when every expression is true."""
CERT_SECRET_NAME = "airunway-webhook-server-cert"
CA_NAME = "airunway-ca"
CA_ORGANIZATION = "airunway"


class ProviderConfigReader:
    """Finds an InferenceProviderConfig by name: the cache first, then the API server."""

    def __init__(self, client: Client, cache: Cache | None) -> None:
        """``cache`` None: always ask the API server (the cache has no provider configs, e.g. no CRD at start)."""
        self.client = client
        self.cache = cache

    async def get(self, name: str) -> dict[str, Any] | None:
        """The config, None when it does not exist, or :class:`ProviderLookupError`."""
        if self.cache is not None:
            try:
                found = self.cache.get(INFERENCE_PROVIDER_CONFIGS, Key("", name))
            except CacheNotSynced:
                found = None
            if found is not None:
                return found
        try:
            return await self.client.get(INFERENCE_PROVIDER_CONFIGS, name)
        except NotFound:
            if await self._served():
                return None
            raise ProviderLookupError(ProviderLookupError.NO_MATCH, "InferenceProviderConfigs are not served") from None
        except Forbidden as exc:
            raise ProviderLookupError(ProviderLookupError.FORBIDDEN, exc.message or str(exc)) from None
        except Unauthorized as exc:
            raise ProviderLookupError(ProviderLookupError.UNAUTHORIZED, exc.message or str(exc)) from None
        except (ApiError, OSError, TimeoutError) as exc:
            raise ProviderLookupError(ProviderLookupError.OTHER, getattr(exc, "message", "") or str(exc)) from None

    async def _served(self) -> bool:
        """Whether the API server serves InferenceProviderConfigs (a 404 then means "no such config")."""
        try:
            await self.client.resource_for(INFERENCE_PROVIDER_CONFIGS.api_version, INFERENCE_PROVIDER_CONFIGS.kind)
        except NotFound:
            return False
        except (ApiError, OSError, TimeoutError):
            return True  # discovery failed: report the config as missing, as the GET said
        return True


class ModelDeploymentWebhooks:
    """The defaulting and validating handlers."""

    def __init__(self, provider_configs: ProviderConfigReader) -> None:
        self.provider_configs = provider_configs

    def register(self, server: WebhookServer) -> None:
        server.register(MUTATE_PATH, mutating(self.default))
        server.register(VALIDATE_PATH, validating(self.validate))

    @staticmethod
    def default(request: AdmissionRequest) -> dict[str, Any]:
        return default(request.object)

    async def validate(self, request: AdmissionRequest) -> AdmissionResponse:
        if request.operation not in ("CREATE", "UPDATE"):
            return allowed()
        if not isinstance(request.object, dict):
            return errored(400, "the request has no ModelDeployment to validate")
        lookup = await self._provider_lookup(request.object)
        if request.operation == "CREATE":
            errors, warnings = validate_create(request.object, lookup)
        else:
            if not isinstance(request.old_object, dict):
                return errored(400, "the update request has no previous ModelDeployment")
            errors, warnings = validate_update(request.old_object, request.object, lookup)
        if errors:
            return denied(denial_status(errors), warnings)
        return allowed(warnings)

    async def _provider_lookup(self, obj: dict[str, Any]):
        """The provider source for the validation: the config of the named (or, on an update, the selected)
        provider, read beforehand (the rules are synchronous)."""
        name = get_path(obj, "spec", "provider", "name") or get_path(obj, "status", "provider", "name")
        if not name or not isinstance(name, str):
            return lambda _name: None
        try:
            found = await self.provider_configs.get(name)
        except ProviderLookupError as exc:
            failure = exc

            def fail(_name: str) -> None:
                raise failure

            return fail
        return lambda wanted: copy.deepcopy(found) if found is not None and wanted == name else None


def install_webhooks(
    manager: Manager, client: Client, options: "ControllerOptions", *, provider_configs_installed: bool = True
) -> WebhookServer:
    """Serve the webhooks from ``manager`` on every replica, with the certificate bootstrapped and rotated."""
    hosts = service_hosts(options.cert_service_name, options.pod_namespace or "default", options.webhook_extra_hosts)
    bootstrap(options.webhook_cert_dir, hosts)
    server = WebhookServer(host=options.webhook_host, port=options.webhook_port, cert_dir=options.webhook_cert_dir)
    reader = ProviderConfigReader(client, manager.cache if provider_configs_installed else None)
    ModelDeploymentWebhooks(reader).register(server)
    manager.add_runnable(server.run, name="webhook server", needs_leader=False)
    manager.add_readyz_check("webhook", server.readiness)
    if not options.disable_cert_rotation:
        rotator = CertRotator(
            client,
            namespace=options.pod_namespace,
            secret_name=CERT_SECRET_NAME,
            hosts=hosts,
            cert_dir=options.webhook_cert_dir,
            webhooks=[
                WebhookConfiguration(VALIDATING_WEBHOOK_CONFIGURATIONS, options.validating_webhook_configuration),
                WebhookConfiguration(MUTATING_WEBHOOK_CONFIGURATIONS, options.mutating_webhook_configuration),
            ],
            ca_name=CA_NAME,
            ca_organization=CA_ORGANIZATION,
            on_files_written=server.certificates.reload_if_changed,
        )
        manager.add_runnable(rotator.run, name="webhook certificate rotation", needs_leader=False)
        manager.add_readyz_check("webhook-certificate", rotator.readiness)
    return server
