"""Engine and provider selection (seed 000 rules, reference §3), provider compatibility (§4), reconciler spec
validation (§5.3)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest

from airunway.api import InferenceProviderConfig, ModelDeployment
from airunway.policy.compatibility import (
    CompatibilityKind,
    check_provider_compatibility,
)
from airunway.policy.defaulting import default
from airunway.policy.render import default_provider_configs
from airunway.policy.selection import (
    NO_COMPATIBLE_PROVIDER,
    NO_HEALTHY_PROVIDERS,
    NO_PROVIDERS_REGISTERED,
    BrokenRule,
    Liveness,
    Outcome,
    SelectionSource,
    broken_rules,
    provider_change_error,
    select_engine,
    select_provider,
)
from airunway.policy.validation import validate_spec

SHIPPED = default_provider_configs()


def md(spec: dict, status: dict | None = None, annotations: dict | None = None, defaults: bool = True) -> ModelDeployment:
    """A ModelDeployment as it is stored: schema defaults, then the webhook's defaults."""
    obj = {"metadata": {"name": "m", "annotations": annotations or {}}, "spec": spec}
    if defaults:
        obj = default(ModelDeployment.model_validate(obj).to_dict())
    if status:
        obj["status"] = status
    return ModelDeployment.model_validate(obj)


def ipc(name: str, engines: list[dict], rules: list[tuple[str, int]] = (), ready: bool = True) -> InferenceProviderConfig:
    return InferenceProviderConfig.model_validate(
        {
            "metadata": {"name": name},
            "spec": {
                "capabilities": {"engines": engines},
                "selectionRules": [{"condition": c, "priority": p} for c, p in rules],
            },
            "status": {"ready": ready},
        }
    )


def gpu_engine(name: str, modes=("aggregated",), cpu: bool = False) -> dict:
    return {"name": name, "servingModes": list(modes), "gpuSupport": True, "cpuSupport": cpu}


def select(spec: dict, configs=SHIPPED, **kw):
    deployment = md(spec, **kw)
    engine = select_engine(deployment, configs)
    provider = select_provider(deployment, configs, engine.engine or "")
    return engine, provider


# --------------------------------------------------------------------------------------------- seed 000 rules


def test_no_gpu_goes_to_kaito_with_llamacpp():
    engine, provider = select({"model": {"id": "google/gemma-3-1b-it"}})
    assert (engine.engine, engine.source) == ("llamacpp", SelectionSource.AUTO)
    assert engine.reason == "auto-selected from provider kaito capabilities"
    assert provider.provider == "kaito"
    assert provider.reason == "matched capabilities: engine=llamacpp, gpu=false, mode=aggregated"
    assert provider.source == SelectionSource.AUTO


def test_gpu_count_zero_goes_to_kaito():
    engine, provider = select({"model": {"id": "m"}, "resources": {"gpu": {"count": 0}, "cpu": "4"}})
    assert (engine.engine, provider.provider) == ("llamacpp", "kaito")


@pytest.mark.parametrize("engine_type", ["trtllm", "sglang"])
def test_trtllm_and_sglang_go_to_dynamo(engine_type):
    engine, provider = select({"model": {"id": "m"}, "engine": {"type": engine_type}})
    assert engine.engine == engine_type and engine.reason == "explicit engine selection"
    assert provider.provider == "dynamo"
    assert provider.verdict("dynamo").priority == 100


def test_llamacpp_goes_to_kaito_even_with_a_gpu():
    _, provider = select({"model": {"id": "m"}, "engine": {"type": "llamacpp"}, "resources": {"gpu": {"count": 1}}})
    assert provider.provider == "kaito"
    assert provider.reason == "matched capabilities: engine=llamacpp, gpu=true, mode=aggregated"


def test_disaggregated_goes_to_dynamo():
    spec = {
        "model": {"id": "m"},
        "serving": {"mode": "disaggregated"},
        "scaling": {"prefill": {"gpu": {"count": 1}}, "decode": {"gpu": {"count": 1}}},
    }
    engine, provider = select(spec)
    assert engine.engine == "vllm" and engine.has_gpu
    assert provider.provider == "dynamo"
    assert provider.reason == "matched capabilities: engine=vllm, gpu=true, mode=disaggregated"
    assert provider.verdict("kuberay").outcome == Outcome.LOWER_PRIORITY
    assert provider.verdict("kaito").outcome == Outcome.SERVING_MODE_UNSUPPORTED


def test_more_than_one_gpu_with_vllm_goes_to_kuberay():
    _, provider = select({"model": {"id": "m"}, "engine": {"type": "vllm"}, "resources": {"gpu": {"count": 2}}})
    assert provider.provider == "kuberay"
    assert provider.verdict("kuberay").priority == 80
    dynamo = provider.verdict("dynamo")
    assert dynamo.outcome == Outcome.LOWER_PRIORITY and dynamo.priority == 50


def test_one_gpu_with_vllm_goes_to_dynamo():
    _, provider = select({"model": {"id": "m"}, "engine": {"type": "vllm"}, "resources": {"gpu": {"count": 1}}})
    assert provider.provider == "dynamo"
    assert provider.reason == "matched capabilities: engine=vllm, gpu=true, mode=aggregated"
    assert provider.verdict("kuberay").priority == 0


def test_explicit_provider_wins_and_is_recorded_as_explicit():
    _, provider = select({"model": {"id": "m"}, "engine": {"type": "vllm"}, "provider": {"name": "llmd"}})
    assert (provider.provider, provider.source) == ("llmd", SelectionSource.EXPLICIT)
    assert provider.reason == "explicit provider selection"
    assert provider.verdict("llmd").outcome == Outcome.SELECTED
    assert provider.verdict("dynamo").outcome == Outcome.NOT_REQUESTED
    status = provider.status()
    assert (status.name, status.selected_reason) == ("llmd", "explicit provider selection")


# --------------------------------------------------------------------------------------------- engine selection


def test_explicit_engine_is_kept_whatever_the_providers():
    engine = select_engine(md({"model": {"id": "m"}, "engine": {"type": "trtllm"}}), [])
    assert (engine.engine, engine.reason, engine.source) == ("trtllm", "explicit engine selection", SelectionSource.EXPLICIT)


def test_engine_recorded_in_status_is_sticky():
    deployment = md({"model": {"id": "m"}}, status={"engine": {"type": "sglang", "selectedReason": "earlier"}})
    engine = select_engine(deployment, SHIPPED)
    assert (engine.engine, engine.reason, engine.source) == ("sglang", "earlier", SelectionSource.STICKY)


def test_engine_selection_without_providers():
    engine = select_engine(md({"model": {"id": "m"}}), [])
    assert engine.error == NO_PROVIDERS_REGISTERED == "no providers registered (InferenceProviderConfig resources not found)"
    assert engine.status_message == f"Engine selection failed: {NO_PROVIDERS_REGISTERED}"
    assert engine.status() is None


def test_engine_selection_with_no_fitting_engine_lists_what_ready_providers_advertise():
    configs = [
        ipc("zeta", [gpu_engine("vllm"), gpu_engine("sglang")]),
        ipc("alpha", [gpu_engine("trtllm")]),
        ipc("down", [gpu_engine("vllm", cpu=True)], ready=False),
    ]
    engine = select_engine(md({"model": {"id": "m"}}), configs)
    assert engine.error == (
        "no engines available from registered providers (hasGPU=false, servingMode=aggregated, "
        "advertised=map[alpha:[trtllm] zeta:[vllm sglang]])"
    )


def test_engine_preference_is_vllm_sglang_trtllm_llamacpp():
    configs = [
        ipc("a", [gpu_engine("llamacpp"), gpu_engine("trtllm")]),
        ipc("b", [gpu_engine("sglang")]),
    ]
    engine = select_engine(md({"model": {"id": "m"}, "resources": {"gpu": {"count": 1}}}), configs)
    assert engine.engine == "sglang" and engine.reason == "auto-selected from provider b capabilities"
    configs.append(ipc("c", [gpu_engine("vllm")]))
    assert select_engine(md({"model": {"id": "m"}, "resources": {"gpu": {"count": 1}}}), configs).engine == "vllm"


def test_engine_reason_names_the_first_provider_in_list_order():
    configs = [ipc("zz", [gpu_engine("vllm")]), ipc("aa", [gpu_engine("vllm")])]
    engine = select_engine(md({"model": {"id": "m"}, "resources": {"gpu": {"count": 1}}}), configs)
    assert engine.reason == "auto-selected from provider zz capabilities"


def test_engine_selection_ignores_unready_providers_and_filters_serving_mode():
    configs = [ipc("a", [gpu_engine("vllm")], ready=False), ipc("b", [gpu_engine("sglang", modes=("aggregated", "disaggregated"))])]
    assert select_engine(md({"model": {"id": "m"}, "resources": {"gpu": {"count": 1}}}), configs).engine == "sglang"
    configs = [ipc("a", [gpu_engine("vllm", modes=("aggregated",)), gpu_engine("sglang", modes=("disaggregated",))])]
    disagg = md({"model": {"id": "m"}, "serving": {"mode": "disaggregated"}})
    assert select_engine(disagg, configs).engine == "sglang"


# --------------------------------------------------------------------------------------------- provider selection


def test_ties_go_to_the_name_that_sorts_first():
    configs = [ipc("zebra", [gpu_engine("vllm")], [("true", 10)]), ipc("alpha", [gpu_engine("vllm")], [("true", 10)])]
    _, provider = select({"model": {"id": "m"}, "engine": {"type": "vllm"}}, configs)
    assert provider.provider == "alpha"
    zebra = provider.verdict("zebra")
    assert zebra.outcome == Outcome.LOST_TIE and "tied with alpha" in zebra.explanation


def test_providers_without_matching_rules_are_priority_zero_candidates():
    configs = [ipc("only", [gpu_engine("vllm")], [("spec.engine.type == 'sglang'", 100)])]
    _, provider = select({"model": {"id": "m"}, "engine": {"type": "vllm"}}, configs)
    assert provider.provider == "only"
    assert provider.verdict("only").priority == 0


def test_rules_that_fail_are_skipped():
    configs = [
        ipc(
            "a",
            [gpu_engine("vllm")],
            [("spec.nope.deeper == 1", 500), ("not valid cel ((", 400), ("spec.engine.type", 300), ("true", 5)],
        ),
        ipc("b", [gpu_engine("vllm")], [("true", 6)]),
    ]
    _, provider = select({"model": {"id": "m"}, "engine": {"type": "vllm"}}, configs)
    assert provider.provider == "b"
    a = provider.verdict("a")
    assert a.priority == 5 and a.outcome == Outcome.LOWER_PRIORITY
    assert [rule.error is not None for rule in a.rules] == [True, True, True, False]


def test_a_rule_that_does_not_compile_is_named_with_its_cel_error_and_ignored():
    configs = [
        ipc("broken", [gpu_engine("vllm")], [("spec.resources.gpu.count >", 900), ("spec.nope == 1", 800),
                                             ("true", 5)]),
        ipc("fine", [gpu_engine("vllm")], [("true", 6)]),
    ]
    assert [(r.index, r.condition) for r in broken_rules(configs[0])] == [(0, "spec.resources.gpu.count >")]
    assert broken_rules(configs[1]) == ()
    _, provider = select({"model": {"id": "m"}, "engine": {"type": "vllm"}}, configs)
    assert provider.provider == "fine"  # only the rules that compile count: priority 5 against 6
    verdict = provider.verdict("broken")
    assert verdict.priority == 5 and verdict.outcome == Outcome.LOWER_PRIORITY
    [broken] = verdict.broken_rules
    assert isinstance(broken, BrokenRule) and broken.error
    assert verdict.explanation == (
        "rule `true` matched, priority 5 (1 of 3 rules could not be evaluated and were skipped); lower than fine "
        f"(priority 6); selection rule 0 `spec.resources.gpu.count >` does not compile and is ignored: {broken.error}"
    )
    assert [rule.compiles for rule in verdict.rules] == [False, True, True]


def test_a_broken_provider_can_still_win_through_the_rules_that_compile():
    configs = [ipc("broken", [gpu_engine("vllm")], [("))", 900), ("true", 50)]),
               ipc("other", [gpu_engine("vllm")], [("true", 10)])]
    _, provider = select({"model": {"id": "m"}, "engine": {"type": "vllm"}}, configs)
    assert provider.provider == "broken"
    assert "selection rule 0 `))` does not compile and is ignored: " in provider.verdict("broken").explanation


NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


def beating(config: InferenceProviderConfig, seconds_ago: float) -> InferenceProviderConfig:
    config.status.last_heartbeat = NOW - timedelta(seconds=seconds_ago)
    return config


def test_a_provider_that_stopped_reporting_is_not_chosen_automatically():
    configs = [beating(ipc("silent", [gpu_engine("vllm")], [("true", 100)]), 400),
               beating(ipc("alive", [gpu_engine("vllm")], [("true", 1)]), 30)]
    deployment = md({"model": {"id": "m"}, "resources": {"gpu": {"count": 1}}})
    liveness = Liveness(NOW, 180)
    engine = select_engine(deployment, configs, liveness)
    assert engine.reason == "auto-selected from provider alive capabilities"
    provider = select_provider(deployment, configs, "vllm", liveness)
    assert provider.provider == "alive"
    verdict = provider.verdict("silent")
    assert verdict.outcome == Outcome.NOT_REPORTING
    assert verdict.explanation == (
        "provider silent has not reported for 400 s (its heartbeat is older than the 180 s staleness window), so it "
        "is not chosen automatically; name it in spec.provider.name to use it anyway")
    # Within the window, or with the check off, it wins on priority.
    assert select_provider(deployment, configs, "vllm", Liveness(NOW, 500)).provider == "silent"
    assert select_provider(deployment, configs, "vllm", Liveness(NOW, None)).provider == "silent"


def test_naming_a_provider_that_stopped_reporting_still_works():
    configs = [beating(ipc("silent", [gpu_engine("vllm")]), 4000)]
    deployment = md({"model": {"id": "m"}, "engine": {"type": "vllm"}, "provider": {"name": "silent"}})
    provider = select_provider(deployment, configs, "vllm", Liveness(NOW, 180))
    assert (provider.provider, provider.source) == ("silent", SelectionSource.EXPLICIT)


def test_when_every_provider_stopped_reporting_the_error_says_which():
    configs = [beating(ipc("silent", [gpu_engine("vllm")]), 4000)]
    deployment = md({"model": {"id": "m"}, "engine": {"type": "vllm"}})
    provider = select_provider(deployment, configs, "vllm", Liveness(NOW, 180))
    assert provider.error.startswith(NO_HEALTHY_PROVIDERS + "; provider silent has not reported for 4000 s")
    engine = select_engine(md({"model": {"id": "m"}, "resources": {"gpu": {"count": 1}}}), configs,
                           Liveness(NOW, 180))
    assert engine.error == (
        "no engines available from registered providers (hasGPU=true, servingMode=aggregated, advertised=map[]); "
        "provider silent has not reported for 4000 s (its heartbeat is older than the 180 s staleness window), so its "
        "engines are not offered; name spec.engine.type and spec.provider.name to use it anyway")


def test_a_config_without_a_heartbeat_is_not_stale():
    configs = [ipc("never", [gpu_engine("vllm")])]
    deployment = md({"model": {"id": "m"}, "engine": {"type": "vllm"}})
    assert select_provider(deployment, configs, "vllm", Liveness(NOW, 1)).provider == "never"


def test_highest_matching_rule_sets_the_priority():
    configs = [ipc("a", [gpu_engine("vllm")], [("true", 3), ("true", 70), ("false", 99)])]
    _, provider = select({"model": {"id": "m"}, "engine": {"type": "vllm"}}, configs)
    assert provider.verdict("a").priority == 70


def test_rules_see_the_auto_selected_engine_and_the_spec_is_not_changed():
    configs = [
        ipc("engine-rule", [gpu_engine("vllm")], [("spec.engine.type == 'vllm'", 10)]),
        ipc("other", [gpu_engine("vllm")], [("true", 5)]),
    ]
    deployment = md({"model": {"id": "m"}, "resources": {"gpu": {"count": 1}}}, status={"engine": {"type": "vllm"}})
    before = copy.deepcopy(deployment.spec.to_dict())
    provider = select_provider(deployment, configs)
    assert provider.provider == "engine-rule"
    assert deployment.spec.to_dict() == before


def test_a_compatible_provider_beats_a_higher_priority_incompatible_one():
    configs = [
        ipc("vllm-only", [gpu_engine("vllm")], [("true", 10)]),
        ipc("sglang-only", [gpu_engine("sglang")], [("true", 100)]),
    ]
    _, provider = select({"model": {"id": "m"}, "engine": {"type": "vllm"}}, configs)
    assert provider.provider == "vllm-only"
    assert provider.verdict("sglang-only").outcome == Outcome.ENGINE_UNSUPPORTED


def test_provider_selection_errors():
    deployment = md({"model": {"id": "m"}, "engine": {"type": "vllm"}})
    assert select_provider(deployment, []).error == NO_PROVIDERS_REGISTERED
    not_ready = select_provider(deployment, [ipc("a", [gpu_engine("vllm")], ready=False)])
    assert not_ready.error == NO_HEALTHY_PROVIDERS == "no healthy providers available"
    assert not_ready.verdict("a").outcome == Outcome.NOT_READY
    incompatible = select_provider(deployment, [ipc("a", [gpu_engine("sglang")])])
    assert incompatible.error == NO_COMPATIBLE_PROVIDER == "no compatible provider found for this configuration"
    assert incompatible.status_message == "Provider selection failed: no compatible provider found for this configuration"
    assert incompatible.status() is None


def test_verdicts_explain_each_rejection():
    no_caps = InferenceProviderConfig.model_validate({"metadata": {"name": "bare"}, "status": {"ready": True}})
    configs = [
        no_caps,
        ipc("gpu-only", [gpu_engine("llamacpp")]),
        ipc("cpu-only", [{"name": "llamacpp", "servingModes": ["aggregated"], "cpuSupport": True}]),
        ipc("disagg-only", [gpu_engine("llamacpp", modes=("disaggregated",), cpu=True)]),
        ipc("down", [gpu_engine("llamacpp", cpu=True)], ready=False),
        ipc("ok", [gpu_engine("llamacpp", cpu=True)]),
    ]
    cpu = select_provider(md({"model": {"id": "m"}, "engine": {"type": "llamacpp"}}), configs)
    outcomes = {v.name: v.outcome for v in cpu.verdicts}
    assert outcomes == {
        "bare": Outcome.NO_CAPABILITIES,
        "gpu-only": Outcome.CPU_UNSUPPORTED,
        "cpu-only": Outcome.SELECTED,
        "disagg-only": Outcome.SERVING_MODE_UNSUPPORTED,
        "down": Outcome.NOT_READY,
        "ok": Outcome.LOST_TIE,
    }
    gpu = select_provider(md({"model": {"id": "m"}, "engine": {"type": "llamacpp"}, "resources": {"gpu": {"count": 1}}}), configs)
    assert gpu.verdict("cpu-only").outcome == Outcome.GPU_UNSUPPORTED
    assert gpu.provider == "gpu-only"


def test_provider_recorded_in_status_is_sticky():
    deployment = md({"model": {"id": "m"}, "engine": {"type": "vllm"}}, status={"provider": {"name": "llmd", "selectedReason": "before"}})
    provider = select_provider(deployment, SHIPPED)
    assert (provider.provider, provider.reason, provider.source) == ("llmd", "before", SelectionSource.STICKY)


def test_explicit_provider_without_a_config_is_still_recorded():
    provider = select_provider(md({"model": {"id": "m"}, "engine": {"type": "vllm"}, "provider": {"name": "custom"}}), SHIPPED)
    assert provider.provider == "custom" and provider.reason == "explicit provider selection"
    assert provider.verdicts[0].name == "custom"


def test_provider_change_after_selection_is_refused():
    changed = md({"model": {"id": "m"}, "provider": {"name": "vllm"}}, status={"provider": {"name": "dynamo"}})
    message = provider_change_error(changed)
    assert message == (
        'changing spec.provider.name from "dynamo" to "vllm" after a provider has been selected is not supported; '
        "delete and recreate the ModelDeployment to use a different provider"
    )
    same = md({"model": {"id": "m"}, "provider": {"name": "dynamo"}}, status={"provider": {"name": "dynamo"}})
    assert provider_change_error(same) is None


# --------------------------------------------------------------------------------------------- compatibility (§4)

DYNAMO = ipc(
    "dynamo",
    [
        gpu_engine("vllm", modes=("aggregated", "disaggregated")),
        gpu_engine("sglang", modes=("aggregated", "disaggregated")),
        gpu_engine("trtllm"),
    ],
)
KAITO = ipc("kaito", [gpu_engine("vllm"), gpu_engine("llamacpp", cpu=True)])


def kinds(*args) -> list[str]:
    return [problem.kind for problem in check_provider_compatibility(*args)]


def test_compatibility_without_a_provider():
    assert kinds("", None, [], "vllm", "aggregated", 0) == []
    assert kinds("", None, [DYNAMO], "vllm", "aggregated", 0) == [CompatibilityKind.GPU_REQUIRED]
    assert check_provider_compatibility("", None, [DYNAMO], "vllm", "aggregated", 0)[0].message == (
        "vllm engine requires GPU (set resources.gpu.count > 0)"
    )
    assert kinds("", None, [DYNAMO, KAITO], "llamacpp", "aggregated", 0) == []


def test_compatibility_with_a_named_provider():
    assert kinds("dynamo", None, [DYNAMO], "llamacpp", "aggregated", 1) == []
    engine = check_provider_compatibility("kaito", KAITO, None, "sglang", "aggregated", 1)
    assert [(p.kind, p.field_path, p.bad_value, p.message) for p in engine] == [
        (CompatibilityKind.ENGINE_UNSUPPORTED, ("engine", "type"), "sglang", "provider kaito does not support engine sglang")
    ]
    mode = check_provider_compatibility("dynamo", DYNAMO, None, "trtllm", "disaggregated", 0)
    assert [(p.kind, p.field_path, p.message) for p in mode] == [
        (CompatibilityKind.SERVING_MODE_UNSUPPORTED, ("serving", "mode"), "provider dynamo does not support disaggregated mode for engine trtllm")
    ]
    gpu = check_provider_compatibility("dynamo", DYNAMO, None, "vllm", "aggregated", 0)
    assert [(p.kind, p.field_path, p.bad_value, p.message) for p in gpu] == [
        (CompatibilityKind.GPU_REQUIRED, ("resources", "gpu", "count"), 0, "vllm engine on provider dynamo requires GPU (set resources.gpu.count > 0)")
    ]
    assert kinds("kaito", KAITO, None, "llamacpp", "aggregated", 0) == []
    assert kinds("dynamo", DYNAMO, None, "vllm", "disaggregated", 0) == []
    assert kinds("dynamo", DYNAMO, None, "vllm", "aggregated", 2) == []


# --------------------------------------------------------------------------------------------- validate_spec (§5.3)

CONFIGS = [DYNAMO, KAITO]
MOCKER = {"airunway.ai/dynamo-test-backend": "mocker"}
DISAGG = {"serving": {"mode": "disaggregated"}, "scaling": {"prefill": {"gpu": {"count": 1}}, "decode": {"gpu": {"count": 1}}}}


def check(spec: dict, engine: str = "", configs=CONFIGS, annotations=None) -> str | None:
    spec = {"model": {"id": "m"}, **spec}
    return validate_spec(md(spec, annotations=annotations, defaults=False), engine, configs)


def test_validate_spec_accepts_valid_deployments():
    assert check({"provider": {"name": "dynamo"}, "resources": {"gpu": {"count": 1}}}, "vllm") is None
    assert check({"provider": {"name": "dynamo"}, **DISAGG}, "vllm") is None
    assert check({"provider": {"name": "kaito"}}, "llamacpp") is None
    assert check({"resources": {"gpu": {"count": 1}}}, "vllm") is None
    assert check({"provider": {"name": "unknown"}}, "vllm") is None
    assert check({"provider": {"name": "dynamo"}, "resources": {"gpu": {"count": 1}}}, "vllm", configs=[]) is None
    assert check({}, "llamacpp", configs=[]) is None
    assert check({}, "vllm", configs=[]) is None


def test_validate_spec_mocker_mode():
    assert check({"provider": {"name": "dynamo"}}, "vllm", annotations=MOCKER) is None
    cpu_disagg = {"serving": {"mode": "disaggregated"}, "scaling": {"prefill": {}, "decode": {}}}
    assert check({"provider": {"name": "dynamo"}, **cpu_disagg}, "vllm", annotations=MOCKER) is None
    assert check({"provider": {"name": "dynamo"}}, "sglang", annotations=MOCKER) == (
        "the dynamo mocker test backend only supports the vllm engine"
    )
    assert check({"provider": {"name": "dynamo"}, **cpu_disagg}, "vllm") == (
        "disaggregated mode requires scaling.prefill.gpu.count > 0"
    )
    assert check({"provider": {"name": "dynamo"}}, "vllm", annotations={"airunway.ai/dynamo-test-backend": "other"}) == (
        "vllm engine on provider dynamo requires GPU (set resources.gpu.count > 0)"
    )


def test_validate_spec_errors_in_order():
    assert check({"provider": {"name": "dynamo"}, **DISAGG}, "trtllm") == (
        "provider dynamo does not support disaggregated mode for engine trtllm"
    )
    assert check({"provider": {"name": "kaito"}}, "sglang") == "provider kaito does not support engine sglang"
    assert check({"provider": {"name": "kaito"}, **DISAGG}, "llamacpp") == (
        "provider kaito does not support disaggregated mode for engine llamacpp"
    )
    assert validate_spec(md({"model": {}}, defaults=False), "vllm", CONFIGS) == "model.id is required when source is huggingface"
    assert check({}, "") == "engine.type must be specified or auto-selected from provider capabilities"
    assert check({}, "vllm") == "vllm engine requires GPU (set resources.gpu.count > 0)"
    assert check({"serving": {"mode": "disaggregated"}}, "vllm") == "disaggregated mode requires scaling.prefill and scaling.decode"
    assert check({**DISAGG, "resources": {"gpu": {"count": 1}}}, "vllm") == (
        "cannot specify both resources.gpu and scaling.prefill/decode in disaggregated mode"
    )
    conflict = check({"image": "a:1", "engine": {"image": "b:1"}}, "vllm")
    assert conflict.startswith('spec.image "a:1" conflicts with spec.engine.image "b:1"')


def test_validate_spec_pinned_provider_wins_over_another_cpu_provider():
    cpu_vllm = ipc("cpu-vllm", [gpu_engine("vllm", cpu=True)])
    assert check({"provider": {"name": "dynamo"}}, "vllm", configs=[DYNAMO, cpu_vllm]) == (
        "vllm engine on provider dynamo requires GPU (set resources.gpu.count > 0)"
    )
    assert check({}, "vllm", configs=[DYNAMO, cpu_vllm]) is None


def test_validate_spec_does_not_change_the_deployment():
    deployment = md({"model": {"id": "m"}}, defaults=False)
    before = deployment.to_dict()
    validate_spec(deployment, "vllm", CONFIGS)
    assert deployment.to_dict() == before
