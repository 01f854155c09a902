"""Field errors shaped and worded like Kubernetes' ``field.Error`` (``k8s.io/apimachinery/pkg/util/validation/field``).

Admission answers carry these texts, so users see exactly what upstream's webhook would say, for example
``spec.model.id: Required value: model.id is required when source is huggingface``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from airunway.api.modeldeployment import go_quote


class ErrorType(StrEnum):
    """The kind of a field error; the value is the ``StatusCause`` reason Kubernetes uses for it."""

    REQUIRED = "FieldValueRequired"
    INVALID = "FieldValueInvalid"
    FORBIDDEN = "FieldValueForbidden"
    NOT_SUPPORTED = "FieldValueNotSupported"
    DUPLICATE = "FieldValueDuplicate"
    INTERNAL = "InternalError"

    @property
    def label(self) -> str:
        """The words Kubernetes prints for this kind (``Required value``, ``Invalid value``...)."""
        return _LABELS[self]


_LABELS = {
    ErrorType.REQUIRED: "Required value",
    ErrorType.INVALID: "Invalid value",
    ErrorType.FORBIDDEN: "Forbidden",
    ErrorType.NOT_SUPPORTED: "Unsupported value",
    ErrorType.DUPLICATE: "Duplicate value",
    ErrorType.INTERNAL: "Internal error",
}
# Kinds whose text never shows the offending value.
_VALUELESS = {ErrorType.REQUIRED, ErrorType.FORBIDDEN, ErrorType.INTERNAL}


@dataclass(frozen=True)
class GoValue:
    """A bad value printed verbatim, for values Go prints with ``%#v`` (structs)."""

    text: str


class _Omitted:
    def __repr__(self) -> str:
        return "OMITTED"


OMITTED: Any = _Omitted()
"""The bad value of an error that has none."""


def format_value(value: Any) -> str:
    """``value`` the way a field error prints it: strings quoted, numbers and booleans bare, nil as ``null``."""
    if isinstance(value, GoValue):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    return go_quote(str(value))


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: its path (``spec.scaling.replicas``), kind, bad value and explanation."""

    type: ErrorType
    field: str
    detail: str
    bad_value: Any = OMITTED

    @property
    def body(self) -> str:
        """The text after the field path: kind, value (for kinds that show it) and detail."""
        text = self.type.label
        if self.type not in _VALUELESS and self.bad_value is not OMITTED:
            text = f"{text}: {format_value(self.bad_value)}"
        return f"{text}: {self.detail}" if self.detail else text

    def __str__(self) -> str:
        return f"{self.field}: {self.body}"

    def cause(self) -> dict[str, str]:
        """This error as a ``metav1.StatusCause``."""
        return {"reason": self.type.value, "message": self.body, "field": self.field}



def schema_value(value: Any) -> Any:
    """A decoded value as field errors print it: scalars as they are, anything else as compact JSON."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    try:
        return GoValue(json.dumps(value, separators=(",", ":"), default=str))
    except (TypeError, ValueError):
        return GoValue(repr(value))


def field_path(*parts: str | int) -> str:
    """A field path as Kubernetes writes it: names joined by dots, list indexes in brackets."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = f"{out}.{part}" if out else str(part)
    return out


def required(path: str, detail: str) -> FieldError:
    return FieldError(ErrorType.REQUIRED, path, detail)


def invalid(path: str, value: Any, detail: str) -> FieldError:
    return FieldError(ErrorType.INVALID, path, detail, value)


def forbidden(path: str, detail: str) -> FieldError:
    return FieldError(ErrorType.FORBIDDEN, path, detail)


def not_supported(path: str, value: Any, supported: Iterable[str]) -> FieldError:
    choices = ", ".join(go_quote(choice) for choice in supported)
    return FieldError(ErrorType.NOT_SUPPORTED, path, f"supported values: {choices}", value)


def internal(path: str, detail: str) -> FieldError:
    return FieldError(ErrorType.INTERNAL, path, detail)


def aggregate_message(errors: Iterable[FieldError | str]) -> str:
    """All errors in one line as Kubernetes aggregates them: one error alone, several as ``[a, b]`` without repeats."""
    seen: list[str] = []
    for error in errors:
        text = str(error)
        if text not in seen:
            seen.append(text)
    if len(seen) == 1:
        return seen[0]
    return f"[{', '.join(seen)}]" if seen else ""


__all__ = [
    "ErrorType",
    "FieldError",
    "GoValue",
    "OMITTED",
    "aggregate_message",
    "field_path",
    "format_value",
    "forbidden",
    "internal",
    "invalid",
    "not_supported",
    "required",
]
