"""``/api/vllm/recipes``: the vLLM project's serving recipes, and one resolved into a Direct vLLM deployment."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from airunway.server import responses
from airunway.server.errors import ApiProblem
from airunway.server.services import vllm_recipes as service

router = responses.Router(prefix="/api/vllm/recipes", tags=["vllm"])

Text = Annotated[StrictStr, Field(min_length=1, max_length=200)]


class RecipeImage(BaseModel):
    type: Literal["recipe"]


class CustomImage(BaseModel):
    type: Literal["custom"]
    imageRef: StrictStr = Field(min_length=1, max_length=500)


class NoImage(BaseModel):
    type: Literal["none"]


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    modelId: Text
    mode: Literal["aggregated", "disaggregated"] | None = None
    hardware: Text | None = None
    strategy: Text | None = None
    variant: Text | None = None
    features: list[Text] | None = Field(None, max_length=50)
    imageChoice: Annotated[Union[RecipeImage, CustomImage, NoImage], Field(discriminator="type")] | None = None


def _failed(exc: service.RecipeError) -> ApiProblem:
    return ApiProblem(exc.status, str(exc))


@router.get("", response_model=responses.RecipeList)
async def list_recipes() -> dict:
    try:
        entries = await service.recipes.index()
    except service.RecipeError as exc:
        raise _failed(exc) from None
    return {"recipes": entries, "total": len(entries), "source": f"{service.base_url()}/models.json"}


@router.post("/resolve", response_model=responses.ResolvedRecipe)
async def resolve(body: ResolveRequest) -> dict:
    try:
        return await service.resolve(body.modelId, mode=body.mode, hardware=body.hardware, strategy=body.strategy,
                                     variant=body.variant, features=body.features,
                                     image_choice=body.imageChoice.model_dump() if body.imageChoice else None)
    except service.RecipeError as exc:
        raise _failed(exc) from None


@router.get("/{org}/{model}", response_model=responses.RecipeAnswer)
async def get_recipe(org: str, model: str) -> dict:
    model_id = f"{org}/{model}"
    try:
        recipe = await service.recipes.get(model_id)
    except service.RecipeError as exc:
        raise _failed(exc) from None
    return {"modelId": model_id, "source": f"{service.base_url()}/{org}/{model}.json", "recipe": recipe}
