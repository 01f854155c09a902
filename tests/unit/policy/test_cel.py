"""CEL selection rules: real CEL semantics, JSON doubles against int literals, errors as values, the spec input."""

from __future__ import annotations

import pytest

from airunway.api import ModelDeployment
from airunway.policy.cel import (
    CelCompileError,
    cel_spec_input,
    compile_condition,
    compile_error,
    evaluate_condition,
    to_cel_value,
)
from airunway.policy.render import default_provider_configs


def spec_of(spec: dict) -> ModelDeployment:
    return ModelDeployment.model_validate({"metadata": {"name": "m"}, "spec": spec})


@pytest.mark.parametrize(
    ("condition", "count", "expected"),
    [
        ("spec.resources.gpu.count > 1", 2.0, True),
        ("spec.resources.gpu.count > 1", 1.0, False),
        ("spec.resources.gpu.count > 0", 1.0, True),
        ("spec.resources.gpu.count == 0", 0.0, True),
        ("spec.resources.gpu.count == 0", 3.0, False),
        ("spec.resources.gpu.count == 2", 2.0, True),
        ("spec.resources.gpu.count >= 2 && spec.resources.gpu.count < 4", 3.0, True),
        ("spec.resources.gpu.count in [1, 2]", 2.0, True),
        # ints as well as doubles: the evaluator compares across numeric types
        ("spec.resources.gpu.count > 1", 2, True),
        ("spec.resources.gpu.count == 0", 0, True),
    ],
)
def test_double_counts_compare_with_int_literals(condition, count, expected):
    result = evaluate_condition(condition, {"resources": {"gpu": {"count": count}}})
    assert result.error is None
    assert result.value is expected


def test_spec_numbers_reach_cel_as_doubles_like_a_json_round_trip():
    assert to_cel_value({"a": 1, "b": [2, {"c": 3}], "d": True, "e": "x", "f": 1.5, "g": None}) == {
        "a": 1.0,
        "b": [2.0, {"c": 3.0}],
        "d": True,
        "e": "x",
        "f": 1.5,
        "g": None,
    }
    assert isinstance(to_cel_value(1), float)
    assert to_cel_value(False) is False
    data = cel_spec_input(spec_of({"model": {"id": "m"}, "resources": {"gpu": {"count": 2}}}).spec)
    assert data["resources"]["gpu"]["count"] == 2.0 and isinstance(data["resources"]["gpu"]["count"], float)
    # As upstream: a double, so type() says double and int arithmetic on it is an error.
    assert evaluate_condition("type(spec.resources.gpu.count) == double", data).value is True


def test_missing_key_is_an_error_not_an_exception():
    result = evaluate_condition("spec.engine.type == 'vllm'", {"model": {"id": "m"}})
    assert result.value is None
    assert "engine" in result.error
    assert not result.matched


def test_has_on_a_missing_parent_is_an_error_as_in_cel_go():
    # Upstream's kaito rule `!has(spec.resources.gpu) || ...` errors (and is skipped) when resources is absent.
    result = evaluate_condition("!has(spec.resources.gpu) || spec.resources.gpu.count == 0", {"model": {}})
    assert result.value is None and result.error
    assert evaluate_condition("has(spec.resources)", {"model": {}}).value is False
    assert evaluate_condition("has(spec.resources.gpu)", {"resources": {"cpu": "1"}}).value is False


def test_logical_operators_absorb_errors_like_cel():
    assert evaluate_condition("spec.engine.type == 'vllm' || spec.nope.x", {"engine": {"type": "vllm"}}).value is True
    assert evaluate_condition("spec.nope.x || spec.engine.type == 'vllm'", {"engine": {"type": "vllm"}}).value is True
    assert evaluate_condition("spec.nope.x && false", {}).value is False


def test_non_boolean_result_is_an_error():
    result = evaluate_condition("spec.engine.type", {"engine": {"type": "vllm"}})
    assert result.value is None
    assert result.error == "CEL expression did not return bool, got string"


def test_syntax_error_is_reported_without_raising():
    result = evaluate_condition("spec.engine.type ==", {"engine": {"type": "vllm"}})
    assert result.value is None and "failed to compile" in result.error
    assert compile_error("spec.engine.type ==")
    with pytest.raises(CelCompileError):
        compile_condition("spec.engine.type ==")


def test_only_the_standard_library_is_available():
    data = {"model": {"id": "Qwen/Qwen3-0.6B"}, "env": [{"name": "A"}]}
    assert evaluate_condition("spec.model.id.startsWith('Qwen/')", data).value is True
    assert evaluate_condition("spec.model.id.matches('^Qwen/.*$')", data).value is True
    assert evaluate_condition("spec.env.exists(e, e.name == 'A') && size(spec.env) == 1", data).value is True
    # cel-go's strings extension (lowerAscii) is not part of upstream's environment
    assert compile_error("spec.model.id.lowerAscii() == 'x'")
    # a variable other than spec is unknown
    assert compile_error("md.spec.engine.type == 'vllm'")


def test_programs_are_compiled_once():
    condition = "spec.serving.mode == 'disaggregated' && true"
    assert compile_condition(condition) is compile_condition(condition)


def test_every_shipped_rule_compiles():
    rules = [rule.condition for config in default_provider_configs() for rule in config.spec.selection_rules or []]
    assert len(rules) == 7
    for condition in rules:
        assert compile_error(condition) is None, condition


def test_spec_input_leaves_zero_values_out_so_has_answers_like_upstream():
    md = spec_of({"model": {"id": "m"}, "engine": {"type": "llamacpp"}, "resources": {"gpu": {"count": 0}}})
    data = cel_spec_input(md.spec)
    assert "gpu" in data["resources"] and "count" not in data["resources"]["gpu"]
    assert evaluate_condition("has(spec.resources.gpu)", data).value is True
    assert "serving" not in data and "provider" not in data


def test_spec_input_overlays_the_resolved_engine_without_touching_the_spec():
    md = spec_of({"model": {"id": "m"}})
    data = cel_spec_input(md.spec, "vllm")
    assert data["engine"]["type"] == "vllm"
    assert md.spec.engine is None or md.spec.engine.type is None
    assert evaluate_condition("spec.engine.type == 'vllm'", data).value is True
    explicit = spec_of({"model": {"id": "m"}, "engine": {"type": "sglang"}})
    assert cel_spec_input(explicit.spec, "vllm")["engine"]["type"] == "sglang"
