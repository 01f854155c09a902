"""Which providers hold a deployment being deleted, and when the core controller lets it go (policy/deletion.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airunway.api import InferenceProviderConfig
from airunway.policy.deletion import provider_holds, provider_of

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
DELETED = NOW - timedelta(seconds=50)


def config(name: str, beat_seconds_ago: float | None) -> InferenceProviderConfig:
    status = {} if beat_seconds_ago is None else {"lastHeartbeat": NOW - timedelta(seconds=beat_seconds_ago)}
    return InferenceProviderConfig.model_validate({"metadata": {"name": name}, "status": status})


def test_only_provider_finalizers_count():
    assert provider_of("airunway.ai/vllm-provider") == "vllm"
    assert provider_of("airunway.ai/my-shim-provider") == "my-shim"
    for other in ("example.com/vllm-provider", "airunway.ai/vllm", "airunway.ai/-provider", "kubernetes"):
        assert provider_of(other) is None


def test_a_reporting_provider_is_waited_for_and_a_silent_one_released():
    holds = provider_holds(
        ["airunway.ai/vllm-provider", "example.com/keep", "airunway.ai/kaito-provider", "airunway.ai/gone-provider"],
        [config("vllm", 20), config("kaito", 200)], DELETED, NOW, 180)
    by = {hold.provider: hold for hold in holds}
    assert sorted(by) == ["gone", "kaito", "vllm"]
    assert (by["vllm"].release, by["vllm"].heartbeat, by["vllm"].retry_after) == (False, True, 161)
    assert (by["kaito"].release, by["kaito"].silent_for) == (True, 200)
    # No config at all: timed from the deletion, 50 s ago.
    assert (by["gone"].release, by["gone"].heartbeat, by["gone"].silent_for) == (False, False, 50)
    assert "it has never reported, so 180 s after the deletion" in by["gone"].waiting_message()
    assert by["kaito"].released_message().startswith("provider kaito has not reported for 200 s (more than 180 s)")


def test_a_heartbeat_exactly_at_the_timeout_still_counts():
    [hold] = provider_holds(["airunway.ai/vllm-provider"], [config("vllm", 180)], DELETED, NOW, 180)
    assert not hold.release and hold.retry_after == 1
