"""CEL selection rules: compile and evaluate provider ``selectionRules`` against a ModelDeployment spec.

The rules are real CEL, evaluated by Google's cel-cpp through the ``cel-expr-python`` bindings, in an environment
like upstream's: one variable ``spec`` of dynamic type and the standard library only (``has()``, the macros,
operators, ``size``, ``startsWith``, ``matches``...), no extensions.

Upstream hands CEL the spec as a JSON round trip into ``map[string]any``, so every number is a double. We do the
same (:func:`to_cel_value`), which keeps arithmetic, ``type()`` and comparisons exactly as upstream evaluates them;
CEL compares doubles with int literals numerically, so ``spec.resources.gpu.count > 1`` holds for ``2.0``.

Compiled programs are cached by their source text (upstream recompiles on every evaluation). Evaluation never
raises: a rule that fails to compile, fails at run time (a missing key, say) or does not yield a boolean comes back
as :class:`RuleResult` with ``error`` set, and selection skips it as upstream does.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cel_expr_python.cel as _cel

from airunway.api.modeldeployment import ModelDeploymentSpec

SPEC_VARIABLE = "spec"
"""The one variable selection rules see."""

_env_lock = threading.Lock()
_env: Any = None


def _environment() -> Any:
    global _env
    with _env_lock:
        if _env is None:
            _env = _cel.NewEnv(variables={SPEC_VARIABLE: _cel.Type.DYN})
        return _env


class CelCompileError(ValueError):
    """A rule that is not valid CEL for the selection environment (syntax error, unknown function...)."""


@dataclass(frozen=True)
class _Compiled:
    program: Any = None
    error: str | None = None


@lru_cache(maxsize=1024)
def _compile(condition: str) -> _Compiled:
    env = _environment()
    try:
        with _env_lock:
            return _Compiled(program=env.compile(condition))
    except Exception as exc:  # the bindings raise RuntimeError/ValueError with cel-cpp's message
        return _Compiled(error=str(exc).strip())


def compile_error(condition: str) -> str | None:
    """Why ``condition`` does not compile, or None when it does (the result is cached)."""
    return _compile(condition).error


def one_line(error: str) -> str:
    """cel-cpp's error on one line, for conditions and Events: the position and the message, without the status
    code and the caret drawing (``1:20: Syntax error: mismatched input '<EOF>' expecting ...``)."""
    lines = [line for line in error.splitlines() if not line.lstrip().startswith("|")]
    text = " ".join(line.strip() for line in lines).replace(" [INVALID_ARGUMENT]", "")
    for prefix in ("INVALID_ARGUMENT: ", "ERROR: ", "<input>:"):
        text = text.removeprefix(prefix)
    return text.strip()


def compile_condition(condition: str) -> Any:
    """The compiled program for ``condition`` (cached). Raises :class:`CelCompileError`."""
    compiled = _compile(condition)
    if compiled.error is not None:
        raise CelCompileError(compiled.error)
    return compiled.program


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one rule: ``value`` is the boolean it produced, or None with ``error`` saying why not."""

    value: bool | None
    error: str | None = None

    @property
    def matched(self) -> bool:
        return self.value is True


def evaluate_condition(condition: str, spec: Mapping[str, Any]) -> RuleResult:
    """Evaluate ``condition`` with ``spec`` bound to the CEL variable ``spec``. Never raises.

    ``spec`` should already be CEL input (see :func:`cel_spec_input` / :func:`to_cel_value`).
    """
    compiled = _compile(condition)
    if compiled.error is not None:
        return RuleResult(None, f"failed to compile CEL expression {condition!r}: {compiled.error}")
    try:
        result = compiled.program.eval(data={SPEC_VARIABLE: spec})
        kind = result.type()
        if kind == _cel.Type.ERROR:
            return RuleResult(None, f"failed to evaluate CEL expression: {result.value()}")
        if kind != _cel.Type.BOOL:
            return RuleResult(None, f"CEL expression did not return bool, got {kind.name().lower()}")
        return RuleResult(bool(result.value()))
    except Exception as exc:  # conversion of an unexpected Python value, for instance
        return RuleResult(None, f"failed to evaluate CEL expression: {exc}")


def to_cel_value(value: Any) -> Any:
    """``value`` as a JSON round trip into Go's ``any`` would hold it: every number a double, tuples as lists."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, Mapping):
        return {str(key): to_cel_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_cel_value(item) for item in value]
    return value


def cel_spec_input(spec: ModelDeploymentSpec, resolved_engine: str | None = None) -> dict[str, Any]:
    """The ``spec`` variable upstream builds for selection rules.

    The spec as Go marshals it (unset and zero ``omitempty`` fields absent, so ``has()`` answers the same), numbers as
    doubles, and when the engine was auto-selected (``resolved_engine`` given, ``spec.engine.type`` empty) the
    engine overlaid as ``engine.type`` so rules such as ``spec.engine.type == 'vllm'`` see it. ``spec`` itself is not
    changed.
    """
    data = to_cel_value(spec.go_json())
    if resolved_engine:
        engine = data.get("engine")
        if not isinstance(engine, dict):
            engine = data["engine"] = {}
        if not isinstance(engine.get("type"), str) or not engine.get("type"):
            engine["type"] = resolved_engine
    return data


__all__ = [
    "CelCompileError",
    "RuleResult",
    "SPEC_VARIABLE",
    "cel_spec_input",
    "compile_condition",
    "compile_error",
    "evaluate_condition",
    "one_line",
    "to_cel_value",
]
