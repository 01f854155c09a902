"""The controller runtime: a small, asyncio take on controller-runtime's concepts.

- :class:`Client`: JSON-dict access to any resource, server-side apply, errors as exception classes.
- :class:`Informer` / :class:`Cache`: list+watch caches with bookmarks, resume and 410 relist.
- :class:`WorkQueue`: deduplicating, rate-limited, delay-capable queue of keys.
- :class:`Controller`: informer events → keys → concurrent ``reconcile(key)`` with retries and requeues.
- :class:`Manager`: informers + controllers + leader election + ``/healthz`` ``/readyz`` ``/metrics``.

Example::

    async def main():
        client = await Client.connect()
        mgr = Manager(client, leader_election=LeaderElection("2038fe6a.airunway.ai"))

        async def reconcile(key: Key) -> Result | None:
            md = mgr.cache.get(MODELDEPLOYMENTS, key)
            if md is None:
                return None  # deleted
            await client.apply(desired_deployment(md), field_manager="airunway")
            return Result(requeue_after=60)

        mgr.controller("modeldeployment", reconcile, for_=MODELDEPLOYMENTS, workers=4).owns(DEPLOYMENTS)
        await mgr.run()
"""

from airunway.kube.client import Client, ConfigError, ObjectList, WatchEvent, load_config
from airunway.kube.controller import (
    Controller,
    MapFunc,
    Predicate,
    Reconciler,
    Result,
    TerminalError,
    annotations_changed,
    any_of,
    enqueue_object,
    enqueue_owner,
    generation_changed,
    labels_changed,
)
from airunway.kube.errors import (
    AlreadyExists,
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    Invalid,
    MethodNotAllowed,
    NotFound,
    ServerError,
    TooManyRequests,
    Unauthorized,
)
from airunway.kube.informer import Cache, CacheNotSynced, EventHandler, Informer
from airunway.kube.leader import LeaderElector
from airunway.kube.logs import configure_logging
from airunway.kube.manager import LeaderElection, LeaderElectionLost, Manager, MetricsServing
from airunway.kube.resources import (
    CONFIGMAPS,
    CRDS,
    DEPLOYMENTS,
    EVENTS,
    LEASES,
    NAMESPACES,
    NODES,
    PODS,
    ROLEBINDINGS,
    ROLES,
    SECRETS,
    SERVICEACCOUNTS,
    SERVICES,
    Key,
    Resource,
)
from airunway.kube.selectors import Selector, parse_selector
from airunway.kube.store import Store
from airunway.kube.workqueue import (
    ExponentialBackoff,
    MaxOf,
    RateLimiter,
    ShutDown,
    TokenBucket,
    WorkQueue,
    default_rate_limiter,
)

__all__ = [
    "AlreadyExists",
    "annotations_changed",
    "any_of",
    "ApiError",
    "BadRequest",
    "Cache",
    "CacheNotSynced",
    "Client",
    "ConfigError",
    "CONFIGMAPS",
    "configure_logging",
    "Conflict",
    "Controller",
    "CRDS",
    "default_rate_limiter",
    "DEPLOYMENTS",
    "enqueue_object",
    "enqueue_owner",
    "EventHandler",
    "EVENTS",
    "ExponentialBackoff",
    "Forbidden",
    "generation_changed",
    "Gone",
    "Informer",
    "Invalid",
    "Key",
    "labels_changed",
    "LeaderElection",
    "LeaderElectionLost",
    "LeaderElector",
    "LEASES",
    "load_config",
    "Manager",
    "MapFunc",
    "MaxOf",
    "MethodNotAllowed",
    "MetricsServing",
    "NAMESPACES",
    "NODES",
    "NotFound",
    "ObjectList",
    "parse_selector",
    "PODS",
    "Predicate",
    "RateLimiter",
    "Reconciler",
    "Resource",
    "Result",
    "ROLEBINDINGS",
    "ROLES",
    "SECRETS",
    "Selector",
    "ServerError",
    "SERVICEACCOUNTS",
    "SERVICES",
    "ShutDown",
    "Store",
    "TerminalError",
    "TokenBucket",
    "TooManyRequests",
    "Unauthorized",
    "WatchEvent",
    "WorkQueue",
]
