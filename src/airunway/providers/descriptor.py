"""What a provider is to the process that runs it: a :class:`ProviderDescriptor` (name, display name, its
InferenceProviderConfig, its own typed command-line options and the factory of its reconciler), listed in
:mod:`airunway.providers.registry`.

A provider's own options are a :class:`ProviderFlags` model whose fields carry a :class:`Flag`; ``airunway provider``
turns each into a command-line flag, and a provider without options of its own uses :class:`ProviderFlags` as is::

    class DynamoFlags(ProviderFlags):
        download_job_image: Annotated[str, Flag("--download-job-image", "image of the model download Job")] = ""
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from airunway.kube.client import Client
from airunway.kube.informer import Cache
from airunway.providers.reconciler import ProviderReconciler
from airunway.providers.registration import ProviderConfig


@dataclass(frozen=True)
class Flag:
    """How a field of a provider's options is given on the command line: ``name`` (``--image-registry-endpoint``),
    its help, and whether it may be given several times. The field receives the string given (the list of them when
    repeated); its validators make of it what the provider needs."""

    name: str
    help: str
    repeated: bool = False
    metavar: str | None = None


class FlagError(ValueError):
    """A provider flag's value is not valid: ``flag`` and what is wrong with it."""

    def __init__(self, flag: str, problem: str) -> None:
        super().__init__(f"{flag}: {problem}")
        self.flag, self.problem = flag, problem


class ProviderFlags(BaseModel):
    """A provider's own options, set from the command line; this class itself is the options of a provider that has
    none."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def declared(cls) -> dict[str, Flag]:
        """Field name → its :class:`Flag`, for every field that has one."""
        found = {}
        for name, info in cls.model_fields.items():
            for meta in info.metadata:
                if isinstance(meta, Flag):
                    found[name] = meta
        return found

    @classmethod
    def from_flags(cls, values: Mapping[str, Any]) -> Self:
        """The options from the flags given (field name → value); :class:`FlagError` names the flag of a bad value."""
        try:
            return cls.model_validate(dict(values))
        except ValidationError as exc:
            error = exc.errors()[0]
            field = str(error["loc"][0]) if error["loc"] else ""
            flag = cls.declared().get(field)
            raise FlagError(flag.name if flag else field, error["msg"].removeprefix("Value error, ")) from None


F = TypeVar("F", bound=ProviderFlags)


@dataclass(frozen=True)
class ProviderDescriptor(Generic[F]):
    """One provider: everything ``airunway provider NAME`` needs to run it."""

    name: str
    """The provider's name: its InferenceProviderConfig, finalizer ``airunway.ai/<name>-provider``, CLI argument."""
    display: str
    """How messages and help name it ("vLLM", "KAITO")."""
    config: Callable[[], ProviderConfig]
    """The InferenceProviderConfig it registers and how its readiness is judged."""
    build: Callable[[Client, Cache, F], ProviderReconciler]
    """Its reconciler, given the client, the manager's cache and its options."""
    flags: type[F]
    """Its own options (:class:`ProviderFlags` when it has none)."""

    @staticmethod
    def without_flags(name: str, display: str, config: Callable[[], ProviderConfig],
                      reconciler: Callable[[Client, Cache], ProviderReconciler]) -> ProviderDescriptor[ProviderFlags]:
        """A provider with no options of its own: its reconciler is made from the client and the cache alone."""
        return ProviderDescriptor(name, display, config, lambda client, cache, _: reconciler(client, cache),
                                  ProviderFlags)
