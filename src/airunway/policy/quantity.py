"""Kubernetes resource quantities (``resource.Quantity``) as exact decimals, for ceilings and comparisons."""

from __future__ import annotations

import re
from decimal import Decimal

_SUFFIXES = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
_QUANTITY = re.compile(r"^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$")


def parse_quantity(value: str | int | float) -> Decimal:
    """The value of a quantity such as ``500m``, ``4Gi``, ``1e3`` or ``8``. Raises ``ValueError`` when malformed."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a quantity")
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    match = _QUANTITY.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a quantity")
    sign, number, suffix = match.group(1), match.group(2), match.group(3) or ""
    amount = Decimal(number)
    if suffix[:1] in ("e", "E"):
        amount = amount.scaleb(int(suffix[1:]))
    else:
        amount *= _SUFFIXES[suffix]
    return -amount if sign == "-" else amount


def quantities_equal(a: str | int | None, b: str | int | None) -> bool:
    """Whether two optional quantities are equal in value (``1Gi`` equals ``1024Mi``); unparsable ones by text."""
    if a is None or b is None:
        return a is None and b is None
    try:
        return parse_quantity(a) == parse_quantity(b)
    except ValueError:
        return str(a) == str(b)


__all__ = ["parse_quantity", "quantities_equal"]
