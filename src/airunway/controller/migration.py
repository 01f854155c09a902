"""One-shot migration of InferenceProviderConfigs written in the legacy capabilities shape.

Older provider configs described capabilities with flat keys (``servingModes``, ``gpuSupport``, ``cpuSupport``,
``requiresCRD``, ``gateway``) next to a list of engine names. The current shape lists engine objects, each with
its own capabilities. At start-up the leader rewrites every stored config still in the legacy shape:

* ``engines`` empty: the flat keys are dropped ("cleaned");
* ``engines`` already objects: each engine gets the flat values it lacks, then the flat keys go ("hoisted");
* ``engines`` a list of names: each name becomes an engine object carrying the flat values ("migrated").

Configs without flat keys, or whose capabilities are not a map, are left alone. A config that cannot be read or
written is counted and the others still migrate; only a failure to list them at all stops the controller.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
from collections.abc import Mapping
from typing import Any

from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS
from airunway.kube.client import Client
from airunway.kube.errors import ApiError, Conflict, Forbidden, NotFound, Unauthorized

log = logging.getLogger("airunway.controller.migration")

LEGACY_KEYS = ("servingModes", "gpuSupport", "cpuSupport", "requiresCRD", "gateway")

CLEANED, HOISTED, MIGRATED = "cleaned", "hoisted", "migrated"


class MalformedCapabilities(ValueError):
    """A legacy config whose engine list mixes shapes; it is reported and left as it is."""


class MigrationPartialFailure(RuntimeError):
    """Some configs could not be migrated; the controller runs on and they are reported."""


class MigrationFailed(RuntimeError):
    """The configs could not even be listed (after retries): the controller stops."""


def migrate_capabilities(capabilities: Any) -> tuple[Any, str | None]:
    """The capabilities in the current shape, and which migration applied (None: nothing to do).

    Raises :class:`MalformedCapabilities` for an engine entry of the wrong type.
    """
    if not isinstance(capabilities, Mapping):
        return capabilities, None
    engines = capabilities.get("engines")
    if not isinstance(engines, list):
        return capabilities, None
    flat = {key: capabilities[key] for key in LEGACY_KEYS if key in capabilities}
    rest = {key: value for key, value in capabilities.items() if key not in LEGACY_KEYS}
    if not flat:
        if not engines or not isinstance(engines[0], str):
            return capabilities, None
    if not engines:
        return rest, CLEANED

    if not isinstance(engines[0], str):
        migrated = []
        for index, engine in enumerate(engines):
            if not isinstance(engine, Mapping):
                raise MalformedCapabilities(_malformed(index, "object", engine))
            filled = dict(engine)
            for key, value in _engine_fields(flat).items():
                filled.setdefault(key, value)
            migrated.append(filled)
        return {**rest, "engines": migrated}, HOISTED

    migrated = []
    for index, engine in enumerate(engines):
        if not isinstance(engine, str):
            raise MalformedCapabilities(_malformed(index, "string", engine))
        migrated.append({"name": engine, **_engine_fields(flat)})
    return {**rest, "engines": migrated}, MIGRATED


def _engine_fields(flat: Mapping[str, Any]) -> dict[str, Any]:
    """The per-engine capabilities the flat keys stand for (a fresh copy for each engine)."""
    fields: dict[str, Any] = {
        "gpuSupport": flat.get("gpuSupport") or False,
        "cpuSupport": flat.get("cpuSupport") or False,
    }
    if flat.get("servingModes"):
        fields["servingModes"] = copy.deepcopy(flat["servingModes"])
    if "requiresCRD" in flat:
        fields["requiresCRD"] = flat["requiresCRD"]
    if flat.get("gateway"):
        fields["gateway"] = copy.deepcopy(flat["gateway"])
    return fields


def _malformed(index: int, expected: str, got: Any) -> str:
    return f"malformed engine entry at spec.capabilities.engines[{index}]: expected {expected}, got {_go_type(got)}"


def _go_type(value: Any) -> str:
    """How Go's %T names a decoded JSON value."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    return "map[string]interface {}"


# --------------------------------------------------------------------------------------------- the runnable


async def _list_with_backoff(client: Client, attempts: int, initial: float, cap: float) -> list[dict] | None:
    delay, last = initial, None
    for attempt in range(attempts):
        try:
            return (await client.list_all(INFERENCE_PROVIDER_CONFIGS)).items
        except NotFound:
            return None  # the CRD is not installed: nothing to migrate
        except (Forbidden, Unauthorized) as exc:
            raise MigrationFailed(f"failed to list InferenceProviderConfig for migration: {exc}") from exc
        except ApiError as exc:
            last = exc
        except OSError as exc:
            last = exc
        if attempt + 1 < attempts:
            await asyncio.sleep(min(delay, cap) * random.uniform(1.0, 1.1))
            delay *= 2
    raise MigrationFailed(f"failed to list InferenceProviderConfig for migration after retries: {last}")


async def _migrate_one(client: Client, name: str, conflict_attempts: int = 5) -> str | None:
    """Migrate one config, re-reading it on conflict; the kind applied, or None when nothing changed."""
    for _ in range(conflict_attempts):
        try:
            current = await client.get(INFERENCE_PROVIDER_CONFIGS, name)
        except NotFound:
            return None
        spec = current.get("spec") or {}
        capabilities, kind = migrate_capabilities(spec.get("capabilities"))
        if kind is None:
            return None
        current["spec"] = {**spec, "capabilities": capabilities}
        try:
            await client.update(INFERENCE_PROVIDER_CONFIGS, current)
            return kind
        except NotFound:
            return None
        except Conflict:
            await asyncio.sleep(0.01 * random.uniform(1.0, 1.1))
    return None  # someone else keeps writing it: they hold the newer truth


async def migrate_legacy_provider_configs(
    client: Client, *, list_attempts: int = 5, initial_delay: float = 1.0, max_delay: float = 16.0
) -> dict[str, str]:
    """Migrate every legacy config; the names migrated and how. Raises :class:`MigrationPartialFailure` when
    some failed (the rest are done) and :class:`MigrationFailed` when they could not be listed."""
    items = await _list_with_backoff(client, list_attempts, initial_delay, max_delay)
    if items is None:
        log.info("InferenceProviderConfig CRD not installed; no legacy configs to migrate")
        return {}
    done: dict[str, str] = {}
    failed = 0
    for item in items:
        name = item["metadata"]["name"]
        try:
            kind = await _migrate_one(client, name)
        except (MalformedCapabilities, ApiError, OSError) as exc:
            failed += 1
            log.error("could not migrate a legacy InferenceProviderConfig", extra={"config": name, "error": str(exc)})
            continue
        if kind:
            done[name] = kind
            log.info("migrated a legacy InferenceProviderConfig", extra={"config": name, "migration": kind})
    if failed:
        raise MigrationPartialFailure(
            f"legacy InferenceProviderConfig migration partial failure: {failed} of {len(items)} object(s) failed"
        )
    return done


def migration_runnable(client: Client):
    """The manager runnable (leader only): migrate, report partial failures, stop the process on others."""

    async def migrate_legacy_inference_provider_configs() -> None:
        try:
            await migrate_legacy_provider_configs(client)
        except MigrationPartialFailure as exc:
            log.error(str(exc))
        except MigrationFailed as exc:
            raise MigrationFailed(f"legacy InferenceProviderConfig migration could not execute: {exc}") from exc

    return migrate_legacy_inference_provider_configs
