"""`airunway render`: offline defaulting, validation and selection, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from airunway.api import InferenceProviderConfig
from airunway.cli import app
from airunway.policy.render import (
    default_provider_configs,
    read_model_deployment,
    render,
)

from support import DATA, ROOT

EXAMPLES = DATA / "modeldeployments"


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, ["render", *args], input=stdin)


def rendered(*args: str, stdin: str | None = None) -> dict:
    result = run(*args, "-o", "yaml", stdin=stdin)
    assert result.exit_code == 0, result.stderr
    return yaml.safe_load(result.stdout)


def write(tmp_path: Path, name: str, *documents: dict) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(documents))
    return path


def deployment(spec: dict, name: str = "m") -> dict:
    return {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment", "metadata": {"name": name}, "spec": spec}


@pytest.mark.parametrize(
    ("example", "engine", "provider", "reason"),
    [
        ("qwen-demo", "vllm", "dynamo", "matched capabilities: engine=vllm, gpu=true, mode=aggregated"),
        ("llama-8b", "vllm", "dynamo", "matched capabilities: engine=vllm, gpu=true, mode=aggregated"),
        ("gemma-cpu", "llamacpp", "kaito", "matched capabilities: engine=llamacpp, gpu=false, mode=aggregated"),
        ("llama-70b-pd", "vllm", "dynamo", "explicit provider selection"),
    ],
)
def test_seed_examples_render(example, engine, provider, reason):
    out = rendered("-f", str(EXAMPLES / f"{example}.yaml"))
    assert out["status"] == {
        "engine": {"type": engine, "selectedReason": "explicit engine selection"},
        "provider": {"name": provider, "selectedReason": reason},
    }
    assert out["spec"]["serving"]["mode"] in ("aggregated", "disaggregated")
    assert list(out)[:3] == ["apiVersion", "kind", "metadata"]


def test_defaults_are_applied(tmp_path):
    path = write(tmp_path, "md.yaml", deployment({"model": {"id": "org/m"}, "engine": {"type": "vllm"}}))
    out = rendered("-f", str(path))
    assert out["spec"]["resources"]["gpu"] == {"count": 1, "type": "nvidia.com/gpu"}
    assert out["spec"]["scaling"] == {"replicas": 1}
    assert out["spec"]["model"]["source"] == "huggingface"
    assert out["spec"]["engine"]["enablePrefixCaching"] is True
    assert out["status"]["provider"]["name"] == "dynamo"


def test_auto_selected_engine_on_cpu(tmp_path):
    path = write(tmp_path, "md.yaml", deployment({"model": {"id": "org/m"}}))
    out = rendered("-f", str(path))
    assert out["status"]["engine"] == {"type": "llamacpp", "selectedReason": "auto-selected from provider kaito capabilities"}
    assert out["status"]["provider"]["name"] == "kaito"


def test_json_output_and_stdin():
    text = (EXAMPLES / "llama-8b.yaml").read_text()
    result = run("-f", "-", "-o", "json", stdin=text)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["status"]["provider"]["name"] == "dynamo"


def test_human_output_explains_every_provider():
    result = run("-f", str(EXAMPLES / "llama-8b.yaml"))
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "status:" in text and "name: dynamo" in text
    assert "Provider: dynamo" in text and "Engine:   vllm" in text
    for name in ("kaito", "kuberay", "llmd", "vllm"):
        assert name in text
    assert "selected" in text and "lower priority" in text
    assert "no selection rule matched" in text


def test_custom_provider_configs_with_one_not_ready(tmp_path):
    engines = [{"name": "vllm", "servingModes": ["aggregated"], "gpuSupport": True}]
    configs = write(
        tmp_path,
        "providers.yaml",
        {"apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig", "metadata": {"name": "fast"},
         "spec": {"capabilities": {"engines": engines}, "selectionRules": [{"condition": "true", "priority": 9}]},
         "status": {"ready": False}},
        {"apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig", "metadata": {"name": "slow"},
         "spec": {"capabilities": {"engines": engines}}},
    )
    result = run("-f", str(EXAMPLES / "llama-8b.yaml"), "--provider-config", str(configs))
    assert result.exit_code == 0, result.stderr
    assert "Provider: slow" in result.stdout and "not ready" in result.stdout
    out = rendered("-f", str(EXAMPLES / "llama-8b.yaml"), "--provider-config", str(configs))
    assert out["status"]["provider"]["name"] == "slow"


def test_a_selection_rule_that_does_not_compile_is_a_warning_and_the_reason_in_the_table(tmp_path):
    engines = [{"name": "vllm", "servingModes": ["aggregated"], "gpuSupport": True}]
    configs = write(
        tmp_path, "providers.yaml",
        {"apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig", "metadata": {"name": "broken"},
         "spec": {"capabilities": {"engines": engines},
                  "selectionRules": [{"condition": "spec.resources.gpu.count >", "priority": 90}]}},
        {"apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig", "metadata": {"name": "plain"},
         "spec": {"capabilities": {"engines": engines}, "selectionRules": [{"condition": "true", "priority": 1}]}},
    )
    result = CliRunner().invoke(app, ["render", "-f", str(EXAMPLES / "llama-8b.yaml"), "--provider-config",
                                      str(configs)], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.stderr
    assert ("Warning: InferenceProviderConfig broken: selection rule 0 `spec.resources.gpu.count >` does not "
            "compile and is ignored: ") in result.stderr
    assert "Provider: plain" in result.stdout
    assert "selection rule 0 `spec.resources.gpu.count >` does not compile and is ignored" in result.stdout
    # The warning is given with -o yaml too, whose standard output stays the object alone.
    quiet = run("-f", str(EXAMPLES / "llama-8b.yaml"), "--provider-config", str(configs), "-o", "yaml")
    assert "does not compile" in quiet.stderr and "does not compile" not in quiet.stdout


def test_invalid_input_prints_the_webhook_errors(tmp_path):
    path = write(tmp_path, "bad.yaml", deployment({"model": {}, "provider": {"overrides": {"hostNetwork": True}}}, name="a.b"))
    result = run("-f", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        'admission webhook "vmodeldeployment-v1alpha1.kb.io" denied the request:',
        '  metadata.name: Invalid value: "a.b": name must not contain dots (dots are invalid in derived Kubernetes volume and service names)',
        "  spec.model.id: Required value: model.id is required when source is huggingface",
        '  spec.provider.overrides.hostNetwork: Forbidden: overriding "hostNetwork" is not allowed for security reasons; '
        "it gives pods access to the host, which a cluster admin can allow only for a named provider (set "
        'spec.provider.name) with the annotation airunway.ai/allow-host-access: "true" on its InferenceProviderConfig',
    ]


def test_schema_violations_exit_1(tmp_path):
    path = write(tmp_path, "bad.yaml", deployment({"model": {"id": "x"}, "engine": {"type": "gpt"}}))
    result = run("-f", str(path), "-o", "json")
    assert result.exit_code == 1
    assert 'spec.engine.type: Unsupported value: "gpt"' in result.stderr


def test_warnings_go_to_stderr(tmp_path):
    path = write(tmp_path, "md.yaml", deployment({"model": {"id": "x"}, "engine": {"type": "vllm", "trustRemoteCode": True}}))
    result = run("-f", str(path), "-o", "yaml")
    assert result.exit_code == 0
    assert "Warning: trustRemoteCode=true allows execution of arbitrary code from HuggingFace" in result.stderr
    assert "Warning" not in result.stdout


def test_controller_side_failure_exits_1(tmp_path):
    path = write(tmp_path, "md.yaml", deployment({"model": {"id": "x"}, "engine": {"type": "vllm"}, "resources": {"cpu": "2"}}))
    result = run("-f", str(path))
    assert result.exit_code == 1
    assert "error: Validation failed: vllm engine requires GPU (set resources.gpu.count > 0)" in result.stderr


def test_provider_selection_failure_exits_1(tmp_path):
    engines = [{"name": "sglang", "servingModes": ["aggregated"], "gpuSupport": True}]
    configs = write(tmp_path, "p.yaml", {"apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig", "metadata": {"name": "s"}, "spec": {"capabilities": {"engines": engines}}})
    path = write(tmp_path, "md.yaml", deployment({"model": {"id": "x"}, "engine": {"type": "vllm"}}))
    result = run("-f", str(path), "--provider-config", str(configs))
    assert result.exit_code == 1
    assert "error: Provider selection failed: no compatible provider found for this configuration" in result.stderr
    assert "engine unsupported" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("spec: [unclosed", "not valid YAML"),
        ("", "no ModelDeployment found (the file is empty)"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "no ModelDeployment found (found ConfigMap)"),
        ("- a\n- b\n", "expected a Kubernetes object"),
    ],
)
def test_unreadable_input_exits_2(tmp_path, content, message):
    path = tmp_path / "input.yaml"
    if content is not None:
        path.write_text(content)
    result = run("-f", str(path))
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.startswith("error: ")


def test_bad_provider_config_and_output_exit_2(tmp_path):
    bad = write(tmp_path, "p.yaml", {"apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig", "metadata": {"name": "x"}, "spec": {"capabilities": {"engines": [{"name": "nope"}]}}})
    result = run("-f", str(EXAMPLES / "llama-8b.yaml"), "--provider-config", str(bad))
    assert result.exit_code == 2 and "InferenceProviderConfig x is invalid" in result.stderr
    twice = write(tmp_path, "q.yaml", *[{"apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig", "metadata": {"name": "x"}}] * 2)
    assert "given more than once" in run("-f", str(EXAMPLES / "llama-8b.yaml"), "--provider-config", str(twice)).stderr
    result = run("-f", str(EXAMPLES / "llama-8b.yaml"), "-o", "xml")
    assert result.exit_code == 2 and "--output must be yaml or json" in result.stderr


def test_status_in_the_input_is_ignored():
    document = read_model_deployment(EXAMPLES / "llama-8b.yaml")
    document["status"] = {"provider": {"name": "kaito", "selectedReason": "stale"}, "engine": {"type": "sglang"}}
    result = render(document, default_provider_configs())
    assert result.ok
    assert result.deployment["status"]["provider"]["name"] == "dynamo"


def test_shipped_provider_configs_match_the_test_fixtures():
    shipped = {config.name: config.to_dict() for config in default_provider_configs()}
    assert sorted(shipped) == ["dynamo", "kaito", "kuberay", "llmd", "vllm"]
    for name, config in shipped.items():
        fixture = InferenceProviderConfig.model_validate(yaml.safe_load((DATA / "providerconfigs" / f"{name}.yaml").read_text()))
        assert config["spec"] == fixture.spec.to_dict(), name
        assert config["metadata"] == fixture.metadata.to_dict(), name
        assert config["status"]["ready"] is True


def test_overrides_that_are_not_an_object_are_refused(tmp_path):
    path = write(tmp_path, "md.yaml", deployment({"model": {"id": "x"}, "provider": {"overrides": ["a"]}}))
    result = run("-f", str(path))
    assert result.exit_code == 1
    assert 'spec.provider.overrides: Invalid value: "<redacted 5 bytes>": overrides must be a JSON object' in result.stderr


def alias_bomb(levels: int = 9) -> str:
    """A ModelDeployment of about 600 bytes whose overrides expand to 9**9 strings through aliases."""
    lines = ["apiVersion: airunway.ai/v1alpha1", "kind: ModelDeployment", "metadata: {name: bomb}",
             "a0: &a0 [" + ",".join(['"lol"'] * 9) + "]"]
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    lines.append(f"spec: {{model: {{id: x}}, provider: {{overrides: {{x: *a{levels - 1}}}}}}}")
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_is_refused_with_exit_code_2_within_bounded_memory(tmp_path):
    """In a child process limited to 1 GiB of address space, so a regression fails (MemoryError) rather than
    exhausting the machine."""
    import resource
    import subprocess
    import sys

    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb())
    assert len(path.read_bytes()) < 700

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    result = subprocess.run([sys.executable, "-m", "airunway.cli", "render", "-f", str(path)], capture_output=True,
                            text=True, preexec_fn=limit, timeout=300)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"error: {path}: document 1 refused: its anchors and aliases expand it by more than 100,000 nodes (a YAML "
        "alias bomb?); write the repeated parts out or use fewer aliases")


def test_a_provider_config_file_is_read_with_the_same_bounds(tmp_path):
    path = tmp_path / "configs.yaml"
    path.write_text(alias_bomb().replace("ModelDeployment", "InferenceProviderConfig"))
    result = run("-f", str(EXAMPLES / "llama-8b.yaml"), "--provider-config", str(path))
    assert result.exit_code == 2
    assert "document 1 refused: its anchors and aliases expand it" in result.stderr


def test_host_access_follows_the_provider_configs_annotation(tmp_path):
    spec = {"model": {"id": "org/model"}, "engine": {"type": "vllm"}, "resources": {"gpu": {"count": 1}},
            "provider": {"name": "vllm", "overrides": {"spec": {"template": {"spec": {
                "volumes": [{"name": "root", "hostPath": {"path": "/"}}]}}}}}}
    path = write(tmp_path, "host.yaml", deployment(spec))
    folder = ROOT / "src" / "airunway" / "policy" / "default_providers"
    config = yaml.safe_load((folder / "vllm.yaml").read_text())
    refused = run("-f", str(path), "--provider-config", str(write(tmp_path, "plain.yaml", config)))
    assert refused.exit_code == 1
    assert "spec.provider.overrides.spec.template.spec.volumes[0].hostPath: Forbidden" in refused.stderr
    config["metadata"].setdefault("annotations", {})["airunway.ai/allow-host-access"] = "true"
    allowed = rendered("-f", str(path), "--provider-config", str(write(tmp_path, "allowed.yaml", config)))
    assert allowed["status"]["provider"]["name"] == "vllm"
