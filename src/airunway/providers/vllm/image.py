"""Which vLLM image a Direct vLLM deployment runs, recorded in ``status.image`` (reference providers.md §5.3).

A tag is pinned to its digest through the registry's HTTP API (OCI distribution: the manifest's digest, and from
the image config its creation time and source revision). Registries are reached only through endpoints the
operator configures (``--image-registry-endpoint default=https://…`` for references without a registry host,
``HOST=URL`` for others); an image whose registry has no endpoint is used as written. A digest once resolved is
reused until the requested image changes, so a moving tag does not move a running deployment.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

import aiohttp

from airunway.api.constants import ANNOTATION_GENERATED_BY, ANNOTATION_RECIPE_PREFIX, ConditionType, Reason
from airunway.api.modeldeployment import ImageStatus, ModelDeployment
from airunway.providers.vllm.config import DEFAULT_IMAGE

OFFICIAL_REPOSITORY = "vllm/vllm-openai"
RESOLVE_TIMEOUT = 30.0
DEFAULT_REGISTRY = "default"
VERIFICATION_MESSAGE = "Image attestation/signature verification is not implemented by this controller"
RECIPE_FIELDS = ("source", "id", "strategy", "hardware", "variant", "precision", "revision", "features")
MANIFEST_TYPES = ", ".join((
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
))


class ResolveError(Exception):
    pass


@dataclass(frozen=True)
class ImageRef:
    registry: str  # "" for references without a registry host
    repository: str  # as written, registry host included
    tag: str
    digest: str

    @property
    def path(self) -> str:
        """The repository path inside its registry (``library/`` added for single names on the default one)."""
        path = self.repository[len(self.registry) + 1:] if self.registry else self.repository
        return path if self.registry or "/" in path else f"library/{path}"


def parse(reference: str) -> ImageRef:
    rest, _, digest = reference.partition("@")
    tag = ""
    colon, slash = rest.rfind(":"), rest.rfind("/")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1:]
    first = rest.split("/", 1)[0]
    registry = first if "/" in rest and ("." in first or ":" in first or first == "localhost") else ""
    return ImageRef(registry, rest, tag, digest)


def source_of(requested: str, ref: ImageRef) -> str:
    official = ref.repository.split("/", 1)[1] == OFFICIAL_REPOSITORY if ref.registry else \
        ref.repository == OFFICIAL_REPOSITORY
    if "launch" in ref.tag:
        return "launch"
    if requested == DEFAULT_IMAGE or (official and "nightly" in ref.tag):
        return "nightly"
    if official and ref.tag == "latest":
        return "stable"
    return "custom"


def age_of(created_at: str | None, now: datetime | None = None) -> str | None:
    if not created_at:
        return None
    try:
        created = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    minutes = max(0, int(((now or datetime.now(timezone.utc)) - created).total_seconds() // 60))
    if minutes >= 24 * 60:
        return f"{minutes // (24 * 60)}d"
    if minutes >= 60:
        return f"{minutes // 60}h"
    return f"{minutes}m"


@dataclass
class Resolved:
    digest: str
    created_at: str | None = None
    revision: str | None = None


class RegistryResolver:
    """Reads digests from OCI distribution registries at configured endpoints (anonymous bearer tokens)."""

    def __init__(self, endpoints: dict[str, str] | None = None, timeout: float = RESOLVE_TIMEOUT) -> None:
        self.endpoints = {k: v.rstrip("/") for k, v in (endpoints or {}).items()}
        self.timeout = timeout

    def endpoint_for(self, ref: ImageRef) -> str | None:
        return self.endpoints.get(ref.registry or DEFAULT_REGISTRY)

    async def resolve(self, ref: ImageRef) -> Resolved:
        base = self.endpoint_for(ref)
        if not base:
            raise ResolveError("no registry endpoint is configured for this image")
        if not ref.tag:
            raise ResolveError("the reference has no tag")
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                token: list[str] = []
                body, digest = await self._get(session, base, f"manifests/{ref.tag}", ref, token, MANIFEST_TYPES)
                resolved = Resolved(digest or "sha256:" + hashlib.sha256(body).hexdigest())
                try:
                    await self._describe(session, base, ref, token, json.loads(body), resolved)
                except (ResolveError, ValueError, KeyError, TypeError):
                    pass  # creation time and revision are best effort
                return resolved
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise ResolveError(f"registry request failed: {exc or type(exc).__name__}") from exc

    async def _get(self, session: aiohttp.ClientSession, base: str, what: str, ref: ImageRef, token: list[str],
                   accept: str) -> tuple[bytes, str]:
        url = f"{base}/v2/{ref.path}/{what}"
        for _ in range(2):
            headers = {"Accept": accept, **({"Authorization": f"Bearer {token[0]}"} if token else {})}
            async with session.get(url, headers=headers) as resp:
                if resp.status == 401 and not token:
                    token.append(await self._token(session, resp.headers.get("WWW-Authenticate", "")))
                    continue
                if resp.status != 200:
                    raise ResolveError(f"GET {what}: HTTP {resp.status}")
                return await resp.read(), resp.headers.get("Docker-Content-Digest", "")
        raise ResolveError(f"GET {what}: unauthorized")

    async def _token(self, session: aiohttp.ClientSession, challenge: str) -> str:
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm", "")
        if not challenge.lower().startswith("bearer") or not realm:
            raise ResolveError("the registry asks for credentials")
        async with session.get(realm, params=params) as resp:
            if resp.status != 200:
                raise ResolveError(f"token request: HTTP {resp.status}")
            answer = await resp.json(content_type=None)
        token = answer.get("token") or answer.get("access_token")
        if not token:
            raise ResolveError("the registry issued no token")
        return token

    async def _describe(self, session, base: str, ref: ImageRef, token: list[str], manifest: dict,
                        resolved: Resolved) -> None:
        if "manifests" in manifest:  # an index: describe the linux/amd64 image (or the first)
            entries = manifest["manifests"]
            chosen = next((m for m in entries if (m.get("platform") or {}).get("os") == "linux"
                           and (m.get("platform") or {}).get("architecture") == "amd64"), entries[0])
            body, _ = await self._get(session, base, f"manifests/{chosen['digest']}", ref, token, MANIFEST_TYPES)
            manifest = json.loads(body)
        body, _ = await self._get(session, base, f"blobs/{manifest['config']['digest']}", ref, token, "*/*")
        config = json.loads(body)
        labels = (config.get("config") or {}).get("Labels") or {}
        created = config.get("created") or labels.get("org.opencontainers.image.created")
        if created:
            moment = datetime.fromisoformat(created.replace("Z", "+00:00")).astimezone(timezone.utc)
            resolved.created_at = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        resolved.revision = labels.get("org.opencontainers.image.revision") or None


def recipe_provenance(md: ModelDeployment) -> str:
    annotations = md.metadata.annotations or {}
    if annotations.get(ANNOTATION_GENERATED_BY) != "vllm-recipe-resolver" and not any(
            k.startswith(ANNOTATION_RECIPE_PREFIX) for k in annotations):
        return ""
    parts = []
    if value := annotations.get(ANNOTATION_GENERATED_BY):
        parts.append(f"generated-by={value}")
    for label in RECIPE_FIELDS:
        if value := annotations.get(ANNOTATION_RECIPE_PREFIX + label):
            parts.append(f"{label}={value}")
    return ", ".join(parts)


async def resolve_image_status(md: ModelDeployment, resolver: RegistryResolver) -> str | None:
    """Fill ``status.image`` and the image conditions; return an error only when the default image cannot be
    resolved (nothing is deployed then)."""
    user_image = md.spec.image_override()
    requested = user_image or DEFAULT_IMAGE
    ref = parse(requested)
    source = source_of(requested, ref)
    previous = md.status.image
    image = ImageStatus(requested=requested, repository=ref.repository, tag=ref.tag or None,
                        digest=ref.digest or None, source=source, in_nightly=source == "nightly",
                        verified=False, verification_message=VERIFICATION_MESSAGE)
    error = None

    def condition(type_: str, status: str, reason: str, message: str) -> None:
        md.status.set_condition(type_, status, reason, message, observed_generation=md.metadata.generation)

    resolvable = bool(ref.tag) and not ref.digest and resolver.endpoint_for(ref) is not None
    if resolvable and previous and previous.requested == requested and previous.resolved and previous.digest:
        image.resolved, image.digest = previous.resolved, previous.digest
        image.created_at, image.revision, image.age = previous.created_at, previous.revision, previous.age
        message = f'Reused resolved Direct vLLM image "{requested}" to "{image.resolved}" from {source} selection.'
        condition(ConditionType.IMAGE_RESOLVED, "True", Reason.IMAGE_RESOLUTION_REUSED, message)
    elif resolvable:
        try:
            found = await resolver.resolve(ref)
        except ResolveError as exc:
            message = f'Failed to resolve Direct vLLM image "{requested}" from {source} selection: {exc}.'
            if user_image:
                message += " Continuing with the user-specified image reference."
            else:
                error = f'failed to resolve default vLLM image "{requested}": {exc}'
            condition(ConditionType.IMAGE_RESOLVED, "False", Reason.IMAGE_RESOLUTION_FAILED, message)
        else:
            image.digest, image.resolved = found.digest, f"{ref.repository}@{found.digest}"
            image.created_at, image.revision, image.age = found.created_at, found.revision, age_of(found.created_at)
            message = f'Resolved Direct vLLM image "{requested}" to "{image.resolved}" from {source} selection.'
            condition(ConditionType.IMAGE_RESOLVED, "True", Reason.IMAGE_RESOLVED, message)
    else:
        image.resolved = requested
        message = f'Resolved Direct vLLM image "{requested}" from {source} selection.'
        condition(ConditionType.IMAGE_RESOLVED, "True", Reason.IMAGE_RESOLVED, message)

    if provenance := recipe_provenance(md):
        message += f" Recipe provenance: {provenance}."
        condition(ConditionType.RECIPE_RESOLVED, "True", Reason.RECIPE_PROVENANCE_RESOLVED, provenance)
    image.message = message
    md.status.image = image
    condition(ConditionType.IMAGE_VERIFIED, "Unknown", Reason.VERIFICATION_NOT_IMPLEMENTED, VERIFICATION_MESSAGE)
    if source == "custom":
        condition(ConditionType.UNSUPPORTED_IMAGE, "True", Reason.CUSTOM_IMAGE,
                  "User-specified custom vLLM image is not verified as a supported provider image")
    else:
        condition(ConditionType.UNSUPPORTED_IMAGE, "False", Reason.SUPPORTED_IMAGE,
                  "Selected vLLM image is supported by provider image policy")
    return error
