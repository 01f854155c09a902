"""The core controller's settings: flags with upstream's defaults, the environment, and their checks."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from airunway.api.providerconfig import PROVIDER_STALENESS_SECONDS
from airunway.controller.gateway.detector import NEGATIVE_RECHECK_SECONDS
from airunway.kube.manager import ManagerOptions

LEADER_ELECTION_ID = "2038fe6a.airunway.ai"
DEFAULT_CERT_DIR = Path("/tmp/k8s-webhook-server/serving-certs")
DEFAULT_CERT_SERVICE_NAME = "airunway-webhook-service"
MUTATING_CONFIGURATION = "airunway-mutating-webhook-configuration"
VALIDATING_CONFIGURATION = "airunway-validating-webhook-configuration"


class OptionsError(ValueError):
    """The flags or environment do not make a runnable controller; the message says which and how to fix it."""


@dataclass
class ControllerOptions(ManagerOptions):
    """The controller's settings, with upstream's flag defaults."""

    leader_election_id: str = LEADER_ELECTION_ID
    enable_http2: bool = False
    enable_provider_selector: bool = True
    enable_webhooks: bool = True
    webhook_port: int = 9443
    webhook_host: str = ""
    webhook_cert_dir: Path = DEFAULT_CERT_DIR
    webhook_extra_hosts: list[str] = field(default_factory=list)
    disable_cert_rotation: bool = False
    cert_service_name: str = DEFAULT_CERT_SERVICE_NAME
    validating_webhook_configuration: str = VALIDATING_CONFIGURATION
    mutating_webhook_configuration: str = MUTATING_CONFIGURATION
    pod_namespace: str = ""
    gateway_name: str = ""
    gateway_namespace: str = ""
    epp_service_port: int = 9002
    epp_image: str = ""
    patch_gateway_allowed_routes: bool = True
    gateway_detection_interval: float = NEGATIVE_RECHECK_SECONDS
    provider_heartbeat_timeout: float = PROVIDER_STALENESS_SECONDS

    @classmethod
    def from_environment(cls, **values: object) -> "ControllerOptions":
        """Options from flags (``values``) and the environment: ENABLE_WEBHOOKS=false, POD_NAMESPACE."""
        options = cls(**values)  # type: ignore[arg-type]
        options.enable_webhooks = os.environ.get("ENABLE_WEBHOOKS", "").strip().lower() != "false"
        options.pod_namespace = os.environ.get("POD_NAMESPACE", "").strip()
        return options

    def check(self) -> None:
        """Raise :class:`OptionsError` for settings that cannot work together."""
        if bool(self.gateway_name) != bool(self.gateway_namespace):
            raise OptionsError(
                "--gateway-name and --gateway-namespace must be set together (both or neither); "
                f"got --gateway-name={self.gateway_name!r} --gateway-namespace={self.gateway_namespace!r}"
            )
        if self.enable_webhooks and not self.disable_cert_rotation and not self.pod_namespace:
            raise OptionsError(
                "POD_NAMESPACE must be set when webhook certificate rotation is enabled (it names the namespace "
                "of the certificate Secret and the webhook Service); set it, pass --disable-cert-rotation, or "
                "set ENABLE_WEBHOOKS=false"
            )
        if not self.provider_heartbeat_timeout > 0:
            raise OptionsError(
                f"--provider-heartbeat-timeout must be more than 0 seconds, got {self.provider_heartbeat_timeout}; "
                f"the default is {PROVIDER_STALENESS_SECONDS:.0f} (three missed heartbeats of a minute)"
            )
        if self.max_concurrent_reconciles < 1:
            raise OptionsError(f"--max-concurrent-reconciles must be 1 or more, got {self.max_concurrent_reconciles}")
        if self.leader_elect and not (self.lease_duration > self.renew_deadline > self.retry_period > 0):
            raise OptionsError(
                "leader election needs --leader-elect-lease-duration > --leader-elect-renew-deadline > "
                "--leader-elect-retry-period > 0"
            )
