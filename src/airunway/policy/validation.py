"""Validation of a ModelDeployment: the validating webhook's rules without HTTP, and the reconciler's check.

* :func:`validate_create` / :func:`validate_update` return ``(errors, warnings)`` as the validating webhook would:
  every error a :class:`~airunway.policy.fielderrors.FieldError` with upstream's field path, kind and message;
  :func:`~airunway.policy.fielderrors.aggregate_message` turns them into the one-line denial message. They take
  plain dicts (an admission request's object, a YAML document) and never raise on bad input: an object that does
  not even match the CRD schema comes back as schema field errors.
* :func:`validate_spec` is the reconciler's check: unlike admission (which reports every error), it reports the
  first problem that prevents running the deployment, in a fixed order, against the engine actually resolved
  (explicit or auto-selected) and every registered provider config.

Overrides and storage have their own modules (:mod:`airunway.policy.overrides`, :mod:`airunway.policy.storage`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from airunway.api.constants import (
    ANNOTATION_DYNAMO_TEST_BACKEND,
    DYNAMO_TEST_BACKEND_MOCKER,
)
from airunway.api.modeldeployment import (
    EngineType,
    ModelDeployment,
    ModelSource,
    ServingMode,
    VolumePurpose,
    go_quote,
)
from airunway.api.providerconfig import InferenceProviderConfig
from airunway.dicts import get_path
from airunway.policy.compatibility import check_provider_compatibility
from airunway.policy.fielderrors import (
    FieldError,
    GoValue,
    aggregate_message,
    field_path,
    internal,
    invalid,
    not_supported,
    required,
    schema_value,
)
from airunway.policy.limits import (
    DYNAMO_PROVIDER,
    MAX_CPU,
    MAX_GPU_COUNT,
    MAX_MEMORY,
    MAX_REPLICAS,
    validate_resource_quantity,
)
from airunway.policy.overrides import provider_allows_host_access, validate_overrides
from airunway.policy.renderable import engine_arg_errors, name_errors
from airunway.policy.storage import managed_volume_changes, validate_storage


class ProviderLookupError(Exception):
    """Looking up an InferenceProviderConfig failed for another reason than "not found".

    ``kind`` is one of :data:`NO_MATCH` (the CRD is not installed: the check is skipped), :data:`FORBIDDEN` /
    :data:`UNAUTHORIZED` (the webhook may not read it: admission is refused) or :data:`OTHER` (a transient failure:
    admitted with a warning, the controller re-validates).
    """

    NO_MATCH = "no-match"
    FORBIDDEN = "forbidden"
    UNAUTHORIZED = "unauthorized"
    OTHER = "other"

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


ProviderConfigs = (
    Iterable[InferenceProviderConfig | Mapping[str, Any]]
    | Callable[[str], InferenceProviderConfig | Mapping[str, Any] | None]
    | None
)
"""Where admission finds the InferenceProviderConfig named by ``spec.provider.name``: a collection of configs, a
function from name to config (None when not found; raising :class:`ProviderLookupError` on failure), or None to skip
the provider check (upstream's validator without a reader)."""


# --------------------------------------------------------------------------------------------- validation entry points


def validate_create(
    obj: Mapping[str, Any] | ModelDeployment, provider_configs: ProviderConfigs = None
) -> tuple[list[FieldError], list[str]]:
    """The errors and warnings of creating ``obj`` (validating webhook, CREATE)."""
    md, errors, overrides = _parse(obj)
    if md is None:
        return errors, []
    if "." in md.name:
        errors.append(
            invalid(
                "metadata.name",
                md.name,
                "name must not contain dots (dots are invalid in derived Kubernetes volume and service names)",
            )
        )
    spec_errors, warnings = _validate_spec(md, overrides, provider_configs)
    provider = _provider_name(md)
    errors += name_errors(md, provider)
    errors += _engine_arg_errors(md, provider)
    return errors + spec_errors, warnings + _warnings(md)


def validate_update(
    old: Mapping[str, Any] | ModelDeployment,
    new: Mapping[str, Any] | ModelDeployment,
    provider_configs: ProviderConfigs = None,
) -> tuple[list[FieldError], list[str]]:
    """The errors and warnings of replacing ``old`` by ``new`` (validating webhook, UPDATE)."""
    md, errors, overrides = _parse(new)
    if md is None:
        return errors, []
    previous, _, old_overrides = _parse(old)
    # Overrides admitted before keep what they were admitted with (host access the provider no longer allows
    # among it), so that unrelated updates, a finalizer's removal among them, still go through.
    spec_errors, warnings = _validate_spec(md, overrides, provider_configs, ratchet=overrides == old_overrides)
    errors += spec_errors
    if previous is None or _engine_flags(previous) != _engine_flags(md):  # unchanged ones were checked before
        errors += _engine_arg_errors(md, _provider_name(md) or _status_provider(md))
    if previous is not None:  # an old object that no longer parses cannot be compared; the new one is valid
        errors += validate_immutable_fields(previous, md)
    return errors, warnings + _warnings(md)


def denial_status(errors: Iterable[FieldError]) -> dict[str, Any]:
    """The ``status`` of an AdmissionReview response refusing the request, as upstream's webhook sends it
    (controller-runtime's ``Denied``: code 403, reason Forbidden, the aggregated errors as message)."""
    return {"code": 403, "reason": "Forbidden", "message": aggregate_message(errors)}


def parse_model_deployment(obj: Mapping[str, Any] | ModelDeployment) -> tuple[ModelDeployment | None, list[FieldError]]:
    """``obj`` as a typed ModelDeployment, or None and the schema errors that prevent it (``provider.overrides``
    that is not an object among them)."""
    md, errors, overrides = _parse(obj)
    if md is not None and overrides is not _ABSENT and not isinstance(overrides, Mapping):
        return None, validate_overrides(overrides, _provider_name_of(obj))
    return md, errors


def _parse(obj: Mapping[str, Any] | ModelDeployment) -> tuple[ModelDeployment | None, list[FieldError], Any]:
    """The typed object, schema errors, and the raw ``spec.provider.overrides`` (``_ABSENT`` when not set)."""
    if isinstance(obj, ModelDeployment):
        overrides = obj.spec.provider.overrides if obj.spec.provider else None
        return obj, [], _ABSENT if overrides is None else overrides
    if not isinstance(obj, Mapping):
        return None, [invalid("<root>", GoValue(type(obj).__name__), "a ModelDeployment must be an object")], _ABSENT
    data = dict(obj)
    overrides: Any = _ABSENT
    provider = get_path(data, "spec", "provider")
    if isinstance(provider, Mapping) and provider.get("overrides") is not None:
        overrides = provider["overrides"]
        if not isinstance(overrides, Mapping):
            # Checked below with upstream's wording; keep it from failing the schema parse as well.
            data["spec"] = {**data["spec"], "provider": {k: v for k, v in provider.items() if k != "overrides"}}
    try:
        md = ModelDeployment.model_validate(data)
    except ValidationError as exc:
        errors = schema_errors(exc)
        if overrides is not _ABSENT:
            errors += validate_overrides(overrides, _provider_name_of(data))
        return None, errors, overrides
    return md, [], overrides


class _Absent:
    pass


_ABSENT: Any = _Absent()


_TYPE_TAG = re.compile(r"^(int|str|float|bool|none|function-\w+\[.*\]|list\[.*\]|dict\[.*\]|is-instance\[.*\])$")


def schema_errors(error: ValidationError) -> list[FieldError]:
    """Schema violations (what the API server's OpenAPI validation would refuse) as field errors."""
    by_path: dict[str, list[dict[str, Any]]] = {}
    for problem in error.errors(include_url=False):
        parts = [part for part in problem["loc"] if isinstance(part, int) or not _TYPE_TAG.match(part)]
        by_path.setdefault(field_path(*parts) or "<root>", []).append(problem)
    out: list[FieldError] = []
    for path, problems in by_path.items():
        first = problems[0]
        if first["type"] == "missing":
            out.append(required(path, ""))
        elif first["type"] in ("enum", "literal_error"):
            choices = re.findall(r"'([^']*)'", (first.get("ctx") or {}).get("expected", ""))
            out.append(not_supported(path, schema_value(first.get("input")), choices))
        else:
            detail = "; ".join(dict.fromkeys(problem["msg"] for problem in problems))
            out.append(invalid(path, schema_value(first.get("input")), detail))
    return out


# --------------------------------------------------------------------------------------------- the spec


def is_dynamo_mocker(md: ModelDeployment) -> bool:
    """Dynamo's test backend: annotation ``airunway.ai/dynamo-test-backend: mocker`` with provider dynamo."""
    return md.annotation(ANNOTATION_DYNAMO_TEST_BACKEND) == DYNAMO_TEST_BACKEND_MOCKER and (
        (md.spec.provider.name if md.spec.provider else None) == DYNAMO_PROVIDER
    )


def _validate_spec(
    md: ModelDeployment, overrides: Any, provider_configs: ProviderConfigs, *, ratchet: bool = False
) -> tuple[list[FieldError], list[str]]:
    spec = md.spec
    engine = spec.engine
    engine_type = (engine.type if engine else None) or ""
    provider_name = (spec.provider.name if spec.provider else None) or ""
    errors: list[FieldError] = []
    warnings: list[str] = []

    if message := spec.validate_image_fields():
        errors.append(invalid("spec.engine.image", engine.image if engine else "", message))
    if message := spec.validate_engine_args():
        errors.append(invalid("spec.engine.extraArgs", _go_string_slice(engine.extra_args or []), message))
    if spec.model.source in (ModelSource.HUGGINGFACE, "") and not spec.model.id:
        errors.append(required("spec.model.id", "model.id is required when source is huggingface"))
    if overrides is not _ABSENT:
        override_provider = provider_name or _status_provider(md)
        allow = ratchet or _allows_host_access(provider_configs, override_provider)
        errors += validate_overrides(overrides, override_provider, allow_host_access=allow)

    serving_mode = spec.resolved_serving_mode()
    mocker = is_dynamo_mocker(md)
    if mocker and engine_type and engine_type != EngineType.VLLM:
        errors.append(invalid("spec.engine.type", engine_type, "the dynamo mocker test backend only supports the vllm engine"))
    if not mocker and provider_name and engine_type and provider_configs is not None:
        provider_errors, provider_warnings = _check_named_provider(md, provider_name, engine_type, serving_mode, provider_configs)
        errors += provider_errors
        warnings += provider_warnings

    if serving_mode == ServingMode.DISAGGREGATED:
        errors += _disaggregated_errors(md, mocker)
    errors += validate_storage(md)
    errors += validate_resource_ceilings(md)
    return errors, warnings


def _check_named_provider(
    md: ModelDeployment, provider_name: str, engine_type: str, serving_mode: str, provider_configs: ProviderConfigs
) -> tuple[list[FieldError], list[str]]:
    try:
        config = _lookup(provider_configs, provider_name)
    except ProviderLookupError as exc:
        if exc.kind == ProviderLookupError.NO_MATCH:
            return [], []
        if exc.kind in (ProviderLookupError.FORBIDDEN, ProviderLookupError.UNAUTHORIZED):
            return [internal("spec.provider.name", f'cannot verify provider "{provider_name}": {exc}')], []
        return [], [
            f'could not verify provider "{provider_name}" compatibility at admission time ({exc}); '
            "the controller will re-validate during reconciliation"
        ]
    if config is None:
        return [invalid("spec.provider.name", provider_name, f'InferenceProviderConfig "{provider_name}" not found')], []
    if config.capabilities is None:
        return [], []
    gpu_count = _gpu_count(md)
    problems = check_provider_compatibility(provider_name, config, None, engine_type, serving_mode, gpu_count)
    return [invalid(field_path("spec", *p.field_path), p.bad_value, p.message) for p in problems], []


def _allows_host_access(provider_configs: ProviderConfigs, provider_name: str) -> bool:
    """Whether ``provider_name``'s config allows host access in overrides; False when it cannot be read."""
    if not provider_name or provider_configs is None:
        return False
    try:
        return provider_allows_host_access(_lookup(provider_configs, provider_name))
    except ProviderLookupError:
        return False


def _lookup(source: ProviderConfigs, name: str) -> InferenceProviderConfig | None:
    if callable(source):
        found = source(name)
        return _as_config(found) if found is not None else None
    for item in source or ():
        config = _as_config(item)
        if config.name == name:
            return config
    return None


def _as_config(item: InferenceProviderConfig | Mapping[str, Any]) -> InferenceProviderConfig:
    if isinstance(item, InferenceProviderConfig):
        return item
    try:
        return InferenceProviderConfig.model_validate(item)
    except ValidationError as exc:
        detail = f"malformed InferenceProviderConfig: {exc.error_count()} schema error(s)"
        raise ProviderLookupError(ProviderLookupError.OTHER, detail) from exc


def _disaggregated_errors(md: ModelDeployment, mocker: bool) -> list[FieldError]:
    spec = md.spec
    errors: list[FieldError] = []
    gpu = spec.resources.gpu if spec.resources else None
    if gpu is not None and gpu.count > 0:
        errors.append(
            invalid(
                "spec.resources.gpu",
                GoValue(f"v1alpha1.GPUSpec{{Count:{gpu.count}, Type:{go_quote(gpu.type)}}}"),
                "cannot specify both resources.gpu and scaling.prefill/decode in disaggregated mode",
            )
        )
    if spec.scaling is None:
        errors.append(required("spec.scaling", "disaggregated mode requires scaling configuration"))
        return errors
    for role in ("prefill", "decode"):
        component = getattr(spec.scaling, role)
        if component is None:
            errors.append(required(f"spec.scaling.{role}", f"disaggregated mode requires scaling.{role}"))
        elif not mocker and (component.gpu is None or component.gpu.count == 0):
            errors.append(
                required(f"spec.scaling.{role}.gpu.count", f"disaggregated mode requires scaling.{role}.gpu.count > 0")
            )
    return errors


def validate_resource_ceilings(md: ModelDeployment) -> list[FieldError]:
    """GPU, replica, CPU and memory ceilings on spec.resources and spec.scaling (and its prefill/decode)."""
    spec = md.spec
    errors: list[FieldError] = []
    if spec.resources is not None:
        gpu = spec.resources.gpu
        if gpu is not None and gpu.count > MAX_GPU_COUNT:
            errors.append(invalid("spec.resources.gpu.count", gpu.count, f"exceeds maximum allowed ({MAX_GPU_COUNT})"))
        errors += validate_resource_quantity(spec.resources.cpu, MAX_CPU, "spec.resources.cpu")
        errors += validate_resource_quantity(spec.resources.memory, MAX_MEMORY, "spec.resources.memory")
    if spec.scaling is not None:
        if spec.scaling.replicas > MAX_REPLICAS:
            errors.append(
                invalid("spec.scaling.replicas", spec.scaling.replicas, f"exceeds maximum allowed ({MAX_REPLICAS})")
            )
        for role in ("prefill", "decode"):
            component = getattr(spec.scaling, role)
            if component is None:
                continue
            path = f"spec.scaling.{role}"
            if component.replicas > MAX_REPLICAS:
                errors.append(invalid(f"{path}.replicas", component.replicas, f"exceeds maximum allowed ({MAX_REPLICAS})"))
            if component.gpu is not None and component.gpu.count > MAX_GPU_COUNT:
                errors.append(
                    invalid(f"{path}.gpu.count", component.gpu.count, f"exceeds maximum allowed ({MAX_GPU_COUNT})")
                )
            errors += validate_resource_quantity(component.memory, MAX_MEMORY, f"{path}.memory")
    return errors


# --------------------------------------------------------------------------------------------- update


def validate_immutable_fields(old: ModelDeployment, new: ModelDeployment) -> list[FieldError]:
    """Identity fields that an update may not change, and managed storage volumes that may not change or go."""
    errors: list[FieldError] = []
    immutable = "is immutable (changing it requires delete and recreate)"
    if (old.spec.model.id or "") != (new.spec.model.id or ""):
        errors.append(invalid("spec.model.id", new.spec.model.id or "", f"model.id {immutable}"))
    if old.spec.model.source != new.spec.model.source:
        errors.append(invalid("spec.model.source", new.spec.model.source, f"model.source {immutable}"))
    old_engine = (old.spec.engine.type if old.spec.engine else None) or ""
    new_engine = (new.spec.engine.type if new.spec.engine else None) or ""
    if old_engine and new_engine and old_engine != new_engine:
        errors.append(invalid("spec.engine.type", new_engine, f"engine.type {immutable}"))
    # A provider is pinned by the spec or, once auto-selected, by the status.
    old_provider = (old.spec.provider.name if old.spec.provider else None) or _status_provider(old)
    new_provider = (new.spec.provider.name if new.spec.provider else None) or ""
    if old_provider and new_provider and old_provider != new_provider:
        errors.append(invalid("spec.provider.name", new_provider, f"provider.name {immutable}"))
    if old.spec.resolved_serving_mode() != new.spec.resolved_serving_mode():
        errors.append(invalid("spec.serving.mode", new.spec.resolved_serving_mode(), f"serving.mode {immutable}"))
    errors += managed_volume_changes(old, new)
    return errors


# --------------------------------------------------------------------------------------------- warnings


def _warnings(md: ModelDeployment) -> list[str]:
    spec = md.spec
    out: list[str] = []
    if spec.model.source == ModelSource.CUSTOM and spec.model.served_name:
        out.append("servedName is ignored for custom source (model name is defined by the container)")
    if spec.engine and spec.engine.trust_remote_code:
        out.append("trustRemoteCode=true allows execution of arbitrary code from HuggingFace")
    if spec.engine and spec.engine.type == EngineType.TRTLLM and spec.engine.context_length is not None:
        out.append("contextLength is ignored for TensorRT-LLM (must be configured at engine build time)")
    volumes = (spec.model.storage.volumes if spec.model.storage else None) or []
    for volume in volumes:
        if volume.purpose == VolumePurpose.COMPILATION_CACHE and volume.read_only:
            out.append(
                f"storage volume {go_quote(volume.name)} has purpose=compilationCache with readOnly=true; "
                "compilation cache requires write access"
            )
    if spec.model.source == ModelSource.HUGGINGFACE:
        for volume in volumes:
            if volume.purpose == VolumePurpose.MODEL_CACHE and volume.read_only:
                out.append(
                    f"storage volume {go_quote(volume.name)} has purpose=modelCache with readOnly=true; model "
                    "download will be skipped (ensure the PVC already contains the model data)"
                )
    return out


def _provider_name(md: ModelDeployment) -> str:
    return (md.spec.provider.name if md.spec.provider else None) or ""


def _engine_flags(md: ModelDeployment) -> tuple[Any, Any]:
    engine = md.spec.engine
    return (engine.args, engine.extra_args) if engine else (None, None)


def _engine_arg_errors(md: ModelDeployment, provider: str) -> list[FieldError]:
    """The engine-argument keys ``provider`` refuses (the Dynamo mocker runs no engine: none)."""
    return [] if is_dynamo_mocker(md) else engine_arg_errors(md, provider)


def _gpu_count(md: ModelDeployment) -> int:
    resources = md.spec.resources
    return resources.gpu.count if resources and resources.gpu else 0


def _status_provider(md: ModelDeployment) -> str:
    return (md.status.provider.name if md.status and md.status.provider else None) or ""


def _provider_name_of(data: Mapping[str, Any]) -> str:
    name = get_path(data, "spec", "provider", "name") or get_path(data, "status", "provider", "name")
    return name if isinstance(name, str) else ""


def _go_string_slice(values: list[str]) -> GoValue:
    """A []string as Go's ``%#v`` prints it."""
    return GoValue("[]string{" + ", ".join(go_quote(value) for value in values) + "}")


# --------------------------------------------------------------------------------------------- reconciler


def validate_spec(
    md: ModelDeployment, engine_type: str, provider_configs: Sequence[InferenceProviderConfig]
) -> str | None:
    """Why ``md`` cannot run with ``engine_type`` (the resolved engine) and the registered ``provider_configs``.

    Checked in this order, first failure wins: image fields, model id, engine resolved, Dynamo mocker engine,
    provider compatibility (skipped in mocker mode), disaggregated scaling. ``md`` is not modified.
    """
    spec = md.spec
    if message := spec.validate_image_fields():
        return message
    if spec.model.source in (ModelSource.HUGGINGFACE, "") and not spec.model.id:
        return "model.id is required when source is huggingface"
    if not engine_type:
        return "engine.type must be specified or auto-selected from provider capabilities"
    mocker = is_dynamo_mocker(md)
    if mocker and engine_type != EngineType.VLLM:
        return "the dynamo mocker test backend only supports the vllm engine"
    if not mocker:
        provider_name = (spec.provider.name if spec.provider else None) or ""
        named = next((config for config in provider_configs if config.name == provider_name), None) if provider_name else None
        gpu_count = spec.resources.gpu.count if spec.resources and spec.resources.gpu else 0
        problems = check_provider_compatibility(
            provider_name, named, provider_configs, engine_type, spec.resolved_serving_mode(), gpu_count
        )
        if problems:
            return problems[0].message
    return _disaggregated_problem(md, mocker)


def _disaggregated_problem(md: ModelDeployment, mocker: bool) -> str | None:
    spec = md.spec
    if not spec.serving or spec.serving.mode != ServingMode.DISAGGREGATED:
        return None
    if spec.resources and spec.resources.gpu and spec.resources.gpu.count > 0:
        return "cannot specify both resources.gpu and scaling.prefill/decode in disaggregated mode"
    scaling = spec.scaling
    if scaling is None or scaling.prefill is None or scaling.decode is None:
        return "disaggregated mode requires scaling.prefill and scaling.decode"
    if mocker:
        return None
    for role, component in (("prefill", scaling.prefill), ("decode", scaling.decode)):
        if component.gpu is None or component.gpu.count == 0:
            return f"disaggregated mode requires scaling.{role}.gpu.count > 0"
    return None


__all__ = [
    "ProviderConfigs",
    "ProviderLookupError",
    "denial_status",
    "is_dynamo_mocker",
    "parse_model_deployment",
    "schema_errors",
    "validate_create",
    "validate_immutable_fields",
    "validate_resource_ceilings",
    "validate_spec",
    "validate_update",
]
