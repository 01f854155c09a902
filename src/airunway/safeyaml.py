"""YAML from outside, read with bounds: a few hundred bytes of anchors and aliases cannot become a huge document.

PyYAML shares the object an alias names, so loading a "billion laughs" document is quick, but whatever walks the
result afterwards (validation, JSON, a deep copy) meets every repetition and runs out of memory. :func:`load_all`
refuses a document whose aliases would add more than :data:`MAX_ALIAS_NODES` nodes to it, or that contains itself
through an alias, before anything is built from it; nesting deeper than the parser can follow is refused too. A
document without aliases is never refused for its size: it is no larger than its text.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_ALIAS_NODES = 100_000
"""How many nodes aliases may add to a document once expanded (each repetition of an anchored node counts)."""


class YAMLTooLarge(yaml.YAMLError):
    """The document would expand beyond the bounds; the message says how and what to do."""


def load_all(text: str, *, max_alias_nodes: int = MAX_ALIAS_NODES) -> list[Any]:
    """Every document of ``text``, as ``yaml.safe_load_all`` would give them, or :class:`yaml.YAMLError`."""
    loader = yaml.SafeLoader(text)
    documents: list[Any] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            _check_expansion(node, max_alias_nodes, len(documents) + 1)
            documents.append(loader.construct_document(node))
    except RecursionError:
        raise YAMLTooLarge("the YAML is nested too deeply to read") from None
    finally:
        loader.dispose()
    return documents


def load(text: str, *, max_alias_nodes: int = MAX_ALIAS_NODES) -> Any:
    """The one document of ``text`` (None when empty), as ``yaml.safe_load`` would give it."""
    documents = load_all(text, max_alias_nodes=max_alias_nodes)
    if len(documents) > 1:
        raise yaml.YAMLError(f"expected a single YAML document, found {len(documents)}")
    return documents[0] if documents else None


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expansion(root: Node, budget: int, number: int) -> None:
    """Refuse ``root`` when expanding its aliases adds more than ``budget`` nodes, or an alias contains itself."""
    distinct: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if id(node) not in distinct:
            distinct.add(id(node))
            pending.extend(_children(node))
    ceiling = len(distinct) + budget
    sizes: dict[int, int] = {}  # expanded size of each finished node
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] > ceiling:
                raise YAMLTooLarge(
                    f"document {number} refused: its anchors and aliases expand it by more than {budget:,} nodes "
                    "(a YAML alias bomb?); write the repeated parts out or use fewer aliases"
                )
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise YAMLTooLarge(f"document {number} refused: an alias refers to a node that contains it")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


__all__ = ["MAX_ALIAS_NODES", "YAMLTooLarge", "load", "load_all"]
