"""Admission of ``spec.model.storage``: volume names, mount paths, claims, caches, and managed volumes on update."""

from __future__ import annotations

from airunway.api.modeldeployment import (
    ModelDeployment,
    StorageVolume,
    VolumePurpose,
    go_quote,
)
from airunway.policy.fielderrors import FieldError, forbidden, invalid, required
from airunway.policy.limits import MAX_NAME_LENGTH
from airunway.policy.quantity import quantities_equal

SYSTEM_MOUNT_PATHS = ("/dev", "/proc", "/sys", "/etc", "/var/run")


def validate_storage(md: ModelDeployment) -> list[FieldError]:
    """The errors of ``spec.model.storage`` (all of them, in upstream's order)."""
    storage = md.spec.model.storage
    volumes = (storage.volumes if storage else None) or []
    base = "spec.model.storage.volumes"
    errors: list[FieldError] = []
    names: set[str] = set()
    mount_paths: set[str] = set()
    claims: set[str] = set()
    model_caches = compilation_caches = 0
    managed_model_cache = False
    for index, volume in enumerate(volumes):
        path = f"{base}[{index}]"
        claim = volume.claim_name or ""
        mount = volume.mount_path or ""
        managed = volume.size is not None
        if not managed and not claim:
            errors.append(
                required(f"{path}.claimName", "claimName is required when size is not set (must reference a pre-existing PVC)")
            )
        if managed and volume.read_only:
            errors.append(
                invalid(
                    f"{path}.readOnly",
                    True,
                    "readOnly must not be true when size is set (controller-created PVCs need write access)",
                )
            )
        if managed and claim:
            expected = f"{md.name}-{volume.name}"
            if claim != expected:
                errors.append(
                    invalid(
                        f"{path}.claimName",
                        claim,
                        f"claimName must not be set when size is set (auto-generated as {go_quote(expected)})",
                    )
                )
        if managed:
            resolved = volume.resolved_claim_name(md.name)
            if len(resolved) > MAX_NAME_LENGTH:
                errors.append(
                    invalid(
                        f"{path}.name",
                        volume.name,
                        f"auto-generated PVC claim name {go_quote(resolved)} exceeds the 253-character Kubernetes "
                        f"name limit (got {len(resolved)} characters); use a shorter ModelDeployment or volume name",
                    )
                )
        # An accessMode outside the enum never gets here: the schema refuses it with the same NotSupported error
        # (see schema_errors).
        if volume.access_mode:
            if not managed:
                errors.append(
                    invalid(
                        f"{path}.accessMode",
                        volume.access_mode,
                        "accessMode is only applicable when size is set (controller-created PVCs)",
                    )
                )
        if volume.storage_class_name is not None and not managed:
            errors.append(
                invalid(
                    f"{path}.storageClassName",
                    volume.storage_class_name,
                    "storageClassName is only applicable when size is set (controller-created PVCs)",
                )
            )
        if volume.name in names:
            errors.append(invalid(f"{path}.name", volume.name, "duplicate volume name"))
        names.add(volume.name)
        if mount:
            if mount in mount_paths:
                errors.append(invalid(f"{path}.mountPath", mount, "duplicate mount path"))
            mount_paths.add(mount)
        if claim:
            if claim in claims:
                errors.append(invalid(f"{path}.claimName", claim, "duplicate claim name"))
            claims.add(claim)
        if mount and not mount.startswith("/"):
            errors.append(invalid(f"{path}.mountPath", mount, "mountPath must be an absolute path (start with /)"))
        if volume.purpose == VolumePurpose.CUSTOM and not mount:
            errors.append(required(f"{path}.mountPath", "mountPath is required when purpose is custom"))
        for system_path in SYSTEM_MOUNT_PATHS:
            if mount == system_path or mount.startswith(system_path + "/"):
                errors.append(invalid(f"{path}.mountPath", mount, f"mountPath must not overlap with system path {system_path}"))
                break
        if volume.purpose == VolumePurpose.MODEL_CACHE:
            model_caches += 1
            managed_model_cache = managed_model_cache or (managed and not volume.read_only)
        elif volume.purpose == VolumePurpose.COMPILATION_CACHE:
            compilation_caches += 1
    if model_caches > 1:
        errors.append(invalid(base, model_caches, "at most one volume with purpose=modelCache is allowed"))
    if compilation_caches > 1:
        errors.append(invalid(base, compilation_caches, "at most one volume with purpose=compilationCache is allowed"))
    job = f"{md.name}-model-download"
    if managed_model_cache and len(job) > MAX_NAME_LENGTH:
        errors.append(
            invalid(
                "metadata.name",
                md.name,
                f"auto-generated download Job name {go_quote(job)} exceeds the 253-character Kubernetes name limit "
                f"(got {len(job)} characters); use a shorter ModelDeployment name",
            )
        )
    return errors


def managed_volume_changes(old: ModelDeployment, new: ModelDeployment) -> list[FieldError]:
    def volumes(md: ModelDeployment) -> list[StorageVolume]:
        return (md.spec.model.storage.volumes if md.spec.model.storage else None) or []

    managed = {volume.name: volume for volume in volumes(old) if volume.size is not None}
    if not managed:
        return []
    base = "spec.model.storage.volumes"
    new_names = {volume.name for volume in volumes(new)}
    errors = [
        forbidden(
            base,
            f"managed storage volume {go_quote(name)} cannot be removed (it has an associated PVC; delete the "
            "ModelDeployment to clean up managed storage)",
        )
        for name in managed
        if name not in new_names
    ]
    for index, volume in enumerate(volumes(new)):
        before = managed.get(volume.name)
        if before is not None and not storage_volumes_equal(before, volume):
            errors.append(
                invalid(
                    f"{base}[{index}]",
                    volume.name,
                    "managed storage volume is immutable once created (delete the ModelDeployment to change managed "
                    "storage configuration)",
                )
            )
    return errors


def storage_volumes_equal(a: StorageVolume | None, b: StorageVolume | None) -> bool:
    """Semantic equality of two volumes: sizes compared by value (``1Gi`` equals ``1024Mi``)."""
    if a is None or b is None:
        return a is b
    return (
        a.name == b.name
        and (a.claim_name or "") == (b.claim_name or "")
        and (a.mount_path or "") == (b.mount_path or "")
        and a.purpose == b.purpose
        and a.read_only == b.read_only
        and (a.access_mode or "") == (b.access_mode or "")
        and a.storage_class_name == b.storage_class_name
        and quantities_equal(a.size, b.size)
    )


__all__ = ["SYSTEM_MOUNT_PATHS", "managed_volume_changes", "storage_volumes_equal", "validate_storage"]
