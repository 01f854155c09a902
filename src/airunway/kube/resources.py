"""Resource types and object keys.

A :class:`Resource` names one API resource (group, version, plural, scope, kind): everything needed to build
its URLs. A :class:`Key` names one object (namespace, name); cluster-scoped objects have namespace ``""``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    namespaced: bool = True
    kind: str = ""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        """The URL path: the collection (all namespaces when ``namespace`` is None), or one object."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        elif not self.namespaced and namespace:
            raise ValueError(f"{self} is cluster-scoped; do not pass a namespace")
        elif self.namespaced and name and not namespace:
            raise ValueError(f"{self} is namespaced; name {name!r} needs a namespace")
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
            if subresource:
                base += f"/{subresource}"
        return base

    def __str__(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


class Key(NamedTuple):
    """Identifies an object: ``Key(namespace, name)``; ``str(key)`` is ``"namespace/name"`` (or ``"name"``)."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> "Key":
        meta = obj.get("metadata") or {}
        return cls(meta.get("namespace") or "", meta.get("name") or "")

    @classmethod
    def parse(cls, text: str) -> "Key":
        namespace, _, name = text.rpartition("/")
        return cls(namespace, name)


def meta(obj: Mapping[str, Any]) -> dict:
    """``obj["metadata"]`` or an empty dict."""
    return obj.get("metadata") or {}


def group_of(api_version: str) -> str:
    """The group of an apiVersion string (``""`` for the core group)."""
    return api_version.rpartition("/")[0]


# Resources the runtime and its users need often.
NAMESPACES = Resource("", "v1", "namespaces", namespaced=False, kind="Namespace")
CONFIGMAPS = Resource("", "v1", "configmaps", kind="ConfigMap")
SECRETS = Resource("", "v1", "secrets", kind="Secret")
SERVICES = Resource("", "v1", "services", kind="Service")
SERVICEACCOUNTS = Resource("", "v1", "serviceaccounts", kind="ServiceAccount")
PODS = Resource("", "v1", "pods", kind="Pod")
EVENTS = Resource("", "v1", "events", kind="Event")
NODES = Resource("", "v1", "nodes", namespaced=False, kind="Node")
DEPLOYMENTS = Resource("apps", "v1", "deployments", kind="Deployment")
LEASES = Resource("coordination.k8s.io", "v1", "leases", kind="Lease")
CRDS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", namespaced=False, kind="CustomResourceDefinition")
ROLES = Resource("rbac.authorization.k8s.io", "v1", "roles", kind="Role")
ROLEBINDINGS = Resource("rbac.authorization.k8s.io", "v1", "rolebindings", kind="RoleBinding")
TOKENREVIEWS = Resource("authentication.k8s.io", "v1", "tokenreviews", namespaced=False, kind="TokenReview")
SUBJECTACCESSREVIEWS = Resource(
    "authorization.k8s.io", "v1", "subjectaccessreviews", namespaced=False, kind="SubjectAccessReview"
)
SELFSUBJECTACCESSREVIEWS = Resource(
    "authorization.k8s.io", "v1", "selfsubjectaccessreviews", namespaced=False, kind="SelfSubjectAccessReview"
)
PERSISTENTVOLUMECLAIMS = Resource("", "v1", "persistentvolumeclaims", kind="PersistentVolumeClaim")
