"""Which engines serve a HuggingFace model: architecture lists, architectures guessed from ids, GGUF repositories,
the reasons a model is left out, parameter counts and the GPU memory estimate."""

from __future__ import annotations

import pytest

from airunway.server.services import compatibility as c


def hub_model(model_id: str, **fields) -> dict:
    return {"id": model_id, "downloads": 10, "likes": 2} | fields


def test_architecture_lists():
    sizes = {engine: len(names) for engine, names in c.ARCHITECTURES.items()}
    assert sizes == {"vllm": 123, "sglang": 81, "trtllm": 45, "llamacpp": 71}
    assert all("LlamaForCausalLM" in names for names in c.ARCHITECTURES.values())
    assert c.engines_for(["LagunaForCausalLM"], gguf=False) == ["vllm"]
    jamba = c.engines_for(["JambaForCausalLM"], gguf=False)
    assert "vllm" in jamba and "trtllm" not in jamba and "JambaForCausalLM" in c.ARCHITECTURES["llamacpp"]
    # llama.cpp serves GGUF files only: never offered for a safetensors repository, always for a GGUF one.
    assert c.engines_for(["LlamaForCausalLM"], gguf=False) == ["vllm", "sglang", "trtllm"]
    assert c.engines_for(["Whatever"], gguf=True) == ["llamacpp"]
    assert c.engines_for(["NoSuchArchitecture"], gguf=False) == []


@pytest.mark.parametrize(("model_id", "architecture"), [
    ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "Llama4ForCausalLM"),
    ("meta-llama/Llama-3.1-8B-Instruct", "LlamaForCausalLM"), ("TinyLlama/TinyLlama-1.1B", "LlamaForCausalLM"),
    ("mistralai/Mixtral-8x7B-v0.1", "MixtralForCausalLM"), ("mistralai/Ministral-8B", "Ministral3ForCausalLM"),
    ("mistralai/Mistral-Large-Instruct", "MistralLarge3ForCausalLM"), ("mistralai/Mistral-7B", "MistralForCausalLM"),
    ("Qwen/Qwen3.5-27B", "Qwen3_5ForConditionalGeneration"), ("Qwen/Qwen3-MoE-A3B", "Qwen3MoeForCausalLM"),
    ("Qwen/Qwen3-8B", "Qwen3ForCausalLM"), ("Qwen/Qwen2-57B-MoE", "Qwen2MoeForCausalLM"),
    ("Qwen/Qwen2.5-7B", "Qwen2ForCausalLM"),
    ("google/gemma-3n-E4B", "Gemma3nForCausalLM"), ("google/gemma-3-1b-it", "Gemma3ForCausalLM"),
    ("google/gemma-2-9b", "Gemma2ForCausalLM"), ("google/gemma2", "Gemma2ForCausalLM"),
    ("google/gemma-7b", "GemmaForCausalLM"),
    ("microsoft/phi-4", "Phi4MMForCausalLM"), ("microsoft/Phi-3-mini", "Phi3ForCausalLM"),
    ("microsoft/phi-2", "PhiForCausalLM"),
    ("moonshotai/Kimi-K2-Instruct", "KimiK25ForConditionalGeneration"),
    ("moonshotai/Kimi-Linear", "KimiLinearForCausalLM"),
    ("tiiuae/Falcon-H1-7B", "FalconH1ForCausalLM"), ("tiiuae/falcon-40b", "FalconForCausalLM"),
    ("deepseek-ai/DeepSeek-V3", "DeepseekV3ForCausalLM"), ("deepseek-ai/DeepSeek-R1", "DeepseekV2ForCausalLM"),
    ("THUDM/glm-4-9b", "Glm4ForCausalLM"), ("THUDM/chatglm3-6b", "ChatGLMModel"),
    ("nvidia/Nemotron-Mini", "NemotronForCausalLM"), ("ibm/granite-3b", "GraniteForCausalLM"),
    ("allenai/OLMo-2-7B", "Olmo2ForCausalLM"), ("allenai/OLMo-7B", "OlmoForCausalLM"),
    ("internlm/internlm3-8b", "InternLM3ForCausalLM"), ("internlm/internlm2-7b", "InternLM2ForCausalLM"),
    ("CohereForAI/cohere2-x", "Cohere2ForCausalLM"), ("CohereForAI/c4ai-command-r-v01", "CohereForCausalLM"),
    ("xai-org/grok-1", "Grok1ForCausalLM"), ("ai21labs/Jamba-v0.1", "JambaForCausalLM"),
    ("openbmb/MiniCPM-2B", "MiniCPMForCausalLM"), ("LGAI/EXAONE-3.5", "ExaoneForCausalLM"),
    ("bigcode/starcoder2-7b", "Starcoder2ForCausalLM"), ("openai/gpt-oss-20b", "GptOssForCausalLM"),
])
def test_architecture_guessed_from_the_id(model_id, architecture):
    assert c.infer_architecture(model_id) == architecture


def test_no_guess_inside_a_word():
    # Most names must start a word: "codegemma" is not Gemma, "alphi" is not Phi.
    assert c.infer_architecture("google/codegemma-7b") is None
    assert c.infer_architecture("someone/alphi-model") is None
    assert c.infer_architecture("someone/bert-base") is None


@pytest.mark.parametrize(("name", "count"), [
    ("meta-llama/Llama-3.1-8B-Instruct", 8_000_000_000), ("Qwen/Qwen3-0.6B", 600_000_000),
    ("facebook/opt-125m", 125_000_000), ("x/model-7billion", 7_000_000_000), ("x/model_1.5b", 1_500_000_000),
    ("x/Mixtral-8x7B", None), ("x/nothing-here", None), ("x/model-0B-350M", 350_000_000),
    ("x/huge-20000B", None),
])
def test_parameters_from_the_name(name, count):
    assert c.parameters_from_name(name) == count


def test_gpu_memory():
    assert c.estimate_gpu_memory_gb(8e9) == 18  # 8e9 × 2 bytes × 1.2 = 17.9 GiB
    assert c.estimate_gpu_memory_gb(70e9) == 157
    assert c.estimate_gpu_memory_gb(1) == 1
    assert c.parse_gpu_memory("16GB") == 16 and c.parse_gpu_memory("8192MB") == 8
    assert c.parse_gpu_memory("1TB") == 1024 and c.parse_gpu_memory("24") == 24
    assert c.parse_gpu_memory("lots") is None


def test_a_servable_model():
    described = c.describe_model(hub_model(
        "Qwen/Qwen3-8B", pipeline_tag="text-generation", library_name="transformers",
        config={"architectures": ["Qwen3ForCausalLM"]}, safetensors={"total": 8_190_735_360}, gated=False))
    assert described == {
        "id": "Qwen/Qwen3-8B", "author": "Qwen", "name": "Qwen3-8B", "downloads": 10, "likes": 2,
        "pipelineTag": "text-generation", "libraryName": "transformers", "architectures": ["Qwen3ForCausalLM"],
        "gated": False, "parameterCount": 8_190_735_360, "estimatedGpuMemory": "19GB", "estimatedGpuMemoryGb": 19,
        "supportedEngines": ["vllm", "sglang", "trtllm"], "compatible": True}


def test_sizes_from_safetensors_then_the_name():
    by_dtype = c.describe_model(hub_model("a/b-3B", safetensors={"parameters": {"BF16": 1_000_000, "F32": 500}}))
    assert by_dtype["parameterCount"] == 1_000_500
    from_name = c.describe_model(hub_model("a/b-3B", safetensors={"parameters": {}}))
    assert from_name["parameterCount"] == 3_000_000_000
    unknown = c.describe_model(hub_model("a/b"))
    assert "parameterCount" not in unknown and "estimatedGpuMemoryGb" not in unknown


def test_gated_model_without_metadata_is_inferred():
    described = c.describe_model(hub_model("meta-llama/Llama-3.1-8B-Instruct", gated="manual"))
    assert described["gated"] is True and described["compatible"] is True
    assert described["architectures"] == ["LlamaForCausalLM"] and described["pipelineTag"] == ""
    assert described["libraryName"] == "" and described["estimatedGpuMemoryGb"] == 18
    assert c.describe_model(hub_model("x/y", gated="auto"))["gated"] is True
    assert c.describe_model(hub_model("x/y", gated=False))["gated"] is False


def test_gguf_repositories_are_for_llama_cpp():
    by_library = c.describe_model(hub_model("someone/model", library_name="gguf", pipeline_tag="text-generation"))
    by_name = c.describe_model(hub_model("bartowski/Qwen3-8B-GGUF", library_name="transformers"))
    for described in (by_library, by_name):
        assert described["supportedEngines"] == ["llamacpp"] and described["compatible"] is True


def test_a_name_without_an_owner():
    described = c.describe_model(hub_model("gpt2", pipeline_tag="text-generation", library_name="transformers",
                                           config={"architectures": ["GPT2LMHeadModel"]}))
    assert described["author"] == "gpt2" and described["name"] == "gpt2"


@pytest.mark.parametrize(("fields", "reason"), [
    ({}, "Model has no pipeline tag"),
    ({"pipeline_tag": "text-classification"}, 'Pipeline tag "text-classification" is not supported for inference'),
    ({"pipeline_tag": "text-generation", "library_name": "mlx"}, 'Library "mlx" is not supported'),
    ({"pipeline_tag": "text-generation", "library_name": "transformers"}, "Model architecture is unknown"),
    ({"pipeline_tag": "text-generation", "config": {"architectures": ["BertModel"]}},
     'Architecture "BertModel" is not supported by any engine'),
])
def test_reasons_a_model_is_left_out(fields, reason):
    described = c.describe_model(hub_model("someone/mystery", **fields))
    assert described["compatible"] is False and described["incompatibilityReason"] == reason


def test_repository_ids():
    for good in ("gpt2", "Qwen/Qwen3-8B", "a.b_c-d/e.f", "x" * 96):
        assert c.valid_repo_id(good), good
    for bad in ("", "a/b/c", "../x", "a/..", ".", "a b", "a?b", "x" * 97, "a//b", "/a"):
        assert not c.valid_repo_id(bad), bad
