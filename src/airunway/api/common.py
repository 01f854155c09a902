"""Building blocks shared by the AI Runway API models.

* :class:`K8sModel`, the base of every model: camelCase aliases, strict scalar types (a JSON string is not an
  integer, as for the Kubernetes API server), unknown fields ignored (the API server prunes them too).
* Scalar types with their OpenAPI shape: :data:`Int32`, :data:`Int64`, :data:`NonNegativeInt32`,
  :data:`Quantity` (int-or-string), :data:`Time` (RFC 3339, second precision, UTC).
* The Kubernetes types embedded in our CRDs: ``metav1.ObjectMeta`` (unknown fields kept), ``metav1.Condition``,
  ``corev1.EnvVar`` (with every ``valueFrom`` source) and ``corev1.Toleration``.
* Condition bookkeeping with ``meta.SetStatusCondition`` semantics (:class:`WithConditions`).
* :func:`go_json`: an object shaped as upstream's Go types marshal it (``omitempty``), see :class:`GoJSON`.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from enum import Enum, StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import core_schema

# --------------------------------------------------------------------------------------------- base model


class K8sModel(BaseModel):
    """Base of all API models.

    ``Model.model_validate(obj)`` reads a Kubernetes object (camelCase keys, snake_case names also accepted);
    ``model.to_dict()`` writes it back the way the API server stores it.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        strict=True,
        use_enum_values=True,
        use_attribute_docstrings=True,
        protected_namespaces=(),
        extra="ignore",
    )

    def to_dict(self) -> dict[str, Any]:
        """The object as Kubernetes JSON: camelCase keys, unset (None) fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def enum_field(enum: type[StrEnum]) -> Any:
    """The annotation for a field holding one of ``enum``'s values, given as a plain string."""
    return Annotated[enum, Strict(False)]


def list_map(*keys: str) -> dict[str, Any]:
    """OpenAPI markers of a list that Kubernetes merges as a map keyed by ``keys``."""
    return {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": list(keys)}


ATOMIC_MAP: dict[str, Any] = {"x-kubernetes-map-type": "atomic"}
"""OpenAPI marker of an object that server-side apply replaces as a whole."""


class GoJSON(Enum):
    """Field annotation: how upstream's Go type marshals the field, where that differs from plain ``omitempty``.

    Upstream code sees objects through Go's encoding/json, which leaves out zero values of ``omitempty`` fields
    (0, false, "", empty lists and maps) and always writes structs held by value. :func:`go_json` reproduces that.
    """

    KEEP_ZERO = "keep-zero"
    """A pointer, or a field without omitempty: zero values are written."""
    ALWAYS = "always"
    """A struct held by value: written (as {} at least) even when unset."""


def go_json(model: BaseModel) -> dict[str, Any]:
    """``model`` as upstream's Go types marshal it: zero values of plain fields left out, see :class:`GoJSON`.

    Free-form values (``provider.overrides``) are written as they are. Numbers stay Python ints; Go's
    ``map[string]any`` would hold them as float64.
    """
    out: dict[str, Any] = {}
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None:
            if GoJSON.ALWAYS in field.metadata:
                out[field.alias or name] = {}
        elif isinstance(value, BaseModel) or GoJSON.KEEP_ZERO in field.metadata or value not in (0, "", [], {}):
            out[field.alias or name] = _go_value(value)
    return out


def _go_value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return go_json(value)
    if isinstance(value, list):
        return [_go_value(item) for item in value]
    if isinstance(value, datetime):
        return _rfc3339(value)
    return value


# --------------------------------------------------------------------------------------------- scalars


class _IntFormat:
    """Annotation: a signed integer of ``bits`` bits, checked and published as OpenAPI ``format: int<bits>``."""

    def __init__(self, bits: int) -> None:
        self.bits = bits
        self.low, self.high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def _check(self, value: int) -> int:
        if not self.low <= value <= self.high:
            raise ValueError(f"must fit in a {self.bits}-bit signed integer")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: Any) -> dict[str, Any]:
        json_schema = handler(schema)
        json_schema["format"] = f"int{self.bits}"
        return json_schema


Int32 = Annotated[int, _IntFormat(32)]
Int64 = Annotated[int, _IntFormat(64)]
# The bound must come before the format so that the schema says `minimum` (pydantic keeps its own spelling
# for constraints applied after a custom validator).
NonNegativeInt32 = Annotated[int, Field(ge=0), _IntFormat(32)]
NonNegativeInt64 = Annotated[int, Field(ge=0), _IntFormat(64)]

QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
"""The textual form of a Kubernetes ``resource.Quantity``."""
_QUANTITY = re.compile(QUANTITY_PATTERN)


def _check_quantity(value: int | str) -> int | str:
    if isinstance(value, str) and not _QUANTITY.match(value):
        raise ValueError(f"{value!r} is not a Kubernetes quantity (for example 100Gi, 500M or 2)")
    return value


Quantity = Annotated[
    int | str,
    AfterValidator(_check_quantity),
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": QUANTITY_PATTERN,
            "x-kubernetes-int-or-string": True,
        }
    ),
]
"""A ``resource.Quantity``: an integer or a quantity string, kept as written."""


def _utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _rfc3339(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


Time = Annotated[
    datetime,
    Strict(False),
    BeforeValidator(_utc),
    AfterValidator(_utc),
    PlainSerializer(_rfc3339, return_type=str),
]
"""A ``metav1.Time``: read from RFC 3339 text, written in UTC with second precision (``2025-01-15T10:30:00Z``)."""


def now() -> datetime:
    """The current time as a :data:`Time` holds it (UTC, whole seconds)."""
    return datetime.now(timezone.utc).replace(microsecond=0)


# --------------------------------------------------------------------------------------------- metadata


class OwnerReference(K8sModel):
    """A reference from an object to the object that owns it (garbage collection follows it)."""

    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool | None = None
    block_owner_deletion: bool | None = None


class ObjectMeta(K8sModel):
    """``metav1.ObjectMeta``: the common fields are typed, every other field is kept as it came."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    generation: Int64 | None = None
    creation_timestamp: Time | None = None
    deletion_timestamp: Time | None = None
    deletion_grace_period_seconds: Int64 | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    owner_references: list[OwnerReference] | None = None
    finalizers: list[str] | None = None


class KubernetesObject(K8sModel):
    """Fields and conveniences common to the top-level AI Runway kinds."""

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        # Some clients write `status: null`; Kubernetes treats it as absent, so do we.
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data

    @property
    def name(self) -> str:
        return self.metadata.name or ""

    @property
    def namespace(self) -> str:
        return self.metadata.namespace or ""

    def annotation(self, key: str) -> str | None:
        return (self.metadata.annotations or {}).get(key)

    def label(self, key: str) -> str | None:
        return (self.metadata.labels or {}).get(key)


# --------------------------------------------------------------------------------------------- conditions


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(K8sModel):
    """One aspect of an object's current state (``metav1.Condition``)."""

    type: Annotated[
        str,
        Field(
            max_length=316,
            pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
            r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
        ),
    ]
    """The aspect, in CamelCase (or domain/CamelCase)."""
    status: enum_field(ConditionStatus)
    """True, False or Unknown."""
    observed_generation: NonNegativeInt64 | None = None
    """The metadata.generation this condition was computed from."""
    last_transition_time: Time
    """When status last changed."""
    reason: Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")]
    """A CamelCase word that says why, for programs."""
    message: Annotated[str, Field(max_length=32768), GoJSON.KEEP_ZERO]
    """What happened and what to do about it, for people (may be empty)."""


class WithConditions(K8sModel):
    """A status with a ``conditions`` list keyed by type, and ``meta.SetStatusCondition``-like helpers."""

    conditions: list[Condition] | None = Field(default=None, json_schema_extra=list_map("type"))
    """The latest observations of the object's state, one per condition type."""

    def get_condition(self, type: str) -> Condition | None:
        return next((c for c in self.conditions or [] if c.type == type), None)

    def is_condition_true(self, type: str) -> bool:
        condition = self.get_condition(type)
        return condition is not None and condition.status == ConditionStatus.TRUE

    def set_condition(
        self,
        type: str,
        status: str,
        reason: str,
        message: str,
        observed_generation: int | None = None,
        at: datetime | None = None,
    ) -> bool:
        """Add or update the condition of ``type``; return whether anything changed.

        ``lastTransitionTime`` moves (to ``at``, default now) only when the status flips or the condition is new;
        reason, message and observedGeneration are always updated.
        """
        current = self.get_condition(type)
        if current is None:
            new = Condition(
                type=type,
                status=status,
                reason=reason,
                message=message,
                observed_generation=observed_generation,
                last_transition_time=at or now(),
            )
            self.conditions = [*(self.conditions or []), new]
            return True
        before = current.model_dump()
        if current.status != status:
            current.status = ConditionStatus(status).value
            current.last_transition_time = at or now()
        current.reason = reason
        current.message = message
        current.observed_generation = observed_generation
        return current.model_dump() != before

    def remove_condition(self, type: str) -> bool:
        """Drop the condition of ``type``; return whether it was there."""
        kept = [c for c in self.conditions or [] if c.type != type]
        removed = len(kept) != len(self.conditions or [])
        if removed:
            self.conditions = kept
        return removed


# --------------------------------------------------------------------------------------------- core/v1 EnvVar


class _KeySelector(K8sModel):
    model_config = ConfigDict(json_schema_extra=ATOMIC_MAP)

    key: Annotated[str, GoJSON.KEEP_ZERO]
    """The key to read."""
    name: str = ""
    """The name of the object holding the key."""
    optional: Annotated[bool | None, GoJSON.KEEP_ZERO] = None
    """Whether the object or its key may be missing."""


class ConfigMapKeySelector(_KeySelector):
    """A key of a ConfigMap in the pod's namespace."""


class SecretKeySelector(_KeySelector):
    """A key of a Secret in the pod's namespace."""


class ObjectFieldSelector(K8sModel):
    """A field of the pod (metadata.name, metadata.namespace, status.podIP, ...)."""

    model_config = ConfigDict(json_schema_extra=ATOMIC_MAP)

    api_version: str | None = None
    """The API version the field path is written against (v1 when empty)."""
    field_path: Annotated[str, GoJSON.KEEP_ZERO]
    """The path of the field."""


class ResourceFieldSelector(K8sModel):
    """A resource limit or request of a container (limits.cpu, requests.memory, ...)."""

    model_config = ConfigDict(json_schema_extra=ATOMIC_MAP)

    container_name: str | None = None
    """The container whose resources are read (optional for environment variables)."""
    divisor: Quantity | None = None
    """The unit the value is expressed in (1 when empty)."""
    resource: Annotated[str, GoJSON.KEEP_ZERO]
    """The resource to read."""


class FileKeySelector(K8sModel):
    """A key of an env file on a volume of the pod (EnvFiles feature gate)."""

    model_config = ConfigDict(json_schema_extra=ATOMIC_MAP)

    key: Annotated[str, GoJSON.KEEP_ZERO]
    """The key in the env file."""
    optional: Annotated[bool, GoJSON.KEEP_ZERO] = False
    """Whether the file or the key may be missing."""
    path: Annotated[str, GoJSON.KEEP_ZERO]
    """The env file's path, relative to the volume."""
    volume_name: Annotated[str, GoJSON.KEEP_ZERO]
    """The volume mount holding the env file."""


class EnvVarSource(K8sModel):
    """Where an environment variable's value comes from; set exactly one."""

    config_map_key_ref: ConfigMapKeySelector | None = None
    """A key of a ConfigMap."""
    field_ref: ObjectFieldSelector | None = None
    """A field of the pod."""
    file_key_ref: FileKeySelector | None = None
    """A key of an env file on a volume."""
    resource_field_ref: ResourceFieldSelector | None = None
    """A resource limit or request of the container."""
    secret_key_ref: SecretKeySelector | None = None
    """A key of a Secret."""


class EnvVar(K8sModel):
    """An environment variable of a container."""

    name: Annotated[str, GoJSON.KEEP_ZERO]
    """The variable's name."""
    value: str | None = None
    """A literal value; $(OTHER) references are expanded, $$ escapes a dollar sign."""
    value_from: EnvVarSource | None = None
    """A value read from elsewhere; not allowed together with value."""


class Toleration(K8sModel):
    """Lets the pod schedule onto nodes with a matching taint <key, value, effect>."""

    effect: str | None = None
    """The taint effect to match (NoSchedule, PreferNoSchedule, NoExecute); empty matches every effect."""
    key: str | None = None
    """The taint key to match; empty with operator Exists matches every taint."""
    operator: str | None = None
    """How key and value are compared: Equal (the default), Exists, Lt or Gt."""
    toleration_seconds: Annotated[Int64 | None, GoJSON.KEEP_ZERO] = None
    """For NoExecute: how long the pod stays bound after the taint appears (forever when unset)."""
    value: str | None = None
    """The taint value to match (empty with operator Exists)."""


def api_error_message(error: Exception) -> str:
    """A pydantic ValidationError as one line per problem, with camelCase field paths (``spec.model.id: ...``)."""
    from pydantic import ValidationError

    if not isinstance(error, ValidationError):
        return str(error)
    lines = []
    for problem in error.errors(include_url=False):
        path = ".".join(f"[{part}]" if isinstance(part, int) else str(part) for part in problem["loc"])
        lines.append(f"{path.replace('.[', '[')}: {problem['msg']}" if path else problem["msg"])
    return "\n".join(lines)


__all__ = [
    "ATOMIC_MAP",
    "Condition",
    "ConditionStatus",
    "ConfigMapKeySelector",
    "EnvVar",
    "EnvVarSource",
    "FileKeySelector",
    "GoJSON",
    "Int32",
    "Int64",
    "K8sModel",
    "KubernetesObject",
    "NonNegativeInt32",
    "NonNegativeInt64",
    "ObjectFieldSelector",
    "ObjectMeta",
    "OwnerReference",
    "QUANTITY_PATTERN",
    "Quantity",
    "ResourceFieldSelector",
    "SecretKeySelector",
    "Time",
    "Toleration",
    "WithConditions",
    "api_error_message",
    "enum_field",
    "go_json",
    "list_map",
    "now",
]
