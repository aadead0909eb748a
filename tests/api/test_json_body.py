"""app/api/json_body.py reads every body as ``json.loads`` does: the same value (types and key order
included), or the same exception, also where orjson alone would differ."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import orjson
import pytest

from app.api.json_body import loads

BODIES = [
    b'{"amount": 4.5, "unit": "mg", "frequency": "daily", "route": "oral"}',
    b'{"a": 1, "b": 2, "a": 3}',  # the last value, in the first one's place
    b'{"x": -0}',
    b'{"x": -0.0}',
    b'{"x": 1e2, "y": 4.50, "z": 0.1e-400}',
    b'{"x": 18446744073709551615}',  # the largest integer orjson keeps exact
    b'{"x": 18446744073709551616}',  # orjson: a float; json: the integer
    b'{"x": -9223372036854775809}',
    b'{"x": 1.0000000000000000000000001}',
    b'{"x": 123456789012345678901234567890}',
    b'{"x": "12345678901234567890"}',
    b'{"x": 1E400}',  # json: inf; orjson refuses
    b'{"x": NaN, "y": -Infinity}',
    b'\xef\xbb\xbf{"x": 1}',  # a UTF-8 byte-order mark
    '{"x": "\u00e9"}'.encode("utf-16"),
    '{"x": 1}'.encode("utf-32-le"),
    b'{"x": "\\ud800"}',  # a lone surrogate, escaped
    b'{"x": "\xed\xa0\x80"}',  # and encoded
    b'{"x": "\xff"}',  # not UTF-8
    b'{"\\u0000": 1}',
    b'{"x": "\x01"}',  # a control character in a string
    b" [1, 2] ",
    b"[1,]",
    b"",
    b"{",
    b'"text"',
    b"[" * 1100 + b"]" * 1100,  # deeper than orjson reads
]


def _outcome(read: Callable[[bytes], object], body: bytes) -> tuple[str, str]:
    try:
        value = read(body)
    except RecursionError:
        return ("error", "RecursionError")
    except ValueError as exc:
        return ("error", type(exc).__name__ if not isinstance(exc, json.JSONDecodeError) else str(exc))
    return ("value", repr((type(value), value)))


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_the_same_value_or_error_as_json_loads(body: bytes) -> None:
    assert _outcome(loads, body) == _outcome(json.loads, body)


def test_orjson_alone_would_differ_on_some_of_them() -> None:
    """The cases above matter: orjson by itself reads some differently (a float for a long integer)."""
    body = b'{"x": 18446744073709551616}'
    assert repr(orjson.loads(body)) != repr(json.loads(body))


def test_random_numbers_read_alike() -> None:
    rng = random.Random(7)
    for _ in range(5000):
        digits = rng.randint(1, 24)
        number = str(rng.randint(0, 10**digits))
        if rng.random() < 0.5:
            number += "." + str(rng.randint(0, 10**6)).zfill(rng.randint(1, 8))
        if rng.random() < 0.3:
            number += f"e{rng.randint(-330, 330)}"
        if rng.random() < 0.5:
            number = "-" + number
        body = f'{{"value": {number}, "list": [{number}]}}'.encode()
        assert _outcome(loads, body) == _outcome(json.loads, body), body
