"""The informer's cache: objects keyed by :class:`Key`, with label selection and named indexes.

Reads return copies by default, so a caller can change what it got without corrupting the cache; pass
``copy=False`` on hot read-only paths. All methods take a lock, so the store can also be read from other
threads (the event loop itself never blocks on it for long).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterable, Mapping

from airunway.kube.resources import Key
from airunway.kube.selectors import Selector, parse_selector

Indexer = Callable[[dict], Iterable[str]]

NAMESPACE_INDEX = "namespace"


def clone(obj: Any) -> Any:
    """A deep copy of a JSON-like value (dicts, lists and scalars), much faster than copy.deepcopy."""
    if isinstance(obj, dict):
        return {k: clone(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [clone(v) for v in obj]
    return obj


def _namespace_index(obj: dict) -> list[str]:
    return [(obj.get("metadata") or {}).get("namespace") or ""]


class Store:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._items: dict[Key, dict] = {}
        self._indexers: dict[str, Indexer] = {}
        self._indices: dict[str, dict[str, set[Key]]] = {}
        self.add_indexer(NAMESPACE_INDEX, _namespace_index)

    # -- indexes ---------------------------------------------------------------------------------------

    def add_indexer(self, name: str, fn: Indexer) -> None:
        """Index objects by the values ``fn(obj)`` returns; query with :meth:`by_index`."""
        with self._lock:
            if name in self._indexers:
                raise ValueError(f"an index named {name!r} already exists")
            self._indexers[name] = fn
            self._indices[name] = {}
            for key, obj in self._items.items():
                self._index_add(name, key, obj)

    def _index_add(self, name: str, key: Key, obj: dict) -> None:
        index = self._indices[name]
        for value in self._indexers[name](obj) or ():
            index.setdefault(value, set()).add(key)

    def _index_remove(self, name: str, key: Key, obj: dict) -> None:
        index = self._indices[name]
        for value in self._indexers[name](obj) or ():
            keys = index.get(value)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del index[value]

    # -- reads -----------------------------------------------------------------------------------------

    def get(self, key: Key, *, copy: bool = True) -> dict | None:
        with self._lock:
            obj = self._items.get(key)
        return clone(obj) if copy and obj is not None else obj

    def list(
        self,
        namespace: str | None = None,
        selector: str | Mapping[str, Any] | Selector | None = None,
        *,
        copy: bool = True,
    ) -> list[dict]:
        """Objects in ``namespace`` (all when None) whose labels match ``selector``, in key order."""
        sel = parse_selector(selector)
        with self._lock:
            if namespace is None:
                keys = list(self._items)
            else:
                keys = list(self._indices[NAMESPACE_INDEX].get(namespace, ()))
            objs = [(k, self._items[k]) for k in keys]
        objs.sort(key=lambda pair: pair[0])
        out = [obj for _, obj in objs if sel.empty() or sel.matches_object(obj)]
        return [clone(o) for o in out] if copy else out

    def by_index(self, name: str, value: str, *, copy: bool = True) -> list[dict]:
        with self._lock:
            if name not in self._indices:
                raise KeyError(f"no index named {name!r}; add it with add_indexer")
            keys = sorted(self._indices[name].get(value, ()))
            out = [self._items[k] for k in keys]
        return [clone(o) for o in out] if copy else out

    def keys(self) -> list[Key]:
        with self._lock:
            return sorted(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    # -- writes (the informer's) -----------------------------------------------------------------------

    def upsert(self, obj: dict) -> dict | None:
        """Store ``obj`` under its key; the object it replaced, if any."""
        key = Key.of(obj)
        with self._lock:
            old = self._items.get(key)
            if old is not None:
                for name in self._indexers:
                    self._index_remove(name, key, old)
            self._items[key] = obj
            for name in self._indexers:
                self._index_add(name, key, obj)
        return old

    def remove(self, key: Key) -> dict | None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                for name in self._indexers:
                    self._index_remove(name, key, old)
        return old

    def replace(self, objs: Iterable[dict]) -> dict[Key, dict]:
        """Make the store hold exactly ``objs``; the previous contents."""
        with self._lock:
            previous = self._items
            self._items = {Key.of(o): o for o in objs}
            self._indices = {name: {} for name in self._indexers}
            for key, obj in self._items.items():
                for name in self._indexers:
                    self._index_add(name, key, obj)
        return previous
