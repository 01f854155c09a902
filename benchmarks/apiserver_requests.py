"""The API server's own request counter (``apiserver_request_total`` from its ``/metrics``), summed by verb,
resource and subresource, so a benchmark can count the requests a round made: read before, read after, subtract."""

from __future__ import annotations

import re
from collections import Counter

from airunway.kube.client import Client

_SAMPLE = re.compile(r'^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

Key = tuple[str, str, str]  # verb, resource, subresource


async def request_totals(client: Client) -> Counter[Key]:
    text = await client.request_text("/metrics")
    totals: Counter[Key] = Counter()
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if not match:
            continue
        labels = dict(_LABEL.findall(match["labels"]))
        totals[(labels.get("verb", ""), labels.get("resource", ""), labels.get("subresource", ""))] += int(
            float(match["value"]))
    return totals


def request_table(before: Counter[Key], after: Counter[Key], count: int, resources: set[str] | None = None) -> str:
    """The requests between the two readings, by verb and resource, in total and per object."""
    delta = {key: after[key] - before.get(key, 0) for key in after}
    rows = sorted((key, n) for key, n in delta.items() if n > 0 and (resources is None or key[1] in resources))
    lines = []
    for (verb, resource, subresource), n in rows:
        name = resource + (f"/{subresource}" if subresource else "")
        lines.append(f"    {verb:<7} {name:<32} {n:>7}  ({n / count:.2f} per object)")
    return "\n".join(lines) or "    none"
