"""The legacy InferenceProviderConfig capabilities migration (pure transformation)."""

from __future__ import annotations

import pytest

from airunway.controller.migration import MalformedCapabilities, migrate_capabilities

GATEWAY = {"endpointPickerImage": "epp:1"}


@pytest.mark.parametrize("capabilities", [None, "text", {"engines": "vllm"}, {"servingModes": ["aggregated"]},
                                          {"engines": []}, {"engines": [{"name": "vllm", "gpuSupport": True}]}])
def test_nothing_to_do(capabilities):
    assert migrate_capabilities(capabilities) == (capabilities, None)


def test_empty_engines_lose_the_flat_keys():
    assert migrate_capabilities({"engines": [], "gpuSupport": True, "other": 1}) == ({"engines": [], "other": 1}, "cleaned")


def test_engine_names_become_engine_objects_with_the_flat_values():
    legacy = {"engines": ["vllm", "sglang"], "servingModes": ["aggregated", "disaggregated"], "gpuSupport": True,
              "requiresCRD": True, "gateway": GATEWAY, "extra": "kept"}
    migrated, kind = migrate_capabilities(legacy)
    assert kind == "migrated"
    assert migrated == {"extra": "kept", "engines": [
        {"name": name, "gpuSupport": True, "cpuSupport": False, "servingModes": ["aggregated", "disaggregated"],
         "requiresCRD": True, "gateway": GATEWAY} for name in ("vllm", "sglang")
    ]}
    assert migrated["engines"][0]["gateway"] is not migrated["engines"][1]["gateway"], "each engine gets a copy"


def test_engine_names_without_flat_keys_still_become_objects():
    assert migrate_capabilities({"engines": ["llamacpp"]}) == (
        {"engines": [{"name": "llamacpp", "gpuSupport": False, "cpuSupport": False}]}, "migrated"
    )


def test_engine_objects_get_only_the_values_they_lack():
    legacy = {"engines": [{"name": "vllm", "gpuSupport": False}, {"name": "llamacpp"}], "gpuSupport": True,
              "cpuSupport": True, "servingModes": []}
    assert migrate_capabilities(legacy) == ({"engines": [
        {"name": "vllm", "gpuSupport": False, "cpuSupport": True},
        {"name": "llamacpp", "gpuSupport": True, "cpuSupport": True},
    ]}, "hoisted")


@pytest.mark.parametrize("engines, message", [
    (["vllm", 3], "engines[1]: expected string, got float64"),
    ([{"name": "vllm"}, "sglang"], "engines[1]: expected object, got string"),
])
def test_mixed_engine_lists_are_reported(engines, message):
    with pytest.raises(MalformedCapabilities, match=r"malformed engine entry at spec\.capabilities\." + message.replace("[", r"\[").replace("]", r"\]")):
        migrate_capabilities({"engines": engines, "gpuSupport": True})
