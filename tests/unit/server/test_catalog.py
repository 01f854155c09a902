"""The curated catalog's engines agree with what each engine can serve: every engine an entry lists serves the
model's architecture (the engines' architecture lists in ``compatibility``), so the deploy form never offers one that
cannot run it. An engine that could serve a model but is not listed is named here with the reason."""

from __future__ import annotations

import pytest

from airunway.server.services import catalog
from airunway.server.services.compatibility import engines_for

# The HuggingFace ``config.architectures`` of each catalog model; the KAITO entries are AIKit's ready-made GGUF
# images of the named models (served by llama.cpp alone).
ARCHITECTURES = {
    "Qwen/Qwen3-0.6B": "Qwen3ForCausalLM",
    "google/gemma-3-1b-it": "Gemma3ForCausalLM",
    "microsoft/Phi-4-mini-instruct": "Phi3ForCausalLM",
    "Qwen/Qwen3-4B": "Qwen3ForCausalLM",
    "google/gemma-3-4b-it": "Gemma3ForConditionalGeneration",
    "Qwen/Qwen3-8B": "Qwen3ForCausalLM",
    "deepseek-ai/DeepSeek-R1-Distill-Llama-8B": "LlamaForCausalLM",
    "mistralai/Ministral-3-8B-Instruct-2512-BF16": "Mistral3ForConditionalGeneration",
    "kaito/llama3.2-1b": "LlamaForCausalLM",
    "kaito/llama3.2-3b": "LlamaForCausalLM",
    "kaito/llama3.1-8b": "LlamaForCausalLM",
    "kaito/llama3.3-70b": "LlamaForCausalLM",
    "kaito/mixtral-8x7b": "MixtralForCausalLM",
    "kaito/phi4-14b": "Phi3ForCausalLM",
    "kaito/gemma2-2b": "Gemma2ForCausalLM",
    "kaito/qwq-32b": "Qwen2ForCausalLM",
    "kaito/codestral-22b": "MistralForCausalLM",
    "kaito/gpt-oss-20b": "GptOssForCausalLM",
}

# Engines that serve the architecture but the catalog leaves out, as upstream's catalog does: TensorRT-LLM serves
# Llama and Phi-3 architectures, but these two models are offered with the engines they were tried with.
NOT_LISTED = {
    "microsoft/Phi-4-mini-instruct": {"trtllm"},
    "deepseek-ai/DeepSeek-R1-Distill-Llama-8B": {"trtllm"},
}


def test_every_entry_has_a_known_architecture():
    assert sorted(m["id"] for m in catalog.models()) == sorted(ARCHITECTURES)


@pytest.mark.parametrize("model", catalog.models(), ids=lambda m: m["id"])
def test_listed_engines_serve_the_architecture(model):
    servable = engines_for([ARCHITECTURES[model["id"]]], gguf=model["id"].startswith("kaito/"))
    listed = model["supportedEngines"]
    assert listed and set(listed) <= set(servable), f"{model['id']}: {set(listed) - set(servable)} cannot serve it"
    assert listed == [e for e in servable if e in listed], "engines in the usual order (vllm, sglang, trtllm)"
    assert set(servable) - set(listed) == NOT_LISTED.get(model["id"], set())


def test_upstream_engines_for_the_8b_models():
    """As upstream's catalog: the Llama-based DeepSeek distill and the Mistral 3 vision model on vLLM and SGLang."""
    assert catalog.find("deepseek-ai/DeepSeek-R1-Distill-Llama-8B")["supportedEngines"] == ["vllm", "sglang"]
    assert catalog.find("mistralai/Ministral-3-8B-Instruct-2512-BF16")["supportedEngines"] == ["vllm", "sglang"]
