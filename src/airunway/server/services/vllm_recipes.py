"""vLLM recipes: the serving commands the vLLM project publishes per model (``$VLLM_RECIPES_BASE_URL``, else
https://recipes.vllm.ai), read and turned into a Direct vLLM deployment (engine arguments, GPUs, image, env).

The index (``models.json``) is cached 5 minutes, each recipe 5 minutes (256 at most); when the site fails, what was
cached before is served. Answers over 5 MiB, that are not JSON, or not of the expected shape are refused, and a
recipe may only point at other files under the same base address.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

DEFAULT_BASE = "https://recipes.vllm.ai"
TIMEOUT = 10.0
MAX_BYTES = 5 * 2**20
TTL = 300.0
MAX_RECIPES = 256
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
NEGATIVE_NUMBER = re.compile(r"^-\d+(\.\d+)?$")
DEEPSEEK_FEATURES = {
    "tool_calling": ["--tokenizer-mode", "deepseek_v4", "--tool-call-parser", "deepseek_v4",
                     "--enable-auto-tool-choice"],
    "reasoning": ["--reasoning-parser", "deepseek_v4"],
}
COMMAND_KEYS = ("argv", "head_argv", "worker_argv")


class RecipeError(Exception):
    status = 502


class RecipeTimeout(RecipeError):
    status = 504


class RecipeInvalid(RecipeError):
    status = 400


class RecipeMissing(RecipeError):
    status = 404


def base_url() -> str:
    return (os.environ.get("VLLM_RECIPES_BASE_URL") or DEFAULT_BASE).rstrip("/")


async def _fetch(url: str) -> Any:
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as http:
            async with http.stream("GET", url, headers={"Accept": "application/json"}) as answer:
                if answer.status_code == 404:
                    raise RecipeMissing(f"No vLLM recipe at {urlsplit(url).path}")
                if answer.status_code != 200:
                    raise RecipeError(f"vLLM recipes answered {answer.status_code} for {urlsplit(url).path}")
                if int(answer.headers.get("content-length") or 0) > MAX_BYTES:
                    raise RecipeError("vLLM recipe answer is larger than 5 MiB")
                body = bytearray()
                async for chunk in answer.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BYTES:
                        raise RecipeError("vLLM recipe answer is larger than 5 MiB")
    except httpx.TimeoutException:
        raise RecipeTimeout("vLLM recipes did not answer within 10 seconds") from None
    except httpx.HTTPError as exc:
        raise RecipeError(f"vLLM recipes are unreachable ({type(exc).__name__})") from None
    try:
        return json.loads(bytes(body))
    except ValueError:
        raise RecipeError("vLLM recipe answer is not JSON") from None


class Recipes:
    def __init__(self) -> None:
        self._index: tuple[float, list[dict]] | None = None
        self._recipes: OrderedDict[str, tuple[float, dict]] = OrderedDict()

    async def index(self) -> list[dict]:
        if self._index and time.monotonic() - self._index[0] < TTL:
            return self._index[1]
        try:
            body = await _fetch(f"{base_url()}/models.json")
            entries = body if isinstance(body, list) else (body.get("models") or body.get("recipes")) \
                if isinstance(body, dict) else None
            if not isinstance(entries, list):
                raise RecipeError("vLLM recipes index did not contain a models array")
        except RecipeError:
            if self._index:
                return self._index[1]
            raise
        entries = [e for e in entries if isinstance(e, dict)]
        self._index = (time.monotonic(), entries)
        return entries

    async def get(self, model_id: str) -> dict:
        parts = model_id.split("/")
        if len(parts) != 2 or any(p in ("", ".", "..") for p in parts):
            raise RecipeInvalid(f"Invalid Hugging Face model ID: {model_id}")
        cached = self._recipes.get(model_id)
        if cached and time.monotonic() - cached[0] < TTL:
            self._recipes.move_to_end(model_id)
            return cached[1]
        try:
            recipe = await _fetch(f"{base_url()}/{quote(parts[0], safe='')}/{quote(parts[1], safe='')}.json")
            if not isinstance(recipe, dict):
                raise RecipeError(f"vLLM recipe for {model_id} is not a JSON object")
        except RecipeMissing:
            raise
        except RecipeError:
            if cached:
                return cached[1]
            raise
        self._recipes[model_id] = (time.monotonic(), recipe)
        self._recipes.move_to_end(model_id)
        while len(self._recipes) > MAX_RECIPES:
            self._recipes.popitem(last=False)
        return recipe

    async def referenced(self, reference: str) -> dict:
        """A file a recipe points at, only under the recipes' base address and over https (or the base's scheme)."""
        base = base_url()
        url = urljoin(base + "/", reference)
        parts, root = urlsplit(url), urlsplit(base)
        if parts.scheme not in ("https", root.scheme) or parts.netloc != root.netloc \
                or not parts.path.startswith(root.path.rstrip("/") + "/"):
            raise RecipeInvalid(f"Recipe reference is outside the recipes site: {reference}")
        found = await _fetch(url)
        if not isinstance(found, dict):
            raise RecipeError("Referenced recipe command is not a JSON object")
        return found


recipes = Recipes()


# -- resolving a recipe into a deployment -----------------------------------------------------------------------


def _norm(text: Any) -> str:
    return re.sub(r"[^a-z0-9_-]", "_", str(text or "").lower().removesuffix(".json"))


def _matches(candidate: Any, wanted: str | None) -> bool:
    if not wanted or candidate is None:
        return False
    a, b = _norm(candidate), _norm(wanted)
    return bool(a) and (a == b or a.endswith(b) or b in a)


def _alternatives(node: Any) -> list[dict]:
    found = []
    if isinstance(node, dict):
        for key in ("alternatives",):
            value = node.get(key)
            items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
            for item in items:
                if isinstance(item, dict):
                    found.append(item)
                    found += _alternatives(item)
    return found


def _score(alt: dict, strategy: str | None, hardware: str | None, variant: str | None) -> int:
    text = [alt.get(k) for k in ("name", "id", "strategy", "label", "path", "url", "json")]
    score = 0
    if any(_matches(t, strategy) for t in text + [alt.get("strategy")]):
        score += 10
    if any(_matches(t, hardware) for t in text + [alt.get("hardware")]):
        score += 3
    if any(_matches(t, variant) for t in text + [alt.get("variant")]):
        score += 2
    return score


def _is_command(node: Any) -> bool:
    return isinstance(node, dict) and any(isinstance(node.get(k), list) for k in COMMAND_KEYS)


async def _command(recipe: dict, strategy: str | None, hardware: str | None, variant: str | None,
                   warnings: list[str]) -> tuple[dict, str]:
    if strategy or hardware or variant:
        candidates = _alternatives(recipe.get("recommended_command")) + _alternatives(recipe)
        scored = sorted(((_score(a, strategy, hardware, variant), i, a) for i, a in enumerate(candidates)),
                        key=lambda t: (-t[0], t[1]))
        if scored and scored[0][0] > 0:
            best = scored[0][2]
            label = str(best.get("name") or best.get("id") or "alternative")
            if _is_command(best):
                return best, f"alternative:{label}"
            reference = best.get("json") or best.get("url") or best.get("path")
            if isinstance(reference, str):
                found = await recipes.referenced(reference)
                command = found.get("recommended_command") if _is_command(found.get("recommended_command")) else found
                return command, f"alternative:{label}"
        warnings.append("No recipe alternative matches the requested strategy, hardware or variant; using the "
                        "recommended command.")
    for node, label in ((recipe.get("recommended_command"), "recommended_command"), (recipe, "recipe"),
                        (recipe.get("strategy_spec"), "strategy_spec")):
        if _is_command(node):
            return node, label
    return recipe.get("recommended_command") if isinstance(recipe.get("recommended_command"), dict) else {}, \
        "recommended_command"


def _argv(command: dict, warnings: list[str]) -> list[str]:
    if isinstance(command.get("argv"), list):
        argv = command["argv"]
    elif isinstance(command.get("head_argv"), list):
        warnings.append("The recipe gives a multi-node command; using its head node's arguments.")
        argv = command["head_argv"]
    else:
        warnings.append("The recipe has no command arguments.")
        argv = []
    argv = [str(a) for a in argv]
    if argv[:1] == ["vllm"]:
        argv = argv[1:]
    if argv[:1] == ["serve"]:
        argv = argv[1:]
        if argv and not argv[0].startswith("--"):
            argv = argv[1:]
    return argv


def _feature_args(recipe: dict, name: str, hardware: str | None) -> list[str]:
    features = recipe.get("features") if isinstance(recipe.get("features"), dict) else {}
    feature = features.get(name) if isinstance(features.get(name), dict) else {}
    args = [str(a) for a in feature.get("args") or []]
    overrides = feature.get("hardware_overrides") if isinstance(feature.get("hardware_overrides"), dict) else {}
    for key, value in overrides.items():
        if hardware and _norm(key) == _norm(hardware) and isinstance(value, dict):
            args += [str(a) for a in value.get("args") or value.get("extra_args") or []]
    if "deepseek" in str(recipe.get("hf_id") or "").lower() and name in DEEPSEEK_FEATURES:
        args += DEEPSEEK_FEATURES[name]
    return args


def _flags(args: list[str]) -> set[str]:
    return {a.split("=", 1)[0] for a in args if a.startswith("--")}


def _without(argv: list[str], flags: set[str]) -> list[str]:
    out, skip = [], False
    for token in argv:
        if skip and not token.startswith("--"):
            skip = False
            continue
        skip = False
        if token.split("=", 1)[0] in flags:
            skip = "=" not in token
            continue
        out.append(token)
    return out


def parse_args(argv: list[str], warnings: list[str]) -> tuple[dict[str, str], list[str]]:
    args: dict[str, str] = {}
    extra: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token.startswith("--") and KEY.match(token[2:].split("=", 1)[0]):
            key, has_value, value = token[2:].partition("=")
            if not has_value:
                following = argv[i + 1] if i + 1 < len(argv) else None
                if following is not None and (not following.startswith("--") or NEGATIVE_NUMBER.match(following)):
                    value = following
                    i += 1
            if key in args:
                extra += [f"--{key}", value] if value else [f"--{key}"]
                warnings.append(f'Preserved duplicate vLLM argument "{key}" in engineExtraArgs.')
            else:
                args[key] = value
        else:
            extra.append(token)
        i += 1
    return args, extra


def _gpus(args: dict[str, str], command: dict) -> int:
    def number(value: Any) -> int | None:
        try:
            return int(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None

    tp = number(args.get("tensor-parallel-size"))
    if tp:
        return tp * (number(args.get("pipeline-parallel-size")) or 1)
    profile = command.get("hardware_profile") if isinstance(command.get("hardware_profile"), dict) else {}
    for value in (command.get("gpu_count"), command.get("gpus"), command.get("gpuCount"), *profile.values()):
        if (n := number(value)) and n > 0:
            return n
    return 1


async def resolve(model_id: str, *, mode: str | None = None, hardware: str | None = None,
                  strategy: str | None = None, variant: str | None = None, features: list[str] | None = None,
                  image_choice: dict | None = None) -> dict[str, Any]:
    recipe = await recipes.get(model_id)
    warnings: list[str] = []
    command, source = await _command(recipe, strategy, hardware, variant, warnings)
    argv = _argv(command, warnings)
    if features is not None:
        known = set()
        all_features = recipe.get("features") if isinstance(recipe.get("features"), dict) else {}
        for name in set(all_features) | set(DEEPSEEK_FEATURES):
            known |= _flags(_feature_args(recipe, name, hardware))
        argv = _without(argv, known)
        for name in features:
            argv += _feature_args(recipe, name, hardware)
    env = {k: v for k, v in (command.get("env") or {}).items() if isinstance(v, str)} \
        if isinstance(command.get("env"), dict) else {}
    overrides = recipe.get("hardware_overrides") if isinstance(recipe.get("hardware_overrides"), dict) else {}
    for key, value in overrides.items():
        if hardware and _norm(key) == _norm(hardware) and isinstance(value, dict):
            argv += [str(a) for a in value.get("extra_args") or []]
            env |= {k: v for k, v in (value.get("extra_env") or {}).items() if isinstance(v, str)}
    engine_args, extra = parse_args(argv, warnings)
    deploy_type = str(command.get("deploy_type") or recipe.get("deploy_type") or "")
    choice = image_choice or {"type": "recipe"}
    if choice.get("type") == "none":
        image = None
    elif choice.get("type") == "custom":
        image = choice.get("imageRef")
    else:
        image = command.get("docker_image") or recipe.get("docker_image")
        if not image:
            warnings.append("The recipe names no image; the provider's default vLLM image is used.")
    provenance = {"source": source, "id": recipe.get("hf_id") or model_id, "strategy": strategy,
                  "hardware": hardware, "variant": variant, "precision": recipe.get("precision"),
                  "features": features, "revision": recipe.get("revision")}
    provenance = {k: v for k, v in provenance.items() if v is not None}
    annotations = {"airunway.ai/generated-by": "vllm-recipe-resolver"}
    annotations |= {f"airunway.ai/recipe.{k}": ",".join(v) if isinstance(v, list) else str(v)
                    for k, v in provenance.items()}
    return {"provider": "vllm", "engine": "vllm",
            "mode": mode or ("disaggregated" if "disaggregated" in deploy_type else "aggregated"),
            "imageRef": image, "resources": {"gpu": _gpus(engine_args, command)}, "engineArgs": engine_args,
            "engineExtraArgs": extra, "env": env, "annotations": annotations, "recipeProvenance": provenance,
            "warnings": warnings}
