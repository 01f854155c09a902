"""Label selectors and the informer store (no cluster)."""

from __future__ import annotations

import pytest

from airunway.kube.resources import CONFIGMAPS, LEASES, NODES, Key, Resource
from airunway.kube.selectors import parse_selector, selector_string
from airunway.kube.store import Store


def labels(**kv) -> dict:
    return kv


@pytest.mark.parametrize(
    ("selector", "matching", "not_matching"),
    [
        ("app=web", [labels(app="web"), labels(app="web", x="1")], [labels(app="db"), {}]),
        ("app==web", [labels(app="web")], [labels(app="db")]),
        ("app!=web", [labels(app="db"), {}], [labels(app="web")]),
        ("tier in (a, b)", [labels(tier="a"), labels(tier="b")], [labels(tier="c"), {}]),
        ("tier notin (a,b)", [labels(tier="c"), {}], [labels(tier="a")]),
        ("app", [labels(app="")], [{}]),
        ("!legacy", [{}, labels(app="x")], [labels(legacy="true")]),
        ("gpus>2", [labels(gpus="4")], [labels(gpus="2"), labels(gpus="x"), {}]),
        ("gpus<2", [labels(gpus="1")], [labels(gpus="2")]),
        ("app=web,tier in (a,b),!legacy", [labels(app="web", tier="a")], [labels(app="web", tier="a", legacy="1")]),
        ("example.com/role=x", [{"example.com/role": "x"}], [{"role": "x"}]),
        ("", [{}, labels(a="b")], []),
    ],
)
def test_selector_strings(selector, matching, not_matching):
    sel = parse_selector(selector)
    for lab in matching:
        assert sel.matches(lab), (selector, lab)
    for lab in not_matching:
        assert not sel.matches(lab), (selector, lab)


def test_mapping_and_label_selector_forms():
    assert parse_selector({"app": "web"}).matches({"app": "web", "x": "y"})
    assert not parse_selector({"app": "web"}).matches({"app": "db"})
    full = parse_selector({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["a", "b"]},
            {"key": "legacy", "operator": "DoesNotExist"},
            {"key": "zone", "operator": "Exists"},
            {"key": "os", "operator": "NotIn", "values": ["windows"]},
        ],
    })
    assert full.matches({"app": "web", "tier": "a", "zone": "z"})
    assert not full.matches({"app": "web", "tier": "a", "zone": "z", "os": "windows"})
    assert not full.matches({"app": "web", "tier": "a"})
    assert parse_selector(None).empty() and parse_selector(None).matches(None)


@pytest.mark.parametrize("bad", ["app=web=x", "tier in a,b", "=x", "gpus>two", "a b"])
def test_invalid_selectors_say_what_is_wrong(bad):
    with pytest.raises(ValueError):
        parse_selector(bad)


def test_invalid_match_expression_operator():
    with pytest.raises(ValueError, match="operator"):
        parse_selector({"matchExpressions": [{"key": "a", "operator": "Gt"}]})


def test_selector_string_round_trips():
    assert selector_string(None) is None and selector_string("") is None
    assert selector_string("a=b") == "a=b"
    text = selector_string({"matchLabels": {"app": "web"},
                            "matchExpressions": [{"key": "t", "operator": "In", "values": ["b", "a"]},
                                                 {"key": "x", "operator": "DoesNotExist"}]})
    assert text == "app=web,t in (a,b),!x"
    for lab in ({"app": "web", "t": "a"}, {"app": "web", "t": "c"}, {"app": "web", "t": "a", "x": "1"}):
        assert parse_selector(text).matches(lab) == parse_selector(
            {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "t", "operator": "In", "values": ["b", "a"]},
                                                                 {"key": "x", "operator": "DoesNotExist"}]}).matches(lab)


# -- resources and keys ------------------------------------------------------------------------------------


def test_resource_paths():
    assert CONFIGMAPS.path() == "/api/v1/configmaps"
    assert CONFIGMAPS.path("ns") == "/api/v1/namespaces/ns/configmaps"
    assert CONFIGMAPS.path("ns", "x") == "/api/v1/namespaces/ns/configmaps/x"
    assert LEASES.path("ns", "l") == "/apis/coordination.k8s.io/v1/namespaces/ns/leases/l"
    md = Resource("airunway.ai", "v1alpha1", "modeldeployments", kind="ModelDeployment")
    assert md.path("ns", "m", "status") == "/apis/airunway.ai/v1alpha1/namespaces/ns/modeldeployments/m/status"
    assert md.api_version == "airunway.ai/v1alpha1" and str(md) == "modeldeployments.airunway.ai"
    assert NODES.path(name="n1") == "/api/v1/nodes/n1"
    with pytest.raises(ValueError, match="cluster-scoped"):
        NODES.path("ns", "n1")
    with pytest.raises(ValueError, match="needs a namespace"):
        CONFIGMAPS.path(name="x")


def test_keys():
    assert str(Key("ns", "a")) == "ns/a" and str(Key("", "a")) == "a"
    assert Key.parse("ns/a") == Key("ns", "a") and Key.parse("a") == Key("", "a")
    assert Key.of({"metadata": {"name": "a", "namespace": "ns"}}) == Key("ns", "a")
    assert Key.of({"metadata": {"name": "a"}}) == Key("", "a")


# -- store -------------------------------------------------------------------------------------------------


def obj(ns: str, name: str, rv: str = "1", **labels) -> dict:
    return {"metadata": {"namespace": ns, "name": name, "resourceVersion": rv, "labels": labels}, "data": {}}


def test_store_reads_writes_and_copies():
    s = Store()
    assert s.upsert(obj("a", "x", app="web")) is None
    s.upsert(obj("b", "y", app="db"))
    old = s.upsert(obj("a", "x", rv="2", app="web"))
    assert old["metadata"]["resourceVersion"] == "1"
    assert len(s) == 2 and Key("a", "x") in s
    assert s.keys() == [Key("a", "x"), Key("b", "y")]
    assert [o["metadata"]["name"] for o in s.list("a")] == ["x"]
    assert [o["metadata"]["name"] for o in s.list(selector="app=db")] == ["y"]
    assert s.list("c") == []
    got = s.get(Key("a", "x"))
    got["data"]["changed"] = "yes"
    assert s.get(Key("a", "x"))["data"] == {}, "reads are copies"
    assert s.get(Key("a", "x"), copy=False) is s.get(Key("a", "x"), copy=False)
    assert s.remove(Key("a", "x"))["metadata"]["name"] == "x"
    assert s.remove(Key("a", "x")) is None
    assert s.list("a") == []


def test_store_indexes_follow_every_change():
    s = Store()
    s.upsert(obj("a", "x", app="web"))
    s.add_indexer("app", lambda o: [o["metadata"]["labels"].get("app", "")])
    s.upsert(obj("a", "y", app="web"))
    assert [o["metadata"]["name"] for o in s.by_index("app", "web")] == ["x", "y"]
    s.upsert(obj("a", "x", rv="2", app="db"))
    assert [o["metadata"]["name"] for o in s.by_index("app", "web")] == ["y"]
    assert [o["metadata"]["name"] for o in s.by_index("app", "db")] == ["x"]
    s.remove(Key("a", "y"))
    assert s.by_index("app", "web") == []
    previous = s.replace([obj("b", "z", app="web")])
    assert set(previous) == {Key("a", "x")}
    assert [o["metadata"]["name"] for o in s.by_index("app", "web")] == ["z"]
    assert s.by_index("app", "db") == [] and s.list("a") == []
    with pytest.raises(KeyError, match="add_indexer"):
        s.by_index("missing", "x")
    with pytest.raises(ValueError):
        s.add_indexer("app", lambda o: [])
