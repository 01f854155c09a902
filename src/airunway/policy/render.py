"""``airunway render``: what the controller would do with a ModelDeployment, offline.

The file goes through the same steps as in a cluster: the CRD's schema defaults, the mutating webhook's defaults,
the validating webhook (same errors and warnings), then the reconciler's engine selection, spec validation and
provider selection against a set of InferenceProviderConfigs (by default the five shipped with AI Runway, taken as
ready). The result is the defaulted ModelDeployment with ``status.engine`` and ``status.provider`` filled in, and for
every provider the reason it was or was not chosen.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import IO, Any

import yaml
from pydantic import ValidationError

from airunway import safeyaml
from airunway.api.common import api_error_message
from airunway.api.constants import INFERENCE_PROVIDER_CONFIG_KIND, MODEL_DEPLOYMENT_KIND
from airunway.api.modeldeployment import ModelDeployment
from airunway.api.providerconfig import InferenceProviderConfig
from airunway.policy.defaulting import default
from airunway.policy.fielderrors import FieldError
from airunway.policy.selection import (
    EngineSelection,
    Liveness,
    Outcome,
    ProviderSelection,
    broken_rules,
    select_engine,
    select_provider,
)
from airunway.policy.validation import (
    parse_model_deployment,
    validate_create,
    validate_spec,
)

VALIDATING_WEBHOOK_NAME = "vmodeldeployment-v1alpha1.kb.io"


class RenderInputError(Exception):
    """An input file cannot be read as what it should be (missing, not YAML, wrong kind)."""


@dataclass
class RenderResult:
    """The outcome of :func:`render`.

    ``schema_errors`` (the object does not match the CRD) or ``errors`` (the validating webhook refuses it) make the
    input invalid; ``failure`` is set when the controller would mark the deployment failed or could not select an
    engine or provider. ``deployment`` is the defaulted object, with ``status.engine`` and ``status.provider`` when
    both selections succeeded.
    """

    deployment: dict[str, Any]
    schema_errors: list[FieldError] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    engine: EngineSelection | None = None
    provider: ProviderSelection | None = None
    failure: str | None = None
    config_problems: list[str] = field(default_factory=list)
    """What is wrong with the provider configs themselves (selection rules that do not compile)."""

    @property
    def ok(self) -> bool:
        return not self.schema_errors and not self.errors and self.failure is None


def render(
    obj: Mapping[str, Any], configs: Sequence[InferenceProviderConfig], liveness: Liveness | None = None
) -> RenderResult:
    """Default, validate and select engine and provider for the ModelDeployment ``obj`` as a new object.

    A ``status`` in ``obj`` is ignored: the object is rendered as if it were being created. ``liveness``: when
    selection runs and how old a provider's heartbeat may be (default: now, the default staleness window).
    """
    problems_of_configs = config_problems(configs)
    data = {key: value for key, value in obj.items() if key != "status"}
    parsed, problems = parse_model_deployment(data)
    if parsed is None:
        return RenderResult(deployment=dict(data), schema_errors=problems, config_problems=problems_of_configs)
    deployment = default(parsed.to_dict())
    deployment.pop("status", None)
    errors, warnings = validate_create(deployment, configs)
    result = RenderResult(deployment=_ordered(deployment), errors=errors, warnings=warnings,
                          config_problems=problems_of_configs)
    if errors:
        return result

    liveness = liveness or Liveness()
    md = ModelDeployment.model_validate(deployment)
    result.engine = select_engine(md, configs, liveness)
    if not result.engine.ok:
        result.failure = result.engine.status_message
        return result
    engine = result.engine.engine or ""
    problem = validate_spec(md, engine, configs)
    if problem is not None:
        result.failure = f"Validation failed: {problem}"
        return result
    result.provider = select_provider(md, configs, engine, liveness)
    if not result.provider.ok:
        result.failure = result.provider.status_message
        return result
    status: dict[str, Any] = {}
    for key, value in (("engine", result.engine.status()), ("provider", result.provider.status())):
        if value is not None:
            status[key] = value.to_dict()
    deployment["status"] = status
    result.deployment = _ordered(deployment)
    return result


def config_problems(configs: Sequence[InferenceProviderConfig]) -> list[str]:
    """One line per selection rule that does not compile, naming its InferenceProviderConfig."""
    return [f"InferenceProviderConfig {config.name}: {rule.describe()}"
            for config in configs for rule in broken_rules(config)]


def _ordered(obj: dict[str, Any]) -> dict[str, Any]:
    """The usual order of a Kubernetes object's top-level fields."""
    first = ("apiVersion", "kind", "metadata", "spec", "status")
    return {**{key: obj[key] for key in first if key in obj}, **{k: v for k, v in obj.items() if k not in first}}


# --------------------------------------------------------------------------------------------- reading files


def _read_text(path: str | Path, stdin: IO[str] | None = None) -> tuple[str, str]:
    if str(path) == "-":
        return (stdin or sys.stdin).read(), "standard input"
    file = Path(path)
    try:
        return file.read_text(encoding="utf-8"), str(file)
    except FileNotFoundError:
        raise RenderInputError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise RenderInputError(f"{file}: is a directory, not a YAML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RenderInputError(f"{file}: cannot read it ({exc})") from None


def _documents(text: str, source: str) -> list[dict[str, Any]]:
    try:
        documents = [doc for doc in safeyaml.load_all(text) if doc is not None]
    except safeyaml.YAMLTooLarge as exc:
        raise RenderInputError(f"{source}: {exc}") from None
    except yaml.YAMLError as exc:
        raise RenderInputError(f"{source}: not valid YAML ({exc})".replace("\n", " ")) from None
    out: list[dict[str, Any]] = []
    for doc in documents:
        if not isinstance(doc, dict):
            raise RenderInputError(f"{source}: expected a Kubernetes object (a YAML mapping), found {type(doc).__name__}")
        items = doc.get("items")
        if str(doc.get("kind", "")).endswith("List") and isinstance(items, list):
            out.extend(item for item in items if isinstance(item, dict))
        else:
            out.append(doc)
    return out


def read_model_deployment(path: str | Path, stdin: IO[str] | None = None) -> dict[str, Any]:
    """The one ModelDeployment in the YAML file ``path`` (``-`` for standard input)."""
    text, source = _read_text(path, stdin)
    documents = _documents(text, source)
    deployments = [doc for doc in documents if doc.get("kind") == MODEL_DEPLOYMENT_KIND]
    if not documents:
        raise RenderInputError(f"{source}: no ModelDeployment found (the file is empty)")
    if not deployments:
        kinds = ", ".join(sorted({str(doc.get("kind") or "<no kind>") for doc in documents}))
        raise RenderInputError(f"{source}: no ModelDeployment found (found {kinds})")
    if len(deployments) > 1:
        raise RenderInputError(f"{source}: {len(deployments)} ModelDeployments found; render one at a time")
    return deployments[0]


def load_provider_configs(paths: Sequence[str | Path]) -> list[InferenceProviderConfig]:
    """The InferenceProviderConfigs in the YAML files ``paths`` (several documents per file allowed).

    A config counts as ready unless its ``status.ready`` says false: provider manifests carry no status, and a
    provider controller marks its config ready once running.
    """
    configs: list[InferenceProviderConfig] = []
    for path in paths:
        text, source = _read_text(path)
        for doc in _documents(text, source):
            if doc.get("kind") != INFERENCE_PROVIDER_CONFIG_KIND:
                kind = doc.get("kind") or "<no kind>"
                raise RenderInputError(f"{source}: expected InferenceProviderConfig documents, found {kind}")
            configs.append(_ready_config(doc, source))
    names = [config.name for config in configs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise RenderInputError(f"InferenceProviderConfig {', '.join(duplicates)} given more than once")
    return configs


def _ready_config(doc: dict[str, Any], source: str) -> InferenceProviderConfig:
    status = doc.get("status") if isinstance(doc.get("status"), dict) else {}
    doc = {**doc, "status": {**status, "ready": status.get("ready", True)}}
    try:
        config = InferenceProviderConfig.model_validate(doc)
    except ValidationError as exc:
        name = (doc.get("metadata") or {}).get("name", "?") if isinstance(doc.get("metadata"), dict) else "?"
        detail = api_error_message(exc).replace("\n", "; ")
        raise RenderInputError(f"{source}: InferenceProviderConfig {name} is invalid: {detail}") from None
    if not config.name:
        raise RenderInputError(f"{source}: an InferenceProviderConfig has no metadata.name")
    return config


def default_provider_configs() -> list[InferenceProviderConfig]:
    """The configs of the five providers shipped with AI Runway, all ready."""
    folder = resources.files("airunway.policy") / "default_providers"
    files = sorted((entry for entry in folder.iterdir() if entry.name.endswith(".yaml")), key=lambda entry: entry.name)
    return [
        _ready_config(doc, entry.name)
        for entry in files
        for doc in _documents(entry.read_text(encoding="utf-8"), entry.name)
    ]


# --------------------------------------------------------------------------------------------- output


def to_yaml(obj: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(obj), sort_keys=False, default_flow_style=False, allow_unicode=True)


def to_json(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def denial_lines(result: RenderResult) -> list[str]:
    """The refusal as the API server would report it, one field error per line after a header."""
    if result.schema_errors:
        return ["The ModelDeployment does not match the CRD schema:", *(f"  {e}" for e in result.schema_errors)]
    if result.errors:
        header = f'admission webhook "{VALIDATING_WEBHOOK_NAME}" denied the request:'
        return [header, *(f"  {e}" for e in result.errors)]
    return []


_OUTCOME_LABELS = {
    Outcome.SELECTED: "[green]selected[/green]",
    Outcome.NOT_REQUESTED: "not requested",
    Outcome.NOT_READY: "[red]not ready[/red]",
    Outcome.NOT_REPORTING: "[red]not reporting[/red]",
    Outcome.NO_CAPABILITIES: "[red]no capabilities[/red]",
    Outcome.ENGINE_UNSUPPORTED: "[yellow]engine unsupported[/yellow]",
    Outcome.GPU_UNSUPPORTED: "[yellow]no GPU support[/yellow]",
    Outcome.CPU_UNSUPPORTED: "[yellow]no CPU support[/yellow]",
    Outcome.SERVING_MODE_UNSUPPORTED: "[yellow]serving mode unsupported[/yellow]",
    Outcome.LOWER_PRIORITY: "lower priority",
    Outcome.LOST_TIE: "lost tie",
}


def print_human(result: RenderResult, console: Any) -> None:
    """The ModelDeployment, the selections and a table of every provider's verdict, for people."""
    from rich.markup import escape
    from rich.table import Table

    console.print(to_yaml(result.deployment), markup=False, highlight=False, soft_wrap=True, end="")
    console.print()
    if result.engine is not None:
        engine = result.engine
        if engine.ok:
            console.print(f"Engine:   [bold]{escape(engine.engine or '')}[/bold] — {escape(engine.reason or '')}")
        else:
            console.print(f"Engine:   [red]none[/red] — {escape(engine.error or '')}")
    if result.provider is not None:
        provider = result.provider
        if provider.ok:
            console.print(f"Provider: [bold]{escape(provider.provider or '')}[/bold] — {escape(provider.reason or '')}")
        else:
            console.print(f"Provider: [red]none[/red] — {escape(provider.error or '')}")
        if provider.verdicts:
            table = Table(title="Providers", title_justify="left")
            table.add_column("provider")
            table.add_column("priority", justify="right")
            table.add_column("outcome")
            table.add_column("why")
            for verdict in provider.verdicts:
                table.add_row(
                    escape(verdict.name),
                    "-" if verdict.priority is None else str(verdict.priority),
                    _OUTCOME_LABELS[verdict.outcome],
                    escape(verdict.explanation),
                )
            console.print(table)


__all__ = [
    "RenderInputError",
    "RenderResult",
    "VALIDATING_WEBHOOK_NAME",
    "config_problems",
    "default_provider_configs",
    "denial_lines",
    "load_provider_configs",
    "print_human",
    "read_model_deployment",
    "render",
    "to_json",
    "to_yaml",
]
