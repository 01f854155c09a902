"""vLLM recipes through the API against a recipes site stand-in on 127.0.0.1: the index, one recipe, resolving it
(alternatives, features, hardware overrides, image choice), caching with stale answers when the site fails, and
references outside the site refused."""

from __future__ import annotations

import pytest

from airunway.server.app import Settings
from airunway.server.services import vllm_recipes

from fakes.standins import RecipesSite, serve
from support import in_process_api


@pytest.fixture
def site(monkeypatch):
    server = serve(RecipesSite)
    monkeypatch.setenv("VLLM_RECIPES_BASE_URL", server.url + "/")
    monkeypatch.setattr(vllm_recipes, "recipes", vllm_recipes.Recipes())
    try:
        yield RecipesSite
    finally:
        server.close()


@pytest.fixture
async def api():
    async with in_process_api(Settings(auth_enabled=False)) as client:
        yield client


async def test_index_recipe_and_cache(api, site):
    listed = (await api.get("/api/vllm/recipes")).json()
    assert listed["total"] == 3 and listed["recipes"][0]["hf_id"] == "Qwen/Qwen3-8B"
    assert listed["source"].endswith("/models.json") and "//models" not in listed["source"]
    one = (await api.get("/api/vllm/recipes/Qwen/Qwen3-8B")).json()
    assert one["modelId"] == "Qwen/Qwen3-8B" and one["recipe"]["precision"] == "bf16"
    missing = await api.get("/api/vllm/recipes/nobody/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "No vLLM recipe at /nobody/nothing.json"
    site.down = True  # cached answers are served while the site fails
    assert (await api.get("/api/vllm/recipes")).json()["total"] == 3
    assert (await api.get("/api/vllm/recipes/Qwen/Qwen3-8B")).status_code == 200
    assert site.asked.count("/models.json") == 1
    assert (await api.get("/api/vllm/recipes/")).status_code in (301, 200)


async def test_resolving_the_recommended_command(api, site):
    answer = (await api.post("/api/vllm/recipes/resolve", json={"modelId": "Qwen/Qwen3-8B"})).json()
    assert answer["provider"] == "vllm" and answer["engine"] == "vllm" and answer["mode"] == "aggregated"
    assert answer["imageRef"] == "vllm/vllm-openai:v0.11.0" and answer["resources"] == {"gpu": 2}
    assert answer["engineArgs"] == {"tensor-parallel-size": "2", "max-model-len": "32768",
                                    "enable-prefix-caching": "", "reasoning-parser": "qwen3", "seed": "-1"}
    assert answer["engineExtraArgs"] == ["--max-model-len", "16384"]
    assert answer["warnings"] == ['Preserved duplicate vLLM argument "max-model-len" in engineExtraArgs.']
    assert answer["env"] == {"VLLM_USE_V1": "1"}
    assert answer["annotations"]["airunway.ai/generated-by"] == "vllm-recipe-resolver"
    assert answer["recipeProvenance"] == {"source": "recommended_command", "id": "Qwen/Qwen3-8B", "precision": "bf16",
                                          "revision": "abc123"}


async def test_resolving_with_choices(api, site):
    alt = (await api.post("/api/vllm/recipes/resolve", json={
        "modelId": "Qwen/Qwen3-8B", "strategy": "throughput", "imageChoice": {"type": "none"}})).json()
    assert alt["resources"] == {"gpu": 8} and alt["mode"] == "disaggregated" and alt["imageRef"] is None
    assert alt["recipeProvenance"]["source"] == "alternative:throughput"
    featured = (await api.post("/api/vllm/recipes/resolve", json={
        "modelId": "Qwen/Qwen3-8B", "features": ["tool_calling"], "hardware": "h200",
        "imageChoice": {"type": "custom", "imageRef": "example.org/vllm:mine"}})).json()
    args = featured["engineArgs"]
    assert "reasoning-parser" not in args and args["tool-call-parser"] == "hermes"
    assert args["enable-auto-tool-choice"] == "" and args["gpu-memory-utilization"] == "0.95"
    assert featured["env"] == {"VLLM_USE_V1": "1", "NCCL_DEBUG": "WARN"}
    assert featured["imageRef"] == "example.org/vllm:mine"
    assert featured["annotations"]["airunway.ai/recipe.features"] == "tool_calling"
    outside = await api.post("/api/vllm/recipes/resolve", json={"modelId": "Qwen/Qwen3-8B", "strategy": "evil"})
    assert outside.status_code == 400 and "outside the recipes site" in outside.json()["error"]["message"]
    invalid = await api.post("/api/vllm/recipes/resolve", json={"modelId": "../x"})
    assert invalid.status_code == 400
    assert invalid.json()["error"]["message"] == "Invalid Hugging Face model ID: ../x"
    bad_image = await api.post("/api/vllm/recipes/resolve", json={"modelId": "a/b", "imageChoice": {"type": "custom"}})
    assert bad_image.status_code == 400


async def test_an_unreachable_site(api, monkeypatch):
    monkeypatch.setenv("VLLM_RECIPES_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setattr(vllm_recipes, "recipes", vllm_recipes.Recipes())
    answer = await api.get("/api/vllm/recipes")
    assert answer.status_code == 502
    assert answer.json()["error"]["message"] == "vLLM recipes are unreachable (ConnectError)"
