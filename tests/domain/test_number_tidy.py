"""``_tidy`` and ``_display`` (app/domain/dosing/numbers.py) give exactly what the plain definitions give:
the same digits and the same exponent, for whole numbers, fractions, zeros and numbers in exponent form."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal

from app.domain.dosing.numbers import _CTX, _display, _tidy


def _plain_tidy(value: Decimal) -> Decimal:
    if value == 0:
        return Decimal(0)
    out = _CTX.normalize(value)
    exponent = out.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        out = out.quantize(Decimal(1), context=_CTX)
    return out


def _plain_display(value: Decimal) -> Decimal:
    if value == 0:
        return Decimal(0)
    return _plain_tidy(value.quantize(Decimal(1).scaleb(min(-6, value.adjusted() - 5)), context=_CTX))


def _values() -> list[Decimal]:
    fixed = ["0", "-0", "0.000", "0E+5", "10", "12", "100", "1E+2", "1.2E+3", "120.00", "4.5", "4.50", "0.0001"]
    fixed += ["1E-7", "-100", "-4.5", "Infinity", "NaN", "123456789012345678901234567890.5", "9.99999999E+30"]
    rng = random.Random(11)
    out = [Decimal(v) for v in fixed]
    for _ in range(20_000):
        sign = rng.choice(["", "-"])
        out.append(Decimal(f"{sign}{rng.randint(0, 10 ** rng.randint(1, 30))}E{rng.randint(-40, 40)}"))
        out.append(Decimal(f"{sign}{rng.randint(0, 99999)}.{rng.randint(0, 99999):0{rng.randint(1, 8)}d}"))
    return out


def _outcome(function: Callable[[Decimal], Decimal], value: Decimal) -> str:
    try:
        return repr(function(value))
    except ArithmeticError as exc:  # Infinity and NaN cannot be rounded for display, either way
        return type(exc).__name__


def test_tidy_and_display_are_the_plain_definitions() -> None:
    for value in _values():
        assert _outcome(_tidy, value) == _outcome(_plain_tidy, value), value
        assert _outcome(_display, value) == _outcome(_plain_display, value), value
