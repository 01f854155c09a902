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


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# HuggingFace architectures each engine is known to serve (upstream's verified lists, March 2026). llama.cpp's list
# is what its GGUF converter takes; it only matters for GGUF repositories, which are for llama.cpp alone.
ARCHITECTURES: dict[str, frozenset[str]] = {
    "vllm": _names("""
        AfmoeForCausalLM ArceeForCausalLM ArcticForCausalLM BaiChuanForCausalLM BaichuanForCausalLM
        BailingMoeForCausalLM BailingMoeV2ForCausalLM BambaForCausalLM BloomForCausalLM ChatGLMForConditionalGeneration
        ChatGLMModel Cohere2ForCausalLM Cohere2VisionForConditionalGeneration CohereForCausalLM DbrxForCausalLM
        DeciLMForCausalLM DeepseekForCausalLM DeepseekV2ForCausalLM DeepseekV32ForCausalLM DeepseekV3ForCausalLM
        DeepseekVLV2ForCausalLM Dots1ForCausalLM Ernie4_5ForCausalLM Ernie4_5_MoeForCausalLM Exaone4ForCausalLM
        ExaoneForCausalLM ExaoneMoEForCausalLM FalconForCausalLM FalconH1ForCausalLM FalconMambaForCausalLM
        GLM4VForCausalLM GPT2LMHeadModel GPTBigCodeForCausalLM GPTJForCausalLM GPTNeoForCausalLM GPTNeoXForCausalLM
        Gemma2ForCausalLM Gemma3ForCausalLM Gemma3ForConditionalGeneration Gemma3nForCausalLM
        Gemma3nForConditionalGeneration GemmaForCausalLM Glm4ForCausalLM Glm4MoeForCausalLM Glm4MoeLiteForCausalLM
        GlmMoeDsaForCausalLM GptOssForCausalLM GraniteForCausalLM GraniteMoeForCausalLM GraniteMoeHybridForCausalLM
        GraniteMoeSharedForCausalLM Grok1ForCausalLM Grok1ModelForCausalLM HunYuanDenseV1ForCausalLM
        HunYuanMoEV1ForCausalLM InternLM2ForCausalLM InternLM3ForCausalLM InternLMForCausalLM InternVLChatModel
        JambaForCausalLM KimiK25ForConditionalGeneration KimiLinearForCausalLM KimiVLForConditionalGeneration
        LagunaForCausalLM Lfm2ForCausalLM Lfm2MoeForCausalLM Llama4ForCausalLM Llama4ForConditionalGeneration
        LlamaForCausalLM LongcatFlashForCausalLM MPTForCausalLM MambaForCausalLM Mamba2ForCausalLM MiMoForCausalLM
        MiMoV2FlashForCausalLM MiniCPM3ForCausalLM MiniCPMForCausalLM MiniMaxForCausalLM MiniMaxM2ForCausalLM
        Ministral3ForCausalLM Mistral3ForConditionalGeneration MistralForCausalLM MistralLarge3ForCausalLM
        MixtralForCausalLM MoonshotKimiaForCausalLM MptForCausalLM NemotronForCausalLM NemotronHForCausalLM
        OPTForCausalLM Olmo2ForCausalLM Olmo3ForCausalLM OlmoForCausalLM OlmoeForCausalLM OrionForCausalLM
        PersimmonForCausalLM Phi3ForCausalLM Phi4MMForCausalLM PhiForCausalLM PhiMoEForCausalLM Plamo2ForCausalLM
        Plamo3ForCausalLM QWenLMHeadModel Qwen2ForCausalLM Qwen2MoeForCausalLM Qwen2_5_VLForConditionalGeneration
        Qwen3ForCausalLM Qwen3MoeForCausalLM Qwen3NextForCausalLM Qwen3VLForConditionalGeneration
        Qwen3VLMoeForConditionalGeneration Qwen3_5ForConditionalGeneration Qwen3_5MoeForConditionalGeneration
        SarvamMLAForCausalLM SarvamMoEForCausalLM SeedOssForCausalLM SolarForCausalLM StableLmForCausalLM
        Starcoder2ForCausalLM Step3p5ForCausalLM TeleChat2ForCausalLM TeleFLMForCausalLM XverseForCausalLM
        Zamba2ForCausalLM
    """),
    "sglang": _names("""
        AfmoeForCausalLM ArceeForCausalLM BaichuanForCausalLM BailingMoeForCausalLM BailingMoeV2ForCausalLM
        ChatGLMModel Cohere2ForCausalLM CohereForCausalLM DbrxForCausalLM DeepseekV2ForCausalLM DeepseekV32ForCausalLM
        DeepseekV3ForCausalLM Exaone4ForCausalLM ExaoneForCausalLM ExaoneMoEForCausalLM FalconH1ForCausalLM
        GPT2LMHeadModel GPTBigCodeForCausalLM GPTJForCausalLM GPTNeoXForCausalLM Gemma2ForCausalLM Gemma3ForCausalLM
        Gemma3ForConditionalGeneration Gemma3nForCausalLM GemmaForCausalLM Glm4ForCausalLM Glm4MoeForCausalLM
        Glm4MoeLiteForCausalLM GlmMoeDsaForCausalLM GptOssForCausalLM GraniteForCausalLM GraniteMoeForCausalLM
        GraniteMoeHybridForCausalLM Grok1ForCausalLM Grok1ModelForCausalLM HunYuanDenseV1ForCausalLM
        HunYuanMoEV1ForCausalLM InternLM2ForCausalLM InternLM3ForCausalLM KimiK25ForConditionalGeneration
        KimiLinearForCausalLM Lfm2ForCausalLM Llama4ForCausalLM LlamaForCausalLM LongcatFlashForCausalLM
        MiMoForCausalLM MiMoV2FlashForCausalLM MiniCPM3ForCausalLM MiniCPMForCausalLM Ministral3ForCausalLM
        Mistral3ForConditionalGeneration MistralForCausalLM MistralLarge3ForCausalLM MixtralForCausalLM
        NemotronHForCausalLM OPTForCausalLM Olmo2ForCausalLM OlmoForCausalLM OlmoeForCausalLM OrionForCausalLM
        PersimmonForCausalLM Phi3ForCausalLM Phi4MMForCausalLM PhiForCausalLM PhiMoEForCausalLM QWenLMHeadModel
        Qwen2ForCausalLM Qwen2MoeForCausalLM Qwen3ForCausalLM Qwen3MoeForCausalLM Qwen3VLForConditionalGeneration
        Qwen3_5ForConditionalGeneration Qwen3_5MoeForConditionalGeneration SarvamMLAForCausalLM SarvamMoEForCausalLM
        SolarForCausalLM StableLmForCausalLM Starcoder2ForCausalLM Step3p5ForCausalLM TeleFLMForCausalLM
        XverseForCausalLM
    """),
    "trtllm": _names("""
        ArcticForCausalLM BaiChuanForCausalLM BaichuanForCausalLM BloomForCausalLM ChatGLMForCausalLM
        ChatGLMForConditionalGeneration ChatGLMModel CohereForCausalLM DbrxForCausalLM DeciLMForCausalLM
        DeepseekForCausalLM DeepseekV2ForCausalLM ExaoneForCausalLM FalconForCausalLM GPT2LMHeadModel
        GPTBigCodeForCausalLM GPTJForCausalLM GPTNeoXForCausalLM GemmaForCausalLM GraniteForCausalLM
        GraniteMoeForCausalLM Grok1ModelForCausalLM InternLM2ForCausalLM InternLMForCausalLM JAISLMHeadModel
        LlamaForCausalLM MPTForCausalLM MambaForCausalLM MistralForCausalLM MixtralForCausalLM MptForCausalLM
        NemotronForCausalLM OPTForCausalLM Phi3ForCausalLM Phi4MMForCausalLM PhiForCausalLM PhiMoEForCausalLM
        QWenForCausalLM QWenLMHeadModel Qwen2ForCausalLM Qwen2MoeForCausalLM Qwen3ForCausalLM Qwen3MoeForCausalLM
        RecurrentGemmaForCausalLM Starcoder2ForCausalLM
    """),
    "llamacpp": _names("""
        AfmoeForCausalLM ArceeForCausalLM ArcticForCausalLM BaichuanForCausalLM BailingMoeForCausalLM BloomForCausalLM
        ChatGLMModel Cohere2ForCausalLM CohereForCausalLM DbrxForCausalLM DeepseekForCausalLM DeepseekV2ForCausalLM
        Dots1ForCausalLM Ernie4_5ForCausalLM Ernie4_5_MoeForCausalLM Exaone4ForCausalLM ExaoneForCausalLM
        FalconForCausalLM FalconH1ForCausalLM GPT2LMHeadModel GPTNeoForCausalLM GPTNeoXForCausalLM Gemma2ForCausalLM
        Gemma3ForCausalLM Gemma3nForCausalLM GemmaForCausalLM Glm4ForCausalLM Glm4MoeForCausalLM GptOssForCausalLM
        GraniteForCausalLM GraniteMoeForCausalLM HunYuanDenseV1ForCausalLM HunYuanMoEV1ForCausalLM
        InternLM2ForCausalLM InternLMForCausalLM JambaForCausalLM KimiLinearForCausalLM Lfm2ForCausalLM
        Lfm2MoeForCausalLM Llama4ForCausalLM LlamaForCausalLM MPTForCausalLM MambaForCausalLM Mamba2ForCausalLM
        MiMoV2FlashForCausalLM MiniCPM3ForCausalLM MiniCPMForCausalLM MiniMaxM2ForCausalLM
        Mistral3ForConditionalGeneration MistralForCausalLM MixtralForCausalLM MptForCausalLM NemotronForCausalLM
        NemotronHForCausalLM Olmo2ForCausalLM OlmoForCausalLM OlmoeForCausalLM Phi3ForCausalLM PhiForCausalLM
        PhiMoEForCausalLM Plamo2ForCausalLM Plamo3ForCausalLM QWenLMHeadModel Qwen2ForCausalLM Qwen2MoeForCausalLM
        Qwen3ForCausalLM Qwen3MoeForCausalLM SeedOssForCausalLM StableLmForCausalLM Starcoder2ForCausalLM
        Step3p5ForCausalLM
    """),
}

# The architecture a model id suggests when the Hub gives none (gated models without a token); the first match
# wins, so the more specific names come first.
ID_ARCHITECTURES = [(re.compile(p, re.I), a) for p, a in (
    (r"llama[-_]?4", "Llama4ForCausalLM"), (r"llama", "LlamaForCausalLM"),
    (r"\bmixtral", "MixtralForCausalLM"), (r"\bministral", "Ministral3ForCausalLM"),
    (r"\bmistral[-_]?large", "MistralLarge3ForCausalLM"), (r"\bmistral", "MistralForCausalLM"),
    (r"\bqwen[-_.]?3[-_.]?5", "Qwen3_5ForConditionalGeneration"), (r"\bqwen[-_]?3.*moe", "Qwen3MoeForCausalLM"),
    (r"\bqwen[-_]?3", "Qwen3ForCausalLM"), (r"\bqwen[-_]?2.*moe", "Qwen2MoeForCausalLM"),
    (r"\bqwen", "Qwen2ForCausalLM"),
    (r"\bgemma[-_]?3n", "Gemma3nForCausalLM"), (r"\bgemma[-_]?3", "Gemma3ForCausalLM"),
    (r"\bgemma[-_]?2(?:-|$)|\bgemma2\b", "Gemma2ForCausalLM"), (r"\bgemma\b", "GemmaForCausalLM"),
    (r"\bphi[-_]?4", "Phi4MMForCausalLM"), (r"\bphi[-_]?3", "Phi3ForCausalLM"), (r"\bphi", "PhiForCausalLM"),
    (r"\bkimi[-_]?k2", "KimiK25ForConditionalGeneration"), (r"\bkimi", "KimiLinearForCausalLM"),
    (r"\bfalcon[-_]?h", "FalconH1ForCausalLM"), (r"\bfalcon", "FalconForCausalLM"),
    (r"\bdeepseek[-_]?v3", "DeepseekV3ForCausalLM"), (r"\bdeepseek", "DeepseekV2ForCausalLM"),
    (r"\bglm[-_]?4", "Glm4ForCausalLM"), (r"\bchatglm", "ChatGLMModel"), (r"\bnemotron", "NemotronForCausalLM"),
    (r"\bgranite", "GraniteForCausalLM"), (r"\bolmo[-_]?2", "Olmo2ForCausalLM"), (r"\bolmo", "OlmoForCausalLM"),
    (r"\binternlm[-_]?3", "InternLM3ForCausalLM"), (r"\binternlm", "InternLM2ForCausalLM"),
    (r"\bcohere[-_]?2", "Cohere2ForCausalLM"), (r"\bcohere\b|command[-_]?r", "CohereForCausalLM"),
    (r"\bgrok", "Grok1ForCausalLM"), (r"\bjamba", "JambaForCausalLM"), (r"\bminicpm", "MiniCPMForCausalLM"),
    (r"\bexaone", "ExaoneForCausalLM"), (r"\bstarcoder", "Starcoder2ForCausalLM"),
    (r"\bgpt[-_]?oss", "GptOssForCausalLM"),
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
    """The parameter count a model's name gives (``8B``, ``0.6B``, ``135M``): the first size in billions, else the
    first in millions, when it is a plausible one."""
    for pattern, scale in ((PARAMS_B, 1e9), (PARAMS_M, 1e6)):
        found = pattern.search(name)
        if found and 0 < (value := float(found.group(1))) < 10000:
            return round(value * scale)
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
    library = model.get("library_name") if isinstance(model.get("library_name"), str) else ""
    pipeline = model.get("pipeline_tag") if isinstance(model.get("pipeline_tag"), str) else ""
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
    author, *rest = model_id.split("/")
    gated = model.get("gated")
    out: dict[str, Any] = {
        "id": model_id, "author": author or "unknown", "name": "/".join(rest) or model_id,
        "downloads": model.get("downloads") or 0, "likes": model.get("likes") or 0, "pipelineTag": pipeline,
        "libraryName": library, "architectures": architectures,
        "gated": gated is True or gated in ("auto", "manual"), "parameterCount": parameters,
        "supportedEngines": engines, "compatible": compatible,
    }
    if parameters:
        memory = estimate_gpu_memory_gb(parameters)
        out |= {"estimatedGpuMemory": f"{memory}GB", "estimatedGpuMemoryGb": memory}
    if reason:
        out["incompatibilityReason"] = reason
    return {k: v for k, v in out.items() if v is not None}
