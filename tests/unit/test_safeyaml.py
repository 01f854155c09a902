"""YAML from outside read with bounds (airunway.safeyaml)."""

from __future__ import annotations

import pytest
import yaml

from airunway import safeyaml


def test_documents_read_as_safe_load_reads_them():
    text = "a: &x [1, 2]\nb: *x\nc: {<<: {d: 1}, e: 2}\n---\n- t\n---\n"
    assert safeyaml.load_all(text) == list(yaml.safe_load_all(text))
    assert safeyaml.load("k: v") == {"k": "v"} and safeyaml.load("") is None
    with pytest.raises(yaml.YAMLError, match="expected a single YAML document, found 2"):
        safeyaml.load("a: 1\n---\nb: 2\n")


def nested_aliases(levels: int, width: int = 10) -> str:
    lines = ["a0: &a0 [" + ",".join(["x"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_aliases_may_add_nodes_up_to_the_budget():
    # 4 levels of 10: 19 nodes written (the mapping, 4 keys, 4 lists, 10 scalars), 12,349 once expanded.
    text = nested_aliases(4)
    assert safeyaml.load_all(text, max_alias_nodes=12_330)[0]["a3"][9][9][9][9] == "x"
    with pytest.raises(safeyaml.YAMLTooLarge, match=r"expand it by more than 12,329 nodes"):
        safeyaml.load_all(text, max_alias_nodes=12_329)


def test_a_billion_laughs_is_refused_before_it_is_built():
    with pytest.raises(safeyaml.YAMLTooLarge, match="document 1 refused"):
        safeyaml.load_all(nested_aliases(10))


def test_a_large_document_without_aliases_is_not_refused():
    text = "\n".join(f"k{i}: [{i}, {i}]" for i in range(5_000))
    assert len(safeyaml.load_all(text, max_alias_nodes=10)[0]) == 5_000


def test_a_document_that_contains_itself_is_refused():
    with pytest.raises(safeyaml.YAMLTooLarge, match="an alias refers to a node that contains it"):
        safeyaml.load_all("a: &a [1, *a]\n")
    with pytest.raises(safeyaml.YAMLTooLarge, match="document 2 refused"):
        safeyaml.load_all("ok: 1\n---\n&m {self: *m}\n")


def test_nesting_too_deep_is_refused():
    with pytest.raises(safeyaml.YAMLTooLarge, match="nested too deeply"):
        safeyaml.load_all("[" * 100_000 + "]" * 100_000)
