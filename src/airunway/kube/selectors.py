"""Label selectors, matched locally with the API server's semantics.

A selector is given as the API's query string (``"app=web,tier in (a,b),!legacy"``), as a plain mapping of
labels that must all be equal (``{"app": "web"}``), or as a ``metav1.LabelSelector`` dict
(``{"matchLabels": …, "matchExpressions": […]}``). :func:`parse_selector` turns any of them into a
:class:`Selector`, whose :meth:`Selector.matches` takes an object's labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_SET = re.compile(rf"^\s*(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^)]*)\)\s*$")
_BINARY = re.compile(rf"^\s*(?P<key>{_KEY})\s*(?P<op>==|=|!=|>|<)\s*(?P<value>[-A-Za-z0-9_.]*)\s*$")
_EXISTS = re.compile(rf"^\s*(?P<neg>!?)\s*(?P<key>{_KEY})\s*$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "in", "notin", "exists", "!", "gt", "lt"
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op == "in":
            return present and labels[self.key] in self.values
        if self.op == "notin":
            return not present or labels[self.key] not in self.values
        if not present:
            return False
        try:
            have, want = int(labels[self.key]), int(next(iter(self.values)))
        except ValueError:
            return False
        return have > want if self.op == "gt" else have < want


@dataclass(frozen=True)
class Selector:
    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def matches_object(self, obj: Mapping[str, Any]) -> bool:
        return self.matches((obj.get("metadata") or {}).get("labels"))

    def empty(self) -> bool:
        return not self.requirements


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in (s.strip() for s in parts) if p]


def _parse_requirement(text: str) -> Requirement:
    if m := _SET.match(text):
        values = frozenset(v.strip() for v in m["values"].split(",") if v.strip())
        return Requirement(m["key"], m["op"], values)
    if m := _BINARY.match(text):
        op = {"=": "in", "==": "in", "!=": "notin", ">": "gt", "<": "lt"}[m["op"]]
        if op in ("gt", "lt") and not re.fullmatch(r"-?\d+", m["value"]):
            raise ValueError(f"label selector {text!r}: {m['op']} needs an integer value")
        return Requirement(m["key"], op, frozenset([m["value"]]))
    if m := _EXISTS.match(text):
        return Requirement(m["key"], "!" if m["neg"] else "exists")
    raise ValueError(f"label selector requirement {text!r} is not valid: use key=value, key!=value, "
                     f"key in (a,b), key notin (a,b), key or !key")


_EXPR_OPS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}


def parse_selector(selector: str | Mapping[str, Any] | Selector | None) -> Selector:
    """A :class:`Selector` from a query string, a label mapping or a LabelSelector dict (None: everything)."""
    if selector is None:
        return Selector()
    if isinstance(selector, Selector):
        return selector
    if isinstance(selector, str):
        return Selector(tuple(_parse_requirement(p) for p in _split_top_level(selector)))
    if "matchLabels" in selector or "matchExpressions" in selector:
        reqs = [Requirement(k, "in", frozenset([str(v)])) for k, v in (selector.get("matchLabels") or {}).items()]
        for expr in selector.get("matchExpressions") or []:
            op = _EXPR_OPS.get(expr.get("operator", ""))
            if op is None:
                raise ValueError(f"matchExpressions operator {expr.get('operator')!r} is not one of {sorted(_EXPR_OPS)}")
            reqs.append(Requirement(expr["key"], op, frozenset(expr.get("values") or [])))
        return Selector(tuple(reqs))
    return Selector(tuple(Requirement(k, "in", frozenset([str(v)])) for k, v in selector.items()))


def selector_string(selector: str | Mapping[str, Any] | Selector | None) -> str | None:
    """The query-string form the API server accepts (None for "everything")."""
    if selector is None or isinstance(selector, str):
        return selector or None
    sel = parse_selector(selector)
    parts = []
    for r in sel.requirements:
        values = ",".join(sorted(r.values))
        if r.op == "exists":
            parts.append(r.key)
        elif r.op == "!":
            parts.append(f"!{r.key}")
        elif r.op == "in" and len(r.values) == 1:
            parts.append(f"{r.key}={values}")
        elif r.op in ("gt", "lt"):
            parts.append(f"{r.key}{'>' if r.op == 'gt' else '<'}{values}")
        else:
            parts.append(f"{r.key} {r.op} ({values})")
    return ",".join(parts) or None

