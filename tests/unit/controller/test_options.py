"""`airunway controller` flags and environment: defaults as upstream's, refusals that name the fix."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from airunway.cli import app
from airunway.controller.options import ControllerOptions, OptionsError


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, ["controller", *args], env={"POD_NAMESPACE": "ns", **(env or {})})


def test_defaults_are_upstreams(monkeypatch):
    monkeypatch.delenv("ENABLE_WEBHOOKS", raising=False)
    monkeypatch.setenv("POD_NAMESPACE", "airunway-system")
    options = ControllerOptions.from_environment()
    assert (options.metrics_bind_address, options.health_probe_bind_address) == ("0", ":8081")
    assert options.leader_election_id == "2038fe6a.airunway.ai" and not options.leader_elect
    assert options.metrics_secure and not options.enable_http2 and options.enable_provider_selector
    assert options.enable_webhooks and options.pod_namespace == "airunway-system"
    assert options.cert_service_name == "airunway-webhook-service" and options.epp_service_port == 9002
    options.check()


def test_webhooks_can_be_disabled_by_environment(monkeypatch):
    monkeypatch.setenv("ENABLE_WEBHOOKS", "false")
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    options = ControllerOptions.from_environment()
    assert not options.enable_webhooks
    options.check()  # no POD_NAMESPACE needed without webhooks


def test_rotation_needs_the_pod_namespace(monkeypatch):
    monkeypatch.delenv("ENABLE_WEBHOOKS", raising=False)
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    with pytest.raises(OptionsError, match="POD_NAMESPACE must be set"):
        ControllerOptions.from_environment().check()
    ControllerOptions.from_environment(disable_cert_rotation=True).check()


def test_gateway_flags_go_together():
    result = run("--gateway-name=gw")
    assert result.exit_code == 1
    assert "--gateway-name and --gateway-namespace must be set together" in result.output


@pytest.mark.parametrize("flag", ["--leader-elect=maybe", "--enable-provider-selector=yes please"])
def test_boolean_flags_take_true_or_false(flag):
    result = run(flag)
    assert result.exit_code == 2
    assert "takes true or false" in result.output



def test_go_style_boolean_flags_are_accepted(monkeypatch):
    seen = {}

    async def fake_run(options):
        seen["options"] = options

    monkeypatch.setattr("airunway.controller.app.run", fake_run)
    result = run("--leader-elect", "--enable-provider-selector=false", "--metrics-secure=true", "--enable-http2=1")
    assert result.exit_code == 0, result.output
    options = seen["options"]
    assert options.leader_elect and not options.enable_provider_selector and options.metrics_secure
    assert options.enable_http2


def test_the_provider_heartbeat_timeout_defaults_to_the_shared_staleness_window_and_must_be_positive():
    from airunway.api.providerconfig import PROVIDER_STALENESS_SECONDS
    from airunway.server.services.installation import DEFAULT_STALENESS_MS

    assert ControllerOptions().provider_heartbeat_timeout == PROVIDER_STALENESS_SECONDS == DEFAULT_STALENESS_MS / 1000
    with pytest.raises(OptionsError, match="--provider-heartbeat-timeout must be more than 0 seconds, got 0"):
        ControllerOptions(provider_heartbeat_timeout=0, disable_cert_rotation=True).check()
