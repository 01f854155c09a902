"""Reports InferenceProviderConfigs whose selection rules do not compile (ours; upstream skips them silently).

For every config the core controller keeps one condition in its status, ``SelectionRulesValid``: True when every
``spec.selectionRules[].condition`` compiles as CEL, False naming each broken rule and the CEL error. The condition
is written by server-side apply as the controller's own field, so the provider's status fields (ready, heartbeat,
its own conditions) are left alone, and it is put back if a provider replaces the whole status. When the broken
rules change, a Warning Event ``InvalidSelectionRule`` is recorded (once per process and change) on the config (in namespace ``default``, as
Kubernetes does for cluster-scoped objects). Selection itself ignores broken rules
(:func:`airunway.policy.selection.broken_rules`), so such a provider matches only through the rules that compile.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from airunway.api.common import Condition, now
from airunway.api.constants import (
    EVENT_INVALID_SELECTION_RULE,
    ProviderConfigConditionType,
    Reason,
)
from airunway.api.providerconfig import InferenceProviderConfig
from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS
from airunway.dicts import get_path
from airunway.kube.client import Client
from airunway.kube.errors import NotFound
from airunway.kube.events import WARNING, EventRecorder
from airunway.kube.informer import Cache
from airunway.kube.resources import Key
from airunway.policy.selection import broken_rules

log = logging.getLogger("airunway.controller.providerconfigs")

CONTROLLER_NAME = "inferenceproviderconfig"
FIELD_MANAGER = "airunway-controller-selection-rules"


def rules_condition(config: InferenceProviderConfig) -> tuple[str, str, str]:
    """The ``SelectionRulesValid`` condition's status, reason and message for ``config``."""
    broken = broken_rules(config)
    count = len(config.spec.selection_rules or [])
    if not broken:
        return "True", Reason.SELECTION_RULES_COMPILED.value, f"all {count} selection rules compile"
    message = "; ".join(rule.describe() for rule in broken)
    return "False", Reason.INVALID_SELECTION_RULE.value, f"{message}. Fix the rule in spec.selectionRules"


class ProviderConfigReconciler:
    def __init__(self, client: Client, cache: Cache, events: EventRecorder) -> None:
        self.client = client
        self.cache = cache
        self.events = events
        self._reported: dict[str, str] = {}  # config name -> the broken rules last recorded as an Event

    async def __call__(self, key: Key) -> None:
        return await self.reconcile(key)

    async def reconcile(self, key: Key) -> None:
        obj = self.cache.get(INFERENCE_PROVIDER_CONFIGS, key, copy=False)
        if obj is None or get_path(obj, "metadata", "deletionTimestamp"):
            return None
        try:
            config = InferenceProviderConfig.model_validate(obj)
        except ValueError:
            return None  # the reconciler of deployments already logs configs that do not match their schema
        status, reason, message = rules_condition(config)
        current = config.status.get_condition(ProviderConfigConditionType.SELECTION_RULES_VALID)
        if current is not None and (current.status, current.reason, current.message) == (status, reason, message):
            return None
        transition = current.last_transition_time if current is not None and current.status == status else now()
        condition = Condition(type=ProviderConfigConditionType.SELECTION_RULES_VALID.value, status=status,
                              reason=reason, message=message, last_transition_time=transition,
                              observed_generation=config.metadata.generation)
        try:
            await self.client.apply_status(_status_patch(obj, condition.to_dict()), field_manager=FIELD_MANAGER,
                                           resource=INFERENCE_PROVIDER_CONFIGS)
        except NotFound:
            return None
        if status == "True":
            self._reported.pop(config.name, None)
        elif self._reported.get(config.name) != message:
            self._reported[config.name] = message
            log.warning("provider config has selection rules that do not compile",
                        extra={"config": config.name, "error": message})
            await self.events.record(obj, WARNING, EVENT_INVALID_SELECTION_RULE,
                                     f"InferenceProviderConfig {config.name}: {message}")
        return None


def _status_patch(obj: Mapping[str, Any], condition: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "metadata": {"name": obj["metadata"]["name"]},
            "status": {"conditions": [condition]}}


__all__ = ["CONTROLLER_NAME", "ProviderConfigReconciler", "rules_condition"]
