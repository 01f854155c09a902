"""The JSON the client sends the API server: also the YAML a server-side apply body is read as."""

from __future__ import annotations

import json

import pytest
import yaml

from airunway.kube.client import encode_body

ODD = [
    "launch 🚀",  # outside the Basic Multilingual Plane: a surrogate pair in JSON's \u escapes
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and é ✓",
    "line\u2028separator",  # YAML would fold it as a line break if it went raw
    "\ufeff byte order mark, \x85 next line, \x7f delete",
    'quote " backslash \\ud83d not an escape',
    "\x00\t\n control",
]


@pytest.mark.parametrize("value", ODD)
def test_a_body_reads_back_the_same_as_json_and_as_yaml(value):
    body = {"data": {"v": value}, "list": [value, 1, 2.5, None, True]}
    encoded = encode_body(body)
    assert json.loads(encoded) == body
    assert yaml.safe_load(encoded.decode("utf-8")) == body


def test_characters_outside_the_bmp_go_as_utf8_and_the_rest_escaped():
    encoded = encode_body({"v": "🚀é\u2028"})
    assert encoded == b'{"v":"\xf0\x9f\x9a\x80\\u00e9\\u2028"}'
    assert b"\\ud83d" not in encoded


def test_a_lone_surrogate_stays_escaped():
    assert encode_body({"v": "\ud83d"}) == b'{"v":"\\ud83d"}'
