"""Which inference engines can serve a HuggingFace model, from its architecture, and how big it is.

The architecture lists name the HuggingFace ``architectures`` each engine is known to serve (vLLM, SGLang and
TensorRT-LLM from their supported-model lists, llama.cpp from the architectures its GGUF converter takes). A model
without ``config.architectures`` gets one inferred from its id. GGUF repositories are for llama.cpp only.
"""

from __future__ import annotations

import math
import re
from typing import Any

ENGINES = ("vllm", "sglang", "trtllm", "llamacpp")

_COMMON = {
    # served by all four engines
    "LlamaForCausalLM", "MistralForCausalLM", "MixtralForCausalLM", "Qwen2ForCausalLM", "Qwen2MoeForCausalLM",
    "Qwen3ForCausalLM", "Qwen3MoeForCausalLM", "Gemma2ForCausalLM", "Gemma3ForCausalLM", "Phi3ForCausalLM",
    "DeepseekV2ForCausalLM", "DeepseekV3ForCausalLM", "GPTNeoXForCausalLM", "FalconForCausalLM",
    "NemotronForCausalLM", "ExaoneForCausalLM", "Starcoder2ForCausalLM", "GptOssForCausalLM", "CohereForCausalLM",
    "Gemma3ForConditionalGeneration", "Qwen2VLForConditionalGeneration", "Qwen2_5_VLForConditionalGeneration",
    "Phi3VForCausalLM", "GemmaForCausalLM", "InternLM2ForCausalLM", "GraniteForCausalLM", "BaichuanForCausalLM",
    "ChatGLMModel", "GPT2LMHeadModel", "GPTJForCausalLM", "MllamaForConditionalGeneration",
    "LlavaForConditionalGeneration", "Llama4ForConditionalGeneration", "Glm4ForCausalLM",
}

_VLLM_ONLY_OR_SHARED = {
    "Llama4ForCausalLM", "Ministral3ForCausalLM", "MistralLarge3ForCausalLM", "Mistral3ForConditionalGeneration",
    "Qwen3_5ForConditionalGeneration", "Qwen3_5MoeForConditionalGeneration", "Qwen3NextForCausalLM",
    "Qwen3VLForConditionalGeneration", "Qwen3VLMoeForConditionalGeneration", "Gemma3nForConditionalGeneration",
    "Gemma3nForCausalLM", "PhiForCausalLM", "Phi4MMForCausalLM", "PhiMoEForCausalLM", "Phi4FlashForCausalLM",
    "KimiK25ForConditionalGeneration", "KimiLinearForCausalLM", "KimiVLForConditionalGeneration", "FalconH1ForCausalLM",
    "FalconMambaForCausalLM", "DeepseekForCausalLM", "DeepseekVLV2ForCausalLM", "Glm4MoeForCausalLM",
    "Glm4vForConditionalGeneration", "GlmForCausalLM", "GraniteMoeForCausalLM", "GraniteMoeHybridForCausalLM",
    "GraniteMoeSharedForCausalLM", "Olmo2ForCausalLM", "OlmoForCausalLM", "OlmoeForCausalLM", "Olmo3ForCausalLM",
    "InternLM3ForCausalLM", "InternLMForCausalLM", "InternVLChatModel", "Cohere2ForCausalLM", "Grok1ModelForCausalLM",
    "Grok1ForCausalLM", "JambaForCausalLM", "MiniCPMForCausalLM", "MiniCPM3ForCausalLM", "MiniCPMV",
    "Exaone4ForCausalLM", "ExaoneMoEForCausalLM", "ArceeForCausalLM", "AquilaForCausalLM", "ArcticForCausalLM",
    "BailingMoeForCausalLM", "BambaForCausalLM", "BloomForCausalLM", "DbrxForCausalLM", "Dots1ForCausalLM",
    "Ernie4_5ForCausalLM", "Ernie4_5_MoeForCausalLM", "GPTBigCodeForCausalLM", "HunYuanDenseV1ForCausalLM",
    "HunYuanMoEV1ForCausalLM", "MambaForCausalLM", "Mamba2ForCausalLM", "MiniMaxM1ForCausalLM",
    "MiniMaxText01ForCausalLM", "MiniMaxM2ForCausalLM", "MPTForCausalLM", "NemotronHForCausalLM",
    "OPTForCausalLM", "OrionForCausalLM", "PersimmonForCausalLM", "Plamo2ForCausalLM", "QWenLMHeadModel",
    "SeedOssForCausalLM", "SolarForCausalLM", "StableLmForCausalLM", "Step3TextForCausalLM",
    "TeleChat2ForCausalLM", "XverseForCausalLM", "Zamba2ForCausalLM", "LagunaForCausalLM", "LongcatFlashForCausalLM",
    "AriaForConditionalGeneration", "AyaVisionForConditionalGeneration", "Blip2ForConditionalGeneration",
    "ChameleonForConditionalGeneration", "FuyuForCausalLM", "H2OVLChatModel", "Idefics3ForConditionalGeneration",
    "LlavaNextForConditionalGeneration", "LlavaOnevisionForConditionalGeneration", "MolmoForCausalLM",
    "PaliGemmaForConditionalGeneration", "PixtralForConditionalGeneration", "SmolVLMForConditionalGeneration",
    "Qwen2AudioForConditionalGeneration", "Qwen2_5OmniForConditionalGeneration", "HCXVisionForCausalLM",
    "Ovis", "Step3VLForConditionalGeneration", "MiDashengLMModel", "Llama_Nemotron_Nano_VL",
    "NemotronH_Nano_VL_V2", "DeepseekV32ForCausalLM", "GlmMoeDsaForCausalLM", "BaiChuanForCausalLM",
    "Qwen3OmniMoeForConditionalGeneration", "Ernie4_5_VLMoeForConditionalGeneration",
}

_SGLANG_EXTRA = {
    "Llama4ForCausalLM", "Qwen3NextForCausalLM", "Qwen3VLForConditionalGeneration", "Qwen3VLMoeForConditionalGeneration",
    "Qwen3_5ForConditionalGeneration", "Qwen3_5MoeForConditionalGeneration", "Gemma3nForConditionalGeneration",
    "Gemma3nForCausalLM", "PhiForCausalLM", "Phi4MMForCausalLM", "PhiMoEForCausalLM", "KimiVLForConditionalGeneration",
    "KimiK25ForConditionalGeneration", "DeepseekVLV2ForCausalLM", "Glm4MoeForCausalLM", "Glm4vForConditionalGeneration",
    "GraniteMoeForCausalLM", "GraniteMoeHybridForCausalLM", "Olmo2ForCausalLM", "OlmoForCausalLM", "OlmoeForCausalLM",
    "InternLM3ForCausalLM", "InternVLChatModel", "Cohere2ForCausalLM", "Grok1ModelForCausalLM", "Grok1ForCausalLM",
    "MiniCPMForCausalLM", "MiniCPM3ForCausalLM", "MiniCPMV", "Exaone4ForCausalLM", "ArceeForCausalLM",
    "BailingMoeForCausalLM", "DbrxForCausalLM", "Dots1ForCausalLM", "Ernie4_5ForCausalLM", "Ernie4_5_MoeForCausalLM",
    "GPTBigCodeForCausalLM", "HunYuanMoEV1ForCausalLM", "MiniMaxM2ForCausalLM", "NemotronHForCausalLM",
    "StableLmForCausalLM", "XverseForCausalLM", "LlavaNextForConditionalGeneration",
    "LlavaOnevisionForConditionalGeneration", "PixtralForConditionalGeneration", "Mistral3ForConditionalGeneration",
    "Qwen2AudioForConditionalGeneration", "Qwen2_5OmniForConditionalGeneration", "SmolVLMForConditionalGeneration",
    "Step3VLForConditionalGeneration", "FalconH1ForCausalLM", "SeedOssForCausalLM", "QWenLMHeadModel",
    "DeepseekForCausalLM", "DeepseekV32ForCausalLM", "LongcatFlashForCausalLM", "Qwen3OmniMoeForConditionalGeneration",
    "Ministral3ForCausalLM", "MistralLarge3ForCausalLM",
}

_TRTLLM_EXTRA = {
    "Llama4ForCausalLM", "Qwen3NextForCausalLM", "PhiForCausalLM", "Phi4MMForCausalLM", "Gemma3nForCausalLM",
    "NemotronHForCausalLM", "Exaone4ForCausalLM", "BloomForCausalLM", "DbrxForCausalLM", "MPTForCausalLM",
    "OPTForCausalLM", "GPTBigCodeForCausalLM",
}

_TRTLLM_EXCLUDED = {"JambaForCausalLM", "ChatGLMModel", "BaichuanForCausalLM", "Glm4ForCausalLM", "GPTJForCausalLM"}

_LLAMACPP_EXTRA = {
    "Llama4ForCausalLM", "PhiForCausalLM", "PhiMoEForCausalLM", "Gemma3nForConditionalGeneration",
    "Gemma3nForCausalLM", "Qwen3NextForCausalLM", "JambaForCausalLM", "Olmo2ForCausalLM", "OlmoForCausalLM",
    "OlmoeForCausalLM", "InternLM3ForCausalLM", "Cohere2ForCausalLM", "Grok1ForCausalLM", "MiniCPMForCausalLM",
    "MiniCPM3ForCausalLM", "MiniCPMV", "BloomForCausalLM", "DbrxForCausalLM", "MPTForCausalLM", "GPTBigCodeForCausalLM",
    "MambaForCausalLM", "Mamba2ForCausalLM", "StableLmForCausalLM", "OrionForCausalLM", "PersimmonForCausalLM",
    "ArcticForCausalLM", "BailingMoeForCausalLM", "BambaForCausalLM", "Dots1ForCausalLM", "Ernie4_5ForCausalLM",
    "Ernie4_5_MoeForCausalLM", "FalconH1ForCausalLM", "Glm4MoeForCausalLM", "GraniteMoeForCausalLM",
    "GraniteMoeHybridForCausalLM", "GraniteMoeSharedForCausalLM", "HunYuanMoEV1ForCausalLM", "HunYuanDenseV1ForCausalLM",
    "NemotronHForCausalLM", "Plamo2ForCausalLM", "SeedOssForCausalLM", "Exaone4ForCausalLM", "ArceeForCausalLM",
    "Mistral3ForConditionalGeneration", "Ministral3ForCausalLM", "KimiVLForConditionalGeneration", "GlmForCausalLM",
    "LlavaNextForConditionalGeneration", "Qwen2_5OmniForConditionalGeneration", "SmolVLMForConditionalGeneration",
    "Idefics3ForConditionalGeneration", "PixtralForConditionalGeneration", "QWenLMHeadModel", "XverseForCausalLM",
    "Qwen3VLForConditionalGeneration", "Qwen3VLMoeForConditionalGeneration",
}
_LLAMACPP_EXCLUDED = {"MllamaForConditionalGeneration", "Llama4ForConditionalGeneration", "ChatGLMModel"}

ARCHITECTURES: dict[str, frozenset[str]] = {
    "vllm": frozenset(_COMMON | _VLLM_ONLY_OR_SHARED),
    "sglang": frozenset(_COMMON | _SGLANG_EXTRA),
    "trtllm": frozenset((_COMMON | _TRTLLM_EXTRA) - _TRTLLM_EXCLUDED),
    "llamacpp": frozenset((_COMMON | _LLAMACPP_EXTRA) - _LLAMACPP_EXCLUDED),
}

# The architecture a model id suggests when its config does not say; the first match wins.
ID_ARCHITECTURES = [(re.compile(p, re.I), a) for p, a in (
    (r"llama[-_]?4", "Llama4ForCausalLM"), (r"llama[-_]?3|llama[-_]?2|llama", "LlamaForCausalLM"),
    (r"mixtral", "MixtralForCausalLM"), (r"ministral", "Ministral3ForCausalLM"),
    (r"mistral[-_]?large", "MistralLarge3ForCausalLM"), (r"mistral", "MistralForCausalLM"),
    (r"qwen[-_]?3[._]5", "Qwen3_5ForConditionalGeneration"), (r"qwen[-_]?3.*moe|qwen[-_]?3.*-a\d+b", "Qwen3MoeForCausalLM"),
    (r"qwen[-_]?3", "Qwen3ForCausalLM"), (r"qwen[-_]?2.*moe", "Qwen2MoeForCausalLM"), (r"qwen", "Qwen2ForCausalLM"),
    (r"gemma[-_]?3n", "Gemma3nForConditionalGeneration"), (r"gemma[-_]?3", "Gemma3ForCausalLM"),
    (r"gemma[-_]?2", "Gemma2ForCausalLM"), (r"gemma", "GemmaForCausalLM"), (r"phi[-_]?4", "Phi4MMForCausalLM"),
    (r"phi[-_]?3", "Phi3ForCausalLM"), (r"phi", "PhiForCausalLM"), (r"kimi[-_]?k2", "KimiK25ForConditionalGeneration"),
    (r"kimi", "KimiLinearForCausalLM"), (r"falcon[-_]?h", "FalconH1ForCausalLM"), (r"falcon", "FalconForCausalLM"),
    (r"deepseek[-_]?v3|deepseek[-_]?r1", "DeepseekV3ForCausalLM"), (r"deepseek", "DeepseekV2ForCausalLM"),
    (r"glm[-_]?4", "Glm4ForCausalLM"), (r"chatglm", "ChatGLMModel"), (r"nemotron", "NemotronForCausalLM"),
    (r"granite", "GraniteForCausalLM"), (r"olmo[-_]?2", "Olmo2ForCausalLM"), (r"olmo", "OlmoForCausalLM"),
    (r"internlm[-_]?3", "InternLM3ForCausalLM"), (r"internlm", "InternLM2ForCausalLM"),
    (r"cohere[-_]?2|command[-_]?a", "Cohere2ForCausalLM"), (r"cohere|command[-_]?r", "CohereForCausalLM"),
    (r"grok", "Grok1ForCausalLM"), (r"jamba", "JambaForCausalLM"), (r"minicpm", "MiniCPMForCausalLM"),
    (r"exaone", "ExaoneForCausalLM"), (r"starcoder", "Starcoder2ForCausalLM"), (r"gpt[-_]?oss", "GptOssForCausalLM"),
)]

PIPELINES = {"text-generation", "text2text-generation", "conversational", "image-text-to-text"}
LIBRARIES = {"transformers", "vllm"}
PARAMS_B = re.compile(r"(?:^|[-_./])(\d+(?:\.\d+)?)\s*[Bb](?:$|[-_./]|illion)?")
PARAMS_M = re.compile(r"(?:^|[-_./])(\d+(?:\.\d+)?)\s*[Mm](?:$|[-_./]|illion)?")
REPO_SEGMENT = re.compile(r"^[A-Za-z0-9._-]{1,96}$")


def valid_repo_id(repo_id: str) -> bool:
    """``org/name`` or ``name``: each part 1–96 of letters, digits, ``.``, ``_`` and ``-``, and not ``.`` or ``..``."""
    parts = repo_id.split("/") if isinstance(repo_id, str) else []
    return 1 <= len(parts) <= 2 and all(REPO_SEGMENT.match(p) and p not in (".", "..") for p in parts)


def infer_architecture(model_id: str) -> str | None:
    return next((arch for pattern, arch in ID_ARCHITECTURES if pattern.search(model_id)), None)


def engines_for(architectures: list[str], gguf: bool) -> list[str]:
    if gguf:
        return ["llamacpp"]
    return [e for e in ENGINES if e != "llamacpp" and any(a in ARCHITECTURES[e] for a in architectures)]


def parameters_from_name(name: str) -> int | None:
    """The parameter count a model's name gives (``8B``, ``0.6B``, ``135M``)."""
    for pattern, scale in ((PARAMS_B, 1e9), (PARAMS_M, 1e6)):
        for found in pattern.finditer(name):
            value = float(found.group(1))
            if 0 < value < 10000:
                return int(value * scale)
    return None


def estimate_gpu_memory_gb(parameters: int | float) -> int:
    """GPU memory to serve the weights at 16 bits with 20% headroom, in GiB, rounded up."""
    return math.ceil(parameters * 2 * 1.2 / 2**30)


def parse_gpu_memory(text: str) -> float | None:
    """``16GB``, ``8192MB``, ``1TB`` or ``24`` (GB) in GB."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(GB|MB|TB)?\s*", str(text or ""), re.I)
    if not found:
        return None
    value, unit = float(found.group(1)), (found.group(2) or "GB").upper()
    return value / 1024 if unit == "MB" else value * 1024 if unit == "TB" else value


def _parameter_count(model: dict[str, Any]) -> int | None:
    safetensors = model.get("safetensors") or {}
    total = safetensors.get("total")
    if isinstance(total, (int, float)) and total > 0:
        return int(total)
    by_dtype = safetensors.get("parameters")
    if isinstance(by_dtype, dict):
        summed = sum(v for v in by_dtype.values() if isinstance(v, (int, float)))
        if summed > 0:
            return int(summed)
    return parameters_from_name(str(model.get("id") or model.get("modelId") or ""))


def describe_model(model: dict[str, Any]) -> dict[str, Any]:
    """A Hub model (as ``/api/models`` lists it) with its engines, size and whether AI Runway can serve it."""
    model_id = str(model.get("id") or model.get("modelId") or "")
    config = model.get("config") if isinstance(model.get("config"), dict) else {}
    architectures = [a for a in config.get("architectures") or [] if isinstance(a, str)]
    if not architectures and (inferred := infer_architecture(model_id)):
        architectures = [inferred]
    library = model.get("library_name") or ""
    pipeline = model.get("pipeline_tag")
    gguf = library == "gguf" or "gguf" in model_id.lower()
    engines = engines_for(architectures, gguf)
    compatible = bool(engines) and (
        (pipeline in PIPELINES and library in LIBRARIES | {"gguf", ""}) or bool(architectures) or gguf)
    reason = None
    if not compatible:
        if not pipeline:
            reason = "Model has no pipeline tag"
        elif pipeline not in PIPELINES:
            reason = f'Pipeline tag "{pipeline}" is not supported for inference'
        elif library and library not in LIBRARIES | {"gguf"}:
            reason = f'Library "{library}" is not supported'
        elif not architectures:
            reason = "Model architecture is unknown"
        else:
            reason = f'Architecture "{architectures[0]}" is not supported by any engine'
    parameters = _parameter_count(model)
    author, _, name = model_id.partition("/")
    gated = model.get("gated")
    out: dict[str, Any] = {
        "id": model_id, "author": author if name else "unknown", "name": name or model_id,
        "downloads": model.get("downloads") or 0, "likes": model.get("likes") or 0, "pipelineTag": pipeline,
        "libraryName": library or None, "architectures": architectures,
        "gated": gated is True or gated in ("auto", "manual"), "parameterCount": parameters,
        "supportedEngines": engines, "compatible": compatible,
    }
    if parameters:
        memory = estimate_gpu_memory_gb(parameters)
        out |= {"estimatedGpuMemory": f"{memory}GB", "estimatedGpuMemoryGb": memory}
    if reason:
        out["incompatibilityReason"] = reason
    return {k: v for k, v in out.items() if v is not None}
