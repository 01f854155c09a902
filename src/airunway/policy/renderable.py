"""What a provider cannot render: deployment names too long for the names and labels it derives, and engine-argument
keys it refuses. Admission refuses these up front, with the reason, instead of admitting a deployment that then fails
in the provider.

* Every provider labels what it creates with the deployment's name (``airunway.ai/deployment``), and Kubernetes
  limits label values to 63 characters: a longer name is refused whatever the provider.
* A provider that derives longer names refuses less (:func:`name_errors`): llm-d and Direct vLLM label the prefill
  workers ``<name>-prefill``, Dynamo serves through the Service ``<name>-frontend`` and downloads the model with the
  Job ``<name>-model-download`` (whose pods carry its name as a label), and KubeRay itself refuses RayService names
  longer than 47 characters or not starting with a letter.
* Direct vLLM, llm-d and Dynamo turn ``spec.engine.args`` keys into ``--key`` flags and refuse keys that are not made
  of letters, digits, ``-`` and ``_``; Direct vLLM also refuses ``host`` and ``port`` (:func:`engine_arg_errors`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from airunway.api.modeldeployment import ModelDeployment, ServingMode, VolumePurpose, go_quote
from airunway.policy.fielderrors import FieldError, field_path, forbidden, invalid

MAX_LABEL_VALUE = 63
"""Kubernetes' limit on label values, and on Service names (DNS labels)."""
KUBERAY_MAX_NAME = 47
"""KubeRay's limit on RayService names: its RayCluster's name adds a suffix and must stay within 53 characters."""
VLLM, LLMD, DYNAMO, KUBERAY = "vllm", "llmd", "dynamo", "kuberay"
FLAG_PROVIDERS = (VLLM, LLMD, DYNAMO)
"""The providers that turn ``spec.engine.args`` keys into command-line flags and refuse malformed keys."""
VLLM_RESERVED_ARGS = ("host", "port")
"""Flags Direct vLLM sets itself, so that the container, Service and probes agree."""
_ARG_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_DNS1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")


def _derived_names(md: ModelDeployment, provider: str) -> Iterator[tuple[int, str]]:
    """The limits on ``md.name`` that ``provider`` imposes, each with its reason."""
    name = md.name
    if provider in (VLLM, LLMD) and md.spec.resolved_serving_mode() == ServingMode.DISAGGREGATED:
        yield (MAX_LABEL_VALUE - len("-prefill"),
               f'the prefill workers\' Deployment "{name}-prefill" is also their label value, and label values are '
               f"limited to {MAX_LABEL_VALUE} characters")
    if provider == DYNAMO:
        yield (MAX_LABEL_VALUE - len("-frontend"),
               f'Dynamo serves the model through the Service "{name}-frontend", and Service names are limited to '
               f"{MAX_LABEL_VALUE} characters")
        if _downloads_model(md):
            yield (MAX_LABEL_VALUE - len("-model-download"),
                   f'the model download Job "{name}-model-download" labels its pods with its name, and label values '
                   f"are limited to {MAX_LABEL_VALUE} characters")
    if provider == KUBERAY:
        yield (KUBERAY_MAX_NAME,
               "KubeRay refuses longer RayService names (the name of the RayCluster it creates adds a suffix)")


def _downloads_model(md: ModelDeployment) -> bool:
    volumes = (md.spec.model.storage.volumes if md.spec.model.storage else None) or []
    return md.spec.model.source == "huggingface" and any(
        volume.purpose == VolumePurpose.MODEL_CACHE and not volume.read_only for volume in volumes)


def name_errors(md: ModelDeployment, provider: str = "") -> list[FieldError]:
    """Why ``md.name`` cannot be rendered by ``provider`` ("" when not chosen yet: the limit every provider has)."""
    name, length = md.name, len(md.name)
    if length > MAX_LABEL_VALUE:
        return [invalid("metadata.name", name,
                        f"must be no more than {MAX_LABEL_VALUE} characters (got {length}): the providers label "
                        f"what they create with it (airunway.ai/deployment), and label values are limited to "
                        f"{MAX_LABEL_VALUE} characters")]
    limits = sorted(_derived_names(md, provider), key=lambda limit: limit[0])
    if limits and length > limits[0][0]:
        limit, reason = limits[0]
        return [invalid("metadata.name", name,
                        f'must be no more than {limit} characters for provider "{provider}" (got {length}): {reason}')]
    if provider == KUBERAY and not _DNS1035.fullmatch(name):
        return [invalid("metadata.name", name,
                        'must start with a letter for provider "kuberay": KubeRay requires RayService names to be '
                        "DNS-1035 labels (lower-case letters, digits and '-', starting with a letter)")]
    return []


def flag_key(token: str) -> str:
    """``--tensor-parallel-size=4`` → ``tensor-parallel-size``."""
    return token.strip().lstrip("-").split("=", 1)[0]


def is_engine_arg_key(key: str) -> bool:
    """Whether ``key`` of ``spec.engine.args`` can become the flag ``--key``."""
    return _ARG_KEY.fullmatch(key) is not None


def engine_arg_errors(md: ModelDeployment, provider: str) -> list[FieldError]:
    """``spec.engine.args`` keys and ``spec.engine.extraArgs`` flags that ``provider`` refuses."""
    if provider not in FLAG_PROVIDERS or md.spec.engine is None:
        return []
    args = md.spec.engine.args or {}
    extra_args = md.spec.engine.extra_args or []
    errors: list[FieldError] = []
    for key in args:
        path = f"{field_path('spec', 'engine', 'args')}[{key}]"
        if provider == VLLM and flag_key(key) in VLLM_RESERVED_ARGS:
            errors.append(forbidden(path, _reserved(f"engine arg {go_quote(key)}")))
        elif not is_engine_arg_key(key):
            errors.append(invalid(path, key, "an engine arg key must contain only letters, digits, '-' and '_' and "
                                             "not start with '-' (it becomes the flag --<key>)"))
    if provider == VLLM:
        for index, token in enumerate(extra_args):
            if token.strip().startswith("-") and flag_key(token) in VLLM_RESERVED_ARGS:
                errors.append(forbidden(field_path("spec", "engine", "extraArgs", index),
                                        _reserved(f"engine extraArg {go_quote(token)}")))
    return errors


def _reserved(what: str) -> str:
    return (f"{what} conflicts with Direct vLLM generated networking; Direct vLLM requires host 0.0.0.0 and port "
            "8000 to keep the container, Service, and probes aligned: remove it")


def render_errors(md: ModelDeployment, provider: str) -> list[FieldError]:
    """Everything this module refuses for ``md`` on ``provider`` ("" when not chosen yet)."""
    return name_errors(md, provider) + engine_arg_errors(md, provider)


__all__ = ["FLAG_PROVIDERS", "KUBERAY_MAX_NAME", "MAX_LABEL_VALUE", "VLLM_RESERVED_ARGS", "engine_arg_errors",
           "flag_key", "is_engine_arg_key", "name_errors", "render_errors"]
