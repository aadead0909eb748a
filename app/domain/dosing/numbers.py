"""Numbers and units: strict amounts and weights, exact decimal helpers, mass units, routes.

See :mod:`app.domain.dosing` for the rules."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from typing import Final, Literal

AmountLike = Decimal | str | int | float
Position = Literal["inside", "below", "above"]
Basis = Literal["average-per-day", "per-administration", "both"]


MIN_MG_PER_ADMINISTRATION: Final = Decimal("0.000000001")
"""1 pg: anything smaller is taken for a unit mistake."""
MAX_MG_PER_ADMINISTRATION: Final = Decimal(10000)
"""10 g in one administration."""
MAX_MG_PER_DAY: Final = Decimal(10000)
"""10 g per day on average."""
MIN_WEIGHT_KG: Final = Decimal("0.5")
MAX_WEIGHT_KG: Final = Decimal(500)
PERIOD_DAYS: Final[dict[str, Decimal]] = {"d": Decimal(1), "wk": Decimal(7), "mo": Decimal(28)}
"""Length in days of a range's period unit (a month is 4 weeks: see the module notes)."""

_MAX_DIGITS = 30
_MAX_ADMINISTRATIONS_PER_DAY = 24

# Exact arithmetic: inputs have at most 30 significant digits, so products never need rounding here.
_CTX: Final = Context(
    prec=120,
    rounding=ROUND_HALF_EVEN,
    Emax=999_999,
    Emin=-999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)


class DoseInputError(ValueError):
    """A dose input the arithmetic refuses; ``field`` is the API request field to name in a 422."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --------------------------------------------------------------------------------------------------
# Decimal helpers


def _mul(first: Decimal, second: Decimal, *more: Decimal) -> Decimal:
    result = _CTX.multiply(first, second)
    for value in more:
        result = _CTX.multiply(result, value)
    return result


_ONE: Final = Decimal(1)


def _tidy(value: Decimal) -> Decimal:
    """Trailing zeros removed, never in exponent form for whole numbers (100, not 1E+2)."""
    if not value:  # zero, of either sign
        return Decimal(0)
    out = _CTX.normalize(value)
    # A positive exponent (1E+2, 1.2E+3) leaves a whole number of 10 or more, which alone is then written
    # in exponent form; read from the text, as asking for the exponent (``as_tuple``) cost five times more.
    if out.adjusted() > 0 and "E+" in str(out):
        out = out.quantize(_ONE, context=_CTX)
    return out


_QUANTA: dict[int, Decimal] = {}
"""``Decimal(1).scaleb(exponent)`` by exponent, made once (display rounding uses a few)."""


def _display(value: Decimal) -> Decimal:
    """Rounded for display: 6 decimal places, or 6 significant digits for values below 0.1."""
    if not value:
        return Decimal(0)
    exponent = min(-6, value.adjusted() - 5)
    quantum = _QUANTA.get(exponent)
    if quantum is None:
        quantum = _ONE.scaleb(exponent)
        if len(_QUANTA) < 256:
            _QUANTA[exponent] = quantum
    return _tidy(value.quantize(quantum, context=_CTX))


def _div_display(numerator: Decimal, denominator: Decimal) -> Decimal:
    return _display(_CTX.divide(numerator, denominator))


def _fmt(value: Decimal) -> str:
    return str(_display(value))


# --------------------------------------------------------------------------------------------------
# Amounts, weights, units, routes


_NUMBER_TEXT: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
"""The only text read as a number: ASCII digits with an optional sign, one decimal point and a plain
exponent (``4.5``, ``.5``, ``+4.50``, ``1e-3``, ``2.5E2``). No underscores (Python would read ``4_5`` as
45), no non-ASCII digits (full-width ``４``, Arabic-Indic ``٤``), no hex, ``inf`` or ``nan``, no thousands
separators; spaces and tabs around the number are ignored."""


def is_number_text(text: str) -> bool:
    """Whether ``text`` (spaces and tabs around it ignored) is a number in the grammar above."""
    return _NUMBER_TEXT.fullmatch(text.strip(" \t")) is not None


def parse_amount(value: AmountLike, field: str = "amount") -> Decimal:
    """A finite positive Decimal from a Decimal, int, str or float (floats via ``str``).

    Text must follow :data:`_NUMBER_TEXT` (ASCII decimal notation); anything else raises
    :class:`DoseInputError` naming ``field``.
    """
    if isinstance(value, bool):
        raise DoseInputError(field, "must be a number, not a boolean")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(str(value))
    elif isinstance(value, str):
        text = value.strip(" \t")
        if not text:
            raise DoseInputError(field, "is empty")
        if _NUMBER_TEXT.fullmatch(text) is None:
            raise DoseInputError(
                field, f"{value!r} is not a plain decimal number (ASCII digits, one '.', e.g. 4.5 or 0.1)"
            )
        try:
            number = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the grammar admits only what Decimal reads
            raise DoseInputError(field, f"{value!r} is not a number") from None
    else:
        raise DoseInputError(field, "must be a number")
    if number.is_nan():
        raise DoseInputError(field, "is not a number (NaN)")
    if number.is_infinite():
        raise DoseInputError(field, "must be finite")
    if number <= 0:
        raise DoseInputError(field, "must be greater than zero")
    # Every digit of the number is in its text: only a text longer than the bound can have too many digits
    # (``as_tuple``, which counts them, costs five times what ``str`` does).
    if not -_MAX_DIGITS <= number.adjusted() <= _MAX_DIGITS or (
        len(str(number)) > _MAX_DIGITS and len(number.as_tuple().digits) > _MAX_DIGITS
    ):
        raise DoseInputError(field, "is out of range or has too many digits")
    return _tidy(number)


def parse_weight(value: AmountLike | None) -> Decimal | None:
    """A body weight in kg within 0.5–500 kg, or ``None`` when not given."""
    if value is None:
        return None
    weight = parse_amount(value, "weight_kg")
    if not MIN_WEIGHT_KG <= weight <= MAX_WEIGHT_KG:
        raise DoseInputError("weight_kg", f"must lie within {MIN_WEIGHT_KG}–{MAX_WEIGHT_KG} kg")
    return weight


_MASS_FACTORS: Final[dict[str, Decimal]] = {
    "g": Decimal(1000),
    "mg": Decimal(1),
    "ug": Decimal("0.001"),
    "ng": Decimal("0.000001"),
}
_MASS_ALIASES: Final[dict[str, str]] = {
    "g": "g",
    "gm": "g",
    "gram": "g",
    "grams": "g",
    "mg": "mg",
    "milligram": "mg",
    "milligrams": "mg",
    "ug": "ug",
    "mcg": "ug",
    "microgram": "ug",
    "micrograms": "ug",
    "ng": "ng",
    "nanogram": "ng",
    "nanograms": "ng",
}


@dataclass(frozen=True, slots=True)
class _Unit:
    code: str
    mass: str
    per_kg: bool

    @property
    def factor(self) -> Decimal:
        return _MASS_FACTORS[self.mass]


@functools.lru_cache(maxsize=256)
def _unit(text: str, field: str = "unit") -> _Unit:
    raw = text.strip().replace("\u00b5", "u").replace("\u03bc", "u").lower()
    raw = re.sub(r"\s+", " ", raw)
    raw = re.sub(r"\s*/\s*", "/", raw).replace(" per ", "/")
    mass_text, slash, rest = raw.partition("/")
    mass = _MASS_ALIASES.get(mass_text.strip())
    if mass is None or (slash and rest.strip() not in {"kg", "kilogram"}):
        raise DoseInputError(
            field, f"unknown unit {text!r}: use mg, ug (mcg, µg), ng or g, or one of these per kg (mg/kg)"
        )
    per_kg = bool(slash)
    return _Unit(code=f"{mass}/kg" if per_kg else mass, mass=mass, per_kg=per_kg)


def normalise_unit(unit: str) -> str:
    """The canonical code of a unit: ``mg``, ``ug``, ``ng``, ``g`` or one of them ``/kg``."""
    return _unit(unit).code


def to_mg(amount: Decimal, unit: str) -> Decimal:
    """``amount`` in mg (in mg/kg for a per-kg unit); exact."""
    return _tidy(_mul(amount, _unit(unit).factor))


def from_mg(mg: Decimal, unit: str) -> Decimal:
    """``mg`` (or mg/kg) expressed in ``unit``; exact, the inverse of :func:`to_mg`."""
    return _tidy(_CTX.divide(mg, _unit(unit).factor))


_ROUTES: Final[dict[str, str]] = {
    "oral": "oral",
    "orally": "oral",
    "po": "oral",
    "by mouth": "oral",
    "per os": "oral",
    "intramuscular": "intramuscular",
    "intramuscularly": "intramuscular",
    "im": "intramuscular",
    "intramuscular injection": "intramuscular",
    "im injection": "intramuscular",
    "subcutaneous": "subcutaneous",
    "subcutaneously": "subcutaneous",
    "sc": "subcutaneous",
    "sq": "subcutaneous",
    "subq": "subcutaneous",
    "sub q": "subcutaneous",
    "intravenous": "intravenous",
    "intravenously": "intravenous",
    "iv": "intravenous",
    "sublingual": "sublingual",
    "sl": "sublingual",
    "topical": "topical",
    "transdermal": "transdermal",
    "injection": "injection",
    "injectable": "injection",
    "parenteral": "injection",
}


def dose_words() -> dict[str, str]:
    """The one-word spellings of units and routes that the dose check reads, each with the word it stands
    for (``milligrams`` -> ``mg``, ``mcg`` -> ``ug``, ``im`` -> ``intramuscular``, ``po`` -> ``oral``); search
    reads a query the same way. Words that stand for themselves, and one-letter targets, are left out."""
    pairs = [*_MASS_ALIASES.items(), *_ROUTES.items()]
    return {word: target for word, target in pairs if " " not in word and word != target and len(target) > 1}


@functools.lru_cache(maxsize=256)
def parse_route(route: str | None) -> str | None:
    """The canonical route (``oral``, ``intramuscular``, ...), ``None`` when not given or blank."""
    if route is None:
        return None
    text = re.sub(r"\s+", " ", route.strip().lower().replace(".", "").replace("-", " "))
    if not text:
        return None
    found = _ROUTES.get(text)
    if found is None:
        raise DoseInputError("route", f"unknown route {route!r}: use oral (po) or intramuscular (im)")
    return found
