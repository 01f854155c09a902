"""Request bodies and parameters of the deployment API, validated as the upstream dashboard does.

:class:`CreateDeployment` is the body of ``POST /api/deployments`` (and ``/preview``): unknown keys are dropped,
types are strict (a number is not a string), and :func:`storage_issues` adds the rules that span several fields of
``storage.volumes``. Every problem is reported as an :class:`Issue` naming the field, answered with status 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

NAMESPACE_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
RESOURCE_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
DNS_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
QUANTITY_RE = re.compile(r"^[+-]?(\d+\.?\d*|\d*\.?\d+)([eE][+-]?\d+|[KMGTPE]i?|[numkMGTPE])?$")

VOLUME_LIMIT = 8
RESERVED_MOUNT_ROOTS = ("/dev", "/proc", "/sys", "/etc", "/var/run")
DEFAULT_MOUNT_PATHS = {"modelCache": "/model-cache", "compilationCache": "/compilation-cache"}


@dataclass(frozen=True)
class Issue:
    """One problem with a request: where (``path``, e.g. ``["storage", "volumes", 1, "mountPath"]``) and what."""

    path: tuple[str | int, ...]
    message: str

    def to_dict(self) -> dict:
        return {"path": list(self.path), "message": self.message}


class InvalidRequest(Exception):
    """A request that breaks a rule its schema cannot express; answered 400 like a schema failure."""

    def __init__(self, issues: list[Issue]):
        super().__init__("; ".join(describe(i) for i in issues))
        self.issues = issues


def describe(issue: Issue) -> str:
    where = ".".join(str(p) for p in issue.path)
    return f"{where}: {issue.message}" if where else issue.message


def is_namespace(value: str) -> bool:
    return 0 < len(value) <= 63 and bool(NAMESPACE_RE.match(value))


def is_resource_name(value: str) -> bool:
    return 0 < len(value) <= 253 and bool(RESOURCE_NAME_RE.match(value))


def _namespace(value: str) -> str:
    if not is_namespace(value):
        raise ValueError(
            "must be 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit"
        )
    return value


def _resource_name(value: str) -> str:
    if not is_resource_name(value):
        raise ValueError(
            "must be 1-253 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit"
        )
    return value


def _dns_label(value: str) -> str:
    if not (0 < len(value) <= 63 and DNS_LABEL_RE.match(value)):
        raise ValueError("must be a DNS label: 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit")
    return value


def _quantity(value: str) -> str:
    if not QUANTITY_RE.match(value):
        raise ValueError("must be a Kubernetes quantity such as 100Gi or 500M")
    return value


def _model_id(value: str) -> str:
    if not value:
        raise ValueError("Model ID is required")
    return value


Namespace = Annotated[StrictStr, AfterValidator(_namespace)]
ResourceName = Annotated[StrictStr, AfterValidator(_resource_name)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]
PositiveInt = Annotated[StrictInt, Field(gt=0)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class GpuResources(_Body):
    gpu: NonNegativeInt
    memory: StrictStr | None = None


class RecipeProvenance(_Body):
    source: StrictStr | None = None
    id: StrictStr | None = None
    strategy: StrictStr | None = None
    hardware: StrictStr | None = None
    variant: StrictStr | None = None
    precision: StrictStr | None = None
    features: list[StrictStr] | None = None
    revision: StrictStr | None = None


class Volume(_Body):
    name: Annotated[StrictStr, AfterValidator(_dns_label)]
    purpose: Literal["modelCache", "compilationCache", "custom"] = "custom"
    mountPath: StrictStr | None = None
    readOnly: StrictBool = False
    size: Annotated[StrictStr, AfterValidator(_quantity)] | None = None
    claimName: StrictStr | None = None
    storageClassName: StrictStr | None = None
    accessMode: Literal["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"] | None = None

    def resolved_mount_path(self) -> str | None:
        return self.mountPath or DEFAULT_MOUNT_PATHS.get(self.purpose)

    def resolved_claim_name(self, deployment: str) -> str | None:
        if self.claimName:
            return self.claimName
        return f"{deployment}-{self.name}" if self.size else None


class Storage(_Body):
    volumes: Annotated[list[Volume], Field(max_length=VOLUME_LIMIT)] | None = None


class CreateDeployment(_Body):
    """The body of ``POST /api/deployments``."""

    name: ResourceName
    modelId: Annotated[StrictStr, AfterValidator(_model_id)]
    engine: Literal["vllm", "sglang", "trtllm", "llamacpp"]
    namespace: Namespace | None = None
    mode: Literal["aggregated", "disaggregated"] = "aggregated"
    provider: ResourceName | None = None
    servedModelName: StrictStr | None = None
    routerMode: Literal["default", "kv", "round-robin"] = "default"
    replicas: NonNegativeInt = 1
    hfTokenSecret: StrictStr = ""
    contextLength: PositiveInt | None = None
    enforceEager: StrictBool = False
    enablePrefixCaching: StrictBool = True
    trustRemoteCode: StrictBool = False
    resources: GpuResources | None = None
    engineArgs: dict[str, Any] | None = None
    engineExtraArgs: list[StrictStr] | None = None
    env: dict[str, StrictStr] | None = None
    providerOverrides: dict[str, Any] | None = None
    prefillReplicas: NonNegativeInt | None = None
    decodeReplicas: NonNegativeInt | None = None
    prefillGpus: NonNegativeInt | None = None
    decodeGpus: NonNegativeInt | None = None
    modelSource: Literal["premade", "huggingface", "vllm"] | None = None
    premadeModel: StrictStr | None = None
    ggufFile: StrictStr | None = None
    ggufRunMode: Literal["build", "direct"] | None = None
    imageRef: StrictStr | None = None
    computeType: Literal["cpu", "gpu"] | None = None
    maxModelLen: PositiveInt | None = None
    gatewayEnabled: StrictBool | None = None
    recipeProvenance: RecipeProvenance | None = None
    storage: Storage | None = None

    def check(self) -> None:
        """Raise :class:`InvalidRequest` when a rule spanning several fields is broken."""
        issues = storage_issues(self.name, self.storage.volumes if self.storage else None)
        if issues:
            raise InvalidRequest(issues)


def _under(path: str, root: str) -> bool:
    path = path.rstrip("/") or "/"
    return path == root or path.startswith(root + "/")


def storage_issues(deployment: str, volumes: list[Volume] | None) -> list[Issue]:
    """The volume rules of the create schema that involve more than one field or volume."""
    issues: list[Issue] = []
    if not volumes:
        return issues

    def add(index: int | None, field: str | None, message: str) -> None:
        path: tuple[str | int, ...] = ("storage", "volumes")
        if index is not None:
            path += (index,)
        if field:
            path += (field,)
        issues.append(Issue(path, message))

    seen_names: set[str] = set()
    seen_mounts: dict[str, str] = {}
    seen_claims: dict[str, str] = {}
    purposes: dict[str, int] = {}
    for i, vol in enumerate(volumes):
        if vol.name in seen_names:
            add(i, "name", f"Duplicate volume name '{vol.name}'")
        seen_names.add(vol.name)

        mount = vol.resolved_mount_path()
        if vol.mountPath is not None and not vol.mountPath.startswith("/"):
            add(i, "mountPath", "mountPath must be an absolute path (start with '/')")
        if vol.purpose == "custom" and not vol.mountPath:
            add(i, "mountPath", "mountPath is required when purpose is 'custom'")
        if vol.mountPath and any(_under(vol.mountPath, root) for root in RESERVED_MOUNT_ROOTS):
            add(i, "mountPath", f"mountPath '{vol.mountPath}' is a reserved system path "
                                f"({', '.join(RESERVED_MOUNT_ROOTS)} and below cannot be used)")
        if mount:
            if mount in seen_mounts:
                add(i, "mountPath", f"Duplicate mount path '{mount}' (also used by volume '{seen_mounts[mount]}')")
            else:
                seen_mounts[mount] = vol.name

        if vol.purpose in DEFAULT_MOUNT_PATHS:
            purposes[vol.purpose] = purposes.get(vol.purpose, 0) + 1
            if purposes[vol.purpose] == 2:
                add(i, "purpose", f"Only one volume may have purpose '{vol.purpose}'")

        auto_claim = f"{deployment}-{vol.name}"
        if vol.size is None:
            if not vol.claimName:
                add(i, "claimName", "claimName is required when size is not set (give size to create a new PVC)")
            if vol.accessMode is not None:
                add(i, "accessMode", "accessMode can only be set together with size")
            if vol.storageClassName is not None:
                add(i, "storageClassName", "storageClassName can only be set together with size")
        else:
            if vol.readOnly:
                add(i, "readOnly", "readOnly cannot be used with size: a new PVC must be writable to be filled")
            if vol.claimName and vol.claimName != auto_claim:
                add(i, "claimName", f"claimName must be '{auto_claim}' (or left out) when size is set")
            if not vol.claimName and len(auto_claim) > 253:
                add(i, "name", f"The generated claim name '{auto_claim[:40]}…' is longer than 253 characters")

        claim = vol.resolved_claim_name(deployment)
        if claim:
            if claim in seen_claims:
                add(i, "claimName", f"Duplicate claim name '{claim}' (also used by volume '{seen_claims[claim]}')")
            else:
                seen_claims[claim] = vol.name
    return issues
