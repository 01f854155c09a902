"""Who a HuggingFace token belongs to (the Hub's ``/api/whoami-v2``).

The Hub is ``$HF_ENDPOINT`` (the variable HuggingFace's own tools read), else https://huggingface.co. Errors say
what went wrong without the token.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

DEFAULT_HUB = "https://huggingface.co"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def hub_url() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_HUB).rstrip("/")


def user_of(body: dict[str, Any]) -> dict[str, Any]:
    avatar = body.get("avatarUrl")
    if isinstance(avatar, str) and avatar.startswith("/"):
        avatar = f"{DEFAULT_HUB}{avatar}"
    user = {"id": body.get("id"), "name": body.get("name"), "fullname": body.get("fullname") or body.get("name"),
            "email": body.get("email"), "avatarUrl": avatar}
    return {k: v for k, v in user.items() if v is not None}


async def whoami(token: str, hub: str | None = None) -> dict[str, Any]:
    """The token's user; ``ValueError`` when the Hub refuses the token or cannot be reached."""
    hub = (hub or hub_url()).rstrip("/")
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            answer = await http.get(f"{hub}/api/whoami-v2", headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        raise ValueError(f"Failed to reach HuggingFace: {type(exc).__name__}") from None
    if answer.status_code != 200:
        raise ValueError(f"Failed to get user info: {answer.status_code} {answer.reason_phrase}")
    try:
        body = answer.json()
    except ValueError:
        raise ValueError("Failed to get user info: the answer is not JSON") from None
    if not isinstance(body, dict):
        raise ValueError("Failed to get user info: the answer is not a JSON object")
    return user_of(body)
