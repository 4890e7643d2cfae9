"""Comparing two independent answer sets and building the consensus from them (pure Python).

Used by extraction (form answers and outcome data) and meant to be reused by risk of bias:
answers are flat dicts `{key: value}`; a value may be any JSON value. Two values agree when they
are equal after normalising blanks, whitespace, case of text and number formatting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

BLANK: tuple[Any, ...] = (None, "", [], {})


def normalise(value: Any) -> Any:
    """A comparable form of an answer: '' and None are blank, '1.50' equals 1.5, text ignores
    case and surrounding spaces, lists compare as sets when their items are plain values."""
    if value in BLANK:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value)).normalize()
    if isinstance(value, str):
        text = " ".join(value.split())
        try:
            return Decimal(text).normalize()
        except (InvalidOperation, ValueError):
            return text.lower()
    if isinstance(value, list):
        items = [normalise(v) for v in value]
        if all(not isinstance(i, (list, dict)) for i in items):
            return tuple(sorted(str(i) for i in items if i is not None))
        return tuple(_freeze(i) for i in items)
    if isinstance(value, dict):
        return _freeze({k: normalise(v) for k, v in value.items() if normalise(v) is not None})
    return value


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def agree(a: Any, b: Any) -> bool:
    return bool(normalise(a) == normalise(b))


@dataclass(frozen=True)
class Comparison:
    key: str
    first: Any
    second: Any
    agree: bool


def compare(
    first: Mapping[str, Any], second: Mapping[str, Any], keys: Iterable[str] | None = None
) -> list[Comparison]:
    """Every key of either side (or the given keys, in that order) with both values."""
    if keys is None:
        keys = list(dict.fromkeys([*first.keys(), *second.keys()]))
    return [
        Comparison(key, first.get(key), second.get(key), agree(first.get(key), second.get(key)))
        for key in keys
    ]


def differences(first: Mapping[str, Any], second: Mapping[str, Any]) -> list[str]:
    return [c.key for c in compare(first, second) if not c.agree]


def build_consensus(
    first: Mapping[str, Any],
    second: Mapping[str, Any],
    *,
    choices: Mapping[str, str],
    edits: Mapping[str, Any] | None = None,
    keys: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The consensus answers: agreed values as they are; for each key that differs, `choices`
    names the side to take ("first" / "second") or `edits` holds the value typed instead.

    Raises ValueError naming the first key left unresolved, so nothing is half-built.
    """
    edits = edits or {}
    result: dict[str, Any] = {}
    unresolved: list[str] = []
    for item in compare(first, second, keys):
        if item.key in edits:
            result[item.key] = edits[item.key]
        elif item.agree:
            result[item.key] = item.first if item.first not in BLANK else item.second
        else:
            side = choices.get(item.key)
            if side == "first":
                result[item.key] = item.first
            elif side == "second":
                result[item.key] = item.second
            else:
                unresolved.append(item.key)
    if unresolved:
        raise UnresolvedError(unresolved)
    return {k: v for k, v in result.items() if v not in BLANK}


class UnresolvedError(ValueError):
    def __init__(self, keys: list[str]) -> None:
        super().__init__(f"Choose a side or type a value for: {', '.join(keys)}.")
        self.keys = keys
