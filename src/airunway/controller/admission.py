"""Admission rules for ModelDeployment: the defaulting and validating webhooks' logic, without HTTP.

* :func:`default` fills the defaults the mutating webhook adds (on top of the CRD's OpenAPI defaults).
* :func:`validate_create` / :func:`validate_update` return ``(errors, warnings)`` as the validating webhook would:
  every error a :class:`~airunway.controller.fielderrors.FieldError` with upstream's field path, kind and message;
  :func:`~airunway.controller.fielderrors.aggregate_message` turns them into the one-line denial message.

All three take plain dicts (an admission request's object, a YAML document) and never raise on bad input: an
object that does not even match the CRD schema comes back as schema field errors.

One deliberate difference from upstream, decided in issue 3: upstream refuses the key ``replicas`` (and
``resources``) anywhere under ``spec.provider.overrides``, yet the Dynamo provider documents and reads
``overrides.frontend.replicas`` and ``overrides.frontend.resources`` (seed example ``llama-70b-pd``). Those typed keys
of the provider the deployment targets are admitted, bounded by the same ceilings as ``spec.scaling`` and
``spec.resources`` (see :data:`PROVIDER_TYPED_OVERRIDES`); every other sizing or security key is still refused.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from airunway.api.constants import ANNOTATION_DYNAMO_TEST_BACKEND, DYNAMO_TEST_BACKEND_MOCKER
from airunway.api.modeldeployment import (
    AccessMode,
    EngineType,
    ModelDeployment,
    ModelSource,
    ServingMode,
    StorageVolume,
    VolumePurpose,
    go_quote,
)
from airunway.api.providerconfig import InferenceProviderConfig
from airunway.controller.compatibility import check_provider_compatibility
from airunway.controller.fielderrors import (
    FieldError,
    aggregate_message,
    GoValue,
    field_path,
    forbidden,
    internal,
    invalid,
    not_supported,
    required,
)
from airunway.controller.quantity import parse_quantity, quantities_equal

MAX_GPU_COUNT = 64
MAX_REPLICAS = 32
MAX_CPU = "512"
MAX_MEMORY = "4Ti"

DEFAULT_GPU_TYPE = "nvidia.com/gpu"
DEFAULT_MOUNT_PATHS = {VolumePurpose.MODEL_CACHE: "/model-cache", VolumePurpose.COMPILATION_CACHE: "/compilation-cache"}
SYSTEM_MOUNT_PATHS = ("/dev", "/proc", "/sys", "/etc", "/var/run")
MAX_NAME_LENGTH = 253
DYNAMO_PROVIDER = "dynamo"

SECURITY_OVERRIDE_KEYS = (
    "securityContext",
    "serviceAccountName",
    "serviceAccount",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "automountServiceAccountToken",
    "nodeName",
    "priorityClassName",
    "runtimeClassName",
)
"""Keys refused anywhere under spec.provider.overrides: they could escalate privileges."""
SIZING_OVERRIDE_KEYS = ("replicas", "resources")
"""Keys refused under spec.provider.overrides (outside :data:`PROVIDER_TYPED_OVERRIDES`): they would bypass the
admission ceilings on spec.scaling and spec.resources."""


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


# --------------------------------------------------------------------------------------------- defaulting


def default(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the ModelDeployment ``obj`` with the mutating webhook's defaults filled in.

    Fields present are never overwritten; values of an unexpected shape are left alone (validation reports them).
    """
    md: dict[str, Any] = copy.deepcopy(dict(obj))
    spec = md.get("spec")
    if not isinstance(spec, dict):
        return md
    name = get_path(md, "metadata", "name") or ""

    model = spec.setdefault("model", {})
    if isinstance(model, dict) and not model.get("source"):
        model["source"] = ModelSource.HUGGINGFACE.value

    serving = spec.get("serving")
    if serving is None:
        serving = spec["serving"] = {"mode": ServingMode.AGGREGATED.value}
    elif isinstance(serving, dict) and not serving.get("mode"):
        serving["mode"] = ServingMode.AGGREGATED.value
    aggregated = isinstance(serving, dict) and serving.get("mode") == ServingMode.AGGREGATED

    if aggregated and spec.get("scaling") is None:
        spec["scaling"] = {"replicas": 1}

    # An explicit GPU engine without resources gets one GPU; llama.cpp may run on CPU, a custom legacy image may
    # not need a GPU, and an auto-selected engine decides later.
    engine_type = get_path(spec, "engine", "type")
    if (
        aggregated
        and spec.get("resources") is None
        and engine_type
        and engine_type != EngineType.LLAMACPP
        and not spec.get("image")
    ):
        spec["resources"] = {"gpu": {"count": 1, "type": DEFAULT_GPU_TYPE}}

    for owner in (get_path(spec, "resources"), get_path(spec, "scaling", "prefill"), get_path(spec, "scaling", "decode")):
        gpu = get_path(owner, "gpu")
        if isinstance(gpu, dict) and not gpu.get("type"):
            gpu["type"] = DEFAULT_GPU_TYPE

    volumes = get_path(spec, "model", "storage", "volumes")
    for volume in volumes if isinstance(volumes, list) else []:
        if not isinstance(volume, dict):
            continue
        if not volume.get("purpose"):
            volume["purpose"] = VolumePurpose.CUSTOM.value
        if not volume.get("mountPath") and volume["purpose"] in DEFAULT_MOUNT_PATHS:
            volume["mountPath"] = DEFAULT_MOUNT_PATHS[volume["purpose"]]
        if volume.get("size") is not None:
            if not volume.get("claimName"):
                volume["claimName"] = f"{name}-{volume.get('name', '')}"
            if not volume.get("accessMode"):
                volume["accessMode"] = AccessMode.READ_WRITE_MANY.value
    return md


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
    spec_errors, warnings = _validate_spec(md, overrides, provider_configs)
    errors += spec_errors
    previous, _, _ = _parse(old)
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
            out.append(not_supported(path, _schema_value(first.get("input")), choices))
        else:
            detail = "; ".join(dict.fromkeys(problem["msg"] for problem in problems))
            out.append(invalid(path, _schema_value(first.get("input")), detail))
    return out


def _schema_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    try:
        return GoValue(json.dumps(value, separators=(",", ":"), default=str))
    except (TypeError, ValueError):
        return GoValue(repr(value))


# --------------------------------------------------------------------------------------------- the spec


def is_dynamo_mocker(md: ModelDeployment) -> bool:
    """Dynamo's test backend: annotation ``airunway.ai/dynamo-test-backend: mocker`` with provider dynamo."""
    return md.annotation(ANNOTATION_DYNAMO_TEST_BACKEND) == DYNAMO_TEST_BACKEND_MOCKER and (
        (md.spec.provider.name if md.spec.provider else None) == DYNAMO_PROVIDER
    )


def _validate_spec(md: ModelDeployment, overrides: Any, provider_configs: ProviderConfigs) -> tuple[list[FieldError], list[str]]:
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
        errors += validate_overrides(overrides, provider_name or _status_provider(md))

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


# --------------------------------------------------------------------------------------------- provider.overrides


@dataclass(frozen=True)
class TypedOverride:
    """An override key a provider reads as a typed setting, admitted within the admission ceilings."""

    path: tuple[str, ...]
    check: Callable[[Any, str], list[FieldError]]
    description: str


def _check_override_replicas(value: Any, path: str) -> list[FieldError]:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (isinstance(value, float) and not value.is_integer())
        or value < 0
    ):
        return [invalid(path, _schema_value(value), "must be a non-negative integer")]
    if value > MAX_REPLICAS:
        return [invalid(path, int(value), f"exceeds maximum allowed ({MAX_REPLICAS})")]
    return []


def _check_override_resources(value: Any, path: str) -> list[FieldError]:
    if not isinstance(value, Mapping):
        return [invalid(path, _schema_value(value), "must be an object with cpu and/or memory")]
    errors: list[FieldError] = []
    for key, item in value.items():
        key_path = f"{path}.{key}"
        ceiling = {"cpu": MAX_CPU, "memory": MAX_MEMORY}.get(key)
        if ceiling is None:
            errors.append(forbidden(key_path, f'overriding "{key}" is not allowed; only cpu and memory may be set here'))
        elif not isinstance(item, str):
            errors.append(invalid(key_path, _schema_value(item), 'must be a quantity string (for example "2" or "4Gi")'))
        else:
            errors += validate_resource_quantity(item, ceiling, key_path)
    return errors


PROVIDER_TYPED_OVERRIDES: dict[str, tuple[TypedOverride, ...]] = {
    DYNAMO_PROVIDER: (
        TypedOverride(("frontend", "replicas"), _check_override_replicas, f"Frontend replicas, at most {MAX_REPLICAS}"),
        TypedOverride(
            ("frontend", "resources"),
            _check_override_resources,
            f"Frontend cpu (at most {MAX_CPU}) and memory (at most {MAX_MEMORY}) requests",
        ),
    ),
}
"""Per provider, the sizing keys under spec.provider.overrides it documents and reads as typed settings."""


def validate_overrides(overrides: Any, provider_name: str = "") -> list[FieldError]:
    """The errors of ``spec.provider.overrides`` for a deployment on ``provider_name`` ("" when not chosen yet).

    ``overrides`` is the decoded value, or raw JSON bytes as a webhook may receive them.
    """
    base = "spec.provider.overrides"
    if isinstance(overrides, (bytes, bytearray)):
        raw = bytes(overrides)
        try:
            overrides = json.loads(raw)
        except (UnicodeDecodeError, ValueError):
            return [invalid(base, f"<redacted {len(raw)} bytes>", "overrides must be valid JSON")]
        if not isinstance(overrides, Mapping):
            return [invalid(base, f"<redacted {len(raw)} bytes>", "overrides must be a JSON object")]
    if not isinstance(overrides, Mapping):
        return [invalid(base, _redacted(overrides), "overrides must be a JSON object")]
    errors = _forbidden_keys(
        overrides, (), SECURITY_OVERRIDE_KEYS, lambda key: f'overriding "{key}" is not allowed for security reasons', {}
    )
    typed = {entry.path: entry for entry in PROVIDER_TYPED_OVERRIDES.get(provider_name, ())}
    errors += _forbidden_keys(
        overrides,
        (),
        SIZING_OVERRIDE_KEYS,
        lambda key: (
            f'overriding "{key}" is not allowed because it can bypass admission resource limits; '
            "use spec.resources / spec.scaling instead"
        ),
        typed,
    )
    return errors


def _forbidden_keys(
    value: Any,
    path: tuple[str | int, ...],
    keys: tuple[str, ...],
    detail: Callable[[str], str],
    typed: dict[tuple[str, ...], TypedOverride],
) -> list[FieldError]:
    """Walk objects and arrays; a forbidden key is reported once and its subtree not searched further."""
    errors: list[FieldError] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            key_path = (*path, str(key))
            if key_path in typed:
                errors += typed[key_path].check(item, field_path("spec", "provider", "overrides", *key_path))
            elif key in keys:
                errors.append(forbidden(field_path("spec", "provider", "overrides", *key_path), detail(key)))
            else:
                errors += _forbidden_keys(item, key_path, keys, detail, typed)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            errors += _forbidden_keys(item, (*path, index), keys, detail, typed)
    return errors


def _redacted(value: Any) -> str:
    """Upstream never echoes the overrides payload, only its size as JSON."""
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = str(value)
    # Go's encoder escapes these HTML-sensitive characters as \u00XX.
    size = len(text.encode()) + 5 * sum(text.count(c) for c in "<>&")
    return f"<redacted {size} bytes>"


# --------------------------------------------------------------------------------------------- storage


def validate_storage(md: ModelDeployment) -> list[FieldError]:
    """The errors of ``spec.model.storage`` (all of them, in upstream's order)."""
    storage = md.spec.model.storage
    volumes = (storage.volumes if storage else None) or []
    base = "spec.model.storage.volumes"
    errors: list[FieldError] = []
    names: set[str] = set()
    mount_paths: set[str] = set()
    claims: set[str] = set()
    model_caches = compilation_caches = 0
    managed_model_cache = False
    for index, volume in enumerate(volumes):
        path = f"{base}[{index}]"
        claim = volume.claim_name or ""
        mount = volume.mount_path or ""
        managed = volume.size is not None
        if not managed and not claim:
            errors.append(
                required(f"{path}.claimName", "claimName is required when size is not set (must reference a pre-existing PVC)")
            )
        if managed and volume.read_only:
            errors.append(
                invalid(
                    f"{path}.readOnly",
                    True,
                    "readOnly must not be true when size is set (controller-created PVCs need write access)",
                )
            )
        if managed and claim:
            expected = f"{md.name}-{volume.name}"
            if claim != expected:
                errors.append(
                    invalid(
                        f"{path}.claimName",
                        claim,
                        f"claimName must not be set when size is set (auto-generated as {go_quote(expected)})",
                    )
                )
        if managed:
            resolved = volume.resolved_claim_name(md.name)
            if len(resolved) > MAX_NAME_LENGTH:
                errors.append(
                    invalid(
                        f"{path}.name",
                        volume.name,
                        f"auto-generated PVC claim name {go_quote(resolved)} exceeds the 253-character Kubernetes "
                        f"name limit (got {len(resolved)} characters); use a shorter ModelDeployment or volume name",
                    )
                )
        # An accessMode outside the enum never gets here: the schema refuses it with the same NotSupported error
        # (see schema_errors).
        if volume.access_mode:
            if not managed:
                errors.append(
                    invalid(
                        f"{path}.accessMode",
                        volume.access_mode,
                        "accessMode is only applicable when size is set (controller-created PVCs)",
                    )
                )
        if volume.storage_class_name is not None and not managed:
            errors.append(
                invalid(
                    f"{path}.storageClassName",
                    volume.storage_class_name,
                    "storageClassName is only applicable when size is set (controller-created PVCs)",
                )
            )
        if volume.name in names:
            errors.append(invalid(f"{path}.name", volume.name, "duplicate volume name"))
        names.add(volume.name)
        if mount:
            if mount in mount_paths:
                errors.append(invalid(f"{path}.mountPath", mount, "duplicate mount path"))
            mount_paths.add(mount)
        if claim:
            if claim in claims:
                errors.append(invalid(f"{path}.claimName", claim, "duplicate claim name"))
            claims.add(claim)
        if mount and not mount.startswith("/"):
            errors.append(invalid(f"{path}.mountPath", mount, "mountPath must be an absolute path (start with /)"))
        if volume.purpose == VolumePurpose.CUSTOM and not mount:
            errors.append(required(f"{path}.mountPath", "mountPath is required when purpose is custom"))
        for system_path in SYSTEM_MOUNT_PATHS:
            if mount == system_path or mount.startswith(system_path + "/"):
                errors.append(invalid(f"{path}.mountPath", mount, f"mountPath must not overlap with system path {system_path}"))
                break
        if volume.purpose == VolumePurpose.MODEL_CACHE:
            model_caches += 1
            managed_model_cache = managed_model_cache or (managed and not volume.read_only)
        elif volume.purpose == VolumePurpose.COMPILATION_CACHE:
            compilation_caches += 1
    if model_caches > 1:
        errors.append(invalid(base, model_caches, "at most one volume with purpose=modelCache is allowed"))
    if compilation_caches > 1:
        errors.append(invalid(base, compilation_caches, "at most one volume with purpose=compilationCache is allowed"))
    job = f"{md.name}-model-download"
    if managed_model_cache and len(job) > MAX_NAME_LENGTH:
        errors.append(
            invalid(
                "metadata.name",
                md.name,
                f"auto-generated download Job name {go_quote(job)} exceeds the 253-character Kubernetes name limit "
                f"(got {len(job)} characters); use a shorter ModelDeployment name",
            )
        )
    return errors


# --------------------------------------------------------------------------------------------- ceilings


def validate_resource_quantity(value: str | None, maximum: str, path: str) -> list[FieldError]:
    """An unparsable quantity, or one above ``maximum``, as an error at ``path``; nothing for an empty value."""
    if not value:
        return []
    try:
        amount = parse_quantity(value)
    except ValueError:
        return [invalid(path, value, "invalid resource quantity")]
    if amount > parse_quantity(maximum):
        return [invalid(path, value, f"exceeds maximum allowed ({maximum})")]
    return []


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
    errors += _managed_volume_changes(old, new)
    return errors


def _managed_volume_changes(old: ModelDeployment, new: ModelDeployment) -> list[FieldError]:
    def volumes(md: ModelDeployment) -> list[StorageVolume]:
        return (md.spec.model.storage.volumes if md.spec.model.storage else None) or []

    managed = {volume.name: volume for volume in volumes(old) if volume.size is not None}
    if not managed:
        return []
    base = "spec.model.storage.volumes"
    new_names = {volume.name for volume in volumes(new)}
    errors = [
        forbidden(
            base,
            f"managed storage volume {go_quote(name)} cannot be removed (it has an associated PVC; delete the "
            "ModelDeployment to clean up managed storage)",
        )
        for name in managed
        if name not in new_names
    ]
    for index, volume in enumerate(volumes(new)):
        before = managed.get(volume.name)
        if before is not None and not storage_volumes_equal(before, volume):
            errors.append(
                invalid(
                    f"{base}[{index}]",
                    volume.name,
                    "managed storage volume is immutable once created (delete the ModelDeployment to change managed "
                    "storage configuration)",
                )
            )
    return errors


def storage_volumes_equal(a: StorageVolume | None, b: StorageVolume | None) -> bool:
    """Semantic equality of two volumes: sizes compared by value (``1Gi`` equals ``1024Mi``)."""
    if a is None or b is None:
        return a is b
    return (
        a.name == b.name
        and (a.claim_name or "") == (b.claim_name or "")
        and (a.mount_path or "") == (b.mount_path or "")
        and a.purpose == b.purpose
        and a.read_only == b.read_only
        and (a.access_mode or "") == (b.access_mode or "")
        and a.storage_class_name == b.storage_class_name
        and quantities_equal(a.size, b.size)
    )


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


# --------------------------------------------------------------------------------------------- helpers


def get_path(data: Any, *keys: str) -> Any:
    """``data[keys[0]][keys[1]]…``, or None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


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


__all__ = [
    "DEFAULT_GPU_TYPE",
    "MAX_CPU",
    "MAX_GPU_COUNT",
    "MAX_MEMORY",
    "MAX_REPLICAS",
    "PROVIDER_TYPED_OVERRIDES",
    "ProviderConfigs",
    "ProviderLookupError",
    "SECURITY_OVERRIDE_KEYS",
    "SIZING_OVERRIDE_KEYS",
    "TypedOverride",
    "default",
    "denial_status",
    "is_dynamo_mocker",
    "parse_model_deployment",
    "schema_errors",
    "storage_volumes_equal",
    "validate_create",
    "validate_immutable_fields",
    "validate_overrides",
    "validate_resource_ceilings",
    "validate_resource_quantity",
    "validate_storage",
    "validate_update",
]
