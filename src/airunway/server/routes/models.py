"""``/api/models``: the curated catalog, HuggingFace search and a repository's GGUF files.

The user's HuggingFace token comes in the ``X-HF-Token`` header (the ``Authorization`` header carries the dashboard
login when authentication is on)."""

from __future__ import annotations

from fastapi import Header, Query

from airunway.server import responses
from airunway.server.errors import ApiProblem
from airunway.server.schemas import InvalidRequest, Issue
from airunway.server.services import catalog, huggingface
from airunway.server.services.compatibility import valid_repo_id

router = responses.Router(prefix="/api/models", tags=["models"])


def hub_failure(exc: huggingface.HubUnreachable) -> ApiProblem:
    return ApiProblem(504 if exc.timeout else 502, f"{exc}. Check the network or HF_ENDPOINT and try again.")


@router.get("", response_model=responses.ModelList)
async def list_models() -> dict:
    return {"models": catalog.models()}


@router.get("/search", response_model=responses.HfSearchResponse)
async def search(
    q: str = Query("", description="At least 2 characters"),
    limit: str = Query("20", description="1 to 50"),
    offset: str = Query("0", description="0 or more"),
    x_hf_token: str | None = Header(None),
) -> dict:
    issues = []
    if len(q) < 2:
        issues.append(Issue(("q",), "Search query must be at least 2 characters"))
    numbers = {}
    for name, text, low, high in (("limit", limit, 1, 50), ("offset", offset, 0, None)):
        try:
            numbers[name] = int(text)
        except ValueError:
            issues.append(Issue((name,), "Expected an integer"))
            continue
        if numbers[name] < low or (high is not None and numbers[name] > high):
            issues.append(Issue((name,), f"Must be between {low} and {high}" if high else f"Must be {low} or more"))
    if issues:
        raise InvalidRequest(issues)
    try:
        return await huggingface.search(q, numbers["limit"], numbers["offset"], x_hf_token or None)
    except huggingface.HubUnreachable as exc:
        raise hub_failure(exc) from None
    except huggingface.TokenInvalid as exc:
        raise ApiProblem(400, f"X-HF-Token: {exc}") from None


@router.get("/{model_id:path}/gguf-files", response_model=responses.GgufFiles)
async def gguf_files(model_id: str, x_hf_token: str | None = Header(None)) -> dict:
    if not valid_repo_id(model_id):
        raise ApiProblem(400, "Invalid Hugging Face model id")
    try:
        return {"files": await huggingface.gguf_files(model_id, x_hf_token or None)}
    except huggingface.HubUnreachable as exc:
        raise hub_failure(exc) from None
    except huggingface.TokenInvalid as exc:
        raise ApiProblem(400, f"X-HF-Token: {exc}") from None
    except huggingface.HubError as exc:
        status = exc.status if exc.status in (401, 403, 404) else 502
        raise ApiProblem(status, str(exc)) from None


@router.get("/{model_id:path}", response_model=responses.Model)
async def get_model(model_id: str) -> dict:
    found = catalog.find(model_id)
    if found is None:
        raise ApiProblem(404, "Model not found")
    return found
