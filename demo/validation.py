"""Checking values that arrive from the browser or the API, before any work is done.

Handlers receive raw JSON values (events use preprocess=False), so anything can arrive:
strings, None, booleans, NaN, huge numbers, lists. Each check returns a clean Python value or
raises InputError whose message says what is allowed.
"""

import math
from collections.abc import Sequence

SEED_MAX = 2**31 - 1  # seeds stay exact in JavaScript numbers and in torch.manual_seed
SHOWN_CHARS = 40  # how much of a bad value an error message repeats


class InputError(ValueError):
    """A value outside what an endpoint accepts; the message is shown to the person."""


def shown(value: object) -> str:
    """A short, safe rendering of a rejected value for an error message."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def whole_number(value: object, name: str, low: int, high: int) -> int:
    """An int in [low, high]; whole floats such as 3.0 pass, 2.5 / "3" / None / NaN do not."""
    allowed = f"{name} must be a whole number from {low} to {high}"
    if not _is_number(value) or not math.isfinite(value) or (isinstance(value, float) and not value.is_integer()):
        raise InputError(f"{allowed}; got {shown(value)}")
    number = int(value)
    if not low <= number <= high:
        raise InputError(f"{allowed}; got {number}")
    return number


def real_number(value: object, name: str, low: float, high: float) -> float:
    """A finite float in [low, high]."""
    allowed = f"{name} must be a number from {low:g} to {high:g}"
    if not _is_number(value) or not math.isfinite(value):
        raise InputError(f"{allowed}; got {shown(value)}")
    if not low <= value <= high:
        raise InputError(f"{allowed}; got {value:g}")
    return float(value)


def flag(value: object, name: str) -> bool:
    """true or false; 0, 1, "true" and None do not pass."""
    if not isinstance(value, bool):
        raise InputError(f"{name} must be true or false; got {shown(value)}")
    return value


def choice(value: object, name: str, options: Sequence[str]) -> str:
    """One of a few fixed strings."""
    if not isinstance(value, str) or value not in options:
        raise InputError(f"{name} must be one of {', '.join(repr(o) for o in options)}; got {shown(value)}")
    return value


def whole_numbers(value: object, name: str, low: int, high: int, max_count: int) -> list[int]:
    """A non-empty list of distinct ints in [low, high], at most max_count of them, sorted."""
    if not isinstance(value, (list, tuple)) or not value:
        raise InputError(f"{name} must be a non-empty list of whole numbers from {low} to {high}; got {shown(value)}")
    numbers = sorted({whole_number(item, f"each value in {name}", low, high) for item in value})
    if len(numbers) > max_count:
        raise InputError(f"{name} may hold at most {max_count} different values; got {len(numbers)}")
    return numbers
