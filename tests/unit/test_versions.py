"""The Go modules under hack/ must match the pins in airunway.versions."""

from __future__ import annotations

import importlib.util
import re

from support import ROOT

HACK = ROOT / "hack"


def _pin_module():
    spec = importlib.util.spec_from_file_location("hack_pin", HACK / "pin.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _parse(go_mod: str) -> tuple[dict[str, str], dict[str, str], set[str]]:
    requires = dict(re.findall(r"^\s*(?:require\s+)?([\w./-]+)\s+(v[\w.+-]+)(?:\s*//.*)?$", go_mod, re.M))
    replaces = dict(re.findall(r"^replace\s+(\S+)\s+=>\s+\S+\s+(v\S+)$", go_mod, re.M))
    block = re.search(r"^tool \(\n(.*?)^\)", go_mod, re.M | re.S)
    tools = set(re.findall(r"^tool\s+(\S+)$", go_mod, re.M))
    tools |= set(block.group(1).split()) if block else set()
    return requires, replaces, tools


def test_go_modules_match_the_pins():
    pin = _pin_module()
    for name, spec in pin.expected().items():
        text = (HACK / name / "go.mod").read_text()
        requires, replaces, tools = _parse(text)
        for mod, version in spec["requires"].items():
            assert requires.get(mod) == version, f"hack/{name}/go.mod pins {mod} {requires.get(mod)}, versions.py says {version}: run python hack/pin.py"
        assert set(spec["tools"]) <= tools, f"hack/{name}/go.mod lacks tool directives {set(spec['tools']) - tools}"
        assert (HACK / name / "go.sum").is_file()
        if "staging_version" in spec:
            k8s = {m: v for m, v in replaces.items() if m.startswith("k8s.io/")}
            assert len(k8s) >= 30, "every k8s.io staging module must be replaced"
            assert set(k8s.values()) == {spec["staging_version"]}, k8s


def test_staging_version_follows_the_kubernetes_release():
    pin = _pin_module()
    assert pin.staging_version("v1.37.2") == "v0.37.2"
    assert pin.staging_version("v1.34.10") == "v0.34.10"
