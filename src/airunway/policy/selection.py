"""Engine and provider selection for a ModelDeployment, with the reasons behind every decision.

:func:`select_engine` picks the inference engine from the capabilities of the ready providers (explicit engines and
earlier choices are kept); :func:`select_provider` picks the provider: the one named in the spec, the one chosen
earlier, or the compatible ready provider whose CEL selection rules give it the highest priority (ties go to the
name that sorts first). Both are pure: they read the ModelDeployment and the InferenceProviderConfigs and return a
result object; writing ``status`` and conditions is the caller's business.

Besides the decision, :class:`ProviderSelection` explains every provider's fate (:class:`ProviderVerdict`): not
ready, not reporting, no capabilities, engine / GPU / CPU / serving mode unsupported, which rules matched (and which
do not compile), lower priority, or a tie lost on the name. ``airunway render`` and the dashboard show that
explanation.

Beyond upstream: a provider whose heartbeat (``status.lastHeartbeat``) is older than the staleness window
(``staleness``, default :data:`~airunway.api.providerconfig.PROVIDER_STALENESS_SECONDS`) is treated as not ready
for automatic choices, since a provider killed without a chance to say so stays ``ready: true``; naming it in the
spec still works. A selection rule that does not compile is reported (:func:`broken_rules`) and ignored, so the
provider matches only through the rules that compile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum

from airunway.api.modeldeployment import (
    EngineStatus,
    EngineType,
    ModelDeployment,
    ModelDeploymentSpec,
    ProviderStatus,
    ServingMode,
)
from airunway.api.providerconfig import PROVIDER_STALENESS_SECONDS, InferenceProviderConfig
from airunway.policy.cel import cel_spec_input, compile_error, evaluate_condition, one_line

ENGINE_PREFERENCE: tuple[str, ...] = (
    EngineType.VLLM.value,
    EngineType.SGLANG.value,
    EngineType.TRTLLM.value,
    EngineType.LLAMACPP.value,
)
"""Auto-selected engines, most preferred first."""

NO_PROVIDERS_REGISTERED = "no providers registered (InferenceProviderConfig resources not found)"
NO_HEALTHY_PROVIDERS = "no healthy providers available"
NO_COMPATIBLE_PROVIDER = "no compatible provider found for this configuration"
EXPLICIT_ENGINE_REASON = "explicit engine selection"
EXPLICIT_PROVIDER_REASON = "explicit provider selection"


class SelectionSource(StrEnum):
    """Where a selection came from."""

    EXPLICIT = "explicit"
    """Named in the spec."""
    STICKY = "sticky"
    """Chosen earlier and recorded in status; never re-evaluated."""
    AUTO = "auto"
    """Chosen now from the provider configs."""


def needs_gpu(spec: ModelDeploymentSpec) -> bool:
    """Whether the deployment runs on GPUs: a GPU count above 0, or disaggregated serving."""
    gpu = spec.resources.gpu if spec.resources else None
    return (gpu is not None and gpu.count > 0) or (
        spec.serving is not None and spec.serving.mode == ServingMode.DISAGGREGATED
    )


def _go_bool(value: bool) -> str:
    return "true" if value else "false"


@dataclass(frozen=True)
class Liveness:
    """When selection runs (``now``) and how old a heartbeat may be (``staleness`` seconds; None: not checked)."""

    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    staleness: float | None = PROVIDER_STALENESS_SECONDS

    def stale_for(self, config: InferenceProviderConfig) -> float | None:
        """The age of ``config``'s heartbeat when it is past the window, else None."""
        return config.stale_for(self.now, self.staleness)

    def usable(self, config: InferenceProviderConfig) -> bool:
        """Ready and still reporting: a provider automatic selection may choose."""
        return config.ready and self.stale_for(config) is None


def not_reporting_message(name: str, age: float, staleness: float | None,
                          consequence: str = "it is not chosen automatically; name it in spec.provider.name to use it "
                          "anyway") -> str:
    """Why a provider whose heartbeat is ``age`` seconds old is left out (by default: of the automatic choice)."""
    return (f"provider {name} has not reported for {age:.0f} s (its heartbeat is older than the "
            f"{staleness or 0:.0f} s staleness window), so {consequence}")


@dataclass(frozen=True)
class BrokenRule:
    """A selection rule that does not compile as CEL: ``index`` in ``spec.selectionRules``, the condition and why
    (the CEL error on one line)."""

    index: int
    condition: str
    error: str

    def describe(self) -> str:
        return f"selection rule {self.index} `{self.condition}` does not compile and is ignored: {self.error}"


def broken_rules(config: InferenceProviderConfig) -> tuple[BrokenRule, ...]:
    """The selection rules of ``config`` that do not compile (compilation is cached by condition text)."""
    out = []
    for index, rule in enumerate(config.spec.selection_rules or []):
        error = compile_error(rule.condition)
        if error is not None:
            out.append(BrokenRule(index, rule.condition, one_line(error)))
    return tuple(out)


# --------------------------------------------------------------------------------------------- engine


@dataclass(frozen=True)
class EngineSelection:
    """The engine chosen (``engine``, ``reason``, ``source``) or why none could be (``error``)."""

    engine: str | None
    reason: str | None
    source: SelectionSource | None
    error: str | None = None
    has_gpu: bool = False
    serving_mode: str = ServingMode.AGGREGATED.value
    available: dict[str, str] = field(default_factory=dict)
    """For auto-selection: each engine that fits the deployment, with the first ready provider offering it."""

    @property
    def ok(self) -> bool:
        return self.error is None

    def status(self) -> EngineStatus | None:
        """``status.engine`` as the controller records it; None when selection failed."""
        if self.engine is None:
            return None
        return EngineStatus(type=self.engine, selected_reason=self.reason)

    @property
    def status_message(self) -> str | None:
        """``status.message`` after a failure."""
        return f"Engine selection failed: {self.error}" if self.error else None


def select_engine(
    md: ModelDeployment, configs: Sequence[InferenceProviderConfig], liveness: Liveness | None = None
) -> EngineSelection:
    """Choose the engine: the spec's, else the one already in status, else the most preferred engine that some
    ready provider still reporting (``liveness``, default: now and the default window) runs with this deployment's
    GPU/CPU needs and serving mode."""
    spec = md.spec
    has_gpu = needs_gpu(spec)
    mode = spec.resolved_serving_mode()
    if spec.engine and spec.engine.type:
        return EngineSelection(spec.engine.type, EXPLICIT_ENGINE_REASON, SelectionSource.EXPLICIT, None, has_gpu, mode)
    recorded = md.status.engine if md.status else None
    if recorded and recorded.type:
        return EngineSelection(recorded.type, recorded.selected_reason, SelectionSource.STICKY, None, has_gpu, mode)
    if not configs:
        return EngineSelection(None, None, None, NO_PROVIDERS_REGISTERED, has_gpu, mode)

    liveness = liveness or Liveness()
    available: dict[str, str] = {}
    advertised: dict[str, list[str]] = {}
    for config in configs:
        if not liveness.usable(config) or config.capabilities is None:
            continue
        advertised[config.name] = config.capabilities.engine_names()
        for capability in config.capabilities.engines or []:
            if (capability.supports_gpu() if has_gpu else capability.supports_cpu()) and capability.supports_serving_mode(mode):
                available.setdefault(capability.name, config.name)
    for engine in ENGINE_PREFERENCE:
        if engine in available:
            reason = f"auto-selected from provider {available[engine]} capabilities"
            return EngineSelection(engine, reason, SelectionSource.AUTO, None, has_gpu, mode, available)
    listing = " ".join(f"{name}:[{' '.join(engines)}]" for name, engines in sorted(advertised.items()))
    error = (
        f"no engines available from registered providers (hasGPU={_go_bool(has_gpu)}, servingMode={mode}, "
        f"advertised=map[{listing}])"
    )
    for config in configs:  # upstream's error, with the providers left out for not reporting named after it
        age = liveness.stale_for(config) if config.ready else None
        if age is not None:
            error += "; " + not_reporting_message(
                config.name, age, liveness.staleness,
                "its engines are not offered; name spec.engine.type and spec.provider.name to use it anyway")
    return EngineSelection(None, None, None, error, has_gpu, mode, available)


# --------------------------------------------------------------------------------------------- provider


class Outcome(StrEnum):
    """What became of one provider in a selection."""

    SELECTED = "selected"
    NOT_REQUESTED = "not-requested"
    """Another provider is named in the spec or was chosen earlier."""
    NOT_READY = "not-ready"
    NOT_REPORTING = "not-reporting"
    """Ready, but its heartbeat is older than the staleness window."""
    NO_CAPABILITIES = "no-capabilities"
    ENGINE_UNSUPPORTED = "engine-unsupported"
    GPU_UNSUPPORTED = "gpu-unsupported"
    CPU_UNSUPPORTED = "cpu-unsupported"
    SERVING_MODE_UNSUPPORTED = "serving-mode-unsupported"
    LOWER_PRIORITY = "lower-priority"
    LOST_TIE = "lost-tie"


@dataclass(frozen=True)
class RuleEvaluation:
    """One selection rule of a candidate: its condition, priority and what it evaluated to."""

    condition: str
    priority: int
    value: bool | None
    error: str | None = None
    compiles: bool = True

    @property
    def matched(self) -> bool:
        return self.value is True


@dataclass(frozen=True)
class ProviderVerdict:
    """One provider's part in a selection: the outcome, a sentence saying why, and (for candidates) the rules."""

    name: str
    outcome: Outcome
    explanation: str
    priority: int | None = None
    """The candidate's priority (highest matching rule, at least 0); None when it was not a candidate."""
    rules: tuple[RuleEvaluation, ...] = ()
    broken_rules: tuple[BrokenRule, ...] = ()
    """The provider's selection rules that do not compile (ignored)."""


@dataclass(frozen=True)
class ProviderSelection:
    """The provider chosen (``provider``, ``reason``, ``source``) or why none could be (``error``), and a verdict
    for every provider config considered."""

    provider: str | None
    reason: str | None
    source: SelectionSource | None
    error: str | None
    engine: str
    has_gpu: bool
    serving_mode: str
    verdicts: tuple[ProviderVerdict, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None

    def verdict(self, name: str) -> ProviderVerdict | None:
        return next((verdict for verdict in self.verdicts if verdict.name == name), None)

    def status(self) -> ProviderStatus | None:
        """``status.provider`` name and reason as the core controller records them; None when selection failed."""
        if self.provider is None:
            return None
        return ProviderStatus(name=self.provider, selected_reason=self.reason)

    @property
    def status_message(self) -> str | None:
        """``status.message`` after a failure."""
        return f"Provider selection failed: {self.error}" if self.error else None


def select_provider(
    md: ModelDeployment,
    configs: Sequence[InferenceProviderConfig],
    engine: str | None = None,
    liveness: Liveness | None = None,
) -> ProviderSelection:
    """Choose the provider for ``md`` running ``engine`` (default: the spec's engine, else the one in status).

    The provider named in ``spec.provider.name`` wins, then one already recorded in ``status.provider.name``;
    otherwise every ready provider still reporting (``liveness``) that runs the engine with the deployment's GPU/CPU
    needs and serving mode is a candidate at the highest priority of its matching CEL rules (0 when none match) and
    the highest priority wins, ties going to the name that sorts first.
    """
    spec = md.spec
    engine = engine if engine is not None else md.resolved_engine_type()
    has_gpu = needs_gpu(spec)
    mode = spec.resolved_serving_mode()
    common = {"engine": engine, "has_gpu": has_gpu, "serving_mode": mode}

    named = (spec.provider.name if spec.provider else None) or ""
    recorded = md.status.provider if md.status else None
    if named:
        reason = recorded.selected_reason if recorded and recorded.name == named and recorded.selected_reason else None
        verdicts = _pinned_verdicts(configs, named, "named in spec.provider.name", f"spec.provider.name names {named}")
        reason = reason or EXPLICIT_PROVIDER_REASON
        return ProviderSelection(named, reason, SelectionSource.EXPLICIT, None, verdicts=verdicts, **common)
    if recorded and recorded.name:
        verdicts = _pinned_verdicts(
            configs,
            recorded.name,
            "selected earlier (status.provider.name); selection is not re-evaluated",
            f"{recorded.name} was selected earlier",
        )
        reason = recorded.selected_reason
        return ProviderSelection(recorded.name, reason, SelectionSource.STICKY, None, verdicts=verdicts, **common)

    if not configs:
        return ProviderSelection(None, None, None, NO_PROVIDERS_REGISTERED, **common)
    liveness = liveness or Liveness()
    verdicts = evaluate_providers(spec, configs, engine, liveness)
    winner = next((verdict for verdict in verdicts if verdict.outcome == Outcome.SELECTED), None)
    # Upstream's errors, with the providers left out for not reporting named after them.
    silent = "".join(f"; {v.explanation}" for v in verdicts if v.outcome == Outcome.NOT_REPORTING)
    if not any(liveness.usable(config) for config in configs):
        return ProviderSelection(None, None, None, NO_HEALTHY_PROVIDERS + silent, verdicts=verdicts, **common)
    if winner is None:
        return ProviderSelection(None, None, None, NO_COMPATIBLE_PROVIDER + silent, verdicts=verdicts, **common)
    reason = f"matched capabilities: engine={engine}, gpu={_go_bool(has_gpu)}, mode={mode}"
    return ProviderSelection(winner.name, reason, SelectionSource.AUTO, None, verdicts=verdicts, **common)


def evaluate_providers(
    spec: ModelDeploymentSpec,
    configs: Sequence[InferenceProviderConfig],
    engine: str,
    liveness: Liveness | None = None,
) -> tuple[ProviderVerdict, ...]:
    """The auto-selection algorithm over ``configs`` (in their order), one verdict each; at most one is SELECTED."""
    has_gpu = needs_gpu(spec)
    mode = spec.resolved_serving_mode()
    liveness = liveness or Liveness()
    cel_input = None
    evaluated: list[ProviderVerdict | tuple[int, tuple[RuleEvaluation, ...]]] = []
    for config in configs:
        rejection = _incompatibility(config, engine, has_gpu, mode, liveness)
        if rejection is not None:
            evaluated.append(ProviderVerdict(config.name, *rejection))
            continue
        if cel_input is None:
            cel_input = cel_spec_input(spec, engine)
        rules = tuple(
            RuleEvaluation(rule.condition, rule.priority, result.value, result.error,
                           compiles=compile_error(rule.condition) is None)
            for rule in config.spec.selection_rules or []
            for result in (evaluate_condition(rule.condition, cel_input),)
        )
        evaluated.append((max((rule.priority for rule in rules if rule.matched), default=0), rules))

    candidates = [(-entry[0], configs[i].name, i) for i, entry in enumerate(evaluated) if isinstance(entry, tuple)]
    if not candidates:
        return tuple(entry for entry in evaluated if isinstance(entry, ProviderVerdict))
    top_priority, winner, winner_index = min(candidates)
    top_priority = -top_priority
    out: list[ProviderVerdict] = []
    for i, entry in enumerate(evaluated):
        if isinstance(entry, ProviderVerdict):
            out.append(entry)
            continue
        priority, rules = entry
        why = _priority_explanation(priority, rules)
        if i == winner_index:
            outcome, text = Outcome.SELECTED, f"{why}; highest priority"
        elif priority < top_priority:
            outcome, text = Outcome.LOWER_PRIORITY, f"{why}; lower than {winner} (priority {top_priority})"
        else:
            outcome, text = Outcome.LOST_TIE, f"{why}; tied with {winner}, which sorts first by name"
        broken = broken_rules(configs[i])
        if broken:
            text += "; " + "; ".join(rule.describe() for rule in broken)
        out.append(ProviderVerdict(configs[i].name, outcome, text, priority, rules, broken))
    return tuple(out)


def _incompatibility(
    config: InferenceProviderConfig, engine: str, has_gpu: bool, mode: str, liveness: Liveness
) -> tuple[Outcome, str] | None:
    if not config.ready:
        return Outcome.NOT_READY, "not ready (status.ready is not true)"
    age = liveness.stale_for(config)
    if age is not None:
        return Outcome.NOT_REPORTING, not_reporting_message(config.name, age, liveness.staleness)
    if config.capabilities is None:
        return Outcome.NO_CAPABILITIES, "declares no capabilities"
    capability = config.get_engine_capability(engine) if engine else None
    if capability is None:
        offered = ", ".join(config.capabilities.engine_names()) or "none"
        if not engine:
            return Outcome.ENGINE_UNSUPPORTED, "no engine was resolved for the deployment"
        return Outcome.ENGINE_UNSUPPORTED, f"does not run engine {engine} (runs: {offered})"
    if has_gpu and not capability.supports_gpu():
        return Outcome.GPU_UNSUPPORTED, f"does not run {engine} on GPUs"
    if not has_gpu and not capability.supports_cpu():
        return Outcome.CPU_UNSUPPORTED, f"runs {engine} only on GPUs, and the deployment requests none"
    if not capability.supports_serving_mode(mode):
        return Outcome.SERVING_MODE_UNSUPPORTED, f"does not support {mode} serving with {engine}"
    return None


def _priority_explanation(priority: int, rules: tuple[RuleEvaluation, ...]) -> str:
    if not rules:
        return "no selection rules, priority 0"
    failed = sum(1 for rule in rules if rule.error is not None and rule.compiles)
    skipped = f" ({failed} of {len(rules)} rules could not be evaluated and were skipped)" if failed else ""
    top = next((rule for rule in rules if rule.matched and rule.priority == priority), None)
    if top is None:
        return f"no selection rule matched, priority 0{skipped}"
    return f"rule `{top.condition}` matched, priority {priority}{skipped}"


def _pinned_verdicts(
    configs: Sequence[InferenceProviderConfig], chosen: str, chosen_text: str, others_text: str
) -> tuple[ProviderVerdict, ...]:
    verdicts = [
        ProviderVerdict(config.name, Outcome.SELECTED, chosen_text)
        if config.name == chosen
        else ProviderVerdict(config.name, Outcome.NOT_REQUESTED, others_text)
        for config in configs
    ]
    if not any(config.name == chosen for config in configs):
        verdicts.insert(0, ProviderVerdict(chosen, Outcome.SELECTED, f"{chosen_text} (no InferenceProviderConfig of that name)"))
    return tuple(verdicts)


def provider_change_error(md: ModelDeployment) -> str | None:
    """The reconciler's refusal when ``spec.provider.name`` names another provider than the one already selected."""
    named = (md.spec.provider.name if md.spec.provider else None) or ""
    recorded = (md.status.provider.name if md.status and md.status.provider else None) or ""
    if named and recorded and named != recorded:
        return (
            f'changing spec.provider.name from "{recorded}" to "{named}" after a provider has been selected is not '
            "supported; delete and recreate the ModelDeployment to use a different provider"
        )
    return None


__all__ = [
    "BrokenRule",
    "ENGINE_PREFERENCE",
    "EXPLICIT_ENGINE_REASON",
    "EXPLICIT_PROVIDER_REASON",
    "EngineSelection",
    "Liveness",
    "NO_COMPATIBLE_PROVIDER",
    "NO_HEALTHY_PROVIDERS",
    "NO_PROVIDERS_REGISTERED",
    "Outcome",
    "ProviderSelection",
    "ProviderVerdict",
    "RuleEvaluation",
    "SelectionSource",
    "broken_rules",
    "evaluate_providers",
    "needs_gpu",
    "not_reporting_message",
    "provider_change_error",
    "select_engine",
    "select_provider",
]
