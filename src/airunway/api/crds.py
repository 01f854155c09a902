"""The AI Runway CustomResourceDefinitions, generated from the pydantic models.

``python -m airunway.api.crds`` prints them; ``--write`` regenerates ``deploy/crds/``; ``--check`` exits 1 when
the committed files differ from the models.

The OpenAPI schema comes from ``model_json_schema()`` made structural: ``$ref`` inlined, ``X | None`` unwrapped
(absent is how Kubernetes says "unset"), titles and null defaults dropped, free-form objects marked
``x-kubernetes-preserve-unknown-fields``. Anything else that Kubernetes would not accept as structural is an error
here, not a surprise at install time.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from airunway.api.constants import (
    GROUP,
    INFERENCE_PROVIDER_CONFIG_KIND,
    INFERENCE_PROVIDER_CONFIG_PLURAL,
    MODEL_DEPLOYMENT_KIND,
    MODEL_DEPLOYMENT_PLURAL,
    VERSION,
)
from airunway.api.modeldeployment import ModelDeployment, ModelDeploymentSpec, ModelDeploymentStatus
from airunway.api.providerconfig import (
    InferenceProviderConfig,
    InferenceProviderConfigSpec,
    InferenceProviderConfigStatus,
)

_REPO = Path(__file__).resolve().parents[3]
# In a checkout the repository's deploy/crds; installed elsewhere, deploy/crds under the working directory.
DEFAULT_DIR = (_REPO if (_REPO / "pyproject.toml").is_file() else Path.cwd()) / "deploy" / "crds"

# The OpenAPI keywords a generated schema node may use. Anything else (a pydantic-specific keyword, a constraint
# spelled the JSON-Schema way, ...) means the models use a construct this generator does not translate.
ALLOWED_KEYWORDS = frozenset(
    {
        "type",
        "description",
        "properties",
        "required",
        "items",
        "additionalProperties",
        "default",
        "enum",
        "format",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "pattern",
        "anyOf",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-int-or-string",
        "x-kubernetes-list-type",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-map-type",
    }
)


def _description(text: str) -> str:
    return " ".join(text.split())


def structural(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """One node of a pydantic JSON schema, rewritten as a structural OpenAPI v3 schema node."""
    node = dict(node)
    ref = node.pop("$ref", None)
    if ref is not None:
        # Keywords next to the reference (the field's description, default, markers) win over the referenced type's.
        node = {**structural(defs[ref.rsplit("/", 1)[-1]], defs), **node}
    if "anyOf" in node:
        variants = [v for v in node.pop("anyOf") if v.get("type") != "null"]
        if len(variants) == 1:
            node = {**structural(variants[0], defs), **node}
        elif node.get("x-kubernetes-int-or-string") and [v.get("type") for v in variants] == ["integer", "string"]:
            node["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        else:
            raise ValueError(f"cannot express a union of {variants} in a structural schema")
    node.pop("title", None)
    if node.get("default", 0) is None:
        del node["default"]
    if "description" in node:
        node["description"] = _description(node["description"])
    if node.get("additionalProperties") is True:
        del node["additionalProperties"]
        node["x-kubernetes-preserve-unknown-fields"] = True
    elif isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = structural(node["additionalProperties"], defs)
    if "properties" in node:
        node["properties"] = {name: structural(child, defs) for name, child in node["properties"].items()}
    if "items" in node:
        node["items"] = structural(node["items"], defs)
    if "required" in node:
        node["required"] = sorted(node["required"])
    unknown = set(node) - ALLOWED_KEYWORDS
    if unknown:
        raise ValueError(f"schema keywords {sorted(unknown)} have no OpenAPI equivalent here: {node}")
    return node


def openapi_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The structural OpenAPI v3 schema of ``model``."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.pop("$defs", {})
    return structural(raw, defs)


def _object_schema(
    kind: type[BaseModel], spec: type[BaseModel], status: type[BaseModel], spec_required: bool
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "description": _description(kind.__doc__ or ""),
        "type": "object",
        "properties": {
            "apiVersion": {
                "description": "The versioned schema of this object; servers may convert it to the version they "
                "store and reject versions they do not know.",
                "type": "string",
            },
            "kind": {
                "description": "The REST resource this object represents, in CamelCase; cannot be updated.",
                "type": "string",
            },
            "metadata": {"type": "object"},
            "spec": openapi_schema(spec),
            "status": openapi_schema(status),
        },
    }
    if spec_required:
        schema["required"] = ["spec"]
    return schema


def _crd(
    kind: str,
    plural: str,
    scope: str,
    schema: dict[str, Any],
    columns: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()},
            "scope": scope,
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "additionalPrinterColumns": columns,
                    "schema": {"openAPIV3Schema": schema},
                    "subresources": {"status": {}},
                }
            ],
        },
    }


def _column(name: str, type: str, json_path: str, description: str | None = None) -> dict[str, Any]:
    column = {"name": name, "type": type, "jsonPath": json_path}
    if description:
        column["description"] = description
    return column


AGE_COLUMN = _column("Age", "date", ".metadata.creationTimestamp")


def model_deployment_crd() -> dict[str, Any]:
    return _crd(
        MODEL_DEPLOYMENT_KIND,
        MODEL_DEPLOYMENT_PLURAL,
        "Namespaced",
        _object_schema(ModelDeployment, ModelDeploymentSpec, ModelDeploymentStatus, spec_required=True),
        [
            _column("Phase", "string", ".status.phase", "Current phase"),
            _column("Provider", "string", ".status.provider.name", "Selected provider"),
            _column("Engine", "string", ".status.engine.type", "Inference engine"),
            _column("Replicas", "integer", ".status.replicas.ready", "Ready replicas"),
            AGE_COLUMN,
        ],
    )


def inference_provider_config_crd() -> dict[str, Any]:
    return _crd(
        INFERENCE_PROVIDER_CONFIG_KIND,
        INFERENCE_PROVIDER_CONFIG_PLURAL,
        "Cluster",
        _object_schema(
            InferenceProviderConfig, InferenceProviderConfigSpec, InferenceProviderConfigStatus, spec_required=False
        ),
        [
            _column("Ready", "boolean", ".status.ready", "Provider ready"),
            _column("Version", "string", ".status.version", "Provider version"),
            AGE_COLUMN,
        ],
    )


def crd_documents() -> list[dict[str, Any]]:
    """The CustomResourceDefinition objects: ModelDeployment, then InferenceProviderConfig."""
    return [model_deployment_crd(), inference_provider_config_crd()]


def to_yaml(documents: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(documents, explicit_start=True, sort_keys=True, width=100)


def crd_yaml() -> str:
    """All CRDs as one multi-document YAML stream."""
    return to_yaml(crd_documents())


def crd_files() -> dict[str, str]:
    """File name → content of every file of ``deploy/crds``."""
    files = {f"{doc['metadata']['name'].split('.', 1)[1]}_{doc['spec']['names']['plural']}.yaml": to_yaml([doc])
             for doc in crd_documents()}
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": list(files),
    }
    files["kustomization.yaml"] = yaml.safe_dump(kustomization, sort_keys=False)
    return files


def stale_files(directory: Path = DEFAULT_DIR) -> list[str]:
    """Names of the files in ``directory`` that are missing or differ from what the models generate."""
    return [
        name
        for name, content in crd_files().items()
        if not (directory / name).is_file() or (directory / name).read_text() != content
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m airunway.api.crds", description=__doc__.split("\n")[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="write the CRD files into --dir")
    action.add_argument("--check", action="store_true", help="exit 1 if the files in --dir are out of date")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"default: {DEFAULT_DIR}")
    options = parser.parse_args(argv)
    if options.write:
        options.dir.mkdir(parents=True, exist_ok=True)
        for name, content in crd_files().items():
            (options.dir / name).write_text(content)
            print(f"wrote {options.dir / name}")
        return 0
    if options.check:
        stale = stale_files(options.dir)
        for name in stale:
            print(f"{options.dir / name} is out of date: run `python -m airunway.api.crds --write`", file=sys.stderr)
        return 1 if stale else 0
    sys.stdout.write(crd_yaml())
    return 0


if __name__ == "__main__":
    sys.exit(main())
