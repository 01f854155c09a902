"""Prometheus metrics of the runtime, named and labelled as controller-runtime names them.

Everything is registered in :data:`registry` (not prometheus_client's global one), which the manager serves
on ``/metrics``; controllers add their own metrics to the same registry.
"""

from __future__ import annotations

import time
import weakref
from typing import Iterable, Protocol

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily

# Like the Go client: no `_created` series beside every counter and histogram.
prometheus_client.disable_created_metrics()

registry = CollectorRegistry(auto_describe=True)

# controller-runtime's reconcile-time buckets.
_RECONCILE_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
    1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
)
# client-go's workqueue buckets: 10 ns to 10 s by powers of ten.
_QUEUE_BUCKETS = tuple(1e-8 * 10**i for i in range(10))

reconcile_total = Counter(
    "controller_runtime_reconcile_total",
    "Total number of reconciliations per controller, by result (success, error, requeue, requeue_after).",
    ["controller", "result"], registry=registry,
)
reconcile_errors_total = Counter(
    "controller_runtime_reconcile_errors_total",
    "Total number of reconciliation errors per controller.",
    ["controller"], registry=registry,
)
terminal_reconcile_errors_total = Counter(
    "controller_runtime_terminal_reconcile_errors_total",
    "Total number of terminal reconciliation errors (not retried) per controller.",
    ["controller"], registry=registry,
)
reconcile_time_seconds = Histogram(
    "controller_runtime_reconcile_time_seconds",
    "Length of time per reconciliation per controller.",
    ["controller"], buckets=_RECONCILE_BUCKETS, registry=registry,
)
active_workers = Gauge(
    "controller_runtime_active_workers",
    "Number of currently used workers per controller.",
    ["controller"], registry=registry,
)
max_concurrent_reconciles = Gauge(
    "controller_runtime_max_concurrent_reconciles",
    "Maximum number of concurrent reconciles per controller.",
    ["controller"], registry=registry,
)

workqueue_depth = Gauge("workqueue_depth", "Current depth of workqueue.", ["name"], registry=registry)
workqueue_adds_total = Counter(
    "workqueue_adds_total", "Total number of adds handled by workqueue.", ["name"], registry=registry
)
workqueue_retries_total = Counter(
    "workqueue_retries_total", "Total number of retries handled by workqueue.", ["name"], registry=registry
)
workqueue_queue_duration_seconds = Histogram(
    "workqueue_queue_duration_seconds",
    "How long in seconds an item stays in workqueue before being requested.",
    ["name"], buckets=_QUEUE_BUCKETS, registry=registry,
)
workqueue_work_duration_seconds = Histogram(
    "workqueue_work_duration_seconds",
    "How long in seconds processing an item from workqueue takes.",
    ["name"], buckets=_QUEUE_BUCKETS, registry=registry,
)

leader_election_master_status = Gauge(
    "leader_election_master_status",
    "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.",
    ["name"], registry=registry,
)


class InFlightSource(Protocol):
    """What the in-flight gauges read of a work queue (kept as a protocol so this module imports no queue)."""

    name: str

    def processing_since(self) -> list[float]: ...


class _InFlightCollector:
    """Scrape-time gauges over the items queues are processing right now."""

    def __init__(self) -> None:
        self.queues: "weakref.WeakSet[InFlightSource]" = weakref.WeakSet()

    def describe(self) -> Iterable:
        return []

    def collect(self) -> Iterable:
        unfinished = GaugeMetricFamily(
            "workqueue_unfinished_work_seconds",
            "How many seconds of work has been done that is in progress and hasn't been observed by "
            "work_duration. Large values indicate stuck threads.",
            labels=["name"],
        )
        longest = GaugeMetricFamily(
            "workqueue_longest_running_processor_seconds",
            "How many seconds has the longest running processor for workqueue been running.",
            labels=["name"],
        )
        now = time.monotonic()
        totals: dict[str, tuple[float, float]] = {}
        for q in list(self.queues):
            if not q.name:
                continue
            starts = q.processing_since()
            total, worst = totals.get(q.name, (0.0, 0.0))
            ages = [now - s for s in starts]
            totals[q.name] = (total + sum(ages), max([worst, *ages]))
        for name, (total, worst) in sorted(totals.items()):
            unfinished.add_metric([name], total)
            longest.add_metric([name], worst)
        yield unfinished
        yield longest


in_flight = _InFlightCollector()
registry.register(in_flight)
